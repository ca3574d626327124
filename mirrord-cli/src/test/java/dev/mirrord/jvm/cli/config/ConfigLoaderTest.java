package dev.mirrord.jvm.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mirrord.jvm.cli.ExitCode;
import dev.mirrord.jvm.cli.MirrordException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {

  @TempDir Path tmp;

  private Path file(String json) throws IOException {
    Path f = tmp.resolve("mirrord.json");
    Files.writeString(f, json);
    return f;
  }

  @Test
  void defaultsWhenNothingIsSet() {
    MirrordConfig cfg = new ConfigLoader(Map.of()).load(null, MirrordConfig.EMPTY);

    assertThat(cfg.target()).isNull();
    assertThat(cfg.incoming().mode()).isEqualTo(MirrordConfig.IncomingMode.MIRROR);
    assertThat(cfg.incoming().portMap()).isEmpty();
    assertThat(cfg.outgoing()).isEqualTo(new MirrordConfig.Outgoing(true, true));
    assertThat(cfg.dns().remote()).isTrue();
    assertThat(cfg.env().importEnv()).isTrue();
    assertThat(cfg.isVerbose()).isFalse();
  }

  @Test
  void fileIsOverriddenByEnvWhichIsOverriddenByFlags() throws IOException {
    Path f =
        file(
            """
            {"target": "pid/1", "namespace": "file-ns",
             "incoming": {"mode": "off", "port_map": ["1:2"], "ignore_ports": [9999]},
             "outgoing": {"tcp": false},
             "env": {"include": ["FROM_FILE*"]},
             "log_file": "/tmp/file.log"}
            """);
    Map<String, String> env =
        Map.of(
            "MIRRORD_TARGET", "pid/2",
            "MIRRORD_TCP_STEAL", "true",
            "MIRRORD_PORT_MAP", "8080:80, 9090:9091",
            "MIRRORD_LOG_FILE", "/tmp/env.log");
    MirrordConfig flags =
        new MirrordConfig(
            "pid/3", null, null, null, null, new MirrordConfig.Dns(false), null, null, true, null);

    MirrordConfig cfg = new ConfigLoader(env).load(f, flags);

    assertThat(cfg.target()).isEqualTo("pid/3"); // flag > env > file
    assertThat(cfg.namespace()).isEqualTo("file-ns"); // only the file sets it
    assertThat(cfg.incoming().mode()).isEqualTo(MirrordConfig.IncomingMode.STEAL); // env > file
    assertThat(cfg.incoming().portMap())
        .containsExactly(new PortMapping(8080, 80), new PortMapping(9090, 9091)); // replaced, not appended
    assertThat(cfg.incoming().ignorePorts()).containsExactly(9999);
    assertThat(cfg.outgoing()).isEqualTo(new MirrordConfig.Outgoing(false, true));
    assertThat(cfg.dns().remote()).isFalse();
    assertThat(cfg.env().include()).containsExactly("FROM_FILE*");
    assertThat(cfg.logFile()).isEqualTo("/tmp/env.log");
    assertThat(cfg.isVerbose()).isTrue();
  }

  @Test
  void configFileCanComeFromTheEnvironment() throws IOException {
    Path f = file("{\"target\": \"pid/77\"}");
    MirrordConfig cfg =
        new ConfigLoader(Map.of("MIRRORD_CONFIG_FILE", f.toString())).load(null, MirrordConfig.EMPTY);
    assertThat(cfg.targetSpec()).isEqualTo(new TargetSpec.Pid(77));
  }

  @Test
  void booleanEnvVariablesOnlyOverrideWhenTrue() {
    Map<String, String> env =
        Map.of(
            "MIRRORD_NO_OUTGOING", "false",
            "MIRRORD_NO_UDP_OUTGOING", "yes",
            "MIRRORD_NO_REMOTE_DNS", "1",
            "MIRRORD_NO_ENV", "on",
            "MIRRORD_ENV_EXCLUDE", "A_*,B",
            "MIRRORD_INCOMING_MODE", "OFF",
            "MIRRORD_VERBOSE", "true");
    MirrordConfig cfg = new ConfigLoader(env).load(null, MirrordConfig.EMPTY);

    assertThat(cfg.outgoing()).isEqualTo(new MirrordConfig.Outgoing(true, false));
    assertThat(cfg.dns().remote()).isFalse();
    assertThat(cfg.env().importEnv()).isFalse();
    assertThat(cfg.env().exclude()).containsExactly("A_*", "B");
    assertThat(cfg.incoming().mode()).isEqualTo(MirrordConfig.IncomingMode.OFF);
    assertThat(cfg.isVerbose()).isTrue();
  }

  @Test
  void unknownKeyNamesFileKeyAndKnownKeys() throws IOException {
    Path f = file("{\"incomng\": {}}");
    assertThatThrownBy(() -> ConfigLoader.readFile(f))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIG))
        .hasMessageStartingWith(f + ": unknown key 'incomng' (known: ")
        .hasMessageContaining("incoming")
        .hasMessageContaining("log_file")
        .hasMessageContaining("; ");
  }

  @Test
  void outgoingFilterIsReadAndBadEntriesAreNamed() throws IOException {
    Path good = file("{\"outgoing\": {\"filter\": {\"remote\": [\"postgres:5432\", \"10.0.0.0/8\"]}}}");
    MirrordConfig cfg = ConfigLoader.readFile(good);
    assertThat(cfg.outgoing().filter().remote()).containsExactly("postgres:5432", "10.0.0.0/8");
    assertThat(cfg.outgoing().filter().local()).isEmpty();

    Path bad = file("{\"outgoing\": {\"filter\": {\"local\": [\"10.0.0.0/99\"]}}}");
    assertThatThrownBy(() -> ConfigLoader.readFile(bad))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIG))
        .hasMessageContaining("outgoing.filter.local")
        .hasMessageContaining("'10.0.0.0/99'");

    Path both = file("{\"outgoing\": {\"filter\": {\"local\": [\"a\"], \"remote\": [\"b\"]}}}");
    assertThatThrownBy(() -> ConfigLoader.readFile(both)).hasMessageContaining("either 'local' or 'remote'");
  }

  @Test
  void unknownNestedKeyIsNamedWithItsPath() throws IOException {
    Path f = file("{\"incoming\": {\"mod\": \"steal\"}}");
    assertThatThrownBy(() -> ConfigLoader.readFile(f))
        .hasMessageContaining("unknown key 'incoming.mod' (known: flush_connections, hand_back_grace_seconds, http_filter, ignore_ports, mode, port_map)");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "{\"incoming\": {\"mode\": \"mirorr\"}}      | 'incoming.mode' | mirror, steal or off",
        "{\"outgoing\": {\"tcp\": \"yes\"}}          | 'outgoing.tcp': 'yes' | true or false",
        "{\"incoming\": {\"port_map\": [null]}}      | 'incoming.port_map' | LOCAL:REMOTE",
        "{\"env\": {\"include\": [null]}}            | 'env'           | null in a glob list",
        "{\"incoming\": {\"port_map\": [\"80\"]}}    | 'incoming.port_map[0]' | LOCAL:REMOTE",
        "{\"incoming\": {\"ignore_ports\": [0]}}     | 'incoming.ignore_ports' | 1-65535",
        "{\"target\": \"pid/abc\"}                   | 'target'        | pid/42",
        "{\"target\": \"node/x\"}                    | 'target'        | pod/NAME",
        "{\"verbose\": 1}                            | 'verbose'       | true or false",
        "[]                                          | the top level   | a JSON object",
        "{\"agent\": {\"startup_timeout\": 0}}     | 'agent.startup_timeout' | 1-3600 seconds",
        "{\"agent\": {\"ttl\": 3601}}             | 'agent.ttl'     | 0-3600 seconds",
        "{\"agent\": {\"image\": \" \"}}           | 'agent.image'   | expected an image reference",
        "{\"agent\": {\"ephemeral\": \"yes\"}}      | 'agent.ephemeral' | true or false",
        "{\"layer\": {\"on_disconnect\": \"die\"}}  | 'layer.on_disconnect' | expected exit or continue",
      })
  void badValuesNameFileKeyAndExpectation(String json, String key, String expected) throws IOException {
    Path f = file(json);
    assertThatThrownBy(() -> ConfigLoader.readFile(f))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIG))
        .hasMessageStartingWith(f + ": bad value for " + key)
        .hasMessageContaining(expected)
        .hasMessageNotContaining("\n");
  }

  @Test
  void syntaxErrorNamesLineAndColumn() throws IOException {
    Path f = file("{\n  \"target\": \"pid/1\",,\n}");
    assertThatThrownBy(() -> ConfigLoader.readFile(f))
        .hasMessageStartingWith(f + ": not valid JSON at line 2")
        .hasMessageEndingWith("; fix the syntax");
  }

  @Test
  void missingFileIsAConfigError() {
    Path f = tmp.resolve("nope.json");
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(f, MirrordConfig.EMPTY))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIG))
        .hasMessage("config file " + f + " does not exist; check the path given to -f");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "MIRRORD_TCP_STEAL     | maybe   | expected true or false",
        "MIRRORD_PORT_MAP      | 8080    | LOCAL:REMOTE",
        "MIRRORD_IGNORE_PORTS  | 70000   | 1-65535",
        "MIRRORD_INCOMING_MODE | copy    | mirror, steal or off",
        "MIRRORD_TARGET        | pid/-1  | positive",
        "MIRRORD_AGENT_STARTUP_TIMEOUT | soon | expected a number of seconds",
        "MIRRORD_AGENT_STARTUP_TIMEOUT | 4000 | 1-3600 seconds",
        "MIRRORD_AGENT_TTL | later | expected a number of seconds",
        "MIRRORD_AGENT_TTL | -1 | 0-3600 seconds",
        "MIRRORD_AGENT_EPHEMERAL | maybe | expected true or false",
        "MIRRORD_LAYER_ON_DISCONNECT | stay | expected exit or continue",
      })
  void badEnvValuesNameTheVariableAndValue(String var, String value, String expected) {
    assertThatThrownBy(() -> new ConfigLoader(Map.of(var, value)).load(null, MirrordConfig.EMPTY))
        .isInstanceOfSatisfying(
            MirrordException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIG))
        .hasMessageStartingWith("bad value in environment variable " + var + "='" + value + "'")
        .hasMessageContaining(expected);
  }

  @Test
  void onDisconnectDefaultsToExitAndFollowsTheLevels() throws IOException {
    assertThat(new ConfigLoader(Map.of()).load(null, MirrordConfig.EMPTY).layerOrDefault().exits()).isTrue();
    Path f = file("{\"layer\": {\"on_disconnect\": \"continue\"}}");
    assertThat(new ConfigLoader(Map.of()).load(f, MirrordConfig.EMPTY).layer())
        .isEqualTo(new MirrordConfig.Layer(MirrordConfig.OnDisconnect.CONTINUE));
    MirrordConfig fromEnv =
        new ConfigLoader(Map.of("MIRRORD_LAYER_ON_DISCONNECT", "EXIT")).load(f, MirrordConfig.EMPTY);
    assertThat(fromEnv.layerOrDefault().exits()).as("env > file").isTrue();
  }

  @Test
  void stealContradictingModeOffIsAnError() {
    Map<String, String> env = Map.of("MIRRORD_TCP_STEAL", "true", "MIRRORD_INCOMING_MODE", "off");
    assertThatThrownBy(() -> new ConfigLoader(env).fromEnv())
        .hasMessageContaining("MIRRORD_TCP_STEAL=true contradicts MIRRORD_INCOMING_MODE=off");
  }

  @Test
  void commaListDropsBlanks() {
    assertThat(ConfigLoader.commaList(" a, ,b ,")).isEqualTo(List.of("a", "b"));
  }

  @Test
  void stealSettingsComeFromTheFileWithDefaultsOtherwise() throws IOException {
    Path f = file("{\"incoming\": {\"flush_connections\": false, \"hand_back_grace_seconds\": 0}}");
    MirrordConfig.Incoming in = ConfigLoader.readFile(f).incoming();
    assertThat(in.flushes()).isFalse();
    assertThat(in.graceSeconds()).isZero();
    assertThat(MirrordConfig.DEFAULTS.incoming().flushes()).isTrue();
    assertThat(MirrordConfig.DEFAULTS.incoming().graceSeconds()).isEqualTo(3);
  }

  @Test
  void onlyAMirrorSessionMirrorsAndMirrorIsTheDefault() throws IOException {
    assertThat(MirrordConfig.DEFAULTS.incoming().mirrors()).isTrue();
    assertThat(ConfigLoader.readFile(file("{\"incoming\": {\"port_map\": []}}")).incoming().mirrors()).isTrue();
    assertThat(ConfigLoader.readFile(file("{\"incoming\": {\"mode\": \"mirror\"}}")).incoming().mirrors()).isTrue();
    assertThat(ConfigLoader.readFile(file("{\"incoming\": {\"mode\": \"steal\"}}")).incoming().mirrors()).isFalse();
    assertThat(ConfigLoader.readFile(file("{\"incoming\": {\"mode\": \"off\"}}")).incoming().mirrors()).isFalse();
  }

  @Test
  void agentSettingsHaveDefaultsAndFollowTheLevels() throws IOException {
    MirrordConfig.Agent defaults = new ConfigLoader(Map.of()).load(null, MirrordConfig.EMPTY).agent();
    assertThat(defaults.imageOrDefault()).isEqualTo(MirrordConfig.Agent.DEFAULT_IMAGE);
    assertThat(defaults.namespace()).isNull();
    assertThat(defaults.startupTimeoutSeconds()).isEqualTo(60);
    assertThat(defaults.isEphemeral()).isFalse();

    Path f = file("{\"agent\": {\"image\": \"reg/agent:1\", \"namespace\": \"mirrord\", \"startup_timeout\": 90}}");
    Map<String, String> env = Map.of("MIRRORD_AGENT_STARTUP_TIMEOUT", "120", "MIRRORD_AGENT_IMAGE", "reg/agent:2");
    MirrordConfig flags =
        new MirrordConfig(null, null, null, null, null, null, null, null, null, new MirrordConfig.Agent(null, null, null, true));

    MirrordConfig.Agent agent = new ConfigLoader(env).load(f, flags).agent();

    assertThat(agent).isEqualTo(new MirrordConfig.Agent("reg/agent:2", "mirrord", 120, true));
  }

  @Test
  void agentEnvVariablesAreReadTogether() {
    Map<String, String> env =
        Map.of(
            "MIRRORD_AGENT_IMAGE", "reg/agent:3",
            "MIRRORD_AGENT_NAMESPACE", "ops",
            "MIRRORD_AGENT_STARTUP_TIMEOUT", "30",
            "MIRRORD_AGENT_EPHEMERAL", "yes");
    assertThat(new ConfigLoader(env).fromEnv().agent()).isEqualTo(new MirrordConfig.Agent("reg/agent:3", "ops", 30, true));
    assertThat(new ConfigLoader(Map.of()).fromEnv().agent()).isNull();
  }

  @Test
  void agentTtlComesFromTheFileTheEnvironmentOrTheFlagAndDefaultsToZero() throws IOException {
    assertThat(MirrordConfig.DEFAULTS.agent().ttlSeconds()).isZero();
    Path f = file("{\"agent\": {\"ttl\": 30}}");
    assertThat(new ConfigLoader(Map.of()).load(f, MirrordConfig.EMPTY).agent().ttlSeconds()).isEqualTo(30);
    assertThat(new ConfigLoader(Map.of("MIRRORD_AGENT_TTL", "45")).load(f, MirrordConfig.EMPTY).agent().ttlSeconds())
        .isEqualTo(45);
    MirrordConfig flag =
        new MirrordConfig(null, null, null, null, null, null, null, null, null, new MirrordConfig.Agent(null, null, null, null, null, 5));
    assertThat(new ConfigLoader(Map.of("MIRRORD_AGENT_TTL", "45")).load(f, flag).agent().ttlSeconds()).isEqualTo(5);
  }

  @Test
  void buildToolsAreSkippedByDefaultAndNoJvmIsListed() {
    MirrordConfig cfg = new ConfigLoader(Map.of()).load(null, MirrordConfig.EMPTY);

    assertThat(cfg.skipsBuildTools()).isTrue();
    assertThat(cfg.skipJvmGlobs()).isEmpty();
  }

  @Test
  void skipSettingsComeFromTheFileEnvAndFlagsInThatOrder() throws IOException {
    Path f = file("{\"skip_build_tools\": false, \"skip_jvms\": [\"from.file.*\"]}");

    MirrordConfig fileOnly = new ConfigLoader(Map.of()).load(f, MirrordConfig.EMPTY);
    MirrordConfig envOverFile =
        new ConfigLoader(Map.of("MIRRORD_SKIP_BUILD_TOOLS", "true", "MIRRORD_SKIP_JVMS", "a.*, *-cli.jar"))
            .load(f, MirrordConfig.EMPTY);
    MirrordConfig flagsOverEnv =
        new ConfigLoader(Map.of("MIRRORD_SKIP_BUILD_TOOLS", "true"))
            .load(
                f,
                new MirrordConfig(
                    null, null, null, null, null, null, null, null, null, null, false, List.of("flag.*"), null, null, null));

    assertThat(fileOnly.skipsBuildTools()).isFalse();
    assertThat(fileOnly.skipJvmGlobs()).containsExactly("from.file.*");
    assertThat(envOverFile.skipsBuildTools()).isTrue();
    assertThat(envOverFile.skipJvmGlobs()).containsExactly("a.*", "*-cli.jar");
    assertThat(flagsOverEnv.skipsBuildTools()).isFalse();
    assertThat(flagsOverEnv.skipJvmGlobs()).containsExactly("flag.*");
  }

  @Test
  void mirrordsSkipProcessesIsAnAliasAsAListOrOneString() throws IOException {
    MirrordConfig list =
        new ConfigLoader(Map.of()).load(file("{\"skip_processes\": [\"a.*\", \"b.jar\"]}"), MirrordConfig.EMPTY);
    MirrordConfig one =
        new ConfigLoader(Map.of()).load(file("{\"skip_processes\": \"tool.jar\"}"), MirrordConfig.EMPTY);
    MirrordConfig env =
        new ConfigLoader(Map.of("MIRRORD_SKIP_PROCESSES", "x.*;y.jar")).load(null, MirrordConfig.EMPTY);

    assertThat(list.skipJvmGlobs()).containsExactly("a.*", "b.jar");
    assertThat(one.skipJvmGlobs()).containsExactly("tool.jar");
    assertThat(env.skipJvmGlobs()).containsExactly("x.*", "y.jar");
  }

  @Test
  void skipJvmsAndItsAliasTogetherAreOneError() throws IOException {
    Path f = file("{\"skip_jvms\": [\"a\"], \"skip_processes\": [\"b\"]}");

    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(f, MirrordConfig.EMPTY))
        .isInstanceOf(MirrordException.class)
        .hasMessage(f + ": both 'skip_jvms' and its alias 'skip_processes' are set; keep one of them");
    assertThatThrownBy(
            () ->
                new ConfigLoader(Map.of("MIRRORD_SKIP_JVMS", "a", "MIRRORD_SKIP_PROCESSES", "b"))
                    .load(null, MirrordConfig.EMPTY))
        .hasMessage("both MIRRORD_SKIP_JVMS and its alias MIRRORD_SKIP_PROCESSES are set; unset one of them");
  }

  @Test
  void badSkipValuesNameTheKey() throws IOException {
    Path blank = file("{\"skip_jvms\": [\"a\", \" \"]}");
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(blank, MirrordConfig.EMPTY))
        .hasMessage(blank + ": bad value for 'skip_jvms': an empty or null glob; remove it");
    Path notBool = file("{\"skip_build_tools\": \"no\"}");
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(notBool, MirrordConfig.EMPTY))
        .hasMessageContaining("skip_build_tools")
        .hasMessageContaining("true or false");
    assertThatThrownBy(
            () -> new ConfigLoader(Map.of("MIRRORD_SKIP_BUILD_TOOLS", "perhaps")).load(null, MirrordConfig.EMPTY))
        .hasMessage(
            "bad value in environment variable MIRRORD_SKIP_BUILD_TOOLS='perhaps' (expected true or false); fix or unset it");
  }
}
