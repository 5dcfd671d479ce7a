package dev.kiln.accel.cuda;

import dev.kiln.spi.Buffer;
import dev.kiln.spi.Executable;
import dev.kiln.spi.ir.Graph;
import dev.kiln.spi.ir.TensorType;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.global.cudart;

/**
 * A compiled graph as one CUDA graph: the step list is captured once, at compile time, and each
 * {@link #run} is a copy of the inputs into the graph's static input slots, one
 * {@code cudaGraphLaunch}, and a copy of each output into a fresh buffer for the caller, all on
 * the accelerator's stream with no host synchronisation. Set {@code -Dkiln.cuda.graphs=false} to
 * enqueue the steps one by one instead (for profiling single kernels).
 */
final class CudaGraphExecutable implements Executable {
    private static final System.Logger LOG = System.getLogger("dev.kiln.accel.cuda");

    private final CudaAccelerator acc;
    private final Graph graph;
    private final CudaKernels kernels;
    private final List<AutoCloseable> resources;
    private final long[] inputSlots, outputs;
    private CUgraph_st cudaGraph;
    private CUgraphExec_st exec;
    private final StepProfiler profiler;
    private boolean closed;

    CudaGraphExecutable(CudaAccelerator acc, Graph graph, CudaKernels kernels, List<AutoCloseable> resources, long[] inputSlots, long[] outputs) {
        this.acc = acc;
        this.graph = graph;
        this.kernels = kernels;
        this.resources = resources;
        this.inputSlots = inputSlots;
        this.outputs = outputs;
        this.profiler = StepProfiler.ENABLED ? new StepProfiler(kernels.labels()) : null;
        if (!kernels.steps().isEmpty() && profiler == null && !"false".equalsIgnoreCase(System.getProperty("kiln.cuda.graphs"))) {
            // The accelerator's monitor keeps other threads' work off the stream while it is being captured.
            synchronized (acc) {
                capture();
            }
        }
    }

    /** Records the steps into a CUDA graph without running them; on failure the steps run directly. */
    private void capture() {
        CudaStream stream = acc.stream();
        CUgraph_st g = new CUgraph_st();
        CudaCheck.rt(cudart.cudaStreamBeginCapture(stream.handle(), cudart.cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
        RuntimeException failure = null;
        try {
            for (Step s : kernels.steps()) s.enqueue(stream);
        } catch (RuntimeException e) {
            failure = e;
        }
        int rc = cudart.cudaStreamEndCapture(stream.handle(), g);
        if (failure != null) throw failure;
        CudaCheck.rt(rc, "cudaStreamEndCapture");
        CUgraphExec_st e = new CUgraphExec_st();
        int irc = cudart.cudaGraphInstantiate(e, g, 0L);
        if (irc != 0) {
            cudart.cudaGraphDestroy(g);
            LOG.log(System.Logger.Level.WARNING, "CUDA graph instantiation failed (cudaError " + irc + "); running steps directly");
            return;
        }
        cudaGraph = g;
        exec = e;
    }

    /** Whether runs replay a captured CUDA graph. */
    boolean usesCudaGraph() { return exec != null; }

    int stepCount() { return kernels.steps().size(); }

    /** How many nodes took each implementation route (see {@link CudaKernels#route}). */
    java.util.Map<String, Integer> routes() { return kernels.routes(); }

    @Override public List<Buffer> run(List<Buffer> inputs) {
        List<Buffer> result = new ArrayList<>(outputs.length);
        for (int i = 0; i < outputs.length; i++) result.add(acc.allocate(graph.outputs().get(i).type()));
        run(inputs, result);
        return result;
    }

    /**
     * Donation is safe by construction: every input is copied into its slot before the graph
     * runs, and outputs are copied out after it, so an output buffer may be an input buffer.
     */
    /**
     * Enqueues under the accelerator's monitor, as transfers do: executables on other threads share
     * its one stream and cuBLASLt handle, neither of which may be driven from two threads at once.
     * Only the enqueueing is serialised; the GPU work itself stays asynchronous.
     */
    @Override public void run(List<Buffer> inputs, List<Buffer> outs) {
        synchronized (acc) {
            enqueue(inputs, outs);
        }
    }

    private void enqueue(List<Buffer> inputs, List<Buffer> outs) {
        if (closed) throw new IllegalStateException("cuda executable is closed");
        acc.ensureOpen();
        if (inputs.size() != inputSlots.length) {
            throw new IllegalArgumentException("executable expects " + inputSlots.length + " inputs, got " + inputs.size());
        }
        acc.device().bind();
        CudaStream stream = acc.stream();
        for (int i = 0; i < inputSlots.length; i++) {
            CudaBuffer b = acc.cuda(inputs.get(i));
            TensorType want = graph.inputs().get(i).type();
            if (!b.type().equals(want)) throw new IllegalArgumentException("input " + i + " is " + b.type() + ", expected " + want);
            stream.copy(inputSlots[i], b.address(), want.byteSize(), cudart.cudaMemcpyDeviceToDevice);
        }
        if (exec != null) CudaCheck.rt(cudart.cudaGraphLaunch(exec, stream.handle()), "cudaGraphLaunch");
        else if (profiler != null) profiler.run(kernels.steps(), stream);
        else for (Step s : kernels.steps()) s.enqueue(stream);
        if (outs.size() != outputs.length) throw new IllegalArgumentException("executable has " + outputs.length + " outputs, got " + outs.size() + " buffers");
        for (int i = 0; i < outputs.length; i++) {
            TensorType t = graph.outputs().get(i).type();
            CudaBuffer out = acc.cuda(outs.get(i));
            if (!out.type().equals(t)) throw new IllegalArgumentException("output " + i + " is " + out.type() + ", expected " + t);
            stream.copy(out.address(), outputs[i], t.byteSize(), cudart.cudaMemcpyDeviceToDevice);
        }
    }

    @Override public void close() {
        synchronized (acc) {
            release();
        }
    }

    private void release() {
        if (closed) return;
        closed = true;
        if (acc.isClosed()) return;
        acc.device().bind();
        // Work already enqueued may still read the static memory; wait before freeing it.
        acc.stream().sync();
        if (exec != null) cudart.cudaGraphExecDestroy(exec);
        if (cudaGraph != null) cudart.cudaGraphDestroy(cudaGraph);
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "closing " + r + ": " + e);
            }
        }
        kernels.release();
    }
}
