package dev.kiln.runtime.exec;

import dev.kiln.spi.Accelerator;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Lowering;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs the runtime's passes (decompose what the plugin does not fuse, autocast to the precision
 * policy, dead-code elimination)
 * and the plugin's compile, caching executables by graph signature so eager ops and repeated
 * tapes compile once.
 */
public final class GraphCompiler implements AutoCloseable {
    private static final int CACHE_SIZE = 4096;
    private final Accelerator accelerator;
    private final CompileOptions options;
    private final Map<String, Executable> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<String, Executable> e) {
            if (size() <= CACHE_SIZE) return false;
            e.getValue().close();
            return true;
        }
    };

    public GraphCompiler(Accelerator accelerator, CompileOptions options) {
        this.accelerator = accelerator;
        this.options = options;
    }

    /** Compiles without caching; the caller owns the result. */
    public Executable compile(Graph g) {
        return compile(g, options);
    }

    public Executable compile(Graph g, CompileOptions opts) {
        Graph lowered = Lowering.decompose(g, accelerator.capabilities()::isNative);
        Graph cast = Autocast.apply(lowered, opts.precision());
        return accelerator.compile(Passes.deadCodeElimination(cast), opts);
    }

    /** Compiles once per distinct graph; the cache owns the result. */
    public synchronized Executable cached(Graph g) {
        String key = g.signature();
        Executable e = cache.get(key);
        if (e == null) {
            e = compile(g);
            cache.put(key, e);
        }
        return e;
    }

    public Accelerator accelerator() { return accelerator; }

    public CompileOptions options() { return options; }

    @Override public synchronized void close() {
        cache.values().forEach(Executable::close);
        cache.clear();
    }
}
