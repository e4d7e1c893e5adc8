#include "io/input/dataset.h"

#include <stdlib.h>
#include <string.h>

#include "engine/base/alloc.h"

size_t dataset_class_count(const dataset *d, int c)
{
    size_t n = 0;
    if (!d->labels) return 0;
    for (size_t i = 0; i < d->count; i++) n += d->labels[i] == c;
    return n;
}

void dataset_free(dataset *d)
{
    gc_free(d->pixels);
    gc_free(d->labels);
    for (size_t i = 0; d->paths && i < d->count; i++) free(d->paths[i]);
    free(d->paths);
    memset(d, 0, sizeof *d);
}
