package dev.kiln.accel.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;

/**
 * Generated kernels loaded into this accelerator's context, one module per distinct source,
 * each loaded once. Every generated source defines one {@code extern "C"} kernel named {@code k}.
 */
final class CudaModules implements AutoCloseable {
    private final CudaDevice device;
    private final NvrtcCompiler compiler;
    private final Map<String, CUfunc_st> functions = new HashMap<>();
    private final List<CUmod_st> modules = new ArrayList<>();

    CudaModules(CudaDevice device) {
        this.device = device;
        this.compiler = new NvrtcCompiler(device.arch());
    }

    NvrtcCompiler compiler() { return compiler; }

    synchronized CUfunc_st kernel(String name, String source) {
        CUfunc_st f = functions.get(source);
        if (f != null) return f;
        byte[] cubin = compiler.compile(name, source);
        device.bind();
        CUmod_st module = new CUmod_st();
        try (BytePointer image = new BytePointer(cubin)) {
            CudaCheck.cu(cudart.cuModuleLoadData(module, image), "cuModuleLoadData(" + name + ")");
        }
        modules.add(module);
        f = new CUfunc_st();
        CudaCheck.cu(cudart.cuModuleGetFunction(f, module, "k"), "cuModuleGetFunction(" + name + ")");
        functions.put(source, f);
        return f;
    }

    @Override public synchronized void close() {
        for (CUmod_st m : modules) cudart.cuModuleUnload(m);
        modules.clear();
        functions.clear();
    }
}
