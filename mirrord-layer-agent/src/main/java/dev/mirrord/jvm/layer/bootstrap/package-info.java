/**
 * Zero-dependency classes that live in the <em>boot</em> class loader at run time, so advice inlined
 * into JDK classes ({@code java.net.*}, {@code sun.nio.ch.*}) can call them.
 *
 * <p>Before any class here is loaded, {@code LayerAgent} reads this package out of the agent jar and
 * defines it in the boot loader (or, failing that, appends it to the boot search path as a temporary
 * jar); the package is therefore never relocated by the shade plugin and may reference only {@code
 * java.*} types. {@link
 * dev.mirrord.jvm.layer.bootstrap.LayerBridge} is the only door from hooked JDK code into the
 * layer: it forwards to the {@link dev.mirrord.jvm.layer.bootstrap.LayerHooks} implementation the
 * layer registers (it does nothing before that), and {@link
 * dev.mirrord.jvm.layer.bootstrap.BypassGuard} keeps the layer from intercepting its own traffic.
 *
 * <p>No lambdas or method references here: their bootstrap would run inside hooked JDK methods.
 */
package dev.mirrord.jvm.layer.bootstrap;
