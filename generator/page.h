/* vip_page: what layout produces and every backend draws. A document is a list of pages; a page is a list of
 * positioned glyph runs and rules. It knows nothing of templates, catalogues or PDF.
 * Coordinates are in points (1/72 in), origin at the top-left corner of the page, y growing downwards. */
#ifndef VIP_PAGE_H
#define VIP_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fonts.h"

typedef struct vip_page_glyph {
    uint32_t gid;      /* glyph ID in the run's font */
    uint32_t cluster;  /* byte offset into the run's text where this glyph's cluster starts */
    double x, y;       /* pen position, relative to the run's origin; y grows upwards (a raised mark has y > 0) */
    double advance;    /* horizontal advance in points as shaped (HarfBuzz), before justification */
} vip_page_glyph;

/* A run of glyphs in one font, at one size, at one bidi level, in visual order (left to right on the page). */
typedef struct vip_page_run {
    const vip_font *font;
    double size;             /* font size in points */
    double x, y;             /* origin: left end of the run on the baseline */
    int rtl;                 /* 1 when the run's text is right to left (glyph order is then reverse logical) */
    const char *text;        /* UTF-8 text the clusters index into (owned by the document) */
    uint32_t text_start, text_end; /* the run's byte range in text: clusters lie in [text_start, text_end) */
    const char *lang;        /* BCP 47 tag of the run's language */
    vip_page_glyph *glyphs;
    size_t glyph_count;
    uint32_t color;          /* 0xRRGGBB */
} vip_page_run;

typedef struct vip_page_rule {
    double x0, y0, x1, y1;   /* a straight line */
    double width;
    uint32_t color;
} vip_page_rule;

typedef struct vip_page_item {
    enum { VIP_PAGE_RUN, VIP_PAGE_RULE } kind;
    union {
        vip_page_run run;
        vip_page_rule rule;
    } u;
} vip_page_item;

typedef struct vip_page {
    double width, height;    /* A4: 595.276 x 841.89 */
    vip_page_item *items;
    size_t item_count, item_cap;
} vip_page;

typedef struct vip_page_doc {
    vip_page *pages;
    size_t page_count, page_cap;
    char *title;             /* UTF-8, may be NULL */
    char *lang;              /* BCP 47 tag of the document */
    /* Storage the runs point into (texts, glyph arrays); freed with the document. */
    void **blocks;
    size_t block_count, block_cap;
} vip_page_doc;

vip_page_doc *vip_page_doc_create(const char *title, const char *lang);
void vip_page_doc_destroy(vip_page_doc *doc);
/* Appends an empty page and returns it (NULL when out of memory). The pointer stays valid until the next call. */
vip_page *vip_page_doc_add_page(vip_page_doc *doc, double width, double height);
/* Copies len bytes into storage owned by the document; the copy is NUL-terminated. */
char *vip_page_doc_keep_text(vip_page_doc *doc, const char *text, size_t len);
/* Adds a run to the page; copies the glyph array into the document's storage (run->text must already be
 * owned by the document, see vip_page_doc_keep_text). Returns VIP_OK or VIP_ERR_NOMEM. */
int vip_page_add_run(vip_page_doc *doc, vip_page *page, const vip_page_run *run);
int vip_page_add_rule(vip_page *page, const vip_page_rule *rule);

#endif
