/* vip_bidi: UAX #9 through ICU ubidi. ICU works on UTF-16, the rest of vipgen on UTF-8 byte offsets, so the
 * text is converted once here and two index maps translate between the two. */
#include "bidi.h"

#include <stdint.h>
#include <stdlib.h>

#include <unicode/ubidi.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

struct vip_bidi {
    const char *utf8;
    size_t len;
    UChar *u16;        /* the text in UTF-16; ubidi keeps a pointer to it, so it lives as long as `para` */
    int32_t u16len;
    int32_t *u8_to_u16; /* len + 1 entries: the UTF-16 index of the character holding each byte */
    int32_t *u16_to_u8; /* u16len + 1 entries: the byte offset where each code unit's character starts */
    UBiDi *para;
};

void vip_bidi_destroy(vip_bidi *bidi)
{
    if (!bidi)
        return;
    if (bidi->para)
        ubidi_close(bidi->para);
    free(bidi->u16);
    free(bidi->u8_to_u16);
    free(bidi->u16_to_u8);
    free(bidi);
}

/* Decodes the UTF-8 text into UTF-16 and fills both maps. Ill-formed input is refused even though the caller
 * is meant to have validated it: ICU would silently substitute U+FFFD and the maps would then disagree. */
static int convert(vip_bidi *b, vip_error *err)
{
    const uint8_t *s = (const uint8_t *)b->utf8;
    int32_t n = (int32_t)b->len;
    /* UTF-16 never needs more code units than UTF-8 needs bytes. */
    b->u16 = malloc(((size_t)n + 1) * sizeof *b->u16);
    b->u8_to_u16 = malloc(((size_t)n + 1) * sizeof *b->u8_to_u16);
    b->u16_to_u8 = malloc(((size_t)n + 1) * sizeof *b->u16_to_u8);
    if (!b->u16 || !b->u8_to_u16 || !b->u16_to_u8)
        return vip_error_set(err, VIP_ERR_NOMEM, "bidi: out of memory for %zu bytes of text", b->len);

    int32_t i = 0, j = 0;
    while (i < n) {
        int32_t start = i;
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0)
            return vip_error_set(err, VIP_ERR_INPUT, "bidi: invalid UTF-8 at byte %ld", (long)start);
        for (int32_t k = start; k < i; k++)
            b->u8_to_u16[k] = j;
        b->u16_to_u8[j] = start;
        if (U16_LENGTH(c) == 2) {
            b->u16[j] = U16_LEAD(c);
            b->u16[j + 1] = U16_TRAIL(c);
            b->u16_to_u8[j + 1] = start;
            j += 2;
        } else {
            b->u16[j++] = (UChar)c;
        }
    }
    b->u8_to_u16[n] = j;
    b->u16_to_u8[j] = n;
    b->u16len = j;
    return VIP_OK;
}

vip_bidi *vip_bidi_create(const char *utf8, size_t len, vip_bidi_base base, vip_error *err)
{
    UBiDiLevel level;
    switch (base) {
    case VIP_BIDI_LTR: level = 0; break;
    case VIP_BIDI_RTL: level = 1; break;
    case VIP_BIDI_AUTO_LTR: level = UBIDI_DEFAULT_LTR; break;
    case VIP_BIDI_AUTO_RTL: level = UBIDI_DEFAULT_RTL; break;
    default:
        vip_error_set(err, VIP_ERR_INTERNAL, "bidi: unknown paragraph direction %d", (int)base);
        return NULL;
    }
    if (!utf8 && len > 0) {
        vip_error_set(err, VIP_ERR_INTERNAL, "bidi: NULL text");
        return NULL;
    }
    /* ICU indexes with int32_t. */
    if (len >= INT32_MAX) {
        vip_error_set(err, VIP_ERR_INPUT, "bidi: text too long (%zu bytes)", len);
        return NULL;
    }

    vip_bidi *b = calloc(1, sizeof *b);
    if (!b) {
        vip_error_set(err, VIP_ERR_NOMEM, "bidi: out of memory");
        return NULL;
    }
    b->utf8 = utf8 ? utf8 : "";
    b->len = len;
    if (convert(b, err) != VIP_OK) {
        vip_bidi_destroy(b);
        return NULL;
    }

    UErrorCode ec = U_ZERO_ERROR;
    b->para = ubidi_openSized(b->u16len, 0, &ec);
    if (U_SUCCESS(ec))
        ubidi_setPara(b->para, b->u16, b->u16len, level, NULL, &ec);
    if (U_FAILURE(ec)) {
        vip_error_set(err, ec == U_MEMORY_ALLOCATION_ERROR ? VIP_ERR_NOMEM : VIP_ERR_INTERNAL,
                      "bidi: ubidi_setPara failed: %s", u_errorName(ec));
        vip_bidi_destroy(b);
        return NULL;
    }
    return b;
}

/* With several paragraphs (text holding U+2029 or the like) this is the first paragraph's level. */
int vip_bidi_is_rtl(const vip_bidi *bidi)
{
    return bidi ? (ubidi_getParaLevel(bidi->para) & 1) : 0;
}

uint8_t vip_bidi_level_at(const vip_bidi *bidi, size_t offset)
{
    if (!bidi)
        return 0;
    if (offset >= bidi->len) /* past the end: the level a new character there would start from */
        return ubidi_getParaLevel(bidi->para);
    return ubidi_getLevelAt(bidi->para, bidi->u8_to_u16[offset]);
}

/* Levels of [s16, e16), which lies in one paragraph, spread onto bytes from levels[0] = byte u16_to_u8[s16]. */
static int piece_levels(const vip_bidi *b, int32_t s16, int32_t e16, uint8_t *levels, vip_error *err)
{
    UErrorCode ec = U_ZERO_ERROR;
    UBiDi *line = ubidi_openSized(e16 - s16, 0, &ec);
    const UBiDiLevel *lv = NULL;
    if (U_SUCCESS(ec))
        ubidi_setLine(b->para, s16, e16, line, &ec); /* applies rule L1 to the line */
    if (U_SUCCESS(ec))
        lv = ubidi_getLevels(line, &ec);
    if (U_FAILURE(ec) || !lv) {
        if (line)
            ubidi_close(line);
        return vip_error_set(err, ec == U_MEMORY_ALLOCATION_ERROR ? VIP_ERR_NOMEM : VIP_ERR_INTERNAL,
                             "bidi: line levels of [%ld, %ld) failed: %s", (long)s16, (long)e16,
                             u_errorName(ec));
    }
    size_t base = (size_t)b->u16_to_u8[s16];
    for (int32_t j = s16; j < e16; j++) {
        /* A surrogate pair's two units carry one level; each unit's character spans up to the next one's. */
        size_t from = (size_t)b->u16_to_u8[j], to = (size_t)b->u16_to_u8[j + 1];
        for (size_t k = from; k < to; k++)
            levels[k - base] = lv[j - s16];
    }
    ubidi_close(line);
    return VIP_OK;
}

/* Note: when every level of a line has the paragraph's parity (say an Arabic digit, level 2, in an LTR line),
 * ICU treats the line as unidirectional and reports all of it at the paragraph level. Run directions and the
 * L2 order are the same either way, so layout is unaffected; only the raw numbers differ from UAX #9's. */
int vip_bidi_line_levels(const vip_bidi *bidi, size_t start, size_t end, uint8_t *levels, vip_error *err)
{
    if (!bidi || (!levels && end > start))
        return vip_error_set(err, VIP_ERR_INTERNAL, "bidi: NULL argument");
    if (start > end || end > bidi->len)
        return vip_error_set(err, VIP_ERR_INTERNAL, "bidi: line [%zu, %zu) outside the text (%zu bytes)", start,
                             end, bidi->len);
    if (start == end)
        return VIP_OK;
    int32_t s16 = bidi->u8_to_u16[start], e16 = bidi->u8_to_u16[end];
    if ((size_t)bidi->u16_to_u8[s16] != start || (end < bidi->len && (size_t)bidi->u16_to_u8[e16] != end))
        return vip_error_set(err, VIP_ERR_INTERNAL, "bidi: line [%zu, %zu) not on character boundaries", start,
                             end);

    /* ubidi_setLine refuses a line that crosses a paragraph boundary; vipgen's lines never do, but should one,
     * each paragraph's piece is levelled on its own, which is what L1 means there anyway (B ends a line). */
    while (s16 < e16) {
        int32_t pstart, plimit;
        UErrorCode ec = U_ZERO_ERROR;
        ubidi_getParagraph(bidi->para, s16, &pstart, &plimit, NULL, &ec);
        if (U_FAILURE(ec))
            return vip_error_set(err, VIP_ERR_INTERNAL, "bidi: ubidi_getParagraph failed: %s", u_errorName(ec));
        int32_t pe = plimit < e16 ? plimit : e16;
        int rc = piece_levels(bidi, s16, pe, levels + ((size_t)bidi->u16_to_u8[s16] - start), err);
        if (rc != VIP_OK)
            return rc;
        s16 = pe;
    }
    return VIP_OK;
}

int vip_bidi_reorder(const uint8_t *levels, size_t n, uint32_t *order, vip_error *err)
{
    if (n == 0)
        return VIP_OK;
    if (!levels || !order)
        return vip_error_set(err, VIP_ERR_INTERNAL, "bidi: NULL argument");
    if (n >= INT32_MAX)
        return vip_error_set(err, VIP_ERR_INPUT, "bidi: too many items to reorder (%zu)", n);
    /* ubidi_reorderVisual silently does nothing on a level above this, so refuse it here. */
    for (size_t i = 0; i < n; i++)
        if (levels[i] > UBIDI_MAX_EXPLICIT_LEVEL + 1)
            return vip_error_set(err, VIP_ERR_INTERNAL, "bidi: level %u out of range at item %zu",
                                 (unsigned)levels[i], i);
    int32_t *map = malloc(n * sizeof *map);
    if (!map)
        return vip_error_set(err, VIP_ERR_NOMEM, "bidi: out of memory reordering %zu items", n);
    ubidi_reorderVisual(levels, (int32_t)n, map);
    for (size_t v = 0; v < n; v++)
        order[v] = (uint32_t)map[v];
    free(map);
    return VIP_OK;
}
