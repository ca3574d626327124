package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;

class LogLinesTest {

  /** {@code %clock} prints what {@code %d{HH:mm:ss.SSS}} printed, daylight saving time and midnight included. */
  @Test
  void clockIsTheLocalTimeOfDayAsJavaTimeFormatsIt() {
    DateTimeFormatter hms = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    String[] zones = {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"};
    String[] instants = {
      "2026-03-29T00:59:59.999Z", "2026-03-29T01:00:00.000Z", // Berlin: 01:59:59.999 then 03:00:00.000
      "2026-10-25T00:59:59.999Z", "2026-10-25T01:00:00.000Z", // and back
      "2026-11-01T05:59:59.999Z", "2026-11-01T06:00:00.000Z", // New York
      "2026-12-07T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "1969-12-31T23:59:59.001Z", "2026-06-15T12:34:56.007Z"
    };
    for (String zone : zones) {
      for (String instant : instants) {
        Instant t = Instant.parse(instant);
        assertThat(LogLines.clock(t.toEpochMilli(), TimeZone.getTimeZone(zone)))
            .as("%s in %s", instant, zone)
            .isEqualTo(hms.format(t.atZone(ZoneId.of(zone))));
      }
    }
    assertThat(LogLines.clock(Instant.parse("2026-03-29T01:00:00Z").toEpochMilli(), TimeZone.getTimeZone("Europe/Berlin")))
        .isEqualTo("03:00:00.000");
  }

  @Test
  void theEncoderWritesThePatternWithTheClock() {
    LoggerContext context = new LoggerContext();
    Logger logger = context.getLogger("dev.mirrord.Test");
    LoggingEvent event = new LoggingEvent("x", logger, Level.INFO, "hello {}", null, new Object[] {"there"});
    event.setThreadName("main");
    event.setTimeStamp(Instant.parse("2026-12-07T10:11:12.013Z").toEpochMilli());
    TimeZone before = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
    try {
      var encoder = LogLines.encoder(context, "%clock %-5level [%thread] %logger{0} - %msg%n");
      assertThat(new String(encoder.encode((ILoggingEvent) event), StandardCharsets.UTF_8))
          .isEqualTo("11:11:12.013 INFO  [main] Test - hello there" + System.lineSeparator());
    } finally {
      TimeZone.setDefault(before);
    }
  }
}
