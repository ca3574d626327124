package dev.mirrord.jvm.layer.bootstrap;

/**
 * A per-thread re-entrancy guard: while a thread is inside {@link #enter()}, every hook lets the JDK
 * do its own thing. The layer's transport, its event-loop threads and the hooks' own bodies run
 * inside it, so the layer never intercepts itself.
 *
 * <pre>{@code
 * try (BypassGuard.Scope g = BypassGuard.enter()) {
 *   // sockets opened here are never hooked
 * }
 * }</pre>
 *
 * <p>Scopes nest. Threads that never enter pay one {@link ThreadLocal#get()} per hooked call and
 * get no thread-local entry.
 */
public final class BypassGuard {
  /** Nesting depth of the current thread, or {@code null} if it never entered. */
  private static final ThreadLocal<int[]> DEPTH = new ThreadLocal<int[]>();

  private static final Scope SCOPE = new Scope();

  private BypassGuard() {}

  /** Enters the guard on this thread; close the returned scope exactly once (try-with-resources). */
  public static Scope enter() {
    int[] depth = DEPTH.get();
    if (depth == null) {
      depth = new int[1];
      DEPTH.set(depth);
    }
    depth[0]++;
    return SCOPE;
  }

  /** Whether the current thread is inside the guard: hooks must then do nothing. */
  public static boolean active() {
    int[] depth = DEPTH.get();
    return depth != null && depth[0] > 0;
  }

  /** Leaves one level of the guard on close. Shared by all threads; holds no state itself. */
  public static final class Scope implements AutoCloseable {
    private Scope() {}

    @Override
    public void close() {
      int[] depth = DEPTH.get();
      if (depth != null && depth[0] > 0) {
        depth[0]--;
      }
    }
  }
}
