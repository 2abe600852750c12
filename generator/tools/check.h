/* vip_check: checks translation catalogues for everything a translator can act on — XLIFF structure, the
 * language, units against the English catalogue, ICU syntax, arguments, plural and select cases against the
 * language's CLDR plural rules, untranslated and stale units, length limits (the XLIFF 2.0 Size and Length
 * Restriction module) and the shaped width of each unit where it is printed (vip_fit), script and orthography, and
 * the glossary's fixed terms. Each problem has its file, line,
 * unit id, a kind and a message saying what to do. Unlike vip_catalog_load, nothing stops at the first problem. */
#ifndef VIP_CHECK_MODULE_H /* not VIP_CHECK_H: the unit tests' harness tests/unit/check.h has that guard */
#define VIP_CHECK_MODULE_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "fit.h"

typedef enum { VIP_CHECK_ERROR, VIP_CHECK_WARNING } vip_check_severity;

typedef struct vip_check_problem {
    vip_check_severity severity;
    const char *file;
    int line;          /* 0 when the problem is the whole file's */
    const char *unit;  /* unit id, or NULL */
    const char *kind;  /* a stable short name for tools: "plural-unknown", "stale", "length" ... */
    const char *message;
    double excess_mm;  /* width problems: how much too wide, in millimetres (else 0) */
} vip_check_problem;

typedef struct vip_check_options {
    const char *english;  /* the English catalogue; NULL: en.xlf beside each checked file */
    const char *glossary; /* the glossary (TSV); NULL: glossary.tsv beside each checked file, if there is one */
    vip_fit *fit;         /* lays each catalogue out to check shaped widths and page counts (vip_fit_catalog: kinds
                           * "width" and "pages"); NULL: not checked. Not owned. */
    const char *cases;    /* the example case data the letter variants are made from (NULL: see vip_fit) */
} vip_check_options;

typedef struct vip_check vip_check;

vip_check *vip_check_create(const vip_check_options *options, vip_error *err);
void vip_check_destroy(vip_check *check);

/* Checks one catalogue and adds its problems. A file that cannot be read or parsed is a problem too; only
 * running out of memory (or a broken glossary or English catalogue) fails, with err set. */
int vip_check_file(vip_check *check, const char *path, vip_error *err);

size_t vip_check_count(const vip_check *check);
const vip_check_problem *vip_check_problem_at(const vip_check *check, size_t i); /* in file, then line order */
size_t vip_check_errors(const vip_check *check);
size_t vip_check_warnings(const vip_check *check);

/* Human-readable ("fa.xlf:120: error: unit letter.x: ... [kind]") or a JSON document for tools. */
int vip_check_write_text(const vip_check *check, FILE *out);
int vip_check_write_json(const vip_check *check, FILE *out);

#endif
