/* vip_doc: the document tree — blocks with their text, language and direction — that the template merge
 * produces and layout consumes. Blocks own copies of their text. */
#ifndef VIP_DOC_H
#define VIP_DOC_H

#include <stddef.h>

#include "error.h"
#include "text.h"

typedef enum {
    VIP_BLOCK_HEADING,
    VIP_BLOCK_PARAGRAPH,
    VIP_BLOCK_LIST_ITEM,   /* a paragraph with a marker ("•", "3.") on its start side */
    VIP_BLOCK_TABLE_ROW,   /* consecutive rows form a table */
    VIP_BLOCK_BOX_BEGIN,   /* the blocks up to the matching BOX_END sit in a shaded, ruled box */
    VIP_BLOCK_BOX_END,
    VIP_BLOCK_IMAGE,
    VIP_BLOCK_SPACE,
    VIP_BLOCK_PAGE_BREAK,
    VIP_BLOCK_CONTENTS     /* a table of contents of the bookmarked headings, with page numbers */
} vip_block_kind;

/* Where a block goes: the body flows over pages; the others are placed on the first page only. */
typedef enum {
    VIP_REGION_BODY,
    VIP_REGION_LETTERHEAD, /* top of the first page */
    VIP_REGION_ADDRESS,    /* inside the window of a windowed envelope */
    VIP_REGION_REFERENCE   /* date and reference lines, beside the address window */
} vip_region;

typedef struct vip_link {
    size_t start, end;     /* byte range of the linked text */
    char *uri;
    int plain;             /* found in the text (vip_rich_find_links): drawn like the text around it */
    size_t target;         /* a place in the document: 1 + the index of the heading block it goes to (uri NULL);
                            * 0: the uri */
} vip_link;

/* Text with its inline spans (language, weight) and links. */
typedef struct vip_rich {
    char *text;            /* UTF-8; U+2028 is a line break */
    size_t length;
    vip_text_span *spans;  /* span lang strings are owned here */
    size_t span_count;
    vip_link *links;
    size_t link_count;
} vip_rich;

/* The most catalogue units one block (or the page furniture) may be recorded as printing. */
#define VIP_DOC_MAX_UNITS 24

typedef struct vip_block {
    vip_block_kind kind;
    vip_region region;
    int level;             /* heading level, 1 = largest */
    int bookmark;          /* headings: listed in the PDF outline and the contents */
    int section;           /* level-1 headings: numbered, starting a section that runs to the next level-1 one */
    vip_rich content;      /* headings, paragraphs, list items */
    char *lang;            /* BCP 47; the document's when the block has none of its own */
    vip_dir dir;
    vip_align align;
    double size;           /* font size in points; 0 for the default of its kind */
    vip_weight weight;
    char *marker;          /* list items */
    int list_first;        /* list items: the first of its list (two lists in a row stay apart) */
    int list_columns;      /* list items: 2 when the list is set in two columns (same on every item), else 0 */
    vip_rich *cells;       /* table rows */
    size_t cell_count;
    double *columns;       /* table rows: relative column widths, one per cell */
    int *cell_lines;       /* table rows: the most lines each cell's text may take (0: any), NULL: any */
    int max_lines;         /* the most lines the block's text may take where it is printed (0: any); more is
                            * reported as an overflow (vip_page_overflow), never cut */
    int header;            /* table rows: a header row (bold, shaded, repeated after a page break) */
    int row_header;        /* table rows: the first cell heads the row (a label column) */
    char *image_path;      /* images: a PNG file */
    double width, height;  /* images: size in points; spaces: height in points */
    int tone;              /* boxes: 0 information, 1 important */
    char *where;           /* source position for messages, e.g. "letter.xml:12" */
    /* Previews: the catalogue units whose text the block prints (ids owned by the catalogue), recorded when the
     * template is asked to (vip_template_record_units). */
    const char *units[VIP_DOC_MAX_UNITS];
    unsigned char unit_cell[VIP_DOC_MAX_UNITS]; /* table rows: the cell each of those units is printed in */
    size_t unit_count;
} vip_block;

/* Text that depends on the page: the footer's "page N of M", and numbers in the document's digits. Both return
 * malloc'd UTF-8 or NULL with err set. */
typedef char *(*vip_page_label_fn)(void *user, int page, int pages, vip_error *err);
typedef char *(*vip_number_fn)(void *user, int number, vip_error *err);

typedef struct vip_doc {
    char *title;
    char *lang;
    vip_dir dir;           /* the document's direction: RTL mirrors lists, tables, furniture */
    vip_block *blocks;
    size_t block_count, block_cap;
    /* Page furniture. */
    double page_width, page_height;                             /* 0: A4 */
    double type_scale;                                          /* every set size times this (large print); 0: 1 */
    double margin_top, margin_bottom, margin_start, margin_end; /* 0: defaults */
    double body_size;                                           /* 0: default */
    double leading;            /* fraction of the type size between lines; 0: default */
    int max_pages;             /* > 0: type is scaled down (to 76 % at most) until the document fits */
    vip_rich header;       /* running header (empty: none) */
    vip_page_label_fn footer;  /* running footer, e.g. "Page 2 of 14"; NULL: none */
    vip_number_fn number;      /* page numbers in the contents; NULL: ASCII digits */
    void *user;                /* passed to footer and number */
    void (*user_free)(void *); /* frees user with the document; may be NULL */
    /* Previews: the units the title, running header and footer print (as vip_block's units). */
    const char *furniture_units[VIP_DOC_MAX_UNITS];
    size_t furniture_unit_count;
} vip_doc;

vip_doc *vip_doc_create(const char *title, const char *lang, vip_error *err);
void vip_doc_destroy(vip_doc *doc);

/* Appends a block (text copied, may be NULL with len 0); returns it, or NULL on error. The pointer stays valid
 * until the next block is added. */
vip_block *vip_doc_add_block(vip_doc *doc, vip_block_kind kind, int level, const char *text, size_t len,
                             vip_align align, const char *where, vip_error *err);
/* Adds a span to a block's content (lang copied). */
int vip_block_add_span(vip_block *block, size_t start, size_t end, const char *lang, vip_weight weight,
                       vip_error *err);

/* Rich text helpers: append text, mark spans and links (all copied), free. */
int vip_rich_append(vip_rich *rich, const char *text, size_t len, vip_error *err);
int vip_rich_add_span(vip_rich *rich, size_t start, size_t end, const char *lang, vip_weight weight,
                      vip_error *err);
int vip_rich_add_link(vip_rich *rich, size_t start, size_t end, const char *uri, vip_error *err);
void vip_rich_free(vip_rich *rich);
/* Makes each web address ("victimsupport.org.uk", "gov.uk/claim-compensation-criminal-injury", "https://...") and
 * email address in the text that no link covers yet a plain link: https:// or mailto:. A web address is lower-case
 * ASCII labels joined by dots, the last of two or more letters, not touching other letters, digits or an '@'; a
 * path after '/' runs to a space or a character URLs do not hold; a final '.', ',', ';', ':', '!', '?' or ')' is
 * the sentence's. */
int vip_rich_find_links(vip_rich *rich, vip_error *err);

/* Reads a plain-text document: "# " starts a heading (## level 2, ### level 3), blank lines separate
 * paragraphs, the lines of a paragraph are joined with a space, and a paragraph that starts with
 * "{center} ", "{end} ", "{justify} " or "{start} " takes that alignment. The first heading is the title.
 * [[tag:text]] marks an inline span in another language. */
vip_doc *vip_doc_read_text(const char *path, const char *lang, vip_error *err);

#endif
