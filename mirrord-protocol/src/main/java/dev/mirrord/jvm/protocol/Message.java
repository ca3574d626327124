package dev.mirrord.jvm.protocol;

/** Any protocol message. Either a {@link ClientMessage}, an {@link AgentMessage}, or both. */
public interface Message {}
