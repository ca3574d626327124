package dev.mirrord.jvm.cli.exec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

/**
 * A properties file's bytes as {@link Properties#store(java.io.OutputStream, String)} writes them
 * (ISO 8859-1, keys sorted, the same escapes, so {@link Properties#load} reads back every key and
 * value), without the date comment that {@code store} always adds. That comment's {@code
 * Date.toString()} loads the JDK's time-zone display names: 20-30 ms of a cold CLI's start, on the
 * path to the app's start (the session file, a kept agent's entry).
 */
public final class PropertiesText {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private PropertiesText() {}

  /**
   * {@code #comment}, then one {@code key=value} line per entry, keys in order.
   *
   * @param comment one line of printable ASCII
   */
  public static byte[] of(Properties properties, String comment) {
    for (int i = 0; i < comment.length(); i++) {
      char c = comment.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new IllegalArgumentException("the comment must be one line of printable ASCII");
      }
    }
    List<String> keys = new ArrayList<>(properties.stringPropertyNames());
    Collections.sort(keys);
    StringBuilder out = new StringBuilder(64 + 64 * keys.size());
    out.append('#').append(comment).append('\n');
    for (String key : keys) {
      escape(key, true, out);
      out.append('=');
      escape(properties.getProperty(key), false, out);
      out.append('\n');
    }
    return out.toString().getBytes(StandardCharsets.ISO_8859_1); // every char above 0x7e is escaped
  }

  /** {@code Properties.saveConvert} with unicode escapes. */
  private static void escape(String s, boolean isKey, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c > 61 && c < 127) {
        if (c == '\\') {
          out.append('\\');
        }
        out.append(c);
        continue;
      }
      switch (c) {
        case ' ' -> {
          if (i == 0 || isKey) {
            out.append('\\');
          }
          out.append(' ');
        }
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\f' -> out.append("\\f");
        case '=', ':', '#', '!' -> out.append('\\').append(c);
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf])
                .append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
