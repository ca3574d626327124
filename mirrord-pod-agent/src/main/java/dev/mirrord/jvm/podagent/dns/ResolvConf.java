package dev.mirrord.jvm.podagent.dns;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.xbill.DNS.Name;
import org.xbill.DNS.config.ResolvConfResolverConfigProvider;

/**
 * The resolver settings of one {@code resolv.conf}: dnsjava parses {@code nameserver}, {@code
 * search}/{@code domain} and {@code options ndots:N}; the {@code timeout:N} and {@code attempts:N}
 * options, which dnsjava leaves alone, are read here with the defaults and caps of resolv.conf(5).
 *
 * @param servers name servers on port 53, in file order (none: the file names none)
 * @param searchPath search domains, in order
 * @param ndots names with fewer dots are tried with the search domains first
 * @param timeout how long one query to one server may take
 * @param attempts how many times each server is tried
 */
record ResolvConf(
    List<InetSocketAddress> servers,
    List<Name> searchPath,
    int ndots,
    Duration timeout,
    int attempts) {

  static final int DEFAULT_TIMEOUT_SECONDS = 5;
  static final int MAX_TIMEOUT_SECONDS = 30;
  static final int DEFAULT_ATTEMPTS = 2;
  static final int MAX_ATTEMPTS = 5;

  ResolvConf {
    servers = List.copyOf(servers);
    searchPath = List.copyOf(searchPath);
  }

  /** Parses the bytes of a {@code resolv.conf}. */
  static ResolvConf parse(byte[] text) throws IOException {
    Parser p = new Parser();
    p.parse(text);
    int timeout = DEFAULT_TIMEOUT_SECONDS;
    int attempts = DEFAULT_ATTEMPTS;
    for (String line : new String(text, StandardCharsets.UTF_8).split("\n")) {
      String[] words = line.trim().split("\\s+");
      if (words.length < 2 || !words[0].toLowerCase(Locale.ROOT).equals("options")) {
        continue;
      }
      for (int i = 1; i < words.length; i++) {
        timeout = option(words[i], "timeout:", timeout, 1, MAX_TIMEOUT_SECONDS);
        attempts = option(words[i], "attempts:", attempts, 1, MAX_ATTEMPTS);
      }
    }
    return new ResolvConf(
        p.servers(), p.searchPaths(), p.ndots(), Duration.ofSeconds(timeout), attempts);
  }

  private static int option(String word, String prefix, int current, int min, int max) {
    if (!word.startsWith(prefix)) {
      return current;
    }
    try {
      return Math.max(min, Math.min(max, Integer.parseInt(word.substring(prefix.length()))));
    } catch (NumberFormatException e) {
      return current;
    }
  }

  /** dnsjava's resolv.conf reader, pointed at given bytes instead of the agent's own file. */
  private static final class Parser extends ResolvConfResolverConfigProvider {
    void parse(byte[] text) throws IOException {
      reset();
      parseResolvConf(new ByteArrayInputStream(text));
    }
  }
}
