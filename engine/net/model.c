#include "engine/net/model.h"

#include <stdio.h>
#include <string.h>

extern const model_desc model_seed_cnn;

/* The table: the first entry is the default. */
static const model_desc *const models[] = {&model_seed_cnn};
#define NMODELS (sizeof models / sizeof models[0])

const model_desc *model_at(size_t i) { return i < NMODELS ? models[i] : NULL; }

const model_desc *model_find(const char *name)
{
    for (size_t i = 0; i < NMODELS; i++)
        if (strcmp(models[i]->name, name) == 0) return models[i];
    return NULL;
}

const char *model_names(void)
{
    static char list[256];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < NMODELS && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", models[i]->name);
    return list;
}

int model_build(const model_desc *m, net *n, bool fused)
{
    n->loss = m->loss;
    return m->build(n, fused);
}

int model_min_size(const model_desc *m)
{
    int size = 1;
    while (m->final_side(size) == 0) size++;
    return size;
}
