package dev.mirrord.jvm.podagent.dns;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The resolver settings of one {@code resolv.conf}, read as glibc's {@code res_init} reads them
 * (resolv.conf(5)): {@code nameserver} lines in order (the first {@link #MAX_SERVERS}), the last
 * {@code search} or {@code domain} line, and {@code options ndots:N timeout:N attempts:N} with
 * their defaults and caps; comments start with {@code #} or {@code ;}; anything else is ignored.
 *
 * @param servers name servers on port 53, in file order (none: the file names none)
 * @param searchPath search domains, in order, without a trailing dot
 * @param ndots names with fewer dots are tried with the search domains first
 * @param timeout how long one query to one server may take
 * @param attempts how many times each server is tried
 */
record ResolvConf(
    List<InetSocketAddress> servers,
    List<String> searchPath,
    int ndots,
    Duration timeout,
    int attempts) {

  /** glibc's MAXNS: later nameserver lines are ignored. */
  static final int MAX_SERVERS = 3;

  static final int MAX_NDOTS = 15;
  static final int DEFAULT_TIMEOUT_SECONDS = 5;
  static final int MAX_TIMEOUT_SECONDS = 30;
  static final int DEFAULT_ATTEMPTS = 2;
  static final int MAX_ATTEMPTS = 5;

  ResolvConf {
    servers = List.copyOf(servers);
    searchPath = List.copyOf(searchPath);
  }

  /** Parses the bytes of a {@code resolv.conf}; a line that cannot be read is skipped, as libc. */
  static ResolvConf parse(byte[] text) {
    List<InetSocketAddress> servers = new ArrayList<>();
    List<String> search = List.of();
    int ndots = 1;
    int timeout = DEFAULT_TIMEOUT_SECONDS;
    int attempts = DEFAULT_ATTEMPTS;
    for (String line : new String(text, StandardCharsets.UTF_8).split("\n")) {
      String[] words = line.trim().split("\\s+");
      if (words.length < 2 || words[0].startsWith("#") || words[0].startsWith(";")) {
        continue;
      }
      switch (words[0].toLowerCase(Locale.ROOT)) {
        case "nameserver" -> {
          InetAddress a = literal(words[1]);
          if (a != null && servers.size() < MAX_SERVERS) {
            servers.add(new InetSocketAddress(a, 53));
          }
        }
        case "domain" -> search = List.of(stripDot(words[1]));
        case "search" -> {
          List<String> domains = new ArrayList<>();
          for (int i = 1; i < words.length; i++) {
            if (words[i].startsWith("#") || words[i].startsWith(";")) {
              break;
            }
            domains.add(stripDot(words[i]));
          }
          search = domains;
        }
        case "options" -> {
          for (int i = 1; i < words.length; i++) {
            ndots = option(words[i], "ndots:", ndots, 0, MAX_NDOTS);
            timeout = option(words[i], "timeout:", timeout, 1, MAX_TIMEOUT_SECONDS);
            attempts = option(words[i], "attempts:", attempts, 1, MAX_ATTEMPTS);
          }
        }
        default -> {
          // sortlist and unknown keywords: nothing the agent's lookups use
        }
      }
    }
    return new ResolvConf(servers, search, ndots, Duration.ofSeconds(timeout), attempts);
  }

  /** An IPv4 or IPv6 literal (never a lookup), or {@code null}. */
  private static InetAddress literal(String word) {
    try {
      return InetAddress.ofLiteral(word);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String stripDot(String domain) {
    return domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
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
}
