package dev.mirrord.jvm.podagent.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class AgentNetnsTest {

  @Test
  void inodeIsThatOfProcSelfNsNet() throws Exception {
    long expected =
        ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:ino")).longValue();
    assertThat(AgentNetns.inode()).isEqualTo(expected).isPositive();
    long pid1 = AgentNetns.inodeOf(Path.of("/proc/" + ProcessHandle.current().pid() + "/ns/net"));
    assertThat(pid1).isEqualTo(expected);
  }

  @Test
  void addressesAreNonLoopbackLiteralsWithoutScope() throws Exception {
    for (String a : AgentNetns.addresses()) {
      assertThat(a).doesNotContain("%");
      InetAddress parsed = InetAddress.ofLiteral(a);
      assertThat(parsed.isLoopbackAddress()).as(a).isFalse();
      assertThat(parsed.isLinkLocalAddress()).as(a).isFalse();
    }
  }
}
