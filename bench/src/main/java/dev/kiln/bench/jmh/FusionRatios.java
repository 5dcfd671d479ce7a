package dev.kiln.bench.jmh;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link FusionBenchmark} and prints, per graph, the unfused and fused time per run and their
 * ratio (above 1: fusion is faster). Arguments: [forks] [measurement iterations] [graph names, comma-separated].
 */
public final class FusionRatios {
    private FusionRatios() {}

    public static void main(String[] args) throws RunnerException {
        int forks = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        OptionsBuilder ob = new OptionsBuilder();
        ob.include(FusionBenchmark.class.getName() + ".run").forks(forks)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(iterations).measurementTime(TimeValue.seconds(1))
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");
        if (args.length > 2) ob.param("graph", args[2].split(","));
        Options o = ob.build();
        Collection<RunResult> results = new Runner(o).run();
        Map<String, double[]> byGraph = new TreeMap<>();
        for (RunResult r : results) {
            String graph = r.getParams().getParam("graph");
            boolean fused = Boolean.parseBoolean(r.getParams().getParam("fusion"));
            byGraph.computeIfAbsent(graph, k -> new double[2])[fused ? 0 : 1] = r.getPrimaryResult().getScore();
        }
        System.out.printf("%n%-22s %14s %14s %8s%n", "graph", "unfused us/op", "fused us/op", "ratio");
        for (var e : byGraph.entrySet()) {
            double fused = e.getValue()[0], unfused = e.getValue()[1];
            System.out.printf("%-22s %14.2f %14.2f %7.2fx%n", e.getKey(), unfused, fused, unfused / fused);
        }
    }
}
