/* vip_hyphen: where a word may be hyphenated, by the TeX patterns Debian packages for libhyphen (hyphen-en-gb,
 * hyphen-pl, hyphen-ro). The line breaker asks it for justified text in these languages. */
#ifndef VIP_HYPHEN_H
#define VIP_HYPHEN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct vip_hyphen vip_hyphen;

/* Whether vipgen hyphenates a language (BCP 47 tag as vip_lang canonicalises it: "en", "pl", "ro"). */
int vip_hyphen_supported(const char *lang);

/* Loads the patterns of a supported language from /usr/share/hyphen. A missing or unreadable file is an error
 * naming it and the Debian package that provides it. */
vip_hyphen *vip_hyphen_create(const char *lang, vip_error *err);
void vip_hyphen_destroy(vip_hyphen *h);

/* Hyphenation points of one word of n code points (letters; any case): after[i] is set to 1 where a hyphen may
 * follow character i, 0 elsewhere. At least two letters stay before a hyphen and three after it. A word the
 * patterns cannot take (a character outside their alphabet, over 100 characters) gets no points. Returns
 * VIP_OK, or VIP_ERR_NOMEM. */
int vip_hyphen_points(vip_hyphen *h, const uint32_t *word, size_t n, unsigned char *after);

#endif
