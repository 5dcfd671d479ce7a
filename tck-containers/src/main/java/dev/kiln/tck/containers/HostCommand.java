package dev.kiln.tck.containers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A command run on the host (debootstrap, tar) whose failure becomes an exception carrying the end of its output. */
final class HostCommand {
    private HostCommand() {}

    static void run(String what, List<String> command) {
        Path log = null;
        try {
            log = Files.createTempFile("kiln-host-command", ".log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            int rc = p.waitFor();
            if (rc != 0) {
                List<String> out = Files.readAllLines(log);
                throw new IllegalStateException(what + " failed (exit " + rc + "): " + String.join(" ", command) + "\n"
                        + String.join("\n", out.subList(Math.max(0, out.size() - 20), out.size())));
            }
        } catch (IOException e) {
            throw new IllegalStateException(what + ": cannot run " + command.getFirst() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " was interrupted", e);
        } finally {
            if (log != null) log.toFile().delete();
        }
    }
}
