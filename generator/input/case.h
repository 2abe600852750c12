/* vip_case: case data — one row per letter — read from CSV (RFC 4180: quoted commas, quotes and newlines; UTF-8
 * with or without BOM; LF, CRLF or CR line ends) with libcsv, and validated row by row. Forgiving where a force's
 * own export differs only in form (header spelling, code wording, day-first dates when configured), never silent:
 * a bad row is reported with its row, line, columns and reasons, and the other rows are still returned; a file
 * that cannot be case data (a workbook, UTF-16, another separator, names lost to an 8-bit encoding) is one clear
 * error saying what to do. */
#ifndef VIP_CASE_H
#define VIP_CASE_H

#include <stddef.h>

#include "error.h"

typedef enum {
    VIP_CASE_CRIME_REF, VIP_CASE_LANGUAGE, VIP_CASE_VICTIM_NAME, VIP_CASE_ADDRESS_1, VIP_CASE_ADDRESS_2,
    VIP_CASE_ADDRESS_3, VIP_CASE_TOWN, VIP_CASE_POSTCODE, VIP_CASE_EMAIL, VIP_CASE_OFFENCE, VIP_CASE_OFFENCE_DATE,
    VIP_CASE_REPORTED_DATE, VIP_CASE_LOCATION, VIP_CASE_OFFICER_NAME, VIP_CASE_OFFICER_ROLE, VIP_CASE_OFFICER_PHONE,
    VIP_CASE_OFFICER_EMAIL, VIP_CASE_NEEDS_ASSESSMENT, VIP_CASE_REFERRAL, VIP_CASE_ENHANCED_RIGHTS,
    VIP_CASE_ENHANCED_REASON, VIP_CASE_LETTER_DATE, VIP_CASE_CONTACT, VIP_CASE_SAFE_TO_CONTACT, VIP_CASE_VICTIM_ID,
    VIP_CASE_FIELD_COUNT
} vip_case_field;

/* The longest value a free-text column may hold, in characters (a name, an address line, a place). */
#define VIP_CASE_MAX_CHARS 300

/* The column name of a field, e.g. "offence_date". */
const char *vip_case_field_name(vip_case_field field);

/* The field a column name stands for, matched ignoring case, spaces, '_' and '-' ("Crime Ref" is crime_ref), and
 * through the usual spellings of exports ("Address Line 1" is address_1); -1 when none. */
int vip_case_field_find(const char *name);

/* Whether a column must be present in the header (the others may be left out). */
int vip_case_field_required(vip_case_field field);

/* The coded values a column accepts, NULL-terminated (offence, needs_assessment, referral, enhanced_reason,
 * contact, safe_to_contact); NULL for a free-text column. */
const char *const *vip_case_codes(vip_case_field field);

/* The code a value means, matched ignoring case, spaces, '-' and '_' ("Criminal Damage" is criminal_damage);
 * NULL when none. */
const char *vip_case_code_find(vip_case_field field, const char *value);

/* Checks one value given outside a case file (the booklet's --ref, --officer, --phone, --email) as a case file's
 * column would be: valid UTF-8, within the length limit, and the column's own rules (a crime reference, a phone
 * number, an email address). Returns 0, or 1 with the reason in why. */
int vip_case_check_value(vip_case_field field, const char *value, char *why, size_t why_size);

/* A force's own wording or code for a coded value ("Burglary - Residential", a Home Office code "28E"). */
typedef struct vip_case_code_alias {
    vip_case_field field;
    const char *wording;
    const char *code;        /* one of vip_case_codes(field) */
} vip_case_code_alias;

/* A force's own name for a column ("URN" for crime_ref). */
typedef struct vip_case_column_alias {
    const char *header;
    vip_case_field field;
} vip_case_column_alias;

typedef struct vip_case_options {
    int day_first;           /* dates may also be written DD/MM/YYYY (the force's exports say so; never guessed) */
    int today[3];            /* letter_date where the column is absent or empty; {0} for the local date today, or
                              * the date of $SOURCE_DATE_EPOCH when set (reproducible runs) */
    char separator;          /* ',' (0 means ',') or ';' */
    const vip_case_code_alias *code_aliases;
    size_t code_alias_count;
    const vip_case_column_alias *column_aliases;
    size_t column_alias_count;
} vip_case_options;

typedef struct vip_case_row {
    size_t row;                          /* 1 for the first data row after the header */
    size_t line;                         /* line in the file where the row starts */
    char *value[VIP_CASE_FIELD_COUNT];   /* UTF-8, trimmed, NFC; codes canonical; "" for an empty optional field */
    const char *lang;                    /* canonical language tag (static) */
    int enhanced;                        /* enhanced_rights is yes */
    int offence_date[3], reported_date[3], letter_date[3]; /* year, month, day */
    int letter_date_given;               /* 0: letter_date is today's, the file had none */
    char email_problem[200];             /* why the victim's email cannot be used ("" when it can or is empty): it
                                          * stops only the email, never the letter */
    char warnings[600];                  /* characters in free text that cannot be shown as written, each with its
                                          * column and code point: a control character or noncharacter (left out; a
                                          * tab read as a space), a combining mark with no letter
                                          * before it (drawn on its own); "" when none */
} vip_case_row;

typedef struct vip_case_problem {
    size_t row, line;
    char ref[64];                        /* the row's crime reference, when it had a valid one; else "" */
    char lang[16];                       /* the row's canonical language tag, when valid; else "" */
    char column[32];                     /* the first column at fault; "" when the problem is not about one */
    char message[1000];                  /* "row R (line L), column C: why; column D: why" — every problem */
} vip_case_problem;

typedef struct vip_case_set {
    vip_case_row *rows;                  /* the valid rows, in file order */
    size_t row_count;
    vip_case_problem *problems;          /* one per invalid row, in file order */
    size_t problem_count;
    size_t total_rows;
} vip_case_set;

/* Reads and validates a CSV file. Fails (NULL) only when the file cannot be read or cannot be case data (the
 * error says why and what to do); invalid rows, CSV syntax errors in a row included, go to problems. */
vip_case_set *vip_case_read_with(const char *path, const vip_case_options *options, vip_error *err);

/* vip_case_read_with with default options: ISO dates only, commas, no aliases, letter_date defaults to today. */
vip_case_set *vip_case_read(const char *path, vip_error *err);
void vip_case_set_destroy(vip_case_set *set);

#endif
