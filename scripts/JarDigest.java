import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * {@code java scripts/JarDigest.java FILE.jar}: a SHA-256 of the jar's entries (names and bytes, in order),
 * without the timestamps a rebuild changes; scripts/image.sh keys its cache on it.
 */
public class JarDigest {
  public static void main(String[] args) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (ZipFile zip = new ZipFile(args[0])) {
      for (ZipEntry e : zip.stream().toList()) {
        sha.update(e.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sha.update((byte) 0);
        try (InputStream in = zip.getInputStream(e)) {
          sha.update(in.readAllBytes());
        }
      }
    }
    System.out.println(HexFormat.of().formatHex(sha.digest()));
  }
}
