/* Data parallelism over MPI (see engine/runtime/dist.h). */
#include "engine/runtime/dist.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

#include "engine/base/error.h"

static int rank_, ranks_ = 1;

/* An MPI failure as our error, with MPI's own text. */
static int mpi_fail(int code, const char *call)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
    text[len] = '\0';
    return gc_fail(GC_ERUNTIME, "rank %d of %d: %s failed: %s", rank_, ranks_, call, len ? text : "unknown MPI error");
}

int dist_init(int *argc, char ***argv)
{
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return gc_fail(GC_ERUNTIME, "MPI_Init_thread failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_rank(MPI_COMM_WORLD, &rank_)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_rank");
    if ((rc = MPI_Comm_size(MPI_COMM_WORLD, &ranks_)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_size");
    if (provided < MPI_THREAD_FUNNELED)
        return gc_fail(GC_ERUNTIME, "this MPI library does not support threads (MPI_THREAD_FUNNELED)");
    return GC_OK;
}

void dist_finalize(void) { MPI_Finalize(); }

void dist_abort(int status)
{
    if (ranks_ > 1) MPI_Abort(MPI_COMM_WORLD, status);
}

int dist_rank(void) { return rank_; }
int dist_ranks(void) { return ranks_; }

int dist_sum_floats(float *buf, size_t n)
{
    if (ranks_ == 1) return GC_OK;
    for (size_t done = 0; done < n;) { /* MPI counts are ints */
        int count = n - done > (size_t)INT_MAX ? INT_MAX : (int)(n - done);
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + done, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, "the gradient allreduce");
        done += (size_t)count;
    }
    return GC_OK;
}

int dist_sum_doubles(double *buf, int n)
{
    if (ranks_ == 1) return GC_OK;
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? GC_OK : mpi_fail(rc, "the metrics allreduce");
}

int dist_check_same(uint64_t value, const char *what)
{
    if (ranks_ == 1) return GC_OK;
    unsigned long long v = value, lo = 0, hi = 0;
    int rc = MPI_Allreduce(&v, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS) rc = MPI_Allreduce(&v, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "comparing ranks");
    if (lo != hi) return gc_fail(GC_ERUNTIME, "ranks disagree on %s (%016llx and %016llx)", what, lo, hi);
    return GC_OK;
}
