package dev.kiln.runtime.backend;

import dev.kiln.spi.AcceleratorProvider;
import dev.kiln.spi.Availability;

/** One discovered provider and whether it can run here; {@code provider} is null when it failed to load. */
public record ProviderStatus(String name, int priority, Availability availability, AcceleratorProvider provider) {
    public boolean available() { return provider != null && availability.available(); }

    @Override public String toString() {
        return String.format("%-10s priority %4d  %s", name, priority, availability);
    }
}
