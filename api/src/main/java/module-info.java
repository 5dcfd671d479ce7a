/** What users write against: tensors, models, losses, optimizers, training, data. */
module dev.kiln.api {
    requires transitive dev.kiln.spi;
    requires dev.kiln.runtime;
    exports dev.kiln.api;
    exports dev.kiln.api.data;
    exports dev.kiln.api.dist;
    exports dev.kiln.api.loss;
    exports dev.kiln.api.nn;
    exports dev.kiln.api.optim;
    exports dev.kiln.api.train;
    exports dev.kiln.api.checkpoint;
    exports dev.kiln.api.train.callbacks;
    requires jdk.jfr;
}
