/**
 * Tiny Java mains that e2e tests start in child JVMs (by classpath, see {@link dev.mirrord.jvm.e2e.apps.JavaApps}),
 * in a lab namespace or under {@code mirrord exec}. They depend on the JDK only (but {@link
 * dev.mirrord.jvm.e2e.apps.NettyShaHttpApp}, which needs Netty on its classpath, and {@link
 * dev.mirrord.jvm.e2e.apps.OutgoingApp} and {@link dev.mirrord.jvm.e2e.apps.OutgoingBenchApp}, which get the module's
 * third-party jars through {@link dev.mirrord.jvm.e2e.apps.JavaApps#appClasspath()}) and are compiled with {@code --release
 * 17} (a separate compiler execution in e2e/pom.xml), so that they also run on JDK 17, the layer's floor.
 */
package dev.mirrord.jvm.e2e.apps;
