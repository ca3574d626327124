package dev.mirrord.jvm.podagent;

/**
 * {@code java -jar mirrord-pod-agent.jar ...}: runs {@link PodAgentCommand} and exits with its
 * code.
 */
public final class PodAgentMain {
  private PodAgentMain() {}

  public static void main(String[] args) {
    dev.mirrord.jvm.protocol.relay.NettyDefaults.apply();
    System.exit(PodAgentCommand.newCommandLine().execute(args));
  }
}
