package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;

/** The thread choice settles on the faster count, spends little time probing and follows a change of load, on made-up run times. */
class OneDnnThreadChoiceTest {
    /** Calls and nanoseconds on more than one thread, out of a run of calls. */
    private record Tally(int calls, int manyCalls, long nanos, long manyNanos) {}

    private static Tally run(OneDnnThreadChoice c, int calls, IntToLongFunction nanos) {
        int many = 0;
        long total = 0, manyTotal = 0;
        for (int i = 0; i < calls; i++) {
            int t = c.next();
            long ns = nanos.applyAsLong(t);
            total += ns;
            if (t > 1) {
                many++;
                manyTotal += ns;
            }
            c.took(ns);
        }
        return new Tally(calls, many, total, manyTotal);
    }

    private static final IntToLongFunction IDLE = t -> t == 1 ? 1_000_000 : 550_000, BUSY = t -> t == 1 ? 1_000_000 : 8_000_000;

    @Test void idleCoresGetTheThreadsBusyOnesTheCallingThreadAndProbesStayCheap() {
        OneDnnThreadChoice c = new OneDnnThreadChoice(2);
        Tally idle = run(c, 10_000, IDLE);
        assertTrue(idle.manyCalls() > 9_500, "mostly two threads when they are faster: " + idle + " (" + c + ")");
        // The other core gets busy: two threads wait for a descheduled worker.
        run(c, 1000, BUSY);
        Tally busy = run(c, 10_000, BUSY);
        assertTrue(busy.manyCalls() > 0, "still probing: " + busy);
        double probeShare = (double) busy.manyNanos() / busy.nanos();
        assertTrue(probeShare < 1.5 / OneDnnThreadChoice.RUNS_PER_PROBE, "probes cost " + probeShare + " of the time (" + busy + ", " + c + ")");
        // Idle again: found at the next probe.
        run(c, 2 * 8 * OneDnnThreadChoice.RUNS_PER_PROBE, IDLE);
        Tally back = run(c, 10_000, IDLE);
        assertTrue(back.manyCalls() > 9_500, "back on two threads: " + back + " (" + c + ")");
    }

    @Test void anEngineOfOneThreadIsNeverAskedForMore() {
        assertEquals(0, run(new OneDnnThreadChoice(1), 1000, t -> 5).manyCalls());
    }
}
