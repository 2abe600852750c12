#define _DEFAULT_SOURCE /* mkstemp, realpath */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"
#include "version.h"

/* 'VIPJ': PRAGMA application_id, so that the file says what it is. */
#define JOURNAL_APPLICATION_ID 0x5649504A
#define JOURNAL_SCHEMA_VERSION 1
/* The WAL is copied back into the database once it holds this many pages (about 4 MB). */
#define CHECKPOINT_FRAMES 1000

static const char *const state_names[] = {"not found", "produced", "sending", "data_sent", "sent",
                                          "posted",    "failed",   "withheld", "uncertain"};
static const char *const channel_names[] = {"none", "email", "post"};

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
    "CREATE TABLE rows("
    " identity TEXT PRIMARY KEY,"
    " crime_ref TEXT NOT NULL,"
    " victim_id TEXT NOT NULL DEFAULT '',"
    " language TEXT NOT NULL DEFAULT '',"
    " channel TEXT NOT NULL CHECK(channel IN ('none','email','post')),"
    " state TEXT NOT NULL CHECK(state IN ('produced','sending','data_sent','sent','posted','failed','withheld',"
    "  'uncertain')),"
    " content_hash TEXT NOT NULL,"
    " delivered_hash TEXT NOT NULL DEFAULT '',"
    " first_seen TEXT NOT NULL,"
    " last_change TEXT NOT NULL,"
    " file TEXT NOT NULL DEFAULT '',"
    " file_sha256 TEXT NOT NULL DEFAULT '',"
    " message_id TEXT NOT NULL DEFAULT '',"
    " reply TEXT NOT NULL DEFAULT '',"
    " attempts INTEGER NOT NULL DEFAULT 0) STRICT, WITHOUT ROWID;"
    "CREATE INDEX rows_by_state ON rows(state, first_seen, identity);";

enum stmt_id {
    ST_LOOKUP,
    ST_PRODUCED,
    ST_WITHHELD,
    ST_FAILED,
    ST_SENDING,
    ST_DATA_SENT,
    ST_SENT,
    ST_UNCERTAIN,
    ST_POSTED,
    ST_LIST,
    ST_COUNT,
    ST_COUNT_ALL
};

#define ROW_COLUMNS                                                                                              \
    "identity, crime_ref, victim_id, language, channel, state, content_hash, delivered_hash, first_seen,"       \
    " last_change, file, file_sha256, message_id, reply, attempts"

/* Rows recorded from an entry: a new row, or an existing one whose state allows it (?10: resend). */
#define UPSERT(state, allowed, reply)                                                                            \
    "INSERT INTO rows(identity, crime_ref, victim_id, language, channel, state, content_hash, first_seen,"       \
    " last_change, file, file_sha256, reply)"                                                                    \
    " VALUES(?1, ?2, coalesce(?3, ''), coalesce(?4, ''), ?5, '" state "', ?6, ?7, ?7, coalesce(?8, ''),"         \
    " coalesce(?9, ''), " reply ")"                                                                              \
    " ON CONFLICT(identity) DO UPDATE SET crime_ref = ?2, victim_id = coalesce(?3, victim_id),"                  \
    " language = coalesce(?4, language), channel = ?5, state = '" state "', content_hash = ?6,"                  \
    " last_change = ?7, file = coalesce(?8, file), file_sha256 = coalesce(?9, file_sha256), reply = " reply      \
    " WHERE state IN (" allowed ") OR (?10 AND state IN ('sent', 'posted', 'uncertain'))"

/* State changes of an existing row (?1 identity, ?2 time). */
#define MOVE(state, allowed, extra)                                                                              \
    "UPDATE rows SET state = '" state "', last_change = ?2" extra " WHERE identity = ?1 AND state IN (" allowed ")"

static const char *const stmt_sql[] = {
    [ST_LOOKUP] = "SELECT " ROW_COLUMNS " FROM rows WHERE identity = ?1",
    [ST_PRODUCED] = UPSERT("produced", "'produced', 'failed', 'withheld'", "''"),
    [ST_WITHHELD] = UPSERT("withheld", "'produced', 'failed', 'withheld'", "coalesce(?11, '')"),
    [ST_FAILED] = UPSERT("failed", "'produced', 'failed', 'withheld', 'sending', 'data_sent'", "coalesce(?11, '')"),
    [ST_SENDING] = MOVE("sending", "'produced', 'failed', 'sending'",
                        ", message_id = coalesce(?3, message_id), attempts = attempts + 1, reply = ''"),
    [ST_DATA_SENT] = MOVE("data_sent", "'sending'", ""),
    [ST_SENT] = MOVE("sent", "'sending', 'data_sent'", ", reply = coalesce(?3, ''), delivered_hash = content_hash"),
    [ST_UNCERTAIN] = MOVE("uncertain", "'sending', 'data_sent'", ", reply = coalesce(?3, '')"),
    [ST_POSTED] = MOVE("posted", "'produced', 'failed'", ", reply = '', delivered_hash = content_hash"),
    [ST_LIST] = "SELECT " ROW_COLUMNS " FROM rows WHERE state = ?1 ORDER BY first_seen, identity",
    [ST_COUNT] = "SELECT count(*) FROM rows WHERE state = ?1",
    [ST_COUNT_ALL] = "SELECT count(*) FROM rows",
};
#define STMT_COUNT (sizeof stmt_sql / sizeof stmt_sql[0])

struct vip_journal {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[STMT_COUNT];
};

const char *vip_journal_state_name(vip_journal_state state)
{
    return (unsigned)state < sizeof state_names / sizeof state_names[0] ? state_names[state] : "unknown";
}

const char *vip_journal_channel_name(vip_journal_channel channel)
{
    return (unsigned)channel < sizeof channel_names / sizeof channel_names[0] ? channel_names[channel] : "none";
}

static vip_journal_state state_from_name(const char *name)
{
    for (size_t i = 1; name && i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(name, state_names[i]) == 0)
            return (vip_journal_state)i;
    return VIP_JOURNAL_NOT_FOUND;
}

static vip_journal_channel channel_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof channel_names / sizeof channel_names[0]; i++)
        if (strcmp(name, channel_names[i]) == 0)
            return (vip_journal_channel)i;
    return VIP_JOURNAL_CHANNEL_NONE;
}

void vip_journal_content_hash(const char *const *values, size_t count, char out[VIP_JOURNAL_HASH_SIZE])
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    for (size_t i = 0; i < count; i++) {
        const char *v = values[i] ? values[i] : "";
        char len[32];
        int n = snprintf(len, sizeof len, "%zu:", strlen(v));
        g_checksum_update(sum, (const guchar *)len, n);
        g_checksum_update(sum, (const guchar *)v, strlen(v));
    }
    snprintf(out, VIP_JOURNAL_HASH_SIZE, "%s", g_checksum_get_string(sum));
    g_checksum_free(sum);
}

int vip_journal_file_sha256(const char *path, char out[VIP_JOURNAL_HASH_SIZE], vip_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    unsigned char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            g_checksum_free(sum);
            close(fd);
            return vip_error_set(err, VIP_ERR_IO, "%s: reading failed: %s", path, strerror(e));
        }
        g_checksum_update(sum, buf, n);
    }
    close(fd);
    snprintf(out, VIP_JOURNAL_HASH_SIZE, "%s", g_checksum_get_string(sum));
    g_checksum_free(sum);
    return VIP_OK;
}

char *vip_journal_identity(const char *crime_ref, const char *victim_id, const char *content_hash)
{
    int with_id = victim_id && *victim_id;
    const char *key = with_id ? victim_id : content_hash ? content_hash : "";
    size_t len = strlen(crime_ref) + strlen(key) + sizeof "#content:";
    char *id = malloc(len);
    if (id)
        snprintf(id, len, "%s#%s:%s", crime_ref, with_id ? "id" : "content", key);
    return id;
}

void vip_journal_row_clear(vip_journal_row *row)
{
    if (!row)
        return;
    char **fields[] = {&row->identity,   &row->crime_ref,  &row->victim_id,   &row->language,
                       &row->content_hash, &row->delivered_hash, &row->first_seen, &row->last_change,
                       &row->file,       &row->file_sha256, &row->message_id, &row->reply};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free(*fields[i]);
    memset(row, 0, sizeof *row);
}

static void now_utc(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int sqlite_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return VIP_ERR_NOMEM;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
        return VIP_ERR_IO;
    default:
        return VIP_ERR_INTERNAL;
    }
}

static int db_error(vip_journal *j, int rc, vip_error *err, const char *what)
{
    return vip_error_set(err, sqlite_code(rc), "%s: %s failed: %s", j->path, what,
                         (rc & 0xff) == SQLITE_FULL ? "the disk is full (database or disk is full)"
                                                    : sqlite3_errmsg(j->db));
}

/* The WAL is checkpointed here rather than by SQLite's automatic checkpoint, whose failure (a full disk) would
 * be reported as the failure of a commit that in fact succeeded. A failed checkpoint is retried at the next commit
 * and costs nothing but WAL size. */
static int wal_hook(void *user, sqlite3 *db, const char *name, int frames)
{
    (void)user;
    if (frames >= CHECKPOINT_FRAMES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static char *dup_or_empty(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

static int read_row(sqlite3_stmt *st, vip_journal_row *row)
{
    memset(row, 0, sizeof *row);
    char **text[] = {&row->identity,       &row->crime_ref,  &row->victim_id,  &row->language,
                     NULL,                 NULL,             &row->content_hash, &row->delivered_hash,
                     &row->first_seen,     &row->last_change, &row->file,     &row->file_sha256,
                     &row->message_id,     &row->reply};
    for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++)
        if (text[i] && !(*text[i] = dup_or_empty(sqlite3_column_text(st, i)))) {
            vip_journal_row_clear(row);
            return VIP_ERR_NOMEM;
        }
    row->channel = channel_from_name((const char *)sqlite3_column_text(st, 4));
    row->state = state_from_name((const char *)sqlite3_column_text(st, 5));
    row->attempts = sqlite3_column_int(st, 14);
    return VIP_OK;
}

static sqlite3_stmt *stmt(vip_journal *j, enum stmt_id id, vip_error *err)
{
    if (!j->stmt[id]) {
        int rc = sqlite3_prepare_v3(j->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &j->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            db_error(j, rc, err, "preparing a statement");
            return NULL;
        }
    }
    return j->stmt[id];
}

/* Opening: a file that exists is checked through a read-only connection first, so that a file refused is never
 * written to (a read-only connection neither checkpoints nor rolls back anything into it). */

static int open_error(const char *path, sqlite3 *db, int rc, const char *what, vip_error *err)
{
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
        return vip_error_set(err, VIP_ERR_INPUT, "%s: not a vipgen journal (not an SQLite database); refusing to use it",
                             path);
    case SQLITE_CORRUPT:
        return vip_error_set(err, VIP_ERR_INPUT, "%s: the journal is corrupt (%s); refusing to use it", path,
                             db ? sqlite3_errmsg(db) : "malformed");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return vip_error_set(err, VIP_ERR_IO, "%s: the journal is in use by another vipgen run; refusing to open it",
                             path);
    default:
        return vip_error_set(err, sqlite_code(rc), "%s: %s failed: %s", path, what,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }
}

static int query_int(sqlite3 *db, const char *sql, long long *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *value = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int check_existing(const char *path, const char *out_real, vip_error *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        open_error(path, db, rc, "opening the journal", err);
        sqlite3_close_v2(db);
        return err ? err->code : VIP_ERR_IO;
    }
    long long app = 0, version = 0;
    if ((rc = query_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
        (rc = query_int(db, "PRAGMA user_version", &version)) != SQLITE_OK) {
        open_error(path, db, rc, "reading the journal", err);
        sqlite3_close_v2(db);
        return err ? err->code : VIP_ERR_IO;
    }
    if (app != JOURNAL_APPLICATION_ID) {
        sqlite3_close_v2(db);
        return vip_error_set(err, VIP_ERR_INPUT,
                             "%s: not a vipgen journal (an SQLite database of another application, id %lld); "
                             "refusing to use it",
                             path, app);
    }
    if (version != JOURNAL_SCHEMA_VERSION) {
        sqlite3_close_v2(db);
        return vip_error_set(err, VIP_ERR_INPUT,
                             "%s: journal schema version %lld, this vipgen reads version %d; refusing to use it", path,
                             version, JOURNAL_SCHEMA_VERSION);
    }
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(st, 0);
        if (!verdict || strcmp(verdict, "ok") != 0) {
            vip_error_set(err, VIP_ERR_INPUT, "%s: the journal is corrupt (quick_check: %s); refusing to use it",
                          path, verdict ? verdict : "no verdict");
            sqlite3_finalize(st);
            sqlite3_close_v2(db);
            return VIP_ERR_INPUT;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'output_dir'", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *dir = (const char *)sqlite3_column_text(st, 0);
            if (!dir || strcmp(dir, out_real) != 0) {
                vip_error_set(err, VIP_ERR_INPUT,
                              "%s: this journal belongs to the output directory %s, not %s; refusing to use it (give "
                              "that directory, or another journal file)",
                              path, dir ? dir : "(none)", out_real);
                sqlite3_finalize(st);
                sqlite3_close_v2(db);
                return VIP_ERR_INPUT;
            }
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            sqlite3_finalize(st);
            sqlite3_close_v2(db);
            return vip_error_set(err, VIP_ERR_INPUT, "%s: the journal names no output directory; refusing to use it",
                                 path);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        open_error(path, db, rc, "checking the journal", err);
        sqlite3_close_v2(db);
        return err ? err->code : VIP_ERR_IO;
    }
    sqlite3_close_v2(db);
    return VIP_OK;
}

/* Makes a new directory entry durable; a directory that cannot be synced is not worth failing over. */
static void sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A new journal is made whole under a temporary name and linked into place, so that the path never names a
 * half-made journal, and a journal another process made meanwhile is never replaced. */
static int create_journal(const char *path, const char *out_real, vip_error *err)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t len = strlen(path) + sizeof "..vipgen-tmp.XXXXXX";
    char *tmp = malloc(len);
    if (!tmp)
        return vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len, "%.*s.%s.vipgen-tmp.XXXXXX", (int)dirlen, path, path + dirlen);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot create the journal: %s", path, strerror(e));
    }
    /* mkstemp's mode is 0600; the configured mode, less the umask, as open(2) would give. */
    close(fd);
    unlink(tmp);
    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, vip_outfile_mode());
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot create the journal: %s", path, strerror(e));
    }
    close(fd);

    sqlite3 *db = NULL;
    char created[32], sql[256];
    now_utc(created);
    int rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;", JOURNAL_APPLICATION_ID,
             JOURNAL_SCHEMA_VERSION);
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK && (rc = exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")) == SQLITE_OK &&
        (rc = exec(db, "BEGIN")) == SQLITE_OK && (rc = exec(db, sql)) == SQLITE_OK &&
        (rc = exec(db, schema_sql)) == SQLITE_OK &&
        (rc = sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES ('output_dir', ?1), ('created', ?2), "
                                     "('vipgen_version', ?3)",
                                 -1, &st, NULL)) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, out_real, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, created, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, VIP_VERSION, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = exec(db, "COMMIT");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        vip_error_set(err, sqlite_code(rc), "%s: cannot create the journal: %s", path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    /* Closing the only connection copies the WAL into the database and removes it. */
    if (sqlite3_close(db) != SQLITE_OK && rc == SQLITE_OK) {
        rc = SQLITE_IOERR;
        vip_error_set(err, VIP_ERR_IO, "%s: cannot create the journal: closing failed", path);
    }
    if (rc == SQLITE_OK && link(tmp, path) != 0 && errno != EEXIST) {
        rc = SQLITE_IOERR;
        vip_error_set(err, VIP_ERR_IO, "%s: cannot create the journal: %s", path, strerror(errno));
    }
    unlink(tmp);
    /* Any -wal or -shm left beside the temporary if closing failed. */
    char side[PATH_MAX + 8];
    snprintf(side, sizeof side, "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp);
    unlink(side);
    free(tmp);
    if (rc == SQLITE_OK)
        sync_dir(path);
    return rc == SQLITE_OK ? VIP_OK : (err ? err->code : VIP_ERR_IO);
}

vip_journal *vip_journal_open(const char *path, const char *output_dir, vip_error *err)
{
    char out_real[PATH_MAX];
    struct stat st;
    if (!realpath(output_dir, out_real) || stat(out_real, &st) != 0) {
        vip_error_set(err, VIP_ERR_IO, "%s: output directory %s: %s", path, output_dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        vip_error_set(err, VIP_ERR_IO, "%s: output directory %s: not a directory", path, output_dir);
        return NULL;
    }
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            vip_error_set(err, VIP_ERR_IO, "%s: %s", path, strerror(errno));
            return NULL;
        }
        if (create_journal(path, out_real, err) != VIP_OK)
            return NULL;
    } else if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode) || st.st_size == 0) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: not a vipgen journal (%s); refusing to use it", path,
                      S_ISLNK(st.st_mode)    ? "a symbolic link"
                      : !S_ISREG(st.st_mode) ? "not a regular file"
                                             : "an empty file");
        return NULL;
    }
    if (check_existing(path, out_real, err) != VIP_OK)
        return NULL;

    vip_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    int rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(j->db, 1);
        /* Exclusive locking: the lock taken by the first write is held until close, so a second batch on this
         * journal is refused instead of interleaving its sends with ours. NORMAL: a WAL commit survives the
         * process being killed (only power loss can take the last ones back). */
        rc = exec(j->db, "PRAGMA locking_mode = EXCLUSIVE; PRAGMA synchronous = NORMAL");
    }
    if (rc == SQLITE_OK)
        rc = exec(j->db, "BEGIN IMMEDIATE; COMMIT");
    if (rc != SQLITE_OK) {
        open_error(path, j->db, rc, "opening the journal", err);
        vip_journal_close(j);
        return NULL;
    }
    sqlite3_wal_hook(j->db, wal_hook, NULL);
    return j;
}

void vip_journal_close(vip_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(j->stmt[i]);
    sqlite3_close_v2(j->db);
    free(j->path);
    free(j);
}

const char *vip_journal_path(const vip_journal *j)
{
    return j->path;
}

int vip_journal_recover(vip_journal *j, size_t *made_uncertain, size_t *made_produced, vip_error *err)
{
    char now[32];
    now_utc(now);
    sqlite3_stmt *a = NULL, *b = NULL;
    int rc = exec(j->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(j->db,
                                "UPDATE rows SET state = 'uncertain', last_change = ?1, reply = 'the run stopped after "
                                "the message data was sent, before the server replied' WHERE state = 'data_sent'",
                                -1, &a, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(j->db,
                                "UPDATE rows SET state = 'produced', last_change = ?1, reply = '' WHERE state = "
                                "'sending'",
                                -1, &b, NULL);
    size_t uncertain = 0, produced = 0;
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(a, 1, now, -1, SQLITE_STATIC);
        rc = sqlite3_step(a);
        uncertain = (size_t)sqlite3_changes(j->db);
    }
    if (rc == SQLITE_DONE) {
        sqlite3_bind_text(b, 1, now, -1, SQLITE_STATIC);
        rc = sqlite3_step(b);
        produced = (size_t)sqlite3_changes(j->db);
    }
    if (rc == SQLITE_DONE)
        rc = exec(j->db, "COMMIT");
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    if (rc != SQLITE_OK) {
        db_error(j, rc, err, "recovering the rows of a stopped run");
        exec(j->db, "ROLLBACK");
        return err ? err->code : VIP_ERR_IO;
    }
    if (made_uncertain)
        *made_uncertain = uncertain;
    if (made_produced)
        *made_produced = produced;
    return VIP_OK;
}

int vip_journal_lookup(vip_journal *j, const char *identity, vip_journal_row *row, vip_error *err)
{
    memset(row, 0, sizeof *row);
    sqlite3_stmt *st = stmt(j, ST_LOOKUP, err);
    if (!st)
        return err ? err->code : VIP_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, identity, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), result = VIP_OK;
    if (rc == SQLITE_ROW) {
        if (read_row(st, row) != VIP_OK)
            result = vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", j->path);
    } else if (rc != SQLITE_DONE) {
        result = db_error(j, rc, err, "looking up a row");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

int vip_journal_decide(vip_journal *j, const char *identity, const char *content_hash, int resend,
                       vip_journal_decision *decision, vip_error *err)
{
    vip_journal_row row;
    int rc = vip_journal_lookup(j, identity, &row, err);
    if (rc != VIP_OK)
        return rc;
    if (row.state == VIP_JOURNAL_SENDING || row.state == VIP_JOURNAL_DATA_SENT)
        *decision = VIP_JOURNAL_IN_PROGRESS;
    else if (resend || row.state == VIP_JOURNAL_NOT_FOUND)
        *decision = VIP_JOURNAL_GO;
    else if (row.state == VIP_JOURNAL_UNCERTAIN)
        *decision = VIP_JOURNAL_HELD_UNCERTAIN;
    else if (*row.delivered_hash) /* it was sent or posted once: only ever again on request */
        *decision = strcmp(row.delivered_hash, content_hash) == 0 ? VIP_JOURNAL_ALREADY_DONE : VIP_JOURNAL_CHANGED;
    else
        *decision = VIP_JOURNAL_GO;
    vip_journal_row_clear(&row);
    return VIP_OK;
}

/* A state change that changed nothing: say why (no such row, or its state does not allow it). */
static int refused(vip_journal *j, const char *identity, const char *to, vip_error *err)
{
    vip_journal_row row;
    vip_error lookup_err = {0};
    if (vip_journal_lookup(j, identity, &row, &lookup_err) != VIP_OK)
        return vip_error_set(err, lookup_err.code, "%s", lookup_err.message);
    vip_error_set(err, VIP_ERR_INTERNAL, "%s: row %s %s%s; it cannot be recorded as %s", j->path, identity,
                  row.state == VIP_JOURNAL_NOT_FOUND ? "is not in the journal" : "is ",
                  row.state == VIP_JOURNAL_NOT_FOUND ? "" : vip_journal_state_name(row.state), to);
    vip_journal_row_clear(&row);
    return VIP_ERR_INTERNAL;
}

static int finish(vip_journal *j, sqlite3_stmt *st, int rc, const char *identity, const char *to, vip_error *err)
{
    int changed = sqlite3_changes(j->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        char what[256];
        snprintf(what, sizeof what, "recording row %s as %s", identity, to);
        return db_error(j, rc, err, what);
    }
    return changed ? VIP_OK : refused(j, identity, to, err);
}

static int record_entry(vip_journal *j, enum stmt_id id, const vip_journal_entry *e, const char *reason,
                        vip_error *err)
{
    const char *to = state_names[id == ST_PRODUCED ? VIP_JOURNAL_PRODUCED
                                 : id == ST_WITHHELD ? VIP_JOURNAL_WITHHELD
                                                     : VIP_JOURNAL_FAILED];
    if (!e || !e->identity || !e->crime_ref || !e->content_hash)
        return vip_error_set(err, VIP_ERR_INTERNAL, "%s: recording a row as %s needs its identity, crime reference "
                             "and content hash", j->path, to);
    sqlite3_stmt *st = stmt(j, id, err);
    if (!st)
        return err ? err->code : VIP_ERR_INTERNAL;
    char now[32];
    now_utc(now);
    sqlite3_bind_text(st, 1, e->identity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->crime_ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->victim_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->language, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, vip_journal_channel_name(e->channel), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->content_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, e->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, e->file_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, e->resend != 0);
    if (sqlite3_bind_parameter_count(st) >= 11)
        sqlite3_bind_text(st, 11, reason, -1, SQLITE_STATIC);
    return finish(j, st, sqlite3_step(st), e->identity, to, err);
}

int vip_journal_produced(vip_journal *j, const vip_journal_entry *e, vip_error *err)
{
    return record_entry(j, ST_PRODUCED, e, NULL, err);
}

int vip_journal_withheld(vip_journal *j, const vip_journal_entry *e, const char *reason, vip_error *err)
{
    return record_entry(j, ST_WITHHELD, e, reason, err);
}

int vip_journal_failed(vip_journal *j, const vip_journal_entry *e, const char *reason, vip_error *err)
{
    return record_entry(j, ST_FAILED, e, reason, err);
}

static int move(vip_journal *j, enum stmt_id id, vip_journal_state to, const char *identity, const char *text,
                vip_error *err)
{
    if (!identity)
        return vip_error_set(err, VIP_ERR_INTERNAL, "%s: recording a row as %s needs its identity", j->path,
                             state_names[to]);
    sqlite3_stmt *st = stmt(j, id, err);
    if (!st)
        return err ? err->code : VIP_ERR_INTERNAL;
    char now[32];
    now_utc(now);
    sqlite3_bind_text(st, 1, identity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(st) >= 3)
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    return finish(j, st, sqlite3_step(st), identity, state_names[to], err);
}

int vip_journal_sending(vip_journal *j, const char *identity, const char *message_id, vip_error *err)
{
    return move(j, ST_SENDING, VIP_JOURNAL_SENDING, identity, message_id, err);
}

int vip_journal_data_sent(vip_journal *j, const char *identity, vip_error *err)
{
    return move(j, ST_DATA_SENT, VIP_JOURNAL_DATA_SENT, identity, NULL, err);
}

int vip_journal_sent(vip_journal *j, const char *identity, const char *reply, vip_error *err)
{
    return move(j, ST_SENT, VIP_JOURNAL_SENT, identity, reply, err);
}

int vip_journal_uncertain(vip_journal *j, const char *identity, const char *reason, vip_error *err)
{
    return move(j, ST_UNCERTAIN, VIP_JOURNAL_UNCERTAIN, identity, reason, err);
}

int vip_journal_posted(vip_journal *j, const char *identity, vip_error *err)
{
    return move(j, ST_POSTED, VIP_JOURNAL_POSTED, identity, NULL, err);
}

void vip_journal_rows_free(vip_journal_row *rows, size_t count)
{
    for (size_t i = 0; rows && i < count; i++)
        vip_journal_row_clear(&rows[i]);
    free(rows);
}

int vip_journal_list(vip_journal *j, vip_journal_state state, vip_journal_row **rows, size_t *count,
                     vip_error *err)
{
    *rows = NULL;
    *count = 0;
    sqlite3_stmt *st = stmt(j, ST_LIST, err);
    if (!st)
        return err ? err->code : VIP_ERR_INTERNAL;
    sqlite3_bind_text(st, 1, vip_journal_state_name(state), -1, SQLITE_STATIC);
    vip_journal_row *list = NULL;
    size_t n = 0, cap = 0;
    int rc, result = VIP_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t grown = cap ? cap * 2 : 16;
            vip_journal_row *bigger = realloc(list, grown * sizeof *list);
            if (!bigger) {
                result = vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", j->path);
                break;
            }
            list = bigger;
            cap = grown;
        }
        if (read_row(st, &list[n]) != VIP_OK) {
            result = vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", j->path);
            break;
        }
        n++;
    }
    if (result == VIP_OK && rc != SQLITE_DONE)
        result = db_error(j, rc, err, "listing rows");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (result != VIP_OK) {
        vip_journal_rows_free(list, n);
        return result;
    }
    *rows = list;
    *count = n;
    return VIP_OK;
}

int vip_journal_count(vip_journal *j, vip_journal_state state, size_t *count, vip_error *err)
{
    enum stmt_id id = state == VIP_JOURNAL_NOT_FOUND ? ST_COUNT_ALL : ST_COUNT;
    sqlite3_stmt *st = stmt(j, id, err);
    if (!st)
        return err ? err->code : VIP_ERR_INTERNAL;
    if (id == ST_COUNT)
        sqlite3_bind_text(st, 1, vip_journal_state_name(state), -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), result = VIP_OK;
    if (rc == SQLITE_ROW)
        *count = (size_t)sqlite3_column_int64(st, 0);
    else
        result = db_error(j, rc, err, "counting rows");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}
