package dev.mirrord.jvm.cli.kube;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;

/**
 * Runs one Kubernetes API call and turns its failures into one line with an exit code. Every call
 * names its verb and resource up front ({@code get pods}), so a 403 says exactly which RBAC rule is
 * missing and how to check it with {@code kubectl auth can-i}.
 */
public final class KubeCalls {
  private final String apiServer;

  public KubeCalls(String apiServer) {
    this.apiServer = apiServer;
  }

  /**
   * {@code call.get()}, with API failures mapped: 403 → NOT_PERMITTED naming verb, resource and
   * namespace; 401 → NOT_PERMITTED (credentials); no connection → CLUSTER_UNREACHABLE; anything
   * else → AGENT_FAILED with the API's message.
   */
  public <T> T call(String verb, String resource, String namespace, Supplier<T> call) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      throw translate(verb, resource, namespace, e);
    }
  }

  /** {@link #call} for calls without a result. */
  public void run(String verb, String resource, String namespace, Runnable call) {
    call(
        verb,
        resource,
        namespace,
        () -> {
          call.run();
          return null;
        });
  }

  MirrordException translate(String verb, String resource, String namespace, KubernetesClientException e) {
    String where = namespace == null ? "" : " in namespace " + namespace;
    if (e.getCode() == 403) {
      return new MirrordException(
          ExitCode.NOT_PERMITTED,
          "the Kubernetes API forbids you to "
              + verb
              + " "
              + resource
              + where
              + "; ask your cluster admin for that RBAC permission (check: kubectl auth can-i "
              + verb
              + " "
              + resource
              + (namespace == null ? "" : " -n " + namespace)
              + ")",
          e);
    }
    if (e.getCode() == 401) {
      return new MirrordException(
          ExitCode.NOT_PERMITTED,
          "the Kubernetes API at " + apiServer + " rejected your credentials (401 Unauthorized); log in again or refresh your kubeconfig",
          e);
    }
    if (isUnreachable(e)) {
      return unreachable(apiServer, e);
    }
    String status =
        e.getStatus() != null && e.getStatus().getMessage() != null
            ? e.getStatus().getMessage()
            : KubeClientFactory.oneLine(e);
    return new MirrordException(
        ExitCode.AGENT_FAILED,
        "the Kubernetes API failed to " + verb + " " + resource + where + " (" + (e.getCode() > 0 ? e.getCode() + ": " : "") + oneLine(status) + "); try again, or check kubectl get " + resource + where.replace(" in namespace ", " -n "),
        e);
  }

  /** The one line for an API server that cannot be reached. */
  static MirrordException unreachable(String apiServer, Throwable e) {
    return new MirrordException(
        ExitCode.CLUSTER_UNREACHABLE,
        "cannot reach the Kubernetes API server at "
            + apiServer
            + " ("
            + rootCause(e)
            + "); check the kubeconfig context (kubectl cluster-info) and your network or VPN",
        e);
  }

  /** No HTTP status: the request never got an answer (refused, unknown host, TLS, timeout). */
  static boolean isUnreachable(KubernetesClientException e) {
    if (e.getCode() > 0) {
      return false;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException
          || t instanceof UnknownHostException
          || t instanceof NoRouteToHostException
          || t instanceof SSLException
          || t instanceof TimeoutException
          || t instanceof java.net.SocketTimeoutException
          || t instanceof IOException) {
        return true;
      }
    }
    return false;
  }

  private static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + oneLine(m));
  }

  private static String oneLine(String s) {
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).strip();
  }
}
