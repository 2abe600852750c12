#include "hyphen.h"

/* libhyphen's header has this module's name: -Igenerator would find ours first. */
#include "/usr/include/hyphen.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#define HYPHEN_DIR "/usr/share/hyphen"
#define MAX_WORD 100 /* libhyphen's own limit on a word's characters */

struct vip_hyphen {
    HyphenDict *dict;
    UConverter *charset; /* the dictionary's 8-bit charset (hyph_pl_PL.dic is ISO 8859-2); NULL for UTF-8 */
};

static const struct {
    const char *lang, *file, *package;
} dictionaries[] = {
    {"en", "hyph_en_GB.dic", "hyphen-en-gb"},
    {"pl", "hyph_pl_PL.dic", "hyphen-pl"},
    {"ro", "hyph_ro_RO.dic", "hyphen-ro"},
};

static int find(const char *lang)
{
    for (size_t i = 0; lang && i < sizeof dictionaries / sizeof dictionaries[0]; i++)
        if (strcmp(dictionaries[i].lang, lang) == 0)
            return (int)i;
    return -1;
}

int vip_hyphen_supported(const char *lang)
{
    return find(lang) >= 0;
}

vip_hyphen *vip_hyphen_create(const char *lang, vip_error *err)
{
    int d = find(lang);
    if (d < 0) {
        vip_error_set(err, VIP_ERR_INTERNAL, "no hyphenation patterns for '%s'", lang ? lang : "");
        return NULL;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", HYPHEN_DIR, dictionaries[d].file);
    vip_hyphen *h = calloc(1, sizeof *h);
    if (!h) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* hnj_hyphen_load prints nothing and returns NULL for a file it cannot open or read. */
    if (!(h->dict = hnj_hyphen_load(path))) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot read the hyphenation patterns for '%s'; they are provided by the "
                      "Debian package %s (apt-get install %s)", path, lang, dictionaries[d].package,
                      dictionaries[d].package);
        free(h);
        return NULL;
    }
    if (!h->dict->utf8) {
        UErrorCode status = U_ZERO_ERROR;
        h->charset = ucnv_open(h->dict->cset, &status);
        if (U_SUCCESS(status))
            ucnv_setFromUCallBack(h->charset, UCNV_FROM_U_CALLBACK_STOP, NULL, NULL, NULL, &status);
        if (U_FAILURE(status)) {
            vip_error_set(err, VIP_ERR_INTERNAL, "%s: its character set '%s' is unknown to ICU (%s)", path,
                          h->dict->cset, u_errorName(status));
            vip_hyphen_destroy(h);
            return NULL;
        }
    }
    return h;
}

void vip_hyphen_destroy(vip_hyphen *h)
{
    if (!h)
        return;
    if (h->dict)
        hnj_hyphen_free(h->dict);
    if (h->charset)
        ucnv_close(h->charset);
    free(h);
}

/* The word in lower case (the patterns are), in the dictionary's encoding; its length in bytes, or 0 when it
 * cannot be written in it. */
static size_t encode(vip_hyphen *h, const uint32_t *word, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    if (!h->charset) {
        for (size_t i = 0; i < n; i++) {
            UChar32 c = u_tolower((UChar32)word[i]);
            UBool error = 0;
            size_t at = len;
            U8_APPEND((uint8_t *)out, at, cap, c, error);
            if (error)
                return 0;
            len = at;
        }
        return len;
    }
    UChar u[2 * MAX_WORD];
    int32_t ulen = 0;
    for (size_t i = 0; i < n; i++) {
        UBool error = 0;
        U16_APPEND(u, ulen, 2 * MAX_WORD, u_tolower((UChar32)word[i]), error);
        if (error)
            return 0;
    }
    UErrorCode status = U_ZERO_ERROR;
    ucnv_resetFromUnicode(h->charset);
    int32_t got = ucnv_fromUChars(h->charset, out, (int32_t)cap, u, ulen, &status);
    /* One byte per character, or the hyphen vector would not line up with the word. */
    return U_SUCCESS(status) && got == (int32_t)n ? (size_t)got : 0;
}

int vip_hyphen_points(vip_hyphen *h, const uint32_t *word, size_t n, unsigned char *after)
{
    memset(after, 0, n);
    if (n < 5 || n > MAX_WORD)
        return VIP_OK;
    char bytes[4 * MAX_WORD + 1];
    size_t len = encode(h, word, n, bytes, sizeof bytes - 1);
    if (!len)
        return VIP_OK;
    bytes[len] = '\0';
    char *hyphens = calloc(len + 5, 1);
    if (!hyphens)
        return VIP_ERR_NOMEM;
    char **rep = NULL;
    int *pos = NULL, *cut = NULL;
    /* lefthyphenmin 2, righthyphenmin 3, as TeX sets English and most printers Polish and Romanian. */
    int rc = hnj_hyphen_hyphenate3(h->dict, bytes, (int)len, hyphens, NULL, &rep, &pos, &cut, 2, 3, 2, 3);
    /* The vector has an entry per character (UTF-8 dictionaries) or per byte (8-bit ones: the same here). A
     * point whose hyphenation changes the spelling (rep: none in these languages' patterns) is not taken. */
    for (size_t i = 0; rc == 0 && i + 1 < n; i++)
        after[i] = (hyphens[i] & 1) && !(rep && rep[i]);
    if (rep) {
        for (size_t i = 0; i < len; i++)
            free(rep[i]);
        free(rep);
    }
    free(pos);
    free(cut);
    free(hyphens);
    return VIP_OK;
}
