package dev.kiln.images;

import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.DatasetException;
import dev.kiln.core.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Images in one folder per class, as PyTorch's {@code ImageFolder}: {@code root/<class>/<file>},
 * classes numbered in sorted name order, PNG and JPEG files ({@code .png}, {@code .jpg},
 * {@code .jpeg}, any case) in sorted order within each. Each example is {@code [channels, height,
 * width]} floats in [0, 1] (torchvision's {@code ToTensor}), RGB or grayscale, resized with bilinear
 * interpolation when a size is given; without one, every image must have the first image's size.
 *
 * <p>Files are decoded when an example is read, so a {@link DataLoader}'s background thread does
 * the decoding while the previous batch trains, and memory holds only the file list. Decoding uses
 * {@code javax.imageio} from the {@code java.desktop} module, which every full JDK has.
 */
public final class ImageFolder implements Dataset {
    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;
    private final int channels, height, width;
    private final boolean resize;

    private ImageFolder(List<String> classes, List<Path> files, int[] labels, int channels, int height, int width, boolean resize) {
        this.classes = List.copyOf(classes);
        this.files = List.copyOf(files);
        this.labels = labels;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.resize = resize;
    }

    /** RGB at each image's own size (which must be the same for all). */
    public static ImageFolder open(Path root) { return open(root, false, 0, 0); }

    /**
     * @param grayscale one channel (luminance) instead of three
     * @param height the size to resize every image to, or 0 (with {@code width} 0) for the images' own
     */
    public static ImageFolder open(Path root, boolean grayscale, int height, int width) {
        if (height < 0 || width < 0 || (height == 0) != (width == 0))
            throw new IllegalArgumentException("ImageFolder: size must be two positive numbers or 0 x 0 for the images' own, got " + height + "x" + width);
        if (!Files.isDirectory(root)) throw new DatasetException(root, "ImageFolder: not a directory");
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                List<Path> images;
                try (Stream<Path> f = Files.list(dir)) {
                    images = f.filter(p -> Files.isRegularFile(p) && isImage(p)).sorted().toList();
                }
                if (images.isEmpty()) throw new DatasetException(dir, "ImageFolder: this class folder has no .png, .jpg or .jpeg file");
                for (Path p : images) {
                    files.add(p);
                    labels.add(classes.size());
                }
                classes.add(dir.getFileName().toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("ImageFolder: cannot list " + root, e);
        }
        if (classes.isEmpty()) throw new DatasetException(root, "ImageFolder: no class folders");
        int h = height, w = width;
        if (h == 0) {
            BufferedImage first = decode(files.getFirst());
            h = first.getHeight();
            w = first.getWidth();
        }
        return new ImageFolder(classes, files, labels.stream().mapToInt(Integer::intValue).toArray(), grayscale ? 1 : 3, h, w, height > 0);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /** The class names, index = label. */
    public List<String> classes() { return classes; }

    /** The file of example {@code index}. */
    public Path file(int index) { return files.get(index); }

    @Override public int size() { return files.size(); }

    @Override public Shape exampleShape() { return Shape.of(channels, height, width); }

    @Override public int numClasses() { return classes.size(); }

    @Override public int label(int index) { return labels[index]; }

    @Override public void features(int index, float[] dst, int offset) {
        Path p = files.get(index);
        BufferedImage img = decode(p);
        if (img.getHeight() != height || img.getWidth() != width) {
            if (!resize) {
                throw new DatasetException(p, "ImageFolder: the image is " + img.getHeight() + "x" + img.getWidth() + " but the first image is "
                        + height + "x" + width + "; open the folder with a size to resize them all");
            }
            img = resize(img, height, width);
        }
        int plane = height * width;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = img.getRGB(x, y), at = offset + y * width + x;
                float r = ((rgb >> 16) & 0xff) / 255f, g = ((rgb >> 8) & 0xff) / 255f, b = (rgb & 0xff) / 255f;
                if (channels == 1) {
                    // ITU-R 601 luma, what PIL's convert("L") and torchvision's Grayscale use.
                    dst[at] = 0.299f * r + 0.587f * g + 0.114f * b;
                } else {
                    dst[at] = r;
                    dst[at + plane] = g;
                    dst[at + 2 * plane] = b;
                }
            }
        }
    }

    private static BufferedImage decode(Path p) {
        try {
            BufferedImage img = ImageIO.read(p.toFile());
            if (img == null) throw new DatasetException(p, "ImageFolder: not an image ImageIO can read");
            return img;
        } catch (IOException e) {
            throw new DatasetException(p, "ImageFolder: cannot read the image", e);
        }
    }

    private static BufferedImage resize(BufferedImage img, int h, int w) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(img, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    @Override public String toString() {
        return "ImageFolder[" + files.size() + " images, " + classes.size() + " classes, " + exampleShape() + "]";
    }
}
