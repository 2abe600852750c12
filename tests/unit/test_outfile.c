/* vip_outfile against the real file system: a file is replaced whole with the configured mode (never the mode of
 * the file it replaces or of a symlink's target; the umask still applies), a symlink at the target is replaced and
 * not written through, failures leave no temporary, and stale temporaries are removed only when they are regular
 * files of ours, named as ours and older than the given time. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "outfile.h"

static char dir[64];

static int temps_in(const char *d)
{
    int n = 0;
    DIR *dd = opendir(d);
    for (struct dirent *e; dd && (e = readdir(dd));)
        n += strstr(e->d_name, ".vipgen-tmp.") != NULL;
    if (dd)
        closedir(dd);
    return n;
}

static char *path_in(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void put(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(path, mode);
}

static int holds(const char *path, const char *text)
{
    char buf[256] = {0};
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 01000000;
}

static void test_write_whole(void)
{
    vip_error err = {0};
    umask(022);
    const char *p = path_in("new.pdf");
    int rc = vip_outfile_write_whole(p, "hello", 5, &err);
    CHECK("write.ok", rc == VIP_OK, "%s", err.message);
    CHECK("write.content", holds(p, "hello"), "content differs");
    CHECK("write.default_mode_0600", mode_of(p) == 0600, "mode %o", mode_of(p));
    CHECK("write.no_temporary_left", temps_in(dir) == 0, "%d left", temps_in(dir));

    /* An existing world-writable file does not pass its mode on. */
    const char *old = path_in("old.pdf");
    put(old, "old", 0666);
    rc = vip_outfile_write_whole(old, "replaced", 8, &err);
    CHECK("replace.content", rc == VIP_OK && holds(old, "replaced"), "rc %d: %s", rc, err.message);
    CHECK("replace.mode_not_inherited", mode_of(old) == 0600, "mode %o", mode_of(old));

    /* A symlink at the target: replaced by the file; the link's target keeps its content and mode. */
    const char *precious = path_in("precious");
    const char *link = path_in("link.pdf");
    put(precious, "PRECIOUS DATA", 04777);
    if (symlink(precious, link) != 0)
        perror("symlink");
    rc = vip_outfile_write_whole(link, "letter", 6, &err);
    struct stat st;
    CHECK("symlink.replaced_by_file", rc == VIP_OK && lstat(link, &st) == 0 && S_ISREG(st.st_mode) && holds(link, "letter"),
          "rc %d: %s", rc, err.message);
    CHECK("symlink.mode_not_from_target", mode_of(link) == 0600, "mode %o", mode_of(link));
    CHECK("symlink.target_untouched", holds(precious, "PRECIOUS DATA") && mode_of(precious) == 04777, "mode %o",
          mode_of(precious));

    /* The configured mode, with the umask taking permissions away as for open(2). */
    vip_outfile_set_mode(0640);
    CHECK("mode.set", vip_outfile_mode() == 0640, "%o", (unsigned)vip_outfile_mode());
    const char *g = path_in("group.pdf");
    rc = vip_outfile_write_whole(g, "g", 1, &err);
    CHECK("mode.configured", rc == VIP_OK && mode_of(g) == 0640, "mode %o", mode_of(g));
    umask(077);
    rc = vip_outfile_write_whole(g, "g", 1, &err);
    CHECK("mode.umask_applies", rc == VIP_OK && mode_of(g) == 0600, "mode %o", mode_of(g));
    umask(022);
    vip_outfile_set_mode(04755);
    CHECK("mode.only_permission_bits", vip_outfile_mode() == 0755, "%o", (unsigned)vip_outfile_mode());
    vip_outfile_set_mode(0600);
}

static void test_failures(void)
{
    vip_error err = {0};
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no-such-dir/x.pdf", dir);
    int rc = vip_outfile_write_whole(missing, "x", 1, &err);
    CHECK("fail.missing_dir", rc == VIP_ERR_IO && strstr(err.message, "no-such-dir/x.pdf") &&
                                  strstr(err.message, "cannot create a temporary file"),
          "rc %d: %s", rc, err.message);
    /* The target is a directory: the rename fails and the temporary must go. */
    const char *sub = path_in("subdir");
    mkdir(sub, 0700);
    rc = vip_outfile_write_whole(sub, "x", 1, &err);
    CHECK("fail.rename_cleans_up", rc == VIP_ERR_IO && strstr(err.message, "renaming into place") && temps_in(dir) == 0,
          "rc %d: %s; %d temporaries", rc, err.message, temps_in(dir));

    /* Streamed writes: nothing at the target until committed; a discarded file leaves nothing. */
    const char *p = path_in("stream.csv");
    vip_outfile *f = vip_outfile_create(p, &err);
    CHECK("stream.created", f != NULL, "%s", err.message);
    if (!f)
        return;
    CHECK("stream.temporary_while_writing", temps_in(dir) == 1 && access(p, F_OK) != 0, "%d temporaries",
          temps_in(dir));
    vip_outfile_write(f, "a,", 2, &err);
    vip_outfile_discard(f);
    CHECK("stream.discard_leaves_nothing", temps_in(dir) == 0 && access(p, F_OK) != 0, "%d temporaries",
          temps_in(dir));
    f = vip_outfile_create(p, &err);
    rc = f ? vip_outfile_write(f, "a,", 2, &err) : err.code;
    rc = rc ? rc : vip_outfile_write(f, "b\n", 2, &err);
    rc = rc ? rc : vip_outfile_commit(f, &err);
    CHECK("stream.commit", rc == VIP_OK && holds(p, "a,b\n") && temps_in(dir) == 0, "rc %d: %s", rc, err.message);
}

static void test_temp_names(void)
{
    CHECK("name.ours", vip_outfile_is_temp_name(".NC-2024-1_en.pdf.vipgen-tmp.aB3xYz"), "not recognised");
    CHECK("name.report", vip_outfile_is_temp_name(".report.csv.vipgen-tmp.000000"), "not recognised");
    CHECK("name.not_a_letter", !vip_outfile_is_temp_name("NC-2024-1_en.pdf"), "recognised");
    CHECK("name.not_hidden", !vip_outfile_is_temp_name("x.vipgen-tmp.aB3xYz"), "recognised");
    CHECK("name.suffix_length", !vip_outfile_is_temp_name(".x.vipgen-tmp.aB3xY") &&
                                    !vip_outfile_is_temp_name(".x.vipgen-tmp.aB3xYzz"), "recognised");
    CHECK("name.suffix_chars", !vip_outfile_is_temp_name(".x.vipgen-tmp.aB-xYz"), "recognised");
    CHECK("name.other_programs", !vip_outfile_is_temp_name(".NC-2024-1_en.pdf.AuDivx"), "recognised");
}

static void make_old(const char *path)
{
    struct timespec t[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
    utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

static void test_remove_stale(void)
{
    vip_error err = {0};
    const char *stale = path_in(".A_en.pdf.vipgen-tmp.AAAAAA");
    const char *fresh = path_in(".B_en.pdf.vipgen-tmp.BBBBBB");
    const char *other = path_in(".C_en.pdf.CCCCCC");
    const char *link = path_in(".D_en.pdf.vipgen-tmp.DDDDDD");
    const char *target = path_in("target");
    const char *subdir = path_in(".E_en.pdf.vipgen-tmp.EEEEEE");
    const char *foreign = path_in(".F_en.pdf.vipgen-tmp.FFFFFF");
    put(stale, "half a letter", 0644);
    put(other, "not ours", 0644);
    put(target, "keep", 0644);
    put(foreign, "someone else's", 0644);
    if (symlink(target, link) != 0)
        perror("symlink");
    mkdir(subdir, 0700);
    make_old(stale);
    make_old(other);
    make_old(link);
    make_old(target);
    make_old(subdir);
    make_old(foreign);
    int foreign_owner = geteuid() == 0 && chown(foreign, 65534, 65534) == 0;
    struct timespec before;
    clock_gettime(CLOCK_REALTIME, &before);
    before.tv_sec -= 60;
    put(fresh, "being written", 0600);
    size_t removed = 99;
    int rc = vip_outfile_remove_stale(dir, &before, &removed, &err);
    CHECK("stale.ok", rc == VIP_OK, "%s", err.message);
    CHECK("stale.removed", access(stale, F_OK) != 0, "still there");
    CHECK("stale.count", removed == 1 + !foreign_owner, "%zu removed", removed);
    CHECK("stale.fresh_kept", access(fresh, F_OK) == 0, "removed");
    CHECK("stale.other_names_kept", access(other, F_OK) == 0, "removed");
    CHECK("stale.symlink_kept", mode_of(link) != 01000000 && holds(target, "keep"), "removed or followed");
    CHECK("stale.directory_kept", access(subdir, F_OK) == 0, "removed");
    if (foreign_owner)
        CHECK("stale.other_owner_kept", access(foreign, F_OK) == 0, "removed");
    unlink(fresh);
    unlink(other);
    unlink(link);
    unlink(target);
    unlink(foreign);
    rmdir(subdir);
    rc = vip_outfile_remove_stale(path_in("no-such-dir"), &before, NULL, &err);
    CHECK("stale.missing_dir", rc == VIP_ERR_IO && strstr(err.message, "no-such-dir"), "rc %d: %s", rc, err.message);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/vip-outfile-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_write_whole();
    test_failures();
    test_temp_names();
    test_remove_stale();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
