package dev.mirrord.jvm.cli.exec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three formats of {@code mirrord session}'s environment: dotenv in the subset IntelliJ's
 * EnvFile plugin and VS Code's {@code dotenv} reader agree on, shell quoting that {@code sh} reads
 * back exactly, and JSON.
 */
class EnvFormatTest {

  @TempDir Path tmp;

  @Test
  void dotenvQuotesOnlyWhatNeedsQuoting() {
    assertThat(EnvFormat.dotenvQuote("-javaagent:/opt/m/layer.jar=/tmp/mirrord-ab/session.properties"))
        .isEqualTo("-javaagent:/opt/m/layer.jar=/tmp/mirrord-ab/session.properties");
    assertThat(EnvFormat.dotenvQuote("")).isEqualTo("");
    assertThat(EnvFormat.dotenvQuote("postgres://user@db:5432/app?x=1"))
        .isEqualTo("'postgres://user@db:5432/app?x=1'");
    assertThat(EnvFormat.dotenvQuote("-Xmx1g -javaagent:/a.jar=/b")).isEqualTo("'-Xmx1g -javaagent:/a.jar=/b'");
    assertThat(EnvFormat.dotenvQuote("\"-javaagent:/my dir/a.jar=/b\""))
        .isEqualTo("'\"-javaagent:/my dir/a.jar=/b\"'");
    assertThat(EnvFormat.dotenvQuote("has#hash")).isEqualTo("'has#hash'");
    assertThat(EnvFormat.dotenvQuote("it's")).isEqualTo("\"it's\"");
    assertThat(EnvFormat.dotenvQuote(" padded ")).isEqualTo("' padded '");
  }

  @Test
  void dotenvWritesNewlinesAsBackslashNInDoubleQuotes() {
    assertThat(EnvFormat.dotenvQuote("line1\nline2")).isEqualTo("\"line1\\nline2\"");
  }

  @Test
  void dotenvLeavesOutWhatItsReadersWouldReadDifferently() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("OK", "fine");
    env.put("BOTH_QUOTES", "it's \"quoted\"");
    env.put("BACKSLASH_N_AND_QUOTE", "C:\\new 'x'");
    env.put("CR", "a\rb");
    env.put("bad-name", "x");

    EnvFormat.Rendered r = EnvFormat.DOTENV.render(env, List.of("a comment"));

    assertThat(r.text()).isEqualTo("# a comment\nOK=fine\n");
    assertThat(r.leftOut())
        .containsExactly(
            "BOTH_QUOTES: its value has quotes and backslashes that dotenv readers disagree on",
            "BACKSLASH_N_AND_QUOTE: its value has quotes and backslashes that dotenv readers disagree on",
            "CR: its value has quotes and backslashes that dotenv readers disagree on",
            "bad-name: not a variable name shells and IDEs accept");
  }

  @Test
  void shellOutputIsReadBackExactlyBySh() throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("JAVA_TOOL_OPTIONS", "-Xmx1g \"-javaagent:/my dir/a.jar=/b\"");
    env.put("QUOTES", "it's \"x\" $HOME `id` \\n");
    env.put("NEWLINE", "a\nb");
    env.put("EMPTY", "");

    EnvFormat.Rendered r = EnvFormat.SHELL.render(env, List.of("comment"));
    Path script = tmp.resolve("env.sh");
    Files.writeString(
        script,
        r.text() + "for v in JAVA_TOOL_OPTIONS QUOTES NEWLINE EMPTY; do printf '%s=%s\\0' \"$v\" \"$(eval printf %s \\\"\\$$v\\\")\"; done\n");
    Process p = new ProcessBuilder("sh", script.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();

    assertThat(r.leftOut()).isEmpty();
    assertThat(r.text()).startsWith("# comment\nexport JAVA_TOOL_OPTIONS='-Xmx1g \"-javaagent:/my dir/a.jar=/b\"'\n");
    assertThat(out.split("\0"))
        .containsExactly(
            "JAVA_TOOL_OPTIONS=-Xmx1g \"-javaagent:/my dir/a.jar=/b\"",
            "QUOTES=it's \"x\" $HOME `id` \\n",
            "NEWLINE=a\nb",
            "EMPTY=");
  }

  @Test
  void jsonCarriesEveryValueExactly() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("A", "it's \"q\"\n\\");
    env.put("weird-name", "x");

    EnvFormat.Rendered r = EnvFormat.JSON.render(env, List.of("not in json"));

    assertThat(r.leftOut()).isEmpty();
    assertThat(r.text()).doesNotContain("not in json");
    assertThat(new ObjectMapper().readValue(r.text(), new TypeReference<Map<String, String>>() {}))
        .isEqualTo(env);
  }

  @Test
  void formatsParseInAnyCase() {
    assertThat(EnvFormat.parse("Shell")).isEqualTo(EnvFormat.SHELL);
    assertThat(EnvFormat.parse("json")).isEqualTo(EnvFormat.JSON);
    assertThat(EnvFormat.parse("yaml")).isNull();
  }

  @Test
  void theFileIsReplacedInOneStepAndPrivate() throws IOException {
    Path file = tmp.resolve("ide/session.env");
    EnvFormat.writeAtomically(file, "A=1\n");
    EnvFormat.writeAtomically(file, "A=2\n");

    assertThat(Files.readString(file)).isEqualTo("A=2\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file);
    }
  }
}
