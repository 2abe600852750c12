/* vip_doc: the document tree — blocks with their text, language and direction — that the template merge
 * produces and layout consumes. Blocks own copies of their text. */
#ifndef VIP_DOC_H
#define VIP_DOC_H

#include <stddef.h>

#include "error.h"
#include "text.h"

typedef enum { VIP_BLOCK_HEADING, VIP_BLOCK_PARAGRAPH } vip_block_kind;

typedef struct vip_block {
    vip_block_kind kind;
    int level;                 /* heading level, 1 = largest */
    char *text;                /* UTF-8 */
    size_t length;
    char *lang;                /* BCP 47; the document's when the block has none of its own */
    vip_dir dir;
    vip_align align;
    vip_text_span *spans;      /* inline spans (language, weight); their lang strings are owned by the block */
    size_t span_count;
    char *where;               /* source position for messages, e.g. "sample.txt:12" */
} vip_block;

typedef struct vip_doc {
    char *title;
    char *lang;
    vip_block *blocks;
    size_t block_count, block_cap;
} vip_doc;

vip_doc *vip_doc_create(const char *title, const char *lang, vip_error *err);
void vip_doc_destroy(vip_doc *doc);

/* Appends a block (text copied); returns it, or NULL on error. */
vip_block *vip_doc_add_block(vip_doc *doc, vip_block_kind kind, int level, const char *text, size_t len,
                             vip_align align, const char *where, vip_error *err);
/* Adds a span to a block (lang copied). */
int vip_block_add_span(vip_block *block, size_t start, size_t end, const char *lang, vip_weight weight,
                       vip_error *err);

/* Reads a plain-text document: "# " starts a heading (## level 2, ### level 3), blank lines separate
 * paragraphs, the lines of a paragraph are joined with a space, and a paragraph that starts with
 * "{center} ", "{end} ", "{justify} " or "{start} " takes that alignment. The first heading is the title.
 * [[tag:text]] marks an inline span in another language. */
vip_doc *vip_doc_read_text(const char *path, const char *lang, vip_error *err);

#endif
