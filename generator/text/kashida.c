#include "kashida.h"

#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

int vip_kashida_language(const char *lang)
{
    return strcmp(lang, "ar") == 0 || strcmp(lang, "fa") == 0;
}

static int joining_type(uint32_t cp)
{
    return u_getIntPropertyValue((UChar32)cp, UCHAR_JOINING_TYPE);
}

static int joining_group(uint32_t cp)
{
    return u_getIntPropertyValue((UChar32)cp, UCHAR_JOINING_GROUP);
}

/* The next character after i that is not transparent to joining (marks are), or n. */
static size_t next_joining(const uint32_t *cp, size_t n, size_t i)
{
    size_t k = i + 1;
    while (k < n && joining_type(cp[k]) == U_JT_TRANSPARENT)
        k++;
    return k;
}

/* Whether character i joins the letter after it, i.e. is not in its final (or isolated) form. */
static int joins_next(const uint32_t *cp, size_t n, size_t i)
{
    int t = joining_type(cp[i]);
    if (t != U_JT_DUAL_JOINING && t != U_JT_JOIN_CAUSING)
        return 0;
    size_t k = next_joining(cp, n, i);
    if (k >= n)
        return 0;
    int u = joining_type(cp[k]);
    return u == U_JT_DUAL_JOINING || u == U_JT_RIGHT_JOINING || u == U_JT_JOIN_CAUSING;
}

static int is_beh_like(int group)
{
    return group == U_JG_BEH || group == U_JG_NOON || group == U_JG_YEH || group == U_JG_FARSI_YEH;
}

/* The priority of a kashida joining character i - 1 to character i (0: not a traditional place). */
static int priority(const uint32_t *cp, size_t n, size_t i)
{
    int before = joining_group(cp[i - 1]), group = joining_group(cp[i]);
    if (before == U_JG_SEEN || before == U_JG_SAD)
        return 1;
    if (!joins_next(cp, n, i)) {
        if (group == U_JG_TEH_MARBUTA || group == U_JG_TEH_MARBUTA_GOAL || group == U_JG_HEH ||
            group == U_JG_HEH_GOAL || group == U_JG_KNOTTED_HEH || group == U_JG_DAL)
            return 2;
        if (group == U_JG_ALEF)
            return before == U_JG_LAM ? 0 : 3;
        if (group == U_JG_TAH || group == U_JG_LAM || group == U_JG_KAF || group == U_JG_GAF ||
            group == U_JG_SWASH_KAF)
            return 3;
        if (group == U_JG_WAW || group == U_JG_AIN || group == U_JG_QAF || group == U_JG_FEH)
            return 5;
        return 6;
    }
    if (is_beh_like(group)) {
        size_t k = next_joining(cp, n, i);
        int after = k < n ? joining_group(cp[k]) : U_JG_NO_JOINING_GROUP;
        if (k < n && !joins_next(cp, n, k) && (after == U_JG_REH || after == U_JG_YEH || after == U_JG_FARSI_YEH))
            return 4;
    }
    return 0;
}

static int in_word(uint32_t cp)
{
    UErrorCode status = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript((UChar32)cp, &status);
    return (U_SUCCESS(status) && sc == USCRIPT_ARABIC) || joining_type(cp) == U_JT_TRANSPARENT ||
           cp == 0x200C || cp == 0x200D;
}

void vip_kashida_places(const uint32_t *cp, size_t n, const uint8_t *eligible, uint8_t *place)
{
    memset(place, 0, n);
    for (size_t w0 = 0, w1; w0 < n; w0 = w1) {
        if (!in_word(cp[w0])) {
            w1 = w0 + 1;
            continue;
        }
        for (w1 = w0 + 1; w1 < n && in_word(cp[w1]);)
            w1++;
        int best = 0;
        size_t at = 0;
        for (size_t i = w0 + 1; i < w1; i++) {
            if (!eligible[i])
                continue;
            int pr = priority(cp, n, i);
            if (pr && (!best || pr <= best)) {
                best = pr;
                at = i;
            }
        }
        if (best)
            place[at] = (uint8_t)best;
    }
}
