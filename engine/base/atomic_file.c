#include "engine/base/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "engine/base/error.h"

/* fsync of the folder holding path; EINVAL (a filesystem that cannot) is not an error. */
static int sync_folder(const char *path)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return err;
}

int atomic_file_write(const char *path, atomic_file_body body, const void *ctx)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return gc_fail(GC_EUSAGE, "the path '%s' is too long", path);

    FILE *f = fopen(tmp, "we");
    if (!f) return gc_fail(GC_ERUNTIME, "cannot create '%s': %s", tmp, strerror(errno));
    errno = 0;
    body(f, ctx);
    int err = 0;
    if (ferror(f)) err = errno ? errno : EIO;
    if (!err && fflush(f) != 0) err = errno;
    if (!err && fsync(fileno(f)) != 0) err = errno;
    if (fclose(f) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) {
        unlink(tmp); /* best effort: the error to report is the one above */
        return gc_fail(GC_ERUNTIME, "writing '%s' failed: %s", path, strerror(err));
    }
    if ((err = sync_folder(path)) != 0)
        return gc_fail(GC_ERUNTIME, "cannot sync the folder of '%s': %s", path, strerror(err));
    return GC_OK;
}
