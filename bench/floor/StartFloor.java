import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * bench/startup.sh's floor of mirrord's shape: the JVMs a session starts, with nothing of mirrord in them. Not a test.
 *
 * <pre>
 *   java -cp DIR StartFloor launch [AGENT_CMD...] -- APP_CMD...   the CLI's stand-in: starts AGENT_CMD (if any) and,
 *        beside it, APP_CMD with JAVA_TOOL_OPTIONS=-javaagent:&lt;-Dfloor.javaagent&gt;; reads the agent's first line;
 *        waits for the command; closes the agent's stdin and waits for it; exits with the command's code
 *   java -cp DIR StartFloor agent     the agent's stand-in: prints READY, then waits for the end of its stdin
 * </pre>
 *
 * The first {@code --} ends AGENT_CMD, which must not contain one.
 *
 * <p>The same class is the empty Java agent (its jar's manifest names it as {@code Premain-Class}).
 */
public final class StartFloor {
  private StartFloor() {}

  public static void premain(String args, Instrumentation inst) {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("agent")) {
      System.out.println("READY");
      System.out.flush();
      while (System.in.read() >= 0) {
        // until the launcher closes our stdin
      }
      return;
    }
    List<String> all = Arrays.asList(args);
    int sep = all.indexOf("--");
    List<String> agentCmd = all.subList(1, sep);
    List<String> app = all.subList(sep + 1, all.size());
    Process agent = agentCmd.isEmpty() ? null
        : new ProcessBuilder(agentCmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    ProcessBuilder pb = new ProcessBuilder(app).inheritIO();
    pb.environment().put("JAVA_TOOL_OPTIONS", "-javaagent:" + System.getProperty("floor.javaagent"));
    Process p = pb.start();
    if (agent != null) {
      new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }
    int rc = p.waitFor();
    if (agent != null) {
      agent.getOutputStream().close();
      agent.waitFor();
    }
    System.exit(rc);
  }
}
