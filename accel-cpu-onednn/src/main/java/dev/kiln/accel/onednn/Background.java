package dev.kiln.accel.onednn;

import java.util.concurrent.atomic.AtomicBoolean;

/** Work the plugin starts ahead of need: once per flag, on a daemon thread, so it never keeps a host's JVM alive. */
final class Background {
    private Background() {}

    /** Runs {@code work} on a new daemon thread named {@code name}, unless {@code started} was already set. */
    static void once(AtomicBoolean started, String name, Runnable work) {
        if (started.get() || !started.compareAndSet(false, true)) return;
        Thread t = new Thread(work, name);
        t.setDaemon(true);
        t.start();
    }
}
