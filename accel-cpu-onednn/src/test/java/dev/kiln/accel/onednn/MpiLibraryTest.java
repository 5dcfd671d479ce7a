package dev.kiln.accel.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Finding and identifying libmpi, which never initialises MPI, so it runs in the test JVM without mpirun. */
class MpiLibraryTest {
    private static final String HOW = "needs Open MPI: apt-get install openmpi-bin libopenmpi-dev";

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

    private static MpiLibrary openMpi() {
        assumeTrue(MpiLibrary.process() instanceof MpiLibrary.Found f && f.library().implementation() == MpiLibrary.Implementation.OPEN_MPI,
                () -> HOW + " (" + MpiLibrary.describeProcess() + ")");
        return ((MpiLibrary.Found) MpiLibrary.process()).library();
    }
}
