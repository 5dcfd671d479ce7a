package dev.kiln.api.train;

import jdk.jfr.FlightRecorder;

/**
 * Whether Kiln's Flight Recorder events are worth creating: only once JFR has been started in
 * this JVM (by {@code -XX:StartFlightRecording}, {@code jcmd JFR.start} or the API), checked at
 * each event, so a recording started mid-training gets the events from then on.
 *
 * <p>Creating the first event of a JVM in which JFR never started still costs 170-250 ms (JFR
 * loads ~100 classes and instruments the event class), a sixth of the seed MLP's start-up; the
 * check itself is a static field read.
 */
final class Flight {
    private Flight() {}

    static boolean started() { return FlightRecorder.isInitialized(); }
}
