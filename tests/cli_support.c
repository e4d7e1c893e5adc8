#include "cli_support.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

void cli_strip_timings(char *s)
{
    static const char *keys[] = {"seconds\":", "images_per_second\":"};
    for (int k = 0; k < 2; k++)
        for (char *p = strstr(s, keys[k]); p; p = strstr(p + 1, keys[k])) {
            char *v = p + strlen(keys[k]), *end = v + strcspn(v, ",}");
            memmove(v, end, strlen(end) + 1);
        }
}

pid_t cli_start(const char *bin, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "exec '%s' %s >/dev/null 2>&1", bin, args);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}
