package dev.mirrord.jvm.protocol;

import java.util.function.Function;

/** The outcome of a request to the agent: a value, or a {@link ResponseError}. */
public sealed interface RemoteResult<T> {

  static <T> RemoteResult<T> ok(T value) {
    return new Ok<>(value);
  }

  static <T> RemoteResult<T> err(ResponseError error) {
    return new Err<>(error);
  }

  boolean isOk();

  /** The value; throws {@link IllegalStateException} on an {@link Err}. */
  T value();

  <U> RemoteResult<U> map(Function<? super T, ? extends U> f);

  record Ok<T>(T value) implements RemoteResult<T> {
    public boolean isOk() {
      return true;
    }

    public <U> RemoteResult<U> map(Function<? super T, ? extends U> f) {
      return new Ok<>(f.apply(value));
    }
  }

  record Err<T>(ResponseError error) implements RemoteResult<T> {
    public boolean isOk() {
      return false;
    }

    public T value() {
      throw new IllegalStateException(error.describe());
    }

    public <U> RemoteResult<U> map(Function<? super T, ? extends U> f) {
      return new Err<>(error);
    }
  }
}
