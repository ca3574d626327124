package dev.mirrord.jvm.cli;

/** Entry point of {@code mirrord-cli.jar}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    dev.mirrord.jvm.protocol.relay.NettyDefaults.apply();
    int code = MirrordCommand.newCommandLine(CliEnvironment.system()).execute(args);
    System.exit(code);
  }
}
