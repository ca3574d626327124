package dev.mirrord.jvm.cli.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** docs/mirrord.schema.json and the config records must describe the same keys (no drift). */
class ConfigSchemaTest {

  static Path schemaPath() {
    String dir = System.getProperty("mirrord.docs.dir", "../docs");
    return Path.of(dir, "mirrord.schema.json");
  }

  @Test
  void schemaPropertiesMatchTheConfigRecordsAtEveryLevel() throws IOException {
    JsonNode schema = new ObjectMapper().readTree(Files.readString(schemaPath()));
    List<String> mismatches = new ArrayList<>();
    compare("", MirrordConfig.class, schema, mismatches);
    assertThat(mismatches).isEmpty();
  }

  @Test
  void exampleConfigInTheSchemaLoads() throws IOException {
    JsonNode schema = new ObjectMapper().readTree(Files.readString(schemaPath()));
    assertThat(schema.path("examples")).isNotEmpty();
    Path tmp = Files.createTempFile("mirrord", ".json");
    try {
      for (JsonNode example : schema.path("examples")) {
        Files.writeString(tmp, example.toString());
        assertThat(ConfigLoader.readFile(tmp)).isNotNull();
      }
    } finally {
      Files.delete(tmp);
    }
  }

  private static void compare(String path, Class<?> record, JsonNode node, List<String> mismatches) {
    JsonNode props = node.path("properties");
    Set<String> schemaKeys = new TreeSet<>();
    props.fieldNames().forEachRemaining(schemaKeys::add);
    Set<String> recordKeys = new TreeSet<>();
    for (RecordComponent c : record.getRecordComponents()) {
      recordKeys.add(jsonName(c));
    }
    if (!schemaKeys.equals(recordKeys)) {
      mismatches.add((path.isEmpty() ? "(top)" : path) + ": schema " + schemaKeys + " vs records " + recordKeys);
    }
    if (node.path("additionalProperties").asBoolean(true)) {
      mismatches.add((path.isEmpty() ? "(top)" : path) + ": schema must say additionalProperties: false");
    }
    for (RecordComponent c : record.getRecordComponents()) {
      if (c.getType().isRecord() && props.has(jsonName(c))) {
        String child = path.isEmpty() ? jsonName(c) : path + "." + jsonName(c);
        compare(child, c.getType(), props.get(jsonName(c)), mismatches);
      }
      if (c.getGenericType() instanceof ParameterizedType pt
          && pt.getActualTypeArguments()[0] instanceof Class<?> item
          && item.isRecord()
          && item != PortMapping.class) {
        if (props.has(jsonName(c))) {
          String child = (path.isEmpty() ? "" : path + ".") + jsonName(c) + "[]";
          compare(child, item, props.get(jsonName(c)).path("items"), mismatches);
        } else {
          mismatches.add(path + "." + jsonName(c) + ": a list of records the schema does not describe");
        }
      }
    }
  }

  private static String jsonName(RecordComponent c) {
    JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
    if (p == null) {
      p = c.getAnnotation(JsonProperty.class);
    }
    return p != null && !p.value().isEmpty() ? p.value() : c.getName();
  }
}
