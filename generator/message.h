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

#endif
