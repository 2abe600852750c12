/* vip_case: case data — one row per letter — read from CSV (RFC 4180: quoted commas, quotes and newlines; UTF-8
 * with or without BOM; LF or CRLF) with libcsv, and validated row by row. A bad row is reported with its row,
 * line, column and reason, and the other rows are still returned. */
#ifndef VIP_CASE_H
#define VIP_CASE_H

#include <stddef.h>

#include "error.h"

typedef enum {
    VIP_CASE_CRIME_REF, VIP_CASE_LANGUAGE, VIP_CASE_VICTIM_NAME, VIP_CASE_ADDRESS_1, VIP_CASE_ADDRESS_2,
    VIP_CASE_ADDRESS_3, VIP_CASE_TOWN, VIP_CASE_POSTCODE, VIP_CASE_EMAIL, VIP_CASE_OFFENCE, VIP_CASE_OFFENCE_DATE,
    VIP_CASE_REPORTED_DATE, VIP_CASE_LOCATION, VIP_CASE_OFFICER_NAME, VIP_CASE_OFFICER_ROLE, VIP_CASE_OFFICER_PHONE,
    VIP_CASE_OFFICER_EMAIL, VIP_CASE_NEEDS_ASSESSMENT, VIP_CASE_REFERRAL, VIP_CASE_ENHANCED_RIGHTS,
    VIP_CASE_ENHANCED_REASON, VIP_CASE_LETTER_DATE,
    VIP_CASE_FIELD_COUNT
} vip_case_field;

/* The column name of a field, e.g. "offence_date". */
const char *vip_case_field_name(vip_case_field field);

typedef struct vip_case_row {
    size_t row;                          /* 1 for the first data row after the header */
    size_t line;                         /* line in the file where the row starts */
    char *value[VIP_CASE_FIELD_COUNT];   /* UTF-8, trimmed, NFC; "" for an empty optional field */
    const char *lang;                    /* canonical language tag (static) */
    int enhanced;                        /* enhanced_rights is yes */
    int offence_date[3], reported_date[3], letter_date[3]; /* year, month, day */
} vip_case_row;

typedef struct vip_case_problem {
    size_t row, line;
    char column[32];                     /* "" when the problem is not about one column */
    char message[400];
} vip_case_problem;

typedef struct vip_case_set {
    vip_case_row *rows;                  /* the valid rows, in file order */
    size_t row_count;
    vip_case_problem *problems;          /* one per invalid row (the first problem found in it) */
    size_t problem_count;
    size_t total_rows;
} vip_case_set;

/* Reads and validates a CSV file. Fails (NULL) only when the file cannot be read, is not CSV, or its header
 * lacks a required column (the error names it); invalid rows go to problems. */
vip_case_set *vip_case_read(const char *path, vip_error *err);
void vip_case_set_destroy(vip_case_set *set);

/* The coded values a column accepts, NULL-terminated (offence, needs_assessment, referral, enhanced_reason). */
const char *const *vip_case_codes(vip_case_field field);

#endif
