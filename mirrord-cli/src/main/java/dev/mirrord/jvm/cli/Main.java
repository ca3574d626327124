package dev.mirrord.jvm.cli;

/** Entry point of {@code mirrord-cli.jar}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    dev.mirrord.jvm.picocli.OptionSpecs.skipReflectiveConverters();
    dev.mirrord.jvm.protocol.relay.NettyDefaults.apply();
    // the first start from a new AOT cache checked it whole: later starts of any command skip that check
    dev.mirrord.jvm.protocol.jvm.AotCache.recordVerified();
    int code = MirrordCommand.newCommandLine(CliEnvironment.system(), args).execute(args);
    System.exit(code);
  }
}
