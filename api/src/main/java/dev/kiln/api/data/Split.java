package dev.kiln.api.data;

/** Which half of a standard dataset to load. */
public enum Split {
    TRAIN("train"),
    TEST("t10k");

    private final String filePrefix;

    Split(String filePrefix) { this.filePrefix = filePrefix; }

    /** The prefix of the IDX file names, as the MNIST family names them ("train", "t10k"). */
    String filePrefix() { return filePrefix; }
}
