package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntToLongFunction;
import org.junit.jupiter.api.Test;

/** The thread choice settles on the faster count and follows a change of load, on made-up run times. */
class OneDnnThreadChoiceTest {
    /** Runs {@code calls} calls taking {@code nanos(threads)}; returns how many ran on more than one thread. */
    private static int run(OneDnnThreadChoice c, int calls, IntToLongFunction nanos) {
        int many = 0;
        for (int i = 0; i < calls; i++) {
            int t = c.next();
            if (t > 1) many++;
            c.took(nanos.applyAsLong(t));
        }
        return many;
    }

    @Test void idleCoresGetTheThreadsBusyOnesTheCallingThreadAndAProbeNowAndThen() {
        OneDnnThreadChoice c = new OneDnnThreadChoice(2);
        int n = 10 * OneDnnThreadChoice.PROBE_EVERY;
        // Idle: two threads take half the time.
        int many = run(c, n, t -> t == 1 ? 1_000_000 : 550_000);
        assertTrue(many >= n - n / OneDnnThreadChoice.PROBE_EVERY - 10, "mostly two threads when they are faster: " + many + " of " + n + " (" + c + ")");
        // The other core gets busy: two threads wait for a descheduled worker.
        run(c, 3 * OneDnnThreadChoice.PROBE_EVERY, t -> t == 1 ? 1_000_000 : 8_000_000);
        many = run(c, n, t -> t == 1 ? 1_000_000 : 8_000_000);
        assertEquals(n / OneDnnThreadChoice.PROBE_EVERY, many, "one probe per " + OneDnnThreadChoice.PROBE_EVERY + " calls once one thread is faster (" + c + ")");
        // Idle again: found at a probe.
        run(c, 8 * OneDnnThreadChoice.PROBE_EVERY, t -> t == 1 ? 1_000_000 : 550_000);
        many = run(c, n, t -> t == 1 ? 1_000_000 : 550_000);
        assertTrue(many >= n - n / OneDnnThreadChoice.PROBE_EVERY, "back on two threads: " + many + " (" + c + ")");
    }

    @Test void anEngineOfOneThreadIsNeverAskedForMore() {
        OneDnnThreadChoice c = new OneDnnThreadChoice(1);
        assertEquals(0, run(c, 1000, t -> 5));
    }
}
