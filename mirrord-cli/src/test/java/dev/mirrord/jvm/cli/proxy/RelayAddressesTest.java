package dev.mirrord.jvm.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelayAddressesTest {
  @TempDir Path proc;

  private void ephemeralFrom(String range) throws Exception {
    Files.createDirectories(proc.resolve("sys/net/ipv4"));
    Files.writeString(proc.resolve("sys/net/ipv4/ip_local_port_range"), range);
  }

  @Test
  void theIpv6RangeLiesBelowTheKernelsEphemeralPorts() throws Exception {
    ephemeralFrom("32768\t60999\n");
    for (int seed = 0; seed < 200; seed++) {
      int[] r = RelayAddresses.pickV6Range(new Random(seed), proc);
      assertThat(r[0]).isGreaterThanOrEqualTo(RelayAddresses.V6_RANGE_FLOOR);
      assertThat(r[1]).isEqualTo(r[0] + RelayAddresses.V6_PORTS - 1).isLessThan(32768);
    }
  }

  @Test
  void theRealKernelsEphemeralRangeIsRead() throws Exception {
    Path real = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(real), "a Linux /proc");
    int low = Integer.parseInt(new String(Files.newInputStream(real).readAllBytes()).trim().split("\\s+")[0]);
    org.junit.jupiter.api.Assumptions.assumeTrue(low > RelayAddresses.V6_RANGE_FLOOR + RelayAddresses.V6_PORTS);
    // a sysctl file answers nothing at a non-zero offset: read as Files.readString reads it, this was "3" of 32768
    int[] range = RelayAddresses.pickV6Range(new Random(7), Path.of("/proc"));
    assertThat(range[1] - range[0]).isEqualTo(RelayAddresses.V6_PORTS - 1);
    assertThat(range[1]).isLessThan(low);
  }

  @Test
  void noRoomBelowTheEphemeralPortsMeansNoIpv6Range() throws Exception {
    ephemeralFrom("10500 60999\n");
    assertThat(RelayAddresses.pickV6Range(new Random(1), proc)).containsExactly(0, -1);
  }

  @Test
  void anAddressInUseIsNeverPickedAndTheSessionFileNamesTheChoice() throws Exception {
    ephemeralFrom("32768 60999");
    RelayAddresses first = RelayAddresses.pick(new Random(42), proc);
    byte[] taken = first.v4().getAddress();
    // /proc/net/tcp shows a socket on that address: the same seed must pick another one.
    Files.createDirectories(proc.resolve("net"));
    Files.writeString(proc.resolve("net/tcp"),
        "  sl  local_address rem_address   st\n   0: " + RelayAddresses.procHex(taken) + ":1F90 00000000:0000 0A\n");
    RelayAddresses second = RelayAddresses.pick(new Random(42), proc);
    assertThat(second.v4()).isNotEqualTo(first.v4());
    assertThat(second.v4().getAddress()[0]).isEqualTo((byte) 127);
    assertThat(second.v4().getAddress()[1]).isNotZero();

    Properties p = new Properties();
    second.addTo(p);
    assertThat(p.getProperty("incoming.relay.address")).isEqualTo(second.v4().getHostAddress());
    assertThat(p.getProperty("incoming.relay.ports6")).matches("\\d+-\\d+");
  }

  @Test
  void ipv6SourcesGoRoundTheRange() throws Exception {
    RelayAddresses r = new RelayAddresses(InetAddress.getByName("127.9.9.9"), 20000, 20002);
    assertThat(java.util.stream.IntStream.range(0, 7).map(i -> r.nextV6Source().getPort()).toArray())
        .containsExactly(20000, 20001, 20002, 20000, 20001, 20002, 20000);
    assertThat(r.nextV6Source().getAddress()).isEqualTo(InetAddress.getByName("::1"));
    assertThat(RelayAddresses.procHex(new byte[] {127, 0, 0, 1})).isEqualTo("0100007F");
  }
}
