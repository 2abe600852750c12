/* vip_breaker: line-break opportunities and grapheme boundaries through ICU's break iterators.
 * The iterators run over a UTF-8 UText, whose native indexes are byte offsets, so no UTF-16 copy or index map
 * is needed; they are opened once per breaker (opening compiles rule data) and pointed at each new text. */
#include "linebreak.h"

#include <stdint.h>
#include <stdlib.h>

#include <unicode/ubrk.h>
#include <unicode/utext.h>
#include <unicode/utf8.h>

struct vip_breaker {
    UBreakIterator *line;
    UBreakIterator *chr;
};

static const UChar empty_text[1] = {0};

void vip_breaker_destroy(vip_breaker *breaker)
{
    if (!breaker)
        return;
    if (breaker->line)
        ubrk_close(breaker->line);
    if (breaker->chr)
        ubrk_close(breaker->chr);
    free(breaker);
}

vip_breaker *vip_breaker_create(const char *icu_locale, vip_error *err)
{
    /* NULL would make ICU use the process's default locale; the root locale keeps output reproducible. */
    const char *loc = icu_locale ? icu_locale : "";
    vip_breaker *b = calloc(1, sizeof *b);
    if (!b) {
        vip_error_set(err, VIP_ERR_NOMEM, "linebreak: out of memory");
        return NULL;
    }
    UErrorCode ec = U_ZERO_ERROR;
    b->line = ubrk_open(UBRK_LINE, loc, empty_text, 0, &ec);
    if (U_SUCCESS(ec))
        b->chr = ubrk_open(UBRK_CHARACTER, loc, empty_text, 0, &ec);
    if (U_FAILURE(ec)) {
        vip_error_set(err, ec == U_MEMORY_ALLOCATION_ERROR ? VIP_ERR_NOMEM : VIP_ERR_INTERNAL,
                      "linebreak: cannot open break iterators for locale \"%s\": %s", loc, u_errorName(ec));
        vip_breaker_destroy(b);
        return NULL;
    }
    return b;
}

/* ICU would map ill-formed bytes to U+FFFD and could report a boundary inside them; refuse them instead. */
static int check_text(const char *utf8, size_t len, vip_error *err)
{
    if (!utf8 && len > 0)
        return vip_error_set(err, VIP_ERR_INTERNAL, "linebreak: NULL text");
    if (len >= INT32_MAX) /* break iterators return int32_t offsets */
        return vip_error_set(err, VIP_ERR_INPUT, "linebreak: text too long (%zu bytes)", len);
    const uint8_t *s = (const uint8_t *)utf8;
    int32_t n = (int32_t)len;
    for (int32_t i = 0; i < n;) {
        int32_t start = i;
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0)
            return vip_error_set(err, VIP_ERR_INPUT, "linebreak: invalid UTF-8 at byte %ld", (long)start);
    }
    return VIP_OK;
}

/* Points `bi` at the text. The iterator keeps a shallow clone of the UText, i.e. a pointer to the caller's
 * bytes, so detach() must follow before returning. */
static int attach(UBreakIterator *bi, const char *utf8, size_t len, vip_error *err)
{
    UErrorCode ec = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, utf8, (int64_t)len, &ec);
    if (U_SUCCESS(ec))
        ubrk_setUText(bi, ut, &ec);
    utext_close(ut);
    if (U_FAILURE(ec))
        return vip_error_set(err, ec == U_MEMORY_ALLOCATION_ERROR ? VIP_ERR_NOMEM : VIP_ERR_INTERNAL,
                             "linebreak: cannot set the break iterator's text: %s", u_errorName(ec));
    return VIP_OK;
}

/* Leaves the iterator on an empty static text so it holds no pointer to memory the caller may free. */
static void detach(UBreakIterator *bi)
{
    UErrorCode ec = U_ZERO_ERROR;
    ubrk_setText(bi, empty_text, 0, &ec);
}

/* Grows *buf (elements of `size` bytes) so that one more fits. */
static int reserve(void **buf, size_t *cap, size_t used, size_t size, vip_error *err)
{
    if (used < *cap)
        return VIP_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / size)
        return vip_error_set(err, VIP_ERR_NOMEM, "linebreak: too many boundaries");
    void *p = realloc(*buf, ncap * size);
    if (!p)
        return vip_error_set(err, VIP_ERR_NOMEM, "linebreak: out of memory for %zu boundaries", ncap);
    *buf = p;
    *cap = ncap;
    return VIP_OK;
}

/* The boundaries `it` finds in the text, as vip_break records (lines: with the rule status) or as plain offsets
 * (graphemes). Always hands back an allocation, even for empty text, so callers need no special case. */
static int collect(UBreakIterator *it, int lines, const char *utf8, size_t len, void **out, size_t *count,
                   vip_error *err)
{
    size_t size = lines ? sizeof(vip_break) : sizeof(uint32_t);
    *out = NULL;
    *count = 0;
    int rc = check_text(utf8, len, err);
    if (rc != VIP_OK)
        return rc;
    size_t cap = 0, n = 0;
    void *buf = NULL;
    rc = reserve(&buf, &cap, 0, size, err);
    if (rc != VIP_OK)
        return rc;
    if (len > 0) {
        rc = attach(it, utf8, len, err);
        if (rc != VIP_OK) {
            free(buf);
            return rc;
        }
        ubrk_first(it);
        for (int32_t pos = ubrk_next(it); pos != UBRK_DONE; pos = ubrk_next(it)) {
            rc = reserve(&buf, &cap, n, size, err);
            if (rc != VIP_OK)
                break;
            if (lines) {
                int32_t status = ubrk_getRuleStatus(it);
                vip_break *v = (vip_break *)buf + n;
                v->offset = (uint32_t)pos;
                v->mandatory = status >= UBRK_LINE_HARD && status < UBRK_LINE_HARD_LIMIT;
            } else {
                ((uint32_t *)buf)[n] = (uint32_t)pos;
            }
            n++;
        }
        detach(it);
        if (rc != VIP_OK) {
            free(buf);
            return rc;
        }
    }
    *out = buf;
    *count = n;
    return VIP_OK;
}

int vip_breaker_lines(vip_breaker *breaker, const char *utf8, size_t len, vip_break **out, size_t *count,
                      vip_error *err)
{
    if (!breaker || !out || !count)
        return vip_error_set(err, VIP_ERR_INTERNAL, "linebreak: NULL argument");
    return collect(breaker->line, 1, utf8, len, (void **)out, count, err);
}

int vip_breaker_graphemes(vip_breaker *breaker, const char *utf8, size_t len, uint32_t **out, size_t *count,
                          vip_error *err)
{
    if (!breaker || !out || !count)
        return vip_error_set(err, VIP_ERR_INTERNAL, "linebreak: NULL argument");
    return collect(breaker->chr, 0, utf8, len, (void **)out, count, err);
}
