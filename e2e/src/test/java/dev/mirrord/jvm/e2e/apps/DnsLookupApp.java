package dev.mirrord.jvm.e2e.apps;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code DnsLookupApp NAME...}: resolves each name with {@code InetAddress.getAllByName} and prints {@code
 * NAME=<address>,<address>} or {@code NAME=UnknownHostException}; then {@code getLocalHost=<name>/<address>}.
 */
public final class DnsLookupApp {
  private DnsLookupApp() {}

  public static void main(String[] args) {
    for (String name : args) {
      try {
        List<String> out = new ArrayList<>();
        for (InetAddress a : InetAddress.getAllByName(name)) {
          out.add(a.getHostAddress());
        }
        System.out.println(name + "=" + String.join(",", out));
      } catch (UnknownHostException e) {
        System.out.println(name + "=UnknownHostException");
      }
    }
    try {
      InetAddress local = InetAddress.getLocalHost();
      System.out.println("getLocalHost=" + local.getHostName() + "/" + local.getHostAddress());
    } catch (UnknownHostException e) {
      System.out.println("getLocalHost=UnknownHostException");
    }
  }
}
