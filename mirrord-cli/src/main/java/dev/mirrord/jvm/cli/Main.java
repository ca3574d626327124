package dev.mirrord.jvm.cli;

/** Entry point of {@code mirrord-cli.jar}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    dev.mirrord.jvm.protocol.jvm.Slf4jProvider.name(ch.qos.logback.classic.spi.LogbackServiceProvider.class);
    dev.mirrord.jvm.picocli.OptionSpecs.skipReflectiveConverters();
    dev.mirrord.jvm.protocol.relay.NettyDefaults.apply();
    // the first start from a new AOT cache checked it whole: later starts of any command skip that check
    dev.mirrord.jvm.protocol.jvm.AotCache.recordVerified();
    if (args.length > 0 && (args[0].equals("exec") || args[0].equals("session"))) {
      // A session's connections need the codec and Netty's channel classes: warmed up beside picocli, the config
      // and the session's set-up instead of after them. SLF4J starts first, on this thread (started by two threads
      // at once it prints a warning on stderr, which is the app's).
      org.slf4j.LoggerFactory.getILoggerFactory();
      dev.mirrord.jvm.protocol.codec.CodecWarmUp.startInBackground();
    }
    int code = MirrordCommand.newCommandLine(CliEnvironment.system(), args).execute(args);
    System.exit(code);
  }
}
