package dev.kiln.api.train;

/** Mean loss and accuracy over a dataset. */
public record Evaluation(double loss, double accuracy, int samples) {}
