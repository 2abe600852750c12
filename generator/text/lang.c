#include "lang.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const vip_lang languages[] = {
    {"en", "English", "en_GB", "Latn", 0},
    {"pl", "Polish", "pl", "Latn", 0},
    {"ro", "Romanian", "ro", "Latn", 0},
    {"ar", "Arabic", "ar", "Arab", 1},
    {"fa", "Farsi", "fa", "Arab", 1},
    {"ur", "Urdu", "ur", "Arab", 1},
    {"pa", "Punjabi", "pa", "Guru", 0},
    {"zh-Hans", "Chinese (Simplified)", "zh_Hans", "Hans", 0},
};

static const struct {
    const char *alias, *tag;
} aliases[] = {
    {"en-GB", "en"},   {"pl-PL", "pl"},       {"ro-RO", "ro"},      {"fa-IR", "fa"},
    {"ur-PK", "ur"},   {"pa-Guru", "pa"},     {"pa-IN", "pa"},      {"pa-Guru-IN", "pa"},
    {"zh", "zh-Hans"}, {"zh-CN", "zh-Hans"},  {"zh-Hans-CN", "zh-Hans"}, {"zh-SG", "zh-Hans"},
};

const vip_lang *vip_lang_all(size_t *count)
{
    if (count)
        *count = sizeof languages / sizeof languages[0];
    return languages;
}

const vip_lang *vip_lang_find(const char *tag, vip_error *err)
{
    if (tag) {
        /* Accept '_' as a separator too (zh_CN), as locale names are often written that way. */
        char norm[32];
        size_t n = strlen(tag);
        if (n > 0 && n < sizeof norm) {
            for (size_t i = 0; i <= n; i++)
                norm[i] = tag[i] == '_' ? '-' : tag[i];
            for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
                if (strcasecmp(norm, languages[i].tag) == 0)
                    return &languages[i];
            for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
                if (strcasecmp(norm, aliases[i].alias) == 0)
                    return vip_lang_find(aliases[i].tag, NULL);
        }
    }
    if (err) {
        char list[256] = "";
        for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, languages[i].tag, sizeof list - strlen(list) - 1);
        }
        vip_error_set(err, VIP_ERR_INPUT, "unknown language tag '%s'; supported: %s", tag ? tag : "(none)",
                      list);
    }
    return NULL;
}
