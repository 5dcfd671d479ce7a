package dev.kiln.tck.containers;

import dev.kiln.tck.container.DeviceRequest;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A recipe's device requests as Docker takes them, and whether this host's Docker can satisfy
 * them. Docker hands a request for driver {@code nvidia} to the NVIDIA Container Toolkit, which
 * registers itself as the daemon runtime of that name ({@code nvidia-ctk runtime configure});
 * a host whose {@code docker info} lists no such runtime cannot give a container GPUs, and the
 * plugin's run is skipped with that reason instead of failing inside the container.
 */
public final class HostDevices {
    private HostDevices() {}

    /** The requests as docker-java's, e.g. {@code --gpus all} is driver nvidia, count -1, capabilities [[gpu]]. */
    public static List<com.github.dockerjava.api.model.DeviceRequest> toDocker(List<DeviceRequest> requests) {
        return requests.stream().map(r -> new com.github.dockerjava.api.model.DeviceRequest()
                .withDriver(r.driver()).withCount(r.count()).withCapabilities(List.of(r.capabilities()))).toList();
    }

    /** Why a host whose Docker has {@code runtimes} cannot satisfy {@code requests}; empty when it can. */
    public static Optional<String> unsatisfied(List<DeviceRequest> requests, Set<String> runtimes) {
        for (DeviceRequest r : requests) {
            if (!runtimes.contains(r.driver())) {
                return Optional.of("the container asks for " + r + " devices, but this host's Docker has no " + r.driver() + " runtime (runtimes: "
                        + String.join(", ", new TreeSet<>(runtimes)) + ")" + (r.driver().equals("nvidia")
                        ? "; install the NVIDIA Container Toolkit and run nvidia-ctk runtime configure --runtime=docker" : ""));
            }
        }
        return Optional.empty();
    }
}
