package dev.mirrord.jvm.cli.command;

import dev.mirrord.jvm.cli.CliEnvironment;
import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.LogSetup;
import dev.mirrord.jvm.cli.MirrordCommand;
import dev.mirrord.jvm.cli.MirrordException;
import dev.mirrord.jvm.cli.UserNotices;
import dev.mirrord.jvm.cli.config.ConfigLoader;
import dev.mirrord.jvm.cli.config.MirrordConfig;
import dev.mirrord.jvm.cli.exec.ExecSession;
import dev.mirrord.jvm.cli.exec.SessionDir;
import dev.mirrord.jvm.cli.launch.LocalAgentLauncher;
import dev.mirrord.jvm.protocol.jvm.AgentJvmOptions;
import dev.mirrord.jvm.protocol.jvm.AotCache;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mirrord aot-train} (hidden; {@code bin/mirrord} runs it once per build, with this JVM in
 * {@code -XX:AOTMode=record}): one short, real session, so that the JVMs record what their
 * ahead-of-time caches ({@link AotCache}) should hold. The agent runs as for {@code pid/N} but
 * against this very process and without {@code nsenter} (no root needed; nothing is entered or
 * changed), recording into its own configuration unless its cache exists already; the command is
 * {@code java -jar <this jar> --version} with the layer, which also fills the layer's hook cache for
 * this JDK. Afterwards the agent's cache is built from its recording and put in place atomically.
 * Prints one line per cache; exit 0 even when a step failed (the caller then runs without it).
 */
@Command(name = "aot-train", hidden = true, description = "Builds the start-up caches (run by bin/mirrord).")
public final class AotTrainCommand implements Callable<Integer> {
  static final long CREATE_TIMEOUT_SECONDS = 300;

  @ParentCommand MirrordCommand parent;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    CliEnvironment env = parent.environment();
    PrintWriter out = spec.commandLine().getOut();
    Path root = AotCache.root(env.env()::get);
    if (root == null) {
      out.println("aot-train: start-up caches are off (MIRRORD_AOT=off, or no HOME)");
      return 0;
    }
    Path agentJar = jar(env, "mirrord.agent.jar", "MIRRORD_AGENT_JAR");
    Path layerJar = jar(env, "mirrord.layer.jar", "MIRRORD_LAYER_JAR");
    Path agentCache = LocalAgentLauncher.agentAotCache(env, agentJar);
    Files.createDirectories(root);
    Path work = Files.createTempDirectory(root, "train-");
    try {
      boolean trainAgent = agentCache != null && !Files.isRegularFile(agentCache);
      Path agentConfig = work.resolve("agent.aotconf");
      Path java = Path.of(System.getProperty("java.home"), "bin", "java");
      AgentJvmOptions.Launch agentLaunch = AgentJvmOptions.launchFromJar(agentJar);
      List<String> agent = agentLaunch.command(java.toString(),
          trainAgent ? AotCache.recordFlags(agentConfig) : AotCache.useFlags(agentCache), agentJar);
      long self = ProcessHandle.current().pid();
      // what every real run does first: picocli builds the model of the commands and parses an exec line; then what
      // exec does before its session (config, launcher), here with a kept agent, whose bookkeeping is rehearsed too
      // (a run that reuses an agent otherwise loads that code from the jar: LocalAgentLauncher.rehearseReuse)
      picocli.CommandLine.ParseResult parsed =
          MirrordCommand.newCommandLine(env)
              .parseArgs(
                  "exec", "--target", "pid/" + self, "--tcp-steal", "-p", "9090:8080", "--agent-ttl", "60",
                  "--log-file", work.resolve("prepare.log").toString(), "--", "java", "-version");
      try { // only what the cache records: never a reason to fail the training
        ((ExecCommand) parsed.subcommand().commandSpec().userObject()).prepare();
        if (!LocalAgentLauncher.rehearseReuse(Files.createDirectory(work.resolve("kept")), Path.of("/proc"), (int) self)) {
          out.println("aot-train: the kept-agent rehearsal did not reuse its stand-in entry");
        }
      } catch (IOException | RuntimeException e) {
        out.println("aot-train: exec's set-up or the kept-agent rehearsal failed (" + e + "); the cache lacks that code");
      }
      MirrordConfig config =
          new ConfigLoader(Map.of())
              .load(null, new MirrordConfig("pid/" + self, null, null, null, null, null, null, null, null, null));
      Path log = work.resolve("session.log");
      LogSetup.configure(log, false);
      String sessionId = SessionDir.newId();
      int code =
          ExecSession.run(
              new ExecSession.Params(
                  env,
                  config,
                  config.targetSpec(),
                  new LocalAgentLauncher(
                      Path.of("/proc"), () -> true, pid -> agent, LocalAgentLauncher.DEFAULT_READY_TIMEOUT),
                  layerJar,
                  sessionId,
                  log,
                  new UserNotices(spec.commandLine().getErr()),
                  List.of()),
              ExecSession.command(
                  List.of(java.toString(), "-jar", ownJar().toString(), "--version"), env, layerJar));
      out.println("aot-train: training session ended with " + code);
      if (trainAgent) {
        if (!Files.isRegularFile(agentConfig)) {
          out.println("aot-train: the agent recorded nothing; see " + log);
          return 0;
        }
        Path built = work.resolve("agent.aot");
        ProcessBuilder pb =
            new ProcessBuilder(AotCache.createCommand(java, agentLaunch.options(), agentConfig, built, agentJar))
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("agent-create.log").toFile());
        Process create = pb.start();
        if (!create.waitFor(CREATE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          create.destroyForcibly();
        }
        if (create.exitValue() == 0 && Files.isRegularFile(built)) {
          AotCache.install(built, agentCache);
          out.println("aot-train: agent cache " + agentCache);
        } else {
          out.println("aot-train: could not build the agent's cache: " + Files.readString(work.resolve("agent-create.log")));
        }
      }
      return 0;
    } finally {
      deleteTree(work);
    }
  }

  private static Path jar(CliEnvironment env, String property, String var) {
    String jar = env.propertyOrEnv(property, var);
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new MirrordException(ExitCode.INSTALLATION, "aot-train: no " + property + " (" + var + ")");
    }
    return Path.of(jar).toAbsolutePath();
  }

  /** This CLI's jar (bin/mirrord puts it alone on the class path). */
  private static Path ownJar() {
    return Path.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)[0]).toAbsolutePath();
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory in the cache directory; the next training makes its own
    }
  }
}
