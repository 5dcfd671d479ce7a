package dev.kiln.api.train;

import dev.kiln.api.data.Batch;
import dev.kiln.core.Shape;

/**
 * One training batch as {@link Callback#onTrainBatchEnd} sees it, as Keras'
 * {@code on_train_batch_end} logs and Lightning's {@code outputs}: the batch's own loss (not a
 * running mean), the learning rate it trained with, the model's output for it and the batch
 * itself. {@code output} is the host copy the trainer reads its metrics from, and {@code batch}
 * may be one of the loader's reused buffers: both are valid during the call only, so copy what
 * you keep.
 *
 * @param step the optimizer steps taken so far (with gradient accumulation it advances every k batches)
 * @param batchIndex this batch's number in the epoch, from 1
 */
public record BatchLogs(int epoch, int batchIndex, int batches, long step, double loss, double meanLoss, double learningRate,
                        float[] output, Shape outputShape, Batch batch) {
    /** Examples in the batch. */
    public int size() { return batch.size(); }
}
