package dev.mirrord.jvm.layer.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/** Writes session files the way the CLI does (a Properties file). */
public final class SessionFile {
  /** The session's relay address, as a CLI picks one (tests connect from it as the CLI would). */
  public static final String RELAY_ADDRESS = "127.77.0.1";

  /** The source ports of relays to an app listening on ::1 only. */
  public static final int RELAY_PORTS6_FROM = 21000;

  public static final int RELAY_PORTS6_TO = 21099;

  private SessionFile() {}

  /** A complete session file for a CLI on 127.0.0.1:{@code port}, logging to dir/layer.log. */
  public static Properties defaults(Path dir, int port) {
    Properties p = new Properties();
    p.setProperty("proxy.host", "127.0.0.1");
    p.setProperty("proxy.port", Integer.toString(port));
    p.setProperty("token", FakeAgent.TOKEN);
    p.setProperty("log.file", dir.resolve("layer.log").toString());
    p.setProperty("log.level", "info");
    p.setProperty("incoming.mode", "mirror");
    p.setProperty("port.map", "");
    p.setProperty("ignore.ports", "");
    p.setProperty("outgoing.tcp", "true");
    p.setProperty("outgoing.udp", "true");
    p.setProperty("dns.remote", "true");
    p.setProperty("session.id", "sess-1234");
    p.setProperty("incoming.relay.address", RELAY_ADDRESS);
    p.setProperty("incoming.relay.ports6", RELAY_PORTS6_FROM + "-" + RELAY_PORTS6_TO);
    p.setProperty("on.disconnect", "exit");
    return p;
  }

  /** Writes {@link #defaults} with {@code overrides} (a {@code null} value removes the key). */
  public static Path write(Path dir, int port, Map<String, String> overrides) throws IOException {
    Properties p = defaults(dir, port);
    overrides.forEach(
        (k, v) -> {
          if (v == null) {
            p.remove(k);
          } else {
            p.setProperty(k, v);
          }
        });
    Path file = dir.resolve("session.properties");
    try (OutputStream out = Files.newOutputStream(file)) {
      p.store(out, "test session");
    }
    return file;
  }
}
