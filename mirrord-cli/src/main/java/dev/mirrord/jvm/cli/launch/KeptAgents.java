package dev.mirrord.jvm.cli.launch;

import dev.mirrord.jvm.cli.exec.PropertiesText;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents kept between sessions ({@code agent.ttl}): one directory, {@code
 * <tmp>/mirrord-agents} (mode 0700, root's like the agents), with per kept agent, named {@code
 * <key>-<random>}: the socket it listens on, its log, and its entry {@code .agent} (mode 0600: the
 * agent's pid, token, socket, log, and when its last session ended). The agent deletes its socket
 * and its entry when it leaves; the CLI deletes those of agents that were killed. The key names the target process (pid and start time, so a recycled
 * pid is another target) and everything the agent was started with (the agent's command, its
 * steal settings): a session that would start a different agent does not reuse this one.
 *
 * <p>Every step on one key runs under {@code <key>.lock} ({@link FileChannel#lock()}), so two CLIs
 * starting at once for the same target start one agent and share it. An entry is used only while its
 * agent runs (pid alive and its command line naming the entry's socket) and, after its last session,
 * for less than the TTL minus a margin (the agent leaves when its idle time reaches the TTL; a
 * session must not connect to an agent that is just leaving). Entries of agents that are gone are
 * deleted whenever the directory is read.
 */
final class KeptAgents {
  private static final Logger logger = LoggerFactory.getLogger(KeptAgents.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A kept agent is not reused in the last seconds of its TTL. */
  static final long MARGIN_MILLIS = 2_000;

  /** What the entry says. {@code releasedAtMillis} 0: a session is using it (or has not ended cleanly). */
  record Entry(String name, long pid, String token, Path socket, Path log, long releasedAtMillis) {}

  private static final String ENTRY = ".agent";

  private final Path dir;
  private final Running running;

  /** Whether agent {@code pid} still runs, listening on {@code socket}. */
  @FunctionalInterface
  interface Running {
    boolean test(long pid, Path socket);
  }

  /**
   * @param dir where entries, sockets and logs go (created 0700)
   * @param running whether a pid runs an agent on the given socket (tests fake it)
   */
  KeptAgents(Path dir, Running running) {
    this.dir = dir;
    this.running = running;
  }

  Path dir() {
    return dir;
  }

  /** {@code pid-<N>-<hash of the target's start time and the agent's identity>}. */
  static String key(int targetPid, String targetStart, String agentIdentity) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((targetStart + "\n" + agentIdentity).getBytes(StandardCharsets.UTF_8));
      return "pid-" + targetPid + "-" + HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The start time of {@code /proc/<pid>} (field 22 of its stat file), or "" if unknown. */
  static String startTime(Path procRoot, int pid) {
    try {
      String start = dev.mirrord.jvm.protocol.jvm.ProcStat.field(Files.readString(procRoot.resolve(pid + "/stat")), 22);
      return start != null ? start : "";
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** Holds the key's lock until closed. */
  FileLock lock(String key) throws IOException {
    ensureDir();
    FileChannel ch =
        FileChannel.open(dir.resolve(key + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      return ch.lock();
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * The newest entry of {@code key} whose agent can take a session now; entries of agents that are
   * gone are deleted on the way.
   */
  Optional<Entry> usable(String key, int ttlSeconds, long nowMillis) {
    Entry best = null;
    for (Entry entry : entries(key + "-")) {
      if (!running.test(entry.pid(), entry.socket()) || !Files.exists(entry.socket())) {
        logger.info("kept agent pid {} is gone; forgetting it", entry.pid());
        forgetGone(entry);
        continue;
      }
      if (entry.releasedAtMillis() > 0 && nowMillis - entry.releasedAtMillis() > ttlSeconds * 1000L - MARGIN_MILLIS) {
        logger.info("kept agent pid {} is about to leave (idle {} ms of {} s); not reused", entry.pid(),
            nowMillis - entry.releasedAtMillis(), ttlSeconds);
        continue;
      }
      if (best == null || freshness(entry) > freshness(best)) {
        best = entry;
      }
    }
    return Optional.ofNullable(best);
  }

  /** In use (no release time) is freshest, then the latest release: the one furthest from leaving. */
  private static long freshness(Entry e) {
    return e.releasedAtMillis() == 0 ? Long.MAX_VALUE : e.releasedAtMillis();
  }

  /** The entries whose names start with {@code prefix} (all: ""); unreadable ones are deleted. */
  List<Entry> entries(String prefix) {
    List<Entry> found = new ArrayList<>();
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || untrusted() != null) {
      return found; // nothing, or nothing to trust (lock() says why)
    }
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String file = f.getFileName().toString();
        if (file.startsWith(prefix) && file.endsWith(ENTRY)) {
          names.add(file.substring(0, file.length() - ENTRY.length()));
        }
      }
      for (String name : names) {
        Optional<Entry> entry = read(name);
        if (entry.isPresent()) {
          found.add(entry.get());
        }
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("cannot list {}: {}", dir, e.toString());
    }
    return found;
  }

  Optional<Entry> read(String name) {
    Path f = entryFile(name);
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(f)) {
      p.load(in);
      return Optional.of(
          new Entry(
              name,
              Long.parseLong(p.getProperty("pid")),
              p.getProperty("token"),
              Path.of(p.getProperty("socket")),
              Path.of(p.getProperty("log")),
              Long.parseLong(p.getProperty("released", "0"))));
    } catch (java.nio.file.NoSuchFileException e) {
      return Optional.empty(); // its agent just left
    } catch (IOException | RuntimeException e) {
      logger.warn("cannot read the kept-agent entry {} ({}); deleting it", f, e.toString());
      forget(name);
      return Optional.empty();
    }
  }

  /** The entry file of the agent named {@code name}: it deletes that file itself when it exits. */
  Path entryFile(String name) {
    return dir.resolve(name + ENTRY);
  }

  void write(Entry e) throws IOException {
    ensureDir();
    Properties p = new Properties();
    p.setProperty("pid", Long.toString(e.pid()));
    p.setProperty("token", e.token());
    p.setProperty("socket", e.socket().toString());
    p.setProperty("log", e.log().toString());
    p.setProperty("released", Long.toString(e.releasedAtMillis()));
    Path tmp = dir.resolve(e.name() + ".tmp" + Long.toHexString(RANDOM.nextLong()));
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(tmp, PropertiesText.of(p, "mirrord agent kept for reuse (agent.ttl)"), StandardOpenOption.TRUNCATE_EXISTING);
    Files.move(tmp, entryFile(e.name()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Marks the agent of {@code e} idle since now, if its entry is still there. */
  void released(String key, Entry e, long nowMillis) {
    try (FileLock l = lock(key)) {
      if (read(e.name()).isPresent()) {
        write(new Entry(e.name(), e.pid(), e.token(), e.socket(), e.log(), nowMillis));
      }
    } catch (IOException | RuntimeException ex) {
      logger.debug("cannot mark kept agent {} idle: {}", e.name(), ex.toString());
    }
  }

  void forget(String name) {
    try {
      Files.deleteIfExists(entryFile(name));
    } catch (IOException e) {
      logger.debug("cannot delete entry {}: {}", name, e.toString());
    }
  }

  /** The entry of an agent that is gone, and its socket if it could not delete it (killed). */
  private void forgetGone(Entry e) {
    forget(e.name());
    try {
      Files.deleteIfExists(e.socket());
    } catch (IOException ex) {
      logger.debug("cannot delete {}: {}", e.socket(), ex.toString());
    }
  }

  /** Deletes the entries (and sockets) of agents that are gone without doing it themselves (killed). Never throws. */
  void purge() {
    List<String> kept = new ArrayList<>();
    for (Entry e : entries("")) { // empty for a directory that is not ours
      if (running.test(e.pid(), e.socket())) {
        kept.add(e.name());
      } else {
        forgetGone(e);
      }
    }
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || untrusted() != null) {
      return;
    }
    // lock files of keys without agents, unless some CLI holds them right now
    List<Path> locks = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        if (f.getFileName().toString().endsWith(".lock")) {
          locks.add(f);
        }
      }
      for (Path f : locks) {
        String file = f.getFileName().toString();
        String keyPrefix = file.substring(0, file.length() - ".lock".length()) + "-";
        if (!anyStartsWith(kept, keyPrefix)) {
          try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l != null) {
              Files.deleteIfExists(f);
              l.release();
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("cannot purge lock files in {}: {}", dir, e.toString());
    }
  }

  private static boolean anyStartsWith(List<String> names, String prefix) {
    for (String name : names) {
      if (name.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** A fresh token for a kept agent (its sessions' tokens differ). */
  static String newToken() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** A fresh name for a kept agent's files: {@code <key>-<random>}. */
  static String newName(String key) {
    return key + "-" + Long.toHexString(RANDOM.nextLong() & 0xffffffffL);
  }

  private void ensureDir() throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // another CLI made it just now: checked below like any other
      }
    }
    String problem = untrusted();
    if (problem != null) {
      throw new IOException(problem);
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  /**
   * Why {@link #dir} must not be used, or null: it sits in a shared temp dir, so anyone could have made it first
   * (with entries pointing the CLI at a socket of theirs). It must be a real directory (no symlink) owned by this
   * process's user.
   */
  String untrusted() {
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        return dir + " is not a directory";
      }
      Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      Object self = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!owner.equals(self)) {
        return dir + " belongs to uid " + owner + ", not to this user (uid " + self + "): remove it";
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return "cannot check " + dir + ": " + e.getMessage();
    }
  }

  /** Whether {@code pid} runs and its command line names {@code socket} (not a recycled pid). */
  static boolean runs(Path procRoot, long pid, Path socket) {
    try {
      byte[] cmd = Files.readAllBytes(procRoot.resolve(pid + "/cmdline"));
      return new String(cmd, StandardCharsets.UTF_8).contains(AgentAddress.unix(socket));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
