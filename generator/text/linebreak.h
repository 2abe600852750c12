/* vip_break: where a line may end (UAX #14, as ICU tailors it for a language) and where a character ends
 * (grapheme clusters, for breaking a word too long for any line). Offsets are UTF-8 byte offsets. */
#ifndef VIP_LINEBREAK_H
#define VIP_LINEBREAK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct vip_breaker vip_breaker;

typedef struct vip_break {
    uint32_t offset;   /* a line may end before the byte at this offset (the text's length for its end) */
    uint8_t mandatory; /* 1 after a hard line break (LF, CR LF, U+2028, ...): the line must end here */
} vip_break;

/* One breaker per ICU locale (e.g. "zh_Hans", "en_GB"); reusable for many texts, not thread-safe. */
vip_breaker *vip_breaker_create(const char *icu_locale, vip_error *err);
void vip_breaker_destroy(vip_breaker *breaker);

/* Line-break opportunities of UTF-8 text, in increasing order, ending with len. *out is malloc'd (caller frees).
 * Offset 0 is never reported. */
int vip_breaker_lines(vip_breaker *breaker, const char *utf8, size_t len, vip_break **out, size_t *count,
                      vip_error *err);

/* Grapheme-cluster boundaries (extended grapheme clusters, UAX #29) in increasing order, excluding 0 and
 * including len. *out is malloc'd (caller frees). */
int vip_breaker_graphemes(vip_breaker *breaker, const char *utf8, size_t len, uint32_t **out, size_t *count,
                          vip_error *err);

#endif
