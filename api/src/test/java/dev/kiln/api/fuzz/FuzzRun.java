package dev.kiln.api.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToLongFunction;

/**
 * Feeds seeded inputs to one parser and holds it to its contract: each input parses or raises one
 * of the documented exception types; nothing else is thrown, no input takes more than
 * {@link #TIME_LIMIT_S} seconds (a hang), and none allocates more than its size warrants (a
 * header's claim believed before the data is there). Input {@code i} is made from the seed
 * {@code base + i}, so a failure names the seed that reproduces it, and the input is kept in
 * {@code target/fuzz-failures}.
 *
 * <p>The count comes from {@code -Dkiln.fuzz.iterations} (the {@code fuzz} profile of the api
 * module sets 100000), else each test's small default; {@code -Dkiln.fuzz.seed} moves the base.
 */
final class FuzzRun {
    static final int TIME_LIMIT_S = 10;
    private static final long BASE_SEED = Long.getLong("kiln.fuzz.seed", 20_251_201L);
    private static final int MAX_REPORTED = 10;

    /** Parses the file; the seed lets a test vary what it calls. */
    @FunctionalInterface
    interface Parser {
        void parse(Path file, long seed);
    }

    /** Makes the input of one seed; the random stream is that seed's. */
    @FunctionalInterface
    interface Generator {
        byte[] input(SplittableRandom random, long seed);
    }

    private final String name;
    private final Set<Class<? extends Throwable>> allowed;
    private final ToLongFunction<byte[]> budget;
    private final Map<String, Long> outcomes = new TreeMap<>();
    private final List<String> failures = new ArrayList<>();
    private final Path failureDir = Path.of("target", "fuzz-failures");

    /** @param budget the most bytes a parse of the input may allocate, refused or not */
    FuzzRun(String name, Set<Class<? extends Throwable>> allowed, ToLongFunction<byte[]> budget) {
        this.name = name;
        this.allowed = allowed;
        this.budget = budget;
    }

    static int iterations(int fallback) { return Integer.getInteger("kiln.fuzz.iterations", fallback); }

    /** Runs {@code iterations} inputs through {@code parse}, reading them from {@code file}, and fails on any breach. */
    void run(int iterations, Path file, Generator generator, Parser parser) {
        long start = System.nanoTime();
        ExecutorService worker = newWorker();
        try {
            for (int i = 0; i < iterations && failures.size() < MAX_REPORTED; i++) {
                long seed = BASE_SEED + i;
                byte[] input = generator.input(new SplittableRandom(seed), seed);
                write(file, input);
                Future<long[]> f = worker.submit(() -> allocating(() -> parser.parse(file, seed)));
                try {
                    long allocated = f.get(TIME_LIMIT_S, TimeUnit.SECONDS)[0];
                    overBudget(seed, input, allocated, "parsing");
                    count("parsed");
                } catch (TimeoutException e) {
                    f.cancel(true);
                    failure(seed, input, "no result after " + TIME_LIMIT_S + " s");
                    // The worker may be stuck for good; later inputs get a fresh one.
                    worker.shutdownNow();
                    worker = newWorker();
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause() instanceof Allocated a ? a.getCause() : e.getCause();
                    if (allowed.stream().anyMatch(c -> c.isInstance(cause))) {
                        overBudget(seed, input, e.getCause() instanceof Allocated a ? a.bytes : 0, "refusing it (" + cause + ")");
                        count(cause.getClass().getSimpleName());
                    } else {
                        failure(seed, input, "threw " + describe(cause));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail(name + ": interrupted");
                }
            }
        } finally {
            worker.shutdownNow();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        String report = String.format(java.util.Locale.ROOT, "fuzz %-20s %7d inputs in %6.1f s: %s", name,
                outcomes.values().stream().mapToLong(Long::longValue).sum(), secs, outcomes);
        System.out.println(report);
        writeReport(report);
        if (!failures.isEmpty()) fail(name + ": " + failures.size() + " inputs broke the contract (inputs in " + failureDir.toAbsolutePath() + "):\n  "
                + String.join("\n  ", failures));
    }

    private ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-" + name);
            t.setDaemon(true); // a hung parse must not keep the test JVM alive
            return t;
        });
    }

    private void overBudget(long seed, byte[] input, long allocated, String doing) {
        long most = budget.applyAsLong(input);
        if (allocated > most) failure(seed, input, "allocated " + allocated + " bytes " + doing + ", a " + input.length + "-byte input (budget " + most + ")");
    }

    private void count(String outcome) { outcomes.merge(outcome, 1L, Long::sum); }

    private void failure(long seed, byte[] input, String what) {
        Path kept = failureDir.resolve(name + "-" + seed + ".bin");
        try {
            Files.createDirectories(failureDir);
            Files.write(kept, input);
        } catch (IOException e) {
            what += " (could not keep the input: " + e + ")";
        }
        failures.add("seed " + seed + ": " + what);
        count("FAILED");
    }

    private void writeReport(String line) {
        try {
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "fuzz-" + name + ".txt"), line + System.lineSeparator());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String describe(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return t + (st.length > 0 ? " at " + st[0] : "") + (st.length > 1 ? " < " + st[1] : "") + (st.length > 2 ? " < " + st[2] : "");
    }

    /**
     * Overwrites in place and then cuts to length: truncating to zero first (what Files.write
     * does) makes ext4 start writing the file back on close, which costs milliseconds per input.
     */
    private static void write(Path file, byte[] input) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(input);
            while (b.hasRemaining()) ch.write(b, b.position());
            ch.truncate(input.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A parse's exception together with what the parse allocated before it. */
    private static final class Allocated extends Exception {
        private static final long serialVersionUID = 1L;
        final long bytes;

        Allocated(Throwable cause, long bytes) {
            super(cause);
            this.bytes = bytes;
        }
    }

    /** Runs {@code r} on this thread and returns what it allocated, in bytes. */
    private static long[] allocating(Runnable r) throws Allocated {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        try {
            r.run();
        } catch (Throwable t) {
            throw new Allocated(t, mx.getCurrentThreadAllocatedBytes() - before);
        }
        return new long[] {mx.getCurrentThreadAllocatedBytes() - before};
    }
}
