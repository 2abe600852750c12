#include "fit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#define PATH_SIZE 4096
#define PT_TO_MM (25.4 / 72.0)

struct vip_fit {
    char templates[PATH_SIZE];
    vip_fontset *fonts;
    vip_text *text;
    vip_template *letter, *booklet;
    /* The booklet as officers may also print it (vipgen booklet --print a5-booklet, --large-print): narrower
     * columns, larger type. Loaded when a catalogue is first checked (the preview shows the A4 booklet). */
    vip_template *booklet_print[2];
    const vip_settings *settings;
    vip_layout_options layout;
};

static const struct {
    const char *print, *what, *name;
} booklet_prints[2] = {{"a5-booklet", "A5 booklet", "booklet-a5"},
                       {"large-print", "large-print booklet", "booklet-large"}};

static void quiet(void *user, const char *message)
{
    (void)user;
    (void)message;
}

/* The force's name, addresses and logo, as its letters print them (they take room on the page). */
static int apply_force(vip_template *tmpl, const vip_settings *s, vip_error *err)
{
    if (!s)
        return VIP_OK;
    const char *force[][2] = {{"force_name", s->force_name},       {"force_address", s->force_address},
                              {"force_website", s->force_website}, {"force_phone", s->force_phone},
                              {"force_email", s->force_email}};
    for (size_t i = 0; i < sizeof force / sizeof force[0]; i++)
        if (force[i][1] && *force[i][1] && vip_template_set_param(tmpl, force[i][0], force[i][1], err))
            return err->code;
    if (s->force_logo && vip_template_replace_image(tmpl, "logo.png", s->force_logo, err))
        return vip_error_prefix(err, "the logo in vipgen.conf [force]: ");
    return VIP_OK;
}

static vip_template *load_template(vip_fit *fit, const char *name, const vip_settings *settings, vip_error *err)
{
    char path[PATH_SIZE + 64], schema[PATH_SIZE + 64];
    snprintf(path, sizeof path, "%s/%s", fit->templates, name);
    snprintf(schema, sizeof schema, "%s/template.rng", fit->templates);
    vip_template *t = vip_template_load(path, schema, err);
    if (t && apply_force(t, settings, err)) {
        vip_template_destroy(t);
        return NULL;
    }
    if (t)
        vip_template_record_units(t, 1);
    return t;
}

vip_fit *vip_fit_create(const vip_produce_paths *paths, vip_error *err)
{
    if (!paths || !paths->fonts || !paths->templates || strlen(paths->templates) >= PATH_SIZE) {
        vip_error_set(err, VIP_ERR_INPUT, "no usable fonts or templates to lay the documents out with");
        return NULL;
    }
    vip_fit *fit = calloc(1, sizeof *fit);
    if (!fit) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    strcpy(fit->templates, paths->templates);
    fit->settings = paths->settings;
    vip_layout_default_options(&fit->layout);
    if (!(fit->fonts = vip_fontset_load(paths->fonts, err)) || !(fit->text = vip_text_create(fit->fonts, err)) ||
        !(fit->letter = load_template(fit, "letter.xml", paths->settings, err)) ||
        !(fit->booklet = load_template(fit, "booklet.xml", paths->settings, err))) {
        vip_fit_destroy(fit);
        return NULL;
    }
    /* Characters no font has are check's business, reported once there, not for every document laid out. */
    vip_text_set_warnings(fit->text, (vip_warn_sink){quiet, NULL});
    return fit;
}

void vip_fit_destroy(vip_fit *fit)
{
    if (!fit)
        return;
    vip_template_destroy(fit->letter);
    vip_template_destroy(fit->booklet);
    for (size_t i = 0; i < sizeof fit->booklet_print / sizeof fit->booklet_print[0]; i++)
        vip_template_destroy(fit->booklet_print[i]);
    vip_text_destroy(fit->text);
    vip_fontset_destroy(fit->fonts);
    free(fit);
}

vip_fontset *vip_fit_fonts(vip_fit *fit)
{
    return fit->fonts;
}

vip_text *vip_fit_text(vip_fit *fit)
{
    return fit->text;
}

vip_template *vip_fit_letter(vip_fit *fit)
{
    return fit->letter;
}

vip_template *vip_fit_booklet(vip_fit *fit)
{
    return fit->booklet;
}

const vip_layout_options *vip_fit_layout(const vip_fit *fit)
{
    return &fit->layout;
}

int vip_fit_find_cases(const vip_fit *fit, const char *cases, char *out, size_t size, vip_error *err)
{
    if (cases) {
        snprintf(out, size, "%s", cases);
        return VIP_OK;
    }
    const char *tries[] = {"%s/../examples/cases.csv", "%s/../../doc/vipgen/examples/cases.csv",
                           "examples/cases.csv" /* the source tree as the working directory */};
    for (size_t i = 0; i < 3; i++) {
        snprintf(out, size, tries[i], fit->templates);
        if (access(out, R_OK) == 0)
            return VIP_OK;
    }
    return vip_error_set(err, VIP_ERR_IO, "no example case data (examples/cases.csv) near %s; give one with "
                         "--cases FILE", fit->templates);
}

/* ---- the letter variants ---- */

/* The values that change the letter's text, each an axis; variant k takes value k mod n of every axis, so that
 * max(n) variants print every value of every axis. */
enum { AXIS_OFFENCE, AXIS_NEEDS, AXIS_REFERRAL, AXIS_ENHANCED, AXIS_LOCATION, AXIS_OFFICER_EMAIL, AXIS_COUNT };

static size_t code_count(vip_case_field f)
{
    size_t n = 0;
    for (const char *const *c = vip_case_codes(f); c && c[n]; n++)
        ;
    return n;
}

static void axes(size_t n[AXIS_COUNT])
{
    n[AXIS_OFFENCE] = code_count(VIP_CASE_OFFENCE);
    n[AXIS_NEEDS] = code_count(VIP_CASE_NEEDS_ASSESSMENT);
    n[AXIS_REFERRAL] = code_count(VIP_CASE_REFERRAL);
    n[AXIS_ENHANCED] = 1 + code_count(VIP_CASE_ENHANCED_REASON);
    n[AXIS_LOCATION] = n[AXIS_OFFICER_EMAIL] = 2;
}

size_t vip_fit_letter_variants(void)
{
    size_t n[AXIS_COUNT], variants = 1;
    axes(n);
    for (int a = 0; a < AXIS_COUNT; a++)
        variants = n[a] > variants ? n[a] : variants;
    return variants;
}

void vip_fit_letter_variant(const vip_case_row *first, const char *lang, size_t k, vip_case_row *row, char *name,
                            size_t name_size, char *title, size_t title_size)
{
    const vip_case_field coded[3] = {VIP_CASE_OFFENCE, VIP_CASE_NEEDS_ASSESSMENT, VIP_CASE_REFERRAL};
    size_t n[AXIS_COUNT];
    axes(n);
    /* A place and an officer's email for the variants that print them, where the example row has none. */
    const char *location = *first->value[VIP_CASE_LOCATION] ? first->value[VIP_CASE_LOCATION]
                                                              : first->value[VIP_CASE_TOWN];
    const char *officer_email = *first->value[VIP_CASE_OFFICER_EMAIL] ? first->value[VIP_CASE_OFFICER_EMAIL]
                                                                      : "officer@police.example";
    *row = *first;
    row->lang = lang;
    row->value[VIP_CASE_LANGUAGE] = (char *)lang;
    for (int a = 0; a < 3; a++)
        row->value[coded[a]] = (char *)vip_case_codes(coded[a])[k % n[a]];
    size_t e = k % n[AXIS_ENHANCED];
    row->enhanced = e > 0;
    row->value[VIP_CASE_ENHANCED_RIGHTS] = e ? "yes" : "no";
    row->value[VIP_CASE_ENHANCED_REASON] = e ? (char *)vip_case_codes(VIP_CASE_ENHANCED_REASON)[e - 1] : "";
    row->value[VIP_CASE_LOCATION] = (char *)(k % 2 == 0 ? location : "");
    row->value[VIP_CASE_OFFICER_EMAIL] = (char *)((k / 2) % 2 == 0 ? officer_email : "");
    snprintf(name, name_size, "letter-%02zu", k + 1);
    snprintf(title, title_size, "Letter %zu: offence %s, needs assessment %s, referral %s, enhanced rights %s%s%s, "
             "%s, %s", k + 1, row->value[VIP_CASE_OFFENCE], row->value[VIP_CASE_NEEDS_ASSESSMENT],
             row->value[VIP_CASE_REFERRAL], e ? "yes (" : "no", e ? row->value[VIP_CASE_ENHANCED_REASON] : "",
             e ? ")" : "", *row->value[VIP_CASE_LOCATION] ? "with a place" : "no place",
             *row->value[VIP_CASE_OFFICER_EMAIL] ? "officer's email" : "no officer's email");
}

/* ---- findings ---- */

/* One thing that does not fit, before it is worded: kept at its worst over the documents laid out. */
typedef struct note {
    const char *unit;          /* the catalogue's id, or NULL (a document's pages) */
    const char *what;          /* "letter", "booklet" (static) */
    char name[32];             /* the document's name in the preview (letter-02): one where it is at its worst */
    vip_page_place place;
    vip_block_kind block_kind;
    int lines;                 /* 0: cut; else the template's line limit */
    size_t line_count, page;   /* page: 1-based, 0 unknown */
    double excess, room, size; /* points */
    size_t pages, full_pages;  /* pages notes: the document's pages as printed and at full type size */
    int max_pages;
} note;

typedef struct notes {
    note *items;
    size_t count, cap;
} notes;

static int add_note(notes *ns, const note *n, vip_error *err)
{
    for (size_t i = 0; i < ns->count; i++) {
        note *o = &ns->items[i];
        int same = o->what == n->what && o->lines == n->lines && o->place == n->place &&
                   ((!o->unit && !n->unit) || (o->unit && n->unit && strcmp(o->unit, n->unit) == 0));
        if (!same)
            continue;
        if (n->excess > o->excess || n->full_pages > o->full_pages || n->pages > o->pages)
            *o = *n;
        return VIP_OK;
    }
    if (ns->count == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        note *bigger = realloc(ns->items, cap * sizeof *bigger);
        if (!bigger)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        ns->items = bigger;
        ns->cap = cap;
    }
    ns->items[ns->count++] = *n;
    return VIP_OK;
}

/* The page (1-based) a block was printed on first, 0 when it was not. */
static size_t block_page(const vip_page_doc *pd, size_t block)
{
    size_t page = 0;
    for (const vip_page_area *a = pd->areas; a; a = a->next)
        if (a->block == block && (!page || a->page + 1 < page))
            page = a->page + 1;
    return page;
}

/* Whether a unit's text (the catalogue's, as written) holds the piece of text cut for want of room, without the
 * spaces and punctuation at its ends (the sentence's full stop after an offence name, the space after it). */
static int unit_holds(const vip_catalog *cat, const char *unit, const vip_page_overflow *o)
{
    const uint8_t *piece = (const uint8_t *)o->piece;
    int32_t a = 0, z = (int32_t)o->piece_length;
    while (a < z) {
        int32_t i = a;
        UChar32 c;
        U8_NEXT(piece, i, z, c);
        if (c >= 0 && !u_isUWhiteSpace(c) && !u_ispunct(c))
            break;
        a = i;
    }
    while (z > a) {
        int32_t i = z;
        UChar32 c;
        U8_PREV(piece, a, i, c);
        if (c >= 0 && !u_isUWhiteSpace(c) && !u_ispunct(c))
            break;
        z = i;
    }
    if (a == z)
        return 0;
    for (size_t i = 0; cat && i < vip_catalog_unit_count(cat); i++) {
        if (strcmp(vip_catalog_unit_id(cat, i), unit) != 0)
            continue;
        const char *text = vip_catalog_unit_text(cat, i);
        for (const char *at = text ? strchr(text, piece[a]) : NULL; at; at = strchr(at + 1, piece[a]))
            if (strncmp(at, (const char *)piece + a, (size_t)(z - a)) == 0)
                return 1;
        return 0;
    }
    return 0;
}

/* cuts_only: a print variant's findings are its cuts (a word wider than its place); the template's line limits are
 * for the A4 page it was drawn for, and a heading in large print takes two lines as it should. cat (may be NULL):
 * the catalogue, to put a cut on the one unit of a block whose text holds the piece cut (a sentence and the
 * offence name it prints), where there is one. */
static int collect(const vip_doc *doc, const vip_page_doc *pd, const vip_catalog *cat, const char *what,
                   const char *name, int cuts_only, notes *ns, vip_error *err)
{
    for (const vip_page_overflow *o = pd->overflows; o; o = o->next) {
        if (o->block >= doc->block_count || (cuts_only && o->lines))
            continue;
        const vip_block *b = &doc->blocks[o->block];
        int holders = 0;
        for (size_t k = 0; o->piece && k < b->unit_count; k++)
            holders += (o->cell == SIZE_MAX || b->unit_cell[k] == o->cell) && unit_holds(cat, b->units[k], o);
        for (size_t k = 0; k < b->unit_count; k++) {
            /* A cell's overflow is its own units', not the row's other cells'. */
            if (o->cell != SIZE_MAX && b->unit_cell[k] != o->cell)
                continue;
            if (holders && !unit_holds(cat, b->units[k], o))
                continue;
            note n = {.unit = b->units[k], .what = what, .place = o->place, .block_kind = b->kind,
                      .lines = o->lines, .line_count = o->line_count, .page = block_page(pd, o->block),
                      .excess = o->excess, .room = o->room, .size = o->size};
            snprintf(n.name, sizeof n.name, "%s", name);
            if (add_note(ns, &n, err))
                return err->code;
        }
    }
    if (doc->max_pages > 0 && pd->full_size_pages > (size_t)doc->max_pages) {
        note n = {.what = what, .pages = pd->page_count, .full_pages = pd->full_size_pages,
                  .max_pages = doc->max_pages};
        snprintf(n.name, sizeof n.name, "%s", name);
        if (add_note(ns, &n, err))
            return err->code;
    }
    return VIP_OK;
}

static const char *place_name(const note *n)
{
    switch (n->place) {
    case VIP_PLACE_CELL: return "table cell";
    case VIP_PLACE_BOX: return n->block_kind == VIP_BLOCK_HEADING ? "heading line in its box" : "box";
    case VIP_PLACE_LIST_COLUMN: return "column of the two-column list";
    case VIP_PLACE_CONTENTS: return "line of the contents";
    case VIP_PLACE_LETTERHEAD: return "letterhead";
    case VIP_PLACE_ADDRESS: return "address window";
    case VIP_PLACE_REFERENCE: return "reference lines beside the address window";
    case VIP_PLACE_COLUMN: break;
    }
    return n->block_kind == VIP_BLOCK_HEADING ? "heading line" : "text column";
}

/* 11 pt as "11", 10.56 as "10.6". */
static void size_text(double size, char *out, size_t n)
{
    if (fabs(size - round(size)) < 0.05)
        snprintf(out, n, "%.0f", size);
    else
        snprintf(out, n, "%.1f", size);
}

/* Whether a piece of the same unit is cut in the same place: that says more than its line limit. */
static int cut_there(const notes *ns, const note *n)
{
    for (size_t i = 0; i < ns->count; i++) {
        const note *o = &ns->items[i];
        if (!o->lines && o->unit && o->what == n->what && o->place == n->place && strcmp(o->unit, n->unit) == 0)
            return 1;
    }
    return 0;
}

static void emit(const notes *ns, vip_fit_sink sink, void *user)
{
    for (size_t i = 0; i < ns->count; i++) {
        const note *n = &ns->items[i];
        if (n->unit && n->lines && cut_there(ns, n))
            continue;
        char message[600], where[64], size[16];
        vip_fit_finding f = {.unit = n->unit, .message = message};
        if (!n->unit) {
            /* A warning, as vipgen letter reports a letter over its limit: it is still made, on more pages. */
            f.kind = "pages";
            if (n->pages > (size_t)n->max_pages)
                snprintf(message, sizeof message, "the %s runs to %zu pages at full type size and still %zu set as "
                         "tight as vipgen may, over its limit of %d (%s in the preview, for one): shorten the "
                         "longest units", n->what, n->full_pages, n->pages, n->max_pages, n->name);
            else
                snprintf(message, sizeof message, "the %s runs to %zu pages at full type size, over its limit of "
                         "%d (%s in the preview, for one): vipgen sets it tighter to fit (smaller type, less space "
                         "between lines); shorten the longest units so that it need not", n->what, n->full_pages, n->max_pages, n->name);
            sink(user, &f);
            continue;
        }
        f.kind = "width";
        f.error = 1;
        f.excess_mm = round(n->excess * PT_TO_MM * 10) / 10;
        size_text(n->size, size, sizeof size);
        if (n->page)
            snprintf(where, sizeof where, "on page %zu of the %s", n->page, n->what);
        else
            snprintf(where, sizeof where, "in the %s", n->what);
        if (!n->lines)
            snprintf(message, sizeof message, "is %.1f mm wider than its %s (%.1f mm) at %s pt %s: a word or "
                     "number with no place to break is cut there; shorten it, or use shorter words",
                     f.excess_mm, place_name(n), n->room * PT_TO_MM, size, where);
        else if (f.excess_mm > 0 && n->lines == 1)
            snprintf(message, sizeof message, "is %.1f mm wider than its %s (%.1f mm) at %s pt %s, where the "
                     "template keeps it on one line: shorten it", f.excess_mm, place_name(n), n->room * PT_TO_MM,
                     size, where);
        else if (f.excess_mm > 0)
            snprintf(message, sizeof message, "is %.1f mm too wide for its %s (%d lines of %.1f mm, as the "
                     "template allows) at %s pt %s: it takes %zu lines; shorten it", f.excess_mm, place_name(n),
                     n->lines, n->room * PT_TO_MM, size, where, n->line_count);
        else
            snprintf(message, sizeof message, "takes %zu lines in its %s (%.1f mm) at %s pt %s, where the template "
                     "allows %d: shorten it, or move a line break", n->line_count, place_name(n),
                     n->room * PT_TO_MM, size, where, n->lines);
        sink(user, &f);
    }
}

/* Lays one document out and notes what does not fit. */
static int fit_one(vip_fit *fit, vip_template *tmpl, vip_catalog *cat, const vip_case_row *row, const char *what,
                   const char *name, int cuts_only, notes *ns, vip_error *err)
{
    vip_warn_sink silent = {quiet, NULL};
    vip_doc *doc = vip_template_merge(tmpl, cat, row, &silent, err);
    vip_page_doc *pd = doc ? vip_layout_document(fit->text, doc, &fit->layout, err) : NULL;
    int rc = pd ? collect(doc, pd, cat, what, name, cuts_only, ns, err) : err->code;
    vip_page_doc_destroy(pd);
    vip_doc_destroy(doc);
    return rc;
}

int vip_fit_catalog(vip_fit *fit, vip_catalog *cat, const char *cases, vip_fit_sink sink, void *user,
                    vip_error *err)
{
    char path[PATH_SIZE + 64];
    if (vip_fit_find_cases(fit, cases, path, sizeof path, err))
        return err->code;
    vip_case_set *set = vip_case_read(path, err);
    if (!set)
        return err->code;
    notes ns = {0};
    int rc = VIP_OK;
    if (!set->row_count)
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: no valid case row to make the letters from", path);
    const char *lang = vip_catalog_lang(cat);
    for (size_t k = 0; !rc && k < vip_fit_letter_variants(); k++) {
        vip_case_row row;
        char name[32], title[600];
        vip_fit_letter_variant(&set->rows[0], lang, k, &row, name, sizeof name, title, sizeof title);
        rc = fit_one(fit, fit->letter, cat, &row, "letter", name, 0, &ns, err);
    }
    if (!rc)
        rc = fit_one(fit, fit->booklet, cat, NULL, "booklet", "booklet", 0, &ns, err);
    for (size_t i = 0; !rc && i < sizeof booklet_prints / sizeof booklet_prints[0]; i++) {
        if (!fit->booklet_print[i] &&
            (!(fit->booklet_print[i] = load_template(fit, "booklet.xml", fit->settings, err)) ||
             vip_template_set_print(fit->booklet_print[i], booklet_prints[i].print, err))) {
            rc = err->code;
            break;
        }
        rc = fit_one(fit, fit->booklet_print[i], cat, NULL, booklet_prints[i].what, booklet_prints[i].name, 1, &ns,
                     err);
    }
    if (!rc)
        emit(&ns, sink, user);
    free(ns.items);
    vip_case_set_destroy(set);
    return rc;
}
