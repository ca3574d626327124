package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SessionDirTest {

  @TempDir Path tmp;

  @Test
  void privateDirAndSessionFileAreRemovedOnClose() throws IOException {
    SessionDir dir = SessionDir.create(tmp, "ab12cd34");
    Properties p = new Properties();
    p.setProperty("token", dir.token());
    Path file = dir.writeSessionFile(p);
    Files.writeString(dir.agentSocket(), "stand-in");

    assertThat(dir.dir()).isEqualTo(tmp.resolve("mirrord-ab12cd34"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.dir()))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    Properties read = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      read.load(in);
    }
    assertThat(read.getProperty("token")).isEqualTo(dir.token()).hasSize(64);

    dir.close();
    dir.close(); // idempotent
    assertThat(dir.dir()).doesNotExist();
  }

  @Test
  void theSweepRemovesTheDirsOfDeadOwnersAndLeavesLiveOnesAndAnythingElse() throws Exception {
    // a dead CLI's dir: its owner lock exists and no process holds it
    Path dead = tmp.resolve("mirrord-dead0001");
    Files.createDirectory(dead);
    Files.createFile(dead.resolve(SessionDir.OWNER_LOCK));
    Files.writeString(dead.resolve("session.properties"), "token=x\n");
    // a CLI that lives in another process: it holds its lock
    Path held = tmp.resolve("mirrord-a11e0002");
    Files.createDirectory(held);
    Process holder = holdLock(held.resolve(SessionDir.OWNER_LOCK));
    // without an owner lock: a dir being made (fresh), and one of an older CLI (untouched for longer than a day)
    Path fresh = Files.createDirectory(tmp.resolve("mirrord-00000003"));
    Path old = Files.createDirectory(tmp.resolve("mirrord-00000004"));
    Files.writeString(old.resolve("session.properties"), "token=x\n");
    Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(SessionDir.UNLOCKED_AGE).minusSeconds(60)));
    // not session dirs: other names, and a link with a session dir's name (never followed)
    Path agents = Files.createDirectory(tmp.resolve("mirrord-agents"));
    Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
    Files.createFile(elsewhere.resolve(SessionDir.OWNER_LOCK));
    Path link = Files.createSymbolicLink(tmp.resolve("mirrord-00000005"), elsewhere);
    try (SessionDir own = SessionDir.create(tmp, "00000006");
        SessionDir otherOfThisJvm = SessionDir.create(tmp, "00000007")) {
      assertThat(own.sweepSiblings()).isEqualTo(2);

      assertThat(dead).doesNotExist();
      assertThat(old).doesNotExist();
      assertThat(held.resolve(SessionDir.OWNER_LOCK)).exists();
      assertThat(fresh).isDirectory();
      assertThat(agents).isDirectory();
      assertThat(link).isSymbolicLink();
      assertThat(elsewhere.resolve(SessionDir.OWNER_LOCK)).exists();
      assertThat(own.dir().resolve(SessionDir.OWNER_LOCK)).exists();
      assertThat(otherOfThisJvm.dir().resolve(SessionDir.OWNER_LOCK)).exists();
      // this JVM still holds its own locks: the sweep never opened (and closed) a channel to them
      assertThat(otherOfThisJvm.sweepSiblings()).isZero();
      assertThat(lockIsFree(own.dir().resolve(SessionDir.OWNER_LOCK))).isFalse();

      holder.destroyForcibly().waitFor();
      assertThat(own.sweepSiblings()).as("once the holder is dead").isEqualTo(1);
      assertThat(held).doesNotExist();
    } finally {
      holder.destroyForcibly();
    }
  }

  /**
   * A dead CLI's agent removes its socket file as it exits, which may be while another CLI's sweep walks that dir: a
   * file the walk listed is gone when the walk reads it (a CI run of 2026-12-07, StealCleanupE2EIT). That must not stop
   * the removal half-way: the dir was left without its owner lock, which sweeps then keep for a day as one being made.
   * Here a thread deletes the dir's files while the sweep walks it, 20 times.
   */
  @Test
  void aDeadOwnersDirIsRemovedWhileItsFilesVanishDuringTheSweep() throws Exception {
    for (int round = 0; round < 20; round++) {
      Path dead = Files.createDirectory(tmp.resolve(String.format("mirrord-dead%04x", round)));
      Files.createFile(dead.resolve(SessionDir.OWNER_LOCK));
      List<Path> files = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        files.add(Files.createFile(dead.resolve("f" + i)));
      }
      CountDownLatch started = new CountDownLatch(1);
      Thread vanisher =
          Thread.ofPlatform()
              .start(
                  () -> {
                    started.countDown();
                    for (int i = files.size() - 1; i >= 0; i--) {
                      try {
                        Files.deleteIfExists(files.get(i));
                      } catch (IOException e) {
                        // the sweep's meanwhile
                      }
                    }
                  });
      started.await();
      try (SessionDir own = SessionDir.create(tmp, String.format("%08x", 0x100 + round))) {
        own.sweepSiblings();
      }
      vanisher.join();
      assertThat(dead).as("round %d: the dead CLI's dir after one sweep", round).doesNotExist();
    }
  }

  @Test
  void theSweepRemovesThisUsersSessionLogsOlderThanAWeek() throws Exception {
    FileTime old = FileTime.from(Instant.now().minus(SessionDir.LOG_AGE).minusSeconds(60));
    FileTime recent = FileTime.from(Instant.now().minus(SessionDir.LOG_AGE).plusSeconds(3600));
    Path cli = logFile("mirrord-0123abcd.log", old);
    Path agent = logFile("mirrord-0123abcd-agent.log", old);
    Path layer = logFile("mirrord-0123abcd-layer.log", old);
    Path kept = logFile("mirrord-0123abce-layer.log", recent);
    // not a session's log: other names, and a link with a log's name (removed as a link never; its target untouched)
    Path otherName = logFile("mirrord-notes.log", old);
    Path otherSuffix = logFile("mirrord-0123abcd-proxy.log", old);
    Path target = logFile("precious.log", old);
    Path link = Files.createSymbolicLink(tmp.resolve("mirrord-0123abcf.log"), target);
    // a session dir named like a log is a dir: left to the dir rules (fresh, no lock: kept)
    Path dirNamedLikeALog = Files.createDirectory(tmp.resolve("mirrord-0123abd0.log"));
    try (SessionDir own = SessionDir.create(tmp, "0123abd1")) {
      assertThat(own.sweepSiblings()).isEqualTo(3);
    }
    assertThat(cli).doesNotExist();
    assertThat(agent).doesNotExist();
    assertThat(layer).doesNotExist();
    assertThat(kept).exists();
    assertThat(otherName).exists();
    assertThat(otherSuffix).exists();
    assertThat(link).isSymbolicLink();
    assertThat(target).exists();
    assertThat(dirNamedLikeALog).isDirectory();
  }

  private Path logFile(String name, FileTime written) throws IOException {
    Path f = Files.writeString(tmp.resolve(name), "a log line\n");
    Files.setLastModifiedTime(f, written);
    return f;
  }

  /** A child JVM that locks {@code file} (creating it) and then waits to be killed. */
  private static Process holdLock(Path file) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), LockHolder.class.getName(), file.toString())
        .redirectErrorStream(true)
        .start();
    String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
    assertThat(line).as("the lock holder's first line").isEqualTo("locked");
    return p;
  }

  /** Asks a child JVM whether {@code file}'s lock is free (a lock this JVM holds looks free from inside it). */
  private static boolean lockIsFree(Path file) throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), LockHolder.class.getName(), file.toString(), "probe")
        .redirectErrorStream(true)
        .start();
    String line = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine();
    p.waitFor();
    return "locked".equals(line);
  }

  /** {@code LockHolder FILE [probe]}: locks FILE, prints "locked" (or "held" if another process has it), waits. */
  public static final class LockHolder {
    public static void main(String[] args) throws Exception {
      try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = ch.tryLock();
        System.out.println(lock == null ? "held" : "locked");
        System.out.flush();
        if (args.length == 1) {
          Thread.sleep(60_000);
        }
      }
    }
  }

  @Test
  void idsAndTokensAreFresh() {
    assertThat(SessionDir.newId()).hasSize(8).isNotEqualTo(SessionDir.newId());
    try (SessionDir a = SessionDir.create(tmp, "a");
        SessionDir b = SessionDir.create(tmp, "b")) {
      assertThat(a.token()).isNotEqualTo(b.token());
    }
  }
}
