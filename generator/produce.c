#include "produce.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unicode/utf8.h>

#include "case.h"
#include "catalog.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
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
    char file[512];
    size_t pages;
    int described;       /* message already names row, line and column (a validation problem) */
    char column[32];
    char message[1100];
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
    return VIP_OK;
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

static void file_name_for(const vip_case_row *row, char *out, size_t size)
{
    char ref[64];
    snprintf(ref, sizeof ref, "%s", row->value[VIP_CASE_CRIME_REF]);
    for (char *p = ref; *p; p++)
        if (*p == '/')
            *p = '-';
    snprintf(out, size, "%s_%s.pdf", ref, row->lang);
}

static void produce_row(resources *r, const vip_case_row *row, const char *out_dir, outcome *o)
{
    char name[128];
    file_name_for(row, name, sizeof name);
    snprintf(o->file, sizeof o->file, "%s/%s", out_dir, name);
    vip_error err = {0};
    if (make_document(r, row->lang, row, o->file, &o->pages, o->message, sizeof o->message, &err)) {
        o->ok = 0;
        snprintf(o->message, sizeof o->message, "%s", err.message);
        o->file[0] = '\0';
    } else {
        o->ok = 1; /* o->message holds the warnings, if any */
    }
}

static int by_row(const void *a, const void *b)
{
    const outcome *x = a, *y = b;
    return x->row < y->row ? -1 : x->row > y->row;
}

static void csv_field(FILE *out, const char *s, int last)
{
    csv_fwrite(out, s, strlen(s));
    fputc(last ? '\n' : ',', out);
}

/* report.csv: one line per row, what was produced for whom or why not; written whole or not at all. */
static int write_report(const char *out_dir, outcome *o, size_t n, char *path, size_t path_size, vip_error *err)
{
    char tmp[1100];
    snprintf(path, path_size, "%s/report.csv", out_dir);
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        if (fd >= 0)
            close(fd);
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    fputs("row,line,crime_ref,language,status,file,pages,column,message\n", out);
    for (size_t i = 0; i < n; i++) {
        char num[3][32];
        snprintf(num[0], sizeof num[0], "%zu", o[i].row);
        snprintf(num[1], sizeof num[1], "%zu", o[i].line);
        snprintf(num[2], sizeof num[2], "%zu", o[i].pages);
        const char *file = strrchr(o[i].file, '/');
        csv_field(out, num[0], 0);
        csv_field(out, num[1], 0);
        csv_field(out, o[i].ref, 0);
        csv_field(out, o[i].lang, 0);
        csv_field(out, o[i].ok ? "ok" : "error", 0);
        csv_field(out, file ? file + 1 : o[i].file, 0);
        csv_field(out, o[i].ok ? num[2] : "", 0);
        csv_field(out, o[i].column, 0);
        csv_field(out, o[i].message, 1);
    }
    int bad = ferror(out) | (fflush(out) != 0) | (fsync(fileno(out)) != 0);
    bad |= fclose(out) != 0;
    if (bad || chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    return VIP_OK;
}

/* Runs the rows' documents in jobs worker processes; each writes its outcomes to a file the parent reads. */
static int run_workers(resources *r, const vip_case_set *set, const size_t *task_row, size_t tasks, int jobs,
                       const char *out_dir, outcome *o, vip_error *err)
{
    if (jobs <= 1) {
        for (size_t k = 0; k < tasks; k++)
            produce_row(r, &set->rows[task_row[k]], out_dir, &o[k]);
        return VIP_OK;
    }
    pid_t pids[64];
    FILE *files[64];
    int started = 0, rc = VIP_OK;
    for (int w = 0; w < jobs; w++) {
        if (!(files[w] = tmpfile())) {
            rc = vip_error_set(err, VIP_ERR_IO, "cannot create a temporary file: %s", strerror(errno));
            break;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            fclose(files[w]);
            rc = vip_error_set(err, VIP_ERR_INTERNAL, "cannot start a worker: %s", strerror(errno));
            break;
        }
        if (pid == 0) {
            for (size_t k = (size_t)w; k < tasks; k += (size_t)jobs) {
                produce_row(r, &set->rows[task_row[k]], out_dir, &o[k]);
                if (fwrite(&k, sizeof k, 1, files[w]) != 1 || fwrite(&o[k], sizeof o[k], 1, files[w]) != 1)
                    _exit(3);
            }
            _exit(fflush(files[w]) == 0 ? 0 : 3);
        }
        pids[w] = pid;
        started++;
    }
    for (int w = 0; w < started; w++) {
        int status;
        waitpid(pids[w], &status, 0);
        rewind(files[w]);
        size_t k;
        outcome got;
        while (fread(&k, sizeof k, 1, files[w]) == 1 && fread(&got, sizeof got, 1, files[w]) == 1)
            if (k < tasks)
                o[k] = got;
        fclose(files[w]);
        if ((!WIFEXITED(status) || WEXITSTATUS(status) != 0) && !rc)
            rc = vip_error_set(err, VIP_ERR_INTERNAL, "a worker process failed (status %d)", status);
    }
    /* A row a failed worker never reached keeps its "not produced" outcome. */
    return rc;
}

int vip_produce_letters(const vip_produce_paths *paths, const char *cases_path, const char *out_dir,
                        const char *only_ref, int jobs, vip_letters_result *result, vip_error *err)
{
    memset(result, 0, sizeof *result);
    resources r = {0};
    vip_case_set *set = vip_case_read(cases_path, err);
    if (!set)
        return err->code;
    outcome *o = calloc(set->row_count + set->problem_count + 1, sizeof *o);
    outcome *dups = calloc(set->row_count + 1, sizeof *dups);
    size_t *task_row = calloc(set->row_count + 1, sizeof *task_row);
    int rc = VIP_OK;
    if (!o || !dups || !task_row) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        rc = vip_error_set(err, VIP_ERR_IO, "%s: cannot create directory: %s", out_dir, strerror(errno));
        goto done;
    }
    if ((rc = load_common(&r, paths, "letter.xml", err)))
        goto done;
    /* The rows to produce, in file order; a second row for the same reference and language is refused, so that
     * no letter silently replaces another. */
    size_t tasks = 0, n = 0;
    for (size_t i = 0; i < set->row_count; i++) {
        const vip_case_row *row = &set->rows[i];
        if (only_ref && strcmp(row->value[VIP_CASE_CRIME_REF], only_ref) != 0)
            continue;
        outcome *t = &o[tasks];
        *t = (outcome){.row = row->row, .line = row->line};
        snprintf(t->ref, sizeof t->ref, "%s", row->value[VIP_CASE_CRIME_REF]);
        snprintf(t->lang, sizeof t->lang, "%s", row->lang);
        snprintf(t->message, sizeof t->message, "not produced");
        int duplicate = 0;
        for (size_t k = 0; k < tasks && !duplicate; k++)
            if (strcmp(o[k].ref, t->ref) == 0 && strcmp(o[k].lang, t->lang) == 0) {
                duplicate = 1;
                snprintf(t->column, sizeof t->column, "crime_ref");
                snprintf(t->message, sizeof t->message,
                         "row %zu has the same crime reference and language; only the first is produced", o[k].row);
            }
        if (duplicate) {
            dups[n++] = *t;
            continue;
        }
        task_row[tasks++] = i;
    }
    /* Catalogues are loaded before the workers start, so each is read and checked once. */
    for (size_t k = 0; k < tasks; k++)
        catalog_for(&r, set->rows[task_row[k]].lang, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (jobs <= 0)
        jobs = cpus > 0 ? (int)cpus : 1;
    if (jobs > 64)
        jobs = 64;
    if ((size_t)jobs > tasks / 8 + 1)
        jobs = (int)(tasks / 8 + 1); /* small batches are not worth a process each */
    if ((rc = prepare_fonts(&r, set, task_row, tasks, err)))
        goto done;
    if ((rc = run_workers(&r, set, task_row, tasks, jobs, out_dir, o, err)))
        goto done;
    /* Invalid rows and duplicates join the outcomes. */
    size_t total = tasks;
    for (size_t k = 0; k < n; k++)
        o[total++] = dups[k];
    for (size_t p = 0; p < set->problem_count; p++) {
        const vip_case_problem *pr = &set->problems[p];
        if (only_ref)
            continue; /* a selection reports on the selected rows only */
        outcome *t = &o[total++];
        *t = (outcome){.row = pr->row, .line = pr->line, .ok = 0, .described = 1};
        snprintf(t->column, sizeof t->column, "%s", pr->column);
        snprintf(t->message, sizeof t->message, "%.400s", pr->message);
    }
    qsort(o, total, sizeof *o, by_row);
    if (only_ref && total == 0) {
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: no valid row has crime reference %s", cases_path, only_ref);
        goto done;
    }
    for (size_t i = 0; i < total; i++) {
        if (o[i].ok) {
            result->written++;
            if (o[i].message[0])
                fprintf(stderr, "vipgen: %s: row %zu (line %zu): %s\n", cases_path, o[i].row, o[i].line, o[i].message);
            continue;
        }
        result->failed++;
        if (o[i].described)
            fprintf(stderr, "vipgen: %s: %s\n", cases_path, o[i].message);
        else
            fprintf(stderr, "vipgen: %s: row %zu (line %zu)%s%s: %s\n", cases_path, o[i].row, o[i].line,
                    o[i].column[0] ? ", column " : "", o[i].column, o[i].message);
    }
    result->rows = set->total_rows;
    rc = write_report(out_dir, o, total, result->report, sizeof result->report, err);
done:
    resources_free(&r);
    free(o);
    free(dups);
    free(task_row);
    vip_case_set_destroy(set);
    return rc;
}

int vip_produce_booklet(const vip_produce_paths *paths, const char *lang, const char *out_path, vip_error *err)
{
    resources r = {0};
    const vip_lang *l = vip_lang_find(lang, err);
    int rc = l ? load_common(&r, paths, "booklet.xml", err) : err->code;
    if (!rc)
        rc = make_document(&r, l->tag, NULL, out_path, NULL, NULL, 0, err);
    resources_free(&r);
    return rc;
}
