/* vip_records against the real file system, with Python's csv module as the outside parser: the header written once,
 * fields with commas, quotes, line breaks and any script read back exactly, the file only ever growing across runs
 * (the old bytes a prefix of the new), someone else's file or a damaged one refused and left as it was, two
 * processes appending at once producing only whole lines, and a full disk (a small tmpfs) costing the line being
 * written, never leaving half of one. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "records.h"

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The file parsed by Python's csv module (RFC 4180 quoting; newline='' so line breaks inside fields survive). */
typedef struct parsed {
    size_t rows;
    char ***fields; /* rows × up to 16 fields */
    size_t *count;
    int refused; /* Python's csv module refused the file */
} parsed;

static int unhex(const char *h, char *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1)
            return -1;
        out[n++] = (char)v;
    }
    out[n] = '\0';
    return 0;
}

static parsed parse_csv(const char *path)
{
    parsed p = {0};
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import csv,sys\n"
             "with open(sys.argv[1], newline=\"\", encoding=\"utf-8\") as f:\n"
             "  for row in csv.reader(f, strict=True):\n"
             "    print(\" \".join(x.encode().hex() or \"-\" for x in row))' '%s'",
             path);
    FILE *py = popen(cmd, "r");
    if (!py)
        return p;
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, py) > 0) {
        if (p.rows == cap) {
            cap = cap ? cap * 2 : 64;
            p.fields = realloc(p.fields, cap * sizeof *p.fields);
            p.count = realloc(p.count, cap * sizeof *p.count);
        }
        char **f = calloc(16, sizeof *f);
        size_t n = 0;
        for (char *save = NULL, *tok = strtok_r(line, " \n", &save); tok && n < 16; tok = strtok_r(NULL, " \n", &save)) {
            f[n] = malloc(strlen(tok) / 2 + 2);
            if (strcmp(tok, "-") == 0)
                f[n][0] = '\0';
            else
                unhex(tok, f[n]);
            n++;
        }
        p.fields[p.rows] = f;
        p.count[p.rows++] = n;
    }
    free(line);
    if (pclose(py) != 0) {
        p.refused = 1;
        printf("INFO Python's csv module refused %s\n", path);
    }
    return p;
}

static void parsed_free(parsed *p)
{
    for (size_t i = 0; i < p->rows; i++) {
        for (size_t k = 0; k < 16; k++)
            free(p->fields[i][k]);
        free(p->fields[i]);
    }
    free(p->fields);
    free(p->count);
    memset(p, 0, sizeof *p);
}

static const char *const header_fields[] = {"crime_ref", "victim_id",  "language", "channel",
                                            "status",    "timestamp",  "file",     "sha256",
                                            "message_id", "template_version", "catalogue_version", "reason"};

static void test_write_and_read_back(void)
{
    const char *path = in_root("records.csv");
    umask(022);
    vip_error err = {0};
    vip_records *r = vip_records_open(path, &err);
    CHECK("open.creates", r != NULL, "%s", err.message);
    if (!r)
        return;
    vip_records_line a = {.crime_ref = "NC/2024/012350", .victim_id = "V1", .language = "ur", .channel = "email",
                          .status = "sent", .timestamp = "2024-03-05T09:30:00Z", .file = "NC-2024-012350_ur.pdf",
                          .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                          .message_id = "<nc-2024-012350.v1@vipgen>", .template_version = "letter 3",
                          .catalogue_version = "ur 7", .reason = "250 2.0.0 Ok: queued as 4F1A"};
    vip_records_line b = {.crime_ref = "NC/2024/012351", .language = "ar", .channel = "none", .status = "withheld",
                          .reason = "domestic_abuse, safe_to_contact=\"unknown\"\nsecond line; عائشہ"};
    CHECK("append.a", vip_records_append(r, &a, &err) == VIP_OK, "%s", err.message);
    CHECK("append.b_empty_fields_default_time", vip_records_append(r, &b, &err) == VIP_OK, "%s", err.message);
    CHECK("close.ok", vip_records_close(r, &err) == VIP_OK, "%s", err.message);

    struct stat st;
    CHECK("mode_0600", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    size_t len = 0;
    char *bytes = slurp(path, &len);
    CHECK("header_first_line_crlf", bytes && strncmp(bytes, VIP_RECORDS_HEADER "\r\n", strlen(VIP_RECORDS_HEADER) + 2) == 0,
          "%.80s", bytes ? bytes : "");
    CHECK("ends_with_crlf", bytes && len > 2 && bytes[len - 2] == '\r' && bytes[len - 1] == '\n', "no CRLF at end");
    free(bytes);

    parsed p = parse_csv(path);
    CHECK("python.parses_three_rows", !p.refused && p.rows == 3, "%zu rows", p.rows);
    if (p.rows == 3) {
        int header_ok = p.count[0] == 12;
        for (size_t i = 0; header_ok && i < 12; i++)
            header_ok = strcmp(p.fields[0][i], header_fields[i]) == 0;
        CHECK("python.header_columns", header_ok, "%zu fields", p.count[0]);
        const char *wa[] = {a.crime_ref, a.victim_id, a.language, a.channel, a.status, a.timestamp, a.file,
                            a.sha256, a.message_id, a.template_version, a.catalogue_version, a.reason};
        int same = p.count[1] == 12;
        for (size_t i = 0; same && i < 12; i++)
            same = strcmp(p.fields[1][i], wa[i]) == 0;
        CHECK("python.row_a_exact", same, "%zu fields", p.count[1]);
        CHECK("python.row_b_quotes_commas_breaks_script",
              p.count[2] == 12 && strcmp(p.fields[2][11], b.reason) == 0 && strcmp(p.fields[2][1], "") == 0 &&
                  strcmp(p.fields[2][8], "") == 0,
              "%zu fields, reason %s", p.count[2], p.count[2] == 12 ? p.fields[2][11] : "");
        const char *ts = p.count[2] == 12 ? p.fields[2][5] : "";
        CHECK("python.default_timestamp_utc_iso8601",
              strlen(ts) == 20 && ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[19] == 'Z', "%s",
              ts);
    }
    parsed_free(&p);
}

/* A second and third run append; the bytes of the earlier runs are a prefix of the file, the header appears once. */
static void test_only_grows(void)
{
    const char *path = in_root("records.csv");
    vip_error err = {0};
    int prefix_ok = 1;
    size_t rows_expected = 3;
    for (int run = 0; run < 3; run++) {
        size_t old_len = 0;
        char *old = slurp(path, &old_len);
        vip_records *r = vip_records_open(path, &err);
        if (!r) {
            prefix_ok = 0;
            free(old);
            break;
        }
        for (int i = 0; i < 100 + run; i++) {
            char ref[32];
            snprintf(ref, sizeof ref, "NC/2024/%06d", run * 1000 + i);
            vip_records_line l = {.crime_ref = ref, .channel = "post", .status = "posted"};
            vip_records_append(r, &l, &err);
        }
        vip_records_close(r, &err);
        rows_expected += 100 + (size_t)run;
        size_t new_len = 0;
        char *now = slurp(path, &new_len);
        prefix_ok = prefix_ok && old && now && new_len > old_len && memcmp(old, now, old_len) == 0;
        free(old);
        free(now);
    }
    CHECK("grows.old_bytes_prefix_of_new", prefix_ok, "%s", err.message);
    parsed p = parse_csv(path);
    size_t headers = 0;
    for (size_t i = 0; i < p.rows; i++)
        headers += p.count[i] > 0 && strcmp(p.fields[i][0], "crime_ref") == 0;
    CHECK("grows.rows_all_there_header_once", !p.refused && p.rows == rows_expected && headers == 1, "%zu rows (want %zu), %zu headers",
          p.rows, rows_expected, headers);
    parsed_free(&p);
}

static void refused(const char *name, const char *path, const char *expect)
{
    size_t len = 0;
    char *before = slurp(path, &len);
    vip_error err = {0};
    vip_records *r = vip_records_open(path, &err);
    char label[128];
    snprintf(label, sizeof label, "refuse.%s", name);
    CHECK(label, !r && strstr(err.message, expect) && strstr(err.message, path), "%s", r ? "opened" : err.message);
    vip_records_close(r, &err);
    size_t after_len = 0;
    char *after = slurp(path, &after_len);
    snprintf(label, sizeof label, "refuse.%s.unchanged", name);
    CHECK(label, (!before && !after) || (before && after && len == after_len && memcmp(before, after, len) == 0),
          "file changed");
    free(before);
    free(after);
}

static void test_refusals(void)
{
    const char *other = in_root("other.csv");
    put(other, "crime_ref,language\r\nNC/1,en\r\n");
    refused("other_header", other, "not a vipgen records file");
    const char *bom = in_root("bom.csv");
    put(bom, "\xEF\xBB\xBF" VIP_RECORDS_HEADER "\r\n");
    refused("header_after_bom", bom, "not a vipgen records file");
    const char *cut = in_root("cut.csv");
    put(cut, VIP_RECORDS_HEADER "\r\n\"NC/1\",\"V");
    refused("incomplete_last_line", cut, "complete line");
    const char *shorter = in_root("short.csv");
    put(shorter, "crime_ref\n");
    refused("short_file", shorter, "not a vipgen records file");
    const char *link = in_root("link.csv");
    CHECK("refuse.symlink_setup", symlink(in_root("records.csv"), link) == 0, "%s", strerror(errno));
    refused("symlink", link, "symbolic link");
    const char *dir = in_root("adir.csv");
    mkdir(dir, 0700);
    vip_error err = {0};
    vip_records *r = vip_records_open(dir, &err);
    CHECK("refuse.directory", !r && strstr(err.message, dir), "%s", r ? "opened" : err.message);
    vip_records_close(r, &err);

    /* An existing empty file gets the header. */
    const char *empty = in_root("empty.csv");
    put(empty, "");
    r = vip_records_open(empty, &err);
    vip_records_close(r, &err);
    size_t len = 0;
    char *bytes = slurp(empty, &len);
    CHECK("empty_file_gets_header", r && bytes && strcmp(bytes, VIP_RECORDS_HEADER "\r\n") == 0, "%s",
          bytes ? bytes : err.message);
    free(bytes);
}

/* Two processes append at once; long lines (more than a page) make any interleaving inside a line visible. */
static void test_concurrent(void)
{
    const char *path = in_root("shared.csv");
    enum { LINES = 1500 };
    pid_t pids[2];
    for (int w = 0; w < 2; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            vip_error err = {0};
            vip_records *r = vip_records_open(path, &err);
            if (!r)
                _exit(3);
            char reason[6000], ref[32];
            for (int i = 0; i < LINES; i++) {
                size_t n = 100 + (size_t)(i * 37 % 5800);
                memset(reason, w ? 'b' : 'a', n);
                reason[n] = '\0';
                snprintf(ref, sizeof ref, "W%d/%05d", w, i);
                vip_records_line l = {.crime_ref = ref, .status = "sent", .reason = reason};
                if (vip_records_append(r, &l, &err) != VIP_OK)
                    _exit(4);
            }
            _exit(vip_records_close(r, &err) == VIP_OK ? 0 : 5);
        }
    }
    int clean = 1;
    for (int w = 0; w < 2; w++) {
        int status = 0;
        waitpid(pids[w], &status, 0);
        clean = clean && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK("concurrent.writers_ok", clean, "a writer failed");
    parsed p = parse_csv(path);
    int whole = !p.refused && p.rows == 1 + 2 * LINES, next[2] = {0, 0};
    size_t headers = 0;
    for (size_t i = 0; whole && i < p.rows; i++) {
        if (strcmp(p.fields[i][0], "crime_ref") == 0) {
            headers++;
            continue;
        }
        int w = -1, n = -1;
        whole = p.count[i] == 12 && sscanf(p.fields[i][0], "W%d/%d", &w, &n) == 2 && (w == 0 || w == 1) &&
                n == next[w];
        if (!whole)
            break;
        next[w]++;
        size_t want = 100 + (size_t)(n * 37 % 5800);
        const char *reason = p.fields[i][11];
        whole = strlen(reason) == want && strspn(reason, w ? "b" : "a") == want;
    }
    CHECK("concurrent.whole_lines_only", whole && headers == 1 && next[0] == LINES && next[1] == LINES,
          "%zu rows, %zu headers, %d and %d lines in order", p.rows, headers, next[0], next[1]);
    parsed_free(&p);
}

/* A full disk: the failing append is an error naming the file and the file still ends with a whole line. */
static void test_disk_full(void)
{
    const char *mnt = in_root("tmpfs");
    mkdir(mnt, 0700);
    if (mount("vipgen-test", mnt, "tmpfs", 0, "size=64k,mode=0700") != 0) {
        printf("INFO disk_full: skipped, cannot mount a tmpfs here (%s); run as root with CAP_SYS_ADMIN to test a "
               "full disk\n",
               strerror(errno));
        rmdir(mnt);
        return;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/records.csv", mnt);
    vip_error err = {0};
    vip_records *r = vip_records_open(path, &err);
    CHECK("disk_full.open", r != NULL, "%s", err.message);
    char reason[1500];
    memset(reason, 'x', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    int ok = 0, rc = VIP_OK;
    for (int i = 0; r && i < 1000; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "F/%04d", i);
        vip_records_line l = {.crime_ref = ref, .status = "sent", .reason = reason};
        if ((rc = vip_records_append(r, &l, &err)) != VIP_OK)
            break;
        ok++;
    }
    CHECK("disk_full.reached", rc == VIP_ERR_IO && strstr(err.message, path) && ok > 0, "rc %d after %d: %s", rc, ok,
          err.message);
    vip_records_close(r, &err);
    parsed p = parse_csv(path);
    CHECK("disk_full.whole_lines_kept", !p.refused && p.rows == (size_t)ok + 1, "%zu rows, %d appended", p.rows, ok);
    parsed_free(&p);
    size_t len = 0;
    char *bytes = slurp(path, &len);
    CHECK("disk_full.ends_with_line", bytes && len > 2 && bytes[len - 1] == '\n', "torn line at the end");
    free(bytes);
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/vipgen-records-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_write_and_read_back();
    test_only_grows();
    test_refusals();
    test_concurrent();
    test_disk_full();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("INFO could not remove %s\n", root);
    return CHECK_DONE();
}
