/* Data parallelism across processes (MPI ranks): who this process is, how a global batch is
 * split between ranks, and the collective operations training needs.
 *
 * Built with -DGCBENCH_MPI=ON these run over MPI (engine/runtime/dist_mpi.c); otherwise there is one
 * rank and every operation is the identity (engine/runtime/dist_single.c), so the engine has a single
 * code path. Every rank runs the same sequence of collectives: a failure that could differ
 * between ranks must be decided after a collective, on data every rank shares. */
#ifndef GCBENCH_ENGINE_DIST_H
#define GCBENCH_ENGINE_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts MPI when built with it (MPI_Init_thread, funneled: only the main thread calls MPI);
 * installs MPI_ERRORS_RETURN so failures come back as errors with context. */
int dist_init(int *argc, char ***argv);

/* Ends MPI (MPI_Finalize) after a successful run. */
void dist_finalize(void);

/* Ends every rank's process after an error on this one, so none waits forever in a
 * collective (MPI_Abort); returns only when there is a single rank. */
void dist_abort(int status);

int dist_rank(void);  /* 0 .. dist_ranks() - 1 */
int dist_ranks(void); /* 1 without MPI */

/* The rank's share of a batch of b images: positions [*first, *first + return) of the batch.
 * Shares differ by at most one image; the first b % ranks ranks take the larger ones. */
static inline int dist_share(int b, int rank, int ranks, int *first)
{
    int base = b / ranks, extra = b % ranks;
    *first = rank * base + (rank < extra ? rank : extra);
    return base + (rank < extra ? 1 : 0);
}

/* In-place sums over all ranks (MPI_Allreduce, MPI_SUM). The float sum is reduced in the
 * same order on every rank, so every rank gets the same bits. */
int dist_sum_floats(float *buf, size_t n);
int dist_sum_doubles(double *buf, int n);

/* Checks that every rank holds the same value; the error names `what` and both values. */
int dist_check_same(uint64_t value, const char *what);


#endif
