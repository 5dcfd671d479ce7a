package dev.kiln.tck.container;

import java.util.List;

/**
 * Devices a kit's container needs from the host, as Docker's device requests ({@code docker run
 * --gpus}) state them: a driver, how many devices (-1 for all) and the capabilities asked of
 * them. The runner skips a plugin, saying why, when the host's Docker has no runtime for the driver.
 */
public record DeviceRequest(String driver, int count, List<String> capabilities) {
    public DeviceRequest {
        if (driver == null || !driver.matches("[a-z0-9][a-z0-9._-]*")) throw new IllegalArgumentException("device driver must be a lower-case name like nvidia, got " + driver);
        if (count < -1 || count == 0) throw new IllegalArgumentException("device count is -1 (all) or at least 1, got " + count);
        capabilities = List.copyOf(capabilities);
        if (capabilities.isEmpty()) throw new IllegalArgumentException("a device request names at least one capability, e.g. gpu");
    }

    /** Every NVIDIA GPU of the host, for compute: {@code docker run --gpus all}. */
    public static DeviceRequest allNvidiaGpus() { return new DeviceRequest("nvidia", -1, List.of("gpu")); }

    @Override public String toString() { return (count == -1 ? "all" : Integer.toString(count)) + " " + driver + " " + String.join(",", capabilities); }
}
