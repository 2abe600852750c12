/* vip_pdf: the PDF backend. Draws a vip_page_doc into a PDF with libharu as the container; text goes in as
 * glyph IDs through Type0 fonts built here (subset, /W, ToUnicode, ActualText where the clusters need it),
 * following shared/design/pdf-text.md. Output is deterministic: the same pages give the same bytes.
 * For batches it keeps, per process and bounded, the decoded and deflated images and the deflated font programs
 * of recent glyph sets; so one process renders one document at a time (batches use worker processes). */
#ifndef VIP_PDF_H
#define VIP_PDF_H

#include <stddef.h>

#include "error.h"
#include "page.h"

/* Renders the document into a malloc'd buffer (*out, *out_len); the caller frees *out. */
int vip_pdf_render(const vip_page_doc *doc, unsigned char **out, size_t *out_len, vip_error *err);

/* Renders and writes to path through a temporary file in the same directory, renamed into place only when
 * complete: an existing file at path is never left half-overwritten. */
int vip_pdf_write(const vip_page_doc *doc, const char *path, vip_error *err);

#endif
