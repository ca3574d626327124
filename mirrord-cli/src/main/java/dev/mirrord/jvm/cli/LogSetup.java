package dev.mirrord.jvm.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import dev.mirrord.jvm.protocol.jvm.LogLines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Points logback at the session's log file (and at stderr with {@code -v}). Until this runs the
 * first configuration ({@link SilentConfigurator}, which Main gives {@code LogbackProvider}) logs
 * nothing, so nothing ever reaches stdout, which belongs to the
 * app.
 */
public final class LogSetup {
  private static final String PATTERN =
      "%clock %-5level [%thread] %logger{24} - %msg%n";

  private LogSetup() {}

  /**
   * Logs to {@code logFile} (appending; INFO, or DEBUG if verbose) and, if verbose, to stderr.
   *
   * @throws MirrordException CONFIG if the file cannot be written
   */
  public static void configure(Path logFile, boolean verbose) {
    try {
      Path parent = logFile.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (Files.isDirectory(logFile)) {
        throw new IOException("it is a directory");
      }
      Files.newOutputStream(
              logFile,
              java.nio.file.StandardOpenOption.CREATE,
              java.nio.file.StandardOpenOption.APPEND)
          .close();
    } catch (IOException | SecurityException e) {
      throw new MirrordException(
          ExitCode.CONFIG,
          "cannot write the log file " + logFile + " (" + e.getMessage() + "); pick another with --log-file");
    }
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
      return; // another slf4j binding (tests of embedders): leave it alone
    }
    Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();

    FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> file = new FileAppender<>();
    file.setContext(ctx);
    file.setName("file");
    file.setFile(logFile.toString());
    file.setAppend(true);
    file.setEncoder(LogLines.encoder(ctx, PATTERN));
    file.start();
    root.addAppender(file);

    if (verbose) {
      ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent> console = new ConsoleAppender<>();
      console.setContext(ctx);
      console.setName("stderr");
      console.setTarget("System.err");
      console.setEncoder(LogLines.encoder(ctx, PATTERN));
      // UserNotices already printed these as "mirrord: warning: …" lines
      console.addFilter(
          new ch.qos.logback.core.filter.Filter<>() {
            @Override
            public ch.qos.logback.core.spi.FilterReply decide(
                ch.qos.logback.classic.spi.ILoggingEvent event) {
              return UserNotices.class.getName().equals(event.getLoggerName())
                  ? ch.qos.logback.core.spi.FilterReply.DENY
                  : ch.qos.logback.core.spi.FilterReply.NEUTRAL;
            }
          });
      console.start();
      root.addAppender(console);
    }
    root.setLevel(verbose ? Level.DEBUG : Level.INFO);
    ctx.getLogger("io.netty").setLevel(Level.INFO);
  }

  /**
   * logback's first configuration: nothing is logged until {@link #configure}. A class rather than a {@code
   * logback.xml}: parsing that XML (logback's Joran, the JDK's XML parser) was a tenth of the CLI's start-up.
   */
  public static final class SilentConfigurator extends ch.qos.logback.core.spi.ContextAwareBase
      implements ch.qos.logback.classic.spi.Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
      context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.OFF);
      return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
  }
}
