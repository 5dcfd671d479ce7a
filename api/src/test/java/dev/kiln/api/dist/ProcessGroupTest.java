package dev.kiln.api.dist;

import static org.junit.jupiter.api.Assertions.*;

import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.InMemoryDataset;
import dev.kiln.core.Shape;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProcessGroupTest {

    @Test void noLauncherIsAGroupOfOneWithoutSockets() {
        try (ProcessGroup g = ProcessGroup.builder().environment(Map.of("HOME", "/root")).build()) {
            assertEquals(0, g.rank());
            assertEquals(1, g.worldSize());
            assertTrue(g.isMain());
            assertEquals("none", g.launcher());
            g.barrier();
            g.barrier(Duration.ofMillis(1));
        }
    }

    @Test void torchrunVariablesAreRead() {
        Map<String, String> env = Map.of("RANK", "0", "WORLD_SIZE", "1", "LOCAL_RANK", "0", "LOCAL_WORLD_SIZE", "1",
                "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29511", "TORCHELASTIC_RESTART_COUNT", "3");
        try (ProcessGroup g = ProcessGroup.builder().environment(env).build()) {
            assertEquals("torchrun", g.launcher());
            assertEquals(3, g.attempt());
            assertEquals(29511, g.masterPort());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcessGroup.builder().environment(Map.of("RANK", "1", "WORLD_SIZE", "1")).build());
        assertEquals("RANK=1 is outside [0, 0], WORLD_SIZE=1", e.getMessage());
    }

    @Test void ranksMeetAtBarriersInOrder() throws Exception {
        int world = 3;
        ExecutorService pool = Executors.newCachedThreadPool();
        try (ProcessGroup zero = ProcessGroup.of(0, world, "127.0.0.1", 0)) {
            int port = zero.masterPort();
            assertNotEquals(0, port);
            AtomicInteger beforeSecond = new AtomicInteger();
            List<Future<Integer>> fs = new ArrayList<>();
            for (int r = 1; r < world; r++) {
                int rank = r;
                fs.add(pool.submit(() -> {
                    try (ProcessGroup g = ProcessGroup.of(rank, world, "127.0.0.1", port)) {
                        assertFalse(g.isMain());
                        g.barrier();
                        beforeSecond.incrementAndGet();
                        g.barrier();
                        return g.rank();
                    }
                }));
            }
            zero.barrier();
            Thread.sleep(200);
            beforeSecond.incrementAndGet();
            zero.barrier();
            assertEquals(3, beforeSecond.get(), "a rank left the second barrier before every rank reached it");
            for (Future<Integer> f : fs) f.get(20, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test void aMissingRankTimesOutNamingTheBarrier() {
        try (ProcessGroup zero = ProcessGroup.of(0, 2, "127.0.0.1", 0)) {
            ProcessGroupTimeoutException e = assertThrows(ProcessGroupTimeoutException.class, () -> zero.barrier(Duration.ofMillis(300)));
            assertTrue(e.getMessage().contains("rank 0 of 2") && e.getMessage().contains("1 of 2 ranks arrived"), e.getMessage());
        }
    }

    @Test void rankZeroClosingFailsTheOthersInsteadOfHanging() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            ProcessGroup zero = ProcessGroup.of(0, 2, "127.0.0.1", 0);
            ProcessGroup one = ProcessGroup.of(1, 2, "127.0.0.1", zero.masterPort());
            Future<?> waiting = pool.submit(() -> one.barrier());
            Thread.sleep(300);
            zero.close();
            ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
            assertInstanceOf(ProcessGroupException.class, e.getCause());
            assertFalse(e.getCause() instanceof ProcessGroupTimeoutException);
            one.close();
            assertThrows(IllegalStateException.class, one::barrier);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test void unreachableRankZeroIsAProcessGroupException() {
        ProcessGroupException e = assertThrows(ProcessGroupException.class, () -> ProcessGroup.builder()
                .explicit(1, 2, "127.0.0.1", 1).connectTimeout(Duration.ofMillis(300)).build());
        assertTrue(e.getMessage().contains("rank 1 of 2") && e.getMessage().contains("cannot reach"), e.getMessage());
    }

    @Test void aDataLoaderShardsByTheGroup() {
        InMemoryDataset data = new InMemoryDataset(new float[10], new int[10], Shape.of(1), 1);
        try (ProcessGroup g = ProcessGroup.builder().environment(Map.of()).build()) {
            DataLoader l = DataLoader.builder(data, 3).distributed(g).build();
            assertEquals(1, l.worldSize());
            assertEquals(4, l.batchesPerEpoch());
        }
    }

    @Test void kilnConfigRecordsTheGroup() {
        assertNull(dev.kiln.api.KilnConfig.defaults().processGroup());
        try (ProcessGroup g = ProcessGroup.builder().environment(Map.of()).build()) {
            assertSame(g, dev.kiln.api.KilnConfig.builder().processGroup(g).build().processGroup());
        }
    }

    /** The api wraps the runtime: no runtime type in any public signature. */
    @Test void noRuntimeTypeLeaksThroughThePublicApi() {
        for (Class<?> c : List.of(ProcessGroup.class, ProcessGroup.Builder.class, ProcessGroupException.class, ProcessGroupTimeoutException.class)) {
            assertFalse(c.getSuperclass() != null && c.getSuperclass().getPackageName().startsWith("dev.kiln.runtime"), c.getName());
            for (Method m : c.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) continue;
                assertFalse(m.getReturnType().getPackageName().startsWith("dev.kiln.runtime"), m.toString());
                for (Class<?> p : m.getParameterTypes()) assertFalse(p.getPackageName().startsWith("dev.kiln.runtime"), m.toString());
            }
        }
    }
}
