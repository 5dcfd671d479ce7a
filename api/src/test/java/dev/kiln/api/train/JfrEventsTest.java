package dev.kiln.api.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.KilnConfig;
import dev.kiln.api.optim.Adam;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Flight Recorder events a JMC user sees: one per training step, one per compilation. */
class JfrEventsTest {
    @TempDir Path dir;

    @Test void stepsAndCompilationsAreRecorded() throws Exception {
        Path file = dir.resolve("kiln.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.kiln.TrainStep");
            r.enable("dev.kiln.CompileStep");
            r.enable("dev.kiln.Evaluate");
            r.start();
            try (Kiln kiln = Kiln.open(KilnConfig.builder().backend("javaref").build());
                 Trainer t = Trainer.builder(kiln, Blobs.model()).optimizer(new Adam(1e-2)).batchSize(32).build()) {
                t.fit(Blobs.dataset(80, 4), 2); // batches of 32, 32, 16: two step shapes
                t.evaluate(Blobs.dataset(40, 5));
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        List<RecordedEvent> steps = events.stream().filter(e -> e.getEventType().getName().equals("dev.kiln.TrainStep")).toList();
        List<RecordedEvent> compiles = events.stream().filter(e -> e.getEventType().getName().equals("dev.kiln.CompileStep")).toList();
        assertEquals(6, steps.size());
        assertEquals(6L, steps.stream().mapToLong(e -> e.getLong("step")).max().orElse(0));
        assertTrue(steps.stream().allMatch(e -> e.getFloat("loss") > 0 && e.getDuration().toNanos() > 0));
        assertEquals(4, compiles.size(), "train 32 and 16, evaluate 32 and 8: " + compiles);
        assertTrue(compiles.stream().allMatch(e -> e.getInt("graphNodes") > 0 && e.getString("backend").equals("javaref")));
        assertEquals(2, compiles.stream().filter(e -> e.getBoolean("training")).count());
        List<RecordedEvent> evals = events.stream().filter(e -> e.getEventType().getName().equals("dev.kiln.Evaluate")).toList();
        assertEquals(1, evals.size());
        assertEquals(40, evals.getFirst().getInt("samples"));
    }
}
