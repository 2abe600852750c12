/* vip_preview: a translator's view of one catalogue — the letter in every variant needed to print every unit (each
 * select and plural case: each offence, needs assessment, referral, enhanced rights and reason, with and without a
 * place and an officer's email), made from the first row of the example case data, and the booklet — as PDFs and
 * PNG pages on which each unit's text is marked in the colours of what is wrong with it (English fallback, changed
 * since a baseline catalogue, check problems, overflow) with its id in the margin; and index.html listing every
 * unit with its status, its problems (from vip_check) and links to where it is printed, units printed nowhere
 * listed as unused. Fonts and templates are loaded once, so that a re-render after a change is quick. */
#ifndef VIP_PREVIEW_H
#define VIP_PREVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "produce.h"

/* The colours of the marks, 0xRRGGBB (also in the index's legend). */
#define VIP_PREVIEW_COLOR_FALLBACK 0xE07B00 /* the English text is printed: no translation, or not yet translated */
#define VIP_PREVIEW_COLOR_CHANGED 0x1D5FD6  /* the translation changed since the baseline catalogue */
#define VIP_PREVIEW_COLOR_PROBLEM 0xD1242F  /* vipgen check lists a problem in the unit */
#define VIP_PREVIEW_COLOR_OVERFLOW 0xA21CAF /* too long for its place (length limit, width, page count) */

typedef struct vip_preview_options {
    const char *lang;     /* the catalogue's language tag (required) */
    const char *catalog;  /* NULL: <translations>/<lang>.xlf */
    const char *baseline; /* the catalogue as it was (e.g. the last release's); NULL: nothing marked as changed */
    const char *cases;    /* CSV whose first row the letter variants are made from; NULL: examples/cases.csv */
    double scale;         /* pixels per point of the page pictures; 0: 1.5 (108 dpi) */
    int skip_letters;     /* render the booklet only */
    int skip_booklet;     /* render the letter variants only */
} vip_preview_options;

typedef struct vip_preview_result {
    size_t documents, pages;  /* documents rendered (letter variants and the booklet), their pages */
    size_t drawn;             /* page pictures drawn (the others came out as in the last render, and were kept) */
    size_t reused;            /* documents taken whole from the last render (nothing they print changed) */
    size_t units, unused;     /* units in the catalogue; those printed nowhere in the preview */
    size_t fallback, changed, with_problems, overflow; /* units marked with each colour */
    size_t errors, warnings;  /* check problems */
    double check_ms, letters_ms, booklet_ms, total_ms; /* wall-clock times of the parts */
    double cpu_ms;            /* processor time of the whole render (the wall clock also counts waiting for it) */
} vip_preview_result;

typedef struct vip_preview vip_preview;

/* Loads fonts and templates (paths->settings: the force's name and logo, as in its letters). */
vip_preview *vip_preview_create(const vip_produce_paths *paths, vip_error *err);
void vip_preview_destroy(vip_preview *preview);

/* Renders the preview into out_dir (created if missing; files replaced one by one): index.html, units.json (every
 * unit: status, problems, where it is printed), style.css, live.js, and per document NAME.pdf, NAME-pN.png and
 * NAME-pN.html (the page with a link target over every unit printed on it). A catalogue that cannot be read, or is
 * in another language than options->lang, is an error; index.html then says why. */
int vip_preview_render(vip_preview *preview, const vip_preview_options *options, const char *out_dir,
                       vip_preview_result *result, vip_error *err);

#endif
