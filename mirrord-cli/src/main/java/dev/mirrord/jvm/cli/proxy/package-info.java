/**
 * The session proxy between layers and the pod agent: {@link
 * dev.mirrord.jvm.cli.proxy.SessionProxy} accepts layer connections (token-checked {@code Hello}),
 * keeps one agent connection, and multiplexes correlated requests over it with id remapping ({@code
 * RequestRouter}, table {@link dev.mirrord.jvm.cli.proxy.RequestFamily#ALL}). Plays the role of
 * mirrord's intproxy.
 */
package dev.mirrord.jvm.cli.proxy;
