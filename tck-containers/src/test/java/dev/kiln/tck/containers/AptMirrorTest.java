package dev.kiln.tck.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** debootstrap uses the mirror this machine's apt already reads the suite from. */
class AptMirrorTest {
    @TempDir Path apt;

    @Test void fromADeb822SourcesFileSkippingOtherSuites() throws IOException {
        Files.createDirectories(apt.resolve("sources.list.d"));
        Files.writeString(apt.resolve("sources.list.d/debian.sources"), """
                Types: deb
                URIs: http://mirror.example/debian-security
                Suites: bookworm-security
                Components: main

                Types: deb
                # a comment
                URIs: http://mirror.example/debian
                Suites: bookworm bookworm-updates
                Components: main
                """);
        assertEquals("http://mirror.example/debian", AptMirror.forSuite(apt, "bookworm"));
    }

    @Test void fromAOneLineEntryWithOptions() throws IOException {
        Files.writeString(apt.resolve("sources.list"), "deb-src http://src.example/debian bookworm main\ndeb [arch=amd64] http://one.example/debian bookworm main\n");
        assertEquals("http://one.example/debian", AptMirror.forSuite(apt, "bookworm"));
    }

    @Test void debiansOwnWhenNoneReadsTheSuite() throws IOException {
        Files.writeString(apt.resolve("sources.list"), "deb http://one.example/debian trixie main\n");
        assertEquals(AptMirror.DEFAULT, AptMirror.forSuite(apt, "bookworm"));
    }
}
