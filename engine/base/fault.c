#include "engine/base/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool fault_fires(const char *name)
{
    static long seen;
    const char *spec = getenv("GCBENCH_FAULT");
    size_t len = strlen(name);
    if (!spec || strncmp(spec, name, len) != 0 || spec[len] != ':') return false;
    return ++seen == strtol(spec + len + 1, NULL, 10);
}
