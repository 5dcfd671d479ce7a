package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Finding and identifying libmpi (Open MPI's and MPICH's), which never initialises MPI, so it runs in the test JVM without mpirun. */
class MpiLibraryTest {
    private static final String HOW = "needs Open MPI: apt-get install openmpi-bin libopenmpi-dev";
    private static final String MPICH_HOW = "needs MPICH: apt-get install mpich libmpich-dev";

    @Test void aLibraryThatIsNotThereIsReportedWithWhatWasTriedAndTheVariable() {
        var search = assertInstanceOf(MpiLibrary.NotFound.class, MpiLibrary.search("/nonexistent/libmpi.so.40"));
        assertEquals(List.of("/nonexistent/libmpi.so.40"), search.tried());
        assertEquals("MPI: not found (tried /nonexistent/libmpi.so.40; set KILN_MPI_LIBRARY)", search.message());
    }

    @Test void aLibraryWithoutMpiIsRefusedNotUsed() {
        var search = assertInstanceOf(MpiLibrary.NotFound.class, MpiLibrary.search("libc.so.6"));
        assertEquals(List.of("libc.so.6 (no MPI_Init_thread: not an MPI library)"), search.tried());
    }

    @Test void versionsAreShortenedForTheAvailabilityText() {
        assertEquals("4.1.4", MpiLibrary.shortVersion("Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022"));
        assertEquals("4.0.2", MpiLibrary.shortVersion("MPICH Version:\t4.0.2"));
        assertEquals("5.0.0rc12", MpiLibrary.shortVersion("Open MPI v5.0.0rc12"));
    }

    @Test void theDefaultSearchFindsOpenMpiAndDescribesIt() {
        var found = openMpi();
        assertEquals(MpiLibrary.Implementation.OPEN_MPI, found.implementation());
        assertTrue(found.describe().matches("MPI: Open MPI \\d+\\.\\d+\\.\\d+ found \\(libmpi\\.so(\\.\\d+)?\\)"), found.describe());
        assertTrue(new OneDnnProvider().probe().toString().contains(found.describe()), new OneDnnProvider().probe().toString());
        try (var acc = new OneDnnProvider().open(dev.kiln.spi.AcceleratorConfig.defaults())) {
            assertTrue(acc.capabilities().collectives());
        }
    }

    @Test void aPathInTheVariableIsUsedAsIs() {
        openMpi();
        String path = "/usr/lib/x86_64-linux-gnu/libmpi.so.40";
        assumeTrue(new java.io.File(path).exists(), HOW);
        var found = assertInstanceOf(MpiLibrary.Found.class, MpiLibrary.search(path)).library();
        assertEquals(path, found.name());
    }

    @Test void openMpiHandlesAreTheAddressesOfItsGlobals() {
        var lib = openMpi();
        MpiHandles h = MpiHandles.of(lib);
        assertEquals(ValueLayout.ADDRESS, h.layout());
        assertEquals(lib.symbol("ompi_mpi_comm_world").address(), ((MemorySegment) h.commWorld()).address());
        assertEquals(lib.symbol("ompi_mpi_float").address(), ((MemorySegment) h.f32()).address());
        assertEquals(lib.symbol("ompi_mpi_op_sum").address(), ((MemorySegment) h.sum()).address());
        assertEquals(1L, h.inPlace().address(), "Open MPI's mpi.h: #define MPI_IN_PLACE ((void *) 1)");
    }

    @Test void mpichHandlesAreItsIntegerConstants() {
        MpiHandles h = MpiHandles.mpich();
        assertEquals(ValueLayout.JAVA_INT, h.layout());
        assertEquals(0x44000000, h.commWorld());
        assertEquals(0x4c00040a, h.f32());
        assertEquals(0x4c00080b, h.f64());
        assertEquals(0x58000003, h.sum());
        assertEquals(-1L, h.inPlace().address(), "MPICH's mpi.h: #define MPI_IN_PLACE (void *) -1");
    }

    @Test void theLauncherDecidesWhichImplementationIsTriedFirst() {
        var hydra = Map.of("PMI_RANK", "1", "PMI_SIZE", "2");
        var openMpi = Map.of("OMPI_COMM_WORLD_RANK", "1", "OMPI_COMM_WORLD_SIZE", "2", "PMIX_RANK", "1");
        assertEquals(MpiLibrary.Launcher.HYDRA, MpiLibrary.Launcher.of(hydra));
        assertEquals(MpiLibrary.Launcher.OPEN_MPI, MpiLibrary.Launcher.of(openMpi));
        // Open MPI's variables win, as in the runtime's LaunchEnvironment.
        assertEquals(MpiLibrary.Launcher.OPEN_MPI, MpiLibrary.Launcher.of(Map.of("OMPI_COMM_WORLD_SIZE", "2", "PMI_SIZE", "2")));
        assertEquals(MpiLibrary.Launcher.NONE, MpiLibrary.Launcher.of(Map.of("PMIX_RANK", "0")));
        assertEquals(List.of("libmpich.so.12", "libmpi.so.12", "libmpi.so.40", "libmpi.so"), MpiLibrary.Launcher.HYDRA.names());
        assertEquals(List.of("libmpi.so.40", "libmpich.so.12", "libmpi.so.12", "libmpi.so"), MpiLibrary.Launcher.OPEN_MPI.names());
        assertEquals(MpiLibrary.DEFAULT_NAMES, MpiLibrary.Launcher.NONE.names());
    }

    @Test void underOpenMpisLauncherOpenMpiIsFoundEvenWithMpichInstalled() {
        openMpi();
        var found = assertInstanceOf(MpiLibrary.Found.class,
                MpiLibrary.search(null, Map.of("OMPI_COMM_WORLD_RANK", "0", "OMPI_COMM_WORLD_SIZE", "2"))).library();
        assertEquals(MpiLibrary.Implementation.OPEN_MPI, found.implementation());
        assertEquals("libmpi.so.40", found.name());
        assertTrue(found.matchesLauncher());
        assertTrue(found.describe().contains("; Open MPI's libraries first for Open MPI's mpirun (OMPI_COMM_WORLD_SIZE set))"), found.describe());
    }

    /** Loads MPICH into this JVM: its UCX would take the JVM's fault handlers, so this also checks they are put back. */
    @Test void underHydraMpichIsFoundAndTheJvmKeepsItsSignalHandlers() {
        assumeTrue(new File("/usr/lib/x86_64-linux-gnu/libmpich.so.12").exists(), MPICH_HOW);
        Map<String, Long> before = handlers();
        var search = MpiLibrary.search(null, Map.of("PMI_RANK", "0", "PMI_SIZE", "2"));
        assertEquals(before, handlers(), "loading MPICH left the JVM's signal handlers replaced");
        assertTrue(JvmSignals.cEnv(JvmSignals.UCX_HANDLE_ERRORS) != null, "UCX_HANDLE_ERRORS is set before a library loads");
        var found = assertInstanceOf(MpiLibrary.Found.class, search, () -> ((MpiLibrary.NotFound) search).message()).library();
        assertEquals(MpiLibrary.Implementation.MPICH, found.implementation());
        assertEquals("libmpich.so.12", found.name());
        assertTrue(found.matchesLauncher());
        assertTrue(found.describe().matches("MPI: MPICH \\d+\\.\\d+\\.\\d+ found \\(libmpich\\.so\\.12; MPICH's libraries first for MPICH's Hydra .*\\)"),
                found.describe());
        // Null checks still go to the JVM: a fault UCX's handler caught would print "Caught signal 11" and might kill it.
        int[] none = null;
        for (int i = 0; i < 1000; i++) assertThrows(NullPointerException.class, () -> System.out.print(none[0]));
    }

    @Test void aLibraryOfTheOtherImplementationThanTheLauncherIsUsedWithAWarning() {
        openMpi();
        var found = assertInstanceOf(MpiLibrary.Found.class, MpiLibrary.search("libmpi.so.40", Map.of("PMI_RANK", "0", "PMI_SIZE", "2"))).library();
        assertFalse(found.matchesLauncher());
        assertEquals("MPI: Open MPI " + MpiLibrary.shortVersion(found.libraryVersion()) + " found (libmpi.so.40, from KILN_MPI_LIBRARY); "
                + "WARNING: started by MPICH's Hydra (PMI_RANK/PMI_SIZE set, no OMPI_COMM_WORLD_*), which Open MPI cannot join: "
                + "each rank would be a world of one (install MPICH's library or set KILN_MPI_LIBRARY)", found.describe());
    }

    /** The constants of MpiHandles and MpiBinding against the mpi.h of Debian's libmpich-dev, where it is installed. */
    @Test void mpichHandlesMatchItsHeader() throws IOException {
        Path header = Path.of("/usr/include/x86_64-linux-gnu/mpich/mpi.h");
        assumeTrue(Files.exists(header), "no " + header + ": " + MPICH_HOW);
        String h = Files.readString(header);
        MpiHandles handles = MpiHandles.mpich();
        assertEquals(define(h, "MPI_COMM_WORLD"), (long) (int) handles.commWorld());
        assertEquals(define(h, "MPI_BYTE"), (long) (int) handles.bytes());
        assertEquals(define(h, "MPI_FLOAT"), (long) (int) handles.f32());
        assertEquals(define(h, "MPI_DOUBLE"), (long) (int) handles.f64());
        assertEquals(define(h, "MPI_SUM"), (long) (int) handles.sum());
        assertEquals(define(h, "MPI_ERRORS_RETURN"), (long) (int) handles.errorsReturn());
        assertEquals(define(h, "MPI_IN_PLACE"), handles.inPlace().address());
        assertEquals(define(h, "MPI_THREAD_SERIALIZED"), MpiBinding.THREAD_SERIALIZED);
        assertEquals(define(h, "MPI_THREAD_MULTIPLE"), MpiBinding.THREAD_MULTIPLE);
        for (String type : List.of("MPI_Comm", "MPI_Datatype", "MPI_Op", "MPI_Errhandler")) {
            assertTrue(h.contains("typedef int " + type + ";"), type + " is not an int in " + header);
        }
        // The error strings fit the buffer MpiBinding gives MPI_Error_string.
        assertTrue(define(h, "MPI_MAX_ERROR_STRING") <= 1024);
    }

    @Test void openMpiHandlesMatchItsHeader() throws IOException {
        var lib = openMpi();
        Path header = Path.of("/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h");
        assumeTrue(Files.exists(header), "no " + header + ": " + HOW);
        String h = Files.readString(header);
        MpiHandles handles = MpiHandles.of(lib);
        assertEquals(address(lib, h, "MPI_COMM_WORLD"), ((MemorySegment) handles.commWorld()).address());
        assertEquals(address(lib, h, "MPI_BYTE"), ((MemorySegment) handles.bytes()).address());
        assertEquals(address(lib, h, "MPI_FLOAT"), ((MemorySegment) handles.f32()).address());
        assertEquals(address(lib, h, "MPI_DOUBLE"), ((MemorySegment) handles.f64()).address());
        assertEquals(address(lib, h, "MPI_SUM"), ((MemorySegment) handles.sum()).address());
        assertEquals(address(lib, h, "MPI_ERRORS_RETURN"), ((MemorySegment) handles.errorsReturn()).address());
        assertEquals(define(h, "MPI_IN_PLACE"), handles.inPlace().address());
    }

    /** The integer a {@code #define} ends in, cast or not: "((MPI_Comm)0x44000000)", "(MPI_Op)(0x58000003)", "(void *) -1", "3". */
    private static long define(String header, String name) {
        Matcher m = Pattern.compile("(?m)^#define\\s+" + name + "\\s+(.*?)\\s*(?:/\\*.*)?$").matcher(header);
        if (m.find()) {
            Matcher n = Pattern.compile("(-\\s*)?(0x[0-9a-fA-F]+|\\d+)\\)*$").matcher(m.group(1));
            assertTrue(n.find(), name + " is not an integer: " + m.group(1));
            long v = Long.decode(n.group(2));
            return n.group(1) != null ? -v : v;
        }
        throw new AssertionError("no #define " + name);
    }

    /** Open MPI's "#define MPI_FLOAT OMPI_PREDEFINED_GLOBAL(MPI_Datatype, ompi_mpi_float)": the address of that global. */
    private static long address(MpiLibrary lib, String header, String name) {
        Matcher m = Pattern.compile("(?m)^#define\\s+" + name + "\\s+OMPI_PREDEFINED_GLOBAL\\(\\s*\\w+\\s*,\\s*(\\w+)\\s*\\)").matcher(header);
        assertTrue(m.find(), "no #define " + name + " OMPI_PREDEFINED_GLOBAL(...)");
        return lib.symbol(m.group(1)).address();
    }

    private static Map<String, Long> handlers() {
        Map<String, Long> m = new TreeMap<>();
        for (String s : List.of("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGHUP")) m.put(s, JvmSignals.handlerOf(s));
        return m;
    }

    private static MpiLibrary openMpi() {
        assumeTrue(MpiLibrary.process() instanceof MpiLibrary.Found f && f.library().implementation() == MpiLibrary.Implementation.OPEN_MPI,
                () -> HOW + " (" + MpiLibrary.describeProcess() + ")");
        return ((MpiLibrary.Found) MpiLibrary.process()).library();
    }
}
