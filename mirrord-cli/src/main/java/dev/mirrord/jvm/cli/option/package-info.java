/**
 * The option groups of {@code exec} and {@code session}, gathered by {@link
 * dev.mirrord.jvm.cli.option.SessionOptions} into one picocli mixin built by hand ({@link
 * dev.mirrord.jvm.picocli.OptionSpecs}): {@link dev.mirrord.jvm.cli.option.TargetOptions},
 * {@link dev.mirrord.jvm.cli.option.NetworkOptions}, {@link dev.mirrord.jvm.cli.option.EnvOptions},
 * {@link dev.mirrord.jvm.cli.option.SkipOptions}, {@link dev.mirrord.jvm.cli.option.LoggingMixin}.
 * Each turns its flags into the flags level of {@link dev.mirrord.jvm.cli.config.MirrordConfig}
 * (null = not given) and reports malformed values as usage errors.
 */
package dev.mirrord.jvm.cli.option;
