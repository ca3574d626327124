package sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** An integration test that calls a service of the cluster by its name, in Failsafe's forked JVM. */
class SvcIT {
  @Test
  void theClustersSvcAnswersByItsName() throws Exception {
    String body = SvcClient.get("http://svc:8080/failsafe");
    System.out.println("sample.it.http=" + body + " layer=" + System.getProperty("mirrord.layer.connected"));
    assertEquals("true", System.getProperty("mirrord.layer.connected"), "the mirrord layer in the fork");
    assertTrue(body.startsWith("hello from svc"), body);
  }
}
