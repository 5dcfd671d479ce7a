/*
 * The raw anchor of bench/ddp.sh: MPI_Allreduce (MPI_IN_PLACE, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD)
 * of COUNT floats, timed REPS times after WARMUP untimed calls. Every timed call starts after an
 * MPI_Barrier, so it measures the collective and not the ranks' arrival skew; a call's time is the
 * mean of the ranks' (as bench/ddp.sh takes the trainer's). A second pass writes 64 MiB of other
 * memory before each call, as a backward pass leaves the caches, and reports its median too. Rank 0 prints
 *   ALLREDUCE ranks N floats COUNT bytes B median_us M min_us M max_us M reps R warmup W cold_median_us M
 * Usage: mpirun -np N allreduce COUNT [REPS=50] [WARMUP=10]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 2) {
        if (rank == 0) fprintf(stderr, "usage: allreduce COUNT [REPS] [WARMUP]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    long count = atol(argv[1]);
    int reps = argc > 2 ? atoi(argv[2]) : 50, warmup = argc > 3 ? atoi(argv[3]) : 10;
    if (count <= 0 || count > 0x7fffffffL || reps <= 0 || warmup < 0) MPI_Abort(MPI_COMM_WORLD, 2);
    float *buf = NULL;
    if (posix_memalign((void **) &buf, 64, (size_t) count * sizeof(float)) != 0) MPI_Abort(MPI_COMM_WORLD, 1);
    /* Zeros: a sum's speed does not depend on the values, and zeros never overflow however many calls run. */
    memset(buf, 0, (size_t) count * sizeof(float));
    double *t = malloc(sizeof(double) * reps), *cold = malloc(sizeof(double) * reps);
    size_t flush_bytes = (size_t) 64 << 20;
    volatile char *flush = malloc(flush_bytes);
    if (!t || !cold || !flush) MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t k = 0; k < flush_bytes; k += 64) flush[k] = 0;
    for (int pass = 0; pass < 2; pass++)
    for (int i = -warmup; i < reps; i++) {
        if (pass == 1) for (size_t k = 0; k < flush_bytes; k += 64) flush[k]++;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buf, (int) count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        double d = MPI_Wtime() - t0, sum;
        MPI_Reduce(&d, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        if (i >= 0) (pass == 0 ? t : cold)[i] = sum / size;
    }
    if (rank == 0) {
        qsort(t, reps, sizeof(double), cmp);
        qsort(cold, reps, sizeof(double), cmp);
        double med = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
        double cmed = reps % 2 ? cold[reps / 2] : (cold[reps / 2 - 1] + cold[reps / 2]) / 2;
        printf("ALLREDUCE ranks %d floats %ld bytes %ld median_us %.1f min_us %.1f max_us %.1f reps %d warmup %d cold_median_us %.1f\n",
               size, count, count * (long) sizeof(float), med * 1e6, t[0] * 1e6, t[reps - 1] * 1e6, reps, warmup, cmed * 1e6);
    }
    free((void *) flush);
    free(cold);
    free(t);
    free(buf);
    MPI_Finalize();
    return 0;
}
