package dev.mirrord.jvm.layer.file;

import dev.mirrord.jvm.layer.LayerConfig;
import dev.mirrord.jvm.layer.internal.LayerLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which file a read-only open by the app really opens: {@code /etc/resolv.conf} and {@code
 * /etc/hosts} become the CLI's copies of the target's files (so Netty's {@code DnsNameResolver},
 * JNDI's DNS provider, dnsjava and any other resolver that parses them itself sees the target's
 * name servers, search list, options and hosts); every other path, and every open for writing,
 * stays as it is.
 *
 * <p>A path matches after lexical normalization: a relative path is taken against {@code user.dir},
 * {@code .}, {@code ..} and repeated slashes are folded ({@code /etc/../etc//hosts} matches). Links
 * are not followed: a symlink elsewhere that points at {@code /etc/hosts} opens the local file, as
 * does a file's metadata ({@code exists}, {@code size}, {@code lastModified}: this machine's).
 *
 * <p>Built once at start: a copy that is missing or unreadable then is dropped (the app reads the
 * local file), and the reasons — with the CLI's {@code dns.files.problem} — make one WARN line.
 */
public final class FileOps {
  static final String RESOLV_CONF = "/etc/resolv.conf";
  static final String HOSTS = "/etc/hosts";

  /** Normalized absolute path the app opens → the file opened instead. */
  private final Map<String, String> copies;

  private final String workingDir;
  private final LayerLog log;

  FileOps(Map<String, String> copies, String workingDir, LayerLog log) {
    this.copies = Map.copyOf(copies);
    this.workingDir = workingDir;
    this.log = log;
  }

  /** The redirects of this session; logs the one WARN line if some target file is not served. */
  public static FileOps forConfig(LayerConfig.ResolverFiles files, LayerLog log) {
    Map<String, String> copies = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    if (files.problem() != null) {
      problems.add(files.problem());
    }
    add(copies, problems, RESOLV_CONF, files.resolvConf());
    add(copies, problems, HOSTS, files.hosts());
    if (!problems.isEmpty()) {
      log.warn(String.join("; ", problems));
    }
    if (!copies.isEmpty()) {
      log.info("the app's reads of " + copies.keySet() + " open the target's copies " + copies.values());
    }
    return new FileOps(copies, System.getProperty("user.dir", "/"), log);
  }

  private static void add(Map<String, String> copies, List<String> problems, String path, Path copy) {
    if (copy == null) {
      return;
    }
    if (!Files.isRegularFile(copy) || !Files.isReadable(copy)) {
      problems.add("the copy of the target's " + path + " (" + copy + ") cannot be read; the app reads this machine's");
      return;
    }
    copies.put(path, copy.toString());
  }

  /** Whether any open is redirected at all (none with {@code dns.remote=false}). */
  public boolean redirectsAny() {
    return !copies.isEmpty();
  }

  /**
   * For a read-only open of {@code path}: the file to open instead, or {@code null} to open {@code
   * path} itself.
   */
  public String readInstead(String path) {
    if (copies.isEmpty() || path == null || path.isEmpty()) {
      return null;
    }
    String copy = copies.get(normalize(path, workingDir));
    if (copy != null && log.isDebugEnabled()) {
      log.debug("file " + path + " is read from the target's copy " + copy);
    }
    return copy;
  }

  /** {@code path} made absolute against {@code workingDir}, with {@code .}, {@code ..} and {@code //} folded. */
  static String normalize(String path, String workingDir) {
    String full = path.startsWith("/") ? path : workingDir + "/" + path;
    Deque<String> parts = new ArrayDeque<>();
    for (String part : full.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        parts.pollLast(); // "/.." is "/"
      } else {
        parts.addLast(part);
      }
    }
    return "/" + String.join("/", parts);
  }
}
