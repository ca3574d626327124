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
    exit(PodAgentCommand.newCommandLine().execute(args));
  }

  /**
   * Ends the JVM with {@code code} as {@code System.exit} would, without its log record: {@code Runtime.exit} asks for
   * a {@code System.Logger}, and the JDK finds its logging backend with a {@code ServiceLoader} over the class path
   * (the one lookup of the agent's run that opens this jar and reads its central directory) and starts
   * {@code java.util.logging} for it: ~20 ms of the session's tear-down, which the CLI waits for (docs/PERFORMANCE.md,
   * "logback without its ServiceLoader"). The shutdown hooks have nothing left to do once {@link PodAgentCommand}
   * returns: its clean-ups ran in its {@code finally}, and a re-exec into a namespace ({@code NetnsReexec}) removed its
   * own hook after its child's exit. A signal still ends the agent through the hooks: when one started the JVM's
   * shutdown (the command returned because its hook asked it to), this is {@code System.exit}, which waits for that
   * shutdown, its hooks and its exit code (143 for SIGTERM). An AOT training run first waits for its warm-ups
   * ({@link dev.mirrord.jvm.protocol.jvm.WarmUps}).
   */
  static void exit(int code) {
    // a training run records what it loaded and linked by its exit: the warm-ups' classes too
    dev.mirrord.jvm.protocol.jvm.WarmUps.awaitIfRecording(10_000);
    System.out.flush();
    System.err.flush();
    if (dev.mirrord.jvm.protocol.jvm.JvmShutdown.begun()) {
      System.exit(code);
    }
    Runtime.getRuntime().halt(code);
  }
}
