#define _DEFAULT_SOURCE /* flock */
#include "records.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

#define HEADER_LINE VIP_RECORDS_HEADER "\r\n"

struct vip_records {
    int fd;
    char *path;
    size_t unsynced;
};

static int write_all_once(int fd, const char *data, size_t len)
{
    ssize_t n;
    do
        n = write(fd, data, len);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : n < 0 ? -1 : (errno = ENOSPC, -1);
}

/* Writes data as one write() at the end of the file, holding the file's exclusive flock so that another process
 * appending through this module cannot come between the size check and the write. A short write (a full disk)
 * would leave half a line: the file is cut back to where it ended, which removes only our own bytes. */
static int append_locked(vip_records *r, const char *data, size_t len, vip_error *err)
{
    if (flock(r->fd, LOCK_EX) != 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot lock: %s", r->path, strerror(errno));
    struct stat st;
    int rc = VIP_OK;
    if (fstat(r->fd, &st) != 0) {
        rc = vip_error_set(err, VIP_ERR_IO, "%s: %s", r->path, strerror(errno));
    } else if (write_all_once(r->fd, data, len) != 0) {
        int e = errno;
        if (ftruncate(r->fd, st.st_size) != 0)
            rc = vip_error_set(err, VIP_ERR_IO, "%s: writing a line failed (%s), and the partial line could not be "
                               "removed: %s", r->path, strerror(e), strerror(errno));
        else
            rc = vip_error_set(err, VIP_ERR_IO, "%s: writing a line failed: %s", r->path, strerror(e));
    }
    flock(r->fd, LOCK_UN);
    return rc;
}

static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* The file as found: empty (the header is written), or starting with the header and ending with a line end. */
static int check_or_start(vip_records *r, int created, vip_error *err)
{
    if (flock(r->fd, LOCK_EX) != 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot lock: %s", r->path, strerror(errno));
    struct stat st;
    int rc = VIP_OK;
    if (fstat(r->fd, &st) != 0) {
        rc = vip_error_set(err, VIP_ERR_IO, "%s: %s", r->path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: not a regular file; refusing to append records to it", r->path);
    } else if (st.st_size == 0) {
        if (write_all_once(r->fd, HEADER_LINE, strlen(HEADER_LINE)) != 0) {
            rc = vip_error_set(err, VIP_ERR_IO, "%s: writing the header failed: %s", r->path, strerror(errno));
            if (ftruncate(r->fd, 0) != 0)
                rc = vip_error_set(err, VIP_ERR_IO, "%s: writing the header failed, and the partial header could "
                                   "not be removed: %s", r->path, strerror(errno));
        } else if (fdatasync(r->fd) != 0) {
            rc = vip_error_set(err, VIP_ERR_IO, "%s: flushing failed: %s", r->path, strerror(errno));
        } else if (created) {
            sync_dir(r->path);
        }
    } else {
        char head[sizeof HEADER_LINE];
        char last = 0;
        ssize_t n = pread(r->fd, head, sizeof head - 1, 0);
        if (n < 0 || pread(r->fd, &last, 1, st.st_size - 1) != 1)
            rc = vip_error_set(err, VIP_ERR_IO, "%s: reading failed: %s", r->path, strerror(errno));
        else if ((size_t)n != sizeof head - 1 || memcmp(head, HEADER_LINE, sizeof head - 1) != 0)
            rc = vip_error_set(err, VIP_ERR_INPUT,
                               "%s: not a vipgen records file (its first line is not \"%s\"); refusing to append to "
                               "it (move it away or give another output directory)",
                               r->path, VIP_RECORDS_HEADER);
        else if (last != '\n')
            rc = vip_error_set(err, VIP_ERR_INPUT,
                               "%s: does not end with a complete line (edited elsewhere?); refusing to append to it",
                               r->path);
    }
    flock(r->fd, LOCK_UN);
    return rc;
}

vip_records *vip_records_open(const char *path, vip_error *err)
{
    vip_records *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    int created = 1;
    r->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, vip_outfile_mode());
    if (r->fd < 0 && errno == EEXIST) {
        created = 0;
        r->fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    }
    if (r->fd < 0) {
        vip_error_set(err, errno == ELOOP ? VIP_ERR_INPUT : VIP_ERR_IO, "%s: cannot open for appending: %s", path,
                      errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        free(r->path);
        free(r);
        return NULL;
    }
    if (check_or_start(r, created, err) != VIP_OK) {
        close(r->fd);
        free(r->path);
        free(r);
        return NULL;
    }
    return r;
}

/* Appends one field quoted as RFC 4180 says (libcsv doubles the quotes and wraps the field in quotes). */
static int add_field(char **buf, size_t *len, size_t *cap, const char *value, int last)
{
    const char *v = value ? value : "";
    size_t vlen = strlen(v), need = *len + 2 * vlen + 2 + 2;
    if (need > *cap) {
        size_t grown = need * 2;
        char *bigger = realloc(*buf, grown);
        if (!bigger)
            return -1;
        *buf = bigger;
        *cap = grown;
    }
    *len += csv_write(*buf + *len, *cap - *len, v, vlen);
    if (last) {
        (*buf)[(*len)++] = '\r';
        (*buf)[(*len)++] = '\n';
    } else {
        (*buf)[(*len)++] = ',';
    }
    return 0;
}

int vip_records_append(vip_records *r, const vip_records_line *line, vip_error *err)
{
    char now[32];
    if (!line->timestamp) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    const char *fields[] = {line->crime_ref,  line->victim_id,        line->language,
                            line->channel,    line->status,           line->timestamp ? line->timestamp : now,
                            line->file,       line->sha256,           line->message_id,
                            line->template_version, line->catalogue_version, line->reason};
    size_t n = sizeof fields / sizeof fields[0], len = 0, cap = 0;
    char *buf = NULL;
    for (size_t i = 0; i < n; i++)
        if (add_field(&buf, &len, &cap, fields[i], i + 1 == n) != 0) {
            free(buf);
            return vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", r->path);
        }
    int rc = append_locked(r, buf, len, err);
    free(buf);
    if (rc != VIP_OK)
        return rc;
    if (++r->unsynced >= VIP_RECORDS_SYNC_EVERY)
        return vip_records_sync(r, err);
    return VIP_OK;
}

int vip_records_sync(vip_records *r, vip_error *err)
{
    if (r->unsynced == 0)
        return VIP_OK;
    if (fdatasync(r->fd) != 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: flushing to disk failed: %s", r->path, strerror(errno));
    r->unsynced = 0;
    return VIP_OK;
}

int vip_records_close(vip_records *r, vip_error *err)
{
    if (!r)
        return VIP_OK;
    int rc = vip_records_sync(r, err);
    if (close(r->fd) != 0 && rc == VIP_OK)
        rc = vip_error_set(err, VIP_ERR_IO, "%s: closing failed: %s", r->path, strerror(errno));
    free(r->path);
    free(r);
    return rc;
}
