package dev.kiln.api.testlog;

import java.text.MessageFormat;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The System.Logger backend of api's tests (registered in META-INF/services), so a test can read
 * what Kiln logged without java.util.logging, which the dev.kiln.api module does not read.
 * Records every level; prints INFO and above to stderr as the JDK's default backend would, except
 * for backend selection, which every Kiln.open of the suite repeats and BackendLoggingTest reads.
 */
public final class CapturingLoggerFinder extends System.LoggerFinder {
    /** One formatted log call, with the thread that made it (tests may share the JVM). */
    public record Entry(String logger, System.Logger.Level level, String message, Thread thread) {}

    private static final List<Entry> ENTRIES = new CopyOnWriteArrayList<>();

    public CapturingLoggerFinder() {}

    /** What the calling thread logged since it last called {@link #clear()}. */
    public static List<Entry> mine() {
        Thread me = Thread.currentThread();
        return ENTRIES.stream().filter(e -> e.thread() == me).toList();
    }

    public static void clear() {
        Thread me = Thread.currentThread();
        ENTRIES.removeIf(e -> e.thread() == me);
    }

    @Override public System.Logger getLogger(String name, Module module) {
        return new System.Logger() {
            @Override public String getName() { return name; }

            @Override public boolean isLoggable(Level level) { return level != Level.OFF; }

            @Override public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
                record(level, msg + (thrown == null ? "" : " " + thrown));
            }

            @Override public void log(Level level, ResourceBundle bundle, String format, Object... params) {
                record(level, params == null || params.length == 0 ? format : MessageFormat.format(format, params));
            }

            @Override public void log(Level level, Supplier<String> supplier) { record(level, supplier.get()); }

            private void record(Level level, String message) {
                ENTRIES.add(new Entry(name, level, message, Thread.currentThread()));
                if (level.getSeverity() >= Level.INFO.getSeverity() && !name.equals("dev.kiln.runtime.backend")) System.err.println(level + " " + name + ": " + message);
            }
        };
    }
}
