/* vip_produce: the documents people ask for — a batch of acknowledgement letters from case data, and the
 * information booklet in one language — from templates, catalogues and fonts loaded once per run. */
#ifndef VIP_PRODUCE_H
#define VIP_PRODUCE_H

#include <stddef.h>

#include "config.h"
#include "error.h"

typedef struct vip_produce_paths {
    const char *fonts;         /* fonts/manifest */
    const char *templates;     /* directory holding letter.xml, booklet.xml, template.rng */
    const char *translations;  /* directory holding <lang>.xlf */
    const vip_settings *settings; /* the force's configuration (NULL: the defaults): how its exports are read, and
                                   * its name, logo, addresses and numbers for the letterhead */
} vip_produce_paths;

typedef struct vip_letters_options {
    const char *only_ref;      /* produce only the row(s) with this crime reference (NULL: all) */
    int jobs;                  /* worker processes (0: one per CPU) */
    int check_only;            /* check every row and report every problem; produce nothing */
    int quiet;                 /* no progress on a terminal, no summary */
    int deliver;               /* send or post each letter (see deliver.h): journal, records.csv, to-post.pdf */
    const char *eml_dir;       /* delivery: write emails to this pickup folder */
    const char *smtp_url;      /* delivery: send emails to this server */
    const char *journal_path;  /* delivery: the journal (NULL: DIR/journal.sqlite) */
    const char *const *resend; /* delivery: crime references to send again */
    size_t resend_count;
} vip_letters_options;

typedef struct vip_letters_result {
    size_t rows;               /* data rows in the file */
    size_t written;            /* letters written (--check: good rows) */
    size_t failed;             /* rows with no letter (invalid, or failed to produce; --check: rows with problems) */
    size_t sent, queued, posted; /* delivery: sent, written to the pickup folder, in to-post.pdf */
    size_t withheld;           /* delivery: withheld for safety, or no contact route: for an officer */
    size_t undelivered;        /* delivery: failed (refused, or the server unreachable): tried again on a rerun */
    size_t uncertain;          /* delivery: may have been delivered; resent only with --resend */
    char report[1024];         /* path of the report written in the output directory */
} vip_letters_result;

/* Writes one PDF per valid row of cases_path into out_dir, named from crime reference and language
 * (NC/2024/012345 in Urdu: NC-2024-012345_ur.pdf; a name never begins with '-': "-rf" gives _-rf_en.pdf), each
 * through vip_outfile (private by default). A row whose file name is an earlier row's, ignoring case, is refused
 * naming that row. Failed rows are described on stderr and, with every letter written, in out_dir/report.csv
 * (row, line, crime_ref, language, status, file, pages, column, message); status is ok, error, or pending in the
 * report written before the letters (what a killed batch leaves). out_dir is checked and locked
 * (out_dir/.vipgen.lock) before anything is rendered: a second batch into it is refused, naming the first's
 * process; temporaries an earlier killed run left there are removed. only_ref, when given, selects the row(s)
 * with that crime reference. jobs worker processes share the rows (0: one per CPU); they end if this process is
 * killed, and the rows of a worker that dies are still reported. Returns VIP_OK when the batch ran, even if rows
 * failed (see result->failed); an error when nothing could be produced (unreadable file, missing template, fonts,
 * an unusable or locked output directory), or when the final report could not be written. */
int vip_produce_letters(const vip_produce_paths *paths, const char *cases_path, const char *out_dir,
                        const vip_letters_options *options, vip_letters_result *result, vip_error *err);

/* What an officer may add to the booklet for the victim in front of them. */
typedef struct vip_booklet_options {
    const char *crime_ref, *officer, *phone, *email; /* printed in the cover's case panel (NULL: boxes to write in);
                                                      * checked by the caller (vip_case_check_value) */
    int a5_booklet;            /* A5 pages imposed two to a landscape A4 sheet in saddle-stitch order */
    int large_print;           /* 16 pt type (the template's large-print variant) */
} vip_booklet_options;

/* Writes the booklet in one language to out_path (through a temporary file), with an even number of pages (a
 * page left blank on purpose says so). options may be NULL. */
int vip_produce_booklet(const vip_produce_paths *paths, const char *lang, const char *out_path,
                        const vip_booklet_options *options, vip_error *err);

#endif
