package dev.kiln.api.data;

import java.nio.file.Path;

/**
 * Zalando's Fashion-MNIST: 60000 training and 10000 test greyscale images of 28×28 pixels in 10
 * clothing classes, as {@code [28, 28]} examples scaled to [0, 1].
 *
 * <p>Searched, in order: {@code $KILN_DATASETS/fashion-mnist}, {@code ~/.kiln/datasets/fashion-mnist},
 * {@code /usr/share/datasets/fashion-mnist} (Debian's {@code dataset-fashion-mnist}). Each place
 * must hold {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}
 * and {@code t10k-labels-idx1-ubyte}, each raw or gzipped ({@code .gz}). Nothing is downloaded:
 * Kiln must work offline, so a missing dataset is an error that says how to get it.
 */
public final class FashionMnist {
    static final DatasetLocator LOCATOR = new DatasetLocator("fashion-mnist", "Fashion-MNIST", 10,
            Path.of("/usr/share/datasets/fashion-mnist"),
            """
            To get it, do one of:
              - sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs to /usr/share/datasets/fashion-mnist)
              - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and \
            t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist (data/fashion) \
            into ~/.kiln/datasets/fashion-mnist
              - put them in $KILN_DATASETS/fashion-mnist and set KILN_DATASETS""");

    private FashionMnist() {}

    public static InMemoryDataset train() { return load(Split.TRAIN); }

    public static InMemoryDataset test() { return load(Split.TEST); }

    /** Loads {@code split} from the default places. */
    public static InMemoryDataset load(Split split) { return load(null, split); }

    /** Loads {@code split} from {@code dir} only, or from the default places when {@code dir} is null. */
    public static InMemoryDataset load(Path dir, Split split) {
        return LOCATOR.load(dir, split, System.getenv(), DatasetLocator.userHome());
    }
}
