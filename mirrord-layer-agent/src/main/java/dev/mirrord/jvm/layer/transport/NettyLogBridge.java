package dev.mirrord.jvm.layer.transport;

import dev.mirrord.jvm.layer.internal.LayerLog;
import io.netty.util.internal.logging.AbstractInternalLogger;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * Routes the (relocated) Netty's internal logging into the {@link LayerLog}. Installed before any
 * other Netty class loads: otherwise Netty would pick the app's SLF4J/Log4j/JUL from the system
 * class path and initialize the app's logging from inside the layer. Trace is dropped; Netty's
 * debug chatter appears only with {@code log.level=debug}.
 */
final class NettyLogBridge extends InternalLoggerFactory {
  private static final Object[] NO_ARGS = new Object[0];

  private final LayerLog log;

  private NettyLogBridge(LayerLog log) {
    this.log = log;
  }

  /** Makes {@code log} the destination of every Netty logger created from now on. */
  static void install(LayerLog log) {
    InternalLoggerFactory.setDefaultFactory(new NettyLogBridge(log));
  }

  @Override
  protected InternalLogger newInstance(String name) {
    return new Logger(name);
  }

  /** Substitutes {@code {}} placeholders in order; a trailing unused Throwable is the cause. */
  static String format(String format, Object[] args) {
    if (format == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(format.length() + 32);
    int from = 0;
    int argIndex = 0;
    while (argIndex < args.length) {
      int at = format.indexOf("{}", from);
      if (at < 0) {
        break;
      }
      sb.append(format, from, at).append(args[argIndex++]);
      from = at + 2;
    }
    sb.append(format, from, format.length());
    return sb.toString();
  }

  private final class Logger extends AbstractInternalLogger {
    private static final long serialVersionUID = 1L;

    Logger(String name) {
      super(name);
    }

    private void emit(LayerLog.Level level, boolean enabled, String format, Object[] args) {
      if (!enabled) {
        return;
      }
      Throwable cause = null;
      Object[] used = args;
      if (args.length > 0 && args[args.length - 1] instanceof Throwable) {
        int placeholders = 0;
        for (int i = format == null ? -1 : format.indexOf("{}");
            i >= 0;
            i = format.indexOf("{}", i + 2)) {
          placeholders++;
        }
        if (placeholders < args.length) {
          cause = (Throwable) args[args.length - 1];
          used = java.util.Arrays.copyOf(args, args.length - 1);
        }
      }
      String shortName = name().substring(name().lastIndexOf('.') + 1);
      log.log(level, "netty " + shortName + ": " + format(format, used), cause);
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public void trace(String msg) {
      emit(LayerLog.Level.DEBUG, false, msg, NO_ARGS);
    }

    @Override
    public void trace(String format, Object arg) {
      emit(LayerLog.Level.DEBUG, false, format, new Object[] {arg});
    }

    @Override
    public void trace(String format, Object argA, Object argB) {
      emit(LayerLog.Level.DEBUG, false, format, new Object[] {argA, argB});
    }

    @Override
    public void trace(String format, Object... arguments) {
      emit(LayerLog.Level.DEBUG, false, format, arguments);
    }

    @Override
    public void trace(String msg, Throwable t) {
      emit(LayerLog.Level.DEBUG, false, msg, new Object[] {t});
    }

    @Override
    public boolean isDebugEnabled() {
      return log.isEnabled(LayerLog.Level.DEBUG);
    }

    @Override
    public void debug(String msg) {
      emit(LayerLog.Level.DEBUG, log.isEnabled(LayerLog.Level.DEBUG), msg, NO_ARGS);
    }

    @Override
    public void debug(String format, Object arg) {
      emit(LayerLog.Level.DEBUG, log.isEnabled(LayerLog.Level.DEBUG), format, new Object[] {arg});
    }

    @Override
    public void debug(String format, Object argA, Object argB) {
      emit(LayerLog.Level.DEBUG, log.isEnabled(LayerLog.Level.DEBUG), format, new Object[] {argA, argB});
    }

    @Override
    public void debug(String format, Object... arguments) {
      emit(LayerLog.Level.DEBUG, log.isEnabled(LayerLog.Level.DEBUG), format, arguments);
    }

    @Override
    public void debug(String msg, Throwable t) {
      emit(LayerLog.Level.DEBUG, log.isEnabled(LayerLog.Level.DEBUG), msg, new Object[] {t});
    }

    @Override
    public boolean isInfoEnabled() {
      return log.isEnabled(LayerLog.Level.INFO);
    }

    @Override
    public void info(String msg) {
      emit(LayerLog.Level.INFO, log.isEnabled(LayerLog.Level.INFO), msg, NO_ARGS);
    }

    @Override
    public void info(String format, Object arg) {
      emit(LayerLog.Level.INFO, log.isEnabled(LayerLog.Level.INFO), format, new Object[] {arg});
    }

    @Override
    public void info(String format, Object argA, Object argB) {
      emit(LayerLog.Level.INFO, log.isEnabled(LayerLog.Level.INFO), format, new Object[] {argA, argB});
    }

    @Override
    public void info(String format, Object... arguments) {
      emit(LayerLog.Level.INFO, log.isEnabled(LayerLog.Level.INFO), format, arguments);
    }

    @Override
    public void info(String msg, Throwable t) {
      emit(LayerLog.Level.INFO, log.isEnabled(LayerLog.Level.INFO), msg, new Object[] {t});
    }

    @Override
    public boolean isWarnEnabled() {
      return log.isEnabled(LayerLog.Level.WARN);
    }

    @Override
    public void warn(String msg) {
      emit(LayerLog.Level.WARN, log.isEnabled(LayerLog.Level.WARN), msg, NO_ARGS);
    }

    @Override
    public void warn(String format, Object arg) {
      emit(LayerLog.Level.WARN, log.isEnabled(LayerLog.Level.WARN), format, new Object[] {arg});
    }

    @Override
    public void warn(String format, Object argA, Object argB) {
      emit(LayerLog.Level.WARN, log.isEnabled(LayerLog.Level.WARN), format, new Object[] {argA, argB});
    }

    @Override
    public void warn(String format, Object... arguments) {
      emit(LayerLog.Level.WARN, log.isEnabled(LayerLog.Level.WARN), format, arguments);
    }

    @Override
    public void warn(String msg, Throwable t) {
      emit(LayerLog.Level.WARN, log.isEnabled(LayerLog.Level.WARN), msg, new Object[] {t});
    }

    @Override
    public boolean isErrorEnabled() {
      return log.isEnabled(LayerLog.Level.ERROR);
    }

    @Override
    public void error(String msg) {
      emit(LayerLog.Level.ERROR, log.isEnabled(LayerLog.Level.ERROR), msg, NO_ARGS);
    }

    @Override
    public void error(String format, Object arg) {
      emit(LayerLog.Level.ERROR, log.isEnabled(LayerLog.Level.ERROR), format, new Object[] {arg});
    }

    @Override
    public void error(String format, Object argA, Object argB) {
      emit(LayerLog.Level.ERROR, log.isEnabled(LayerLog.Level.ERROR), format, new Object[] {argA, argB});
    }

    @Override
    public void error(String format, Object... arguments) {
      emit(LayerLog.Level.ERROR, log.isEnabled(LayerLog.Level.ERROR), format, arguments);
    }

    @Override
    public void error(String msg, Throwable t) {
      emit(LayerLog.Level.ERROR, log.isEnabled(LayerLog.Level.ERROR), msg, new Object[] {t});
    }
  }
}
