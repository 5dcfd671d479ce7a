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
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An MPI library opened with {@code dlopen} and identified, without initialising MPI: finding one
 * is cheap and side-effect free, so the provider's probe and the capabilities can ask for it.
 * {@code KILN_MPI_LIBRARY} (a path or a soname) overrides the search; otherwise the sonames of
 * Open MPI 4-5 and MPICH 3-4 are tried, those of the launcher's own implementation first (see
 * {@link Launcher}), then the unversioned development link.
 *
 * <p>The library stays loaded for the life of the JVM (global arena): MPI cannot be re-initialised
 * after it is finalised, so there is never a reason to unload it. Loading it keeps the JVM's
 * signal handlers: UCX (under Debian's MPICH) is told to leave them alone and any the library
 * replaced anyway are put back (see {@link JvmSignals}).
 */
final class MpiLibrary {
    /** The variable that names the library to use instead of searching. */
    static final String ENV = "KILN_MPI_LIBRARY";
    /** Open MPI's soname since 3.0 (4.x and 5.x keep it). */
    static final List<String> OPEN_MPI_NAMES = List.of("libmpi.so.40");
    /** MPICH's own soname, and the MPICH ABI initiative's one (Intel MPI, MVAPICH, Cray MPICH; some distributions' MPICH). */
    static final List<String> MPICH_NAMES = List.of("libmpich.so.12", "libmpi.so.12");
    /** The development link (-dev packages), whichever implementation it points to: tried last. */
    static final String UNVERSIONED = "libmpi.so";
    /** Searched in order without a launcher; the versioned names first, since the unversioned link needs the -dev package. */
    static final List<String> DEFAULT_NAMES = List.of("libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so");

    /** The two ABI families; they differ in how handles are represented, see {@link MpiHandles}. */
    enum Implementation {
        OPEN_MPI("Open MPI"), MPICH("MPICH");

        final String displayName;

        Implementation(String displayName) { this.displayName = displayName; }
    }

    /**
     * Which launcher started this process, from the variables it sets in each rank (the same
     * precedence as the runtime's LaunchEnvironment). An MPI library only joins the world of its
     * own launcher: under the other one each rank initialises as a world of one, so on a machine
     * with both implementations the launcher decides which library is tried first.
     */
    enum Launcher {
        OPEN_MPI("Open MPI's mpirun (OMPI_COMM_WORLD_SIZE set)", Implementation.OPEN_MPI),
        HYDRA("MPICH's Hydra (PMI_RANK/PMI_SIZE set, no OMPI_COMM_WORLD_*)", Implementation.MPICH),
        NONE("no MPI launcher", null);

        final String description;
        /** The implementation whose libraries understand this launcher; null for none. */
        final Implementation implementation;

        Launcher(String description, Implementation implementation) {
            this.description = description;
            this.implementation = implementation;
        }

        static Launcher of(Map<String, String> env) {
            if (env.containsKey("OMPI_COMM_WORLD_RANK") || env.containsKey("OMPI_COMM_WORLD_SIZE")) return OPEN_MPI;
            if (env.containsKey("PMI_RANK") || env.containsKey("PMI_SIZE")) return HYDRA;
            return NONE;
        }

        /** The names to try, in order, under this launcher. */
        List<String> names() {
            return switch (this) {
                case OPEN_MPI -> concat(OPEN_MPI_NAMES, MPICH_NAMES);
                case HYDRA -> concat(MPICH_NAMES, OPEN_MPI_NAMES);
                case NONE -> DEFAULT_NAMES;
            };
        }

        private static List<String> concat(List<String> first, List<String> second) {
            return Stream.of(first.stream(), second.stream(), Stream.of(UNVERSIONED)).flatMap(s -> s).toList();
        }
    }

    /** The outcome of a search: a library, or the names tried and why each failed. */
    sealed interface Search permits Found, NotFound {}

    record Found(MpiLibrary library) implements Search {}

    record NotFound(List<String> tried) implements Search {
        /** The text the provider's availability shows. */
        String message() { return "MPI: not found (tried " + String.join(", ", tried) + "; set " + ENV + ")"; }
    }

    private static final class Default {
        static final Search SEARCH = search(System.getenv(ENV), System.getenv());
    }

    /** The first dotted number, with a pre-release tag such as "rc12". */
    private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+(?:\\.\\d+)?(?:[a-z]+\\d*)?)");

    private final String name;
    private final SymbolLookup lookup;
    private final Implementation implementation;
    private final String version;
    private final Launcher launcher;
    private final boolean overridden;
    /** The names tried before this one, each with why it was not used. */
    private final List<String> passedOver;
    /** The JVM signal handlers loading the library replaced, put back. */
    private final List<String> restoredSignals;

    private MpiLibrary(String name, SymbolLookup lookup, Implementation implementation, Launcher launcher, boolean overridden,
                       List<String> passedOver, List<String> restoredSignals) {
        this.name = name;
        this.lookup = lookup;
        this.implementation = implementation;
        this.version = readVersion(lookup);
        this.launcher = launcher;
        this.overridden = overridden;
        this.passedOver = List.copyOf(passedOver);
        this.restoredSignals = restoredSignals;
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

    /** {@link #search(String, Map)} as if no launcher had started the process. */
    static Search search(String override) { return search(override, Map.of()); }

    /**
     * Searches for {@code override} alone when it is set (a wrong setting should fail, not fall
     * back), else the names of {@link Launcher#names()} for the launcher {@code env} shows.
     */
    static Search search(String override, Map<String, String> env) {
        boolean overridden = override != null && !override.isBlank();
        Launcher launcher = Launcher.of(env);
        List<String> names = overridden ? List.of(override.strip()) : launcher.names();
        List<String> tried = new ArrayList<>();
        JvmSignals.quietUcx();
        for (String n : names) {
            JvmSignals.Result<Optional<SymbolLookup>> opened = JvmSignals.preserving(() -> open(n));
            Optional<SymbolLookup> lookup = opened.value();
            if (lookup.isEmpty()) { tried.add(n); continue; }
            if (lookup.get().find("MPI_Init_thread").isEmpty()) { tried.add(n + " (no MPI_Init_thread: not an MPI library)"); continue; }
            Optional<Implementation> implementation = implementation(lookup.get());
            if (implementation.isEmpty()) {
                tried.add(n + " (neither Open MPI's ompi_mpi_comm_world nor MPICH's MPIR_Err_create_code: an MPI ABI Kiln has no handle table for)");
                continue;
            }
            return new Found(new MpiLibrary(n, lookup.get(), implementation.get(), launcher, overridden, tried, opened.restored()));
        }
        return new NotFound(List.copyOf(tried));
    }

    /**
     * Open MPI's predefined handles are global structs, so it exports {@code ompi_mpi_comm_world};
     * MPICH's are integer constants with no symbol, but every MPICH-derived library exports its
     * internal error constructor {@code MPIR_Err_create_code}.
     */
    private static Optional<Implementation> implementation(SymbolLookup lookup) {
        if (lookup.find("ompi_mpi_comm_world").isPresent()) return Optional.of(Implementation.OPEN_MPI);
        if (lookup.find("MPIR_Err_create_code").isPresent()) return Optional.of(Implementation.MPICH);
        return Optional.empty();
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

    /** The launcher seen when the library was searched for. */
    Launcher launcher() { return launcher; }

    /** Whether this library's implementation can join the launcher's world (true without a launcher). */
    boolean matchesLauncher() { return launcher.implementation == null || launcher.implementation == implementation; }

    /** The JVM signal handlers that loading the library replaced and that were put back, e.g. [SIGHUP] for Debian's MPICH. */
    List<String> restoredSignals() { return restoredSignals; }

    /** The first line of MPI_Get_library_version. */
    String libraryVersion() { return version; }

    /** The symbol, or an exception naming it and the library (a build without it cannot be used). */
    MemorySegment symbol(String symbol) {
        return lookup.find(symbol).orElseThrow(() -> new UnsupportedOperationException(name + " has no symbol " + symbol));
    }

    /**
     * The text the provider's availability shows: "MPI: Open MPI 4.1.4 found (libmpi.so.40)" without
     * a launcher; under one, why this library was chosen, e.g. "MPI: MPICH 4.0.2 found (libmpich.so.12;
     * MPICH's libraries first for MPICH's Hydra (PMI_RANK/PMI_SIZE set, no OMPI_COMM_WORLD_*))", and
     * what was passed over and a warning when the library cannot join the launcher's world.
     */
    String describe() {
        StringBuilder s = new StringBuilder("MPI: ").append(implementation.displayName).append(' ').append(shortVersion(version))
                .append(" found (").append(name);
        if (overridden) s.append(", from ").append(ENV);
        else if (launcher != Launcher.NONE) s.append("; ").append(launcher.implementation.displayName)
                .append("'s libraries first for ").append(launcher.description);
        if (!passedOver.isEmpty()) s.append("; passed over: ").append(String.join(", ", passedOver));
        s.append(')');
        if (!matchesLauncher()) {
            s.append("; WARNING: started by ").append(launcher.description).append(", which ").append(implementation.displayName)
                    .append(" cannot join: each rank would be a world of one (install ").append(launcher.implementation.displayName)
                    .append("'s library or set ").append(ENV).append(')');
        }
        return s.toString();
    }

    /** The availability text for whatever the process found. */
    static String describeProcess() {
        return switch (process()) {
            case Found f -> f.library().describe();
            case NotFound n -> n.message();
        };
    }
}
