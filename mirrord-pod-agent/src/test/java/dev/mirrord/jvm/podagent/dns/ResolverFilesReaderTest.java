package dev.mirrord.jvm.podagent.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.podagent.target.TargetProcess;
import dev.mirrord.jvm.protocol.Payload;
import dev.mirrord.jvm.protocol.RemoteResult;
import dev.mirrord.jvm.protocol.ResponseError;
import dev.mirrord.jvm.protocol.Target;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolverFilesReaderTest {
  @TempDir Path proc;

  private TargetProcess target() throws Exception {
    TargetProcess t = TargetProcess.under(proc, 4242);
    Files.createDirectories(t.resolvConf().getParent());
    return t;
  }

  private static ResponseError errorOf(RemoteResult<Payload> r) {
    assertThat(r.isOk()).as("%s", r).isFalse();
    return ((RemoteResult.Err<Payload>) r).error();
  }

  @Test
  void bothFilesAreSentAsTheTargetHasThem() throws Exception {
    TargetProcess t = target();
    Files.writeString(t.resolvConf(), "nameserver 198.18.0.53\nsearch default.svc.cluster.local\n");
    Files.write(t.hosts(), new byte[] {'1', '.', '2', '.', '3', '.', '4', ' ', 'h', (byte) 0xff, '\n'});

    Target.ResolverFiles files = ResolverFilesReader.read(7, t);

    assertThat(files.requestId()).isEqualTo(7);
    assertThat(new String(files.resolvConf().value().toByteArray(), StandardCharsets.US_ASCII))
        .isEqualTo("nameserver 198.18.0.53\nsearch default.svc.cluster.local\n");
    assertThat(files.hosts().value().toByteArray())
        .as("bytes, not text: whatever encoding the file has")
        .containsExactly('1', '.', '2', '.', '3', '.', '4', ' ', 'h', (byte) 0xff, '\n');
  }

  @Test
  void eachFileFailsOnItsOwn() throws Exception {
    TargetProcess t = target();
    Files.writeString(t.resolvConf(), "nameserver 198.18.0.53\n");

    Target.ResolverFiles files = ResolverFilesReader.read(8, t);

    assertThat(files.resolvConf().isOk()).isTrue();
    assertThat(errorOf(files.hosts()))
        .isEqualTo(new ResponseError.NotFound(t.hosts().toString()));
  }

  @Test
  void anUnreadableFileIsARemoteIoErrorNamingIt() throws Exception {
    TargetProcess t = target();
    Files.createDirectory(t.resolvConf()); // read(2) on a directory: EISDIR, whoever we are
    Files.writeString(t.hosts(), "127.0.0.1 localhost\n");

    Target.ResolverFiles files = ResolverFilesReader.read(9, t);

    assertThat(errorOf(files.resolvConf())).isInstanceOf(ResponseError.RemoteIo.class)
        .asString().contains(t.resolvConf().toString());
    assertThat(files.hosts().isOk()).isTrue();
  }

  @Test
  void aFileOverTheLimitIsRefusedWithEfbigAndTheLimitFitsItself() throws Exception {
    TargetProcess t = target();
    Files.write(t.resolvConf(), new byte[Target.MAX_RESOLVER_FILE_BYTES]);
    Files.write(t.hosts(), new byte[Target.MAX_RESOLVER_FILE_BYTES + 1]);

    Target.ResolverFiles files = ResolverFilesReader.read(10, t);

    assertThat(files.resolvConf().value().size()).isEqualTo(Target.MAX_RESOLVER_FILE_BYTES);
    ResponseError tooLarge = errorOf(files.hosts());
    assertThat(tooLarge).isInstanceOf(ResponseError.RemoteIo.class);
    assertThat(((ResponseError.RemoteIo) tooLarge).errno()).isEqualTo(Target.EFBIG);
    assertThat(tooLarge.describe()).contains("larger than 256 KiB");
  }
}
