/**
 * Implementation-only helpers of the layer. {@link dev.mirrord.jvm.layer.internal.LayerLog} is the
 * layer's own tiny file logger: the layer runs inside the user's JVM, so it must not touch the
 * app's logging (SLF4J, Logback, JUL configuration) nor print to the app's stdout/stderr.
 */
package dev.mirrord.jvm.layer.internal;
