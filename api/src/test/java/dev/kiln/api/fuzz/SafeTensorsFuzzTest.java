package dev.kiln.api.fuzz;

import dev.kiln.api.checkpoint.CheckpointException;
import dev.kiln.api.checkpoint.SafeTensorsFile;
import dev.kiln.api.checkpoint.StoredTensor;
import dev.kiln.core.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SafeTensorsFile#read} on mutated files of every dtype: each is read, converted, or
 * refused with a {@link CheckpointException}, within time and a memory budget proportional to
 * its size. 2000 inputs each build; {@code -Pfuzz} runs 100000 ({@code docs/fuzzing.md}).
 */
class SafeTensorsFuzzTest {
    @TempDir Path dir;

    /** One tensor of each dtype, an empty one, a scalar and metadata: the valid file mutations start from. */
    static SafeTensorsImage valid() {
        Map<String, StoredTensor> t = new LinkedHashMap<>();
        for (StoredTensor.Type type : StoredTensor.Type.values()) {
            byte[] raw = new byte[6 * type.byteSize()];
            for (int i = 0; i < raw.length; i++) raw[i] = (byte) (i * 37 + type.ordinal());
            t.put(type.name().toLowerCase(), StoredTensor.of(type, new long[] {2, 3}, raw));
        }
        t.put("empty", StoredTensor.of(StoredTensor.Type.F32, new long[] {0, 4}, new byte[0]));
        t.put("scalar", StoredTensor.ofFloats(new float[] {3.5f}, Shape.scalar()));
        Map<String, String> meta = new LinkedHashMap<>(); // Map.of would order them differently in every JVM
        meta.put("format", "kiln.weights");
        meta.put("step", "12");
        return SafeTensorsImage.of(t, meta);
    }

    @Test void everyInputIsReadOrRefusedWithACheckpointException() {
        SafeTensorsImage valid = valid();
        byte[] encoded = valid.encode();
        // The header is parsed into strings and maps, so allow a multiple of the file; no claim in it may count.
        FuzzRun run = new FuzzRun("safetensors", Set.of(CheckpointException.class), in -> (4L << 20) + 64L * in.length);
        run.run(FuzzRun.iterations(2000), dir.resolve("input.safetensors"), (r, seed) -> input(valid, encoded, r), (file, seed) -> {
            SafeTensorsFile f = SafeTensorsFile.read(file);
            // What a loader does next: every tensor it accepted must convert.
            f.tensors().values().forEach(StoredTensor::toDoubles);
        });
    }

    static byte[] input(SafeTensorsImage valid, byte[] encoded, SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0, 1, 2 -> SafeTensorsMutations.structural(valid, r);
            case 3, 4, 5 -> SafeTensorsMutations.textual(valid, r);
            case 6, 7, 8 -> Mutations.mutate(encoded, r);
            default -> encoded;
        };
    }
}
