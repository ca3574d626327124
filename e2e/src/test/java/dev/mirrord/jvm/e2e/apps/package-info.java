/**
 * Tiny Java mains that e2e tests start in child JVMs (by classpath, see {@link dev.mirrord.jvm.e2e.apps.JavaApps}),
 * usually inside a lab namespace. They depend on the JDK only.
 */
package dev.mirrord.jvm.e2e.apps;
