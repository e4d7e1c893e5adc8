#include "tempdir.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>

void test_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0700);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            test_remove_tree(child);
        }
        closedir(d);
    }
    rmdir(path);
}

void test_temp_dir(char *buf, size_t size, const char *what)
{
    snprintf(buf, size, "/tmp/gcbench_test_%s_XXXXXX", what);
    cr_assert(mkdtemp(buf) != NULL, "cannot create a temporary folder %s", buf);
}

void test_temp_file(char *buf, size_t size, const char *what)
{
    snprintf(buf, size, "/tmp/gcbench_test_%s_XXXXXX", what);
    int fd = mkstemp(buf);
    cr_assert(fd >= 0, "cannot create a temporary file %s", buf);
    close(fd);
}
