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

typedef struct vip_page_rect {
    double x, y, width, height;   /* top-left corner and size */
    uint32_t fill;                /* 0xRRGGBB; ignored when filled is 0 */
    int filled;
    double stroke_width;          /* 0: no outline */
    uint32_t stroke;
} vip_page_rect;

typedef struct vip_page_image {
    const char *path;             /* a PNG file (owned by the document) */
    double x, y, width, height;   /* top-left corner and size */
} vip_page_image;

/* What page furniture (an item of no structure element) is, for tagged PDF's artifacts. */
typedef enum {
    VIP_ARTIFACT_LAYOUT,     /* rules, backgrounds, decoration */
    VIP_ARTIFACT_HEADER,     /* the running header */
    VIP_ARTIFACT_FOOTER,     /* the running footer (page numbers) */
    VIP_ARTIFACT_PAGINATION  /* other text repeated because of a page break (a table's header row) */
} vip_page_artifact;

typedef struct vip_page_item {
    enum { VIP_PAGE_RUN, VIP_PAGE_RULE, VIP_PAGE_RECT, VIP_PAGE_IMAGE } kind;
    size_t tag;              /* the structure element it belongs to (index into elements); 0: page furniture */
    vip_page_artifact artifact; /* page furniture: what it is (rules and rectangles are always layout) */
    uint64_t order;          /* its place in the reading order (items of a right-to-left line are drawn in another) */
    union {
        vip_page_run run;
        vip_page_rule rule;
        vip_page_rect rect;
        vip_page_image image;
    } u;
} vip_page_item;

/* A clickable area that opens a URI, or goes to a place in the document. */
typedef struct vip_page_link {
    double x, y, width, height;   /* top-left corner and size */
    const char *uri;              /* owned by the document; NULL: goes to dest_page at dest_y */
    size_t dest_page;             /* index into pages */
    double dest_y;                /* from the top of that page */
    const char *contents;         /* what a go-to link is to (the heading's text), owned by the document */
    size_t tag;                   /* its Link structure element; 0: none */
    uint64_t order;               /* its place in the reading order */
} vip_page_link;

typedef struct vip_page {
    double width, height;    /* A4: 595.276 x 841.89 */
    vip_page_item *items;         /* drawn in order: later items paint over earlier ones */
    size_t item_count, item_cap;
    vip_page_link *links;
    size_t link_count, link_cap;
} vip_page;

/* An entry of the document outline (PDF bookmarks). */
typedef struct vip_page_outline {
    const char *title;            /* UTF-8, owned by the document */
    int level;                    /* 1 = top */
    size_t page;                  /* index into pages */
    double y;                     /* top of the heading on that page */
} vip_page_outline;

/* Where a block of the document tree was printed (for previews): a rectangle around its lines on one page, one
 * per block and page it touches (a table row's cells in one). */
typedef struct vip_page_area {
    size_t block;                 /* index into the vip_doc's blocks */
    size_t page;                  /* index into pages */
    double x, y, width, height;   /* top-left corner and size */
    struct vip_page_area *next;   /* the previous area placed (the list runs from the last one back) */
} vip_page_area;

/* Where a block's text is wider than its place (for vipgen check and previews): a piece with no break opportunity
 * (a long word) wider than the place, which is then cut between characters; or more lines than the template allows
 * there (<p lines="1">), and how much narrower the text must get to fit in them. */
typedef enum {
    VIP_PLACE_COLUMN,      /* the page's text column */
    VIP_PLACE_BOX,         /* inside a shaded box */
    VIP_PLACE_CELL,        /* a table cell */
    VIP_PLACE_LIST_COLUMN, /* a column of a two-column list */
    VIP_PLACE_CONTENTS,    /* a line of the table of contents */
    VIP_PLACE_LETTERHEAD,  /* the letterhead at the top of the first page */
    VIP_PLACE_ADDRESS,     /* the envelope window */
    VIP_PLACE_REFERENCE    /* the date and reference lines beside the address window */
} vip_page_place;

typedef struct vip_page_overflow {
    size_t block;                 /* index into the vip_doc's blocks */
    size_t cell;                  /* table rows: the cell; else SIZE_MAX */
    vip_page_place place;
    int lines;                    /* 0: a piece too wide, cut; else the template's line limit, exceeded */
    size_t line_count;            /* lines the text took */
    double excess;                /* points by which the text is too wide (0 when it cannot be put so) */
    double room;                  /* the place's width in points */
    double size;                  /* type size in points */
    const char *piece;            /* a piece too wide: its text (in the document's storage), else NULL */
    size_t piece_length;
    struct vip_page_overflow *next; /* the one noted before */
} vip_page_overflow;
/* Tagged PDF: the document's logical structure, for screen readers and reflow. Layout creates the elements in
 * reading order (a parent before its children) and marks every item and link with the element it belongs to. */
typedef enum vip_page_role {
    VIP_ROLE_DOCUMENT, /* the root, element 0 */
    VIP_ROLE_DIV,      /* a box */
    VIP_ROLE_H1, VIP_ROLE_H2, VIP_ROLE_H3,
    VIP_ROLE_P,
    VIP_ROLE_L, VIP_ROLE_LI, VIP_ROLE_LBL, VIP_ROLE_LBODY,
    VIP_ROLE_TABLE, VIP_ROLE_TR, VIP_ROLE_TH, VIP_ROLE_TD,
    VIP_ROLE_FIGURE,
    VIP_ROLE_LINK,
    VIP_ROLE_TOC, VIP_ROLE_TOCI,
    VIP_ROLE_SECT      /* a numbered section: its heading and what follows up to the next level-1 heading */
} vip_page_role;

typedef enum { VIP_SCOPE_NONE, VIP_SCOPE_ROW, VIP_SCOPE_COLUMN } vip_page_scope;

typedef struct vip_page_element {
    vip_page_role role;
    size_t parent;           /* index of the parent element (the root's is 0) */
    const char *lang;        /* BCP 47, owned by the document: the element's language; NULL: its parent's */
    const char *alt;         /* a figure's alternative text, owned by the document; NULL: none */
    vip_page_scope scope;    /* header cells: what they head */
    uint64_t order;          /* its place in the reading order among its siblings */
} vip_page_element;

typedef struct vip_page_doc {
    vip_page *pages;
    size_t page_count, page_cap;
    char *title;             /* UTF-8, may be NULL */
    char *lang;              /* BCP 47 tag of the document */
    vip_page_outline *outlines;
    size_t outline_count, outline_cap;
    double address_overflow;  /* points by which the address is taller than the envelope window (0: it fits) */
    vip_page_area *areas;     /* where each block was printed, last first; in the storage below */
    vip_page_overflow *overflows; /* what did not fit its place, last first; in the storage below */
    size_t full_size_pages;   /* pages at full type size, before any fitting to the document's max_pages */
    vip_page_element *elements; /* the structure tree; element 0 is the document */
    size_t element_count, element_cap;
    size_t current;           /* the element that runs and images added now belong to (0: furniture) */
    vip_page_artifact artifact; /* what runs and images added now are when they are furniture */
    uint64_t next_order;      /* the next place in the reading order */
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
 * owned by the document, see vip_page_doc_keep_text). Runs, images and links belong to the document's current
 * element and take the next place in the reading order. Returns VIP_OK or VIP_ERR_NOMEM. */
int vip_page_add_run(vip_page_doc *doc, vip_page *page, const vip_page_run *run);
int vip_page_add_rule(vip_page *page, const vip_page_rule *rule);
/* Inserts a rectangle at position index of the page's items (so it paints under what follows). */
int vip_page_insert_rect(vip_page *page, size_t index, const vip_page_rect *rect);
/* path is copied into the document. */
int vip_page_add_image(vip_page_doc *doc, vip_page *page, const char *path, double x, double y, double width,
                       double height);
int vip_page_add_link(vip_page_doc *doc, vip_page *page, double x, double y, double width, double height,
                      const char *uri);
/* A link to a place in the document (the contents' entries to their headings). */
int vip_page_add_goto(vip_page_doc *doc, vip_page *page, double x, double y, double width, double height,
                      size_t dest_page, double dest_y, const char *contents);
/* Adds a structure element under parent (lang and alt copied, either may be NULL) and returns its index, or 0
 * when out of memory (0 is the root's, never a new element's). */
size_t vip_page_doc_add_element(vip_page_doc *doc, vip_page_role role, size_t parent, const char *lang,
                                const char *alt);
int vip_page_doc_add_outline(vip_page_doc *doc, const char *title, int level, size_t page, double y);

#endif
