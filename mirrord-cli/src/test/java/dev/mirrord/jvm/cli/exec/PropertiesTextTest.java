package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PropertiesTextTest {
  /** Characters that need care: the escapes, spaces, controls, Latin-1, BMP and a surrogate pair's halves. */
  private static final String ALPHABET = "aZ09 \t\n\r\f=:#!\\\u0000\u001f\u007f\u00e9\u00ff\u0100\u20ac\ud83d\ude00.-_/";

  /** For random keys and values: the bytes are store's without its date line, and load reads every entry back. */
  @Test
  void theBytesAreStoresWithoutItsDateLineAndLoadReadsThemBack() throws IOException {
    SplittableRandom random = new SplittableRandom(42);
    for (int round = 0; round < 2000; round++) {
      Properties p = randomProperties(random);
      ByteArrayOutputStream stored = new ByteArrayOutputStream();
      p.store(stored, "a comment");
      String[] lines = stored.toString(StandardCharsets.ISO_8859_1).split("\n", -1);
      StringBuilder withoutDate = new StringBuilder(lines[0]).append('\n'); // line 1 is the date
      for (int i = 2; i < lines.length; i++) {
        withoutDate.append(lines[i]).append(i < lines.length - 1 ? "\n" : "");
      }

      byte[] ours = PropertiesText.of(p, "a comment");

      assertThat(new String(ours, StandardCharsets.ISO_8859_1)).isEqualTo(withoutDate.toString());
      Properties read = new Properties();
      read.load(new ByteArrayInputStream(ours));
      assertThat(read).isEqualTo(p);
    }
  }

  @Test
  void theCommentIsOneLineOfPrintableAscii() {
    assertThatThrownBy(() -> PropertiesText.of(new Properties(), "two\nlines"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PropertiesText.of(new Properties(), "caf\u00e9"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(PropertiesText.of(new Properties(), "empty")).isEqualTo("#empty\n".getBytes(StandardCharsets.ISO_8859_1));
  }

  private static Properties randomProperties(SplittableRandom random) {
    Properties p = new Properties();
    int n = random.nextInt(6);
    for (int i = 0; i < n; i++) {
      p.setProperty(randomString(random), randomString(random));
    }
    return p;
  }

  private static String randomString(SplittableRandom random) {
    StringBuilder b = new StringBuilder();
    int len = random.nextInt(12);
    for (int i = 0; i < len; i++) {
      b.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return b.toString();
  }
}
