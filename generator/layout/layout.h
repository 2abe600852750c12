/* vip_layout: blocks of the document tree onto pages — margins, line placement, headings kept with what
 * follows them. It knows nothing of PDF. */
#ifndef VIP_LAYOUT_H
#define VIP_LAYOUT_H

#include "doc.h"
#include "error.h"
#include "page.h"
#include "text.h"

typedef struct vip_layout_options {
    double page_width, page_height;                           /* points */
    double margin_top, margin_bottom, margin_left, margin_right;
    double body_size;                                         /* points */
    double min_body_size; /* points, Latin-equivalent: fitting to max-pages never sets body text smaller */
    double heading_size[3];                                   /* levels 1..3 */
    double leading;                                           /* fraction of the size between lines */
    double paragraph_space;                                   /* points after a paragraph */
} vip_layout_options;

/* A4 with 20 mm margins, 11 pt body text. */
void vip_layout_default_options(vip_layout_options *options);

/* Lays the document out into pages. */
vip_page_doc *vip_layout_document(vip_text *text, const vip_doc *doc, const vip_layout_options *options,
                                  vip_error *err);

#endif
