package dev.kiln.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * How long ago this process was started, to the clock tick (10 ms on Linux).
 *
 * <p>{@link ProcessHandle.Info#startInstant()} is not good enough for a start-up figure: on Linux
 * it adds the process's start tick to the boot time, which the kernel gives in whole seconds, so
 * it is off by up to a second (on this machine it read 0.35 s for a program that had run for
 * 0.12 s). Here both ends come from the same clock: the start tick in {@code /proc/self/stat}
 * and the uptime in {@code /proc/uptime}. Elsewhere the JVM's own figure is used.
 */
final class ProcessAge {
    /** Linux's USER_HZ, which /proc's tick counts use on every architecture it runs on. */
    private static final double TICKS_PER_SECOND = 100;

    private ProcessAge() {}

    /** Nanoseconds since this process started, or empty when neither /proc nor the JVM can tell. */
    static OptionalLong nanos() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // Fields after the command name, which is in parentheses and may itself hold spaces: starttime is field 22.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(f[19]);
            double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            return OptionalLong.of(Math.round((uptime - startTicks / TICKS_PER_SECOND) * 1e9));
        } catch (java.io.IOException | RuntimeException e) {
            return ProcessHandle.current().info().startInstant()
                    .map(s -> OptionalLong.of(Duration.between(s, Instant.now()).toNanos())).orElse(OptionalLong.empty());
        }
    }
}
