package dev.activa.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;

/**
 * Replaces a file all at once: the new content goes to a temporary file in the same directory
 * (so the rename stays on one file system), is forced to disk, and is then renamed over the
 * target. A reader, or a crash, sees either the old file or the new one, never half of one.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    private static final SecureRandom RANDOM = new SecureRandom();

    /** Writes the content of a file through a channel positioned at 0. */
    @FunctionalInterface
    public interface Body {
        void writeTo(FileChannel channel) throws IOException;
    }

    public static void write(Path target, byte[] content) throws IOException {
        write(target, channel -> writeFully(channel, ByteBuffer.wrap(content)));
    }

    public static void write(Path target, Body body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        // A dot-name so a half-written temp left by a killed process is not mistaken for output.
        // Not Files.createTempFile: its owner-only permissions would survive the rename, whereas
        // CREATE_NEW gives the usual umask-governed ones.
        Path temp = dir.resolve("." + absolute.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        var channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
        boolean moved = false;
        try {
            try (channel) {
                body.writeTo(channel);
                channel.force(true);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
            syncDirectory(dir);
        } finally {
            if (!moved) Files.deleteIfExists(temp);
        }
    }

    public static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) channel.write(buffer);
    }

    /** Makes the rename itself durable; not every platform lets a directory be opened, so best effort. */
    private static void syncDirectory(Path dir) {
        try (var channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // The data is already on disk; only the directory entry's durability is at stake.
        }
    }
}
