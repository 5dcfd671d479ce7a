package dev.kiln.spi;

/** Whether a provider can run here, and why (or why not): "no CUDA driver", "oneDNN 3.11, 2 threads, avx512_core_bf16". */
public record Availability(boolean available, String reason) {
    public static Availability available(String detail) { return new Availability(true, detail); }

    public static Availability unavailable(String reason) { return new Availability(false, reason); }

    @Override public String toString() { return (available ? "available: " : "unavailable: ") + reason; }
}
