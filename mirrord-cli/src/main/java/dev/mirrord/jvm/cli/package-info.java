/**
 * The {@code mirrord} command line: {@link dev.mirrord.jvm.cli.Main}, the top {@link
 * dev.mirrord.jvm.cli.MirrordCommand}, and the error contract shared by every subcommand: one
 * {@link dev.mirrord.jvm.cli.MirrordException} carrying an {@link dev.mirrord.jvm.cli.ExitCode},
 * one {@link dev.mirrord.jvm.cli.ErrorReporter} turning it into one stderr line, and {@link
 * dev.mirrord.jvm.cli.UserNotices} for one-line warnings. Logs never go to stdout (see {@link
 * dev.mirrord.jvm.cli.LogSetup}).
 */
package dev.mirrord.jvm.cli;
