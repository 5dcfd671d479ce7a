package dev.kiln.accel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.tck.container.DeviceRequest;
import dev.kiln.tck.container.KitImage;
import dev.kiln.tck.container.KitImageProvider;
import dev.kiln.tck.containers.HostDevices;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The CUDA kit's container asks for every NVIDIA GPU, which a host without the NVIDIA runtime cannot give: the run is skipped saying so. */
class CudaKitImageTest {
    private static final KitImage IMAGE = new CudaKitImage().image();

    @Test void theRecipeIsFoundAsAService() {
        assertTrue(ServiceLoader.load(KitImageProvider.class).stream().anyMatch(p -> p.type() == CudaKitImage.class));
        assertEquals(CudaConformanceTest.class, IMAGE.kit());
    }

    @Test void itAsksForEveryNvidiaGpuAsDockerRunGpusAllDoes() {
        assertEquals(List.of(DeviceRequest.allNvidiaGpus()), IMAGE.devices());
        com.github.dockerjava.api.model.DeviceRequest docker = HostDevices.toDocker(IMAGE.devices()).getFirst();
        assertEquals("nvidia", docker.getDriver());
        assertEquals(-1, docker.getCount());
        assertEquals(List.of(List.of("gpu")), docker.getCapabilities());
    }

    @Test void aHostWithoutTheNvidiaRuntimeSkipsItWithTheReason() {
        Optional<String> why = HostDevices.unsatisfied(IMAGE.devices(), Set.of("runc", "io.containerd.runc.v2"));
        assertTrue(why.isPresent());
        assertTrue(why.get().contains("all nvidia gpu devices") && why.get().contains("no nvidia runtime (runtimes: io.containerd.runc.v2, runc)")
                && why.get().contains("NVIDIA Container Toolkit"), why.get());
        assertEquals(Optional.empty(), HostDevices.unsatisfied(IMAGE.devices(), Set.of("runc", "nvidia")));
    }
}
