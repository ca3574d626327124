package dev.mirrord.jvm.layer.socket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InetAddressesTest {
  /** What the check stands for (the regular expressions it replaced). */
  private static boolean byPattern(String s) {
    return s != null && !s.isEmpty() && s.matches("[0-9a-fA-F:.%]+")
        && (s.contains(":") || s.matches("\\d{1,3}(\\.\\d{1,3}){3}"));
  }

  @Test
  void literalsParseWithoutALookupAndNamesAreRefused() throws Exception {
    assertThat(InetAddresses.forLiteral("198.18.0.10"))
        .isEqualTo(InetAddress.getByAddress(new byte[] {(byte) 198, 18, 0, 10}));
    assertThat(InetAddresses.forLiteral("::1")).isEqualTo(InetAddress.getByName("::1"));
    assertThat(InetAddresses.forLiteral("fe80::1%1").getHostAddress()).startsWith("fe80:0:0:0:0:0:0:1");
    for (String name :
        List.of("localhost", "postgres", "beef", "1.2.3", "1.2.3.4.5", "1..2.3", "1234.1.1.1", "", " ")) {
      assertThatThrownBy(() -> InetAddresses.forLiteral(name)).as(name).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void anIpv4DottedQuadIsReadByHandAsTheJdkReadsIt() throws Exception {
    for (String good : List.of("127.0.0.1", "127.255.255.255", "127.10.20.30", "0.0.0.0", "198.18.0.10")) {
      assertThat(InetAddresses.ipv4(good)).as(good).containsExactly(InetAddress.getByName(good).getAddress());
    }
    for (String bad : List.of("127.0.0.256", "1.2.3.4.5", "1.2.3.4.", "1.2.3", "1..2.3", "0001.2.3.4", " 1.2.3.4",
        "1.2.3.-4", "::1", "", "localhost")) {
      assertThat(InetAddresses.ipv4(bad)).as(bad).isNull();
    }
    assertThat(InetAddresses.ipv4(null)).isNull();
  }

  @Test
  void theCheckAgreesWithThePatternsItReplaced() {
    List<String> fixed = List.of("1.2.3.4", "255.255.255.255", "0.0.0.0", "1.2.3.", ".1.2.3", "1.2.3.4.", "01.2.3.4",
        "1.2.3.4%1", "::", "::1", "::ffff:1.2.3.4", "fe80::1%eth0", "fe80::1%1", "a:b", "g::1", "1.2.3.a", "1:2",
        "1234.1.1.1", "1.1.1.1234", "abc", "ABC:", "%", ":", ".", "....", "1.2.3.4 ", "-1.2.3.4");
    for (String s : fixed) {
      assertThat(InetAddresses.looksLikeLiteral(s)).as("'%s'", s).isEqualTo(byPattern(s));
    }
    // half of the strings from digits and dots alone (dotted quads and near misses), half from every kind
    String quads = "0123456789.";
    String any = "0123456789abcdefgABCDEF:.%x ";
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      String alphabet = i % 2 == 0 ? quads : any;
      StringBuilder s = new StringBuilder();
      int length = random.nextInt(1, 16);
      for (int j = 0; j < length; j++) {
        s.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      assertThat(InetAddresses.looksLikeLiteral(s.toString())).as("'%s'", s).isEqualTo(byPattern(s.toString()));
    }
  }
}
