package dev.mirrord.jvm.e2e.apps;

/** What {@link TomcatPeerApp} and {@link ReactorNettyPeerApp} print and answer. */
public final class StackApps {
  /** Printed once the server listens: {@code stack.ready <stack> <port>}. */
  public static final String READY_PREFIX = "stack.ready ";

  private StackApps() {}

  /** Prints {@code stack.req <path> <address> <port>} and returns the answer's body. */
  static String answer(String name, String peerAddress, int peerPort, String path) {
    System.out.println("stack.req " + path + " " + peerAddress + " " + peerPort);
    return "hello from " + name + ": peer=" + peerAddress + ":" + peerPort + " path=" + path + "\n";
  }
}
