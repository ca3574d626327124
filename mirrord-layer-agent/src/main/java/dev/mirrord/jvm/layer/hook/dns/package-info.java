/**
 * Name-resolution hooks: the JDK's built-in name service, below {@code InetAddress}'s cache, so
 * every {@code getByName/getAllByName} (and everything built on them) asks the target first. One
 * instrumentation per JDK shape; the one that does not match the running JDK never fires.
 */
package dev.mirrord.jvm.layer.hook.dns;
