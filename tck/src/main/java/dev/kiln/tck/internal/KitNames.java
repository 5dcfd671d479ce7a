package dev.kiln.tck.internal;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.Executable;

/**
 * Dynamic tests that build tools report by a readable name with no configuration. Surefire names
 * a dynamic test whose source is its factory method by the method and indices
 * ({@code forwardF32()[5][3]}); one with a source of its own by its display name. So each test
 * gets a source URI of its own, and a display name that carries its section, which keeps it
 * unique among the kit's tests ({@code forward f32: tanh [3,13]}).
 */
public final class KitNames {
    private KitNames() {}

    public static DynamicTest test(String section, String name, Executable body) {
        String display = section + ": " + name;
        return DynamicTest.dynamicTest(display, URI.create("kiln-tck:" + URLEncoder.encode(display, StandardCharsets.UTF_8)), body);
    }
}
