/**
 * The subcommands of {@code mirrord}: {@link dev.mirrord.jvm.cli.command.ExecCommand} and {@link
 * dev.mirrord.jvm.cli.command.CompletionCommand}. Each is a small picocli {@code Callable<Integer>}
 * that validates its input, then hands over to the packages that do the work; failures are {@link
 * dev.mirrord.jvm.cli.MirrordException}s.
 */
package dev.mirrord.jvm.cli.command;
