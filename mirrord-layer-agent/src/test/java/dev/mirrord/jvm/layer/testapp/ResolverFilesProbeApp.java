package dev.mirrord.jvm.layer.testapp;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileReader;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code ResolverFilesProbeApp API:PATH…}: reads {@code PATH} with one read API and prints {@code
 * API:PATH=<content>} (newlines as {@code \n}), or {@code API:PATH=!<exception>}. The APIs: {@code
 * fis} ({@code FileInputStream}), {@code reader} ({@code FileReader}), {@code raf} ({@code
 * RandomAccessFile "r"}), {@code newInputStream}, {@code newBufferedReader}, {@code readAllLines},
 * {@code lines}, {@code readString}, {@code readAllBytes}, {@code channel} ({@code
 * FileChannel.open}), {@code fisChannel} ({@code FileInputStream.getChannel()}).
 *
 * <p>And the resolvers that read those files themselves, as {@code API=<what they parsed>}:
 * {@code jndi} (the {@code dns:} provider's server list, from {@code java.naming.provider.url}),
 * {@code jdk} ({@code sun.net.dns.ResolverConfiguration}: name servers and search list; needs
 * {@code --add-exports java.base/sun.net.dns=ALL-UNNAMED}), {@code netty} ({@code
 * UnixResolverDnsServerAddressStreamProvider}, search domains, ndots, {@code HostsFileParser}),
 * {@code dnsjava} ({@code ResolverConfig}, {@code HostsFileParser}); the last two need their jars.
 */
public final class ResolverFilesProbeApp {
  private ResolverFilesProbeApp() {}

  public static void main(String[] args) throws Exception {
    System.out.println("mirrord.layer.connected=" + System.getProperty("mirrord.layer.connected"));
    for (String arg : args) {
      String value;
      try {
        value = probe(arg);
      } catch (Throwable t) {
        value = "!" + t;
      }
      System.out.println(arg + "=" + value.replace("\n", "\\n"));
    }
    System.out.println("done=true");
  }

  private static String probe(String arg) throws Exception {
    int colon = arg.indexOf(':');
    String api = colon < 0 ? arg : arg.substring(0, colon);
    String path = colon < 0 ? null : arg.substring(colon + 1);
    switch (api) {
      case "fis":
        try (InputStream in = new FileInputStream(path)) {
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      case "reader":
        try (BufferedReader r = new BufferedReader(new FileReader(path))) {
          return r.lines().map(l -> l + "\n").collect(Collectors.joining());
        }
      case "raf":
        try (RandomAccessFile f = new RandomAccessFile(path, "r")) {
          byte[] b = new byte[(int) f.length()];
          f.readFully(b);
          return new String(b, StandardCharsets.UTF_8);
        }
      case "newInputStream":
        try (InputStream in = Files.newInputStream(Path.of(path))) {
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      case "newBufferedReader":
        try (BufferedReader r = Files.newBufferedReader(Path.of(path))) {
          return r.lines().map(l -> l + "\n").collect(Collectors.joining());
        }
      case "readAllLines":
        return Files.readAllLines(Path.of(path)).stream().map(l -> l + "\n").collect(Collectors.joining());
      case "lines":
        try (Stream<String> lines = Files.lines(Path.of(path))) {
          return lines.map(l -> l + "\n").collect(Collectors.joining());
        }
      case "readString":
        return Files.readString(Path.of(path));
      case "readAllBytes":
        return new String(Files.readAllBytes(Path.of(path)), StandardCharsets.UTF_8);
      case "channel":
        try (FileChannel ch = FileChannel.open(Path.of(path), StandardOpenOption.READ)) {
          return readAll(ch);
        }
      case "fisChannel":
        try (FileInputStream in = new FileInputStream(path)) {
          return readAll(in.getChannel());
        }
      case "jndi":
        return jndi();
      case "jdk":
        return jdk();
      case "netty":
        return netty();
      case "dnsjava":
        return dnsjava();
      default:
        throw new IllegalArgumentException("unknown probe " + api);
    }
  }

  private static String readAll(FileChannel ch) throws Exception {
    ByteBuffer buf = ByteBuffer.allocate((int) ch.size() + 1);
    while (ch.read(buf) > 0) {
      // until EOF
    }
    buf.flip();
    return StandardCharsets.UTF_8.decode(buf).toString();
  }

  /** JNDI's DNS provider with no provider URL: it takes the name servers from resolv.conf. */
  private static String jndi() throws Exception {
    Hashtable<String, String> env = new Hashtable<>();
    env.put(javax.naming.Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
    javax.naming.directory.DirContext ctx = new javax.naming.directory.InitialDirContext(env);
    try {
      return String.valueOf(ctx.getEnvironment().get(javax.naming.Context.PROVIDER_URL));
    } finally {
      ctx.close();
    }
  }

  /** The JDK's own view of resolv.conf (the one JNDI uses), through its internal API. */
  private static String jdk() throws Exception {
    Class<?> c = Class.forName("sun.net.dns.ResolverConfiguration");
    Object conf = c.getMethod("open").invoke(null);
    return "nameservers=" + c.getMethod("nameservers").invoke(conf)
        + " search=" + c.getMethod("searchlist").invoke(conf);
  }

  /**
   * What a {@code DnsNameResolver} built with defaults uses: the platform's name servers, and the
   * search domains and options its class read when it was initialised (package-private fields).
   */
  private static String netty() throws Exception {
    io.netty.resolver.dns.DnsServerAddressStream servers =
        io.netty.resolver.dns.DnsServerAddressStreamProviders.platformDefault().nameServerAddressStream("x");
    List<String> list = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      list.add(servers.next().toString());
    }
    Class<?> resolver = io.netty.resolver.dns.DnsNameResolver.class;
    java.lang.reflect.Field search = resolver.getDeclaredField("DEFAULT_SEARCH_DOMAINS");
    search.setAccessible(true);
    java.lang.reflect.Field options = resolver.getDeclaredField("DEFAULT_OPTIONS");
    options.setAccessible(true);
    Object opts = options.get(null);
    java.lang.reflect.Method ndots = opts.getClass().getDeclaredMethod("ndots");
    ndots.setAccessible(true);
    io.netty.resolver.HostsFileEntries hosts = io.netty.resolver.HostsFileParser.parseSilently();
    return "servers=" + list
        + " search=" + java.util.Arrays.toString((String[]) search.get(null))
        + " ndots=" + ndots.invoke(opts)
        + " pod=" + hosts.inet4Entries().get("pod");
  }

  private static String dnsjava() throws Exception {
    org.xbill.DNS.ResolverConfig conf = new org.xbill.DNS.ResolverConfig();
    org.xbill.DNS.hosts.HostsFileParser hosts = new org.xbill.DNS.hosts.HostsFileParser();
    return "servers=" + conf.servers()
        + " search=" + conf.searchPath()
        + " ndots=" + conf.ndots()
        + " pod=" + hosts.getAddressForHost(org.xbill.DNS.Name.fromString("pod."), org.xbill.DNS.Type.A)
            .map(a -> a.getHostAddress()).orElse("none");
  }
}
