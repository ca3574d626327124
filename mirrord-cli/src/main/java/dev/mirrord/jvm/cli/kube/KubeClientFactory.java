package dev.mirrord.jvm.cli.kube;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the Kubernetes client the way kubectl finds its cluster: a file of {@code KUBECONFIG} (a
 * {@code :}-separated list; the first that defines {@code --context}, else the first existing
 * one; files are not merged), else {@code ~/.kube/config}, else the in-cluster
 * service account (when {@code KUBERNETES_SERVICE_HOST} is set). {@code --context} picks a context
 * of that file; {@code -n} wins over the context's namespace, which wins over {@code default}.
 *
 * <p>The environment is injected (never {@code System.getenv}), so tests point {@code KUBECONFIG}
 * at a file naming the mock API server. Requests fail fast (5 s connect, 20 s request, no retries)
 * so an unreachable API server is one line within seconds, not a minute of back-off.
 */
public final class KubeClientFactory {
  private static final Logger logger = LoggerFactory.getLogger(KubeClientFactory.class);

  static final int CONNECT_TIMEOUT_MILLIS = 5_000;
  static final int REQUEST_TIMEOUT_MILLIS = 20_000;

  private KubeClientFactory() {}

  /** A client, the namespace the user meant, and where the configuration came from (for logs). */
  public record Connection(KubernetesClient client, String namespace, String source)
      implements AutoCloseable {
    public Connection {
      Objects.requireNonNull(client, "client");
      Objects.requireNonNull(namespace, "namespace");
    }

    /** The API server's URL, for error lines. */
    public String apiServer() {
      return client.getConfiguration().getMasterUrl();
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /**
   * @param env the process environment ({@code KUBECONFIG}, {@code HOME}, {@code
   *     KUBERNETES_SERVICE_HOST})
   * @param context {@code --context}, or null for the kubeconfig's current context
   * @param namespace {@code -n}, or null
   * @throws MirrordException CONFIG when no configuration exists or the context is unknown
   */
  public static Connection connect(Map<String, String> env, String context, String namespace) {
    return connect(env, context, namespace, false);
  }

  /**
   * As {@link #connect(Map, String, String)}; with {@code acceptInvalidCertificates} ({@code -c})
   * fabric8 trusts whatever certificate the API server presents and skips the host name check.
   */
  public static Connection connect(
      Map<String, String> env, String context, String namespace, boolean acceptInvalidCertificates) {
    Config config;
    String source;
    File kubeconfig = kubeconfigFile(env, context);
    if (kubeconfig != null) {
      source = kubeconfig.getPath();
      try {
        config = Config.fromKubeconfig(context, kubeconfig);
      } catch (RuntimeException e) {
        throw new MirrordException(
            ExitCode.CONFIG,
            "cannot use the kubeconfig " + source + " (" + oneLine(e) + "); fix the file or point KUBECONFIG at another",
            e);
      }
      checkContext(config, context, source);
    } else if (!blank(env.get("KUBERNETES_SERVICE_HOST"))) {
      source = "in-cluster service account";
      if (context != null) {
        throw new MirrordException(
            ExitCode.CONFIG,
            "--context " + context + " needs a kubeconfig, but none was found (running in-cluster); drop --context or set KUBECONFIG");
      }
      config = Config.autoConfigure(null);
    } else {
      throw new MirrordException(
          ExitCode.CONFIG,
          "no Kubernetes configuration: KUBECONFIG is not set, "
              + homeConfig(env)
              + " does not exist and this is not a pod; point KUBECONFIG at your cluster's kubeconfig (kubectl config view)");
    }
    config.setConnectionTimeout(CONNECT_TIMEOUT_MILLIS);
    config.setRequestTimeout(REQUEST_TIMEOUT_MILLIS);
    config.setRequestRetryBackoffLimit(0);
    if (acceptInvalidCertificates) {
      config.setTrustCerts(true);
      config.setDisableHostnameVerification(true);
    }
    String ns = namespace != null ? namespace : blank(config.getNamespace()) ? "default" : config.getNamespace();
    config.setNamespace(ns);
    logger.info(
        "Kubernetes API {} from {}, namespace {}{}",
        config.getMasterUrl(),
        source,
        ns,
        acceptInvalidCertificates ? ", certificate not checked (-c)" : "");
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    return new Connection(client, ns, source);
  }

  /**
   * The kubeconfig file to use: of the existing files in KUBECONFIG, the first that defines {@code
   * context} (or simply the first, without a context; kubectl would merge them, this picks one);
   * else ~/.kube/config if it exists; else null.
   */
  static File kubeconfigFile(Map<String, String> env, String context) {
    String list = env.get("KUBECONFIG");
    if (!blank(list)) {
      List<File> files = new ArrayList<>();
      for (String entry : list.split(File.pathSeparator)) {
        if (!entry.isBlank() && Files.isRegularFile(Path.of(entry.strip()))) {
          files.add(new File(entry.strip()));
        }
      }
      if (files.isEmpty()) {
        throw new MirrordException(
            ExitCode.CONFIG,
            "KUBECONFIG=" + list + " names no existing file; fix or unset it");
      }
      if (context != null) {
        for (File f : files) {
          if (definesContext(f, context)) {
            return f;
          }
        }
      }
      return files.get(0);
    }
    Path home = homeConfig(env);
    return home != null && Files.isRegularFile(home) ? home.toFile() : null;
  }

  private static boolean definesContext(File file, String context) {
    try {
      Config c = Config.fromKubeconfig(null, file);
      return c.getContexts() != null && c.getContexts().stream().anyMatch(n -> context.equals(n.getName()));
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static Path homeConfig(Map<String, String> env) {
    String home = env.get("HOME");
    return blank(home) ? Path.of("~/.kube/config") : Path.of(home, ".kube", "config");
  }

  private static void checkContext(Config config, String context, String source) {
    if (context == null) {
      if (config.getCurrentContext() == null && blank(config.getMasterUrl())) {
        throw new MirrordException(
            ExitCode.CONFIG,
            source + " has no current context; pass --context NAME or run kubectl config use-context");
      }
      return;
    }
    NamedContext current = config.getCurrentContext();
    if (current == null || !context.equals(current.getName())) {
      String known =
          config.getContexts() == null
              ? ""
              : config.getContexts().stream().map(NamedContext::getName).sorted().collect(Collectors.joining(", "));
      throw new MirrordException(
          ExitCode.CONFIG,
          "context '" + context + "' is not in " + source + " (contexts: " + (known.isEmpty() ? "none" : known) + "); fix --context");
    }
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return (nl < 0 ? m : m.substring(0, nl)).strip();
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
