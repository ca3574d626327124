package dev.mirrord.jvm.layer.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.layer.bootstrap.HookResult;
import dev.mirrord.jvm.layer.internal.LayerLog;
import dev.mirrord.jvm.protocol.Dns;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DnsOpsTest {
  final FakeRemoteResolver target =
      new FakeRemoteResolver()
          .answer("svc", RemoteResult.ok(List.of("198.18.0.20")))
          .answer("dual", RemoteResult.ok(List.of("198.18.0.20", "fd00::20", "198.18.0.21")))
          .answer("v6only", RemoteResult.ok(List.of("fd00::20")))
          .answer("broken", RemoteResult.err(new ResponseError.RemoteIo(0, "timed out")))
          .answer("old", RemoteResult.err(new ResponseError.NotImplemented("remote DNS")));

  DnsOps ops(boolean remote) {
    return new DnsOps(remote, "laptop", target, LayerLog.discard(), false, "false");
  }

  static List<String> literals(InetAddress[] a) {
    return Arrays.stream(a).map(InetAddress::getHostAddress).toList();
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost", "LOCALHOST.", "app.localhost", "laptop", "Laptop.", "127.0.0.1",
      "::1", "[::1]", "198.18.0.20", ""})
  void namesOfThisMachineAndLiteralsStayLocal(String host) throws Exception {
    assertThat(ops(true).decide(host)).isEqualTo(HookResult.bypass(HookResult.Reason.LOCAL_NAME));
    assertThat(ops(true).lookup(host, -1)).isNull();
    assertThat(target.asked).isEmpty();
  }

  @Test
  void dnsRemoteFalseKeepsEveryNameLocal() throws Exception {
    assertThat(ops(false).decide("svc")).isEqualTo(HookResult.bypass(HookResult.Reason.DISABLED_BY_CONFIG));
    assertThat(ops(false).lookup("svc", -1)).isNull();
    assertThat(target.asked).isEmpty();
  }

  @Test
  void theTargetsAnswerCarriesTheAskedName() throws Exception {
    InetAddress[] a = ops(true).lookup("svc", -1);
    assertThat(literals(a)).containsExactly("198.18.0.20");
    assertThat(a[0].getHostName()).isEqualTo("svc");
    assertThat(target.asked).containsExactly("svc/" + Dns.ANY);
  }

  @Test
  void notFoundAndATargetServerFailureAreUnknownHost() {
    assertThatThrownBy(() -> ops(true).lookup("nope", -1))
        .isInstanceOf(UnknownHostException.class)
        .hasMessageStartingWith("nope: Name or service not known");
    assertThatThrownBy(() -> ops(true).lookup("broken", -1))
        .isInstanceOf(UnknownHostException.class)
        .hasMessageContaining("timed out");
  }

  @Test
  void mirrordFailuresFallBackToTheJdk() throws Exception {
    assertThat(ops(true).lookup("old", -1)).isNull();
    target.failure = new IOException("no answer in time");
    assertThat(ops(true).lookup("svc", -1)).isNull();
    target.failure = null;
    target.available = false;
    assertThat(ops(true).lookup("svc", -1)).isNull();
  }

  @ParameterizedTest(name = "preferIPv4Stack={0} preferIPv6Addresses={1}")
  @CsvSource({
    "false, false,  0, '198.18.0.20,198.18.0.21,fd00:0:0:0:0:0:0:20'",
    "false, true,   0, 'fd00:0:0:0:0:0:0:20,198.18.0.20,198.18.0.21'",
    "false, system, 0, '198.18.0.20,fd00:0:0:0:0:0:0:20,198.18.0.21'",
    "true,  false,  4, '198.18.0.20,198.18.0.21'",
  })
  void onJdk17TheJvmPropertiesChooseFamilyAndOrder(
      boolean v4Stack, String preferV6, int family, String expected) throws Exception {
    DnsOps ops = new DnsOps(true, "laptop", target, LayerLog.discard(), v4Stack, preferV6);
    assertThat(literals(ops.lookup("dual", -1))).containsExactly(expected.split(","));
    assertThat(target.asked).containsExactly("dual/" + family);
  }

  @ParameterizedTest(name = "characteristics={0}")
  @CsvSource({
    "5,  4, '198.18.0.20,198.18.0.21'",
    "2,  6, 'fd00:0:0:0:0:0:0:20'",
    "7,  0, '198.18.0.20,198.18.0.21,fd00:0:0:0:0:0:0:20'",
    "11, 0, 'fd00:0:0:0:0:0:0:20,198.18.0.20,198.18.0.21'",
    "3,  0, '198.18.0.20,fd00:0:0:0:0:0:0:20,198.18.0.21'",
  })
  void onJdk18PlusTheLookupPolicyChoosesFamilyAndOrder(int characteristics, int family, String expected)
      throws Exception {
    assertThat(literals(ops(true).lookup("dual", characteristics))).containsExactly(expected.split(","));
    assertThat(target.asked).containsExactly("dual/" + family);
  }

  @Test
  void anAnswerWithNothingOfTheWantedFamilyIsUnknownHost() {
    DnsOps v4only = new DnsOps(true, "laptop", target, LayerLog.discard(), true, "false");
    assertThatThrownBy(() -> v4only.lookup("v6only", -1)).isInstanceOf(UnknownHostException.class);
  }
}
