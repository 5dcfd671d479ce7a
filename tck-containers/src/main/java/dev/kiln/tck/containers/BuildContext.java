package dev.kiln.tck.containers;

import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A Docker build context (a tar stream) of a few named texts and files, written on a thread of
 * its own while Docker reads it, so a large file is never held in memory or copied to disk.
 */
final class BuildContext {
    private BuildContext() {}

    static InputStream of(Map<String, String> texts, Map<String, Path> files) throws IOException {
        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream out = new PipedOutputStream(in);
        AtomicReference<IOException> failure = new AtomicReference<>();
        Thread writer = Thread.ofPlatform().daemon().name("kiln-build-context").start(() -> {
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                for (Map.Entry<String, String> t : texts.entrySet()) {
                    byte[] bytes = t.getValue().getBytes(StandardCharsets.UTF_8);
                    TarArchiveEntry e = new TarArchiveEntry(t.getKey());
                    e.setSize(bytes.length);
                    tar.putArchiveEntry(e);
                    tar.write(bytes);
                    tar.closeArchiveEntry();
                }
                for (Map.Entry<String, Path> f : files.entrySet()) {
                    tar.putArchiveEntry(tar.createArchiveEntry(f.getValue(), f.getKey()));
                    Files.copy(f.getValue(), tar);
                    tar.closeArchiveEntry();
                }
            } catch (IOException e) {
                failure.set(e);
            }
        });
        return new InputStream() {
            @Override public int read() throws IOException { return in.read(); }
            @Override public int read(byte[] b, int off, int len) throws IOException { return in.read(b, off, len); }
            @Override public void close() throws IOException {
                in.close();
                try {
                    writer.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                // After a failed build this is a suppressed exception beside Docker's; alone, the context was short.
                if (failure.get() != null) throw failure.get();
            }
        };
    }
}
