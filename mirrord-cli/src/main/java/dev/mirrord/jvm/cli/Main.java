package dev.mirrord.jvm.cli;

/** Entry point of {@code mirrord-cli.jar}. */
public final class Main {
  /** The service file of the JDK's logger finder: what the JDK looks up first, and the jar does not have. */
  static final String JAR_LOOKUP = "META-INF/services/java.lang.System$LoggerFinder";

  private Main() {}

  public static void main(String[] args) {
    dev.mirrord.jvm.protocol.jvm.LogbackProvider.use(LogSetup.SilentConfigurator::new);
    dev.mirrord.jvm.picocli.OptionSpecs.skipReflectiveConverters();
    dev.mirrord.jvm.protocol.relay.NettyDefaults.apply();
    // the first start from a new AOT cache checked it whole: later starts of any command skip that check
    dev.mirrord.jvm.protocol.jvm.AotCache.recordVerified();
    if (args.length > 0 && (args[0].equals("exec") || args[0].equals("session") || args[0].equals("aot-train"))) {
      // A session's connections need the codec and Netty's channel classes: warmed up beside picocli, the config
      // and the session's set-up instead of after them. SLF4J starts first, on this thread (started by two threads
      // at once it prints a warning on stderr, which is the app's). The training session (aot-train) does it too, so
      // that the AOT cache holds this code.
      org.slf4j.LoggerFactory.getILoggerFactory();
      dev.mirrord.jvm.protocol.codec.CodecWarmUp.startInBackground();
      // The first ProcessBuilder.start (the agent's, or the command's) asks for a System.Logger, and the JDK finds
      // its logging backend with a ServiceLoader over the class path: the one lookup of the start that opens this
      // 15 700-entry jar and reads its central directory (~30 ms). The jar is opened here, beside picocli and the
      // config, by the lookup of a resource it does not have (not System.getLogger: for this class's module that
      // would also start java.util.logging, which ProcessBuilder's logger does not need).
      dev.mirrord.jvm.protocol.jvm.WarmUps.start("mirrord-jar-open", () -> ClassLoader.getSystemResource(JAR_LOOKUP));
    }
    int code = MirrordCommand.newCommandLine(CliEnvironment.system(), args).execute(args);
    // bin/mirrord's training run records what it loaded and linked by its exit: the warm-ups' classes too
    dev.mirrord.jvm.protocol.jvm.WarmUps.awaitIfRecording(10_000);
    System.exit(code);
  }
}
