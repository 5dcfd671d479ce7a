package dev.kiln.examples.resume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.Kiln;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.train.Trainer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save → kill the JVM → resume: a child JVM trains on oneDNN, checkpoints at step 13 (mid epoch 2)
 * and is killed with SIGKILL while it writes the next checkpoint over the first; the first must
 * survive intact. This JVM restores it and trains to the end of epoch 3. The
 * parameters must equal, bit for bit, those of a run that was never interrupted.
 */
class KillAndResumeTest {
    static final long SAVE_AT = 13;
    @TempDir Path dir;

    @Test void aKilledRunResumesBitForBit() throws Exception {
        Path ckpt = dir.resolve("run.safetensors");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ResumeRun.class.getName(), ckpt.toString(), Long.toString(SAVE_AT)));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        boolean saved = false;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                log.append(line).append('\n');
                if (line.startsWith("SAVED")) saved = true;
                if (line.startsWith("WRITING")) {
                    child.destroyForcibly(); // SIGKILL in the middle of the second save
                    break;
                }
            }
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM did not die");
        }
        assertTrue(saved, "the child never saved:\n" + log);
        assertFalse(child.exitValue() == 0, "the child was killed, not finished");
        assertEquals(Long.toString(SAVE_AT), SafeTensorsFile.read(ckpt).metadata().get("step"), "the first checkpoint survives the crash");
        try (var files = java.nio.file.Files.list(dir)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "the kill landed mid-save: its temporary file is left");
        }

        Map<String, float[]> resumed, uninterrupted;
        try (Kiln kiln = ResumeRun.open(); Trainer t = ResumeRun.trainer(kiln)) {
            t.restore(ckpt);
            t.fit(ResumeRun.data(), ResumeRun.EPOCHS);
            assertEquals(30, t.steps());
            resumed = params(t, kiln);
        }
        try (Kiln kiln = ResumeRun.open(); Trainer t = ResumeRun.trainer(kiln)) {
            t.fit(ResumeRun.data(), ResumeRun.EPOCHS);
            uninterrupted = params(t, kiln);
        }
        assertEquals(uninterrupted.keySet(), resumed.keySet());
        uninterrupted.forEach((n, v) -> assertArrayEquals(v, resumed.get(n), "parameter " + n + " differs after kill and resume"));
    }

    private static Map<String, float[]> params(Trainer t, Kiln kiln) {
        Map<String, float[]> m = new LinkedHashMap<>();
        t.model().namedParameters().forEach((n, p) -> m.put(n, p.value(kiln).toFloatArray()));
        return m;
    }
}
