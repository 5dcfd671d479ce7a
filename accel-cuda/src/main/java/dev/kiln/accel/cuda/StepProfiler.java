package dev.kiln.accel.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.global.cudart;

/**
 * {@code -Dkiln.profile=true} on CUDA: the executable runs its steps one by one instead of as a
 * CUDA graph, brackets each with device events, and at exit prints the time per IR node label
 * (summed over the steps a node planned), so a step's time can be traced to the op that spent it.
 */
final class StepProfiler {
    static final boolean ENABLED = Boolean.getBoolean("kiln.profile");

    private final List<String> labels;
    private final CUevent_st[] events;
    private final double[] millis;
    private long runs;

    StepProfiler(List<String> labels) {
        this.labels = labels;
        events = new CUevent_st[labels.size() + 1];
        for (int i = 0; i < events.length; i++) {
            events[i] = new CUevent_st();
            CudaCheck.rt(cudart.cudaEventCreate(events[i]), "cudaEventCreate");
        }
        millis = new double[labels.size()];
        Runtime.getRuntime().addShutdownHook(new Thread(this::print));
    }

    void run(List<Step> steps, CudaStream stream) {
        CudaCheck.rt(cudart.cudaEventRecord(events[0], stream.handle()), "cudaEventRecord");
        for (int i = 0; i < steps.size(); i++) {
            steps.get(i).enqueue(stream);
            CudaCheck.rt(cudart.cudaEventRecord(events[i + 1], stream.handle()), "cudaEventRecord");
        }
        stream.sync();
        float[] ms = new float[1];
        for (int i = 0; i < steps.size(); i++) {
            CudaCheck.rt(cudart.cudaEventElapsedTime(ms, events[i], events[i + 1]), "cudaEventElapsedTime");
            millis[i] += ms[0];
        }
        runs++;
    }

    private void print() {
        if (runs < 3 || labels.size() < 8) return;
        Map<String, double[]> byLabel = new LinkedHashMap<>();
        double total = 0;
        for (int i = 0; i < millis.length; i++) {
            double[] acc = byLabel.computeIfAbsent(labels.get(i), l -> new double[2]);
            acc[0] += millis[i];
            acc[1]++;
            total += millis[i];
        }
        double sum = total;
        StringBuilder sb = new StringBuilder(String.format("kiln.profile cuda: %d steps, %d runs, %.3f ms per run%n", millis.length, runs, total / runs));
        byLabel.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0])).limit(40)
                .forEach(e -> sb.append(String.format("  %9.1f us %5.1f%% %4d steps  %s%n", e.getValue()[0] * 1e3 / runs,
                        100 * e.getValue()[0] / sum, (int) e.getValue()[1], e.getKey())));
        System.err.print(sb);
    }
}
