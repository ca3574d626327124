package dev.mirrord.jvm.protocol.jvm;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.LogbackServiceProvider;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.joran.spi.JoranException;
import java.util.function.Supplier;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.Util;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * SLF4J's provider in the CLI and the agent: logback, as {@link LogbackServiceProvider} sets it up, but with its first
 * configuration from the {@link Configurator} given to {@link #use}, not from logback's {@link ContextInitializer}.
 * That one looks for configurators with a {@link java.util.ServiceLoader} over the class path, and its lookup of
 * {@code META-INF/services} is what opened the fat jar on the start's critical path, to read its whole central
 * directory: ~35 ms of the CLI's main thread (15 700 entries) and ~15 ms of the agent's (4 245) on every start, whose
 * classes all come from the AOT cache (docs/PERFORMANCE.md, "logback without its ServiceLoader").
 *
 * <p>Named by property only ({@code slf4j.provider}, {@link Slf4jProvider}): no {@code META-INF/services} entry, so
 * tests and anything that starts without {@link #use} get logback's own provider and search, as before.
 */
public final class LogbackProvider implements SLF4JServiceProvider {
  private static volatile Supplier<? extends Configurator> first;

  private final LoggerContext context = new LoggerContext();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final LogbackMDCAdapter mdc = new LogbackMDCAdapter();

  /** SLF4J's constructor. */
  public LogbackProvider() {}

  /**
   * Makes this class SLF4J's provider, configured first by what {@code configurator} gives; call before the first
   * logger. A provider the command line names ({@code -Dslf4j.provider}) stays SLF4J's.
   */
  public static void use(Supplier<? extends Configurator> configurator) {
    first = configurator;
    Slf4jProvider.name(LogbackProvider.class);
  }

  @Override
  public void initialize() {
    context.setName(CoreConstants.DEFAULT_CONTEXT_NAME);
    context.setMDCAdapter(mdc);
    Supplier<? extends Configurator> configurator = first;
    try {
      if (configurator != null) {
        Configurator c = configurator.get();
        c.setContext(context);
        c.configure(context);
      } else {
        new ContextInitializer(context).autoConfig(); // named without use(): logback's own search
      }
    } catch (JoranException | RuntimeException e) {
      Util.report("mirrord: could not configure logback", e);
    }
    context.start();
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return context;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return LogbackServiceProvider.REQUESTED_API_VERSION;
  }
}
