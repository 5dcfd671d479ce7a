package dev.kiln.accel.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An MPI library opened with {@code dlopen} and identified, without initialising MPI: finding one
 * is cheap and side-effect free, so the provider's probe and the capabilities can ask for it.
 * {@code KILN_MPI_LIBRARY} (a path or a soname) overrides the search; otherwise the sonames of
 * Open MPI 4-5 and MPICH 3-4 are tried, then the unversioned development link.
 *
 * <p>The library stays loaded for the life of the JVM (global arena): MPI cannot be re-initialised
 * after it is finalised, so there is never a reason to unload it.
 */
final class MpiLibrary {
    /** The variable that names the library to use instead of searching. */
    static final String ENV = "KILN_MPI_LIBRARY";
    /** Searched in order; the versioned names first, since the unversioned link needs the -dev package. */
    static final List<String> DEFAULT_NAMES = List.of("libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so");

    /** The two ABI families; they differ in how handles are represented, see {@link MpiHandles}. */
    enum Implementation {
        OPEN_MPI("Open MPI"), MPICH("MPICH");

        final String displayName;

        Implementation(String displayName) { this.displayName = displayName; }
    }

    /** The outcome of a search: a library, or the names tried and why each failed. */
    sealed interface Search permits Found, NotFound {}

    record Found(MpiLibrary library) implements Search {}

    record NotFound(List<String> tried) implements Search {
        /** The text the provider's availability shows. */
        String message() { return "MPI: not found (tried " + String.join(", ", tried) + "; set " + ENV + ")"; }
    }

    private static final class Default {
        static final Search SEARCH = search(System.getenv(ENV));
    }

    /** The first dotted number, with a pre-release tag such as "rc12". */
    private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+(?:\\.\\d+)?(?:[a-z]+\\d*)?)");

    private final String name;
    private final SymbolLookup lookup;
    private final Implementation implementation;
    private final String version;

    private MpiLibrary(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
        // Open MPI's predefined handles are global structs; MPICH's are integer constants and have no symbol.
        this.implementation = lookup.find("ompi_mpi_comm_world").isPresent() ? Implementation.OPEN_MPI : Implementation.MPICH;
        this.version = readVersion(lookup);
    }

    /** The process's library, searched once (the environment does not change under a running JVM). */
    static Search process() { return Default.SEARCH; }

    /** The process's library, or an {@link UnsupportedOperationException} saying what was tried. */
    static MpiLibrary require() {
        return switch (process()) {
            case Found f -> f.library();
            case NotFound n -> throw new UnsupportedOperationException(n.message());
        };
    }

    /** Searches for {@code override} alone when it is set (a wrong setting should fail, not fall back), else the default names. */
    static Search search(String override) {
        List<String> names = override != null && !override.isBlank() ? List.of(override.strip()) : DEFAULT_NAMES;
        List<String> tried = new ArrayList<>();
        for (String n : names) {
            Optional<SymbolLookup> lookup = open(n);
            if (lookup.isEmpty()) { tried.add(n); continue; }
            if (lookup.get().find("MPI_Init_thread").isEmpty()) { tried.add(n + " (no MPI_Init_thread: not an MPI library)"); continue; }
            return new Found(new MpiLibrary(n, lookup.get()));
        }
        return new NotFound(List.copyOf(tried));
    }

    private static Optional<SymbolLookup> open(String nameOrPath) {
        try {
            return Optional.of(SymbolLookup.libraryLookup(nameOrPath, Arena.global()));
        } catch (IllegalArgumentException notLoadable) {
            return Optional.empty();
        }
    }

    /** MPI_Get_library_version is one of the few calls the standard allows before MPI_Init (MPI 3.1, 8.7). */
    private static String readVersion(SymbolLookup lookup) {
        Optional<MemorySegment> fn = lookup.find("MPI_Get_library_version");
        if (fn.isEmpty()) return "unknown version";
        MethodHandle call = Linker.nativeLinker().downcallHandle(fn.get(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            // MPICH's MPI_MAX_LIBRARY_VERSION_STRING is 8192, Open MPI's 256: the larger fits both.
            MemorySegment text = arena.allocate(8192);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            int rc = (int) call.invokeExact(text, length);
            if (rc != 0) return "unknown version";
            return firstLine(text.getString(0));
        } catch (Throwable t) {
            return "unknown version";
        }
    }

    /** "Open MPI v4.1.4, package: Debian ..." becomes "4.1.4"; MPICH's "MPICH Version:\t4.0.2\n..." likewise. */
    static String shortVersion(String libraryVersion) {
        var m = VERSION.matcher(libraryVersion);
        return m.find() ? m.group(1) : libraryVersion;
    }


    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }

    String name() { return name; }

    Implementation implementation() { return implementation; }

    /** The first line of MPI_Get_library_version. */
    String libraryVersion() { return version; }

    /** The symbol, or an exception naming it and the library (a build without it cannot be used). */
    MemorySegment symbol(String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new UnsupportedOperationException(name + " has no symbol " + symbol));
    }

    /** The text the provider's availability shows, e.g. "MPI: Open MPI 4.1.4 found (libmpi.so.40)". */
    String describe() { return "MPI: " + implementation.displayName + " " + shortVersion(version) + " found (" + name + ")"; }

    /** The availability text for whatever the process found. */
    static String describeProcess() {
        return switch (process()) {
            case Found f -> f.library().describe();
            case NotFound n -> n.message();
        };
    }
}
