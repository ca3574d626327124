package dev.mirrord.jvm.protocol.jvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class Slf4jProviderTest {
  private final String provider = System.getProperty(Slf4jProvider.PROVIDER);
  private final String verbosity = System.getProperty(Slf4jProvider.VERBOSITY);

  @AfterEach
  void restore() {
    restore(Slf4jProvider.PROVIDER, provider);
    restore(Slf4jProvider.VERBOSITY, verbosity);
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  @Test
  void namesTheProviderAndKeepsSlf4jsOwnReportsToWarnings() {
    System.clearProperty(Slf4jProvider.PROVIDER);
    System.clearProperty(Slf4jProvider.VERBOSITY);
    Slf4jProvider.name(String.class);
    assertThat(System.getProperty("slf4j.provider")).isEqualTo("java.lang.String");
    assertThat(System.getProperty("slf4j.internal.verbosity")).isEqualTo("WARN");
  }

  @Test
  void aPropertyTheCommandLineSetIsKept() {
    System.setProperty(Slf4jProvider.PROVIDER, "com.example.Provider");
    System.setProperty(Slf4jProvider.VERBOSITY, "DEBUG");
    Slf4jProvider.name(String.class);
    assertThat(System.getProperty("slf4j.provider")).isEqualTo("com.example.Provider");
    assertThat(System.getProperty("slf4j.internal.verbosity")).isEqualTo("DEBUG");
  }
}
