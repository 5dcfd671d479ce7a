package dev.kiln.api;

import dev.kiln.core.PrecisionPolicy;
import java.util.List;
import java.util.Set;

/**
 * The precision a {@link Kiln} trains in: a fixed {@link PrecisionPolicy}, or {@link #auto()},
 * which takes the policy the accelerator finds fastest on its device (the oneDNN plugin times a
 * bf16 and an f32 matmul once: bf16-mixed where bf16 pays, fp32 where the CPU has bf16
 * instructions that run no faster), or, from a plugin with no such measure, the lowest precision
 * it supports ({@link #PREFERENCE}).
 */
public sealed interface Precision {
    /** Fastest first: what {@link #auto()} prefers among the policies a plugin supports. */
    List<PrecisionPolicy> PREFERENCE = List.of(PrecisionPolicy.BF16_MIXED, PrecisionPolicy.FP16_MIXED, PrecisionPolicy.TF32, PrecisionPolicy.FP32);

    record Fixed(PrecisionPolicy policy) implements Precision {}

    record Auto() implements Precision {}

    static Precision auto() { return new Auto(); }

    static Precision fp32() { return new Fixed(PrecisionPolicy.FP32); }

    static Precision bf16Mixed() { return new Fixed(PrecisionPolicy.BF16_MIXED); }

    static Precision of(PrecisionPolicy p) { return new Fixed(p); }

    /** {@code auto}, {@code fp32}, {@code tf32}, {@code bf16-mixed} or {@code fp16-mixed}. */
    static Precision parse(String label) {
        return label.equalsIgnoreCase("auto") ? auto() : of(PrecisionPolicy.forLabel(label));
    }

    /** The policy to use given what the accelerator supports; a fixed unsupported policy is an error. */
    default PrecisionPolicy resolve(String backend, Set<PrecisionPolicy> supported) { return resolve(backend, supported, List.of()); }

    /**
     * As {@link #resolve(String, Set)}, {@code auto} taking the first supported policy of
     * {@code fastest} (the accelerator's own ranking) when it names one.
     */
    default PrecisionPolicy resolve(String backend, Set<PrecisionPolicy> supported, List<PrecisionPolicy> fastest) {
        if (this instanceof Auto) {
            for (PrecisionPolicy p : fastest) if (supported.contains(p)) return p;
        }
        return switch (this) {
            case Fixed f -> {
                if (!supported.contains(f.policy())) {
                    throw new IllegalArgumentException("accelerator " + backend + " does not support precision " + f.policy().label()
                            + "; it supports " + supported.stream().map(PrecisionPolicy::label).sorted().toList() + " (or use Precision.auto())");
                }
                yield f.policy();
            }
            case Auto a -> PREFERENCE.stream().filter(supported::contains).findFirst().orElse(PrecisionPolicy.FP32);
        };
    }
}
