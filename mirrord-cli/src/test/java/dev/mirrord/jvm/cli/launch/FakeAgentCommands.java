package dev.mirrord.jvm.cli.launch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command prefixes that run {@link FakePodAgent} (or shell stand-ins) instead of nsenter + the real agent. */
public final class FakeAgentCommands {
  private FakeAgentCommands() {}

  /** {@code <this java> -cp <test classpath> FakePodAgent [extra…]}. */
  public static LocalAgentLauncher.CommandPrefix fakePodAgent(String... extra) {
    return pid -> {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(FakePodAgent.class.getName());
      cmd.addAll(List.of(extra));
      return cmd;
    };
  }

  /** {@code sh -c <script> sh}: the agent's arguments become $1… */
  public static LocalAgentLauncher.CommandPrefix shell(String script) {
    return pid -> List.of("sh", "-c", script, "sh");
  }
}
