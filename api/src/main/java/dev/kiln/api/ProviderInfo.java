package dev.kiln.api;

/** One accelerator plugin found on the class path, and why it is or is not usable. */
public record ProviderInfo(String name, int priority, boolean available, String reason) {
    @Override public String toString() {
        return String.format("%-10s priority %4d  %s: %s", name, priority, available ? "available" : "unavailable", reason);
    }
}
