package dev.kiln.api.train;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** Tracing and compiling one training or evaluation step, with the size of its graph. */
@Name("dev.kiln.CompileStep")
@Label("Kiln Step Compilation")
@Category({"Kiln", "Compilation"})
@Description("Tracing, differentiating and compiling a whole step into one executable")
@StackTrace(false)
final class CompileEvent extends Event {
    @Label("Training") boolean training;
    @Label("Batch Size") int batchSize;
    @Label("Graph Nodes") int graphNodes;
    @Label("Graph Inputs") int graphInputs;
    @Label("Backend") String backend;
}
