/* vip_case: reads case rows from CSV with libcsv and validates each one, so that a bad row is reported to the
 * clerk with its row, line, column and reason while the good rows still produce letters. */
#include "case.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "lang.h"

static const char *const field_names[VIP_CASE_FIELD_COUNT] = {
    "crime_ref",     "language",      "victim_name",   "address_1",        "address_2",
    "address_3",     "town",          "postcode",      "email",            "offence",
    "offence_date",  "reported_date", "location",      "officer_name",     "officer_role",
    "officer_phone", "officer_email", "needs_assessment", "referral",      "enhanced_rights",
    "enhanced_reason", "letter_date",
};

/* enhanced_reason is left out: whether it is required depends on enhanced_rights. */
static const unsigned char required[VIP_CASE_FIELD_COUNT] = {
    [VIP_CASE_CRIME_REF] = 1,     [VIP_CASE_LANGUAGE] = 1,        [VIP_CASE_VICTIM_NAME] = 1,
    [VIP_CASE_ADDRESS_1] = 1,     [VIP_CASE_TOWN] = 1,            [VIP_CASE_POSTCODE] = 1,
    [VIP_CASE_OFFENCE] = 1,       [VIP_CASE_OFFENCE_DATE] = 1,    [VIP_CASE_REPORTED_DATE] = 1,
    [VIP_CASE_LOCATION] = 1,      [VIP_CASE_OFFICER_NAME] = 1,    [VIP_CASE_OFFICER_ROLE] = 1,
    [VIP_CASE_OFFICER_PHONE] = 1, [VIP_CASE_NEEDS_ASSESSMENT] = 1, [VIP_CASE_REFERRAL] = 1,
    [VIP_CASE_ENHANCED_RIGHTS] = 1, [VIP_CASE_LETTER_DATE] = 1,
};

static const char *const offence_codes[] = {
    "burglary_dwelling", "theft",      "theft_from_vehicle", "criminal_damage", "assault",        "robbery",
    "fraud",             "harassment", "hate_crime",         "domestic_abuse",  "sexual_offence", "vehicle_theft",
    NULL,
};
static const char *const needs_assessment_codes[] = {"completed", "declined", "not_yet", NULL};
static const char *const referral_codes[] = {"referred", "declined", "not_applicable", NULL};
static const char *const enhanced_reason_codes[] = {"serious_crime", "persistently_targeted",
                                                    "vulnerable_intimidated", NULL};

const char *vip_case_field_name(vip_case_field field)
{
    return (unsigned)field < VIP_CASE_FIELD_COUNT ? field_names[field] : "";
}

const char *const *vip_case_codes(vip_case_field field)
{
    switch (field) {
    case VIP_CASE_OFFENCE: return offence_codes;
    case VIP_CASE_NEEDS_ASSESSMENT: return needs_assessment_codes;
    case VIP_CASE_REFERRAL: return referral_codes;
    case VIP_CASE_ENHANCED_REASON: return enhanced_reason_codes;
    default: return NULL;
    }
}

void vip_case_set_destroy(vip_case_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->row_count; i++)
        for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
            free(set->rows[i].value[f]);
    free(set->rows);
    free(set->problems);
    free(set);
}

/* ---- Reader state ---------------------------------------------------------------------------------------- */

typedef struct csv_field {
    char *text;
    size_t len;
} csv_field;

typedef struct reader {
    const char *path;
    vip_error *err;
    int failed;                 /* err holds a fatal error: stop parsing */
    const UNormalizer2 *nfc;

    size_t line;                /* line of the bytes now being fed, from 1 */
    int in_record;              /* libcsv has seen the first byte of a record that has not ended yet */
    size_t record_line;         /* line where that record starts */
    csv_field *fields;          /* the fields of that record so far */
    size_t field_count, field_cap;

    int have_header;
    size_t column_count;
    size_t column_of[VIP_CASE_FIELD_COUNT]; /* index of each field's column in a record */

    vip_case_set *set;
    size_t row_cap, problem_cap;
} reader;

static void fail_nomem(reader *r)
{
    if (!r->failed)
        vip_error_set(r->err, VIP_ERR_NOMEM, "%s: out of memory while reading case data", r->path);
    r->failed = 1;
}

static void clear_fields(reader *r)
{
    for (size_t i = 0; i < r->field_count; i++)
        free(r->fields[i].text);
    r->field_count = 0;
}

/* Returns items (each `size` bytes), reallocated if needed so that index `count` fits; NULL when out of memory,
 * in which case items is still valid and owned by the caller. */
static void *grow(void *items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return items;
    size_t new_cap = *cap ? *cap * 2 : 16;
    if (new_cap > SIZE_MAX / size)
        return NULL;
    void *p = realloc(items, new_cap * size);
    if (p)
        *cap = new_cap;
    return p;
}

static int is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* ---- Text helpers ---------------------------------------------------------------------------------------- */

/* Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or len when the whole value is valid. NUL is refused too: values are
 * used as C strings. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return i;
        if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return len;
}

/* Removes a UTF-8 sequence cut short at the end of s (after snprintf truncated it). */
static void drop_partial_utf8(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xC0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

/* A (valid UTF-8) value as quoted in a message: at most about 60 bytes, cut at a character boundary, with line
 * breaks and other control characters made visible, so that one problem stays one line. */
static const char *shown(const char *value, char out[96])
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (o >= 60 && (*p & 0xC0) != 0x80) {
            memcpy(out + o, "\xE2\x80\xA6", 3); /* … */
            o += 3;
            break;
        }
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            out[o++] = '\\';
            out[o++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else
            out[o++] = *p < 0x20 || *p == 0x7F ? '?' : (char)*p;
    }
    out[o] = '\0';
    return out;
}

static char *copy_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* NFC-normalises and trims (Unicode White_Space) a valid UTF-8 value into a new string. Returns 0, or -1 with
 * the reader failed. */
static int normalise(reader *r, const char *s, size_t len, char **out)
{
    *out = NULL;
    int ascii = 1;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80;
    if (ascii) { /* ASCII is already NFC: only trim. */
        size_t a = 0, b = len;
        while (a < b && is_ascii_space((unsigned char)s[a]))
            a++;
        while (b > a && is_ascii_space((unsigned char)s[b - 1]))
            b--;
        *out = copy_bytes(s + a, b - a);
        if (!*out)
            fail_nomem(r);
        return *out ? 0 : -1;
    }
    if (len > INT32_MAX / 4) {
        vip_error_set(r->err, VIP_ERR_INPUT, "%s: line %zu: a field is too long (%zu bytes)", r->path,
                      r->record_line, len);
        r->failed = 1;
        return -1;
    }
    UErrorCode status = U_ZERO_ERROR;
    UChar *u16 = malloc((len + 1) * sizeof *u16); /* UTF-16 never needs more units than UTF-8 has bytes */
    UChar *nfc = NULL;
    char *u8 = NULL;
    int32_t n16 = 0, n_nfc = 0, n8 = 0;
    if (!u16)
        goto nomem;
    u_strFromUTF8(u16, (int32_t)len + 1, &n16, s, (int32_t)len, &status);
    if (U_FAILURE(status))
        goto icu_failed;
    if (unorm2_isNormalized(r->nfc, u16, n16, &status)) {
        nfc = u16;
        n_nfc = n16;
    } else {
        if (U_FAILURE(status))
            goto icu_failed;
        n_nfc = unorm2_normalize(r->nfc, u16, n16, NULL, 0, &status);
        if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
            goto icu_failed;
        status = U_ZERO_ERROR;
        nfc = malloc(((size_t)n_nfc + 1) * sizeof *nfc);
        if (!nfc)
            goto nomem;
        n_nfc = unorm2_normalize(r->nfc, u16, n16, nfc, n_nfc + 1, &status);
        if (U_FAILURE(status))
            goto icu_failed;
    }
    int32_t a = 0, b = n_nfc;
    while (a < b) {
        int32_t i = a;
        UChar32 c;
        U16_NEXT(nfc, i, b, c);
        if (!u_isUWhiteSpace(c))
            break;
        a = i;
    }
    while (b > a) {
        int32_t i = b;
        UChar32 c;
        U16_PREV(nfc, a, i, c);
        if (!u_isUWhiteSpace(c))
            break;
        b = i;
    }
    u_strToUTF8(NULL, 0, &n8, nfc + a, b - a, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
        goto icu_failed;
    status = U_ZERO_ERROR;
    u8 = malloc((size_t)n8 + 1);
    if (!u8)
        goto nomem;
    u_strToUTF8(u8, n8 + 1, &n8, nfc + a, b - a, &status);
    if (U_FAILURE(status))
        goto icu_failed;
    if (nfc != u16)
        free(nfc);
    free(u16);
    *out = u8;
    return 0;

icu_failed:
    vip_error_set(r->err, VIP_ERR_INTERNAL, "%s: line %zu: ICU could not normalise a value: %s", r->path,
                  r->record_line, u_errorName(status));
    r->failed = 1;
    goto cleanup;
nomem:
    fail_nomem(r);
cleanup:
    if (nfc != u16)
        free(nfc);
    free(u16);
    free(u8);
    return -1;
}

/* ---- Checks of single values: each returns 0 when the value is good, or 1 with the reason in why ------------ */

#define WHY_SIZE 360

static int reason(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reason(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(why, WHY_SIZE, fmt, ap) >= WHY_SIZE)
        drop_partial_utf8(why);
    va_end(ap);
    return 1;
}

static int check_crime_ref(const char *v, char *why)
{
    char buf[96];
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '-'))
            return reason(why, "\"%s\" is not a crime reference: it may contain only letters A-Z, digits, '/' "
                          "and '-' (no spaces)", shown(v, buf));
    }
    if (n < 3 || n > 40)
        return reason(why, "\"%s\" is %zu characters long; a crime reference has 3 to 40", shown(v, buf), n);
    return 0;
}

static int check_language(const char *v, const char **tag, char *why)
{
    const vip_lang *lang = vip_lang_find(v, NULL);
    if (lang) {
        *tag = lang->tag;
        return 0;
    }
    size_t count;
    const vip_lang *all = vip_lang_all(&count);
    char list[200] = "", buf[96];
    for (size_t i = 0; i < count; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, all[i].tag, sizeof list - strlen(list) - 1);
    }
    return reason(why, "\"%s\" is not a supported language; expected one of: %s", shown(v, buf), list);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int check_date(const char *v, int ymd[3], char *why)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    char buf[96];
    int ok = strlen(v) == 10 && v[4] == '-' && v[7] == '-';
    for (int i = 0; ok && i < 10; i++)
        if (i != 4 && i != 7)
            ok = v[i] >= '0' && v[i] <= '9';
    if (!ok)
        return reason(why, "\"%s\" is not a date in the form YYYY-MM-DD (e.g. 2024-03-09)", shown(v, buf));
    int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
    int m = (v[5] - '0') * 10 + (v[6] - '0');
    int d = (v[8] - '0') * 10 + (v[9] - '0');
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > month_days[m - 1] + (m == 2 && is_leap(y)))
        return reason(why, "\"%s\" is not a date that exists (expected YYYY-MM-DD)", v);
    ymd[0] = y;
    ymd[1] = m;
    ymd[2] = d;
    return 0;
}

static int date_cmp(const int a[3], const int b[3])
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static int check_email(const char *v, char *why)
{
    char buf[96];
    const char *problem = NULL, *at = strchr(v, '@');
    for (const char *p = v; *p && !problem; p++)
        if (is_ascii_space((unsigned char)*p) || (unsigned char)*p < 0x20)
            problem = "it contains a space";
    if (problem) {
        /* reported below */
    } else if (!at)
        problem = "it has no '@'";
    else if (strchr(at + 1, '@'))
        problem = "it has more than one '@'";
    else if (at == v)
        problem = "it has nothing before the '@'";
    else {
        /* The domain needs at least two labels, none of them empty: "example.org", not "example" or "a..b". */
        const char *domain = at + 1;
        size_t n = strlen(domain);
        if (n == 0 || !strchr(domain, '.') || domain[0] == '.' || domain[n - 1] == '.' || strstr(domain, ".."))
            problem = "the part after the '@' is not a full domain such as example.org";
    }
    if (problem)
        return reason(why, "\"%s\" is not an email address: %s", shown(v, buf), problem);
    return 0;
}

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* The UK postcode format (BS 7666): outward code A9, A99, A9A, AA9, AA99 or AA9A, then inward code 9AA, with the
 * letters each position may hold; GIR 0AA is the one exception. */
static int postcode_ok(const char *pc, size_t n)
{
    if (n == 6 && memcmp(pc, "GIR0AA", 6) == 0)
        return 1;
    if (n < 5 || n > 7)
        return 0;
    const char *in = pc + n - 3;
    if (!is_digit(in[0]) || !is_upper(in[1]) || !is_upper(in[2]) || strchr("CIKMOV", in[1]) ||
        strchr("CIKMOV", in[2]))
        return 0;
    size_t out_len = n - 3;
    if (!is_upper(pc[0]) || strchr("QVX", pc[0]))
        return 0;
    if (is_digit(pc[1])) { /* A9, A99, A9A */
        if (out_len == 2)
            return 1;
        if (out_len != 3)
            return 0;
        return is_digit(pc[2]) || (is_upper(pc[2]) && strchr("ABCDEFGHJKPSTUW", pc[2]));
    }
    if (!is_upper(pc[1]) || strchr("IJZ", pc[1]) || out_len < 3 || !is_digit(pc[2])) /* AA9, AA99, AA9A */
        return 0;
    if (out_len == 3)
        return 1;
    return is_digit(pc[3]) || (is_upper(pc[3]) && strchr("ABEHMNPRVWXY", pc[3]));
}

/* Checks a postcode and rewrites it as "SW1A 1AA". Returns 0, 1 (why), or -1 (out of memory). */
static int check_postcode(reader *r, char **value, char *why)
{
    char compact[8], buf[96];
    size_t n = 0;
    int ok = 1;
    for (const char *p = *value; *p && ok; p++) {
        if (*p == ' ')
            continue;
        if (n == sizeof compact - 1)
            ok = 0;
        else
            compact[n++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
    }
    if (!ok || !postcode_ok(compact, n))
        return reason(why, "\"%s\" is not a UK postcode (e.g. SW1A 1AA, M1 1AE, B33 8TH)", shown(*value, buf));
    char *normal = malloc(n + 2);
    if (!normal) {
        fail_nomem(r);
        return -1;
    }
    memcpy(normal, compact, n - 3);
    normal[n - 3] = ' ';
    memcpy(normal + n - 2, compact + n - 3, 3);
    normal[n + 1] = '\0';
    free(*value);
    *value = normal;
    return 0;
}

static int check_phone(const char *v, char *why)
{
    char buf[96];
    size_t digits = 0;
    for (const char *p = v; *p; p++) {
        if (is_digit(*p))
            digits++;
        else if (!strchr(" +()-", *p))
            return reason(why, "\"%s\" is not a phone number: it may contain only digits, spaces and + ( ) -",
                          shown(v, buf));
    }
    if (digits < 10 || digits > 16)
        return reason(why, "\"%s\" has %zu digits; a phone number has 10 to 16", shown(v, buf), digits);
    return 0;
}

/* Reads yes/no (or true/false, y/n, 1/0) and rewrites it as "yes" or "no". Returns 0, 1 (why), or -1. */
static int check_yes_no(reader *r, char **value, int *yes, char *why)
{
    static const char *const yes_words[] = {"yes", "true", "y", "1"}, *const no_words[] = {"no", "false", "n", "0"};
    char buf[96];
    int found = -1;
    for (size_t i = 0; i < 4 && found < 0; i++) {
        if (strcasecmp(*value, yes_words[i]) == 0)
            found = 1;
        else if (strcasecmp(*value, no_words[i]) == 0)
            found = 0;
    }
    if (found < 0)
        return reason(why, "\"%s\" is not yes or no (true/false, y/n and 1/0 are accepted too)",
                      shown(*value, buf));
    char *normal = copy_bytes(found ? "yes" : "no", found ? 3 : 2);
    if (!normal) {
        fail_nomem(r);
        return -1;
    }
    free(*value);
    *value = normal;
    *yes = found;
    return 0;
}

static int check_code(const char *v, vip_case_field field, char *why)
{
    const char *const *codes = vip_case_codes(field);
    char list[240] = "", buf[96];
    for (size_t i = 0; codes[i]; i++) {
        if (strcmp(v, codes[i]) == 0)
            return 0;
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, codes[i], sizeof list - strlen(list) - 1);
    }
    return reason(why, "\"%s\" is not a known %s code; expected one of: %s", shown(v, buf), field_names[field],
                  list);
}

/* Checks one field of a row (fields before it are already checked). Returns 0, 1 (why), or -1 (fatal). */
static int check_field(reader *r, vip_case_row *row, vip_case_field f, char *why)
{
    char **value = &row->value[f];
    char buf[96], buf2[96];
    if (f == VIP_CASE_ENHANCED_REASON) { /* required exactly when enhanced_rights is yes */
        if (!row->enhanced)
            return **value ? reason(why, "\"%s\" is given but enhanced_rights is no; leave it empty or set "
                                    "enhanced_rights to yes", shown(*value, buf))
                           : 0;
        if (!**value)
            return reason(why, "is empty, but enhanced_rights is yes; give the reason, one of: "
                          "serious_crime, persistently_targeted, vulnerable_intimidated");
    } else if (!**value) {
        return required[f] ? reason(why, "is empty; this column is required") : 0;
    }
    switch (f) {
    case VIP_CASE_CRIME_REF: return check_crime_ref(*value, why);
    case VIP_CASE_LANGUAGE: return check_language(*value, &row->lang, why);
    case VIP_CASE_POSTCODE: return check_postcode(r, value, why);
    case VIP_CASE_EMAIL:
    case VIP_CASE_OFFICER_EMAIL: return check_email(*value, why);
    case VIP_CASE_OFFENCE:
    case VIP_CASE_NEEDS_ASSESSMENT:
    case VIP_CASE_REFERRAL:
    case VIP_CASE_ENHANCED_REASON: return check_code(*value, f, why);
    case VIP_CASE_OFFICER_PHONE: return check_phone(*value, why);
    case VIP_CASE_ENHANCED_RIGHTS: return check_yes_no(r, value, &row->enhanced, why);
    case VIP_CASE_OFFENCE_DATE: return check_date(*value, row->offence_date, why);
    case VIP_CASE_REPORTED_DATE:
        if (check_date(*value, row->reported_date, why))
            return 1;
        if (date_cmp(row->reported_date, row->offence_date) < 0)
            return reason(why, "\"%s\" is before the offence_date \"%s\"; a crime cannot be reported before it "
                          "happened", *value, shown(row->value[VIP_CASE_OFFENCE_DATE], buf));
        return 0;
    case VIP_CASE_LETTER_DATE:
        if (check_date(*value, row->letter_date, why))
            return 1;
        if (date_cmp(row->letter_date, row->reported_date) < 0)
            return reason(why, "\"%s\" is before the reported_date \"%s\"; the letter cannot be dated before the "
                          "crime was reported", shown(*value, buf), shown(row->value[VIP_CASE_REPORTED_DATE], buf2));
        return 0;
    default: return 0;
    }
}

/* ---- Rows ------------------------------------------------------------------------------------------------ */

static void add_problem(reader *r, size_t row, size_t line, int field, const char *why)
{
    vip_case_set *set = r->set;
    vip_case_problem *problems = grow(set->problems, &r->problem_cap, set->problem_count, sizeof *problems);
    if (!problems) {
        fail_nomem(r);
        return;
    }
    set->problems = problems;
    vip_case_problem *p = &problems[set->problem_count++];
    p->row = row;
    p->line = line;
    snprintf(p->column, sizeof p->column, "%s", field >= 0 ? field_names[field] : "");
    int n = field >= 0 ? snprintf(p->message, sizeof p->message, "row %zu (line %zu), column %s: %s", row, line,
                                  field_names[field], why)
                       : snprintf(p->message, sizeof p->message, "row %zu (line %zu): %s", row, line, why);
    if (n >= (int)sizeof p->message)
        drop_partial_utf8(p->message);
}

static void free_row_values(vip_case_row *row)
{
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        free(row->value[f]);
        row->value[f] = NULL;
    }
}

/* A record whose fields are all empty (",,,," as spreadsheets write for an empty row) carries no case. */
static int record_is_blank(const reader *r)
{
    for (size_t i = 0; i < r->field_count; i++)
        for (size_t k = 0; k < r->fields[i].len; k++)
            if (!is_ascii_space((unsigned char)r->fields[i].text[k]))
                return 0;
    return 1;
}

static void add_row(reader *r)
{
    if (record_is_blank(r))
        return;
    vip_case_set *set = r->set;
    vip_case_row row = {.row = ++set->total_rows, .line = r->record_line};
    char why[WHY_SIZE];
    if (r->field_count != r->column_count) {
        reason(why, "has %zu fields but the header has %zu columns (is a comma missing or extra, or a value with a "
               "comma not in quotes?)", r->field_count, r->column_count);
        add_problem(r, row.row, row.line, -1, why);
        return;
    }
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        const csv_field *raw = &r->fields[r->column_of[f]];
        size_t bad = utf8_invalid_at((const unsigned char *)raw->text, raw->len);
        int rc;
        if (bad < raw->len) {
            if (raw->text[bad] == '\0')
                reason(why, "contains a NUL byte at byte offset %zu of the value (is the file UTF-16?)", bad);
            else
                reason(why, "is not valid UTF-8 (byte 0x%02X at byte offset %zu of the value); save the file as "
                       "\"CSV UTF-8\"", (unsigned char)raw->text[bad], bad);
            rc = 1;
        } else if (normalise(r, raw->text, raw->len, &row.value[f]) != 0)
            rc = -1;
        else
            rc = check_field(r, &row, (vip_case_field)f, why);
        if (rc) {
            free_row_values(&row);
            if (rc > 0)
                add_problem(r, row.row, row.line, f, why);
            return;
        }
    }
    vip_case_row *rows = grow(set->rows, &r->row_cap, set->row_count, sizeof *rows);
    if (!rows) {
        free_row_values(&row);
        fail_nomem(r);
        return;
    }
    set->rows = rows;
    rows[set->row_count++] = row;
}

/* Maps header names (trimmed, any case) to fields; fails on a duplicated or missing column. */
static void read_header(reader *r)
{
    size_t column[VIP_CASE_FIELD_COUNT];
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
        column[f] = SIZE_MAX;
    for (size_t i = 0; i < r->field_count; i++) {
        const char *name = r->fields[i].text;
        size_t n = r->fields[i].len;
        while (n > 0 && is_ascii_space((unsigned char)*name))
            name++, n--;
        while (n > 0 && is_ascii_space((unsigned char)name[n - 1]))
            n--;
        for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
            if (strlen(field_names[f]) != n || strncasecmp(name, field_names[f], n) != 0)
                continue;
            if (column[f] != SIZE_MAX) {
                vip_error_set(r->err, VIP_ERR_INPUT, "%s: the header row (line %zu) has the column %s twice "
                              "(columns %zu and %zu)", r->path, r->record_line, field_names[f], column[f] + 1, i + 1);
                r->failed = 1;
                return;
            }
            column[f] = i;
        }
    }
    char missing[600] = "";
    size_t missing_count = 0;
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        if (column[f] != SIZE_MAX)
            continue;
        strncat(missing, missing_count++ ? ", " : "", sizeof missing - strlen(missing) - 1);
        strncat(missing, field_names[f], sizeof missing - strlen(missing) - 1);
    }
    if (missing_count) {
        vip_error_set(r->err, VIP_ERR_INPUT, "%s: the header row (line %zu) lacks the required column%s %s",
                      r->path, r->record_line, missing_count > 1 ? "s" : "", missing);
        r->failed = 1;
        return;
    }
    memcpy(r->column_of, column, sizeof column);
    r->column_count = r->field_count;
    r->have_header = 1;
}

/* ---- libcsv callbacks and feeding ------------------------------------------------------------------------ */

static void on_field(void *data, size_t len, void *user)
{
    reader *r = user;
    if (r->failed)
        return;
    csv_field *fields = grow(r->fields, &r->field_cap, r->field_count, sizeof *fields);
    if (!fields) {
        fail_nomem(r);
        return;
    }
    r->fields = fields;
    char *text = copy_bytes(data ? data : "", data ? len : 0);
    if (!text) {
        fail_nomem(r);
        return;
    }
    r->fields[r->field_count++] = (csv_field){text, data ? len : 0};
}

static void on_row(int terminator, void *user)
{
    (void)terminator;
    reader *r = user;
    if (!r->failed) {
        if (r->have_header)
            add_row(r);
        else
            read_header(r);
    }
    clear_fields(r);
    r->in_record = 0;
}

static void parse_failed(reader *r, struct csv_parser *parser, int at_end)
{
    int code = csv_error(parser);
    r->failed = 1;
    if (code == CSV_ENOMEM) {
        vip_error_set(r->err, VIP_ERR_NOMEM, "%s: out of memory while reading CSV", r->path);
    } else if (at_end) {
        vip_error_set(r->err, VIP_ERR_INPUT, "%s: line %zu: not valid CSV: a quoted value in the record that starts "
                      "on this line is never closed (a closing \" is missing)", r->path, r->record_line);
    } else if (code == CSV_EPARSE) {
        char start[64] = "";
        if (r->record_line != r->line)
            snprintf(start, sizeof start, " (in the record that starts on line %zu)", r->record_line);
        vip_error_set(r->err, VIP_ERR_INPUT, "%s: line %zu%s: not valid CSV: a \" inside a value must be doubled "
                      "(\"\") and the whole value put in quotes; or a quoted value was not closed", r->path,
                      r->line, start);
    } else {
        vip_error_set(r->err, VIP_ERR_INPUT, "%s: line %zu: not valid CSV: %s", r->path, r->line,
                      csv_strerror(code));
    }
}

/* Feeds bytes in pieces that end just after a CR or LF. libcsv ends a record only on such a byte, so a record
 * always ends with its piece, and the line of every byte in a piece is known: that gives each record's first
 * line, counting newlines inside quoted fields too. */
static int feed(reader *r, struct csv_parser *parser, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && s[end] != '\n' && s[end] != '\r')
            end++;
        if (end < n)
            end++;
        /* libcsv skips spaces, tabs and line breaks between records (blank lines); anything else starts one. */
        for (size_t k = i; k < end && !r->in_record; k++)
            if (!(s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '\n')) {
                r->in_record = 1;
                r->record_line = r->line;
            }
        size_t used = csv_parse(parser, s + i, end - i, on_field, on_row, r);
        if (r->failed)
            return -1;
        if (used != end - i) {
            parse_failed(r, parser, 0);
            return -1;
        }
        if (s[end - 1] == '\n')
            r->line++;
        i = end;
    }
    return 0;
}

vip_case_set *vip_case_read(const char *path, vip_error *err)
{
    reader r = {.path = path, .err = err, .line = 1};
    UErrorCode status = U_ZERO_ERROR;
    r.nfc = unorm2_getNFCInstance(&status);
    if (U_FAILURE(status)) {
        vip_error_set(err, VIP_ERR_INTERNAL, "ICU NFC normaliser unavailable: %s", u_errorName(status));
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct csv_parser parser;
    r.set = calloc(1, sizeof *r.set);
    if (!r.set || csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory while reading case data", path);
        free(r.set);
        fclose(fp);
        return NULL;
    }
    enum { CHUNK = 65536 };
    unsigned char *buf = malloc(CHUNK);
    if (!buf) {
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory while reading case data", path);
        r.failed = 1;
    }
    int first = 1;
    while (!r.failed) {
        size_t n = fread(buf, 1, CHUNK, fp), start = 0;
        if (first) {
            first = 0;
            if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
                start = 3; /* UTF-8 byte order mark, as Excel writes it */
            else if (n >= 2 && (memcmp(buf, "\xFF\xFE", 2) == 0 || memcmp(buf, "\xFE\xFF", 2) == 0)) {
                vip_error_set(err, VIP_ERR_INPUT, "%s: the file is UTF-16; save it as \"CSV UTF-8\"", path);
                r.failed = 1;
                break;
            }
        }
        if (feed(&r, &parser, buf + start, n - start) != 0)
            break;
        if (n < CHUNK) {
            if (ferror(fp)) {
                vip_error_set(err, VIP_ERR_IO, "%s: read failed: %s", path, strerror(errno));
                r.failed = 1;
            }
            break;
        }
    }
    if (!r.failed && csv_fini(&parser, on_field, on_row, &r) != 0 && !r.failed)
        parse_failed(&r, &parser, 1);
    if (!r.failed && !r.have_header) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: the file is empty; expected a header row naming the columns", path);
        r.failed = 1;
    }
    free(buf);
    csv_free(&parser);
    fclose(fp);
    clear_fields(&r);
    free(r.fields);
    if (r.failed) {
        vip_case_set_destroy(r.set);
        return NULL;
    }
    return r.set;
}
