/* vip_bidi: the Unicode Bidirectional Algorithm (UAX #9) through ICU's ubidi, on UTF-8 byte offsets.
 * A paragraph's levels are resolved once; each line is then re-levelled (rule L1) and reordered (rule L2)
 * on its own, after line breaking. */
#ifndef VIP_BIDI_H
#define VIP_BIDI_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum {
    VIP_BIDI_LTR = 0,      /* paragraph level 0 */
    VIP_BIDI_RTL = 1,      /* paragraph level 1 */
    VIP_BIDI_AUTO_LTR = 2, /* from the first strong character (rules P2, P3); LTR when there is none */
    VIP_BIDI_AUTO_RTL = 3  /* likewise, RTL when there is none */
} vip_bidi_base;

typedef struct vip_bidi vip_bidi;

/* Resolves the embedding levels of one paragraph of UTF-8 text (which the caller has validated).
 * The text is not copied and must outlive the object. */
vip_bidi *vip_bidi_create(const char *utf8, size_t len, vip_bidi_base base, vip_error *err);
void vip_bidi_destroy(vip_bidi *bidi);

/* 1 when the resolved paragraph level is odd (right to left). */
int vip_bidi_is_rtl(const vip_bidi *bidi);

/* The paragraph's resolved level of the character that starts at byte offset `offset` (before rule L1). */
uint8_t vip_bidi_level_at(const vip_bidi *bidi, size_t offset);

/* Levels of the line [start, end) (byte offsets on character boundaries) after rule L1, one per byte:
 * levels[i] is the level of the byte start + i; the bytes of one character share its level. */
int vip_bidi_line_levels(const vip_bidi *bidi, size_t start, size_t end, uint8_t *levels, vip_error *err);

/* Rule L2: the visual order of n items (characters or runs) with the given levels.
 * order[v] receives the logical index of the item shown at visual position v (leftmost first). */
int vip_bidi_reorder(const uint8_t *levels, size_t n, uint32_t *order, vip_error *err);

#endif
