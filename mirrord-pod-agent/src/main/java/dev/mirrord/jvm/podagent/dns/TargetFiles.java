package dev.mirrord.jvm.podagent.dns;

import io.netty.resolver.HostsFileEntriesProvider;
import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The target's {@code resolv.conf} and {@code /etc/hosts} as last read, immutable: the resolvers of
 * every event loop are built from one of these, and a lookup never touches the files itself.
 *
 * @param confBytes resolv.conf's bytes ({@code null}: no such file), to tell a changed file
 * @param hostsStamp size, modification time and inode of /etc/hosts ("missing": no such file)
 * @param conf the parsed settings, with the libc defaults for a missing file or no nameserver
 * @param confError why resolv.conf could not be read or parsed ({@code null}: it could): every
 *     lookup then fails with it, as the target's own lookups would
 * @param hosts the hosts file's entries (empty when missing or unreadable)
 */
record TargetFiles(
    byte[] confBytes,
    Object hostsStamp,
    ResolvConf conf,
    String confError,
    HostsFileEntriesProvider hosts) {

  /**
   * Reads both files (blocking: never on an event loop) and returns {@code previous} itself when
   * neither changed, so a caller can tell "same files" by identity.
   */
  static TargetFiles read(Path resolvConf, Path hostsFile, TargetFiles previous) {
    byte[] bytes;
    String error = null;
    try {
      bytes = Files.readAllBytes(resolvConf);
    } catch (NoSuchFileException e) {
      bytes = null;
    } catch (IOException e) {
      bytes = new byte[0];
      error = "cannot read " + resolvConf + ": " + e;
    }
    Object stamp = stamp(hostsFile);
    if (previous != null
        && error == null
        && previous.confError() == null
        && Arrays.equals(previous.confBytes(), bytes)
        && Objects.equals(previous.hostsStamp(), stamp)) {
      return previous;
    }
    ResolvConf conf = libcDefaults();
    if (bytes != null && error == null) {
      try {
        conf = ResolvConf.parse(bytes);
      } catch (RuntimeException e) {
        error = "cannot parse " + resolvConf + ": " + e;
      }
    }
    if (conf.servers().isEmpty()) {
      // As libc: no nameserver line means the name server on the local host.
      conf =
          new ResolvConf(
              List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53)),
              conf.searchPath(),
              conf.ndots(),
              conf.timeout(),
              conf.attempts());
    }
    HostsFileEntriesProvider entries = hosts(hostsFile, stamp);
    if (entries == null) {
      // Unreadable now (e.g. rewritten between stat and read): a stamp no file has, so the next
      // check reads it again.
      entries = empty();
      stamp = List.of("unreadable", stamp);
    }
    return new TargetFiles(bytes, stamp, conf, error, entries);
  }

  /** The addresses of {@code host} in the hosts file, IPv4 before IPv6 for {@code ANY}. */
  List<InetAddress> hostsEntries(String host, boolean v4, boolean v6) {
    String name = host.toLowerCase(Locale.ENGLISH);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    List<InetAddress> out = new ArrayList<>();
    if (v4) {
      out.addAll(hosts.ipv4Entries().getOrDefault(name, List.of()));
    }
    if (v6) {
      out.addAll(hosts.ipv6Entries().getOrDefault(name, List.of()));
    }
    return out;
  }

  /** What libc assumes without a resolv.conf: the local name server, no search list. */
  private static ResolvConf libcDefaults() {
    return new ResolvConf(
        List.of(),
        List.of(),
        1,
        Duration.ofSeconds(ResolvConf.DEFAULT_TIMEOUT_SECONDS),
        ResolvConf.DEFAULT_ATTEMPTS);
  }

  private static Object stamp(Path hostsFile) {
    try {
      BasicFileAttributes a = Files.readAttributes(hostsFile, BasicFileAttributes.class);
      return List.of(a.size(), a.lastModifiedTime().toMillis(), String.valueOf(a.fileKey()));
    } catch (IOException e) {
      return "missing";
    }
  }

  /**
   * Parsed with Netty's hosts parser (names lower-cased, aliases included, file order); {@code
   * null} when the file exists but cannot be read.
   */
  private static HostsFileEntriesProvider hosts(Path hostsFile, Object stamp) {
    if ("missing".equals(stamp)) {
      return empty();
    }
    try {
      String text = Files.readString(hostsFile, StandardCharsets.UTF_8);
      return HostsFileEntriesProvider.parser().parse(new StringReader(text));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static HostsFileEntriesProvider empty() {
    try {
      return HostsFileEntriesProvider.parser().parse(new StringReader(""));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "TargetFiles[" + conf + (confError == null ? "" : ", " + confError) + "]";
  }
}
