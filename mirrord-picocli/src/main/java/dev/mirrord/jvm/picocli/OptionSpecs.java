package dev.mirrord.jvm.picocli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Options for command models built through picocli's programmatic API rather than read from
 * annotations, as the CLI's {@code exec} and the pod agent's are: reading annotations makes a proxy
 * class per annotation type at run time (no AOT cache holds those) and runs picocli's reflection,
 * interpreted, on every start ({@code mirrord exec}'s model took 115-125 ms of it, the agent's
 * 73-94 ms; by hand 34-46 and 16-21 ms). A command reads the parsed values back with {@link
 * #value}; the tests of each command pin its help text to what the annotated model printed.
 */
public final class OptionSpecs {
  /**
   * picocli's own switch ({@code picocli.converters.excludes}): the built-in converters it would
   * otherwise register on every {@code CommandLine} by reflection ({@code Class.forName} and {@code
   * getDeclaredMethod} for 20 {@code java.sql} and {@code java.time} types and {@code Path}), cold
   * code on every start. No model built here has an option of those types but {@code Path}, which
   * gets {@link #PATH} instead.
   */
  public static final String CONVERTER_EXCLUDES = "java\\.(sql|time)\\..*|java\\.nio\\.file\\.Path";

  /** {@code Path} values ({@code Path.of}): what picocli's reflective converter for it did, without reflection. */
  public static final ITypeConverter<Path> PATH = new PathConverter();

  private OptionSpecs() {}

  /**
   * Call first in a {@code main} whose command lines are built here: turns off picocli's reflective
   * built-in converters ({@link #CONVERTER_EXCLUDES}) and its look-up of Groovy's {@code Closure} class ({@code
   * picocli.disable.closures}), unless the properties are set already. That class is never there, and a class the
   * class path does not have is looked for in the fat jar: its first such lookup opens the jar and reads its whole
   * central directory, ~30 ms of a start whose classes all come from the AOT cache (docs/PERFORMANCE.md, "logback
   * without its ServiceLoader").
   */
  public static void skipReflectiveConverters() {
    if (System.getProperty("picocli.converters.excludes") == null) {
      System.setProperty("picocli.converters.excludes", CONVERTER_EXCLUDES);
    }
    if (System.getProperty("picocli.disable.closures") == null) {
      System.setProperty("picocli.disable.closures", "true");
    }
  }

  /**
   * A command's model around {@code command} (nothing read from its annotations), with {@code -h,
   * --help} and {@code -V, --version} as picocli's {@code mixinStandardHelpOptions} adds them.
   */
  public static CommandSpec command(
      Object command, String name, IVersionProvider version, String... description) {
    CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
    spec.name(name).versionProvider(version);
    spec.usageMessage().description(description);
    addStandardHelp(spec);
    return spec;
  }

  /** An option with one value of {@code type}. */
  public static OptionSpec option(String[] names, String label, Class<?> type, String description) {
    return valued(names, label, type, description).build();
  }

  /** An option with one value of {@code type}. */
  public static OptionSpec option(String name, String label, Class<?> type, String description) {
    return option(new String[] {name}, label, type, description);
  }

  /** An option with one value of {@code type} and a default (shown by {@code ${DEFAULT-VALUE}}). */
  public static OptionSpec option(
      String name, String label, Class<?> type, String description, String defaultValue) {
    return valued(new String[] {name}, label, type, description).defaultValue(defaultValue).build();
  }

  /** A flag without a value. */
  public static OptionSpec flag(String description, String... names) {
    return OptionSpec.builder(names).type(boolean.class).description(description).build();
  }

  /**
   * A repeatable option whose values are a {@code List} of {@code element}; {@code split} splits
   * each value ({@code null}: no split).
   */
  public static OptionSpec list(
      String label, Class<?> element, String split, String description, String... names) {
    OptionSpec.Builder b = valued(names, label, List.class, description).auxiliaryTypes(element);
    if (element == Path.class) {
      b.converters(PATH);
    }
    if (split != null) {
      b.splitRegex(split);
    }
    return b.build();
  }

  private static OptionSpec.Builder valued(String[] names, String label, Class<?> type, String description) {
    OptionSpec.Builder b = OptionSpec.builder(names).paramLabel(label).type(type).description(description);
    if (type == Path.class) {
      b.converters(PATH);
    }
    return b;
  }

  /** {@link #PATH}'s class, for an annotated option ({@code @Option(converter = PathConverter.class)}). */
  public static final class PathConverter implements ITypeConverter<Path> {
    @Override
    public Path convert(String value) {
      return Path.of(value);
    }
  }

  /** {@code -h, --help} and {@code -V, --version}, as picocli's {@code mixinStandardHelpOptions}. */
  public static void addStandardHelp(CommandSpec spec) {
    spec.addOption(
        OptionSpec.builder("-h", "--help")
            .usageHelp(true)
            .type(boolean.class)
            .description("Show this help message and exit.")
            .build());
    spec.addOption(
        OptionSpec.builder("-V", "--version")
            .versionHelp(true)
            .type(boolean.class)
            .description("Print version information and exit.")
            .build());
  }

  /** The parsed value of {@code spec}'s option {@code name}, or {@code absent} if it has none. */
  public static <T> T value(CommandSpec spec, String name, T absent) {
    T v = spec.findOption(name).getValue();
    return v == null ? absent : v;
  }
}
