package dev.mirrord.jvm.cli.exec;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code mirrord session}'s workload: hands out the environment that makes a JVM join the session
 * (a dotenv file for IDE run configurations, and/or stdout), then waits for SIGINT or SIGTERM (exit
 * 0) or the loss of the agent (exit {@link ExitCode#AGENT_FAILED}). The session's clean-up is {@code
 * exec}'s: steal rules, agent, proxy and session directory go; the env file stays (the IDE keeps
 * pointing at it), and a JVM started with it later finds no session file, says so in one line and
 * runs without mirrord.
 */
public final class IdeSession {
  private static final Logger logger = LoggerFactory.getLogger(IdeSession.class);

  private IdeSession() {}

  /**
   * @param envFile where to write the dotenv file, or null
   * @param print the format to print on {@code out}, or null
   */
  public static ExecSession.Workload workload(
      ExecSession.Params params, Path envFile, EnvFormat print, PrintWriter out) {
    return ready -> {
      Map<String, String> env =
          JvmLauncher.sessionEnvironment(
              params.environment().env(), ready.importedEnv(), params.layerJar(), ready.sessionFile());
      List<String> comment =
          List.of(
              "mirrord session " + ready.sessionId() + " for " + params.target().describe()
                  + ": a JVM started with these variables joins it.",
              "Valid while `mirrord session` runs; afterwards a JVM started with them runs without mirrord.");
      if (envFile != null) {
        EnvFormat.Rendered dotenv = EnvFormat.DOTENV.render(env, comment);
        try {
          EnvFormat.writeAtomically(envFile, dotenv.text());
        } catch (UncheckedIOException e) {
          throw new MirrordException(
              ExitCode.CONFIG,
              "cannot write the env file " + envFile + " (" + e.getCause().getMessage() + "); check the path");
        }
        dotenv.leftOut().forEach(why -> params.notices().warn("left out of " + envFile + ": " + why));
        logger.info("wrote {} variables to {}", env.size() - dotenv.leftOut().size(), envFile);
      }
      if (print != null) {
        EnvFormat.Rendered printed = print.render(env, comment);
        out.print(printed.text());
        out.flush();
        if (envFile == null || print != EnvFormat.DOTENV) {
          printed.leftOut().forEach(why -> params.notices().warn("not printed: " + why));
        }
      }
      params
          .notices()
          .info(
              "session "
                  + ready.sessionId()
                  + " is up for "
                  + params.target().describe()
                  + ": JVMs started with "
                  + (envFile != null ? "the variables in " + envFile : "these variables")
                  + " join it; Ctrl-C ends it");
      return await(ready, params.environment().forwardSignals(), params);
    };
  }

  private static int await(ExecSession.Ready ready, boolean handleSignals, ExecSession.Params params)
      throws InterruptedException {
    CompletableFuture<String> stop = new CompletableFuture<>();
    Signals signals = handleSignals ? Signals.handle(stop::complete) : null;
    try {
      CompletableFuture.anyOf(stop, ready.agentGone()).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } finally {
      if (signals != null) {
        signals.close();
      }
    }
    if (stop.isDone()) {
      logger.info("SIG{}: ending session {}", stop.getNow(""), ready.sessionId());
      return 0;
    }
    throw new MirrordException(
        ExitCode.AGENT_FAILED,
        "the session has ended: its agent for " + params.target().describe() + " is gone; start mirrord session again");
  }
}
