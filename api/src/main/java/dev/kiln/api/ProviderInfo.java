package dev.kiln.api;

/**
 * One accelerator plugin found on the class path or module path, and why it is or is not usable.
 * {@code location} is the jar (or folder) its provider class was loaded from and {@code version}
 * the plugin's version from its module descriptor or manifest; either is null when unknown.
 */
public record ProviderInfo(String name, int priority, boolean available, String reason, String version, String location) {
    @Override public String toString() {
        return String.format("%-10s priority %4d  %s: %s", name, priority, available ? "available" : "unavailable", reason);
    }
}
