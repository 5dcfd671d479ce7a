package dev.kiln.api.train;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One training step in Java Flight Recorder, from handing the batch to the plugin to having the
 * loss back, so JDK Mission Control's timeline shows step time next to GC and data loading.
 */
@Name("dev.kiln.TrainStep")
@Label("Kiln Training Step")
@Category({"Kiln", "Training"})
@Description("One compiled training step: forward, backward and optimizer update")
@StackTrace(false)
final class StepEvent extends Event {
    @Label("Step") long step;
    @Label("Epoch") int epoch;
    @Label("Batch Size") int batchSize;
    @Label("Loss") float loss;
    @Label("Learning Rate") double learningRate;
}
