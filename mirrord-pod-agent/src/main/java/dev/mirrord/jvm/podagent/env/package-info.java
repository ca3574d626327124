/**
 * The target's environment: {@link dev.mirrord.jvm.podagent.env.TargetEnv} reads and parses {@code
 * /proc/N/environ} and turns failures into wire errors.
 */
package dev.mirrord.jvm.podagent.env;
