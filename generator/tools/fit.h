/* vip_fit: whether a catalogue's text fits where it is printed, by the shaped widths the real layout gives it. The
 * letter is made in every variant needed to print every unit (each offence, needs assessment, referral, enhanced
 * rights and reason, with and without a place and an officer's email) from the first row of example case data, and
 * the booklet (A4, and as A5 pages and in large print); each is laid out as vipgen prints it, and what the layout
 * reports (vip_page_overflow: a word wider than its table cell, column, box or panel, more lines than the template
 * allows a title or label; and the page count at full type size against the document's limit) becomes a finding
 * naming the unit, in millimetres.
 * vipgen check and the preview share one, so that fonts, templates and laid-out paragraphs are loaded once. */
#ifndef VIP_FIT_H
#define VIP_FIT_H

#include <stddef.h>

#include "case.h"
#include "catalog.h"
#include "doc.h"
#include "error.h"
#include "fonts.h"
#include "layout.h"
#include "page.h"
#include "produce.h"
#include "template.h"
#include "text.h"

typedef struct vip_fit_finding {
    const char *unit;      /* unit id, or NULL for the whole document (its page count) */
    int error;             /* 1: an error (text cut, a template's line limit, pages over the limit even smaller) */
    const char *kind;      /* "width" or "pages" */
    double excess_mm;      /* how much too wide (0: not a width, or not measurable) */
    const char *message;   /* what is wrong and what to do, e.g. "is 4.2 mm wider than its table cell (48.1 mm)
                            * at 11 pt in the letter: shorten it" */
} vip_fit_finding;

typedef void (*vip_fit_sink)(void *user, const vip_fit_finding *finding);

typedef struct vip_fit vip_fit;

/* Loads fonts, the text context and the letter and booklet templates (recording the units each block prints). */
vip_fit *vip_fit_create(const vip_produce_paths *paths, vip_error *err);
void vip_fit_destroy(vip_fit *fit);

vip_fontset *vip_fit_fonts(vip_fit *fit);
vip_text *vip_fit_text(vip_fit *fit);
vip_template *vip_fit_letter(vip_fit *fit);
vip_template *vip_fit_booklet(vip_fit *fit);
const vip_layout_options *vip_fit_layout(const vip_fit *fit);

/* The example case data: cases when given, else examples/cases.csv beside the templates (source tree), in the
 * installed documentation, or in the working directory. Writes the path to out. */
int vip_fit_find_cases(const vip_fit *fit, const char *cases, char *out, size_t size, vip_error *err);

/* How many letter variants print every unit, and variant k (0-based) of the first row in language lang: row is
 * first with the coded values set (its strings point into first, lang or static text). name gets "letter-NN",
 * title what the variant is. */
size_t vip_fit_letter_variants(void);
void vip_fit_letter_variant(const vip_case_row *first, const char *lang, size_t k, vip_case_row *row, char *name,
                            size_t name_size, char *title, size_t title_size);

/* Every letter variant (from the first row of cases, see vip_fit_find_cases) and the booklet in the catalogue's
 * language, A4, A5 and in large print, laid out, and what does not fit reported to sink: each unit and kind once
 * per document (the letter, each booklet), at its worst; a word cut in a block that prints several units is put on
 * the one whose text holds it, where one does. The A5 and large-print booklets report only words cut
 * for want of room: the template's line limits are for the A4 page. */
int vip_fit_catalog(vip_fit *fit, vip_catalog *cat, const char *cases, vip_fit_sink sink, void *user,
                    vip_error *err);

#endif
