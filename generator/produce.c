#include "produce.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <unicode/utf8.h>

#include "case.h"
#include "catalog.h"
#include "deliver.h"
#include "fonts.h"
#include "impose.h"
#include "lang.h"
#include "layout.h"
#include "outfile.h"
#include "pdf.h"
#include "template.h"
#include "text.h"

#define MAX_LANGS 8

/* What one row came to; workers hand these back to the parent through a file. */
typedef struct outcome {
    size_t row, line;
    char ref[64];
    char lang[16];
    int ok;
    int finished;        /* ok or error is final; otherwise the row is still to be produced (pending) */
    char file[512];
    size_t pages;
    int described;       /* message already names row, line and column (a validation problem) */
    char column[32];
    char message[1100];
    int produce;         /* the letter is to be made in this run (not one the journal says is done) */
    char channel[8];     /* delivery: email, post, none ("" without delivery) */
    char delivery[16];   /* delivery: what became of it (vip_deliver_status_name) */
    char message_id[160];
} outcome;

/* Everything loaded once per run and shared by every document (and, after fork, by every worker). */
typedef struct resources {
    vip_fontset *fonts;
    vip_text *text;
    vip_template *tmpl;
    vip_catalog *catalogs[MAX_LANGS];
    vip_error catalog_errors[MAX_LANGS];
    int catalog_tried[MAX_LANGS];
    vip_layout_options layout;
    const vip_produce_paths *paths;
} resources;

static void quiet(void *user, const char *message)
{
    (void)user;
    (void)message;
}

static void resources_free(resources *r)
{
    for (int i = 0; i < MAX_LANGS; i++)
        vip_catalog_destroy(r->catalogs[i]);
    vip_template_destroy(r->tmpl);
    vip_text_destroy(r->text);
    vip_fontset_destroy(r->fonts);
}

/* The force's configuration in the template: its name, addresses and numbers, and its logo for logo.png. */
static int apply_force(vip_template *tmpl, const vip_settings *s, vip_error *err)
{
    if (!s)
        return VIP_OK;
    const struct {
        const char *param, *value;
    } force[] = {{"force_name", s->force_name},       {"force_address", s->force_address},
                 {"force_website", s->force_website}, {"force_phone", s->force_phone},
                 {"force_email", s->force_email}};
    for (size_t i = 0; i < sizeof force / sizeof force[0]; i++)
        if (force[i].value && *force[i].value && vip_template_set_param(tmpl, force[i].param, force[i].value, err))
            return err->code;
    if (s->force_logo && vip_template_replace_image(tmpl, "logo.png", s->force_logo, err))
        return vip_error_prefix(err, "the logo in vipgen.conf [force]: ");
    return VIP_OK;
}

static int load_common(resources *r, const vip_produce_paths *paths, const char *template_name, vip_error *err)
{
    char tpath[1024], schema[1024];
    snprintf(tpath, sizeof tpath, "%s/%s", paths->templates, template_name);
    snprintf(schema, sizeof schema, "%s/template.rng", paths->templates);
    r->paths = paths;
    vip_layout_default_options(&r->layout);
    if (!(r->fonts = vip_fontset_load(paths->fonts, err)) || !(r->text = vip_text_create(r->fonts, err)) ||
        !(r->tmpl = vip_template_load(tpath, schema, err)))
        return err->code;
    return apply_force(r->tmpl, paths->settings, err);
}

static int lang_index(const char *tag)
{
    size_t n;
    const vip_lang *all = vip_lang_all(&n);
    for (size_t i = 0; i < n && i < MAX_LANGS; i++)
        if (strcmp(all[i].tag, tag) == 0)
            return (int)i;
    return -1;
}

/* The catalogue of a language, loaded on first use. Units that fall back to English are listed once here, so
 * that a batch says it once rather than once per letter. */
static vip_catalog *catalog_for(resources *r, const char *tag, vip_error *err)
{
    int i = lang_index(tag);
    if (i < 0) {
        vip_lang_find(tag, err);
        return NULL;
    }
    if (!r->catalog_tried[i]) {
        r->catalog_tried[i] = 1;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.xlf", r->paths->translations, tag);
        r->catalogs[i] = vip_catalog_load(path, &r->catalog_errors[i]);
        vip_catalog *c = r->catalogs[i];
        for (size_t u = 0; c && u < vip_catalog_unit_count(c); u++) {
            vip_unit_status st = vip_catalog_unit_status(c, u);
            if (st != VIP_UNIT_TRANSLATED)
                fprintf(stderr, "vipgen: %s:%d: unit %s %s; the English text is used\n", path,
                        vip_catalog_unit_line(c, u), vip_catalog_unit_id(c, u),
                        st == VIP_UNIT_INITIAL ? "is not translated yet (state initial)" : "has no translation");
        }
    }
    if (!r->catalogs[i] && err)
        *err = r->catalog_errors[i];
    return r->catalogs[i];
}

/* template + catalogue + row → pages → PDF at path. What the document was written with but should not have
 * (more pages than the template allows, an address too tall for the window) goes into note (may be NULL). */
static int make_document(resources *r, const char *lang, const vip_case_row *row, const char *path, size_t *pages,
                         char *note, size_t note_size, vip_error *err)
{
    vip_warn_sink silent = {quiet, NULL};
    vip_catalog *cat = catalog_for(r, lang, err);
    if (!cat)
        return err->code;
    vip_doc *doc = vip_template_merge(r->tmpl, cat, row, &silent, err);
    vip_page_doc *pd = doc ? vip_layout_document(r->text, doc, &r->layout, err) : NULL;
    int rc = pd ? vip_pdf_write(pd, path, err) : err->code;
    if (!rc && pages)
        *pages = pd->page_count;
    if (note && note_size)
        note[0] = '\0';
    if (!rc && note && doc->max_pages > 0 && pd->page_count > (size_t)doc->max_pages)
        snprintf(note, note_size, "warning: the letter runs to %zu pages, more than %d, even with its type scaled down",
                 pd->page_count, doc->max_pages);
    if (!rc && note && pd->address_overflow > 0) {
        size_t used = strlen(note);
        snprintf(note + used, note_size - used, "%swarning: the address is %.1f mm too tall for the envelope window",
                 used ? "; " : "", pd->address_overflow * 25.4 / 72);
    }
    vip_page_doc_destroy(pd);
    vip_doc_destroy(doc);
    return rc;
}

static void add_characters(unsigned char *seen, const char *s)
{
    if (!s)
        return;
    int32_t i = 0, len = (int32_t)strlen(s);
    while (i < len) {
        UChar32 cp;
        U8_NEXT(s, i, len, cp);
        if (cp >= 0)
            seen[cp >> 3] |= (unsigned char)(1u << (cp & 7));
    }
}

/* Once, before the workers start (they share it): each font a batch's languages use is prepared for the batch's
 * many subsets, and a CFF font is cut down to the characters the batch can print (see
 * vip_fontset_prepare_subsetting): its catalogues, its rows, and what ICU writes for dates and numbers. A language
 * with only a row or two is left alone: subsetting its font unprepared costs less than preparing it. */
static int prepare_fonts(resources *r, const vip_case_set *set, const size_t *task_row, size_t tasks, vip_error *err)
{
    enum { WORTH_PREPARING = 3 };
    size_t per_lang[MAX_LANGS] = {0};
    for (size_t k = 0; k < tasks; k++) {
        int i = lang_index(set->rows[task_row[k]].lang);
        if (i >= 0)
            per_lang[i]++;
    }
    if (tasks < WORTH_PREPARING)
        return VIP_OK;
    unsigned char *seen = calloc(0x110000 / 8, 1);
    uint32_t *repertoire = NULL;
    if (!seen)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    for (uint32_t cp = 0x20; cp < 0x7F; cp++)
        seen[cp >> 3] |= (unsigned char)(1u << (cp & 7));
    /* Dates and numbers as ICU writes them in Chinese: CJK punctuation, the date characters and numerals. */
    add_characters(seen, "\u3000\u3001\u3002\u300C\u300D\uFF08\uFF09\uFF0C\uFF1A\uFF1B\uFF01\uFF1F"
                         "\u5E74\u6708\u65E5\u661F\u671F\u3007\u4E00\u4E8C\u4E09\u56DB\u4E94\u516D\u4E03"
                         "\u516B\u4E5D\u5341");
    for (size_t k = 0; k < tasks; k++)
        for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
            add_characters(seen, set->rows[task_row[k]].value[f]);
    for (int i = 0; i < MAX_LANGS; i++)
        for (size_t u = 0; per_lang[i] && r->catalogs[i] && u < vip_catalog_unit_count(r->catalogs[i]); u++)
            add_characters(seen, vip_catalog_unit_text(r->catalogs[i], u));
    size_t n = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        n += (seen[cp >> 3] >> (cp & 7)) & 1;
    if (!(repertoire = malloc(n * sizeof *repertoire))) {
        free(seen);
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    }
    n = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++)
        if ((seen[cp >> 3] >> (cp & 7)) & 1)
            repertoire[n++] = cp;
    /* Latin: every letter has some. */
    vip_fontset_prepare_subsetting(r->fonts, "Latn", "en", repertoire, n);
    size_t count;
    const vip_lang *all = vip_lang_all(&count);
    for (size_t i = 0; i < count && i < MAX_LANGS; i++)
        if (per_lang[i] >= WORTH_PREPARING)
            vip_fontset_prepare_subsetting(r->fonts, all[i].script, all[i].tag, repertoire, n);
    free(seen);
    free(repertoire);
    return VIP_OK;
}

/* The file a row's letter goes to: the crime reference with '/' as '-', then the language. A name that would begin
 * with '-' (crime reference "-rf") gets a leading '_', so that no shell tool run over the directory takes it for
 * an option; '_' is not allowed in a crime reference, so this cannot make one row's name another's. */
static void file_name_for(const char *crime_ref, const char *lang, char *out, size_t size)
{
    char ref[64];
    snprintf(ref, sizeof ref, "%s", crime_ref);
    for (char *p = ref; *p; p++)
        if (*p == '/')
            *p = '-';
    snprintf(out, size, "%s%s_%s.pdf", ref[0] == '-' ? "_" : "", ref, lang);
}

/* Warnings raised while one row's letter is made (a character no font has) are that row's: they go into its
 * outcome, so that stderr and the report name the row and its crime reference. */
typedef struct row_warnings {
    char text[600];
    int active;
} row_warnings;

static void collect_warning(void *user, const char *message)
{
    row_warnings *w = user;
    if (!w->active) {
        fprintf(stderr, "vipgen: warning: %s\n", message);
        return;
    }
    if (strstr(w->text, message))
        return; /* the same character in the same place, laid out again (page fitting) */
    size_t used = strlen(w->text);
    snprintf(w->text + used, sizeof w->text - used, "%swarning: %s", used ? "; " : "", message);
}

static void produce_row(resources *r, const vip_case_row *row, const char *out_dir, outcome *o)
{
    char name[128];
    file_name_for(row->value[VIP_CASE_CRIME_REF], row->lang, name, sizeof name);
    snprintf(o->file, sizeof o->file, "%s/%s", out_dir, name);
    vip_error err = {0};
    row_warnings warnings = {.active = 1};
    if (row->warnings[0])
        collect_warning(&warnings, row->warnings);
    vip_text_set_warnings(r->text, (vip_warn_sink){collect_warning, &warnings});
    int rc = make_document(r, row->lang, row, o->file, &o->pages, o->message, sizeof o->message, &err);
    vip_text_set_warnings(r->text, (vip_warn_sink){NULL, NULL});
    if (rc) {
        o->ok = 0;
        snprintf(o->message, sizeof o->message, "%s", err.message);
        o->file[0] = '\0';
    } else {
        o->ok = 1; /* o->message holds the warnings, if any */
        size_t used = strlen(o->message);
        if (warnings.text[0])
            snprintf(o->message + used, sizeof o->message - used, "%s%s", used ? "; " : "", warnings.text);
    }
    o->finished = 1;
}

static int by_row(const void *a, const void *b)
{
    const outcome *x = *(const outcome *const *)a, *y = *(const outcome *const *)b;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Rows by file name ignoring case, then in file order. */
typedef struct named_row {
    const char *name;
    size_t i;
} named_row;

static int by_file_name(const void *a, const void *b)
{
    const named_row *x = a, *y = b;
    int c = strcasecmp(x->name, y->name);
    return c ? c : x->i < y->i ? -1 : x->i > y->i;
}

static void csv_field(FILE *out, const char *s, int last)
{
    csv_fwrite(out, s, strlen(s));
    fputc(last ? '\n' : ',', out);
}

/* report.csv: one line per row, what was produced for whom or why not; written whole or not at all. Rows not
 * finished yet are "pending": the report written before the letters says which rows this batch is about, so that
 * a report from an earlier batch never survives one that failed or was killed. */
static int write_report(const char *path, outcome *const *o, size_t n, vip_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
    char pending[200];
    snprintf(pending, sizeof pending,
             "not finished: the batch (vipgen process %ld) has not ended; the letter may or may not have been written",
             (long)getpid());
    fputs("row,line,crime_ref,language,status,file,pages,column,message,channel,delivery,message_id\n", out);
    for (size_t i = 0; i < n; i++) {
        char num[3][32];
        snprintf(num[0], sizeof num[0], "%zu", o[i]->row);
        snprintf(num[1], sizeof num[1], "%zu", o[i]->line);
        snprintf(num[2], sizeof num[2], "%zu", o[i]->pages);
        const char *file = strrchr(o[i]->file, '/');
        int ok = o[i]->finished && o[i]->ok;
        csv_field(out, num[0], 0);
        csv_field(out, num[1], 0);
        csv_field(out, o[i]->ref, 0);
        csv_field(out, o[i]->lang, 0);
        csv_field(out, !o[i]->finished ? "pending" : ok ? "ok" : "error", 0);
        csv_field(out, file ? file + 1 : o[i]->file, 0);
        csv_field(out, ok ? num[2] : "", 0);
        csv_field(out, o[i]->column, 0);
        csv_field(out, o[i]->finished ? o[i]->message : pending, 0);
        csv_field(out, o[i]->channel, 0);
        csv_field(out, o[i]->delivery, 0);
        csv_field(out, o[i]->message_id, 1);
    }
    if (fclose(out) != 0) {
        free(buf);
        return vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
    }
    int rc = vip_outfile_write_whole(path, buf, len, err);
    free(buf);
    return rc;
}

/* Progress on a terminal (stderr, unless --quiet): letters done of all, the rate, the time left. */
static struct {
    int on;
    size_t total, base;          /* base: rows finished before the round now running */
    struct timespec start;
} progress;

static void progress_show(size_t done)
{
    if (!progress.on || !progress.total)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - progress.start.tv_sec) + (now.tv_nsec - progress.start.tv_nsec) / 1e9;
    double rate = secs > 0.05 ? (double)done / secs : 0;
    long left = rate > 0 ? (long)((double)(progress.total - done) / rate + 0.5) : -1;
    if (left >= 0)
        fprintf(stderr, "\r  %zu of %zu letters, %.0f a second, %ld:%02ld left   ", done, progress.total, rate,
                left / 60, left % 60);
    else
        fprintf(stderr, "\r  %zu of %zu letters   ", done, progress.total);
}

static void progress_end(void)
{
    if (progress.on)
        fputs("\r\033[K", stderr);
}

/* What a worker hands back for one row, appended to its file as soon as the row is done. */
typedef struct record {
    size_t k;
    outcome o;
} record;

/* Why a worker's rows were left: "worker process ended by signal 9". */
static void describe_end(int status, char *out, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(out, size, "worker process ended by signal %d", WTERMSIG(status));
    else
        snprintf(out, size, "worker process failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* A worker: produces rows todo[w], todo[w + jobs], ... and writes each outcome to fd when it is done, in one
 * write, so that a worker killed midway has recorded every row it finished. It ends with its parent: a batch
 * whose parent is killed does not go on writing letters nobody will report. */
static void worker(resources *r, const vip_case_set *set, const size_t *task_row, const size_t *todo, size_t m,
                   int w, int jobs, const char *out_dir, outcome *o, int fd, pid_t parent)
{
    signal(SIGTERM, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(4); /* the parent is gone already */
    for (size_t i = (size_t)w; i < m; i += (size_t)jobs) {
        record rec = {.k = todo[i]};
        produce_row(r, &set->rows[task_row[todo[i]]], out_dir, &o[todo[i]]);
        rec.o = o[todo[i]];
        if (write(fd, &rec, sizeof rec) != (ssize_t)sizeof rec)
            _exit(3);
    }
    _exit(0);
}

/* One round: the rows todo[0..m) shared by jobs worker processes. Every row ends finished. The rows of a worker that died: the one it was making fails with why; the ones it never reached go
 * to retry[] when given (another round), else fail too. */
static void run_round(resources *r, const vip_case_set *set, const size_t *task_row, const size_t *todo, size_t m,
                      size_t tasks, int jobs, const char *out_dir, outcome *o, size_t *retry, size_t *nretry)
{
    pid_t pids[64];
    FILE *files[64];
    pid_t parent = getpid();
    for (int w = 0; w < jobs; w++) {
        pids[w] = -1;
        files[w] = tmpfile();
        fflush(NULL);
        pid_t pid = files[w] ? fork() : -1;
        if (pid == 0)
            worker(r, set, task_row, todo, m, w, jobs, out_dir, o, fileno(files[w]), parent);
        if (pid < 0) {
            /* No process to share the work with: this one does the worker's rows itself. */
            for (size_t i = (size_t)w; i < m; i += (size_t)jobs)
                produce_row(r, &set->rows[task_row[todo[i]]], out_dir, &o[todo[i]]);
            continue;
        }
        pids[w] = pid;
    }
    int reaped[64] = {0}, statuses[64] = {0};
    while (progress.on) {
        /* Each finished row is one record in its worker's file: their sizes tell how far the batch is. */
        size_t done = 0;
        int alive = 0;
        for (int w = 0; w < jobs; w++) {
            struct stat st;
            if (files[w] && fstat(fileno(files[w]), &st) == 0)
                done += (size_t)st.st_size / sizeof(record);
            if (pids[w] > 0 && !reaped[w]) {
                pid_t got = waitpid(pids[w], &statuses[w], WNOHANG);
                if (got == pids[w] || (got < 0 && errno != EINTR))
                    reaped[w] = 1;
                else
                    alive = 1;
            }
        }
        progress_show(progress.base + done);
        if (!alive)
            break;
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    for (int w = 0; w < jobs; w++) {
        if (files[w] && pids[w] > 0) {
            int status = statuses[w];
            while (!reaped[w] && waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
                ;
            rewind(files[w]);
            record rec;
            while (fread(&rec, sizeof rec, 1, files[w]) == 1)
                if (rec.k < tasks && rec.o.finished)
                    o[rec.k] = rec.o;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                char why[100];
                describe_end(status, why, sizeof why);
                int first = 1;
                for (size_t i = (size_t)w; i < m; i += (size_t)jobs) {
                    outcome *t = &o[todo[i]];
                    if (t->finished)
                        continue;
                    if (first || !retry) {
                        /* The row in hand when it died may be why it died: not tried again. */
                        snprintf(t->message, sizeof t->message, "not produced: %s%s", why,
                                 first ? " while making this letter" : "");
                        t->ok = 0;
                        t->file[0] = '\0';
                        t->finished = 1;
                    } else {
                        retry[(*nretry)++] = todo[i];
                    }
                    first = 0;
                }
            }
        }
        if (files[w])
            fclose(files[w]);
    }
}

/* The rows' letters in jobs worker processes; rows a dead worker never reached get one more round. */
static int run_workers(resources *r, const vip_case_set *set, const size_t *task_row, size_t tasks, int jobs,
                       const char *out_dir, outcome *o, vip_error *err)
{
    size_t *todo = malloc((tasks + 1) * sizeof *todo), *retry = malloc((tasks + 1) * sizeof *retry), nretry = 0;
    if (!todo || !retry) {
        free(todo);
        free(retry);
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < tasks; k++)
        todo[k] = k;
    if (jobs <= 1) {
        for (size_t k = 0; k < tasks; k++) {
            produce_row(r, &set->rows[task_row[k]], out_dir, &o[k]);
            progress_show(progress.base + k + 1);
        }
    } else {
        run_round(r, set, task_row, todo, tasks, tasks, jobs, out_dir, o, retry, &nretry);
    }
    if (nretry) {
        /* In a worker again, not here: what ended the first may end this process too. */
        fprintf(stderr, "vipgen: a worker process ended early; the %zu row%s it had not reached %s produced again\n",
                nretry, nretry == 1 ? "" : "s", nretry == 1 ? "is" : "are");
        int again = (size_t)jobs > nretry / 8 + 1 ? (int)(nretry / 8 + 1) : jobs;
        run_round(r, set, task_row, retry, nretry, tasks, again, out_dir, o, NULL, NULL);
    }
    free(todo);
    free(retry);
    return VIP_OK;
}

/* The output directory, made (private unless the file mode says otherwise) or checked before anything is
 * rendered: a bad one is one clear error rather than a failure per row. */
static int prepare_out_dir(const char *dir, vip_error *err)
{
    mode_t mode = vip_outfile_mode();
    if (mkdir(dir, 0700 | mode | ((mode & 0444) >> 2)) == 0)
        return VIP_OK;
    if (errno != EEXIST)
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot create directory: %s", dir, strerror(errno));
    struct stat st, lst;
    if (stat(dir, &st) != 0) {
        int e = errno;
        if (lstat(dir, &lst) == 0 && S_ISLNK(lst.st_mode))
            return vip_error_set(err, VIP_ERR_IO, "%s: the output directory is a symlink to nothing (%s)", dir,
                                 strerror(e));
        return vip_error_set(err, VIP_ERR_IO, "%s: the output directory cannot be used: %s", dir, strerror(e));
    }
    if (!S_ISDIR(st.st_mode))
        return vip_error_set(err, VIP_ERR_IO, "%s: the output directory is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: the output directory is not writable: %s", dir, strerror(errno));
    return VIP_OK;
}

/* DIR/.vipgen.lock, held (flock, shared with the workers) while a batch writes into DIR: a second batch into the
 * same directory would mix its letters with the first's and replace its report. Returns the descriptor, or -1. */
static int lock_out_dir(const char *dir, vip_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/.vipgen.lock", dir);
    int writable = 1;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EACCES) { /* another user's lock file: locking needs no write access */
        writable = 0;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot lock the output directory: %s", path,
                             e == ELOOP ? "it is a symlink" : e == EINVAL ? "not a regular file" : strerror(e)),
               -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        long pid = strtol(holder, NULL, 10);
        char who[40] = "";
        if (pid > 0)
            snprintf(who, sizeof who, " (process %ld)", pid);
        close(fd);
        if (e == EWOULDBLOCK)
            return vip_error_set(err, VIP_ERR_IO,
                                 "%s: another vipgen batch%s is writing into this directory; wait for it to finish "
                                 "or choose another directory", dir, who),
                   -1;
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot lock the output directory: %s", path, strerror(e)), -1;
    }
    if (writable) {
        char me[32];
        int len = snprintf(me, sizeof me, "%ld\n", (long)getpid());
        /* The pid only serves the message above: a lock file without it still locks. */
        if (ftruncate(fd, 0) == 0 && pwrite(fd, me, (size_t)len, 0) != len)
            (void)ftruncate(fd, 0);
    }
    return fd;
}

/* Days since 1970-01-01 of a date (proleptic Gregorian; H. Hinnant's days_from_civil). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Working days from a to b (Monday to Friday; bank holidays are not known here), for the Code's deadlines. */
static int working_days_between(const int a[3], const int b[3])
{
    long x = days_from_civil(a[0], a[1], a[2]), y = days_from_civil(b[0], b[1], b[2]);
    int days = 0;
    for (long t = x + 1; t <= y && days < 1000; t++) {
        long weekday = ((t % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday (4); 0 is Sunday */
        days += weekday != 0 && weekday != 6;
    }
    return days;
}

/* The end of a batch, for the bureau and its supervisors: counts per language, channel and status, the rows that
 * need an officer, and what the data shows against the Victims' Code (the daily deficiency list). */
static void print_summary(FILE *out, const vip_case_set *set, outcome *const *order, size_t total, int delivering,
                          const char *only_ref)
{
    size_t n;
    const vip_lang *langs = vip_lang_all(&n);
    fprintf(out, "summary:\n  letters per language:");
    for (size_t l = 0; l < n; l++) {
        size_t count = 0;
        for (size_t i = 0; i < total; i++)
            count += order[i]->ok && !strcmp(order[i]->lang, langs[l].tag);
        if (count)
            fprintf(out, " %s %zu", langs[l].tag, count);
    }
    size_t ok = 0, bad = 0;
    for (size_t i = 0; i < total; i++)
        order[i]->ok ? ok++ : bad++;
    fprintf(out, "\n  rows: %zu with a letter, %zu without\n", ok, bad);
    if (delivering) {
        static const char *const channels[] = {"email", "post", "none"};
        fprintf(out, "  channel:");
        for (size_t k = 0; k < 3; k++) {
            size_t count = 0;
            for (size_t i = 0; i < total; i++)
                count += !strcmp(order[i]->channel, channels[k]);
            fprintf(out, " %s %zu", channels[k], count);
        }
        fprintf(out, "\n  delivery:");
        for (int s = VIP_DELIVER_NOT_SENT; s <= VIP_DELIVER_CHANGED; s++) {
            size_t count = 0;
            for (size_t i = 0; i < total; i++)
                count += order[i]->delivery[0] && !strcmp(order[i]->delivery, vip_deliver_status_name(s));
            if (count)
                fprintf(out, " %s %zu", vip_deliver_status_name(s), count);
        }
        fputc('\n', out);
    }
    /* Rows an officer must act on: no letter, withheld, no route, failed, uncertain, changed. */
    size_t officer = 0;
    for (size_t i = 0; i < total; i++) {
        const outcome *t = order[i];
        const char *why = !t->ok                                   ? "no letter"
                          : !strcmp(t->delivery, "withheld")        ? "withheld"
                          : !strcmp(t->delivery, "no_route")        ? "no contact route"
                          : !strcmp(t->delivery, "failed")          ? "not delivered"
                          : !strcmp(t->delivery, "uncertain")       ? "uncertain"
                          : !strcmp(t->delivery, "changed")         ? "changed since sent"
                                                                    : NULL;
        if (!why)
            continue;
        if (!officer++)
            fprintf(out, "  for an officer:\n");
        fprintf(out, "    row %zu (line %zu)%s%s%s%s: %s\n", t->row, t->line, t->ref[0] ? " " : "", t->ref,
                t->lang[0] ? " " : "", t->lang, why);
    }
    /* The Code's requirements, as far as the data shows them. */
    size_t flags = 0;
    for (size_t i = 0; i < set->row_count; i++) {
        const vip_case_row *row = &set->rows[i];
        if (only_ref && strcmp(row->value[VIP_CASE_CRIME_REF], only_ref))
            continue;
        char what[300] = "";
        if (!strcmp(row->value[VIP_CASE_NEEDS_ASSESSMENT], "not_yet"))
            snprintf(what + strlen(what), sizeof what - strlen(what), "%sneeds assessment not yet done",
                     what[0] ? "; " : "");
        if (!strcmp(row->value[VIP_CASE_REFERRAL], "not_applicable"))
            snprintf(what + strlen(what), sizeof what - strlen(what), "%sno referral to support offered",
                     what[0] ? "; " : "");
        int late = working_days_between(row->reported_date, row->letter_date);
        if (late > 1)
            snprintf(what + strlen(what), sizeof what - strlen(what), "%sletter dated %d working days after the "
                     "report (due within 1)", what[0] ? "; " : "", late);
        if (!what[0])
            continue;
        if (!flags++)
            fprintf(out, "  Victims' Code, as the data shows it:\n");
        fprintf(out, "    row %zu (line %zu) %s: %s\n", row->row, row->line, row->value[VIP_CASE_CRIME_REF], what);
    }
    for (size_t p = 0; p < set->problem_count; p++) {
        const vip_case_problem *pr = &set->problems[p];
        if (!strstr(pr->message, "enhanced_rights is yes") || (only_ref && strcmp(pr->ref, only_ref)))
            continue;
        if (!flags++)
            fprintf(out, "  Victims' Code, as the data shows it:\n");
        fprintf(out, "    row %zu (line %zu) %s: enhanced rights without a reason\n", pr->row, pr->line, pr->ref);
    }
}

/* The catalogue of a language for the delivery stage (the email texts). */
static vip_catalog *deliver_catalog(void *user, const char *lang)
{
    return catalog_for(user, lang, NULL);
}

int vip_produce_letters(const vip_produce_paths *paths, const char *cases_path, const char *out_dir,
                        const vip_letters_options *options, vip_letters_result *result, vip_error *err)
{
    memset(result, 0, sizeof *result);
    const char *only_ref = options->only_ref;
    int jobs = options->jobs;
    vip_deliver *deliver = NULL;
    vip_deliver_item *items = NULL;
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    resources r = {0};
    int lock = -1;
    vip_case_set *set = vip_case_read_with(cases_path, paths->settings ? &paths->settings->import : NULL, err);
    if (!set)
        return err->code;
    if (options->check_only) {
        /* Check first, then act: every row and every problem, nothing produced. */
        size_t shown = 0;
        for (size_t p = 0; p < set->problem_count; p++) {
            const vip_case_problem *pr = &set->problems[p];
            if (only_ref && strcmp(pr->ref, only_ref))
                continue;
            fprintf(stderr, "vipgen: %s: %s\n", cases_path, pr->message);
            shown++;
        }
        for (size_t i = 0; i < set->row_count; i++) {
            const vip_case_row *row = &set->rows[i];
            if (only_ref && strcmp(row->value[VIP_CASE_CRIME_REF], only_ref))
                continue;
            if (row->email_problem[0])
                fprintf(stderr, "vipgen: %s: row %zu (line %zu), column email: %s; the letter would be posted\n",
                        cases_path, row->row, row->line, row->email_problem);
            if (row->warnings[0])
                fprintf(stderr, "vipgen: %s: row %zu (line %zu): warning: %s\n", cases_path, row->row, row->line,
                        row->warnings);
        }
        result->rows = set->total_rows;
        result->failed = shown;
        for (size_t i = 0; i < set->row_count; i++)
            result->written += !only_ref || !strcmp(set->rows[i].value[VIP_CASE_CRIME_REF], only_ref);
        fprintf(stderr, "vipgen: %s: %zu row%s checked: %zu good, %zu with problems; nothing was produced (--check)\n",
                cases_path, result->written + shown, result->written + shown == 1 ? "" : "s", result->written, shown);
        vip_case_set_destroy(set);
        return VIP_OK;
    }
    size_t slots = set->row_count + set->problem_count + 1;
    outcome *o = calloc(slots, sizeof *o);
    outcome *dups = calloc(set->row_count + 1, sizeof *dups);
    outcome **order = calloc(slots, sizeof *order);
    size_t *task_row = calloc(set->row_count + 1, sizeof *task_row);
    named_row *by_name = calloc(set->row_count + 1, sizeof *by_name);
    size_t *first_of = calloc(set->row_count + 1, sizeof *first_of);
    char (*names)[128] = calloc(set->row_count + 1, sizeof *names);
    int rc = VIP_OK;
    if (!o || !dups || !order || !task_row || !by_name || !first_of || !names) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = prepare_out_dir(out_dir, err)))
        goto done;
    if ((lock = lock_out_dir(out_dir, err)) < 0) {
        rc = err->code;
        goto done;
    }
    /* What a killed batch or worker left half-written here is removed; what this run writes is newer. */
    vip_outfile_remove_stale(out_dir, &started, NULL, NULL);
    if ((rc = load_common(&r, paths, "letter.xml", err)))
        goto done;
    if (options->deliver) {
        /* Before any letter is made: the journal, and the mail server checked (one error, nothing sent). */
        char tpath[1024];
        snprintf(tpath, sizeof tpath, "%s/letter.xml", paths->templates);
        vip_deliver_options d = {.out_dir = out_dir,
                                 .journal_path = options->journal_path,
                                 .eml_dir = options->eml_dir,
                                 .smtp_url = options->smtp_url,
                                 .resend = options->resend,
                                 .resend_count = options->resend_count,
                                 .settings = paths->settings,
                                 .template_path = tpath};
        if (!paths->settings) {
            rc = vip_error_set(err, VIP_ERR_INTERNAL, "delivery needs the configuration");
            goto done;
        }
        if (!(deliver = vip_deliver_open(&d, err)) ||
            !(items = calloc(set->row_count + 1, sizeof *items))) {
            rc = deliver ? vip_error_set(err, VIP_ERR_NOMEM, "out of memory") : err->code;
            goto done;
        }
    }

    /* The rows to produce, in file order. A row whose file name (compared ignoring case, as a Windows share
     * would) is an earlier row's is refused, so that no letter silently replaces another: NC/2024/1 and
     * NC-2024-1 give one name. */
    size_t candidates = 0;
    for (size_t i = 0; i < set->row_count; i++) {
        const vip_case_row *row = &set->rows[i];
        if (only_ref && strcmp(row->value[VIP_CASE_CRIME_REF], only_ref) != 0)
            continue;
        file_name_for(row->value[VIP_CASE_CRIME_REF], row->lang, names[i], sizeof names[i]);
        by_name[candidates++] = (named_row){names[i], i};
    }
    qsort(by_name, candidates, sizeof *by_name, by_file_name);
    for (size_t a = 0; a < candidates; a++)
        first_of[by_name[a].i] = a > 0 && strcasecmp(by_name[a - 1].name, by_name[a].name) == 0
                                     ? first_of[by_name[a - 1].i]
                                     : by_name[a].i;
    size_t tasks = 0, n = 0;
    for (size_t i = 0; i < set->row_count; i++) {
        const vip_case_row *row = &set->rows[i];
        if (only_ref && strcmp(row->value[VIP_CASE_CRIME_REF], only_ref) != 0)
            continue;
        outcome *t = &o[tasks];
        *t = (outcome){.row = row->row, .line = row->line};
        snprintf(t->ref, sizeof t->ref, "%s", row->value[VIP_CASE_CRIME_REF]);
        snprintf(t->lang, sizeof t->lang, "%s", row->lang);
        snprintf(t->file, sizeof t->file, "%s/%s", out_dir, names[i]);
        if (first_of[i] != i) {
            const vip_case_row *first = &set->rows[first_of[i]];
            t->finished = 1;
            t->file[0] = '\0';
            snprintf(t->column, sizeof t->column, "crime_ref");
            snprintf(t->message, sizeof t->message,
                     "row %zu (crime reference %s, language %s) already has the file name %s%s; only the first is "
                     "produced", first->row, first->value[VIP_CASE_CRIME_REF], first->lang, names[first_of[i]],
                     strcmp(names[first_of[i]], names[i]) ? " (names are compared ignoring case)" : "");
            dups[n++] = *t;
            continue;
        }
        if (deliver) {
            /* What the journal says is done (sent, posted, uncertain, changed since) is not made again. */
            vip_deliver_item *it = &items[i];
            it->row = row;
            int wanted = vip_deliver_wanted(deliver, it, err);
            if (wanted < 0) {
                rc = err->code;
                goto done;
            }
            if (!wanted) {
                t->finished = 1;
                t->ok = 1;
                snprintf(t->message, sizeof t->message, "%s", it->reason);
                snprintf(t->channel, sizeof t->channel, "%s", it->channel);
                snprintf(t->delivery, sizeof t->delivery, "%s", vip_deliver_status_name(it->status));
                snprintf(t->message_id, sizeof t->message_id, "%s", it->message_id);
                dups[n++] = *t;
                continue;
            }
        }
        task_row[tasks++] = i;
    }
    /* Invalid rows and duplicates join the outcomes; under --ref, those with that crime reference. */
    size_t total = tasks;
    for (size_t k = 0; k < n; k++)
        o[total++] = dups[k];
    for (size_t p = 0; p < set->problem_count; p++) {
        const vip_case_problem *pr = &set->problems[p];
        if (only_ref && strcmp(pr->ref, only_ref) != 0)
            continue; /* a selection reports on the selected rows only */
        outcome *t = &o[total++];
        *t = (outcome){.row = pr->row, .line = pr->line, .ok = 0, .finished = 1, .described = 1};
        snprintf(t->ref, sizeof t->ref, "%s", pr->ref);
        snprintf(t->lang, sizeof t->lang, "%s", pr->lang);
        snprintf(t->column, sizeof t->column, "%s", pr->column);
        snprintf(t->message, sizeof t->message, "%.1000s", pr->message);
    }
    if (only_ref && total == 0) {
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: no valid row has crime reference %s", cases_path, only_ref);
        goto done;
    }
    for (size_t i = 0; i < total; i++)
        order[i] = &o[i];
    qsort(order, total, sizeof *order, by_row);
    /* A run for one reference has its own report: the full batch's report.csv stays as it was. */
    if (only_ref) {
        char ref[64];
        snprintf(ref, sizeof ref, "%s", only_ref);
        for (char *q = ref; *q; q++)
            if (*q == '/')
                *q = '-';
        snprintf(result->report, sizeof result->report, "%s/report-%s.csv", out_dir, ref);
    } else {
        snprintf(result->report, sizeof result->report, "%s/report.csv", out_dir);
    }
    /* Catalogues are loaded before the workers start, so each is read and checked once. */
    for (size_t k = 0; k < tasks; k++)
        catalog_for(&r, set->rows[task_row[k]].lang, NULL);
    /* The report names this batch's rows before any letter is written; if it cannot be written, nothing is. */
    if ((rc = write_report(result->report, order, total, err))) {
        vip_error_prefix(err, "nothing was produced: ");
        goto done;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs <= 0)
        jobs = cpus > 0 ? (int)cpus : 1;
    if (jobs > 64)
        jobs = 64;
    if ((size_t)jobs > tasks / 8 + 1)
        jobs = (int)(tasks / 8 + 1); /* small batches are not worth a process each */
    progress.on = !options->quiet && isatty(STDERR_FILENO);
    progress.total = tasks;
    progress.base = 0;
    clock_gettime(CLOCK_MONOTONIC, &progress.start);
    rc = prepare_fonts(&r, set, task_row, tasks, err);
    if (!rc)
        rc = run_workers(&r, set, task_row, tasks, jobs, out_dir, o, err);
    progress_end();
    if (rc)
        goto done;
    if (deliver) {
        /* Each letter made now goes to its victim, or is held for an officer. */
        vip_deliver_item *list = calloc(tasks + 1, sizeof *list);
        if (!list) {
            rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < tasks; k++) {
            list[k] = items[task_row[k]];
            list[k].pdf_path = o[k].ok ? o[k].file : NULL;
        }
        rc = vip_deliver_run(deliver, list, tasks, deliver_catalog, &r, err);
        for (size_t k = 0; k < tasks; k++) {
            if (!o[k].ok)
                continue;
            outcome *t = &o[k];
            snprintf(t->channel, sizeof t->channel, "%s", list[k].channel);
            snprintf(t->delivery, sizeof t->delivery, "%s", list[k].pdf_path && !rc ? vip_deliver_status_name(list[k].status) : "");
            snprintf(t->message_id, sizeof t->message_id, "%s", list[k].message_id);
            if (list[k].reason[0]) {
                size_t used = strlen(t->message);
                snprintf(t->message + used, sizeof t->message - used, "%s%s", used ? "; " : "", list[k].reason);
            }
            switch (list[k].status) {
            case VIP_DELIVER_SENT: result->sent++; break;
            case VIP_DELIVER_QUEUED: result->queued++; break;
            case VIP_DELIVER_POSTED: result->posted++; break;
            case VIP_DELIVER_WITHHELD:
            case VIP_DELIVER_NO_ROUTE: result->withheld++; break;
            case VIP_DELIVER_FAILED: result->undelivered++; break;
            case VIP_DELIVER_UNCERTAIN: result->uncertain++; break;
            default: break;
            }
        }
        free(list);
        if (rc)
            vip_error_prefix(err, "delivery stopped: ");
    }
    /* Rows the journal decided on before producing keep their outcome; the uncertain ones still count. */
    for (size_t i = tasks; deliver && i < total; i++)
        result->uncertain += !strcmp(o[i].delivery, "uncertain");
    for (size_t i = 0; i < total; i++) {
        const outcome *t = order[i];
        char who[100] = "";
        if (t->ref[0])
            snprintf(who, sizeof who, "[%s%s%s] ", t->ref, t->lang[0] ? " " : "", t->lang);
        if (t->ok) {
            result->written++;
            /* Warnings, and letters that did not reach their victim; a delivery that went well is in the report. */
            int quiet_ok = t->delivery[0] && strstr("sent queued posted already_done", t->delivery) &&
                           !strstr(t->message, "warning");
            if (t->message[0] && !quiet_ok)
                fprintf(stderr, "vipgen: %s: %srow %zu (line %zu): %s\n", cases_path, who, t->row, t->line, t->message);
            continue;
        }
        result->failed++;
        if (t->described)
            fprintf(stderr, "vipgen: %s: %s%s\n", cases_path, who, t->message);
        else
            fprintf(stderr, "vipgen: %s: %srow %zu (line %zu)%s%s: %s\n", cases_path, who, t->row, t->line,
                    t->column[0] ? ", column " : "", t->column, t->message);
    }
    result->rows = set->total_rows;
    if (!options->quiet)
        print_summary(stderr, set, order, total, deliver != NULL, only_ref);
    int report_rc = write_report(result->report, order, total, rc ? NULL : err);
    if (rc)
        goto done; /* the delivery's error stands; the report says what happened to each row */
    if ((rc = report_rc)) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used,
                 "; the report there lists this batch's rows as pending (see the lines above for each row)");
    }
done:
    vip_deliver_close(deliver);
    free(items);
    if (lock >= 0)
        close(lock);
    resources_free(&r);
    free(o);
    free(dups);
    free(order);
    free(task_row);
    free(by_name);
    free(first_of);
    free(names);
    vip_case_set_destroy(set);
    return rc;
}

/* A value for the booklet's case panel, isolated (FSI … PDI) so that it keeps its own direction in any language. */
static int set_isolated(vip_template *tmpl, const char *param, const char *value, vip_error *err)
{
    if (!value || !*value)
        return VIP_OK;
    size_t n = strlen(value) + 7;
    char *s = malloc(n);
    if (!s)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    snprintf(s, n, "\xE2\x81\xA8%s\xE2\x81\xA9", value);
    int rc = vip_template_set_param(tmpl, param, s, err);
    free(s);
    return rc;
}

int vip_produce_booklet(const vip_produce_paths *paths, const char *lang, const char *out_path,
                        const vip_booklet_options *options, vip_error *err)
{
    static const vip_booklet_options none = {0};
    if (!options)
        options = &none;
    resources r = {0};
    vip_doc *doc = NULL;
    vip_page_doc *pd = NULL;
    const vip_lang *l = vip_lang_find(lang, err);
    int rc = l ? load_common(&r, paths, "booklet.xml", err) : err->code;
    if (!rc && options->large_print)
        rc = vip_template_set_print(r.tmpl, "large-print", err);
    if (!rc && options->a5_booklet)
        rc = vip_template_set_print(r.tmpl, "a5-booklet", err);
    if (!rc && !((rc = set_isolated(r.tmpl, "case_ref", options->crime_ref, err)) ||
                 (rc = set_isolated(r.tmpl, "case_officer", options->officer, err)) ||
                 (rc = set_isolated(r.tmpl, "case_phone", options->phone, err)) ||
                 (rc = set_isolated(r.tmpl, "case_email", options->email, err)))) {
        vip_warn_sink silent = {quiet, NULL};
        vip_catalog *cat = catalog_for(&r, l->tag, err);
        /* Two-sided printing wants an even page count: a booklet that ends on an odd page gets a page that says it is
         * blank on purpose. */
        for (int pass = 0; !rc && pass < 2; pass++) {
            vip_page_doc_destroy(pd);
            vip_doc_destroy(doc);
            pd = NULL;
            if (!cat || !(doc = vip_template_merge(r.tmpl, cat, NULL, &silent, err)) ||
                !(pd = vip_layout_document(r.text, doc, &r.layout, err))) {
                rc = err->code ? err->code : VIP_ERR_INTERNAL;
                break;
            }
            if (pd->page_count % 2 == 0)
                break;
            rc = vip_template_set_param(r.tmpl, "pad_blank", "yes", err);
        }
        if (!rc && options->a5_booklet) {
            /* The A5 pages first, beside the target, then imposed into it. */
            size_t n = strlen(out_path) + 32;
            char *pages = malloc(n);
            if (!pages) {
                rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            } else {
                snprintf(pages, n, "%s.a5-pages.vipgen-tmp", out_path);
                rc = vip_pdf_write(pd, pages, err);
                if (!rc)
                    rc = vip_impose_booklet(pages, out_path, l->rtl, err);
                unlink(pages);
                free(pages);
            }
        } else if (!rc) {
            rc = vip_pdf_write(pd, out_path, err);
        }
    }
    vip_page_doc_destroy(pd);
    vip_doc_destroy(doc);
    resources_free(&r);
    return rc;
}
