package dev.mirrord.jvm.podagent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Logging set-up. Stdout belongs to the {@code MIRRORD_AGENT_READY} line, so no appender ever
 * writes there: logs go to {@code --log-file} (INFO, DEBUG with {@code -v}) or to stderr (WARN,
 * DEBUG with {@code -v}). Before the command line is parsed, {@link StderrConfigurator} (given by
 * PodAgentMain to {@code LogbackProvider}) replaces logback's default, which would log to stdout.
 */
public final class LogSetup {
  private static final String PATTERN = "%clock %-5level [%thread] %logger{0} - %msg%n";

  private LogSetup() {}

  /** Points logging at {@code logFile} (or stderr when null). */
  static void configure(Path logFile, boolean verbose) throws AgentException {
    if (logFile != null) {
      try {
        Path parent = logFile.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.write(logFile, new byte[0], StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new AgentException(ExitCodes.USAGE, "cannot write log file " + logFile + ": " + e);
      }
    }
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return; // another slf4j provider (never in the fat jar): leave it alone
    }
    // The new appender goes in before the first one leaves, with the levels unchanged meanwhile: the warm-up thread
    // logs while this runs, and logback's reset() would open a window with DEBUG on and no appender (a status warning,
    // whose class is not in the AOT cache: loaded from the jar, which it opens, on the start's critical path).
    Level level = verbose ? Level.DEBUG : logFile != null ? Level.INFO : Level.WARN;
    OutputStreamAppender<ILoggingEvent> appender;
    if (logFile != null) {
      FileAppender<ILoggingEvent> file = new FileAppender<>();
      file.setFile(logFile.toString());
      file.setAppend(true);
      appender = file;
    } else {
      appender = stderr();
    }
    install(context, appender, level);
  }

  private static ConsoleAppender<ILoggingEvent> stderr() {
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setTarget("System.err");
    return console;
  }

  /** Makes {@code appender} the root's only one, at {@code level}. */
  private static void install(
      LoggerContext context, OutputStreamAppender<ILoggingEvent> appender, Level level) {
    appender.setContext(context);
    appender.setName("agent");
    appender.setEncoder(dev.mirrord.jvm.protocol.jvm.LogLines.encoder(context, PATTERN));
    appender.start();
    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(appender);
    List<Appender<ILoggingEvent>> before = new ArrayList<>();
    root.iteratorForAppenders().forEachRemaining(before::add);
    for (Appender<ILoggingEvent> old : before) {
      if (old != appender) {
        root.detachAppender(old);
        old.stop();
      }
    }
    root.setLevel(level);
    // Netty's own debug output (allocator and platform probing) is noise for an agent operator.
    context.getLogger("io.netty").setLevel(level.isGreaterOrEqual(Level.INFO) ? level : Level.INFO);
  }

  /** logback's first configuration: WARN to stderr, never stdout. */
  public static final class StderrConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
      install(context, stderr(), Level.WARN);
      return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
  }
}
