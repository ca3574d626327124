/**
 * How the CLI's and the pod agent's own JVMs start: the agent's JVM options (one file for every way
 * it starts) and the ahead-of-time caches both JVMs start from. Used by the CLI and the agent, never
 * by the layer.
 */
package dev.mirrord.jvm.protocol.jvm;
