package dev.mirrord.jvm.podagent.sniffer;

import java.util.List;

/**
 * A classic BPF interpreter following the kernel's rules ({@code net/core/filter.c}), for the
 * instructions socket filters use: loads (absolute, indirect, length, immediate, MSH, scratch
 * memory, the {@code SKF_AD_PROTOCOL} ancillary), stores, ALU, jumps and returns. An out-of-bounds
 * packet load ends the program with 0, like the kernel does.
 */
final class CbpfInterpreter {
  private static final int SKF_AD_OFF = -0x1000;

  private CbpfInterpreter() {}

  /** Runs {@code program} on {@code packet} whose link-layer protocol is {@code etherType}. */
  static int run(List<TcpPortFilter.Instruction> program, byte[] packet, int etherType) {
    validate(program);
    int a = 0;
    int x = 0;
    int[] mem = new int[16];
    int pc = 0;
    for (int steps = 0; steps <= program.size(); steps++) {
      TcpPortFilter.Instruction insn = program.get(pc++);
      int code = insn.code();
      int k = insn.k();
      switch (code & 0x07) {
        case 0x00 -> { // LD
          int mode = code & 0xe0;
          int size = code & 0x18;
          switch (mode) {
            case 0x00 -> a = k;
            case 0x80 -> a = packet.length;
            case 0x60 -> a = mem[k];
            case 0x20, 0x40 -> {
              long offset = mode == 0x20 ? k : (long) x + k;
              if (mode == 0x20 && k >= SKF_AD_OFF && k < 0) {
                if (k != SKF_AD_OFF) {
                  throw new UnsupportedOperationException("ancillary " + (k - SKF_AD_OFF));
                }
                a = etherType;
                break;
              }
              Integer value = load(packet, offset, size);
              if (value == null) {
                return 0;
              }
              a = value;
            }
            default -> throw new UnsupportedOperationException("ld mode " + mode);
          }
        }
        case 0x01 -> { // LDX
          int mode = code & 0xe0;
          switch (mode) {
            case 0x00 -> x = k;
            case 0x80 -> x = packet.length;
            case 0x60 -> x = mem[k];
            case 0xa0 -> {
              if (k < 0 || k >= packet.length) {
                return 0;
              }
              x = (packet[k] & 0x0f) * 4;
            }
            default -> throw new UnsupportedOperationException("ldx mode " + mode);
          }
        }
        case 0x02 -> mem[k] = a; // ST
        case 0x03 -> mem[k] = x; // STX
        case 0x04 -> { // ALU
          int operand = (code & 0x08) != 0 ? x : k;
          a =
              switch (code & 0xf0) {
                case 0x00 -> a + operand;
                case 0x10 -> a - operand;
                case 0x20 -> a * operand;
                case 0x30 -> operand == 0 ? 0 : Integer.divideUnsigned(a, operand);
                case 0x40 -> a | operand;
                case 0x50 -> a & operand;
                case 0x60 -> a << operand;
                case 0x70 -> a >>> operand;
                case 0x80 -> -a;
                case 0xa0 -> a ^ operand;
                default -> throw new UnsupportedOperationException("alu " + code);
              };
        }
        case 0x05 -> { // JMP
          int operand = (code & 0x08) != 0 ? x : k;
          int op = code & 0xf0;
          if (op == 0x00) {
            pc += k;
          } else {
            boolean taken =
                switch (op) {
                  case 0x10 -> a == operand;
                  case 0x20 -> Integer.compareUnsigned(a, operand) > 0;
                  case 0x30 -> Integer.compareUnsigned(a, operand) >= 0;
                  case 0x40 -> (a & operand) != 0;
                  default -> throw new UnsupportedOperationException("jmp " + code);
                };
            pc += taken ? insn.jt() : insn.jf();
          }
        }
        case 0x06 -> { // RET
          return (code & 0x18) == 0x10 ? a : k;
        }
        case 0x07 -> { // MISC
          if ((code & 0xf8) == 0x00) {
            x = a; // TAX
          } else {
            a = x; // TXA
          }
        }
        default -> throw new IllegalStateException();
      }
    }
    throw new IllegalStateException("program did not end");
  }

  /** The kernel's static checks: length, jumps inside the program, ends with a return. */
  static void validate(List<TcpPortFilter.Instruction> program) {
    if (program.isEmpty() || program.size() > 4096) {
      throw new IllegalArgumentException("bad length " + program.size());
    }
    for (int i = 0; i < program.size(); i++) {
      TcpPortFilter.Instruction insn = program.get(i);
      if ((insn.code() & 0x07) == 0x05) {
        int last =
            (insn.code() & 0xf0) == 0 ? i + 1 + insn.k() : i + 1 + Math.max(insn.jt(), insn.jf());
        if (last >= program.size()) {
          throw new IllegalArgumentException("jump out of program at " + i);
        }
      }
    }
    if ((program.getLast().code() & 0x07) != 0x06) {
      throw new IllegalArgumentException("does not end with ret");
    }
  }

  private static Integer load(byte[] packet, long offset, int size) {
    int width =
        switch (size) {
          case 0x00 -> 4;
          case 0x08 -> 2;
          default -> 1;
        };
    if (offset < 0 || offset + width > packet.length) {
      return null;
    }
    int at = (int) offset;
    int value = 0;
    for (int i = 0; i < width; i++) {
      value = (value << 8) | (packet[at + i] & 0xff);
    }
    return value;
  }
}
