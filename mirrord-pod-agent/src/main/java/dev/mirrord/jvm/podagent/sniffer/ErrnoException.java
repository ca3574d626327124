package dev.mirrord.jvm.podagent.sniffer;

import java.io.IOException;

/** A failed libc call, with its {@code errno} kept so it can cross the wire as {@code RemoteIo}. */
public final class ErrnoException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int errno;

  public ErrnoException(String call, int errno, String description) {
    super(call + " failed: " + description + " (errno " + errno + ")");
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }
}
