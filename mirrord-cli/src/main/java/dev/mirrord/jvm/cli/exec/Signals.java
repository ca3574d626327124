package dev.mirrord.jvm.cli.exec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT/SIGTERM handlers for the time a command waits ({@code exec} forwards them to the app,
 * {@code session} ends on them), restored afterwards.
 */
final class Signals implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Signals.class);

  /** The signals mirrord handles while it waits. */
  static final List<String> HANDLED = List.of("INT", "TERM");

  private final List<String> delivered;
  private final List<Runnable> restore;

  private Signals(List<String> delivered, List<Runnable> restore) {
    this.delivered = delivered;
    this.restore = restore;
  }

  /**
   * Calls {@code handler} with the signal's name ({@code INT}, {@code TERM}) on each of {@link
   * #HANDLED} until {@link #close()}.
   */
  static Signals handle(Consumer<String> handler) {
    List<String> delivered = new ArrayList<>();
    List<Runnable> restore = new ArrayList<>();
    for (String sig : HANDLED) {
      try {
        Signal signal = new Signal(sig);
        SignalHandler previous = Signal.handle(signal, s -> handler.accept(s.getName()));
        if (!ignoredByThisProcess(signal.getNumber())) {
          delivered.add(sig);
        }
        restore.add(() -> Signal.handle(signal, previous));
      } catch (IllegalArgumentException e) {
        logger.debug("cannot handle SIG{}: {}", sig, e.getMessage());
      }
    }
    return new Signals(List.copyOf(delivered), restore);
  }

  /**
   * The handled signals this process can receive at all (a JVM started in a background job
   * inherits SIGINT as ignored and then never sees it).
   */
  List<String> delivered() {
    return delivered;
  }

  @Override
  public void close() {
    restore.forEach(Runnable::run);
  }

  /**
   * Whether the kernel ignores {@code signo} for this process ({@code SigIgn} in {@code
   * /proc/self/status}).
   */
  static boolean ignoredByThisProcess(int signo) {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          long mask = Long.parseUnsignedLong(line.substring(7).strip(), 16);
          return (mask & (1L << (signo - 1))) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("cannot read SigIgn: {}", e.toString());
    }
    return false;
  }
}
