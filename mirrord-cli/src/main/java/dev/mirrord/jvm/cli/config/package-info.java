/**
 * Configuration: the {@link dev.mirrord.jvm.cli.config.MirrordConfig} records (the shape of {@code
 * mirrord.json}, documented by {@code docs/mirrord.schema.json}), {@link
 * dev.mirrord.jvm.cli.config.ConfigLoader} (defaults &lt; file &lt; {@code MIRRORD_*} &lt; flags), the
 * variables it reads ({@link dev.mirrord.jvm.cli.config.ConfigEnvVar}) and the value parsers
 * ({@link dev.mirrord.jvm.cli.config.TargetSpec}, {@link dev.mirrord.jvm.cli.config.PortMapping}).
 */
package dev.mirrord.jvm.cli.config;
