package dev.kiln.accel.xla;

import dev.kiln.accel.xla.pjrt.PjrtApi;
import dev.kiln.accel.xla.pjrt.PjrtClient;
import dev.kiln.accel.xla.pjrt.StableHloVersions;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * One PJRT client per plugin per process, made on first use and kept until the process ends.
 * Plugins are not made to be unloaded, and some allow one client per process (the CUDA plugin
 * CHECK-aborts on a second), so a client is never destroyed and re-created; the accelerators that
 * share it destroy what they make through it.
 */
final class PjrtClients {
    private PjrtClients() {}

    private static final Map<Path, PjrtClient> CLIENTS = new HashMap<>();

    static synchronized PjrtClient forPlugin(Path plugin) {
        PjrtClient c = CLIENTS.get(plugin);
        if (c != null) return c;
        PjrtApi api = PjrtApi.open(plugin, Arena.global());
        api.initialize();
        StableHloVersions.check(api.attributes());
        c = PjrtClient.create(api, Map.of());
        CLIENTS.put(plugin, c);
        return c;
    }
}
