package dev.mirrord.jvm.podagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ListenAddressTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "unix:/tmp/x/agent.sock",
        "tcp:127.0.0.1:0",
        "tcp:0.0.0.0:61337",
        "tcp:[::1]:8080",
        "tcp:localhost:1"
      })
  void parsesAndPrintsTheSameSyntax(String text) {
    assertThat(ListenAddress.parse(text)).hasToString(text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix:/a/b", "tcp:[::1]:9"})
  void partsAreExposed(String text) {
    ListenAddress a = ListenAddress.parse(text);
    if (a instanceof ListenAddress.Unix u) {
      assertThat(u.path()).isEqualTo(Path.of("/a/b"));
    } else {
      assertThat(a).isEqualTo(new ListenAddress.Tcp("::1", 9));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "unix:",
        "unix:relative.sock",
        "tcp:",
        "tcp:host",
        "tcp::80",
        "tcp:host:",
        "tcp:host:http",
        "tcp:host:70000",
        "udp:1.2.3.4:5",
        "/tmp/agent.sock"
      })
  void rejectsMalformedAddresses(String text) {
    assertThatThrownBy(() -> ListenAddress.parse(text))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
