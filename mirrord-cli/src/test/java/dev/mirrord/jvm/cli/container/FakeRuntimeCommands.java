package dev.mirrord.jvm.cli.container;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scripted podman/docker CLI: answers by the command's words after the executable, records every
 * command. Unknown commands fail like the real ones for an unknown container.
 */
final class FakeRuntimeCommands implements Commands {
  final List<List<String>> calls = new ArrayList<>();
  private final Map<String, Result> answers = new LinkedHashMap<>();

  /** {@code exe} and the words after it, e.g. {@code on("/usr/bin/podman", "container inspect web", ok(json))}. */
  FakeRuntimeCommands on(String exe, String args, Result result) {
    answers.put(exe + " " + args, result);
    return this;
  }

  static Result ok(String stdout) {
    return new Result(0, stdout, "");
  }

  static Result fail(int code, String stderr) {
    return new Result(code, "", stderr);
  }

  static String recorded(String name) {
    try (InputStream in = FakeRuntimeCommands.class.getResourceAsStream("/container/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public Result run(List<String> command, Duration timeout) {
    calls.add(List.copyOf(command));
    Result r = answers.get(String.join(" ", command));
    if (r != null) {
      return r;
    }
    return fail(125, "time=\"2026-12-04T05:24:50Z\" level=warning msg=\"Error validating CNI config file\"\nError: inspecting object: no such container " + command.get(command.size() - 1));
  }
}
