package dev.kiln.images;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.api.data.DataLoader;
import dev.kiln.api.data.Dataset;
import dev.kiln.api.data.DatasetException;
import dev.kiln.core.Shape;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ImageFolder} on PNG and JPEG files written here: classes, order, pixel values, resizing, errors. */
class ImageFolderTest {
    @TempDir Path root;

    /** A w x h image whose pixel (x, y) is (10x, 20y, 7) in RGB. */
    private static BufferedImage ramp(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (10 * x) << 16 | (20 * y) << 8 | 7);
        return img;
    }

    private Path write(String cls, String name, BufferedImage img, String format) throws Exception {
        Path dir = Files.createDirectories(root.resolve(cls));
        Path f = dir.resolve(name);
        ImageIO.write(img, format, f.toFile());
        return f;
    }

    @Test void classesAreSortedFolderNamesAndPixelsAreChannelFirstInZeroToOne() throws Exception {
        write("dog", "b.png", ramp(4, 3), "png");
        write("cat", "z.png", ramp(4, 3), "png");
        write("cat", "a.PNG", ramp(4, 3), "png");
        Files.writeString(root.resolve("cat").resolve("notes.txt"), "not an image");
        ImageFolder data = ImageFolder.open(root);
        assertEquals(List.of("cat", "dog"), data.classes());
        assertEquals(3, data.size());
        assertEquals("a.PNG", data.file(0).getFileName().toString());
        assertEquals(0, data.label(0));
        assertEquals(1, data.label(2));
        assertEquals(Shape.of(3, 3, 4), data.exampleShape());
        float[] px = new float[36];
        data.features(2, px, 0);
        // PNG is lossless: red = 10x/255 in plane 0, green = 20y/255 in plane 1, blue = 7/255 in plane 2.
        assertEquals(30 / 255f, px[3], 0);           // x = 3, y = 0, red
        assertEquals(40 / 255f, px[12 + 2 * 4], 0);  // y = 2, green
        assertEquals(7 / 255f, px[24 + 5], 0);       // blue
    }

    @Test void grayscaleAndResizingGiveOneChannelOfTheAskedSize() throws Exception {
        write("a", "1.png", ramp(8, 6), "png");
        write("b", "2.jpg", ramp(5, 5), "jpg");
        ImageFolder data = ImageFolder.open(root, true, 4, 4);
        assertEquals(Shape.of(1, 4, 4), data.exampleShape());
        float[] px = new float[16];
        data.features(1, px, 0);
        for (float v : px) assertTrue(v >= 0 && v <= 1, "in [0, 1]: " + v);
    }

    @Test void mixedSizesWithoutResizingFailNamingTheFileAndBothSizes() throws Exception {
        write("a", "1.png", ramp(4, 3), "png");
        Path odd = write("a", "2.png", ramp(5, 3), "png");
        ImageFolder data = ImageFolder.open(root);
        var e = assertThrows(DatasetException.class, () -> data.features(1, new float[36], 0));
        assertEquals(odd, e.path());
        assertTrue(e.getMessage().contains("3x5 but the first image is 3x4"), e.getMessage());
    }

    @Test void emptyOrMissingFoldersAreNamed() throws Exception {
        var none = assertThrows(DatasetException.class, () -> ImageFolder.open(root));
        assertTrue(none.getMessage().contains("no class folders"), none.getMessage());
        Files.createDirectories(root.resolve("empty"));
        var empty = assertThrows(DatasetException.class, () -> ImageFolder.open(root));
        assertEquals(root.resolve("empty"), empty.path());
        assertThrows(DatasetException.class, () -> ImageFolder.open(root.resolve("missing")));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(root, false, 4, 0));
    }
}
