package dev.kiln.api.checkpoint;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** Copies of a valid checkpoint with one thing changed, for the tests of what a restore refuses. */
public final class CheckpointEdits {
    private CheckpointEdits() {}

    /** {@code source} with metadata {@code key} set to {@code value}, or removed when it is null. */
    public static Path withMetadata(Path source, Path target, String key, String value) {
        SafeTensorsFile f = SafeTensorsFile.read(source);
        Map<String, String> meta = new LinkedHashMap<>(f.metadata());
        if (value == null) meta.remove(key);
        else meta.put(key, value);
        new SafeTensorsFile(f.tensors(), meta).write(target);
        return target;
    }

    /** {@code source} with its tensors changed by {@code edit}. */
    public static Path withTensors(Path source, Path target, Consumer<Map<String, StoredTensor>> edit) {
        SafeTensorsFile f = SafeTensorsFile.read(source);
        Map<String, StoredTensor> tensors = new LinkedHashMap<>(f.tensors());
        edit.accept(tensors);
        new SafeTensorsFile(tensors, f.metadata()).write(target);
        return target;
    }
}
