package dev.mirrord.jvm.layer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mirrord.jvm.layer.hook.TypeInstrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import net.bytebuddy.description.modifier.Visibility;
import net.bytebuddy.description.type.TypeDescription;
import org.junit.jupiter.api.Test;

class LayerInstallerTest {

  private static TypeDescription type(String name) {
    return new TypeDescription.Latent(name, Visibility.PUBLIC.getMask(), TypeDescription.Generic.OBJECT);
  }

  @Test
  void everyHookNamesExactlyTheTypesItsInstrumentationsMatch() {
    List<LayerInstaller.Hook> hooks = LayerInstaller.hooks();
    Set<String> allNames = new TreeSet<>();
    hooks.forEach(h -> allNames.addAll(h.typeNames()));

    for (LayerInstaller.Hook hook : hooks) {
      Set<String> matched = new TreeSet<>();
      for (TypeInstrumentation ti : hook.instrumentations()) {
        List<String> own = new ArrayList<>();
        for (String name : allNames) {
          if (ti.typeMatcher().matches(type(name))) {
            own.add(name);
          }
        }
        assertThat(own).as("%s matches one of its hook's names", ti).isNotEmpty();
        matched.addAll(own);
      }
      assertThat(matched)
          .as("the transformer only hands Byte Buddy the names a hook lists: they must be what it matches")
          .isEqualTo(new TreeSet<>(hook.typeNames()));
    }
  }

  @Test
  void theHookedTypesAreExactNamesOfJdkAndNettyClasses() {
    Set<String> names = new TreeSet<>();
    LayerInstaller.hooks().forEach(h -> names.addAll(h.typeNames()));

    assertThat(names)
        .contains("java.net.ServerSocket", "java.net.Socket", "sun.nio.ch.SocketChannelImpl")
        .contains("io.netty.channel.epoll.AbstractEpollChannel")
        .contains("io.grpc.netty.shaded.io.netty.channel.epoll.AbstractEpollChannel")
        .contains("java.io.FileInputStream", "sun.nio.fs.UnixNativeDispatcher")
        .allSatisfy(n -> assertThat(n).doesNotContain("*"));
  }
}
