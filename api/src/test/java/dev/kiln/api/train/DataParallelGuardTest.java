package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.dist.ProcessGroup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Two ranks in one JVM (threads, TCP ring): while one data-parallel trainer runs on a Kiln's
 * group, a second trainer on the same Kiln fails at once instead of interleaving its collectives
 * with the first's (which would hang or mix the ranks' tensors).
 */
class DataParallelGuardTest {
    @Test void aSecondTrainerOnARunningGroupFailsFast() throws Exception {
        try (ProcessGroup g0 = ProcessGroup.of(0, 2, "127.0.0.1", 0)) {
            CompletableFuture<ProcessGroup> g1f = CompletableFuture.supplyAsync(() -> ProcessGroup.of(1, 2, "127.0.0.1", g0.masterPort()));
            CompletableFuture<Kiln> k1f = g1f.thenApplyAsync(g -> Kiln.open(KilnConfig.builder().backend("javaref").seed(5).processGroup(g).build()));
            try (Kiln k0 = Kiln.open(KilnConfig.builder().backend("javaref").seed(5).processGroup(g0).build());
                 ProcessGroup g1 = g1f.get(60, TimeUnit.SECONDS);
                 Kiln k1 = k1f.get(60, TimeUnit.SECONDS);
                 Trainer a0 = TrainerSafetyTest.trainer(k0); Trainer a1 = TrainerSafetyTest.trainer(k1);
                 Trainer b0 = TrainerSafetyTest.trainer(k0); Trainer b1 = TrainerSafetyTest.trainer(k1)) {
                assertEquals(2, a0.worldSize());
                assertTrue(a0.isMainProcess() && !a1.isMainProcess());
                CountDownLatch inFit = new CountDownLatch(1), release = new CountDownLatch(1);
                Dataset held = TrainerSafetyTest.heldOpen(inFit, release);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread rank0 = Thread.ofPlatform().name("rank-0-fit").start(() -> run(() -> a0.fit(held, 1), failure));
                Thread rank1 = Thread.ofPlatform().name("rank-1-fit").start(() -> run(() -> a1.fit(TrainerSafetyTest.hooked(() -> {}, y -> y), 1), failure));
                assertTrue(inFit.await(60, TimeUnit.SECONDS));

                IllegalStateException e = assertThrows(IllegalStateException.class, () -> b0.fit(Blobs.dataset(64, 2), 1));
                assertTrue(e.getMessage().contains("another Trainer is running on this Kiln's process group"), e.getMessage());

                release.countDown();
                rank0.join(60_000);
                rank1.join(60_000);
                assertNull(failure.get(), () -> "a rank failed: " + failure.get());
                assertEquals(a0.steps(), a1.steps());
                assertEquals(2, a0.steps(), "64 examples over 2 ranks in batches of 16");
                // Once the first is done, the group is free for the next pair of trainers (ranks must run matching ones:
                // a fresh trainer against one with optimizer state would broadcast different tensors).
                CompletableFuture<History> other = CompletableFuture.supplyAsync(() -> b1.fit(TrainerSafetyTest.hooked(() -> {}, y -> y), 1));
                b0.fit(TrainerSafetyTest.hooked(() -> {}, y -> y), 1);
                other.get(60, TimeUnit.SECONDS);
            }
        }
    }

    private static void run(Runnable r, AtomicReference<Throwable> failure) {
        try {
            r.run();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }
}
