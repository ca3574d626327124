/**
 * File-open hooks at the JDK's narrowest points above the native {@code open}: {@code
 * FileInputStream.open} (also under {@code FileReader}), {@code RandomAccessFile.open}, and {@code
 * sun.nio.fs.UnixNativeDispatcher.open} (under every NIO stream, reader and channel). The same three
 * methods exist with the same signatures on JDK 17 through 25.
 */
package dev.mirrord.jvm.layer.hook.file;
