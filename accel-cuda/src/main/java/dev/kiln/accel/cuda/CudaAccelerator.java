package dev.kiln.accel.cuda;

import dev.kiln.core.DType;
import dev.kiln.core.Device;
import dev.kiln.core.PrecisionPolicy;
import dev.kiln.spi.Accelerator;
import dev.kiln.spi.AcceleratorConfig;
import dev.kiln.spi.Buffer;
import dev.kiln.spi.Capabilities;
import dev.kiln.spi.Collectives;
import dev.kiln.spi.CompileOptions;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Composite;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.Node;
import dev.kiln.spi.ir.TensorType;
import dev.kiln.spi.ir.Value;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.cuda.global.cudart;

/**
 * One GPU: a stream, a stream-ordered memory pool, the generated-kernel cache, cuBLASLt. Compiled
 * graphs become CUDA graphs ({@link CudaGraphExecutable}); buffers live in device memory, so a
 * training step's parameters and optimizer state never leave the GPU between steps.
 */
final class CudaAccelerator implements Accelerator {
    private static final System.Logger LOG = System.getLogger("dev.kiln.accel.cuda");
    private final CudaDevice device;
    private final CudaStream stream;
    private final CudaMemoryPool pool;
    private final CudaModules modules;
    private final CublasLtMatmul.Context lt;
    /** Null where cuDNN is not installed: convolutions, batch norm and max pooling then run on Kiln's own kernels. */
    private final Cudnn cudnn;
    private final PinnedStaging staging = new PinnedStaging();
    private final Capabilities capabilities;
    private volatile boolean closed;

    CudaAccelerator(AcceleratorConfig config) {
        device = CudaDevice.open(config.deviceIndex());
        stream = new CudaStream();
        pool = new CudaMemoryPool(device, stream);
        modules = new CudaModules(device);
        lt = new CublasLtMatmul.Context(pool);
        cudnn = Cudnn.open(stream);
        capabilities = new Capabilities(EnumSet.allOf(DType.class),
                Set.of(Composite.Linear.class, Composite.Softmax.class, Composite.LogSoftmax.class, Composite.SoftmaxCrossEntropy.class,
                        Composite.SoftmaxCrossEntropyGrad.class, Composite.AdamUpdate.class, Composite.SgdUpdate.class,
                        Composite.LayerNorm.class, Composite.LayerNormGrad.class, Composite.MaxPool2d.class, Composite.BatchNorm.class,
                        Composite.BatchNormGrad.class, Composite.Attention.class, Composite.AttentionGrad.class),
                precisions(device), NcclCollectives.available());
    }

    /** FP32 everywhere; TF32 and bf16 tensor cores from Ampere (8.0); fp16 tensor cores from Volta (7.0). */
    static Set<PrecisionPolicy> precisions(CudaDevice d) {
        Set<PrecisionPolicy> p = EnumSet.of(PrecisionPolicy.FP32);
        if (d.major() >= 7) p.add(PrecisionPolicy.FP16_MIXED);
        if (d.ampereOrNewer()) {
            p.add(PrecisionPolicy.TF32);
            p.add(PrecisionPolicy.BF16_MIXED);
        }
        return p;
    }

    @Override public String name() { return "cuda"; }

    @Override public List<Device> devices() {
        return List.of(new Device("cuda", device.index(), device + ", NVRTC " + modules.compiler().version()));
    }

    @Override public Capabilities capabilities() { return capabilities; }

    @Override public CudaBuffer allocate(TensorType type) {
        ensureOpen();
        return new CudaBuffer(type, pool);
    }

    @Override public synchronized Buffer upload(TensorType type, MemorySegment host) {
        CudaBuffer b = allocate(type);
        copyIn(host, b);
        return b;
    }

    /**
     * Through pinned staging memory, enqueued on the stream without waiting: the copy is ordered
     * before any later kernel, and {@code host} may be reused as soon as this returns.
     */
    @Override public synchronized void copyIn(MemorySegment host, Buffer dst) {
        ensureOpen();
        CudaBuffer b = cuda(dst);
        long bytes = b.type().byteSize();
        if (bytes == 0) return;
        device.bind();
        staging.upload(host, b.address(), bytes, stream);
    }

    @Override public synchronized void download(Buffer buffer, MemorySegment host) {
        ensureOpen();
        CudaBuffer b = cuda(buffer);
        long bytes = b.type().byteSize();
        if (bytes == 0) return;
        device.bind();
        staging.download(b.address(), host, bytes, stream);
    }

    /** Whether cuDNN is in use (loaded, and not switched off with {@code -Dkiln.cuda.cudnn=false}). */
    boolean hasCudnn() { return cudnn != null; }

    @Override public Executable compile(Graph graph, CompileOptions options) {
        ensureOpen();
        device.bind();
        for (Node n : graph.nodes()) n.checkTypes();
        CudaAttention.Mode attention = CudaAttention.Mode.fromProperty();
        if (options.fusion()) graph = CudaAttentionPairing.pair(graph, attention);
        if (options.fusion()) graph = CudaWideningFusion.fuse(graph);
        if (options.fusion() && !"false".equalsIgnoreCase(System.getProperty("kiln.cuda.chains"))) graph = CudaChainFusion.fuse(graph);
        CudaKernels kernels = new CudaKernels(modules, pool, device.multiprocessors());
        try {
            CudaPlanner planner = new CudaPlanner(kernels, lt, cudnn, options.precision(), attention, device.major(), graph);
            long[] inputs = new long[graph.inputs().size()];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = kernels.allocate(graph.inputs().get(i).type().byteSize());
                planner.bind(graph.inputs().get(i), inputs[i]);
            }
            for (Node n : graph.nodes()) {
                try {
                    planner.planTopLevel(n);
                } catch (CudaException e) {
                    throw new CudaException("cuda could not build " + n.describe() + ": " + e.getMessage());
                }
            }
            long[] outputs = graph.outputs().stream().mapToLong(planner::address).toArray();
            if (!kernels.routes().isEmpty()) LOG.log(System.Logger.Level.DEBUG, "cuda routes: " + kernels.routes());
            return new CudaGraphExecutable(this, graph, kernels, planner.resources(), inputs, outputs);
        } catch (RuntimeException e) {
            kernels.release();
            throw e;
        }
    }

    @Override public Collectives collectives(int rank, int size, byte[] groupId) {
        ensureOpen();
        return new NcclCollectives(this, rank, size, groupId);
    }

    @Override public byte[] newCollectiveGroupId() { return NcclCollectives.newGroupId(); }

    /** Kernels trust the node's types to size device memory, so a node whose outputs disagree with its op is refused. */
    CudaBuffer cuda(Buffer b) {
        if (b instanceof CudaBuffer c && c.belongsTo(pool)) return c;
        throw new IllegalArgumentException("buffer " + b.type() + " does not belong to this cuda accelerator");
    }

    CudaDevice device() { return device; }

    CudaStream stream() { return stream; }

    boolean isClosed() { return closed; }

    void ensureOpen() { if (closed) throw new IllegalStateException("cuda accelerator is closed"); }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        device.bind();
        stream.sync();
        lt.close();
        if (cudnn != null) cudnn.close();
        pool.close();
        stream.sync();
        modules.close();
        staging.close();
        stream.close();
    }
}
