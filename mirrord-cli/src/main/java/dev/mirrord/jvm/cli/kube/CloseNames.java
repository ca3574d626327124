package dev.mirrord.jvm.cli.kube;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** "Did you mean": the names closest to a mistyped one (edit distance, or one containing the other). */
public final class CloseNames {
  private CloseNames() {}

  /** Up to {@code max} candidates close to {@code name}, closest first. */
  public static List<String> closest(String name, Collection<String> candidates, int max) {
    String n = name.toLowerCase(Locale.ROOT);
    int limit = Math.max(2, n.length() / 3);
    record Scored(String name, int distance) {}
    return candidates.stream()
        .distinct()
        .map(c -> new Scored(c, distance(n, c.toLowerCase(Locale.ROOT))))
        .filter(
            s ->
                s.distance <= limit
                    || (n.length() >= 3 && s.name.toLowerCase(Locale.ROOT).contains(n))
                    || (s.name.length() >= 3 && n.contains(s.name.toLowerCase(Locale.ROOT))))
        .sorted(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name))
        .limit(max)
        .map(Scored::name)
        .toList();
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
