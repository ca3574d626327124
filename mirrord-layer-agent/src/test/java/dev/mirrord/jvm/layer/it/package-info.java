/**
 * Integration tests (failsafe, after {@code package}): the real shaded jar attached to tiny apps
 * in child JVMs (JDK 17 and the build's JDK 25), against {@link
 * dev.mirrord.jvm.layer.testing.FakeAgent}.
 */
package dev.mirrord.jvm.layer.it;
