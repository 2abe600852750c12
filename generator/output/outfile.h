/* vip_outfile: output files written whole or not at all, and never readable by more people than intended. A file
 * is written to a hidden temporary beside its target (.NAME.vipgen-tmp.XXXXXX, created anew, never through a
 * symlink), flushed to disk, renamed over the target and the directory synced; on any failure the temporary goes.
 * A temporary left by a killed process is recognisable by its name, and vip_outfile_remove_stale clears it. */
#ifndef VIP_OUTFILE_H
#define VIP_OUTFILE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"

/* The permissions of every file written from now on in this process (default 0600; only the 0777 bits count).
 * The umask can only take permissions away, as with open(2). A replaced file's mode, or a symlink target's, is
 * never carried over. */
void vip_outfile_set_mode(mode_t mode);
mode_t vip_outfile_mode(void);

/* A file being written. */
typedef struct vip_outfile vip_outfile;

/* Creates the temporary file for path; NULL with an error naming path when it cannot be created. */
vip_outfile *vip_outfile_create(const char *path, vip_error *err);
int vip_outfile_write(vip_outfile *file, const void *data, size_t len, vip_error *err);
/* Flushes, renames into place and syncs the directory; the temporary is removed on failure. Frees file. */
int vip_outfile_commit(vip_outfile *file, vip_error *err);
/* Removes the temporary and frees file (NULL is fine). */
void vip_outfile_discard(vip_outfile *file);

/* The above in one call: path holds exactly data afterwards, or is left as it was. */
int vip_outfile_write_whole(const char *path, const void *data, size_t len, vip_error *err);

/* Whether a directory entry's name is one of the temporaries above. */
int vip_outfile_is_temp_name(const char *name);

/* Removes from dir the temporaries (by name) that are regular files owned by this user and last modified before
 * `before`: what a killed process left. Symlinks and anything else are left alone. *removed (may be NULL) counts
 * them. Fails only when dir cannot be read. */
int vip_outfile_remove_stale(const char *dir, const struct timespec *before, size_t *removed, vip_error *err);

#endif
