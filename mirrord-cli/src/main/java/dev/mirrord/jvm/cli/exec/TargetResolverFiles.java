package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.Target;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The target's {@code /etc/resolv.conf} and {@code /etc/hosts}, copied into the session directory
 * at session start, for the app's own resolvers (Netty's {@code DnsNameResolver}, JNDI's DNS
 * provider, dnsjava) that read those files themselves: the layer serves the copies to the app's
 * opens of those two paths.
 *
 * <p>Session-file keys (read by the layer's {@code LayerConfig}): {@code dns.resolv_conf} and
 * {@code dns.hosts}, the copies' paths (a file that could not be had has no key: the app reads
 * this machine's); {@code dns.files.problem}, one line saying which target file could not be had
 * and why, which each layer logs once as a WARN. A snapshot: pods get both files from the kubelet
 * when they start, and the app's resolvers read them once (Netty, at class initialisation) or cache
 * them for minutes (the JDK's, dnsjava's), so the copies do not follow later changes.
 */
public final class TargetResolverFiles {
  public static final String RESOLV_CONF_KEY = "dns.resolv_conf";
  public static final String HOSTS_KEY = "dns.hosts";
  public static final String PROBLEM_KEY = "dns.files.problem";

  private final Properties properties;

  private TargetResolverFiles(Properties properties) {
    this.properties = properties;
  }

  /** Session-file entries for this session: add them to the session file. */
  public Properties sessionProperties() {
    Properties copy = new Properties();
    copy.putAll(properties);
    return copy;
  }

  /** The one-line problem the layers will log, or {@code null}. */
  public String problem() {
    return properties.getProperty(PROBLEM_KEY);
  }

  /** Nothing to serve and nothing to say: {@code dns.remote=false}. */
  public static TargetResolverFiles none() {
    return new TargetResolverFiles(new Properties());
  }

  /** Nothing to serve, for {@code problem} (e.g. an agent older than protocol 1.4). */
  public static TargetResolverFiles unavailable(String problem) {
    Properties p = new Properties();
    p.setProperty(PROBLEM_KEY, problem + "; the app's own resolvers read this machine's /etc/resolv.conf and /etc/hosts");
    return new TargetResolverFiles(p);
  }

  /** Writes the files the agent sent into {@code dir} (mode 0600) and names them. */
  public static TargetResolverFiles write(SessionDir dir, Target.ResolverFiles files) throws IOException {
    Properties p = new Properties();
    List<String> problems = new ArrayList<>();
    copy(dir, "resolv.conf", files.resolvConf(), RESOLV_CONF_KEY, p, problems);
    copy(dir, "hosts", files.hosts(), HOSTS_KEY, p, problems);
    if (!problems.isEmpty()) {
      p.setProperty(PROBLEM_KEY, String.join("; ", problems));
    }
    return new TargetResolverFiles(p);
  }

  private static void copy(
      SessionDir dir,
      String name,
      RemoteResult<Payload> file,
      String key,
      Properties p,
      List<String> problems)
      throws IOException {
    if (file instanceof RemoteResult.Err<Payload> err) {
      problems.add("the target's /etc/" + name + " cannot be read (" + err.error().describe()
          + "); the app reads this machine's");
      return;
    }
    Path copy = dir.writePrivateFile("target-" + name, file.value().unsafeArray());
    p.setProperty(key, copy.toAbsolutePath().toString());
  }
}
