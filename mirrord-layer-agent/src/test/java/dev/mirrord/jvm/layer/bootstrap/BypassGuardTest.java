package dev.mirrord.jvm.layer.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // scopes are entered for their effect only
class BypassGuardTest {

  @Test
  void isInactiveOutsideAnyScope() {
    assertThat(BypassGuard.active()).isFalse();
  }

  @Test
  void isActiveInsideAScopeAndInactiveAfterIt() {
    try (BypassGuard.Scope g = BypassGuard.enter()) {
      assertThat(BypassGuard.active()).isTrue();
    }
    assertThat(BypassGuard.active()).isFalse();
  }

  @Test
  void scopesNest() {
    try (var outer = BypassGuard.enter()) {
      try (var inner = BypassGuard.enter()) {
        assertThat(BypassGuard.active()).isTrue();
      }
      assertThat(BypassGuard.active()).as("still inside the outer scope").isTrue();
    }
    assertThat(BypassGuard.active()).isFalse();
  }

  @Test
  void isPerThread() throws Exception {
    try (var g = BypassGuard.enter()) {
      boolean otherThread = CompletableFuture.supplyAsync(BypassGuard::active).get();
      assertThat(otherThread).isFalse();
      assertThat(BypassGuard.active()).isTrue();
    }
  }

  @Test
  void anExceptionInsideTheScopeStillLeavesIt() {
    try (var g = BypassGuard.enter()) {
      throw new IllegalStateException("boom");
    } catch (IllegalStateException expected) {
      assertThat(BypassGuard.active()).isFalse();
    }
  }

  @Test
  void anExtraCloseNeverGoesNegative() {
    BypassGuard.Scope g = BypassGuard.enter();
    g.close();
    g.close();
    try (var again = BypassGuard.enter()) {
      assertThat(BypassGuard.active()).isTrue();
    }
    assertThat(BypassGuard.active()).isFalse();
  }
}
