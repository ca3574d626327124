package dev.mirrord.jvm.e2e.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.e2e.apps.RebindApp;
import dev.mirrord.jvm.e2e.lab.ExecResult;
import dev.mirrord.jvm.e2e.lab.LabProcess;
import dev.mirrord.jvm.e2e.lab.NetnsLab;
import dev.mirrord.jvm.e2e.lab.NetnsLabExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An app that restarts in-process under steal, as Spring Boot devtools and Quarkus live reload do ({@link RebindApp}: a
 * new class loader, the server socket closed and bound again on the same port within milliseconds): after every
 * restart the target's traffic reaches the new generation again; during the restart's gap the port is handed back, so
 * the pod answers and no request fails.
 */
@ExtendWith(NetnsLabExtension.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RebindE2EIT {
  static final int RESTARTS = 6;

  @Test
  void stealKeepsServingTheAppAcrossInProcessRestarts(NetnsLab netnsLab) {
    IncomingLab lab = new IncomingLab(netnsLab);
    String ns = lab.devNamespace("local");
    List<String> gapAnswers = new ArrayList<>();

    try (MirrordSession s = lab.mirrord(ns, List.of("--steal"), IncomingLab.java(RebindApp.class, "8080", "150"))) {
      s.awaitApp("^" + RebindApp.READY_PREFIX + "1 ", IncomingLab.START);
      assertThat(lab.curlPod(8080, "/gen1", Duration.ofSeconds(10))).isEqualTo("hello from rebind gen=1: GET /gen1\n");

      for (int gen = 2; gen <= RESTARTS + 1; gen++) {
        restartLocally(netnsLab, ns);
        s.process().awaitStdout("(?m)^" + RebindApp.READY_PREFIX + gen + " ", IncomingLab.START);
        String expected = "hello from rebind gen=" + gen + ": GET /gen" + gen + "\n";
        int g = gen;
        Awaitility.await("generation " + gen + " stolen again")
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(200))
            .untilAsserted(() -> {
              String answer = lab.curlPod(8080, "/gen" + g, Duration.ofSeconds(5));
              if (!answer.equals(expected)) {
                gapAnswers.add(answer);
              }
              assertThat(answer).isEqualTo(expected);
            });
      }
      assertThat(gapAnswers)
          .as("answers while a restart was under way: the pod's, never a failure")
          .allSatisfy(a -> assertThat(a).startsWith("hello from pod: GET /gen"));
      assertThat(lab.mirrordRules()).as("one stealer's rules while stealing").isNotEmpty();

      s.signalCli("INT");
      assertThat(s.process().waitFor(Duration.ofSeconds(15))).as("mirrord's exit code after SIGINT").isEqualTo(130);
      assertThat(lab.curlPod(8080, "/after", Duration.ofSeconds(10))).isEqualTo("hello from pod: GET /after\n");
      assertThat(lab.mirrordRules()).isEmpty();
      assertThat(s.liveProcesses()).isEmpty();
    }
  }

  /** {@code curl 127.0.0.1:8080/restart} from the app's own namespace: the app restarts after answering. */
  private static void restartLocally(NetnsLab lab, String ns) {
    try (LabProcess curl = lab.exec(ns, Map.of(), List.of("curl", "-sS", "--max-time", "10", "http://127.0.0.1:8080/restart"))) {
      int exit = curl.waitFor(Duration.ofSeconds(20));
      ExecResult r = new ExecResult(exit, curl.stdout(), curl.stderr());
      assertThat(r.stdout()).as("%s", r).startsWith("hello from rebind gen=");
    }
  }
}
