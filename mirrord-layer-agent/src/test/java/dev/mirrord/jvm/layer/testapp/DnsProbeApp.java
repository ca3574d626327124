package dev.mirrord.jvm.layer.testapp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints {@code main.at=<System.currentTimeMillis()>} as main starts; resolves each argument with
 * {@code InetAddress.getAllByName} and prints {@code
 * <name>=<address>,<address>} or {@code <name>=UnknownHostException}; then {@code
 * getLocalHost=<name>/<address>}, and {@code done=true}.
 */
public final class DnsProbeApp {
  private DnsProbeApp() {}

  public static void main(String[] args) throws Exception {
    System.out.println("main.at=" + System.currentTimeMillis());
    System.out.println("mirrord.layer.connected=" + System.getProperty("mirrord.layer.connected"));
    for (String name : args) {
      try {
        List<String> out = new ArrayList<>();
        for (InetAddress a : InetAddress.getAllByName(name)) {
          out.add(a.getHostAddress());
        }
        System.out.println(name + "=" + String.join(",", out));
      } catch (UnknownHostException e) {
        System.out.println(name + "=UnknownHostException");
        System.out.println(name + ".message=" + e.getMessage());
      }
    }
    try {
      InetAddress local = InetAddress.getLocalHost();
      System.out.println("getLocalHost=" + local.getHostName() + "/" + local.getHostAddress());
    } catch (UnknownHostException e) {
      System.out.println("getLocalHost=UnknownHostException " + e.getMessage());
    }
    System.out.println("done=true");
  }
}
