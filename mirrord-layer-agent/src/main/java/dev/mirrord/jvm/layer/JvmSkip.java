package dev.mirrord.jvm.layer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether the layer stays out of this JVM: a build tool's own JVM ({@code skip_build_tools}, on by
 * default) or one the user listed ({@code skip_jvms}). Such a JVM gets no hook and no connection,
 * but keeps {@code JAVA_TOOL_OPTIONS}, so the JVMs it starts (the app of {@code spring-boot:run}
 * or {@code exec:exec}, Surefire/Failsafe forks, Gradle's {@code JavaExec} and test workers) get
 * the layer.
 *
 * <p>The decision reads only {@code sun.java.command} (the launcher sets it before the JVM starts:
 * the main class or the {@code -jar} path, then the arguments) and {@code java.class.path}; it
 * is string matching, no class loading and no regular expressions, so the JVMs the layer does
 * attach to pay nothing measurable for it.
 *
 * <p>A glob matches the whole of one of: the main class ({@code org.gradle.launcher.GradleMain}),
 * a module main's class with or without its module ({@code jdk.compiler/com.sun.tools.javac.Main}),
 * the {@code -jar} path as given or its file name ({@code app.jar}). {@code *} matches any run of
 * characters (dots and slashes too), {@code ?} one character.
 */
public final class JvmSkip {

  /** A tool whose own JVM stays local: its main class or jar as a glob. */
  public record BuildTool(String name, String program) {}

  /**
   * The build tools' own JVMs. Tools whose default is to run the user's code inside their own JVM
   * (sbt {@code run}/{@code test} without {@code fork}, Ant's {@code java}/{@code junit} tasks
   * without {@code fork}) are left out on purpose: skipping them would skip the app.
   */
  public static final List<BuildTool> BUILD_TOOLS =
      List.of(
          new BuildTool("Maven", "org.codehaus.plexus.classworlds.launcher.Launcher"),
          new BuildTool("the Maven wrapper", "org.apache.maven.wrapper.MavenWrapperMain"),
          new BuildTool("the mvnd daemon", "org.mvndaemon.mvnd.common.MavenDaemon"),
          new BuildTool("the mvnd client", "org.mvndaemon.mvnd.client.DefaultClient"),
          new BuildTool("Gradle", "org.gradle.launcher.GradleMain"),
          new BuildTool("the Gradle wrapper", "org.gradle.wrapper.GradleWrapperMain"),
          new BuildTool("the Gradle daemon", "org.gradle.launcher.daemon.bootstrap.GradleDaemon"),
          new BuildTool("the Kotlin compile daemon", "org.jetbrains.kotlin.daemon.KotlinCompileDaemon"),
          new BuildTool("kotlinc", "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler"),
          new BuildTool("IntelliJ's build process", "org.jetbrains.jps.cmdline.BuildMain"),
          new BuildTool("javac", "com.sun.tools.javac.Main"),
          new BuildTool("javadoc", "jdk.javadoc.internal.tool.Main"),
          new BuildTool("jar", "sun.tools.jar.Main"),
          new BuildTool("jlink", "jdk.tools.jlink.internal.Main"),
          new BuildTool("jdeps", "com.sun.tools.jdeps.Main"),
          new BuildTool("jps", "sun.tools.jps.Jps"),
          new BuildTool("jcmd", "sun.tools.jcmd.JCmd"),
          new BuildTool("keytool", "sun.security.tools.keytool.Main"));

  private JvmSkip() {}

  /**
   * Why this JVM is skipped, or {@code null} if the layer attaches.
   *
   * @param javaCommand {@code sun.java.command}
   * @param classPath {@code java.class.path} (tells a {@code -jar} path with spaces from its
   *     arguments)
   */
  public static String skipReason(
      String javaCommand, String classPath, boolean skipBuildTools, List<String> skipJvms) {
    List<String> names = programNames(javaCommand, classPath);
    if (names.isEmpty()) {
      return null;
    }
    for (String glob : skipJvms) {
      if (matchesAny(glob, names)) {
        return names.get(0) + " matches skip_jvms '" + glob + "'";
      }
    }
    if (skipBuildTools) {
      for (BuildTool tool : BUILD_TOOLS) {
        if (matchesAny(tool.program(), names)) {
          return names.get(0) + " is " + tool.name() + "'s own JVM (skip_build_tools)";
        }
      }
    }
    return null;
  }

  /** {@link #skipReason} for this JVM, or why it runs nothing the layer could matter to. */
  static String skipReason(LayerConfig config) {
    String command = System.getProperty("sun.java.command");
    if (runsNoMainClass(command, System.getProperty("sun.java.launcher"))) {
      return "this JVM runs no main class (java -version or the like)";
    }
    return skipReason(
        command, System.getProperty("java.class.path"), config.skipBuildTools(), config.skipJvms());
  }

  /**
   * Whether the JDK's launcher started this JVM without a main class: {@code java -version}, {@code
   * -XshowSettings} and the like, which build tools and IDEs run to probe a JDK. (A JVM embedded
   * through JNI has no {@code sun.java.command} either, but is not started by that launcher.)
   */
  static boolean runsNoMainClass(String javaCommand, String launcher) {
    return (javaCommand == null || javaCommand.isBlank()) && "SUN_STANDARD".equals(launcher);
  }

  /**
   * Whether this JVM is a build tool's own by {@link #BUILD_TOOLS} (the default settings), or a
   * launcher run without a main class.
   */
  static boolean isBuildTool() {
    String command = System.getProperty("sun.java.command");
    return runsNoMainClass(command, System.getProperty("sun.java.launcher"))
        || skipReason(command, System.getProperty("java.class.path"), true, List.of()) != null;
  }

  /**
   * For a skipped Maven JVM that runs {@code exec:java}: the app then runs inside Maven's own JVM,
   * which stays local. The one line to show, or {@code null}.
   */
  public static String inProcessRunHint(String javaCommand) {
    if (javaCommand == null) {
      return null;
    }
    String[] words = javaCommand.trim().split("\\s+");
    if (words.length < 2 || !isMavenLauncher(words[0])) {
      return null;
    }
    for (int i = 1; i < words.length; i++) {
      if (isExecJavaGoal(words[i])) {
        return words[i]
            + " runs the app inside Maven's own JVM, which mirrord leaves local (skip_build_tools):"
            + " use exec:exec or spring-boot:run, which start the app in a JVM of its own, or set"
            + " \"skip_build_tools\": false";
      }
    }
    return null;
  }

  private static boolean isMavenLauncher(String program) {
    return program.equals("org.codehaus.plexus.classworlds.launcher.Launcher")
        || program.equals("org.apache.maven.wrapper.MavenWrapperMain")
        || program.equals("org.mvndaemon.mvnd.client.DefaultClient");
  }

  /** {@code exec:java}, {@code org.codehaus.mojo:exec-maven-plugin[:version]:java}. */
  static boolean isExecJavaGoal(String word) {
    if (word.equals("exec:java")) {
      return true;
    }
    String plugin = "org.codehaus.mojo:exec-maven-plugin";
    if (!word.startsWith(plugin + ":") || !word.endsWith(":java")) {
      return false;
    }
    // plugin:java or plugin:<version>:java
    String middle = word.substring(plugin.length(), word.length() - ":java".length());
    return middle.isEmpty() || (middle.startsWith(":") && middle.indexOf(':', 1) < 0);
  }

  /**
   * What a glob may match for this JVM, the program first: the main class or {@code -jar} path,
   * then a module main's class alone, or the jar's file name. Empty if unknown.
   */
  static List<String> programNames(String javaCommand, String classPath) {
    List<String> names = new ArrayList<>(3);
    if (javaCommand == null || javaCommand.isBlank()) {
      return names;
    }
    String command = javaCommand.trim();
    String program;
    if (classPath != null
        && !classPath.isEmpty()
        && command.startsWith(classPath)
        && (command.length() == classPath.length()
            || Character.isWhitespace(command.charAt(classPath.length())))
        && classPath.toLowerCase(Locale.ROOT).endsWith(".jar")) {
      program = classPath; // java -jar <path>, whose path may have spaces
    } else {
      int space = indexOfWhitespace(command);
      program = space < 0 ? command : command.substring(0, space);
    }
    names.add(program);
    int slash = program.lastIndexOf('/');
    if (slash >= 0 && slash + 1 < program.length()) {
      names.add(program.substring(slash + 1)); // module/class, or dir/app.jar
    }
    return names;
  }

  private static int indexOfWhitespace(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        return i;
      }
    }
    return -1;
  }

  private static boolean matchesAny(String glob, List<String> names) {
    for (String name : names) {
      if (globMatches(glob, name)) {
        return true;
      }
    }
    return false;
  }

  /** Whether all of {@code text} matches {@code glob} ({@code *} any run, {@code ?} one char). */
  static boolean globMatches(String glob, String text) {
    int g = 0;
    int t = 0;
    int starG = -1;
    int starT = 0;
    while (t < text.length()) {
      if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == text.charAt(t))) {
        g++;
        t++;
      } else if (g < glob.length() && glob.charAt(g) == '*') {
        starG = g++;
        starT = t;
      } else if (starG >= 0) {
        g = starG + 1;
        t = ++starT;
      } else {
        return false;
      }
    }
    while (g < glob.length() && glob.charAt(g) == '*') {
      g++;
    }
    return g == glob.length();
  }
}
