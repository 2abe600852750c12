/* vip_impose: imposition for print — a booklet's A5 pages laid two to a landscape A4 sheet in saddle-stitch order,
 * so that an office printer's "duplex, flip on short edge" gives a booklet to fold and staple. The pages are placed
 * as they are (form XObjects made by qpdf, so text stays text), padded with blank pages to a multiple of four. */
#ifndef VIP_IMPOSE_H
#define VIP_IMPOSE_H

#include <stddef.h>

#include "error.h"

/* The page on each side of each sheet, 1-based, 0 for a blank: for pages pages (padded up to a multiple of 4),
 * sheet s's front holds order[4s] (left) and order[4s+1] (right), its back order[4s+2] (left) and order[4s+3]
 * (right). A right-to-left booklet (Arabic, Farsi, Urdu) is bound on the right: each side's halves are swapped.
 * Returns the number of entries written (4 per sheet); order must hold pages + 3 entries. */
size_t vip_impose_saddle_order(size_t pages, int rtl, size_t *order);

/* Reads the PDF at in (its pages A5 portrait, or any size: each is scaled to fit half a sheet) and writes the
 * imposed PDF to out_path through a temporary file (vip_outfile): landscape A4 sheets, two pages a side.
 * Deterministic: the same input gives the same bytes. */
int vip_impose_booklet(const char *in, const char *out_path, int rtl, vip_error *err);

#endif
