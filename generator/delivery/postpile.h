/* vip_postpile: the letters to post as one print-ready PDF (DIR/to-post.pdf). Letters are sorted by postcode (UK
 * order: area letters, district number, rest of the outward code, inward code; spaces and case ignored), then by
 * crime reference, then by file name, so the same letters in any order give the same file. Each letter is padded
 * with blank pages (the size, crop box and rotation of its last page) to an even page count, so duplex printing
 * never puts two victims on one sheet. Merged by libqpdf (its C API); written whole through vip_outfile (a
 * temporary renamed into place, mode vip_outfile_mode()), with a deterministic /ID: same inputs, same bytes. */
#ifndef VIP_POSTPILE_H
#define VIP_POSTPILE_H

#include <stddef.h>

#include "error.h"

typedef struct vip_postpile_letter {
    const char *pdf_path; /* the letter's PDF */
    const char *postcode; /* the victim's postcode, e.g. "NT1 4AB" */
    const char *crime_ref;
} vip_postpile_letter;

typedef struct vip_postpile_result {
    size_t letters;     /* letters in the pile */
    size_t pages;       /* pages in the pile, blank ones included (always even) */
    size_t blank_pages; /* pages added to make each letter's count even */
} vip_postpile_result;

/* Orders two postcodes as the pile does (<0, 0, >0). */
int vip_postpile_compare_postcodes(const char *a, const char *b);

/* Writes out_path from count (at least one) letters. order (may be NULL) receives count indices into letters, in
 * the order they are in the pile; result (may be NULL) the counts. Every letter's PDF is read whole into memory
 * until the pile is written (about 20-80 kB a letter). An error names the letter's file (unreadable, not a PDF,
 * password-protected, no pages) or out_path, and leaves out_path as it was. */
int vip_postpile_write(const char *out_path, const vip_postpile_letter *letters, size_t count, size_t *order,
                       vip_postpile_result *result, vip_error *err);

#endif
