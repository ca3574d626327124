package dev.mirrord.jvm.podagent;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * Where the agent listens: {@code unix:/path/agent.sock} or {@code tcp:HOST:PORT} ({@code HOST} may
 * be a bracketed IPv6 literal, {@code PORT} 0 picks a free port). {@link #toString()} gives the
 * same syntax back; it is what the {@code MIRRORD_AGENT_READY} line carries.
 */
public sealed interface ListenAddress {

  SocketAddress socketAddress();

  /** A unix domain socket at an absolute path. */
  record Unix(Path path) implements ListenAddress {
    public Unix {
      if (!path.isAbsolute()) {
        throw new IllegalArgumentException("unix socket path must be absolute: " + path);
      }
    }

    @Override
    public SocketAddress socketAddress() {
      return UnixDomainSocketAddress.of(path);
    }

    @Override
    public String toString() {
      return "unix:" + path;
    }
  }

  /** A TCP listener; {@code host} is a literal address or a name resolved at bind time. */
  record Tcp(String host, int port) implements ListenAddress {
    public Tcp {
      if (host.isEmpty()) {
        throw new IllegalArgumentException("empty host");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
    }

    @Override
    public SocketAddress socketAddress() {
      return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
      return "tcp:" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** Parses {@code unix:/path} or {@code tcp:HOST:PORT}; throws IllegalArgumentException. */
  static ListenAddress parse(String text) {
    if (text.startsWith("unix:")) {
      String path = text.substring("unix:".length());
      if (path.isEmpty()) {
        throw new IllegalArgumentException("missing path in '" + text + "'");
      }
      return new Unix(Path.of(path));
    }
    if (text.startsWith("tcp:")) {
      String hostPort = text.substring("tcp:".length());
      int colon = hostPort.lastIndexOf(':');
      if (colon <= 0 || colon == hostPort.length() - 1) {
        throw new IllegalArgumentException("expected tcp:HOST:PORT, got '" + text + "'");
      }
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(hostPort.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad port in '" + text + "'");
      }
      return new Tcp(host, port);
    }
    throw new IllegalArgumentException("expected unix:/path or tcp:HOST:PORT, got '" + text + "'");
  }

  /** picocli converter: a bad value is a usage error (exit 2). */
  final class Converter implements CommandLine.ITypeConverter<ListenAddress> {
    @Override
    public ListenAddress convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
