/* vip_lang: the languages vipgen supports, and what each implies for text (direction, script, locale). */
#ifndef VIP_LANG_H
#define VIP_LANG_H

#include "error.h"

typedef struct vip_lang {
    const char *tag;        /* canonical BCP 47 tag: en pl ro ar fa ur pa zh-Hans */
    const char *name;       /* English name, for messages */
    const char *icu_locale; /* locale for ICU services (line breaking, formatting) */
    const char *script;     /* ISO 15924 code of the language's main script: Latn Arab Guru Hans */
    int rtl;                /* 1 when the language is written right to left */
} vip_lang;

/* Looks a BCP 47 tag up (case-insensitive; aliases zh, zh-CN, zh-Hans-CN, pa-Guru, pa-IN accepted).
 * Returns NULL and, when err is given, an error listing the supported tags. */
const vip_lang *vip_lang_find(const char *tag, vip_error *err);

/* The supported languages in a fixed order; *count receives their number. */
const vip_lang *vip_lang_all(size_t *count);

#endif
