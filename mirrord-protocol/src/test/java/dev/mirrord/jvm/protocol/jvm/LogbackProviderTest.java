package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LogbackProviderTest {
  private final String provider = System.getProperty(Slf4jProvider.PROVIDER);

  @AfterEach
  void restore() {
    if (provider == null) {
      System.clearProperty(Slf4jProvider.PROVIDER);
    } else {
      System.setProperty(Slf4jProvider.PROVIDER, provider);
    }
  }

  /** The given configurator makes the first configuration; logback's own search (a ServiceLoader) never runs. */
  @Test
  void theGivenConfiguratorConfiguresTheContextItHands() {
    List<LoggerContext> configured = new ArrayList<>();
    System.clearProperty(Slf4jProvider.PROVIDER);
    LogbackProvider.use(() -> new Recording(configured));
    assertThat(System.getProperty(Slf4jProvider.PROVIDER)).isEqualTo(LogbackProvider.class.getName());

    LogbackProvider p = new LogbackProvider();
    p.initialize();
    LoggerContext context = (LoggerContext) p.getLoggerFactory();
    assertThat(configured).containsExactly(context);
    assertThat(context.isStarted()).isTrue();
    assertThat(context.getName()).isEqualTo("default");
    assertThat(context.getLogger("x").getEffectiveLevel()).isEqualTo(Level.ERROR);
    assertThat(context.getMDCAdapter()).isSameAs(p.getMDCAdapter());
    assertThat(p.getMarkerFactory().getMarker("m").getName()).isEqualTo("m");
    assertThat(p.getRequestedApiVersion()).startsWith("2.");
  }

  /** What the command line names stays SLF4J's provider. */
  @Test
  void aProviderTheCommandLineNamesIsKept() {
    System.setProperty(Slf4jProvider.PROVIDER, "com.example.Provider");
    LogbackProvider.use(() -> new Recording(new ArrayList<>()));
    assertThat(System.getProperty(Slf4jProvider.PROVIDER)).isEqualTo("com.example.Provider");
  }

  static final class Recording extends ContextAwareBase implements Configurator {
    private final List<LoggerContext> configured;

    Recording(List<LoggerContext> configured) {
      this.configured = configured;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
      configured.add(context);
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.ERROR);
      return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
  }
}
