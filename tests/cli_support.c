#include "cli_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tempdir.h"

void cli_slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

void cli_slurp_remove(const char *path, char *buf, size_t size)
{
    cli_slurp(path, buf, size);
    unlink(path);
}

const cli_result *cli_run(const char *env, const char *bin, const char *args)
{
    static cli_result r;
    char out[64], err[64];
    test_temp_file(out, sizeof out, "stdout");
    test_temp_file(err, sizeof err, "stderr");
    char cmd[4096];
    int len = snprintf(cmd, sizeof cmd, "%s '%s' %s >'%s' 2>'%s'", env ? env : "", bin, args, out, err);
    cr_assert(len > 0 && (size_t)len < sizeof cmd, "command line too long: %s", args);
    int st = system(cmd);
    cr_assert(WIFEXITED(st), "did not exit normally: %s", cmd);
    r.status = WEXITSTATUS(st);
    cli_slurp_remove(out, r.out, sizeof r.out);
    cli_slurp_remove(err, r.err, sizeof r.err);
    return &r;
}

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
