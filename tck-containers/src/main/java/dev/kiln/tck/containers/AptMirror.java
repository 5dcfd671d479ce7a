package dev.kiln.tck.containers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Debian mirror this machine's apt reads a suite from, so that {@code debootstrap} goes where
 * the machine is allowed to go: one-line {@code deb URI SUITE ...} entries and deb822
 * {@code .sources} paragraphs ({@code URIs:}, {@code Suites:}).
 */
final class AptMirror {
    static final String DEFAULT = "http://deb.debian.org/debian";

    private AptMirror() {}

    static String forSuite(Path aptDir, String suite) {
        List<Path> files = new ArrayList<>();
        files.add(aptDir.resolve("sources.list"));
        try (Stream<Path> s = Files.list(aptDir.resolve("sources.list.d"))) {
            s.sorted().forEach(files::add);
        } catch (IOException e) {
            // no sources.list.d: sources.list alone
        }
        for (Path f : files) {
            List<String> lines;
            try {
                lines = Files.readAllLines(f);
            } catch (IOException e) {
                continue;
            }
            String found = f.toString().endsWith(".sources") ? fromDeb822(lines, suite) : fromOneLine(lines, suite);
            if (found != null) return found;
        }
        return DEFAULT;
    }

    private static String fromOneLine(List<String> lines, String suite) {
        for (String line : lines) {
            String l = line.replaceAll("\\[[^]]*]", " ").trim(); // drop [options]
            String[] f = l.split("\\s+");
            if (f.length >= 3 && f[0].equals("deb") && f[2].equals(suite)) return f[1];
        }
        return null;
    }

    private static String fromDeb822(List<String> lines, String suite) {
        String uri = null;
        boolean suiteMatches = false, deb = true;
        List<String> paragraph = new ArrayList<>(lines);
        paragraph.add(""); // close the last paragraph
        for (String line : paragraph) {
            if (line.isBlank()) {
                if (uri != null && suiteMatches && deb) return uri;
                uri = null;
                suiteMatches = false;
                deb = true;
            } else if (line.startsWith("URIs:")) {
                uri = line.substring(5).trim().split("\\s+")[0];
            } else if (line.startsWith("Suites:")) {
                suiteMatches = List.of(line.substring(7).trim().split("\\s+")).contains(suite);
            } else if (line.startsWith("Types:")) {
                deb = List.of(line.substring(6).trim().split("\\s+")).contains("deb");
            }
        }
        return null;
    }
}
