/* vip_journal against real SQLite files and real processes: a row's life (produced, sending, data_sent, sent) and
 * what a rerun decides for it (already sent, changed, failed retried, uncertain held, resend on request), states that
 * may not follow one another refused, recovery of a stopped run, kill -9 of a writing process at many moments (every
 * acknowledged change survives, the file stays sound), journals refused with the reason and left byte for byte as
 * they were (another output directory, not SQLite, another application's database, corrupt, a symlink, in use by
 * another process), a full disk on a small tmpfs (an error, nothing half-recorded, a later run with space
 * finishes), the file's mode, and the cost per letter. Python's sqlite3 module (Debian's /usr/bin/python3) and
 * sha256sum are the outside oracles. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "journal.h"
#include "outfile.h"

/* Runs a shell command and returns its first line of output (trimmed), or "" on failure. */
static const char *run_line(const char *cmd)
{
    static char line[4096];
    line[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return line;
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* One value from a query run by Python's sqlite3 module (read-only; sql must not contain a double quote). */
static const char *sqlite_oracle(const char *db, const char *sql)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sqlite3,sys\n"
             "c = sqlite3.connect(\"file:\" + sys.argv[1] + \"?mode=ro\", uri=True)\n"
             "print(c.execute(sys.argv[2]).fetchone()[0])' '%s' \"%s\" 2>&1",
             db, sql);
    return run_line(cmd);
}

/* Runs sql on db (read-write) with Python's sqlite3 module; 0 on success. */
static int sqlite_write(const char *db, const char *sql)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sqlite3,sys\n"
             "c = sqlite3.connect(sys.argv[1])\n"
             "c.executescript(sys.argv[2])\n"
             "c.close()' '%s' \"%s\"",
             db, sql);
    return system(cmd);
}

static int same_bytes(const char *a, size_t alen, const char *path)
{
    size_t blen = 0;
    char *b = slurp(path, &blen);
    int same = b && alen == blen && memcmp(a, b, alen) == 0;
    free(b);
    return same;
}

static void put(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static vip_journal_entry entry(const char *identity, const char *crime_ref, const char *hash)
{
    vip_journal_entry e = {.identity = identity, .crime_ref = crime_ref, .victim_id = "V1", .language = "ur",
                           .channel = VIP_JOURNAL_CHANNEL_EMAIL, .content_hash = hash,
                           .file = "NC-2024-012350_ur.pdf", .file_sha256 = "ab12"};
    return e;
}

static vip_journal_decision decide(vip_journal *j, const char *id, const char *hash, int resend)
{
    vip_journal_decision d = 0;
    vip_error err = {0};
    if (vip_journal_decide(j, id, hash, resend, &d, &err) != VIP_OK)
        printf("INFO decide failed: %s\n", err.message);
    return d;
}

static vip_journal_state state_of(vip_journal *j, const char *id)
{
    vip_journal_row row;
    vip_error err = {0};
    if (vip_journal_lookup(j, id, &row, &err) != VIP_OK)
        return (vip_journal_state)-1;
    vip_journal_state s = row.state;
    vip_journal_row_clear(&row);
    return s;
}

static void test_identity_and_hashes(void)
{
    char *with = vip_journal_identity("NC/2024/012345", "V-77", "00ff");
    char *without = vip_journal_identity("NC/2024/012345", "", "00ff");
    char *null_id = vip_journal_identity("NC/2024/012345", NULL, "00ff");
    CHECK("identity.with_victim_id", with && strcmp(with, "NC/2024/012345#id:V-77") == 0, "%s", with);
    CHECK("identity.without_victim_id_is_content", without && strcmp(without, "NC/2024/012345#content:00ff") == 0,
          "%s", without);
    CHECK("identity.null_victim_id_same_as_empty", null_id && without && strcmp(null_id, without) == 0, "%s",
          null_id);
    free(with);
    free(without);
    free(null_id);

    char h1[VIP_JOURNAL_HASH_SIZE], h2[VIP_JOURNAL_HASH_SIZE], h3[VIP_JOURNAL_HASH_SIZE];
    const char *a[] = {"a", "bc"}, *b[] = {"ab", "c"}, *c[] = {"a", "bc"};
    vip_journal_content_hash(a, 2, h1);
    vip_journal_content_hash(b, 2, h2);
    vip_journal_content_hash(c, 2, h3);
    CHECK("content_hash.is_sha256_hex", strlen(h1) == 64 && strspn(h1, "0123456789abcdef") == 64, "%s", h1);
    CHECK("content_hash.boundaries_count", strcmp(h1, h2) != 0, "a|bc and ab|c hash alike");
    CHECK("content_hash.deterministic", strcmp(h1, h3) == 0, "%s vs %s", h1, h3);

    /* The file hash against sha256sum. */
    const char *f = in_root("some.pdf");
    char data[100000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + i / 13);
    put(f, data, sizeof data);
    char fh[VIP_JOURNAL_HASH_SIZE] = "", cmd[600];
    vip_error err = {0};
    int rc = vip_journal_file_sha256(f, fh, &err);
    snprintf(cmd, sizeof cmd, "sha256sum '%s' | cut -d' ' -f1", f);
    CHECK("file_sha256.matches_sha256sum", rc == VIP_OK && strcmp(fh, run_line(cmd)) == 0, "%s vs %s (%s)", fh,
          run_line(cmd), err.message);
    rc = vip_journal_file_sha256(in_root("missing.pdf"), fh, &err);
    CHECK("file_sha256.missing_file_named", rc == VIP_ERR_IO && strstr(err.message, "missing.pdf"), "%s",
          err.message);
}

static void test_create_and_lifecycle(void)
{
    const char *out = in_root("out1");
    mkdir(out, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.sqlite", out);
    vip_error err = {0};
    umask(022);
    vip_journal *j = vip_journal_open(path, out, &err);
    CHECK("open.creates", j != NULL, "%s", err.message);
    if (!j)
        return;
    struct stat st;
    CHECK("open.mode_0600", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o",
          (unsigned)(st.st_mode & 0777));
    CHECK("open.path", strcmp(vip_journal_path(j), path) == 0, "%s", vip_journal_path(j));

    const char *id = "NC/2024/012350#id:V1", *h1 = "1111", *h2 = "2222";
    vip_journal_entry e = entry(id, "NC/2024/012350", h1);
    CHECK("decide.new_row_go", decide(j, id, h1, 0) == VIP_JOURNAL_GO, "not GO");
    CHECK("record.sending_unknown_row_refused",
          vip_journal_sending(j, id, "<m@x>", &err) == VIP_ERR_INTERNAL && strstr(err.message, "not in the journal"),
          "%s", err.message);
    CHECK("record.produced", vip_journal_produced(j, &e, &err) == VIP_OK, "%s", err.message);
    CHECK("record.sent_before_sending_refused",
          vip_journal_sent(j, id, "250 OK", &err) == VIP_ERR_INTERNAL && strstr(err.message, "is produced"), "%s",
          err.message);
    CHECK("record.data_sent_before_sending_refused", vip_journal_data_sent(j, id, &err) == VIP_ERR_INTERNAL, "%s",
          err.message);
    CHECK("state.still_produced", state_of(j, id) == VIP_JOURNAL_PRODUCED, "state %d", state_of(j, id));
    CHECK("record.sending", vip_journal_sending(j, id, "<abc@vipgen>", &err) == VIP_OK, "%s", err.message);
    CHECK("decide.sending_is_in_progress", decide(j, id, h1, 1) == VIP_JOURNAL_IN_PROGRESS, "not in progress");
    CHECK("record.produced_while_sending_refused", vip_journal_produced(j, &e, &err) == VIP_ERR_INTERNAL, "%s",
          err.message);
    CHECK("record.data_sent", vip_journal_data_sent(j, id, &err) == VIP_OK, "%s", err.message);
    CHECK("record.sent", vip_journal_sent(j, id, "250 2.0.0 Ok: queued as 1234", &err) == VIP_OK, "%s",
          err.message);

    vip_journal_row row;
    CHECK("lookup.ok", vip_journal_lookup(j, id, &row, &err) == VIP_OK, "%s", err.message);
    CHECK("lookup.fields",
          row.state == VIP_JOURNAL_SENT && strcmp(row.crime_ref, "NC/2024/012350") == 0 &&
              strcmp(row.victim_id, "V1") == 0 && strcmp(row.language, "ur") == 0 &&
              row.channel == VIP_JOURNAL_CHANNEL_EMAIL && strcmp(row.content_hash, h1) == 0 &&
              strcmp(row.delivered_hash, h1) == 0 && strcmp(row.file, "NC-2024-012350_ur.pdf") == 0 &&
              strcmp(row.file_sha256, "ab12") == 0 && strcmp(row.message_id, "<abc@vipgen>") == 0 &&
              strcmp(row.reply, "250 2.0.0 Ok: queued as 1234") == 0 && row.attempts == 1,
          "state %d hash %s file %s mid %s reply %s attempts %d", row.state, row.content_hash, row.file,
          row.message_id, row.reply, row.attempts);
    int iso = strlen(row.first_seen) == 20 && row.first_seen[4] == '-' && row.first_seen[10] == 'T' &&
              row.first_seen[19] == 'Z' && strcmp(row.first_seen, row.last_change) <= 0;
    CHECK("lookup.timestamps_utc_iso8601", iso, "%s / %s", row.first_seen, row.last_change);
    vip_journal_row_clear(&row);
    CHECK("lookup.missing_not_found",
          vip_journal_lookup(j, "nope", &row, &err) == VIP_OK && row.state == VIP_JOURNAL_NOT_FOUND && !row.identity,
          "state %d", row.state);

    CHECK("decide.sent_same_content_already_done", decide(j, id, h1, 0) == VIP_JOURNAL_ALREADY_DONE, "no");
    CHECK("decide.sent_changed_content_reported", decide(j, id, h2, 0) == VIP_JOURNAL_CHANGED, "no");
    CHECK("decide.sent_changed_resend_go", decide(j, id, h2, 1) == VIP_JOURNAL_GO, "no");
    CHECK("decide.sent_same_resend_go", decide(j, id, h1, 1) == VIP_JOURNAL_GO, "no");
    vip_journal_entry e2 = entry(id, "NC/2024/012350", h2);
    CHECK("record.produced_over_sent_without_resend_refused",
          vip_journal_produced(j, &e2, &err) == VIP_ERR_INTERNAL && strstr(err.message, "is sent"), "%s",
          err.message);
    CHECK("state.still_sent", state_of(j, id) == VIP_JOURNAL_SENT, "state %d", state_of(j, id));
    CHECK("record.failed_over_sent_without_resend_refused", vip_journal_failed(j, &e2, "x", &err) == VIP_ERR_INTERNAL,
          "%s", err.message);
    /* A resend that stops before it is sent leaves the row's delivery on record: rerun without --resend still
     * reports it changed, not new. */
    e2.resend = 1;
    CHECK("record.produced_over_sent_with_resend", vip_journal_produced(j, &e2, &err) == VIP_OK, "%s", err.message);
    CHECK("decide.resend_interrupted_still_changed", decide(j, id, h2, 0) == VIP_JOURNAL_CHANGED, "no");
    CHECK("decide.resend_interrupted_old_content_done", decide(j, id, h1, 0) == VIP_JOURNAL_ALREADY_DONE, "no");
    vip_journal_sending(j, id, "<def@vipgen>", &err);
    vip_journal_sent(j, id, "250 ok", &err);
    CHECK("decide.resent_new_content_done", decide(j, id, h2, 0) == VIP_JOURNAL_ALREADY_DONE, "no");

    /* Failed: retried. A 5xx reply after DATA is a definite failure. */
    const char *fid = "NC/2024/000001#id:V2";
    vip_journal_entry f = entry(fid, "NC/2024/000001", h1);
    vip_journal_produced(j, &f, &err);
    vip_journal_sending(j, fid, "<f@vipgen>", &err);
    vip_journal_data_sent(j, fid, &err);
    CHECK("record.failed_after_data", vip_journal_failed(j, &f, "550 5.1.1 mailbox unavailable", &err) == VIP_OK,
          "%s", err.message);
    CHECK("decide.failed_retried", decide(j, fid, h1, 0) == VIP_JOURNAL_GO, "no");
    CHECK("record.sending_again_after_failed", vip_journal_sending(j, fid, "<f@vipgen>", &err) == VIP_OK, "%s",
          err.message);
    CHECK("record.sending_retry_while_sending", vip_journal_sending(j, fid, NULL, &err) == VIP_OK, "%s",
          err.message);
    vip_journal_lookup(j, fid, &row, &err);
    CHECK("record.attempts_counted", row.attempts == 3 && strcmp(row.message_id, "<f@vipgen>") == 0, "%d %s",
          row.attempts, row.message_id);
    vip_journal_row_clear(&row);

    /* Withheld: never handed to SMTP nor posted; may become produced on a later run. */
    const char *wid = "NC/2024/000002#id:V3";
    vip_journal_entry w = entry(wid, "NC/2024/000002", h1);
    w.channel = VIP_JOURNAL_CHANNEL_NONE;
    CHECK("record.withheld", vip_journal_withheld(j, &w, "domestic_abuse without safe_to_contact=yes", &err) == VIP_OK,
          "%s", err.message);
    CHECK("record.sending_withheld_refused",
          vip_journal_sending(j, wid, "<w@x>", &err) == VIP_ERR_INTERNAL && strstr(err.message, "withheld"), "%s",
          err.message);
    CHECK("record.posting_withheld_refused", vip_journal_posted(j, wid, &err) == VIP_ERR_INTERNAL, "%s", err.message);
    CHECK("decide.withheld_go", decide(j, wid, h1, 0) == VIP_JOURNAL_GO, "no");

    /* Posted. */
    const char *pid = "NC/2024/000003#content:beef";
    vip_journal_entry p = entry(pid, "NC/2024/000003", "beef");
    p.victim_id = NULL;
    p.channel = VIP_JOURNAL_CHANNEL_POST;
    vip_journal_produced(j, &p, &err);
    CHECK("record.posted", vip_journal_posted(j, pid, &err) == VIP_OK, "%s", err.message);
    CHECK("decide.posted_done", decide(j, pid, "beef", 0) == VIP_JOURNAL_ALREADY_DONE, "no");
    CHECK("record.posted_twice_refused", vip_journal_posted(j, pid, &err) == VIP_ERR_INTERNAL, "%s", err.message);
    vip_journal_lookup(j, pid, &row, &err);
    CHECK("record.absent_victim_id_empty", row.victim_id && strcmp(row.victim_id, "") == 0 &&
                                               row.channel == VIP_JOURNAL_CHANNEL_POST, "%s", row.victim_id);
    vip_journal_row_clear(&row);

    /* Required fields. */
    vip_journal_entry bad = {.identity = "x"};
    CHECK("record.missing_fields_refused", vip_journal_produced(j, &bad, &err) == VIP_ERR_INTERNAL, "%s",
          err.message);

    /* Recovery of a stopped run: data_sent → uncertain, sending → produced. */
    const char *s1 = "NC/2024/000010#id:A", *s2 = "NC/2024/000011#id:B";
    vip_journal_entry x1 = entry(s1, "NC/2024/000010", h1), x2 = entry(s2, "NC/2024/000011", h1);
    vip_journal_produced(j, &x1, &err);
    vip_journal_produced(j, &x2, &err);
    vip_journal_sending(j, s1, "<1@x>", &err);
    vip_journal_data_sent(j, s1, &err);
    vip_journal_sending(j, s2, "<2@x>", &err);
    vip_journal_close(j);

    j = vip_journal_open(path, out, &err);
    CHECK("reopen.ok", j != NULL, "%s", err.message);
    if (!j)
        return;
    CHECK("reopen.kept_state", state_of(j, id) == VIP_JOURNAL_SENT && state_of(j, s1) == VIP_JOURNAL_DATA_SENT,
          "%d %d", state_of(j, id), state_of(j, s1));
    size_t nu = 99, np = 99;
    CHECK("recover.ok", vip_journal_recover(j, &nu, &np, &err) == VIP_OK, "%s", err.message);
    /* fid was left sending too (a retry in progress). */
    CHECK("recover.counts", nu == 1 && np == 2, "uncertain %zu produced %zu", nu, np);
    CHECK("recover.data_sent_to_uncertain", state_of(j, s1) == VIP_JOURNAL_UNCERTAIN, "%d", state_of(j, s1));
    CHECK("recover.sending_to_produced", state_of(j, s2) == VIP_JOURNAL_PRODUCED, "%d", state_of(j, s2));
    CHECK("decide.uncertain_held", decide(j, s1, h1, 0) == VIP_JOURNAL_HELD_UNCERTAIN, "no");
    CHECK("decide.uncertain_resend_go", decide(j, s1, h1, 1) == VIP_JOURNAL_GO, "no");
    CHECK("decide.recovered_sending_go", decide(j, s2, h1, 0) == VIP_JOURNAL_GO, "no");
    CHECK("record.sending_uncertain_refused", vip_journal_sending(j, s1, "<1@x>", &err) == VIP_ERR_INTERNAL, "%s",
          err.message);
    CHECK("recover.again_nothing", vip_journal_recover(j, &nu, &np, &err) == VIP_OK && nu == 0 && np == 0,
          "%zu %zu", nu, np);

    /* Lists for the summary. */
    vip_journal_row *rows = NULL;
    size_t n = 0;
    CHECK("list.uncertain", vip_journal_list(j, VIP_JOURNAL_UNCERTAIN, &rows, &n, &err) == VIP_OK && n == 1 &&
                                strcmp(rows[0].identity, s1) == 0 && strstr(rows[0].reply, "before the server"),
          "%zu", n);
    vip_journal_rows_free(rows, n);
    CHECK("list.withheld_reason", vip_journal_list(j, VIP_JOURNAL_WITHHELD, &rows, &n, &err) == VIP_OK && n == 1 &&
                                      strcmp(rows[0].reply, "domestic_abuse without safe_to_contact=yes") == 0,
          "%zu", n);
    vip_journal_rows_free(rows, n);
    CHECK("list.empty", vip_journal_list(j, VIP_JOURNAL_DATA_SENT, &rows, &n, &err) == VIP_OK && n == 0 && !rows,
          "%zu", n);
    size_t total = 0, produced = 0;
    CHECK("count.all", vip_journal_count(j, VIP_JOURNAL_NOT_FOUND, &total, &err) == VIP_OK && total == 6, "%zu",
          total);
    CHECK("count.produced", vip_journal_count(j, VIP_JOURNAL_PRODUCED, &produced, &err) == VIP_OK && produced == 2,
          "%zu", produced);
    vip_journal_close(j);
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK("close.wal_checkpointed_away", !exists(wal), "%s remains", wal);

    /* The outside view. */
    CHECK("oracle.application_id", strcmp(sqlite_oracle(path, "PRAGMA application_id"), "1447645258") == 0, "%s",
          sqlite_oracle(path, "PRAGMA application_id"));
    CHECK("oracle.wal_mode", strcmp(sqlite_oracle(path, "PRAGMA journal_mode"), "wal") == 0, "%s",
          sqlite_oracle(path, "PRAGMA journal_mode"));
    CHECK("oracle.integrity", strcmp(sqlite_oracle(path, "PRAGMA integrity_check"), "ok") == 0, "%s",
          sqlite_oracle(path, "PRAGMA integrity_check"));
    CHECK("oracle.uncertain_row",
          strcmp(sqlite_oracle(path, "SELECT state FROM rows WHERE identity = 'NC/2024/000010#id:A'"), "uncertain") == 0,
          "%s", sqlite_oracle(path, "SELECT state FROM rows WHERE identity = 'NC/2024/000010#id:A'"));
}

/* Refusals: the file is left byte for byte as it was. */
static void refused_unchanged(const char *name, const char *path, const char *out, const char *expect)
{
    size_t len = 0;
    char *before = slurp(path, &len);
    vip_error err = {0};
    vip_journal *j = vip_journal_open(path, out, &err);
    char label[128];
    snprintf(label, sizeof label, "refuse.%s", name);
    CHECK(label, !j && strstr(err.message, expect) && strstr(err.message, path), "%s", j ? "opened" : err.message);
    snprintf(label, sizeof label, "refuse.%s.unchanged", name);
    CHECK(label, before && same_bytes(before, len, path), "file changed");
    vip_journal_close(j);
    free(before);
}

static void test_refusals(void)
{
    char out[512], other[512];
    snprintf(out, sizeof out, "%s", in_root("out1"));
    snprintf(other, sizeof other, "%s", in_root("out2"));
    mkdir(other, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.sqlite", out);
    refused_unchanged("other_output_dir", path, other, "belongs to the output directory");

    const char *text = in_root("out2/notes.txt");
    put(text, "crime_ref,language\nNC/1,en\n", 27);
    refused_unchanged("text_file", text, other, "not a vipgen journal");
    const char *empty = in_root("out2/empty.sqlite");
    put(empty, "", 0);
    refused_unchanged("empty_file", empty, other, "an empty file");

    char cmd[1200];
    const char *foreign = in_root("out2/foreign.sqlite");
    CHECK("refuse.made_foreign_db", sqlite_write(foreign, "CREATE TABLE t(x); INSERT INTO t VALUES (1);") == 0,
          "python3 sqlite3 failed");
    refused_unchanged("other_application", foreign, other, "another application");

    /* A newer schema: a copy of our journal with user_version raised from outside. */
    const char *newer = in_root("out1/newer.sqlite");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, newer);
    CHECK("refuse.made_newer", system(cmd) == 0 && sqlite_write(newer, "PRAGMA user_version = 2") == 0,
          "cp/python3 failed");
    refused_unchanged("newer_schema", newer, out, "schema version 2");

    /* Corrupt: a copy of a journal with many rows (several pages), its later pages overwritten. */
    char big_dir[512];
    snprintf(big_dir, sizeof big_dir, "%s", in_root("out3"));
    mkdir(big_dir, 0700);
    char big[600];
    snprintf(big, sizeof big, "%s/journal.sqlite", big_dir);
    vip_error err = {0};
    vip_journal *j = vip_journal_open(big, big_dir, &err);
    for (int i = 0; j && i < 300; i++) {
        char id[64];
        snprintf(id, sizeof id, "NC/2024/%06d#id:V", i);
        vip_journal_entry e = entry(id, "NC/2024/0", "0123456789abcdef0123456789abcdef");
        vip_journal_produced(j, &e, &err);
    }
    vip_journal_close(j);
    size_t len = 0;
    char *bytes = slurp(big, &len);
    CHECK("refuse.corrupt_setup", bytes && len >= 4096 * 6, "journal is %zu bytes", len);
    if (bytes && len >= 4096 * 6) {
        for (size_t i = 4096 * 3 + 100; i < 4096 * 5; i++)
            bytes[i] = (char)(i * 31);
        const char *corrupt = in_root("out3/corrupt.sqlite");
        put(corrupt, bytes, len);
        refused_unchanged("corrupt", corrupt, big_dir, "corrupt");
        /* Cut short. */
        const char *cut = in_root("out3/cut.sqlite");
        free(bytes);
        bytes = slurp(big, &len);
        put(cut, bytes, len / 2);
        refused_unchanged("truncated", cut, big_dir, "corrupt");
    }
    free(bytes);

    const char *link = in_root("out1/link.sqlite");
    CHECK("refuse.symlink_setup", symlink(path, link) == 0, "%s", strerror(errno));
    refused_unchanged("symlink", link, out, "symbolic link");

    j = vip_journal_open(path, in_root("no-such-dir"), &err);
    CHECK("refuse.missing_output_dir", !j && strstr(err.message, "no-such-dir"), "%s", err.message);
    vip_journal_close(j);
}

/* A second process cannot open a journal one process has open. */
static void test_in_use(void)
{
    const char *out = in_root("out1");
    char path[600];
    snprintf(path, sizeof path, "%s/journal.sqlite", out);
    vip_error err = {0};
    vip_journal *j = vip_journal_open(path, out, &err);
    CHECK("in_use.first_opens", j != NULL, "%s", err.message);
    int fds[2];
    if (!j || pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        vip_error e = {0};
        vip_journal *k = vip_journal_open(path, out, &e);
        char msg[1100];
        int n = snprintf(msg, sizeof msg, "%d %s", k != NULL, k ? "" : e.message);
        if (write(fds[1], msg, (size_t)n) < 0)
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    char msg[1100] = {0};
    ssize_t n = read(fds[0], msg, sizeof msg - 1);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    CHECK("in_use.second_process_refused", n > 0 && msg[0] == '0' && strstr(msg, "in use"), "%s", msg);

    /* The same process opening it again is refused too, and that refusal must not release the first connection's
     * lock (closing any descriptor of a file drops the process's POSIX locks on it). */
    vip_journal *again = vip_journal_open(path, out, &err);
    CHECK("in_use.same_process_refused", !again && strstr(err.message, "in use"), "%s", again ? "opened" : err.message);
    vip_journal_close(again);
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    vip_journal_entry e = entry("NC/2024/777777#id:L", "NC/2024/777777", "77");
    CHECK("in_use.first_still_records", vip_journal_produced(j, &e, &err) == VIP_OK, "%s", err.message);
    CHECK("in_use.wal_mode_0600", stat(wal, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o",
          (unsigned)(st.st_mode & 0777));
    if (pipe(fds) != 0)
        return;
    pid = fork();
    if (pid == 0) {
        vip_error e2 = {0};
        vip_journal *k = vip_journal_open(path, out, &e2);
        _exit(k ? 1 : strstr(e2.message, "in use") ? 0 : 2);
    }
    close(fds[0]);
    close(fds[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("in_use.lock_kept_after_same_process_refusal", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "another process %s", WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "opened it" : "failed otherwise");
    vip_journal_close(j);
    j = vip_journal_open(path, out, &err);
    CHECK("in_use.free_after_close", j != NULL, "%s", err.message);
    vip_journal_close(j);
}

/* A child records rows through their life and reports each call that returned; it is killed with SIGKILL at some
 * point; every reported change must be in the journal (or the next one in the row's life, in flight when killed),
 * and recovery leaves nothing sending or data_sent. */
static const vip_journal_state life[] = {VIP_JOURNAL_PRODUCED, VIP_JOURNAL_SENDING, VIP_JOURNAL_DATA_SENT,
                                         VIP_JOURNAL_SENT};

static void writer(const char *path, const char *out, int fd)
{
    vip_error err = {0};
    vip_journal *j = vip_journal_open(path, out, &err);
    if (!j)
        _exit(3);
    vip_journal_recover(j, NULL, NULL, &err);
    for (int i = 0;; i++) {
        char id[64], hash[32];
        snprintf(id, sizeof id, "K/%07d#id:V", i);
        snprintf(hash, sizeof hash, "h%d", i);
        vip_journal_decision d = 0;
        if (vip_journal_decide(j, id, hash, 0, &d, &err) != VIP_OK)
            _exit(4);
        if (d != VIP_JOURNAL_GO)
            continue;
        vip_journal_entry e = entry(id, "K", hash);
        int rc = vip_journal_produced(j, &e, &err);
        for (int step = 0; rc == VIP_OK && step < 4; step++) {
            if (step == 1)
                rc = vip_journal_sending(j, id, "<k@x>", &err);
            else if (step == 2)
                rc = vip_journal_data_sent(j, id, &err);
            else if (step == 3)
                rc = vip_journal_sent(j, id, "250 ok", &err);
            char line[96];
            int n = snprintf(line, sizeof line, "%d %d\n", i, step);
            if (rc == VIP_OK && write(fd, line, (size_t)n) != n)
                _exit(5);
        }
        if (rc != VIP_OK)
            _exit(6);
    }
}

static void test_kill9(void)
{
    const char *out = in_root("out4");
    mkdir(out, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.sqlite", out);
    int lost = 0, unsound = 0, rounds = 8, acknowledged_total = 0;
    size_t killed_sending = 0, killed_data_sent = 0;
    static int acked[200000];
    memset(acked, -1, sizeof acked);
    srand(8);
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        if (pipe(fds) != 0)
            return;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            writer(path, out, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* Kill after a varying number of acknowledged changes, some of them mid-row. */
        int target = 200 + rand() % 900, seen = 0;
        FILE *in = fdopen(fds[0], "r");
        int i, step;
        while (seen < target && in && fscanf(in, "%d %d", &i, &step) == 2) {
            if (i >= 0 && i < 200000)
                acked[i] = step;
            seen++;
        }
        kill(pid, SIGKILL);
        /* What was written to the pipe before the kill was also acknowledged. */
        while (in && fscanf(in, "%d %d", &i, &step) == 2)
            if (i >= 0 && i < 200000)
                acked[i] = step;
        if (in)
            fclose(in);
        int status = 0;
        waitpid(pid, &status, 0);
        acknowledged_total += seen;

        vip_error err = {0};
        vip_journal *j = vip_journal_open(path, out, &err); /* quick_check on open */
        if (!j) {
            unsound++;
            printf("INFO kill9 round %d: reopen failed: %s\n", round, err.message);
            continue;
        }
        for (int r = 0; r < 200000 && acked[r] >= 0; r++) {
            char id[64];
            snprintf(id, sizeof id, "K/%07d#id:V", r);
            vip_journal_state s = state_of(j, id);
            int at = -1;
            for (int k = 0; k < 4; k++)
                if (life[k] == s)
                    at = k;
            /* Recovery of an earlier round may have moved sending back to produced or data_sent to uncertain. */
            int ok = at >= acked[r] && at <= acked[r] + 1;
            if (s == VIP_JOURNAL_UNCERTAIN)
                ok = acked[r] >= 1;
            if (s == VIP_JOURNAL_PRODUCED && acked[r] == 1)
                ok = 1;
            if (!ok) {
                if (lost < 5)
                    printf("INFO kill9 round %d: row %d acknowledged step %d, journal says %s\n", round, r, acked[r],
                           vip_journal_state_name(s));
                lost++;
            }
        }
        size_t a = 0, b = 0;
        vip_journal_count(j, VIP_JOURNAL_SENDING, &a, &err);
        vip_journal_count(j, VIP_JOURNAL_DATA_SENT, &b, &err);
        killed_sending += a;
        killed_data_sent += b;
        vip_journal_close(j);
        if (strcmp(sqlite_oracle(path, "PRAGMA integrity_check"), "ok") != 0)
            unsound++;
    }
    CHECK("kill9.every_acknowledged_change_survives", lost == 0, "%d rows lost a change", lost);
    CHECK("kill9.journal_sound_after_each_kill", unsound == 0, "%d rounds unsound", unsound);
    vip_error err = {0};
    vip_journal *j = vip_journal_open(path, out, &err);
    size_t nu = 0, np = 0, left = 9, sent = 0;
    if (j) {
        vip_journal_recover(j, &nu, &np, &err);
        size_t a = 0, b = 0;
        vip_journal_count(j, VIP_JOURNAL_SENDING, &a, &err);
        vip_journal_count(j, VIP_JOURNAL_DATA_SENT, &b, &err);
        left = a + b;
        vip_journal_count(j, VIP_JOURNAL_SENT, &sent, &err);
    }
    CHECK("kill9.recover_leaves_nothing_in_flight", j && left == 0, "%zu left", left);
    printf("INFO kill9: %d rounds, %d acknowledged changes, %zu rows sent; killed with %zu rows sending and %zu "
           "data_sent\n",
           rounds, acknowledged_total, sent, killed_sending, killed_data_sent);
    vip_journal_close(j);
}

/* A full disk: a small tmpfs. Rows with long reasons are recorded until the disk is full; the failing call is an
 * I/O error saying so and records nothing; every call that returned OK is kept; with more space (the tmpfs grown),
 * a later run records the rest. */
static void test_disk_full(void)
{
    const char *mnt = in_root("tmpfs");
    mkdir(mnt, 0700);
    if (mount("vipgen-test", mnt, "tmpfs", 0, "size=256k,mode=0700") != 0) {
        printf("INFO disk_full: skipped, cannot mount a tmpfs here (%s); run as root with CAP_SYS_ADMIN to test "
               "a full disk\n",
               strerror(errno));
        rmdir(mnt);
        return;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/journal.sqlite", mnt);
    vip_error err = {0};
    vip_journal *j = vip_journal_open(path, mnt, &err);
    CHECK("disk_full.open", j != NULL, "%s", err.message);
    char reason[3000];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    enum { ROWS = 400 };
    int ok = 0, rc = VIP_OK;
    vip_error full = {0};
    for (int i = 0; j && i < ROWS; i++) {
        char id[64];
        snprintf(id, sizeof id, "F/%04d#id:V", i);
        vip_journal_entry e = entry(id, "F", "hash");
        rc = vip_journal_withheld(j, &e, reason, &full);
        if (rc != VIP_OK)
            break;
        ok++;
    }
    CHECK("disk_full.reached", rc != VIP_OK && ok > 0, "%d rows fitted, rc %d", ok, rc);
    CHECK("disk_full.io_error_says_full", rc == VIP_ERR_IO && strstr(full.message, "full") &&
                                             strstr(full.message, path),
          "rc %d: %s", rc, full.message);
    vip_journal_close(j);

    /* More space: the same journal opens sound and holds exactly the rows recorded before. */
    int grown = mount("vipgen-test", mnt, "tmpfs", MS_REMOUNT, "size=16m,mode=0700") == 0;
    CHECK("disk_full.grown", grown, "%s", strerror(errno));
    j = vip_journal_open(path, mnt, &err);
    CHECK("disk_full.reopen_sound", j != NULL, "%s", err.message);
    size_t n = 0;
    if (j)
        vip_journal_count(j, VIP_JOURNAL_NOT_FOUND, &n, &err);
    CHECK("disk_full.rows_before_kept_failed_absent", n == (size_t)ok, "%zu rows, %d acknowledged", n, ok);
    int done = ok;
    for (int i = 0; j && i < ROWS; i++) {
        char id[64];
        snprintf(id, sizeof id, "F/%04d#id:V", i);
        if (decide(j, id, "hash", 0) != VIP_JOURNAL_GO)
            continue;
        vip_journal_entry e = entry(id, "F", "hash");
        vip_journal_row row;
        vip_journal_lookup(j, id, &row, &err);
        int is_new = row.state == VIP_JOURNAL_NOT_FOUND;
        vip_journal_row_clear(&row);
        if (is_new && vip_journal_withheld(j, &e, reason, &err) == VIP_OK)
            done++;
    }
    if (j)
        vip_journal_count(j, VIP_JOURNAL_WITHHELD, &n, &err);
    CHECK("disk_full.later_run_finishes", done == ROWS && n == ROWS, "%d recorded, %zu withheld", done, n);
    vip_journal_close(j);
    CHECK("disk_full.integrity", strcmp(sqlite_oracle(path, "PRAGMA integrity_check"), "ok") == 0, "%s",
          sqlite_oracle(path, "PRAGMA integrity_check"));
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
}

/* The journal's cost per letter emailed: decide, produced, sending, data_sent, sent (four commits). */
static void test_cost(void)
{
    const char *out = in_root("out5");
    mkdir(out, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/journal.sqlite", out);
    vip_error err = {0};
    vip_journal *j = vip_journal_open(path, out, &err);
    if (!j)
        return;
    enum { LETTERS = 2000 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int failures = 0;
    for (int i = 0; i < LETTERS; i++) {
        char id[64], hash[VIP_JOURNAL_HASH_SIZE];
        const char *values[] = {id, "NC/2024/1", "Jane"};
        snprintf(id, sizeof id, "NC/2024/%07d#id:V", i);
        vip_journal_content_hash(values, 3, hash);
        vip_journal_decision d;
        vip_journal_entry e = entry(id, "NC/2024/1", hash);
        failures += vip_journal_decide(j, id, hash, 0, &d, &err) != VIP_OK || d != VIP_JOURNAL_GO;
        failures += vip_journal_produced(j, &e, &err) != VIP_OK;
        failures += vip_journal_sending(j, id, "<m@x>", &err) != VIP_OK;
        failures += vip_journal_data_sent(j, id, &err) != VIP_OK;
        failures += vip_journal_sent(j, id, "250 2.0.0 Ok", &err) != VIP_OK;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / LETTERS;
    CHECK("cost.all_calls_ok", failures == 0, "%d failed: %s", failures, err.message);
    printf("INFO journal: %.0f microseconds per letter emailed (decide + produced, sending, data_sent, sent: four "
           "commits, WAL, synchronous=NORMAL), %d letters\n",
           us, LETTERS);
    vip_journal_close(j);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/vipgen-journal-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_identity_and_hashes();
    test_create_and_lifecycle();
    test_refusals();
    test_in_use();
    test_kill9();
    test_disk_full();
    test_cost();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("INFO could not remove %s\n", root);
    return CHECK_DONE();
}
