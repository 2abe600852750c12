/* vip_message: ICU MessageFormat with named arguments (plural, select, number, date), behind a C interface.
 * Case values are passed as arguments and never become part of a pattern: "Seán O'Brien {0}" prints as is.
 * Dates use the Gregorian calendar in every language; numbers and dates use the language's own digits. */
#ifndef VIP_MESSAGE_H
#define VIP_MESSAGE_H

#include <stddef.h>

#include "error.h"

typedef enum { VIP_ARG_STRING, VIP_ARG_NUMBER, VIP_ARG_DATE } vip_arg_type;

typedef struct vip_arg {
    const char *name;
    vip_arg_type type;
    const char *string;     /* VIP_ARG_STRING, UTF-8 */
    double number;          /* VIP_ARG_NUMBER */
    int year, month, day;   /* VIP_ARG_DATE (a calendar date, no time or zone) */
} vip_arg;

typedef struct vip_message vip_message;

/* Compiles pattern for a BCP 47 language tag (e.g. "fa", "zh-Hans"). Errors name the syntax problem. */
vip_message *vip_message_compile(const char *pattern, const char *lang, vip_error *err);
void vip_message_destroy(vip_message *message);

/* Formats with named arguments; returns a malloc'd UTF-8 string (caller frees), NULL on error. An argument the
 * pattern uses but args lack is an error naming it. */
char *vip_message_format(const vip_message *message, const vip_arg *args, size_t count, vip_error *err);

/* The distinct argument names a pattern uses, sorted; *names is malloc'd, each name too
 * (free with vip_message_free_names). */
int vip_message_arg_names(const char *pattern, char ***names, size_t *count, vip_error *err);
void vip_message_free_names(char **names, size_t count);

/* A number in the language's digits and grouping (e.g. for "page N of M"): malloc'd UTF-8. */
char *vip_message_format_number(double number, const char *lang, vip_error *err);

/* For checking a translation (vip_check). The plural and select cases a pattern gives, in pattern order: one
 * entry per case, with `choice` numbering the plural/select arguments of the pattern from 0 (a nested one counts
 * too), so the cases of one argument can be told from another's of the same name. */
typedef enum { VIP_CHOICE_PLURAL, VIP_CHOICE_SELECTORDINAL, VIP_CHOICE_SELECT } vip_choice_kind;

typedef struct vip_message_case {
    char *arg;            /* the argument's name */
    vip_choice_kind kind;
    int choice;           /* which plural/select of the pattern, from 0 */
    char *key;            /* "one", "other", "=1", "yes" ... */
} vip_message_case;

/* *cases is malloc'd (free with vip_message_free_cases); a syntax error is an error as in vip_message_compile. */
int vip_message_cases(const char *pattern, vip_message_case **cases, size_t *count, vip_error *err);
void vip_message_free_cases(vip_message_case *cases, size_t count);

/* The CLDR plural categories ICU has for a language ("one", "other" ...; ordinal: 1 for selectordinal's),
 * sorted; free with vip_message_free_names. */
int vip_message_plural_categories(const char *lang, int ordinal, char ***names, size_t *count, vip_error *err);

/* The most code points (after NFC) the pattern can print besides its arguments' values: the longest branch of
 * each plural or select, '#' as one digit, quoting resolved. */
int vip_message_text_length(const char *pattern, size_t *codepoints, vip_error *err);

/* text run through the ICU transliterator `id` (e.g. "Hant-Hans", "Any-NFC"); malloc'd UTF-8. Transliterators
 * are made once per id and kept for the process. */
char *vip_message_transliterate(const char *text, const char *id, vip_error *err);

#endif
