package dev.kiln.api;

import dev.kiln.api.dist.ProcessGroup;
import dev.kiln.core.PrecisionPolicy;

/**
 * How to open a {@link Kiln}. {@code backend == null} means: the {@code kiln.backend} system
 * property, else the {@code KILN_BACKEND} environment variable, else the best available plugin.
 * {@code processGroup == null} means a single process. With a group of more than one rank,
 * opening the Kiln joins the group's collectives and its {@code Trainer}s train data-parallel
 * (see {@code docs/distributed.md}).
 */
public record KilnConfig(String backend, int threads, boolean fusion, long seed, Precision precision, ProcessGroup processGroup) {

    public static Builder builder() { return new Builder(); }

    public static KilnConfig defaults() { return builder().build(); }

    public static final class Builder {
        private String backend;
        private int threads;
        private boolean fusion = !"false".equalsIgnoreCase(System.getProperty("kiln.fusion"));
        private long seed = 42;
        private Precision precision = Precision.fp32();
        private ProcessGroup processGroup;

        /** Accelerator plugin by name: {@code onednn}, {@code cuda}. */
        public Builder backend(String name) { this.backend = name; return this; }

        /** Worker threads for CPU plugins; 0 means all cores. */
        public Builder threads(int n) { this.threads = n; return this; }

        /** Lets plugins fuse ops; switch off only to measure what fusion buys. */
        public Builder fusion(boolean on) { this.fusion = on; return this; }

        /** Seeds parameter initialisation and random ops. */
        public Builder seed(long seed) { this.seed = seed; return this; }

        /** fp32 unless set; {@link Precision#auto()} takes the fastest policy the accelerator supports. */
        public Builder precision(Precision p) { this.precision = p; return this; }

        public Builder precision(PrecisionPolicy p) { return precision(Precision.of(p)); }

        /** The job this Kiln is one rank of; the caller keeps owning (and closes) the group. */
        public Builder processGroup(ProcessGroup group) { this.processGroup = group; return this; }

        public KilnConfig build() { return new KilnConfig(backend, threads, fusion, seed, precision, processGroup); }
    }
}
