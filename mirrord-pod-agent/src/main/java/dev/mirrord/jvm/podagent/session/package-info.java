/**
 * One {@link dev.mirrord.jvm.podagent.session.ClientSession} per accepted connection: it runs the
 * {@code Hello} handshake, then routes each message family to that client's own {@code *Api} object
 * ({@link dev.mirrord.jvm.podagent.session.TargetApi}, {@link
 * dev.mirrord.jvm.podagent.session.IncomingApi}). Work that touches files or the kernel runs on
 * {@link dev.mirrord.jvm.podagent.session.SessionContext#blockingWork()}, never on the event loop.
 */
package dev.mirrord.jvm.podagent.session;
