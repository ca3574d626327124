/**
 * The app's file opens that the layer serves from the target: with remote DNS, reads of {@code
 * /etc/resolv.conf} and {@code /etc/hosts} open the CLI's copies of the target's files ({@link
 * dev.mirrord.jvm.layer.file.FileOps}); every other file stays local.
 */
package dev.mirrord.jvm.layer.file;
