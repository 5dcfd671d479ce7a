package dev.kiln.api.data;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Zalando's Fashion-MNIST: 60000 training and 10000 test greyscale images of 28×28 pixels in 10
 * clothing classes, as {@code [28, 28]} examples scaled to [0, 1].
 *
 * <p>Searched, in order: {@code $KILN_DATASETS/fashion-mnist}, {@code ~/.kiln/datasets/fashion-mnist},
 * {@code /usr/share/datasets/fashion-mnist} (Debian's {@code dataset-fashion-mnist}). Each place
 * must hold {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}
 * and {@code t10k-labels-idx1-ubyte}, each raw or gzipped ({@code .gz}).
 *
 * <p>{@link #train()} and {@link #test()} never touch the network: an application embedding Kiln
 * must work offline and must not fetch things it was not asked to, so a missing dataset is an
 * error that says how to get it. {@link #download()} is the explicit way to get it, as
 * {@code keras.datasets} and torchvision's {@code download=True} do: from Zalando's servers (or
 * {@code -Dkiln.fashionMnist.url} / {@code $KILN_FASHION_MNIST_URL}, a mirror holding the same four
 * .gz files), every file checked against a known SHA-256.
 */
public final class FashionMnist {
    /** Where Zalando publishes the four files (an S3 website endpoint, plain HTTP only; the SHA-256 checks make up for it). */
    public static final String DEFAULT_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
    static final String URL_PROPERTY = "kiln.fashionMnist.url", URL_ENV = "KILN_FASHION_MNIST_URL";

    /**
     * SHA-256 of each file's decompressed IDX content. Computed from Debian's dataset-fashion-mnist,
     * whose .gz files are Zalando's recompressed (their compressed bytes, and so Zalando's published
     * MD5s, differ; the content does not: same sizes, and the same 60000/10000 images and labels).
     */
    static final Map<String, String> SHA256 = Map.of(
            "train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34");

    static final DatasetLocator LOCATOR = new DatasetLocator("fashion-mnist", "Fashion-MNIST", 10,
            Path.of("/usr/share/datasets/fashion-mnist"),
            """
            To get it, do one of:
              - sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs to /usr/share/datasets/fashion-mnist)
              - download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and \
            t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist (data/fashion) \
            into ~/.kiln/datasets/fashion-mnist
              - put them in $KILN_DATASETS/fashion-mnist and set KILN_DATASETS
              - call dev.kiln.api.data.FashionMnist.download(), which fetches them from %s \
            (or $KILN_FASHION_MNIST_URL) into $KILN_DATASETS/fashion-mnist or ~/.kiln/datasets/fashion-mnist, checking their SHA-256""".formatted(DEFAULT_URL));

    private FashionMnist() {}

    public static ImageDataset train() { return load(Split.TRAIN); }

    public static ImageDataset test() { return load(Split.TEST); }

    /** Loads {@code split} from the default places. */
    public static ImageDataset load(Split split) { return load(null, split); }

    /** Loads {@code split} from {@code dir} only, or from the default places when {@code dir} is null. */
    public static ImageDataset load(Path dir, Split split) {
        return LOCATOR.load(dir, split, System.getenv(), DatasetLocator.userHome());
    }

    /** The first default place that holds all four files, the one {@link #train()} and {@link #test()} read; empty when none does. */
    public static Optional<Path> location() {
        return Optional.ofNullable(LOCATOR.findComplete(System.getenv(), DatasetLocator.userHome()));
    }

    /**
     * Makes sure a default place holds the dataset and returns it: where it already is, if anywhere,
     * else downloads it into {@code $KILN_DATASETS/fashion-mnist}, or {@code ~/.kiln/datasets/fashion-mnist}
     * when {@code KILN_DATASETS} is not set, with a progress bar on stderr.
     *
     * @throws DatasetException when the download fails (offline, a wrong checksum, no space): the
     *         message names the URL, the reason and the other ways to get the data
     */
    public static Path download() {
        Map<String, String> env = System.getenv();
        Path home = DatasetLocator.userHome();
        Path found = LOCATOR.findComplete(env, home);
        return found != null ? found : download(LOCATOR.downloadDir(env, home), env, System.err);
    }

    /** Downloads into {@code dir} whichever of the four files it does not have yet, and returns {@code dir}. */
    public static Path download(Path dir) { return download(dir, System.getenv(), System.err); }

    static Path download(Path dir, Map<String, String> env, PrintStream progress) {
        URI base = DatasetDownload.baseUrl(URL_PROPERTY, URL_ENV, env, DEFAULT_URL);
        try {
            DatasetDownload.fetch("Fashion-MNIST", base, SHA256, dir, progress);
        } catch (DatasetException e) {
            throw new DatasetException(null, "Fashion-MNIST could not be downloaded into " + dir + ":\n  " + e.getMessage()
                    + "\n" + LOCATOR.howToGet(), e);
        }
        return dir;
    }
}
