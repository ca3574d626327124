package dev.mirrord.jvm.protocol.jvm;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Context;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.util.TimeZone;

/**
 * The encoder of the CLI's and the agent's log lines: logback's {@link PatternLayout}, plus {@code %clock}, the local
 * time of day as {@code HH:mm:ss.SSS} (what {@code %d{HH:mm:ss.SSS}} prints). logback's {@code %d} formats with
 * {@code java.time} in {@code ZoneId.systemDefault()}, whose zone rules come from providers that the JDK looks for
 * with a {@code ServiceLoader} over the class path: that lookup opened the fat jar and read its whole central
 * directory on the start's critical path, ~15 ms of the agent's start and as much of the CLI's, whose classes all come
 * from the AOT cache (docs/PERFORMANCE.md, "logback without its ServiceLoader"). {@code %clock} takes the offset from
 * {@link TimeZone}, which reads the JDK's time-zone file itself: daylight saving time included.
 */
public final class LogLines {
  /** The conversion word of the local time of day. */
  public static final String CLOCK = "clock";

  private LogLines() {}

  /** A started encoder of {@code pattern} ({@code %clock} included) in {@code context}. */
  public static Encoder<ILoggingEvent> encoder(Context context, String pattern) {
    PatternLayout layout = new PatternLayout();
    layout.getInstanceConverterMap().put(CLOCK, ClockConverter::new);
    layout.setContext(context);
    layout.setPattern(pattern);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    return encoder;
  }

  /** {@code epochMillis} as the time of day in {@code zone}, {@code HH:mm:ss.SSS}. */
  static String clock(long epochMillis, TimeZone zone) {
    int ms = (int) Math.floorMod(epochMillis + zone.getOffset(epochMillis), 86_400_000L);
    char[] c = new char[12];
    two(c, 0, ms / 3_600_000);
    c[2] = ':';
    two(c, 3, ms / 60_000 % 60);
    c[5] = ':';
    two(c, 6, ms / 1000 % 60);
    c[8] = '.';
    int milli = ms % 1000;
    c[9] = (char) ('0' + milli / 100);
    c[10] = (char) ('0' + milli / 10 % 10);
    c[11] = (char) ('0' + milli % 10);
    return new String(c);
  }

  private static void two(char[] c, int at, int value) {
    c[at] = (char) ('0' + value / 10);
    c[at + 1] = (char) ('0' + value % 10);
  }

  /** {@code %clock}: the event's time in the JVM's default time zone, taken when the layout starts. */
  static final class ClockConverter extends ClassicConverter {
    private TimeZone zone;

    @Override
    public void start() {
      zone = TimeZone.getDefault();
      super.start();
    }

    @Override
    public String convert(ILoggingEvent event) {
      return clock(event.getTimeStamp(), zone);
    }
  }
}
