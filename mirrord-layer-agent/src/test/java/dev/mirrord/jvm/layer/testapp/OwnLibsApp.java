package dev.mirrord.jvm.layer.testapp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.Version;
import java.util.Map;
import java.util.TreeMap;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.matcher.ElementMatchers;

/**
 * An app with its OWN netty and byte-buddy (other versions than the layer's, on its class path),
 * run with the layer attached: it must see only its own versions and both must work.
 */
public final class OwnLibsApp {
  private OwnLibsApp() {}

  public static void main(String[] args) throws Exception {
    System.out.println("mirrord.layer.connected=" + System.getProperty("mirrord.layer.connected"));

    Map<String, String> versions = new TreeMap<>();
    Version.identify().forEach((artifact, v) -> versions.put(artifact, v.artifactVersion()));
    System.out.println("netty.versions=" + versions);

    ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(16);
    try {
      buf.writeInt(0x6d697272);
      System.out.println("netty.bytebuf=" + buf.readableBytes() + ":" + Integer.toHexString(buf.getInt(0)));
    } finally {
      buf.release();
    }

    Class<?> type =
        new ByteBuddy()
            .subclass(Object.class)
            .name("dev.mirrord.jvm.layer.testapp.Generated")
            .method(ElementMatchers.named("toString"))
            .intercept(FixedValue.value("made by the app's byte-buddy"))
            .make()
            .load(OwnLibsApp.class.getClassLoader())
            .getLoaded();
    System.out.println("bytebuddy.generated=" + type.getDeclaredConstructor().newInstance());
    System.out.println(
        "bytebuddy.location="
            + ByteBuddy.class.getProtectionDomain().getCodeSource().getLocation().getPath());
    System.out.println("done=true");
  }
}
