package dev.mirrord.jvm.layer.dns;

import dev.mirrord.jvm.protocol.RemoteResult;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** A working in-memory target resolver: a table of answers; records every question. */
final class FakeRemoteResolver implements RemoteResolver {
  final Map<String, RemoteResult<List<String>>> answers = new HashMap<>();
  final List<String> asked = new CopyOnWriteArrayList<>();
  boolean available = true;
  IOException failure;

  FakeRemoteResolver answer(String host, RemoteResult<List<String>> result) {
    answers.put(host, result);
    return this;
  }

  @Override
  public boolean available() {
    return available;
  }

  @Override
  public RemoteResult<List<String>> lookup(String host, int family) throws IOException {
    asked.add(host + "/" + family);
    if (failure != null) {
      throw failure;
    }
    RemoteResult<List<String>> r = answers.get(host);
    return r != null
        ? r
        : RemoteResult.err(new dev.mirrord.jvm.protocol.ResponseError.NotFound(host));
  }
}
