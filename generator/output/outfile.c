#include "outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_MARK ".vipgen-tmp."
#define TEMP_SUFFIX_LEN 6
/* A target's name is cut to this in its temporary's name, which must stay within NAME_MAX (255). */
#define TEMP_BASE_MAX 200

static const char suffix_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static mode_t file_mode = 0600;

struct vip_outfile {
    int fd;
    char *path;
    char *tmp;
};

void vip_outfile_set_mode(mode_t mode)
{
    file_mode = mode & 0777;
}

mode_t vip_outfile_mode(void)
{
    return file_mode;
}

static void random_suffix(char *out)
{
    unsigned char bytes[TEMP_SUFFIX_LEN];
    if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != (ssize_t)sizeof bytes) {
        /* No entropy yet (early boot): O_EXCL still guarantees a fresh file, so any varying value will do. */
        static uint64_t counter;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec ^ ++counter * 0x9E3779B97F4A7C15ULL;
        for (int i = 0; i < TEMP_SUFFIX_LEN; i++, x >>= 8)
            bytes[i] = (unsigned char)x;
    }
    for (int i = 0; i < TEMP_SUFFIX_LEN; i++)
        out[i] = suffix_chars[bytes[i] % (sizeof suffix_chars - 1)];
    out[TEMP_SUFFIX_LEN] = '\0';
}

vip_outfile *vip_outfile_create(const char *path, vip_error *err)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    size_t baselen = strlen(base) > TEMP_BASE_MAX ? TEMP_BASE_MAX : strlen(base);
    vip_outfile *f = calloc(1, sizeof *f);
    size_t tlen = dirlen + 1 + baselen + sizeof TEMP_MARK + TEMP_SUFFIX_LEN;
    if (!f || !(f->path = strdup(path)) || !(f->tmp = malloc(tlen))) {
        if (f)
            free(f->path);
        free(f);
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    /* O_EXCL creates the file anew (never opening an existing one, nor following a symlink planted there), with
     * the configured mode rather than anything inherited. */
    for (int attempt = 0; attempt < 100; attempt++) {
        char suffix[TEMP_SUFFIX_LEN + 1];
        random_suffix(suffix);
        snprintf(f->tmp, tlen, "%.*s.%.*s" TEMP_MARK "%s", (int)dirlen, path, (int)baselen, base, suffix);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode);
        if (f->fd >= 0 || errno != EEXIST)
            break;
    }
    if (f->fd < 0) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(f->tmp);
        free(f->path);
        free(f);
        return NULL;
    }
    return f;
}

int vip_outfile_write(vip_outfile *f, const void *data, size_t len, vip_error *err)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vip_error_set(err, VIP_ERR_IO, "%s: writing %s failed: %s", f->path, f->tmp,
                                 n < 0 ? strerror(errno) : "nothing written");
        p += n;
        len -= (size_t)n;
    }
    return VIP_OK;
}

static void free_file(vip_outfile *f)
{
    free(f->tmp);
    free(f->path);
    free(f);
}

void vip_outfile_discard(vip_outfile *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->tmp);
    free_file(f);
}

int vip_outfile_commit(vip_outfile *f, vip_error *err)
{
    const char *step = NULL;
    if (fsync(f->fd) != 0)
        step = "flushing";
    int saved = errno;
    if (close(f->fd) != 0 && !step) {
        step = "closing";
        saved = errno;
    }
    f->fd = -1;
    if (!step && rename(f->tmp, f->path) != 0) {
        step = "renaming into place";
        saved = errno;
    }
    if (step) {
        int rc = vip_error_set(err, VIP_ERR_IO, "%s: %s %s failed: %s", f->path, step, f->tmp, strerror(saved));
        vip_outfile_discard(f);
        return rc;
    }
    /* Make the rename itself durable; a directory that cannot be synced is not an error worth failing on. */
    const char *slash = strrchr(f->path, '/');
    if (slash)
        f->path[slash == f->path ? 1 : slash - f->path] = '\0';
    int dfd = open(slash ? f->path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free_file(f);
    return VIP_OK;
}

int vip_outfile_write_whole(const char *path, const void *data, size_t len, vip_error *err)
{
    vip_outfile *f = vip_outfile_create(path, err);
    if (!f)
        return err ? err->code : VIP_ERR_IO;
    int rc = vip_outfile_write(f, data, len, err);
    if (rc) {
        vip_outfile_discard(f);
        return rc;
    }
    return vip_outfile_commit(f, err);
}

int vip_outfile_is_temp_name(const char *name)
{
    size_t len = strlen(name), mark = sizeof TEMP_MARK - 1;
    if (len < 2 + mark + TEMP_SUFFIX_LEN || name[0] != '.')
        return 0;
    const char *suffix = name + len - TEMP_SUFFIX_LEN;
    if (memcmp(suffix - mark, TEMP_MARK, mark) != 0)
        return 0;
    for (int i = 0; i < TEMP_SUFFIX_LEN; i++)
        if (!suffix[i] || !strchr(suffix_chars, suffix[i]))
            return 0;
    return 1;
}

int vip_outfile_remove_stale(const char *dir, const struct timespec *before, size_t *removed, vip_error *err)
{
    if (removed)
        *removed = 0;
    DIR *d = opendir(dir);
    if (!d)
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot read the directory: %s", dir, strerror(errno));
    int dfd = dirfd(d);
    uid_t me = geteuid();
    for (struct dirent *e; (e = readdir(d));) {
        if (!vip_outfile_is_temp_name(e->d_name))
            continue;
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || st.st_uid != me)
            continue;
        if (st.st_mtim.tv_sec > before->tv_sec ||
            (st.st_mtim.tv_sec == before->tv_sec && st.st_mtim.tv_nsec >= before->tv_nsec))
            continue; /* being written now, by another process */
        if (unlinkat(dfd, e->d_name, 0) == 0 && removed)
            (*removed)++;
    }
    closedir(d);
    return VIP_OK;
}
