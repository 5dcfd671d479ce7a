package dev.kiln.api.data;

import java.nio.file.Path;

/**
 * LeCun's handwritten digits: 60000 training and 10000 test 28×28 images in 10 classes, as
 * {@code [28, 28]} examples scaled to [0, 1].
 *
 * <p>Searched, in order: {@code $KILN_DATASETS/mnist}, {@code ~/.kiln/datasets/mnist},
 * {@code /usr/share/datasets/mnist}. Debian has no MNIST package (only Fashion-MNIST), so the
 * hint points at the download; the file names are the same as {@link FashionMnist}'s.
 */
public final class Mnist {
    static final DatasetLocator LOCATOR = new DatasetLocator("mnist", "MNIST", 10,
            Path.of("/usr/share/datasets/mnist"),
            """
            To get it (Debian has no MNIST package; Fashion-MNIST is `sudo apt-get install dataset-fashion-mnist`):
              - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and \
            t10k-labels-idx1-ubyte.gz from the MNIST database page (http://yann.lecun.com/exdb/mnist/) or one of \
            its mirrors into ~/.kiln/datasets/mnist
              - or put them in $KILN_DATASETS/mnist and set KILN_DATASETS""");

    private Mnist() {}

    public static ImageDataset train() { return load(Split.TRAIN); }

    public static ImageDataset test() { return load(Split.TEST); }

    /** Loads {@code split} from the default places. */
    public static ImageDataset load(Split split) { return load(null, split); }

    /** Loads {@code split} from {@code dir} only, or from the default places when {@code dir} is null. */
    public static ImageDataset load(Path dir, Split split) {
        return LOCATOR.load(dir, split, System.getenv(), DatasetLocator.userHome());
    }
}
