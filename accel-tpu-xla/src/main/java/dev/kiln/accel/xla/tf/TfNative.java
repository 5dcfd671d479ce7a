package dev.kiln.accel.xla.tf;

import dev.kiln.spi.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Finds TensorFlow's {@code libtensorflow_cc.so.2} and loads it once for the life of the JVM.
 *
 * <p>Where it comes from, first match wins:
 * <ol>
 *   <li>{@code KILN_TF_LIBRARY} (environment) or {@code kiln.tf.library} (system property): the
 *       library file itself, or a directory holding it. Its {@code libtensorflow_framework.so.2}
 *       must sit beside it: the library's RUNPATH is {@code $ORIGIN}.</li>
 *   <li>The jar {@code org.tensorflow:tensorflow-core-native:<v>:linux-x86_64}, on the class path,
 *       or on the module path (it need not be resolved: the module path is searched too). A
 *       shared library cannot be loaded from inside a jar, so both libraries are extracted once
 *       to {@code $XDG_CACHE_HOME/kiln/tensorflow-core-native-<v>-linux-x86_64/} (default
 *       {@code ~/.cache}), or to a temporary directory when that is not writable.</li>
 * </ol>
 *
 * <p>Extraction writes each file under a temporary name in the target directory and renames it
 * into place, so processes racing on an empty cache each produce a whole file and a reader never
 * sees a half-written one; a cached file whose size differs from the jar's entry is rewritten.
 * The jar's two libraries unpack to about 680 MB.
 */
@SuppressWarnings("restricted") // loading a native library is what this class is for
public final class TfNative {
    static final String LIBRARY = "libtensorflow_cc.so.2";
    static final String FRAMEWORK = "libtensorflow_framework.so.2";
    static final String OVERRIDE_ENV = "KILN_TF_LIBRARY";
    static final String OVERRIDE_PROPERTY = "kiln.tf.library";
    private static final String JAR_DIR = "org/tensorflow/internal/c_api/linux-x86_64/";
    private static final String POM_PROPERTIES = "META-INF/maven/org.tensorflow/tensorflow-core-native/pom.properties";

    /** What loading found: the symbols on success, and the reason either way. */
    private record Loaded(SymbolLookup symbols, Availability availability) {}

    private static volatile Loaded loaded;

    private TfNative() {}

    /**
     * Whether the library is there to load, without loading or extracting it: cheap enough for a
     * provider's probe, which every {@code Kiln.open} runs for every plugin on the class path.
     */
    public static Availability locate() {
        Loaded l = loaded;
        if (l != null) return l.availability();
        String override = System.getProperty(OVERRIDE_PROPERTY, System.getenv(OVERRIDE_ENV));
        if (override != null && !override.isBlank()) {
            Path library = Path.of(override);
            if (Files.isDirectory(library)) library = library.resolve(LIBRARY);
            return Files.isRegularFile(library) ? Availability.available(library + " (from " + OVERRIDE_ENV + "; loaded when opened)")
                    : Availability.unavailable(OVERRIDE_ENV + " names " + override + ", which is not " + LIBRARY + " nor a directory holding it");
        }
        try {
            URL resource = findInJar();
            return resource != null ? Availability.available(LIBRARY + " in " + resource.getPath().replaceFirst("!.*", "") + " (loaded when opened)")
                    : Availability.unavailable("no " + LIBRARY + ": add org.tensorflow:tensorflow-core-native:1.1.0 with classifier linux-x86_64"
                            + " to the class or module path, or set " + OVERRIDE_ENV + " to the library's path");
        } catch (IOException | UncheckedIOException | SecurityException e) {
            return Availability.unavailable("looking for " + LIBRARY + " failed: " + e);
        }
    }

    /** Whether the TF C API can be used here; the first call loads it (seconds: a 630 MB library). */
    public static Availability availability() { return load().availability(); }

    /**
     * The loaded library's symbols.
     *
     * @throws IllegalStateException naming why it could not be loaded
     */
    static SymbolLookup symbols() {
        Loaded l = load();
        if (l.symbols() == null) throw new IllegalStateException("TensorFlow's C API is unavailable: " + l.availability().reason());
        return l.symbols();
    }

    private static Loaded load() {
        Loaded l = loaded;
        if (l != null) return l;
        synchronized (TfNative.class) {
            if (loaded == null) loaded = locateAndOpen();
            return loaded;
        }
    }

    private static Loaded locateAndOpen() {
        Path library;
        String origin;
        try {
            String override = System.getProperty(OVERRIDE_PROPERTY, System.getenv(OVERRIDE_ENV));
            if (override != null && !override.isBlank()) {
                library = Path.of(override);
                if (Files.isDirectory(library)) library = library.resolve(LIBRARY);
                if (!Files.isRegularFile(library)) {
                    return unavailable(OVERRIDE_ENV + " names " + override + ", which is not " + LIBRARY + " nor a directory holding it");
                }
                origin = "from " + OVERRIDE_ENV;
            } else {
                URL resource = findInJar();
                if (resource == null) {
                    return unavailable("no " + LIBRARY + ": add org.tensorflow:tensorflow-core-native:1.1.0 with classifier linux-x86_64"
                            + " to the class or module path, or set " + OVERRIDE_ENV + " to the library's path");
                }
                Extracted extracted = extract(resource);
                library = extracted.library();
                origin = extracted.how();
            }
        } catch (IOException | UncheckedIOException | URISyntaxException | SecurityException e) {
            return unavailable("extracting " + LIBRARY + " failed: " + e);
        }
        try {
            // Global arena: TF keeps threads, registries and static destructors of its own, and
            // unloading it under them would crash; it lives as long as the JVM.
            SymbolLookup symbols = SymbolLookup.libraryLookup(library, Arena.global());
            if (symbols.find("TF_NewSession").isEmpty()) return unavailable(library + " does not export TensorFlow's C API");
            return new Loaded(symbols, Availability.available("TensorFlow " + version(symbols) + " C API, " + library + " (" + origin + ")"));
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return unavailable("cannot load " + library + ": " + dlerror(library, e));
        }
    }

    private static Loaded unavailable(String reason) { return new Loaded(null, Availability.unavailable(reason)); }

    /** The library's entry inside the native jar, searched for on the class path, then the module path. */
    private static URL findInJar() throws IOException {
        ClassLoader loader = TfNative.class.getClassLoader();
        URL url = loader == null ? ClassLoader.getSystemResource(JAR_DIR + LIBRARY) : loader.getResource(JAR_DIR + LIBRARY);
        if (url != null) return url;
        // An application on the module path rarely resolves a module that nothing requires, and
        // the jar's automatic module exports no package, so look at the jars themselves.
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath == null) return null;
        for (String entry : modulePath.split(java.io.File.pathSeparator)) {
            if (entry.isEmpty()) continue;
            List<Path> jars = new ArrayList<>();
            Path p = Path.of(entry);
            if (Files.isDirectory(p)) {
                try (var list = Files.list(p)) { list.filter(f -> f.toString().endsWith(".jar")).forEach(jars::add); }
            } else if (Files.isRegularFile(p)) {
                jars.add(p);
            }
            for (Path jar : jars) {
                try (ZipFile zip = new ZipFile(jar.toFile())) {
                    if (zip.getEntry(JAR_DIR + LIBRARY) != null) return java.net.URI.create("jar:" + jar.toUri() + "!/" + JAR_DIR + LIBRARY).toURL();
                } catch (IOException notAZip) {
                    // Not ours; the module system will complain about it if it matters.
                }
            }
        }
        return null;
    }

    /** Where the library ended up, and how: "cached in DIR", "extracted in 5.1 s to DIR". */
    private record Extracted(Path library, String how) {}

    /** The library file for {@code resource}: the file itself outside a jar, else its extracted copy. */
    private static Extracted extract(URL resource) throws IOException, URISyntaxException {
        if (resource.getProtocol().equals("file")) return new Extracted(Path.of(resource.toURI()), "from " + resource);
        if (!resource.getProtocol().equals("jar")) throw new IOException("cannot extract from " + resource);
        String spec = resource.getPath();
        Path jar = Path.of(new java.net.URI(spec.substring(0, spec.indexOf("!/"))));
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            String name = "tensorflow-core-native-" + jarVersion(zip, jar) + "-linux-x86_64";
            Path cache = cacheRoot().resolve(name);
            IOException cacheFailure;
            try {
                return extractInto(zip, cache, "");
            } catch (IOException e) {
                cacheFailure = e;
            }
            Path temp = Files.createTempDirectory("kiln-" + name + "-");
            try {
                Extracted e = extractInto(zip, temp, ", for this JVM only: the cache " + cache + " failed with " + cacheFailure);
                // dlopen keeps its own reference, so the files can go at exit (in reverse order: files, then the directory).
                temp.toFile().deleteOnExit();
                e.library().resolveSibling(FRAMEWORK).toFile().deleteOnExit();
                e.library().toFile().deleteOnExit();
                return e;
            } catch (IOException e) {
                e.addSuppressed(cacheFailure);
                throw e;
            }
        }
    }

    private static Extracted extractInto(ZipFile zip, Path dir, String note) throws IOException {
        long start = System.nanoTime();
        boolean wrote = false;
        Files.createDirectories(dir);
        for (String file : List.of(FRAMEWORK, LIBRARY)) {
            ZipEntry entry = zip.getEntry(JAR_DIR + file);
            if (entry == null) throw new IOException(zip.getName() + " has no " + JAR_DIR + file);
            Path target = dir.resolve(file);
            if (Files.isRegularFile(target) && Files.size(target) == entry.getSize()) continue;
            Path part = Files.createTempFile(dir, file + ".", ".part");
            try {
                try (InputStream in = zip.getInputStream(entry)) { Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING); }
                if (Files.size(part) != entry.getSize()) {
                    throw new IOException("extracted " + Files.size(part) + " bytes of " + file + ", the jar says " + entry.getSize());
                }
                try {
                    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
                }
                wrote = true;
            } finally {
                Files.deleteIfExists(part);
            }
        }
        String how = wrote ? String.format(Locale.ROOT, "extracted in %.1f s to %s", (System.nanoTime() - start) / 1e9, dir) : "cached in " + dir;
        return new Extracted(dir.resolve(LIBRARY), how + note);
    }

    private static Path cacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("kiln");
    }

    /** The jar's Maven version, so that a newer jar never reuses an older cache. */
    private static String jarVersion(ZipFile zip, Path jar) throws IOException {
        ZipEntry pom = zip.getEntry(POM_PROPERTIES);
        if (pom != null) {
            Properties p = new Properties();
            try (InputStream in = zip.getInputStream(pom)) { p.load(in); }
            String v = p.getProperty("version");
            if (v != null && v.matches("[A-Za-z0-9._-]+")) return v;
        }
        // No metadata (a repackaged jar): its size and date stand in for a version.
        return "unknown-" + Files.size(jar) + "-" + Files.getLastModifiedTime(jar).toMillis();
    }

    private static String version(SymbolLookup symbols) {
        try {
            var tfVersion = Linker.nativeLinker().downcallHandle(symbols.find("TF_Version").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS));
            return ((MemorySegment) tfVersion.invokeExact()).reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable e) {
            return "(version unknown: " + e + ")";
        }
    }

    /** The dynamic linker's own reason, which {@link SymbolLookup#libraryLookup} does not pass on. */
    private static String dlerror(Path library, RuntimeException failure) {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            var dlopen = linker.downcallHandle(libc.find("dlopen").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            var dlerror = linker.downcallHandle(libc.find("dlerror").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                final int rtldLazy = 1;
                MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(library.toString()), rtldLazy);
                if (!handle.equals(MemorySegment.NULL)) return failure.getMessage();
                MemorySegment message = (MemorySegment) dlerror.invokeExact();
                return message.equals(MemorySegment.NULL) ? failure.getMessage() : message.reinterpret(Long.MAX_VALUE).getString(0);
            }
        } catch (Throwable e) {
            return failure.getMessage();
        }
    }
}
