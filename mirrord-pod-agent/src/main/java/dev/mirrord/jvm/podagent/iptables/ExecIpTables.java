package dev.mirrord.jvm.podagent.iptables;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the iptables binaries of one family and backend. Both backends exist in the wild (nf_tables
 * and legacy); {@link #detect} picks the one that already holds rules in this namespace, as
 * kube-proxy's iptables wrapper does, and otherwise prefers nf_tables.
 */
public final class ExecIpTables implements IpTables {
  private static final Logger logger = LoggerFactory.getLogger(ExecIpTables.class);
  private static final List<String> SBIN = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");
  private static final long TIMEOUT_SECONDS = 20;

  private final String save;
  private final String restore;
  private final String main;

  ExecIpTables(String main, String save, String restore) {
    this.main = main;
    this.save = save;
    this.restore = restore;
  }

  /**
   * The iptables of {@code ipv6 ? "ip6tables" : "iptables"} to use here, or empty if none is
   * installed.
   *
   * <p>Only reads what the kernel already shows: {@code /proc/net/ip_tables_names} lists the
   * legacy tables in use in this namespace (running {@code iptables-legacy-save} to find out would
   * itself create them). Legacy wins only when it is in use and holds more rules than nf_tables.
   */
  public static Optional<ExecIpTables> detect(boolean ipv6) {
    String base = ipv6 ? "ip6tables" : "iptables";
    Optional<ExecIpTables> nft = candidate(base + "-nft");
    Optional<ExecIpTables> legacy = candidate(base + "-legacy");
    Optional<ExecIpTables> plain = candidate(base);
    boolean legacyInUse = legacyTablesLoaded(ipv6);
    if (nft.isPresent() && legacy.isPresent() && legacyInUse) {
      int n = nft.get().countRules();
      int l = legacy.get().countRules();
      logger.debug("{}: nf_tables holds {} rules, legacy {}", base, n, l);
      return l > n ? legacy : nft;
    }
    if (nft.isPresent()) {
      return nft;
    }
    if (legacy.isPresent()) {
      return legacy;
    }
    return plain;
  }

  private static Optional<ExecIpTables> candidate(String name) {
    Optional<String> bin = find(name);
    Optional<String> s = find(name + "-save");
    Optional<String> r = find(name + "-restore");
    if (bin.isPresent() && s.isPresent() && r.isPresent()) {
      return Optional.of(new ExecIpTables(bin.get(), s.get(), r.get()));
    }
    return Optional.empty();
  }

  static boolean legacyTablesLoaded(boolean ipv6) {
    Path names = Path.of("/proc/net", ipv6 ? "ip6_tables_names" : "ip_tables_names");
    try {
      return Files.exists(names) && !Files.readString(names).isBlank();
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public String name() {
    return Path.of(main).getFileName().toString();
  }

  @Override
  public String save(String table) throws IOException {
    return run(List.of(save, "-t", table), null);
  }

  @Override
  public void restore(String script) throws IOException {
    logger.debug("{}-restore --noflush:\n{}", name(), script);
    run(List.of(restore, "--noflush", "-w", "5"), script);
  }

  @Override
  public String shellCleanup(ChainNames c) {
    StringBuilder s = new StringBuilder();
    for (String[] jump : new String[][] {{"PREROUTING", c.input()}, {"OUTPUT", c.output()}}) {
      s.append("while ").append(main).append(" -w 5 -t nat -D ").append(jump[0]).append(" -j ")
          .append(jump[1]).append(" 2>/dev/null; do :; done\n");
    }
    for (String chain : List.of(c.input(), c.output())) {
      s.append(main).append(" -w 5 -t nat -F ").append(chain).append(" 2>/dev/null\n");
      s.append(main).append(" -w 5 -t nat -X ").append(chain).append(" 2>/dev/null\n");
    }
    return s.toString();
  }

  private int countRules() {
    try {
      int n = 0;
      for (String table : List.of("nat", "filter", "mangle")) {
        for (String line : save(table).split("\n")) {
          if (line.startsWith("-A ")) {
            n++;
          }
        }
      }
      return n;
    } catch (IOException e) {
      return -1;
    }
  }

  private static Optional<String> find(String name) {
    for (String dir : SBIN) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p.toString());
      }
    }
    return Optional.empty();
  }

  private String run(List<String> cmd, String stdin) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream is = p.getInputStream()) {
      is.transferTo(out);
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish in " + TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted running " + cmd.get(0), e);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(
          Path.of(cmd.get(0)).getFileName() + " exited " + p.exitValue() + ": " + text.strip());
    }
    return text;
  }
}
