package dev.mirrord.jvm.e2e.apps;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.SynchronousQueue;

/**
 * {@code RebindApp PORT [MAX_SECONDS]}: an app that restarts itself in-process the way Spring Boot devtools (or Quarkus
 * live reload) does: each generation's HTTP server is a class loaded afresh by a new child-first class loader; a
 * request to {@code /restart} makes the app stop that server (its listening socket closes) and start the next
 * generation's on the same port right away. Answers {@code hello from rebind gen=N: METHOD PATH}; prints {@link
 * #READY_PREFIX}{@code N} each time a generation listens; exits after MAX_SECONDS (default 300).
 */
public final class RebindApp {
  public static final String READY_PREFIX = "rebind.listening gen=";

  private RebindApp() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    long maxSeconds = args.length > 1 ? Long.parseLong(args[1]) : 300;
    Thread exit = new Thread(() -> {
      try {
        Thread.sleep(maxSeconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      System.exit(3);
    }, "rebind-max-time");
    exit.setDaemon(true);
    exit.start();

    URL code = RebindApp.class.getProtectionDomain().getCodeSource().getLocation();
    SynchronousQueue<String> restarts = new SynchronousQueue<>();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    for (int gen = 1; ; gen++) {
      // a new loader per generation, as devtools' RestartClassLoader: the server class is loaded again
      ChildFirstLoader loader = new ChildFirstLoader(new URL[] {code}, RebindApp.class.getClassLoader());
      Class<?> server = loader.loadClass(Server.class.getName());
      AutoCloseable running =
          (AutoCloseable) server.getMethod("start", int.class, int.class, Runnable.class)
              .invoke(null, port, gen, (Runnable) () -> restarts.offer("restart"));
      out.println(READY_PREFIX + gen + " loader=" + Integer.toHexString(System.identityHashCode(server.getClassLoader())));
      restarts.take();
      running.close();
      loader.close();
    }
  }

  /** Loads {@link Server} itself instead of asking its parent: a fresh copy per generation. */
  static final class ChildFirstLoader extends URLClassLoader {
    ChildFirstLoader(URL[] urls, ClassLoader parent) {
      super(urls, parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith(Server.class.getName())) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        return c != null ? c : findClass(name);
      }
    }
  }

  /** One generation's server; uses JDK types only, so that it can live in its own class loader. */
  public static final class Server {
    private Server() {}

    public static AutoCloseable start(int port, int gen, Runnable restart) throws IOException {
      com.sun.net.httpserver.HttpServer http =
          com.sun.net.httpserver.HttpServer.create(new InetSocketAddress(port), 50);
      http.createContext("/", exchange -> {
        String path = exchange.getRequestURI().getPath();
        byte[] body = ("hello from rebind gen=" + gen + ": " + exchange.getRequestMethod() + " " + path + "\n")
            .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Connection", "close");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream os = exchange.getResponseBody()) {
          os.write(body);
        }
        if (path.equals("/restart")) {
          restart.run();
        }
      });
      http.setExecutor(null);
      http.start();
      return () -> http.stop(0);
    }
  }
}
