package dev.kiln.runtime.backend;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/**
 * One discovered provider and whether it can run here; {@code provider} is null when it failed to
 * load or was built for another SPI version. {@code location} is the jar or folder the provider
 * class came from, {@code version} the plugin's own version (module descriptor, else manifest)
 * and {@code vendor} its manifest's Implementation-Vendor; each is null when unknown.
 */
public record ProviderStatus(String name, int priority, Availability availability, AcceleratorProvider provider,
                             String location, String version, String vendor) {
    public ProviderStatus(String name, int priority, Availability availability, AcceleratorProvider provider) {
        this(name, priority, availability, provider, null, null, null);
    }

    public boolean available() { return provider != null && availability.available(); }

    @Override public String toString() {
        return String.format("%-10s priority %4d  %s", name, priority, availability);
    }
}
