package dev.mirrord.jvm.cli.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How {@code mirrord session} hands a JVM's environment to the tools that start JVMs:
 *
 * <ul>
 *   <li>{@code dotenv}: {@code NAME=value} lines, the format of IntelliJ's EnvFile plugin and of VS
 *       Code's {@code envFile} (the Java debugger reads it with the {@code dotenv} package). Their
 *       parsers agree on a subset only, so a value is written unquoted when it has none of {@code
 *       #'"\} and no white space; else in single quotes (both take them literally) when it has no
 *       {@code '}, no newline and no backslash-n; else in double quotes with {@code \n} for its
 *       newlines when it has no {@code "} and no backslash. A value that fits none of these (or a
 *       name that is not a shell identifier) is left out, and named: use {@code json} or {@code
 *       shell} for it.
 *   <li>{@code shell}: {@code export NAME='value'} lines ({@code '} written as {@code '\''}), for
 *       {@code sh}/{@code bash}/{@code zsh}: {@code eval "$(…)"} or {@code source}.
 *   <li>{@code json}: one object, every value exactly.
 * </ul>
 */
public enum EnvFormat {
  DOTENV,
  SHELL,
  JSON;

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:=,@%+~^-]*");
  private static final ObjectMapper JSON_MAPPER = new ObjectMapper();

  /** The text, and the variables it could not carry ({@code NAME: why}). */
  public record Rendered(String text, List<String> leftOut) {
    public Rendered {
      leftOut = List.copyOf(leftOut);
    }
  }

  /** {@code dotenv|shell|json}, any case; null if unknown. */
  public static EnvFormat parse(String name) {
    for (EnvFormat f : values()) {
      if (f.name().equalsIgnoreCase(name.strip())) {
        return f;
      }
    }
    return null;
  }

  /** The lower-case name, as on the command line. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** {@code env} in this format, preceded (dotenv, shell) by {@code comment} lines. */
  public Rendered render(Map<String, String> env, List<String> comment) {
    if (this == JSON) {
      try {
        return new Rendered(
            JSON_MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(new LinkedHashMap<>(env)) + "\n",
            List.of());
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    StringBuilder text = new StringBuilder();
    for (String line : comment) {
      text.append("# ").append(line.replace('\n', ' ')).append('\n');
    }
    List<String> leftOut = new ArrayList<>();
    env.forEach(
        (name, value) -> {
          if (!NAME.matcher(name).matches()) {
            leftOut.add(name + ": not a variable name shells and IDEs accept");
            return;
          }
          String quoted = this == SHELL ? shellQuote(value) : dotenvQuote(value);
          if (quoted == null) {
            leftOut.add(name + ": its value has quotes and backslashes that dotenv readers disagree on");
            return;
          }
          text.append(this == SHELL ? "export " : "").append(name).append('=').append(quoted).append('\n');
        });
    return new Rendered(text.toString(), leftOut);
  }

  /** The dotenv form of {@code value}, or null if no form reads back the same in both readers. */
  static String dotenvQuote(String value) {
    if (PLAIN.matcher(value).matches()) {
      return value;
    }
    boolean newline = value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0;
    if (!newline && value.indexOf('\'') < 0 && !value.contains("\\n")) {
      return "'" + value + "'";
    }
    if (value.indexOf('"') < 0 && value.indexOf('\\') < 0 && value.indexOf('\r') < 0) {
      return "\"" + value.replace("\n", "\\n") + "\"";
    }
    return null;
  }

  /** {@code 'value'} for POSIX shells. */
  static String shellQuote(String value) {
    return "'" + value.replace("'", "'\\''") + "'";
  }

  /**
   * Writes {@code text} to {@code file} in one step (a private temp file beside it, then a rename):
   * a reader never sees half a file. The file is readable by its owner only.
   */
  public static void writeAtomically(Path file, String text) {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp =
          Files.createTempFile(
              dir,
              "." + target.getFileName(),
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // best effort
        }
      }
      throw new UncheckedIOException(e);
    }
  }
}
