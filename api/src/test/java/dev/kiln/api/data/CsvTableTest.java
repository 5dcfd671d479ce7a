package dev.kiln.api.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.core.Shape;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading small numeric tables: quoting, text columns left alone, and errors that name the file, line and column. */
class CsvTableTest {
    private static CsvTable parse(String text) { return CsvTable.parse("t.csv", new StringReader(text)); }

    @Test void numbersAndQuotedTextAreRead() {
        CsvTable t = parse("y, a ,b,name\n1.5,2,3,\"ford, \"\"torino\"\"\"\n\n-2,4e1,0.5,saab\n");
        assertEquals(List.of("y", "a", "b", "name"), t.columns());
        assertEquals(2, t.size());
        assertEquals("ford, \"torino\"", t.cell(0, "name"));
        assertArrayEquals(new float[][] {{2, 3}, {40, 0.5f}}, t.floats("a", "b"));
        ArrayDataset d = t.dataset(List.of("a", "b"), List.of("y"));
        assertEquals(Shape.of(2), d.exampleShape());
        assertEquals(Shape.of(1), d.targetShape());
        assertArrayEquals(new float[] {1.5f, -2}, d.targets());
    }

    @Test void errorsNameTheFileLineAndColumn(@TempDir Path dir) throws Exception {
        assertEquals("t.csv: line 3: column 2 (a): '?' is not a number", assertThrows(DatasetException.class,
                () -> parse("y,a\n1,2\n3,?\n").floats("y", "a")).getMessage());
        assertEquals("t.csv: line 2: column 2 (a): '' is not a number (the cell is empty: a missing value; drop or fill such rows first)",
                assertThrows(DatasetException.class, () -> parse("y,a\n1,\n").floats("a")).getMessage());
        assertEquals("t.csv: line 2: column 1 (y): 'NaN' is not a finite number", assertThrows(DatasetException.class,
                () -> parse("y\nNaN\n").floats("y")).getMessage());
        assertEquals("t.csv: line 3: has 1 fields but the header has 2", assertThrows(DatasetException.class,
                () -> parse("y,a\n1,2\n3\n")).getMessage());
        assertEquals("t.csv: line 2: column 2: a quoted field is not closed on its line", assertThrows(DatasetException.class,
                () -> parse("y,a\n1,\"x\n")).getMessage());
        assertEquals("t.csv: line 1: no column 'z'; the header has [y, a]", assertThrows(DatasetException.class,
                () -> parse("y,a\n1,2\n").floats("z")).getMessage());
        assertEquals("t.csv: is empty: a header row is needed", assertThrows(DatasetException.class, () -> parse("\n")).getMessage());
        Path f = dir.resolve("cars.csv");
        Files.writeString(f, "mpg,hp\n18,130\n15,x\n");
        DatasetException e = assertThrows(DatasetException.class, () -> CsvTable.read(f).floats("hp"));
        assertEquals(f + ": line 3: column 2 (hp): 'x' is not a number", e.getMessage());
        assertEquals(f, e.path());
    }
}
