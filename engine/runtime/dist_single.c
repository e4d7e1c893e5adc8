/* One process, no MPI: the identity for every collective (see engine/runtime/dist.h). */
#include "engine/runtime/dist.h"

int dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

void dist_finalize(void) {}
void dist_abort(int status) { (void)status; }
int dist_rank(void) { return 0; }
int dist_ranks(void) { return 1; }

int dist_sum_floats(float *buf, size_t n)
{
    (void)buf;
    (void)n;
    return 0;
}

int dist_sum_doubles(double *buf, int n)
{
    (void)buf;
    (void)n;
    return 0;
}

int dist_check_same(uint64_t value, const char *what)
{
    (void)value;
    (void)what;
    return 0;
}
