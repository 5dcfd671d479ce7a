package dev.kiln.tck.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.tck.container.DeviceRequest;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HostDevicesTest {
    @Test void noRequestsNeedNothing() {
        assertEquals(Optional.empty(), HostDevices.unsatisfied(List.of(), Set.of("runc")));
        assertEquals(List.of(), HostDevices.toDocker(List.of()));
    }

    @Test void aDriverWithoutItsRuntimeIsNamed() {
        DeviceRequest two = new DeviceRequest("acme", 2, List.of("compute", "video"));
        String why = HostDevices.unsatisfied(List.of(two), Set.of("runc")).orElseThrow();
        assertTrue(why.contains("asks for 2 acme compute,video devices") && why.contains("no acme runtime (runtimes: runc)"), why);
        assertEquals(List.of(List.of("compute", "video")), HostDevices.toDocker(List.of(two)).getFirst().getCapabilities());
        assertEquals(2, HostDevices.toDocker(List.of(two)).getFirst().getCount());
    }
}
