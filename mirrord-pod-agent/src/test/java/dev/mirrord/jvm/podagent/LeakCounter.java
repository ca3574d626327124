package dev.mirrord.jvm.podagent;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Counts what Netty's leak detector reports. Installed as a {@link LauncherSessionListener} (see
 * META-INF/services) so it is in place before any test class loads {@code AbstractByteBuf}, whose
 * detector is created once per JVM.
 */
public final class LeakCounter extends ResourceLeakDetectorFactory
    implements LauncherSessionListener {
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
  private static final Set<String> TRACKED_TYPES = ConcurrentHashMap.newKeySet();

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(this);
  }

  @Override
  @SuppressWarnings("deprecation") // the abstract method Netty calls
  public <T> ResourceLeakDetector<T> newResourceLeakDetector(
      Class<T> resource, int samplingInterval, long maxActive) {
    TRACKED_TYPES.add(resource.getName());
    return new ResourceLeakDetector<>(resource, samplingInterval) {
      @Override
      protected boolean needReport() {
        return true;
      }

      @Override
      protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add(resourceType + " leaked:" + records);
        super.reportTracedLeak(resourceType, records);
      }

      @Override
      protected void reportUntracedLeak(String resourceType) {
        LEAKS.add(resourceType + " leaked (untraced)");
        super.reportUntracedLeak(resourceType);
      }
    };
  }

  /** Whether ByteBuf leak detection goes through this counter in this JVM. */
  static boolean countsByteBufLeaks() {
    Unpooled.directBuffer(1).release(); // makes sure ByteBuf's detector exists
    return TRACKED_TYPES.contains(ByteBuf.class.getName());
  }

  /** Lets the GC find unreleased buffers, makes the detector poll, returns every report so far. */
  static List<String> collect() throws InterruptedException {
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(50);
      for (int j = 0; j < 100; j++) {
        // Each tracked allocation polls the reference queue; unpooled heap buffers are untracked.
        Unpooled.directBuffer(8).release();
      }
    }
    return List.copyOf(LEAKS);
  }
}
