package dev.kiln.api;

/**
 * One accelerator plugin found on the class path or module path, and why it is or is not usable.
 * {@code version} is the plugin's version from its module descriptor or manifest, {@code vendor}
 * its manifest's Implementation-Vendor and {@code location} the jar (or folder) its provider
 * class was loaded from; each is null when unknown.
 */
public record ProviderInfo(String name, int priority, boolean available, String reason, String version, String vendor, String location) {
    /** {@code onednn     priority  100  available: oneDNN 3.11 ... (version 0.1.0, The Kiln developers, /lib/kiln-accel-cpu-onednn.jar)}. */
    @Override public String toString() {
        return String.format("%-10s priority %4d  %s: %s (version %s, vendor %s, %s)", name, priority, available ? "available" : "unavailable", reason,
                orUnknown(version), orUnknown(vendor), location == null ? "location unknown" : location);
    }

    private static String orUnknown(String s) { return s == null ? "unknown" : s; }
}
