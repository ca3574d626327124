package dev.mirrord.jvm.protocol;

import java.util.Arrays;

/**
 * An immutable run of bytes carried by a message. Equality is by content; {@code toString} shows
 * only the size, never the bytes (they may be a user's request body or a secret).
 */
public final class Payload {
  public static final Payload EMPTY = new Payload(new byte[0]);

  private final byte[] bytes;

  private Payload(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Copies {@code bytes}. */
  public static Payload copyOf(byte[] bytes) {
    return bytes.length == 0 ? EMPTY : new Payload(bytes.clone());
  }

  /** Copies a slice of {@code bytes}. */
  public static Payload copyOf(byte[] bytes, int offset, int length) {
    return length == 0 ? EMPTY : new Payload(Arrays.copyOfRange(bytes, offset, offset + length));
  }

  /** Takes ownership of {@code bytes}: the caller must never change them afterwards. */
  public static Payload wrap(byte[] bytes) {
    return bytes.length == 0 ? EMPTY : new Payload(bytes);
  }

  public int size() {
    return bytes.length;
  }

  /** A copy of the bytes. */
  public byte[] toByteArray() {
    return bytes.clone();
  }

  /** The bytes themselves, for the codec and relays; never modify them. */
  public byte[] unsafeArray() {
    return bytes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Payload p && Arrays.equals(bytes, p.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Payload[" + bytes.length + " bytes]";
  }
}
