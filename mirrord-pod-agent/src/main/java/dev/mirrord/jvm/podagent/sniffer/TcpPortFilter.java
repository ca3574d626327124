package dev.mirrord.jvm.podagent.sniffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The classic BPF program attached to the capture socket: it keeps TCP segments whose source or
 * destination port is subscribed and that carry payload or one of SYN, FIN, RST, and drops
 * everything else in the kernel, so the JVM never copies the pod's other traffic nor the pure ACKs
 * of the subscribed connections (about half of their packets in request/response traffic). The
 * socket is {@code SOCK_DGRAM}, so offset 0 is the IP header; the link-layer protocol comes from
 * the ancillary load {@code SKF_AD_PROTOCOL} (in host order).
 *
 * <pre>
 *       ld   proto                 ; A = skb->protocol (ancillary, k = SKF_AD_OFF + SKF_AD_PROTOCOL)
 *       jeq  #0x0800 → next : IPV6 ; IPv4?
 *       ldb  [9]                   ; IPv4 protocol
 *       jeq  #6      → next : DROP ; TCP?
 *       ldh  [6]                   ; flags | fragment offset
 *       jset #0x1fff → DROP : next ; a non-first fragment has no TCP header: drop
 *       ldxb {@literal 4*([0]&0xf)}  ; X = IHL * 4, so IPv4 options are skipped
 *       ldh  [2]                   ; total length
 *       sub  x                     ; A = TCP header + payload
 *       ja   TCP
 * IPV6: jeq  #0x86dd → next : DROP ; IPv6?
 *       ldx  #40                   ; X = where the header after the fixed one starts
 *       ldb  [6]                   ; A = its type (next header)
 *     4 times (EXT_1 … EXT_4):
 *       jeq  #6      → TCP6 : next ; TCP
 *       jeq  #0      → EXT_i : next ; hop-by-hop options (BIG TCP's jumbo payload option)
 *       jeq  #60     → EXT_i : next ; destination options
 *       jeq  #43     → next : DROP ; routing; anything else (fragment, AH, ESP, UDP…): drop
 * EXT_i: ldb [x + 1]               ; Hdr Ext Len, in 8-byte units beyond the first 8
 *       add  #1
 *       lsh  #3
 *       add  x
 *       st   M[1]                  ; where the next header starts
 *       ldb  [x + 0]               ; its type
 *       ldx  M[1]
 *       jeq  #6      → next : DROP ; after 4 extension headers, only TCP
 * TCP6: ldh  [4]                   ; payload length (extension headers + TCP header + payload)
 *       add  #40
 *       sub  x                     ; A = TCP header + payload
 *       ja   TCP
 * DROP: ret  #0
 * TCP:  st   M[0]                  ; M[0] = TCP segment length; X = TCP header offset
 *       ldh  [x + 0]               ; TCP source port
 *       jeq  #p1 → next : skip 1 ; ja SEGMENT   ; a pair per port: conditional jumps stay short
 *       ...
 *       ldh  [x + 2]               ; TCP destination port
 *       jeq  #p1 → next : skip 1 ; ja SEGMENT
 *       ...
 *       ret  #0
 * SEGMENT:
 *       ldb  [x + 13]              ; TCP flags
 *       jset #0x07 → ACCEPT : next ; SYN, FIN or RST: always kept
 *       ldb  [x + 12]              ; data offset in the high nibble, in 32-bit words
 *       rsh  #4
 *       lsh  #2
 *       tax                        ; X = TCP header length
 *       ld   M[0]
 *       sub  x                     ; A = payload length
 *       jeq  #0   → next : ACCEPT
 *       ret  #0                    ; a pure ACK: drop
 * ACCEPT:
 *       ret  #-1
 * </pre>
 *
 * <p>A packet too short for a load makes the kernel end the program with 0 (drop). The source port
 * is matched as well as the destination so the target server's FIN/RST segments and its ACKs
 * (carried by its answers) reach the tracker. An IP length of 0 (a BIG TCP super-packet, whose
 * length only the capture knows; over IPv6 it may carry a hop-by-hop jumbo payload header) makes the
 * computed payload length wrap around, so such packets are kept: they always carry data. An empty
 * port set compiles to the single instruction {@code ret #0}. Each port costs four instructions and
 * the kernel allows 4096, hence {@link #MAX_PORTS}.
 *
 * <p>IPv6 extension headers are walked as {@link TcpSegment} does, up to {@link
 * #MAX_IPV6_EXTENSION_HEADERS}: the hop-by-hop, destination options and routing headers a TCP
 * segment may follow (RFC 8200 section 4.1's order: hop-by-hop, destination options, routing,
 * destination options). Fragments (not reassembled, as for IPv4), AH and ESP (a segment that is
 * authenticated or encrypted end to end) are dropped.
 *
 * <p>Why dropping pure ACKs loses nothing the {@link TcpFlowTracker} needs: a client's pure ACK
 * changes nothing in its stream. A server's pure ACK served only to notice early that the capture
 * lost client bytes; the same ACK number rides on the server's next answer, FIN or RST (all kept),
 * and a hole that no server segment reveals still ends the flow after {@link
 * TcpFlowTracker.Config#gapTimeout}. Bytes after a hole were never delivered either way.
 */
public final class TcpPortFilter {
  public static final int MAX_PORTS = 1000;

  /** IPv6 extension headers the filter walks before TCP (hop-by-hop, destination options, routing). */
  static final int MAX_IPV6_EXTENSION_HEADERS = 4;

  // Opcode pieces of <linux/filter.h> (classic BPF).
  static final int BPF_LD = 0x00;
  static final int BPF_LDX = 0x01;
  static final int BPF_ST = 0x02;
  static final int BPF_ALU = 0x04;
  static final int BPF_JMP = 0x05;
  static final int BPF_RET = 0x06;
  static final int BPF_W = 0x00;
  static final int BPF_H = 0x08;
  static final int BPF_B = 0x10;
  static final int BPF_IMM = 0x00;
  static final int BPF_ABS = 0x20;
  static final int BPF_IND = 0x40;
  static final int BPF_MEM = 0x60;
  static final int BPF_MSH = 0xa0;
  static final int BPF_JA = 0x00;
  static final int BPF_JEQ = 0x10;
  static final int BPF_JSET = 0x40;
  static final int BPF_K = 0x00;
  static final int BPF_X = 0x08;
  static final int BPF_ADD = 0x00;
  static final int BPF_SUB = 0x10;
  static final int BPF_LSH = 0x60;
  static final int BPF_RSH = 0x70;
  static final int BPF_TAX = 0x00;
  static final int BPF_MISC = 0x07;

  /** TCP flags that are kept even without payload: FIN, SYN, RST. */
  static final int KEPT_FLAGS = TcpSegment.FIN | TcpSegment.SYN | TcpSegment.RST;

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
    if (ports.isEmpty()) {
      return List.of(Instruction.stmt(BPF_RET | BPF_K, 0));
    }
    TreeSet<Integer> sorted = new TreeSet<>(ports);
    for (int port : sorted) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
    }
    Assembler a = new Assembler();
    a.stmt(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL);
    a.jump(BPF_JEQ | BPF_K, 0x0800, null, "IPV6");
    a.stmt(BPF_LD | BPF_B | BPF_ABS, 9);
    a.jump(BPF_JEQ | BPF_K, 6, null, "DROP");
    a.stmt(BPF_LD | BPF_H | BPF_ABS, 6);
    a.jump(BPF_JSET | BPF_K, 0x1fff, "DROP", null);
    a.stmt(BPF_LDX | BPF_B | BPF_MSH, 0);
    a.stmt(BPF_LD | BPF_H | BPF_ABS, 2);
    a.stmt(BPF_ALU | BPF_SUB | BPF_X, 0);
    a.ja("TCP");
    a.label("IPV6");
    a.jump(BPF_JEQ | BPF_K, 0x86dd, null, "DROP");
    a.stmt(BPF_LDX | BPF_W | BPF_IMM, 40);
    a.stmt(BPF_LD | BPF_B | BPF_ABS, 6);
    for (int i = 1; i <= MAX_IPV6_EXTENSION_HEADERS; i++) {
      String ext = "EXT_" + i;
      a.jump(BPF_JEQ | BPF_K, TcpSegment.PROTO_TCP, "TCP6", null);
      a.jump(BPF_JEQ | BPF_K, TcpSegment.IPV6_HOP_BY_HOP, ext, null);
      a.jump(BPF_JEQ | BPF_K, TcpSegment.IPV6_DESTINATION_OPTIONS, ext, null);
      a.jump(BPF_JEQ | BPF_K, TcpSegment.IPV6_ROUTING, null, "DROP");
      a.label(ext);
      a.stmt(BPF_LD | BPF_B | BPF_IND, 1);
      a.stmt(BPF_ALU | BPF_ADD | BPF_K, 1);
      a.stmt(BPF_ALU | BPF_LSH | BPF_K, 3);
      a.stmt(BPF_ALU | BPF_ADD | BPF_X, 0);
      a.stmt(BPF_ST, 1);
      a.stmt(BPF_LD | BPF_B | BPF_IND, 0);
      a.stmt(BPF_LDX | BPF_W | BPF_MEM, 1);
    }
    a.jump(BPF_JEQ | BPF_K, TcpSegment.PROTO_TCP, null, "DROP");
    a.label("TCP6");
    a.stmt(BPF_LD | BPF_H | BPF_ABS, 4);
    a.stmt(BPF_ALU | BPF_ADD | BPF_K, 40);
    a.stmt(BPF_ALU | BPF_SUB | BPF_X, 0);
    a.ja("TCP");
    a.label("DROP");
    a.stmt(BPF_RET | BPF_K, 0);
    a.label("TCP");
    a.stmt(BPF_ST, 0);
    List<Instruction> program = a.build();
    // The port matches jump to SEGMENT, after all of them: 2 instructions per port and side, one
    // load per side, the final drop.
    int segment = program.size() + 2 * (1 + 2 * sorted.size()) + 1;
    for (int portOffset : new int[] {0, 2}) {
      program.add(Instruction.stmt(BPF_LD | BPF_H | BPF_IND, portOffset));
      for (int port : sorted) {
        program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1));
        int ja = program.size();
        program.add(Instruction.stmt(BPF_JMP | BPF_JA, segment - (ja + 1)));
      }
    }
    program.add(Instruction.stmt(BPF_RET | BPF_K, 0));
    if (program.size() != segment) {
      throw new IllegalStateException("SEGMENT at " + program.size() + ", not " + segment);
    }
    program.add(Instruction.stmt(BPF_LD | BPF_B | BPF_IND, 13)); // SEGMENT
    program.add(Instruction.jump(BPF_JMP | BPF_JSET | BPF_K, KEPT_FLAGS, 8, 0)); // → ACCEPT
    program.add(Instruction.stmt(BPF_LD | BPF_B | BPF_IND, 12));
    program.add(Instruction.stmt(BPF_ALU | BPF_RSH | BPF_K, 4));
    program.add(Instruction.stmt(BPF_ALU | BPF_LSH | BPF_K, 2));
    program.add(Instruction.stmt(BPF_MISC | BPF_TAX, 0));
    program.add(Instruction.stmt(BPF_LD | BPF_W | BPF_MEM, 0));
    program.add(Instruction.stmt(BPF_ALU | BPF_SUB | BPF_X, 0));
    program.add(Instruction.jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1)); // → drop : ACCEPT
    program.add(Instruction.stmt(BPF_RET | BPF_K, 0));
    program.add(Instruction.stmt(BPF_RET | BPF_K, ACCEPT)); // ACCEPT
    return program;
  }

  /**
   * A program under construction whose jumps name labels further down ({@code null}: the next
   * instruction); {@link #build} turns them into the forward skips classic BPF wants.
   */
  private static final class Assembler {
    private final List<Instruction> code = new ArrayList<>();
    private final List<String[]> targets = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    void stmt(int code, int k) {
      add(Instruction.stmt(code, k), null, null);
    }

    /** A conditional jump ({@code BPF_JMP} is added to {@code op}). */
    void jump(int op, int k, String ifTrue, String ifFalse) {
      add(Instruction.jump(BPF_JMP | op, k, 0, 0), ifTrue, ifFalse);
    }

    void ja(String label) {
      add(Instruction.stmt(BPF_JMP | BPF_JA, 0), label, null);
    }

    void label(String name) {
      if (labels.putIfAbsent(name, code.size()) != null) {
        throw new IllegalStateException("label " + name + " twice");
      }
    }

    private void add(Instruction insn, String ifTrue, String ifFalse) {
      code.add(insn);
      targets.add(new String[] {ifTrue, ifFalse});
    }

    List<Instruction> build() {
      List<Instruction> out = new ArrayList<>(code.size());
      for (int i = 0; i < code.size(); i++) {
        Instruction insn = code.get(i);
        int jt = skip(i, targets.get(i)[0]);
        int jf = skip(i, targets.get(i)[1]);
        out.add((insn.code() & 0xf0) == BPF_JA && (insn.code() & 0x07) == BPF_JMP
            ? Instruction.stmt(insn.code(), jt)
            : new Instruction(insn.code(), jt, jf, insn.k()));
      }
      return out;
    }

    private int skip(int from, String label) {
      if (label == null) {
        return 0;
      }
      Integer to = labels.get(label);
      if (to == null || to <= from) {
        throw new IllegalStateException("no label " + label + " after instruction " + from);
      }
      return to - from - 1;
    }
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
