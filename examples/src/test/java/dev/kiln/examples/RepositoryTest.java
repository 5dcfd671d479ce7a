package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Checks on the repository as a whole that no module's own tests could make: the README, the docs
 * and the publishing metadata. They live here because examples is built after everything else.
 */
class RepositoryTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    @TempDir Path tmp;

    static String readme() throws IOException { return Files.readString(ROOT.resolve("README.md")); }

    /** The fenced blocks of a Markdown text, with their info strings: {@code [info, body]}. */
    static List<String[]> fences(String markdown) {
        List<String[]> out = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^```(\\w*)\\n(.*?)^```", Pattern.DOTALL).matcher(markdown);
        while (m.find()) out.add(new String[] {m.group(1), m.group(2)});
        return out;
    }

    @Test void theReadmeStartsWithTheTwoCommands() throws IOException {
        String[] first = fences(readme()).getFirst();
        List<String> commands = first[1].lines().map(l -> l.replaceFirst("\\s+#.*", "")).toList();
        assertEquals(List.of("./mvnw -q -pl examples -am verify -DskipTests -Prun", "./mvnw -B verify"), commands,
                "the README's first lines are the two commands: run the example, run the tests");
        assertTrue(readme().startsWith("# Kiln\n\n```\n./mvnw -q -pl examples"), "nothing comes before them but the title");
    }

    @Test void theReadmesFirstProgramCompilesAsPasted() throws IOException {
        String program = fences(readme()).stream().filter(f -> f[0].equals("java")).findFirst().orElseThrow()[1];
        Matcher cls = Pattern.compile("public (?:final )?class (\\w+)").matcher(program);
        assertTrue(cls.find(), "the first program is a whole class with a main:\n" + program);
        assertTrue(program.contains("public static void main(String[] args)"), program);
        Path src = tmp.resolve(cls.group(1) + ".java");
        Files.writeString(src, program);
        // What a user with kiln-api on the class path has: everything here but the examples' own classes.
        String cp = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("examples" + File.separator + "target"))
                .collect(Collectors.joining(File.pathSeparator));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "tests must run on a JDK");
        StringWriter diagnostics = new StringWriter();
        boolean ok = javac.getTask(diagnostics, null, null, List.of("-d", tmp.resolve("classes").toString(), "-cp", cp, "-proc:none"),
                null, javac.getStandardFileManager(null, null, null).getJavaFileObjects(src)).call();
        assertTrue(ok, "the README's first program does not compile:\n" + diagnostics + "\n" + program);
    }

    /** Text files of the repository, without build output and version control. */
    static List<Path> textFiles() throws IOException {
        Set<String> skip = Set.of(".git", "target", ".device", "node_modules");
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(ROOT, new java.nio.file.SimpleFileVisitor<>() {
            @Override public java.nio.file.FileVisitResult preVisitDirectory(Path d, java.nio.file.attribute.BasicFileAttributes a) {
                return skip.contains(d.getFileName().toString()) ? java.nio.file.FileVisitResult.SKIP_SUBTREE : java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
                String n = f.getFileName().toString();
                if (a.size() < 2_000_000 && n.matches(".*\\.(java|md|xml|sh|py|txt|properties|config|c)$|^run$|^mvnw$")) out.add(f);
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
        return out;
    }

    @Test void nothingPointsOutsideTheRepository() throws IOException {
        // Built from parts so that this file does not match itself.
        List<String> outside = List.of(".." + "/shared", "shared" + "/DESIGN.md");
        List<String> found = new ArrayList<>();
        for (Path f : textFiles()) {
            String text;
            try {
                text = Files.readString(f);
            } catch (java.nio.charset.MalformedInputException e) {
                continue;
            }
            for (String o : outside) if (text.contains(o)) found.add(ROOT.relativize(f) + " mentions " + o);
        }
        assertEquals(List.of(), found);
    }

    @Test void everyRelativeLinkInTheDocsResolves() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> s = Files.list(ROOT.resolve("docs"))) { s.filter(p -> p.toString().endsWith(".md")).forEach(docs::add); }
        List<String> broken = new ArrayList<>();
        for (Path d : docs) {
            Matcher m = Pattern.compile("\\]\\(([^)#]+)(#[^)]*)?\\)").matcher(Files.readString(d));
            while (m.find()) {
                String target = m.group(1);
                if (target.contains("://")) continue;
                if (!Files.exists(d.getParent().resolve(target))) broken.add(ROOT.relativize(d) + " -> " + target);
            }
        }
        assertEquals(List.of(), broken);
        assertTrue(readme().contains("(docs/architecture.md)"), "the README links the architecture");
    }

    // ---- publishing ----------------------------------------------------------------------------

    static Element pom(Path file) {
        try {
            Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
            return d.getDocumentElement();
        } catch (Exception e) {
            throw new AssertionError("cannot parse " + file + ": " + e, e);
        }
    }

    /** The text of the direct child {@code name} of {@code e}, or null. */
    static String child(Element e, String name) {
        Element c = childElement(e, name);
        return c == null ? null : c.getTextContent().trim();
    }

    static Element childElement(Element e, String name) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) return c;
        }
        return null;
    }

    static List<Element> children(Element e, String name) {
        List<Element> out = new ArrayList<>();
        if (e == null) return out;
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) out.add(c);
        }
        return out;
    }

    static boolean property(Element pom, String name) {
        Element props = childElement(pom, "properties");
        return props != null && "true".equals(child(props, name));
    }

    @Test void theParentPomCarriesWhatARepositoryRequires() throws IOException {
        Element parent = pom(ROOT.resolve("pom.xml"));
        assertNotNull(child(parent, "url"));
        assertNotNull(child(parent, "description"));
        Element license = childElement(childElement(parent, "licenses"), "license");
        assertEquals("Apache-2.0", child(license, "name"));
        assertNotNull(childElement(childElement(parent, "developers"), "developer"));
        Element scm = childElement(parent, "scm");
        assertNotNull(child(scm, "connection"));
        assertNotNull(child(scm, "url"));
        String license2 = Files.readString(ROOT.resolve("LICENSE"));
        assertTrue(license2.contains("Apache License") && license2.contains("Version 2.0, January 2004")
                && license2.contains("END OF TERMS AND CONDITIONS"), "LICENSE holds the Apache License 2.0");
        for (Element plugin : children(childElement(childElement(childElement(parent, "build"), "pluginManagement"), "plugins"), "plugin")) {
            String v = child(plugin, "version");
            assertTrue(v != null && !v.contains("SNAPSHOT") && !v.startsWith("$"), "pinned release version for " + child(plugin, "artifactId"));
        }
    }

    @Test void theBomListsEveryPublishedModuleAndExamplesAndBenchAreNotPublished() {
        Element parent = pom(ROOT.resolve("pom.xml"));
        Set<String> published = new TreeSet<>();
        for (Element m : children(childElement(parent, "modules"), "module")) {
            Element p = pom(ROOT.resolve(m.getTextContent().trim()).resolve("pom.xml"));
            String packaging = child(p, "packaging");
            if (packaging != null && !packaging.equals("jar")) continue;
            if (property(p, "maven.install.skip")) {
                assertTrue(property(p, "maven.deploy.skip"), child(p, "artifactId") + " skips install but would still be deployed");
                continue;
            }
            published.add(child(p, "artifactId"));
        }
        assertTrue(published.containsAll(List.of("kiln-spi", "kiln-runtime", "kiln-api", "kiln-plot", "kiln-tck")), published.toString());
        assertFalse(published.contains("kiln-examples") || published.contains("kiln-bench"), published.toString());

        Element bom = pom(ROOT.resolve("bom/pom.xml"));
        assertEquals(null, childElement(bom, "parent"), "importing a BOM with a parent would import the parent's third-party versions too");
        assertEquals(child(parent, "version"), child(bom, "version"));
        assertEquals(child(parent, "groupId"), child(bom, "groupId"));
        assertEquals("pom", child(bom, "packaging"));
        Set<String> managed = new TreeSet<>();
        for (Element d : children(childElement(childElement(bom, "dependencyManagement"), "dependencies"), "dependency")) {
            assertEquals("dev.kiln", child(d, "groupId"));
            assertEquals("${project.version}", child(d, "version"));
            managed.add(child(d, "artifactId"));
        }
        assertEquals(published, managed, "kiln-bom manages exactly the published artifacts");
        assertNotNull(childElement(childElement(bom, "licenses"), "license"));
        assertEquals(child(parent, "url"), child(bom, "url"));
    }
}
