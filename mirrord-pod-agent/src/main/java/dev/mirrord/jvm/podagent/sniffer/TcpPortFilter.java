package dev.mirrord.jvm.podagent.sniffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The classic BPF program attached to the capture socket: it keeps TCP packets whose source or
 * destination port is subscribed and drops everything else in the kernel, so the JVM never copies
 * the pod's other traffic. The socket is {@code SOCK_DGRAM}, so offset 0 is the IP header; the
 * link-layer protocol comes from the ancillary load {@code SKF_AD_PROTOCOL} (in host order).
 *
 * <pre>
 *  0  ld   proto                 ; A = skb->protocol (ancillary, k = SKF_AD_OFF + SKF_AD_PROTOCOL)
 *  1  jeq  #0x0800   → 2 : 8     ; IPv4?
 *  2  ldb  [9]                   ; IPv4 protocol
 *  3  jeq  #6        → 4 : 13    ; TCP?
 *  4  ldh  [6]                   ; flags | fragment offset
 *  5  jset #0x1fff   → 13 : 6    ; a non-first fragment has no TCP header: drop
 *  6  ldxb {@literal 4*([0]&0xf)}  ; X = IHL * 4, so IPv4 options are skipped
 *  7  ja   14
 *  8  jeq  #0x86dd   → 9 : 13    ; IPv6?
 *  9  ldb  [6]                   ; next header
 * 10  jeq  #6        → 11 : 13   ; TCP right after the fixed header (no extension headers)
 * 11  ldx  #40
 * 12  ja   14
 * 13  ret  #0                    ; drop
 * 14  ldh  [x + 0]               ; TCP source port
 *     jeq  #p1 → next : skip 1 ; ret #-1    ; one pair per port, so every jump is short
 *     ...
 *     ldh  [x + 2]               ; TCP destination port
 *     jeq  #p1 → next : skip 1 ; ret #-1
 *     ...
 *     ret  #0
 * </pre>
 *
 * <p>A packet too short for a load makes the kernel end the program with 0 (drop). The source port
 * is matched as well as the destination so the target server's FIN/RST/ACK segments reach the
 * tracker. An empty port set compiles to the single instruction {@code ret #0}. Each port costs
 * four instructions and the kernel allows 4096, hence {@link #MAX_PORTS}.
 */
public final class TcpPortFilter {
  public static final int MAX_PORTS = 1000;

  // Opcode pieces of <linux/filter.h> (classic BPF).
  static final int BPF_LD = 0x00;
  static final int BPF_LDX = 0x01;
  static final int BPF_JMP = 0x05;
  static final int BPF_RET = 0x06;
  static final int BPF_W = 0x00;
  static final int BPF_H = 0x08;
  static final int BPF_B = 0x10;
  static final int BPF_IMM = 0x00;
  static final int BPF_ABS = 0x20;
  static final int BPF_IND = 0x40;
  static final int BPF_MSH = 0xa0;
  static final int BPF_JA = 0x00;
  static final int BPF_JEQ = 0x10;
  static final int BPF_JSET = 0x40;
  static final int BPF_K = 0x00;
  static final int SKF_AD_OFF = -0x1000;
  static final int SKF_AD_PROTOCOL = 0;

  /** "Keep the whole packet." */
  static final int ACCEPT = -1;

  /**
   * One {@code struct sock_filter}, 8 bytes:
   *
   * <pre>
   *  0      2    3    4              8
   *  +------+----+----+--------------+
   *  | code | jt | jf |      k       |   code u16, jt/jf u8 (forward skips), k u32 (native order)
   *  +------+----+----+--------------+
   * </pre>
   */
  public record Instruction(int code, int jt, int jf, int k) {
    public Instruction {
      if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
        throw new IllegalArgumentException("jump out of range: " + jt + "/" + jf);
      }
    }

    static Instruction stmt(int code, int k) {
      return new Instruction(code, 0, 0, k);
    }

    static Instruction jump(int code, int k, int jt, int jf) {
      return new Instruction(code, jt, jf, k);
    }
  }

  private TcpPortFilter() {}

  /** The program for {@code ports}; see the class comment. */
  public static List<Instruction> compile(Set<Integer> ports) {
    if (ports.size() > MAX_PORTS) {
      throw new IllegalArgumentException(
          "at most " + MAX_PORTS + " ports can be captured, not " + ports.size());
    }
    List<Instruction> program = new ArrayList<>();
    if (ports.isEmpty()) {
      program.add(Instruction.stmt(BPF_RET | BPF_K, 0));
      return program;
    }
    TreeSet<Integer> sorted = new TreeSet<>(ports);
    for (int port : sorted) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
    }
    program.add(Instruction.stmt(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL)); // 0
    program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 6)); // 1 → 2 : 8
    program.add(Instruction.stmt(BPF_LD | BPF_B | BPF_ABS, 9)); // 2
    program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 9)); // 3 → 4 : 13
    program.add(Instruction.stmt(BPF_LD | BPF_H | BPF_ABS, 6)); // 4
    program.add(Instruction.jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 7, 0)); // 5 → 13 : 6
    program.add(Instruction.stmt(BPF_LDX | BPF_B | BPF_MSH, 0)); // 6
    program.add(Instruction.stmt(BPF_JMP | BPF_JA, 6)); // 7 → 14
    program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 4)); // 8 → 9 : 13
    program.add(Instruction.stmt(BPF_LD | BPF_B | BPF_ABS, 6)); // 9
    program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 2)); // 10 → 11 : 13
    program.add(Instruction.stmt(BPF_LDX | BPF_W | BPF_IMM, 40)); // 11
    program.add(Instruction.stmt(BPF_JMP | BPF_JA, 1)); // 12 → 14
    program.add(Instruction.stmt(BPF_RET | BPF_K, 0)); // 13
    for (int portOffset : new int[] {0, 2}) {
      program.add(Instruction.stmt(BPF_LD | BPF_H | BPF_IND, portOffset));
      for (int port : sorted) {
        program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1));
        program.add(Instruction.stmt(BPF_RET | BPF_K, ACCEPT));
      }
    }
    program.add(Instruction.stmt(BPF_RET | BPF_K, 0));
    return program;
  }

  /**
   * The program as a {@code struct sock_fprog} for {@code SO_ATTACH_FILTER}, allocated in {@code
   * arena} (the kernel copies it during the call):
   *
   * <pre>
   *  0       2            8                16
   *  +-------+------------+----------------+
   *  |  len  |  padding   | filter pointer |   len u16 = instruction count
   *  +-------+------------+----------------+
   * </pre>
   */
  static MemorySegment toSockFprog(List<Instruction> program, Arena arena) {
    MemorySegment filter = arena.allocate(8L * program.size(), 8);
    for (int i = 0; i < program.size(); i++) {
      Instruction insn = program.get(i);
      long at = 8L * i;
      filter.set(ValueLayout.JAVA_SHORT, at, (short) insn.code());
      filter.set(ValueLayout.JAVA_BYTE, at + 2, (byte) insn.jt());
      filter.set(ValueLayout.JAVA_BYTE, at + 3, (byte) insn.jf());
      filter.set(ValueLayout.JAVA_INT, at + 4, insn.k());
    }
    MemorySegment fprog = arena.allocate(16, 8);
    fprog.set(ValueLayout.JAVA_SHORT, 0, (short) program.size());
    fprog.set(ValueLayout.ADDRESS, 8, filter);
    return fprog;
  }
}
