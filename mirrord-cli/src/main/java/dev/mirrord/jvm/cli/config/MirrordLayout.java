package dev.mirrord.jvm.cli.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads mirrord's own config file layout ({@code .mirrord/mirrord.json} written for metalbear's
 * mirrord) into ours, so that a team's existing file works: {@code target} (a string, or {@code
 * {"path", "namespace"}}), {@code kube_context}, {@code feature.network.incoming} ({@code "steal"}
 * or {@code {mode, http_filter, port_mapping, ignore_ports}}), {@code feature.network.outgoing}
 * ({@code true/false} or {@code {tcp, udp, filter}}), {@code feature.network.dns} ({@code
 * true/false} or {@code {enabled}}), {@code feature.env} ({@code true/false} or {@code {include,
 * exclude}}), {@code agent.{image, namespace, startup_timeout, ephemeral, ttl}}. Every other key is
 * dropped with one warning line naming it, never an error: mirrord has many we do not implement.
 */
final class MirrordLayout {
  private MirrordLayout() {}

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final Set<String> AGENT_KEYS = Set.of("image", "namespace", "startup_timeout", "ephemeral", "ttl");
  private static final Set<String> HTTP_FILTER_KEYS =
      Set.of("header_filter", "path_filter", "method_filter", "all_of", "any_of", "ports");

  /** Whether {@code tree} is written in mirrord's layout rather than ours. */
  static boolean applies(JsonNode tree) {
    return tree != null && tree.isObject() && (tree.has("feature") || tree.path("target").isObject()
        || tree.has("kube_context"));
  }

  /** Our layout for {@code tree}; what it drops goes to {@code warnings}, one line per key. */
  static ObjectNode translate(JsonNode tree, List<String> warnings) {
    ObjectNode out = F.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode v = e.getValue();
      switch (key) {
        case "target" -> target(v, out, warnings);
        case "kube_context" -> out.set("context", v);
        case "feature" -> feature(v, out, warnings);
        case "agent" -> {
          ObjectNode agent = out.putObject("agent");
          for (Iterator<Map.Entry<String, JsonNode>> a = v.fields(); a.hasNext(); ) {
            Map.Entry<String, JsonNode> f = a.next();
            if (AGENT_KEYS.contains(f.getKey())) {
              agent.set(f.getKey(), f.getValue());
            } else {
              ignored("agent." + f.getKey(), warnings);
            }
          }
        }
        // keys of ours that mirrord does not have are kept (a file may mix both)
        case "namespace", "context", "incoming", "outgoing", "dns", "env", "log_file", "verbose" -> out.set(key, v);
        default -> ignored(key, warnings);
      }
    }
    return out;
  }

  private static void target(JsonNode v, ObjectNode out, List<String> warnings) {
    if (v.isTextual()) {
      out.set("target", v);
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      switch (e.getKey()) {
        case "path" -> {
          if (e.getValue().isTextual()) {
            out.set("target", e.getValue());
          } else {
            ignored("target.path (only the string form, e.g. \"pod/web/container/app\", is read)", warnings);
          }
        }
        case "namespace" -> out.set("namespace", e.getValue());
        default -> ignored("target." + e.getKey(), warnings);
      }
    }
  }

  private static void feature(JsonNode v, ObjectNode out, List<String> warnings) {
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      switch (e.getKey()) {
        case "network" -> network(e.getValue(), out, warnings);
        case "env" -> env(e.getValue(), out, warnings);
        default -> ignored("feature." + e.getKey(), warnings);
      }
    }
  }

  private static void network(JsonNode v, ObjectNode out, List<String> warnings) {
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode n = e.getValue();
      switch (e.getKey()) {
        case "incoming" -> incoming(n, out, warnings);
        case "outgoing" -> {
          ObjectNode o = out.putObject("outgoing");
          if (n.isBoolean()) {
            o.put("tcp", n.asBoolean());
            o.put("udp", n.asBoolean());
          } else {
            copyKnown(n, o, Set.of("tcp", "udp", "filter"), "feature.network.outgoing", warnings);
          }
        }
        case "dns" -> {
          if (n.isBoolean()) {
            out.putObject("dns").put("remote", n.asBoolean());
          } else {
            for (Iterator<Map.Entry<String, JsonNode>> d = n.fields(); d.hasNext(); ) {
              Map.Entry<String, JsonNode> f = d.next();
              if (f.getKey().equals("enabled")) {
                out.putObject("dns").set("remote", f.getValue());
              } else {
                ignored("feature.network.dns." + f.getKey(), warnings);
              }
            }
          }
        }
        default -> ignored("feature.network." + e.getKey(), warnings);
      }
    }
  }

  private static void incoming(JsonNode n, ObjectNode out, List<String> warnings) {
    ObjectNode in = out.putObject("incoming");
    if (n.isTextual()) {
      in.set("mode", n);
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "mode", "ignore_ports" -> in.set(e.getKey(), v);
        case "port_mapping" -> {
          // mirrord: [[local, remote], …]; ours: ["local:remote", …]
          ArrayNode map = in.putArray("port_map");
          for (JsonNode pair : v) {
            if (pair.isArray() && pair.size() == 2) {
              map.add(pair.get(0).asText() + ":" + pair.get(1).asText());
            } else {
              map.add(pair.asText());
            }
          }
        }
        case "http_filter" -> copyKnown(v, in.putObject("http_filter"), HTTP_FILTER_KEYS,
            "feature.network.incoming.http_filter", warnings);
        case "http_header_filter" -> in.putObject("http_filter").set("header_filter", v); // mirrord's old name
        default -> ignored("feature.network.incoming." + e.getKey(), warnings);
      }
    }
  }

  private static void env(JsonNode n, ObjectNode out, List<String> warnings) {
    ObjectNode env = out.putObject("env");
    if (n.isBoolean()) {
      env.put("import", n.asBoolean());
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      switch (e.getKey()) {
        case "include", "exclude" -> {
          // mirrord: "A;B*" or a list
          ArrayNode list = env.putArray(e.getKey());
          if (e.getValue().isTextual()) {
            for (String s : e.getValue().asText().split(";")) {
              if (!s.isBlank()) {
                list.add(s.strip());
              }
            }
          } else {
            e.getValue().forEach(list::add);
          }
        }
        default -> ignored("feature.env." + e.getKey(), warnings);
      }
    }
  }

  private static void copyKnown(JsonNode from, ObjectNode to, Set<String> known, String where, List<String> warnings) {
    for (Iterator<Map.Entry<String, JsonNode>> it = from.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (known.contains(e.getKey())) {
        to.set(e.getKey(), e.getValue());
      } else {
        ignored(where + "." + e.getKey(), warnings);
      }
    }
  }

  private static void ignored(String key, List<String> warnings) {
    warnings.add("config: mirrord's key '" + key + "' is not supported by mirrord for the JVM; ignored");
  }
}
