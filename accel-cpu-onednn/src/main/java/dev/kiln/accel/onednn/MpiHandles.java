package dev.kiln.accel.onednn;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The predefined MPI handles Kiln uses, for one implementation. The MPI standard fixes the names,
 * not the ABI: Open MPI's {@code MPI_Comm}, {@code MPI_Datatype}, {@code MPI_Op} and
 * {@code MPI_Errhandler} are pointers to global structs (the handle is the symbol's address), while
 * MPICH's are {@code int} constants from its mpi.h. Even {@code MPI_IN_PLACE} differs:
 * {@code (void *) 1} in Open MPI 4.1, {@code (void *) -1} in MPICH 4.0.
 *
 * <p>Each handle is a {@link MemorySegment} (Open MPI) or an {@link Integer} (MPICH), passed with
 * {@link #layout()} in every downcall.
 *
 * @param layout how a handle is passed: {@code ADDRESS} or {@code JAVA_INT}
 * @param inPlace the {@code MPI_IN_PLACE} sentinel address
 */
record MpiHandles(MemoryLayout layout, Object commWorld, Object bytes, Object f32, Object f64, Object sum,
                  Object errorsReturn, MemorySegment inPlace) {

    // From Debian's libmpich-dev 4.0.2 mpi.h (MpiLibraryTest compares them with the header where it is
    // installed); MPICH has kept these values since 3.x (its ABI initiative).
    static final int MPICH_COMM_WORLD = 0x44000000;
    static final int MPICH_BYTE = 0x4c00010d;
    static final int MPICH_FLOAT = 0x4c00040a;
    static final int MPICH_DOUBLE = 0x4c00080b;
    static final int MPICH_SUM = 0x58000003;
    static final int MPICH_ERRORS_RETURN = 0x54000001;

    /** The handle of a communicator Kiln made (MPI_Comm_dup writes one into memory of the handle's layout). */
    Object read(MemorySegment handleCell) {
        return layout == ValueLayout.ADDRESS ? handleCell.get(ValueLayout.ADDRESS, 0) : (Object) handleCell.get(ValueLayout.JAVA_INT, 0);
    }

    static MpiHandles of(MpiLibrary library) {
        return switch (library.implementation()) {
            case OPEN_MPI -> new MpiHandles(ValueLayout.ADDRESS,
                    library.symbol("ompi_mpi_comm_world"), library.symbol("ompi_mpi_byte"), library.symbol("ompi_mpi_float"),
                    library.symbol("ompi_mpi_double"), library.symbol("ompi_mpi_op_sum"), library.symbol("ompi_mpi_errors_return"),
                    MemorySegment.ofAddress(1));
            case MPICH -> mpich();
        };
    }

    /** MPICH's table needs no library: its handles are compile-time constants. */
    static MpiHandles mpich() {
        return new MpiHandles(ValueLayout.JAVA_INT, MPICH_COMM_WORLD, MPICH_BYTE, MPICH_FLOAT, MPICH_DOUBLE, MPICH_SUM,
                MPICH_ERRORS_RETURN, MemorySegment.ofAddress(-1L));
    }
}
