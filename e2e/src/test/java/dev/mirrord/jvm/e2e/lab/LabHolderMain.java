package dev.mirrord.jvm.e2e.lab;

import java.util.stream.Collectors;

/**
 * Test helper run in a child JVM by NetnsLabIT: creates a lab, prints {@code LAB_PREFIX=}, {@code LAB_INODES=},
 * {@code LAB_POD_PID=} and {@code READY}, then waits (at most 120 s) to be killed. Killed with SIGKILL its lab is left
 * behind for the next create() to sweep; with SIGTERM the shutdown hook tears it down.
 */
final class LabHolderMain {
  private LabHolderMain() {}

  public static void main(String[] args) throws InterruptedException {
    NetnsLab lab = NetnsLab.create();
    System.out.println("LAB_PREFIX=" + lab.prefix());
    System.out.println("LAB_INODES=" + java.util.Arrays.stream(NetnsLab.Node.values())
        .map(n -> Long.toString(lab.netnsInode(n))).collect(Collectors.joining(",")));
    System.out.println("LAB_POD_PID=" + lab.podPid());
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(120_000);
    lab.close();
  }
}
