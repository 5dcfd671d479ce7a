package dev.kiln.api.train;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** One {@link Trainer#evaluate} pass (validation after each epoch included), so its share of an epoch shows. */
@Name("dev.kiln.Evaluate")
@Label("Kiln Evaluation")
@Category({"Kiln", "Training"})
@Description("A forward-only pass over a dataset computing loss and metrics")
@StackTrace(false)
final class EvaluateEvent extends Event {
    @Label("Samples") int samples;
    @Label("Loss") double loss;
    @Label("Accuracy") double accuracy;
}
