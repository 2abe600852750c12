/* vip_catalog: a translation catalogue (XLIFF 2.0, one file per language, English source and target).
 * Messages are looked up by unit id and formatted with named arguments. A unit whose target is missing or
 * empty falls back to its English source and the fallback is recorded (never a blank); a target whose
 * arguments differ from its source's makes loading fail with an error naming the unit and the argument. */
#ifndef VIP_CATALOG_H
#define VIP_CATALOG_H

#include <stddef.h>

#include "error.h"
#include "message.h"

typedef struct vip_catalog vip_catalog;

typedef enum {
    VIP_UNIT_TRANSLATED = 0, /* target present (state translated, reviewed or final) */
    VIP_UNIT_FALLBACK,       /* target missing or empty: the English source is used */
    VIP_UNIT_INITIAL         /* state="initial": present but not yet translated; the English source is used */
} vip_unit_status;

/* Loads a catalogue. Its language is the file's trgLang (canonicalised; must be supported). */
vip_catalog *vip_catalog_load(const char *path, vip_error *err);
void vip_catalog_destroy(vip_catalog *catalog);

const char *vip_catalog_lang(const vip_catalog *catalog); /* canonical tag, e.g. "zh-Hans" */
const char *vip_catalog_path(const vip_catalog *catalog);
size_t vip_catalog_unit_count(const vip_catalog *catalog);
/* Unit i in file order: its id, status, translator note (may be NULL), source and effective text. */
const char *vip_catalog_unit_id(const vip_catalog *catalog, size_t i);
vip_unit_status vip_catalog_unit_status(const vip_catalog *catalog, size_t i);
int vip_catalog_unit_line(const vip_catalog *catalog, size_t i); /* line of the <unit> in the file */
const char *vip_catalog_unit_note(const vip_catalog *catalog, size_t i);   /* may be NULL */
const char *vip_catalog_unit_source(const vip_catalog *catalog, size_t i); /* English */
const char *vip_catalog_unit_text(const vip_catalog *catalog, size_t i);   /* what is used: target or source */
int vip_catalog_has(const vip_catalog *catalog, const char *id);

/* Formats unit `id` with named arguments; malloc'd UTF-8 (caller frees). Compiled patterns are cached in the
 * catalogue, so a batch pays for compiling each message once. An unknown id is an error naming it. When the
 * unit falls back to English, *fell_back (if given) is set to 1. */
char *vip_catalog_format(vip_catalog *catalog, const char *id, const vip_arg *args, size_t count, int *fell_back,
                         vip_error *err);

#endif
