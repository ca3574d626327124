package dev.mirrord.jvm.podagent;

/**
 * {@code java -jar mirrord-pod-agent.jar ...}: runs {@link PodAgentCommand} and exits with its
 * code.
 */
public final class PodAgentMain {
  private PodAgentMain() {}

  public static void main(String[] args) {
    dev.mirrord.jvm.protocol.jvm.LogbackProvider.use(LogSetup.StderrConfigurator::new);
    dev.mirrord.jvm.picocli.OptionSpecs.skipReflectiveConverters();
    dev.mirrord.jvm.protocol.relay.NettyDefaults.apply();
    // SLF4J (logback with LogSetup's stderr default) starts here, on this thread: started by two
    // threads at once it prints a "replayed logging calls" warning on stderr, which is the CLI's
    org.slf4j.LoggerFactory.getILoggerFactory();
    // Netty's NetUtil and the handshake's code warm up on the other core while picocli parses the
    // command (PodAgentCommand.model) and the server is set up: none of it waits inside the CLI's
    // handshake
    dev.mirrord.jvm.protocol.codec.CodecWarmUp.startInBackground();
    System.exit(PodAgentCommand.newCommandLine().execute(args));
  }
}
