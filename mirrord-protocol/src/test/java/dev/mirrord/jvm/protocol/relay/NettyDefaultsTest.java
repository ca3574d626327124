package dev.mirrord.jvm.protocol.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.internal.MacAddressUtil;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link NettyDefaults}: what it sets, in a form Netty takes, and that an explicit {@code -D} wins. */
class NettyDefaultsTest {
  private Properties saved;

  @BeforeEach
  void save() {
    saved = (Properties) System.getProperties().clone();
    System.clearProperty(NettyDefaults.MACHINE_ID);
    System.clearProperty(NettyDefaults.PROCESS_ID);
  }

  @AfterEach
  void restore() {
    System.setProperties(saved);
  }

  @Test
  void channelIdsGetARandomMachineIdNettyParsesAndThisProcesssPid() {
    NettyDefaults.apply();
    String first = System.getProperty(NettyDefaults.MACHINE_ID);
    assertThat(first).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
    assertThat(MacAddressUtil.parseMAC(first)).hasSize(8);
    assertThat(System.getProperty(NettyDefaults.PROCESS_ID)).isEqualTo(Long.toString(ProcessHandle.current().pid()));

    System.clearProperty(NettyDefaults.MACHINE_ID);
    NettyDefaults.apply();
    assertThat(System.getProperty(NettyDefaults.MACHINE_ID)).as("random, not fixed").isNotEqualTo(first);
  }

  /** The machine id the CLI, the agent and the layer give their Netty is one Netty parses, and random. */
  @Test
  void theMachineIdIsEightRandomBytesNettyParses() {
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String id = NettyDefaults.randomMachineId(random);
      assertThat(id).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
      assertThat(MacAddressUtil.parseMAC(id)).hasSize(8);
      ids.add(id);
    }
    assertThat(ids).hasSize(1000);
  }

  @Test
  void explicitValuesWin() {
    System.setProperty(NettyDefaults.MACHINE_ID, "00:11:22:33:44:55");
    System.setProperty(NettyDefaults.PROCESS_ID, "7");
    NettyDefaults.apply();
    assertThat(System.getProperty(NettyDefaults.MACHINE_ID)).isEqualTo("00:11:22:33:44:55");
    assertThat(System.getProperty(NettyDefaults.PROCESS_ID)).isEqualTo("7");
  }
}
