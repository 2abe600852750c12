/* vip_case: reads case rows from CSV with libcsv and validates each one, so that a bad row is reported to the
 * clerk with its row, line, columns and reasons while the good rows still produce letters. A force's export goes in
 * as it is where only its form differs (header spelling, code wording, configured day-first dates); what cannot be
 * case data is refused once, with what to do. */
#include "case.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "lang.h"

static const char *const field_names[VIP_CASE_FIELD_COUNT] = {
    "crime_ref",     "language",      "victim_name",   "address_1",        "address_2",
    "address_3",     "town",          "postcode",      "email",            "offence",
    "offence_date",  "reported_date", "location",      "officer_name",     "officer_role",
    "officer_phone", "officer_email", "needs_assessment", "referral",      "enhanced_rights",
    "enhanced_reason", "letter_date",   "contact",       "safe_to_contact",  "victim_id",
};

/* Columns the header must name, and values a row must have. enhanced_reason is left out: whether it is required
 * depends on enhanced_rights. location may be empty (online fraud has no place) and letter_date defaults to today. */
static const unsigned char required[VIP_CASE_FIELD_COUNT] = {
    [VIP_CASE_CRIME_REF] = 1,     [VIP_CASE_LANGUAGE] = 1,        [VIP_CASE_VICTIM_NAME] = 1,
    [VIP_CASE_ADDRESS_1] = 1,     [VIP_CASE_TOWN] = 1,            [VIP_CASE_POSTCODE] = 1,
    [VIP_CASE_OFFENCE] = 1,       [VIP_CASE_OFFENCE_DATE] = 1,    [VIP_CASE_REPORTED_DATE] = 1,
    [VIP_CASE_OFFICER_NAME] = 1,  [VIP_CASE_OFFICER_ROLE] = 1,
    [VIP_CASE_OFFICER_PHONE] = 1, [VIP_CASE_NEEDS_ASSESSMENT] = 1, [VIP_CASE_REFERRAL] = 1,
    [VIP_CASE_ENHANCED_RIGHTS] = 1,
};

/* Free-text columns whose length is capped (a name, an address line, a place, an officer). */
static const unsigned char free_text[VIP_CASE_FIELD_COUNT] = {
    [VIP_CASE_VICTIM_NAME] = 1, [VIP_CASE_ADDRESS_1] = 1, [VIP_CASE_ADDRESS_2] = 1, [VIP_CASE_ADDRESS_3] = 1,
    [VIP_CASE_TOWN] = 1,        [VIP_CASE_LOCATION] = 1,  [VIP_CASE_OFFICER_NAME] = 1, [VIP_CASE_OFFICER_ROLE] = 1,
    [VIP_CASE_EMAIL] = 1,       [VIP_CASE_OFFICER_EMAIL] = 1, [VIP_CASE_VICTIM_ID] = 1,
};

/* Columns where a '?' means letters were lost: people's and places' names never hold one. */
static const unsigned char names_letters[VIP_CASE_FIELD_COUNT] = {
    [VIP_CASE_VICTIM_NAME] = 1, [VIP_CASE_ADDRESS_1] = 1, [VIP_CASE_ADDRESS_2] = 1, [VIP_CASE_ADDRESS_3] = 1,
    [VIP_CASE_TOWN] = 1,        [VIP_CASE_OFFICER_NAME] = 1,
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
/* How the letter goes (empty: email where the row has a usable address, else post), and whether it is safe to
 * send it at all (empty: unknown). */
static const char *const contact_codes[] = {"email", "post", "none", NULL};
static const char *const safe_to_contact_codes[] = {"yes", "no", "unknown", NULL};

/* Column names records systems and spreadsheets commonly use, as keys (see key_of). */
static const struct {
    const char *key;
    vip_case_field field;
} column_synonyms[] = {
    {"crimereference", VIP_CASE_CRIME_REF},       {"crimereferencenumber", VIP_CASE_CRIME_REF},
    {"crimeno", VIP_CASE_CRIME_REF},              {"crimenumber", VIP_CASE_CRIME_REF},
    {"lang", VIP_CASE_LANGUAGE},                  {"preferredlanguage", VIP_CASE_LANGUAGE},
    {"victim", VIP_CASE_VICTIM_NAME},             {"name", VIP_CASE_VICTIM_NAME},
    {"addressline1", VIP_CASE_ADDRESS_1},         {"address", VIP_CASE_ADDRESS_1},
    {"addressline2", VIP_CASE_ADDRESS_2},         {"addressline3", VIP_CASE_ADDRESS_3},
    {"posttown", VIP_CASE_TOWN},                  {"city", VIP_CASE_TOWN},
    {"postalcode", VIP_CASE_POSTCODE},            {"emailaddress", VIP_CASE_EMAIL},
    {"victimemail", VIP_CASE_EMAIL},              {"offencetype", VIP_CASE_OFFENCE},
    {"crimetype", VIP_CASE_OFFENCE},              {"dateofoffence", VIP_CASE_OFFENCE_DATE},
    {"datereported", VIP_CASE_REPORTED_DATE},     {"reportdate", VIP_CASE_REPORTED_DATE},
    {"officer", VIP_CASE_OFFICER_NAME},           {"oic", VIP_CASE_OFFICER_NAME},
    {"officerphonenumber", VIP_CASE_OFFICER_PHONE}, {"officertelephone", VIP_CASE_OFFICER_PHONE},
    {"officeremailaddress", VIP_CASE_OFFICER_EMAIL}, {"vna", VIP_CASE_NEEDS_ASSESSMENT},
    {"victimneedsassessment", VIP_CASE_NEEDS_ASSESSMENT}, {"enhanced", VIP_CASE_ENHANCED_RIGHTS},
    {"letterdated", VIP_CASE_LETTER_DATE},
    {"contactmethod", VIP_CASE_CONTACT},          {"preferredcontact", VIP_CASE_CONTACT},
    {"safetocontact", VIP_CASE_SAFE_TO_CONTACT},  {"safecontact", VIP_CASE_SAFE_TO_CONTACT},
    {"victimid", VIP_CASE_VICTIM_ID},             {"personid", VIP_CASE_VICTIM_ID},
};

const char *vip_case_field_name(vip_case_field field)
{
    return (unsigned)field < VIP_CASE_FIELD_COUNT ? field_names[field] : "";
}

int vip_case_field_required(vip_case_field field)
{
    return (unsigned)field < VIP_CASE_FIELD_COUNT && required[field];
}

const char *const *vip_case_codes(vip_case_field field)
{
    switch (field) {
    case VIP_CASE_OFFENCE: return offence_codes;
    case VIP_CASE_NEEDS_ASSESSMENT: return needs_assessment_codes;
    case VIP_CASE_REFERRAL: return referral_codes;
    case VIP_CASE_ENHANCED_REASON: return enhanced_reason_codes;
    case VIP_CASE_CONTACT: return contact_codes;
    case VIP_CASE_SAFE_TO_CONTACT: return safe_to_contact_codes;
    default: return NULL;
    }
}

/* A name or code as compared: ASCII letters in lower case, spaces, tabs, '_' and '-' left out ("Crime Ref" and
 * "crime_ref" are both "crimeref"). Other bytes are kept. Cut at size - 1 bytes. */
static void key_of(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (; *s && o + 1 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == '\t' || c == '_' || c == '-' || c == '\r' || c == '\n')
            continue;
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[o] = '\0';
}

int vip_case_field_find(const char *name)
{
    char key[64], k2[64];
    if (strlen(name) >= sizeof key)
        return -1;
    key_of(name, key, sizeof key);
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        key_of(field_names[f], k2, sizeof k2);
        if (strcmp(key, k2) == 0)
            return f;
    }
    for (size_t i = 0; i < sizeof column_synonyms / sizeof column_synonyms[0]; i++)
        if (strcmp(key, column_synonyms[i].key) == 0)
            return (int)column_synonyms[i].field;
    return -1;
}

const char *vip_case_code_find(vip_case_field field, const char *value)
{
    const char *const *codes = vip_case_codes(field);
    char key[64], k2[64];
    if (!codes || strlen(value) >= sizeof key)
        return NULL;
    key_of(value, key, sizeof key);
    for (size_t i = 0; codes[i]; i++) {
        key_of(codes[i], k2, sizeof k2);
        if (strcmp(key, k2) == 0)
            return codes[i];
    }
    return NULL;
}

/* Edit distance (Levenshtein) between two short keys, for "did you mean"; large for long ones. */
static size_t distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return SIZE_MAX;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (m + 1) * sizeof *prev);
    }
    return prev[m];
}

/* Whether key b is close enough to key a to suggest it: a few edits, or one contains the other. */
static int close_to(const char *a, const char *b, size_t *score)
{
    size_t d = distance(a, b), la = strlen(a), lb = strlen(b);
    size_t limit = (la > lb ? la : lb) / 3 + 1;
    if (d <= limit) {
        *score = d;
        return 1;
    }
    if (la >= 4 && lb >= 4 && (strstr(a, b) || strstr(b, a))) {
        *score = limit + 1;
        return 1;
    }
    return 0;
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
    const vip_case_options *options;
    vip_error *err;
    int failed;                 /* err holds a fatal error: stop parsing */
    const UNormalizer2 *nfc;

    size_t line;                /* line of the bytes now being fed, from 1 */
    int in_record;              /* libcsv has seen the first byte of a record that has not ended yet */
    size_t record_line;         /* line where that record starts */
    size_t record_offset;       /* offset in the file of the start of that line */
    csv_field *fields;          /* the fields of that record so far */
    size_t field_count, field_cap;

    int have_header;
    size_t column_count;
    size_t column_of[VIP_CASE_FIELD_COUNT]; /* index of each field's column in a record; SIZE_MAX: absent */
    char header_name[VIP_CASE_FIELD_COUNT][64]; /* the file's own name for each column, for messages */

    size_t lost_rows;           /* rows whose names hold '?' where letters were lost (an 8-bit encoding) */
    size_t lost_row, lost_line; /* the first of them */
    int lost_field;

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

#define WHY_SIZE 600

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
    if (v[0] == '/' || v[0] == '-')
        return reason(why, "\"%s\" is not a crime reference: it must start with a letter or digit", shown(v, buf));
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

static int valid_ymd(int y, int m, int d)
{
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= month_days[m - 1] + (m == 2 && is_leap(y));
}

/* Reads 1 to max digits at *p into *out, advancing *p; 0 when there are none. */
static int read_digits(const char **p, int max, int *out)
{
    int n = 0, v = 0;
    while (n < max && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *out = v;
    return n;
}

/* D/M/YYYY, DD/MM/YYYY (also with '.' or '-'): the day-first form of UK exports. */
static int parse_day_first(const char *v, int *y, int *m, int *d)
{
    const char *p = v;
    int nd = read_digits(&p, 2, d);
    if (!nd || (*p != '/' && *p != '.' && *p != '-'))
        return 0;
    char sep = *p++;
    int nm = read_digits(&p, 2, m);
    if (!nm || *p != sep)
        return 0;
    p++;
    return read_digits(&p, 4, y) == 4 && *p == '\0';
}

static int check_date(const reader *r, const char *v, int ymd[3], char *why)
{
    char buf[96];
    int y = 0, m = 0, d = 0;
    int iso = strlen(v) == 10 && v[4] == '-' && v[7] == '-';
    for (int i = 0; iso && i < 10; i++)
        if (i != 4 && i != 7)
            iso = v[i] >= '0' && v[i] <= '9';
    if (iso) {
        y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
        m = (v[5] - '0') * 10 + (v[6] - '0');
        d = (v[8] - '0') * 10 + (v[9] - '0');
    } else if (r->options->day_first) {
        if (!parse_day_first(v, &y, &m, &d))
            return reason(why, "\"%s\" is not a date in the form YYYY-MM-DD or DD/MM/YYYY (e.g. 2024-03-09 or "
                          "09/03/2024)", shown(v, buf));
    } else {
        int dd, mm, yy;
        if (parse_day_first(v, &yy, &mm, &dd))
            return reason(why, "\"%s\" is not a date in the form YYYY-MM-DD (e.g. 2024-03-09); if the export writes "
                          "dates day first (DD/MM/YYYY), set date_order = day-first in the [import] group of "
                          "vipgen.conf: vipgen never guesses whether 03/04 is March or April", shown(v, buf));
        return reason(why, "\"%s\" is not a date in the form YYYY-MM-DD (e.g. 2024-03-09)", shown(v, buf));
    }
    if (!valid_ymd(y, m, d))
        return reason(why, "\"%s\" is not a date that exists (expected %s)", shown(v, buf),
                      iso || !r->options->day_first ? "YYYY-MM-DD" : "DD/MM/YYYY");
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
        return reason(why, "is not an email address: %s (the value is not repeated here: it is personal data)",
                      problem);
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
    char compact[8];
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
        return reason(why, "is not a UK postcode (e.g. SW1A 1AA, M1 1AE, B33 8TH; the value is not repeated here)");
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
    size_t digits = 0;
    for (const char *p = v; *p; p++) {
        if (is_digit(*p))
            digits++;
        else if (!strchr(" +()-", *p))
            return reason(why, "is not a phone number: it may contain only digits, spaces and + ( ) -");
    }
    if (digits < 10 || digits > 16)
        return reason(why, "has %zu digits; a phone number has 10 to 16", digits);
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

/* A coded value: the code itself in any case and spacing ("Criminal Damage"), or the force's own wording through
 * the configured aliases ("Burglary - Residential", "28E"); rewritten as the code. Returns 0, 1 (why) or -1. */
static int check_code(reader *r, char **value, vip_case_field field, char *why)
{
    const char *const *codes = vip_case_codes(field);
    const char *code = vip_case_code_find(field, *value);
    char key[64], k2[64], buf[96];
    key_of(*value, key, sizeof key);
    const vip_case_options *o = r->options;
    for (size_t i = 0; !code && strlen(*value) < sizeof key && i < o->code_alias_count; i++) {
        if (o->code_aliases[i].field != field)
            continue;
        key_of(o->code_aliases[i].wording, k2, sizeof k2);
        if (strcmp(key, k2) == 0)
            code = vip_case_code_find(field, o->code_aliases[i].code);
    }
    if (code) {
        char *normal = strdup(code);
        if (!normal) {
            fail_nomem(r);
            return -1;
        }
        free(*value);
        *value = normal;
        return 0;
    }
    /* Not known: suggest the closest code or wording. */
    const char *best = NULL, *best_code = NULL;
    size_t best_score = SIZE_MAX, score;
    for (size_t i = 0; codes[i]; i++) {
        key_of(codes[i], k2, sizeof k2);
        if (close_to(key, k2, &score) && score < best_score) {
            best = codes[i];
            best_code = NULL;
            best_score = score;
        }
    }
    for (size_t i = 0; i < o->code_alias_count; i++) {
        if (o->code_aliases[i].field != field)
            continue;
        key_of(o->code_aliases[i].wording, k2, sizeof k2);
        if (close_to(key, k2, &score) && score < best_score) {
            best = o->code_aliases[i].wording;
            best_code = o->code_aliases[i].code;
            best_score = score;
        }
    }
    char list[240] = "";
    for (size_t i = 0; codes[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, codes[i], sizeof list - strlen(list) - 1);
    }
    char hint[200] = "";
    if (best && best_code)
        snprintf(hint, sizeof hint, "did you mean \"%.60s\" (%.40s)? ", best, best_code);
    else if (best)
        snprintf(hint, sizeof hint, "did you mean %.60s? ", best);
    return reason(why, "\"%s\" is not a known %s code; %sexpected one of: %s, or a wording mapped to one in the "
                  "[%s] group of vipgen.conf", shown(*value, buf), field_names[field], hint, list,
                  field_names[field]);
}

int vip_case_check_value(vip_case_field field, const char *value, char *why_out, size_t why_size)
{
    char why[WHY_SIZE] = "";
    size_t len = strlen(value), bad = utf8_invalid_at((const unsigned char *)value, len);
    int rc = 0;
    if (bad < len)
        rc = reason(why, "is not valid UTF-8 (byte 0x%02X at byte offset %zu)", (unsigned char)value[bad], bad);
    else if (!len)
        rc = reason(why, "is empty");
    else if (free_text[field] && len > (size_t)VIP_CASE_MAX_CHARS * 4)
        rc = reason(why, "is %zu bytes long; at most %d characters are allowed", len, VIP_CASE_MAX_CHARS);
    if (!rc && free_text[field]) {
        size_t chars = 0;
        for (size_t i = 0; i < len; i++)
            chars += ((unsigned char)value[i] & 0xC0) != 0x80;
        if (chars > VIP_CASE_MAX_CHARS)
            rc = reason(why, "is %zu characters long; at most %d are allowed", chars, VIP_CASE_MAX_CHARS);
        for (size_t i = 0; !rc && i < len; i++)
            if ((unsigned char)value[i] < 0x20 || value[i] == 0x7F)
                rc = reason(why, "contains a control character at byte offset %zu", i);
    }
    if (!rc) {
        switch (field) {
        case VIP_CASE_CRIME_REF: rc = check_crime_ref(value, why); break;
        case VIP_CASE_OFFICER_PHONE: rc = check_phone(value, why); break;
        case VIP_CASE_EMAIL:
        case VIP_CASE_OFFICER_EMAIL: rc = check_email(value, why); break;
        default: break;
        }
    }
    if (rc && why_out && why_size)
        snprintf(why_out, why_size, "%s", why);
    return rc;
}

/* Adds "column C: what" to the row's warnings (once per column and text). */
static void add_warning(vip_case_row *row, vip_case_field f, const char *what)
{
    char line[360];
    snprintf(line, sizeof line, "column %s: %s", field_names[f], what);
    if (strstr(row->warnings, line))
        return;
    size_t used = strlen(row->warnings);
    snprintf(row->warnings + used, sizeof row->warnings - used, "%s%s", used ? "; " : "", line);
}

/* A free-text value as it can be shown: C0 and C1 control characters and noncharacters have no glyph and no
 * place in a letter's text (a tab becomes a space, the others are left out; a line break in a quoted cell is
 * kept, and set as one), and a combining mark at the start of a word has no letter to combine with (it is drawn on its
 * own, in Indic and Arabic script on HarfBuzz's dotted circle; it is kept, as written). Each is a warning naming
 * the column and the code point; the value is edited in place (it only shrinks). */
static void clean_free_text(vip_case_row *row, vip_case_field f)
{
    char *v = row->value[f], *out = v, what[300];
    const unsigned char *p = (const unsigned char *)v, *end = p + strlen(v);
    int word_start = 1;
    while (p < end) {
        const unsigned char *at = p;
        UChar32 c;
        int32_t i = 0, n = (int32_t)(end - p < 4 ? end - p : 4);
        U8_NEXT(p, i, n, c);
        p += i;
        int cat = u_charType(c);
        if (c == '\t') {
            add_warning(row, f, "U+0009 (a tab) read as a space");
            if (out == v || out[-1] != ' ')
                *out++ = ' ';
            word_start = 1;
            continue;
        }
        if ((cat == U_CONTROL_CHAR && c != '\n' && c != '\r') || U_IS_UNICODE_NONCHAR(c)) {
            snprintf(what, sizeof what, "U+%04X (%s) left out: it has no glyph", (unsigned)c,
                     cat == U_CONTROL_CHAR ? "a control character" : "a noncharacter");
            add_warning(row, f, what);
            continue;
        }
        if (word_start && (cat == U_NON_SPACING_MARK || cat == U_COMBINING_SPACING_MARK || cat == U_ENCLOSING_MARK)) {
            char name[100];
            UErrorCode status = U_ZERO_ERROR;
            u_charName(c, U_UNICODE_CHAR_NAME, name, sizeof name, &status);
            snprintf(what, sizeof what, "U+%04X%s%s begins a word: it has no letter to combine with and is drawn "
                     "on its own (in some scripts on a dotted circle)", (unsigned)c,
                     U_SUCCESS(status) && *name ? " " : "", U_SUCCESS(status) ? name : "");
            add_warning(row, f, what);
        }
        word_start = u_isUWhiteSpace(c);
        memmove(out, at, (size_t)(p - at));
        out += p - at;
    }
    while (out > v && out[-1] == ' ')
        out--;
    *out = '\0';
}

/* Checks one field of a row; valid[] says which fields before it are good (later checks compare with them).
 * Returns 0, 1 (why), or -1 (fatal). */
static int check_field(reader *r, vip_case_row *row, const unsigned char *valid, vip_case_field f, char *why)
{
    char **value = &row->value[f];
    char buf[96], buf2[96];
    if (f == VIP_CASE_ENHANCED_REASON) { /* required exactly when enhanced_rights is yes */
        if (!valid[VIP_CASE_ENHANCED_RIGHTS])
            return 0;
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

    if (free_text[f]) {
        if (f != VIP_CASE_EMAIL && f != VIP_CASE_OFFICER_EMAIL) /* an address is checked whole, below */
            clean_free_text(row, f);
        if (!**value)
            return required[f] ? reason(why, "holds only characters that cannot be shown (%s)", row->warnings) : 0;
        int32_t chars = 0, len = (int32_t)strlen(*value);
        for (int32_t i = 0; i < len; i++)
            chars += ((unsigned char)(*value)[i] & 0xC0) != 0x80;
        if (chars > VIP_CASE_MAX_CHARS)
            return reason(why, "is %d characters long; at most %d are allowed", (int)chars, VIP_CASE_MAX_CHARS);
    }
    switch (f) {
    case VIP_CASE_CRIME_REF: return check_crime_ref(*value, why);
    case VIP_CASE_LANGUAGE: return check_language(*value, &row->lang, why);
    case VIP_CASE_POSTCODE: return check_postcode(r, value, why);
    case VIP_CASE_EMAIL:
        /* The victim's address only ever stops the email: the letter still goes, by post. */
        if (check_email(*value, why))
            snprintf(row->email_problem, sizeof row->email_problem, "%.190s", why);
        return 0;
    case VIP_CASE_OFFICER_EMAIL: return check_email(*value, why);
    case VIP_CASE_OFFENCE:
    case VIP_CASE_NEEDS_ASSESSMENT:
    case VIP_CASE_REFERRAL:
    case VIP_CASE_ENHANCED_REASON:
    case VIP_CASE_SAFE_TO_CONTACT: return check_code(r, value, f, why);
    case VIP_CASE_CONTACT: {
        int rc = check_code(r, value, f, why);
        if (rc == 0 && !strcmp(*value, "email") && !*row->value[VIP_CASE_EMAIL])
            return reason(why, "is email, but the row has no email address; give one, or leave contact empty to "
                          "post the letter");
        return rc;
    }
    case VIP_CASE_OFFICER_PHONE: return check_phone(*value, why);
    case VIP_CASE_ENHANCED_RIGHTS: return check_yes_no(r, value, &row->enhanced, why);
    case VIP_CASE_OFFENCE_DATE: return check_date(r, *value, row->offence_date, why);
    case VIP_CASE_REPORTED_DATE:
        if (check_date(r, *value, row->reported_date, why))
            return 1;
        if (valid[VIP_CASE_OFFENCE_DATE] && date_cmp(row->reported_date, row->offence_date) < 0)
            return reason(why, "\"%s\" is before the offence_date \"%s\"; a crime cannot be reported before it "
                          "happened", shown(*value, buf), shown(row->value[VIP_CASE_OFFENCE_DATE], buf2));
        return 0;
    case VIP_CASE_LETTER_DATE:
        if (check_date(r, *value, row->letter_date, why))
            return 1;
        if (valid[VIP_CASE_REPORTED_DATE] && date_cmp(row->letter_date, row->reported_date) < 0)
            return reason(why, "\"%s\" is before the reported_date \"%s\"; the letter cannot be dated before the "
                          "crime was reported", shown(*value, buf), shown(row->value[VIP_CASE_REPORTED_DATE], buf2));
        return 0;
    default: return 0;
    }
}

/* ---- Rows ------------------------------------------------------------------------------------------------ */

/* Records a problem with a row; ref and lang identify it in reports when it had them. */
static vip_case_problem *add_problem(reader *r, size_t row, size_t line, int field, const char *why)
{
    vip_case_set *set = r->set;
    vip_case_problem *problems = grow(set->problems, &r->problem_cap, set->problem_count, sizeof *problems);
    if (!problems) {
        fail_nomem(r);
        return NULL;
    }
    set->problems = problems;
    vip_case_problem *p = &problems[set->problem_count++];
    memset(p, 0, sizeof *p);
    p->row = row;
    p->line = line;
    snprintf(p->column, sizeof p->column, "%s", field >= 0 ? field_names[field] : "");
    int n = field >= 0 ? snprintf(p->message, sizeof p->message, "row %zu (line %zu), column %s: %s", row, line,
                                  field_names[field], why)
                       : snprintf(p->message, sizeof p->message, "row %zu (line %zu): %s", row, line, why);
    if (n >= (int)sizeof p->message)
        drop_partial_utf8(p->message);
    return p;
}

/* Adds a further problem of the same row to its message. */
static void add_to_problem(vip_case_problem *p, int field, const char *why)
{
    size_t used = strlen(p->message);
    if (used + 8 >= sizeof p->message)
        return;
    int n = snprintf(p->message + used, sizeof p->message - used, "; column %s: %s", field_names[field], why);
    if (n >= (int)(sizeof p->message - used))
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

/* The letter date when none is given: today, or the day of $SOURCE_DATE_EPOCH (so that runs can be repeated). */
static void today(const vip_case_options *o, int ymd[3])
{
    if (o->today[0]) {
        memcpy(ymd, o->today, 3 * sizeof *ymd);
        return;
    }
    time_t now = time(NULL);
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    struct tm tm;
    if (epoch && *epoch) {
        char *end;
        long long v = strtoll(epoch, &end, 10);
        if (!*end && v >= 0) {
            now = (time_t)v;
            gmtime_r(&now, &tm);
            goto done;
        }
    }
    localtime_r(&now, &tm);
done:
    ymd[0] = tm.tm_year + 1900;
    ymd[1] = tm.tm_mon + 1;
    ymd[2] = tm.tm_mday;
}

/* The raw bytes of field f in the current record ("" when the column is absent). */
static csv_field raw_field(const reader *r, int f)
{
    static char empty[] = "";
    if (r->column_of[f] == SIZE_MAX || r->column_of[f] >= r->field_count)
        return (csv_field){empty, 0};
    return r->fields[r->column_of[f]];
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
    /* A '?' in a name where letters should be: the file went through an 8-bit encoding that lost them. */
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        csv_field raw = raw_field(r, f);
        if (names_letters[f] && memchr(raw.text, '?', raw.len)) {
            if (!r->lost_rows++) {
                r->lost_row = row.row;
                r->lost_line = row.line;
                r->lost_field = f;
            }
            break;
        }
    }
    unsigned char valid[VIP_CASE_FIELD_COUNT] = {0};
    vip_case_problem *problem = NULL;
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        csv_field raw = raw_field(r, f);
        size_t bad = utf8_invalid_at((const unsigned char *)raw.text, raw.len);
        int rc;
        if (bad < raw.len) {
            if (raw.text[bad] == '\0')
                reason(why, "contains a NUL byte at byte offset %zu of the value (is the file UTF-16?)", bad);
            else
                reason(why, "is not valid UTF-8 (byte 0x%02X at byte offset %zu of the value); save the file as "
                       "\"CSV UTF-8\"", (unsigned char)raw.text[bad], bad);
            rc = 1;
        } else if (free_text[f] && raw.len > (size_t)VIP_CASE_MAX_CHARS * 4) {
            /* Refused before normalising: a megabyte-long name must not cost the batch its time. */
            rc = reason(why, "is %zu bytes long; at most %d characters are allowed", raw.len, VIP_CASE_MAX_CHARS);
        } else if (normalise(r, raw.text, raw.len, &row.value[f]) != 0) {
            rc = -1;
        } else {
            if (f == VIP_CASE_LETTER_DATE && *row.value[f])
                row.letter_date_given = 1;
            if (f == VIP_CASE_LETTER_DATE && !*row.value[f]) {
                int ymd[3];
                char date[16];
                today(r->options, ymd);
                snprintf(date, sizeof date, "%04d-%02d-%02d", ymd[0] % 10000, ymd[1] % 100, ymd[2] % 100);
                char *d = strdup(date);
                if (!d) {
                    fail_nomem(r);
                    rc = -1;
                    goto checked;
                }
                free(row.value[f]);
                row.value[f] = d;
            }
            rc = check_field(r, &row, valid, (vip_case_field)f, why);
        }
    checked:
        if (rc < 0) {
            free_row_values(&row);
            return;
        }
        if (rc == 0) {
            valid[f] = 1;
            continue;
        }
        if (!problem)
            problem = add_problem(r, row.row, row.line, f, why);
        else
            add_to_problem(problem, f, why);
        if (!problem) {
            free_row_values(&row);
            return;
        }
    }
    if (problem) {
        /* The row is named in reports by its reference and language where they were good. */
        if (valid[VIP_CASE_CRIME_REF])
            snprintf(problem->ref, sizeof problem->ref, "%s", row.value[VIP_CASE_CRIME_REF]);
        if (valid[VIP_CASE_LANGUAGE])
            snprintf(problem->lang, sizeof problem->lang, "%s", row.lang);
        free_row_values(&row);
        return;
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

/* ---- Header ---------------------------------------------------------------------------------------------- */

/* The field a header name stands for: the force's configured names first, then vipgen's names and synonyms. */
static int header_field(const reader *r, const char *name)
{
    char key[64], k2[64];
    if (strlen(name) < sizeof key) {
        key_of(name, key, sizeof key);
        for (size_t i = 0; i < r->options->column_alias_count; i++) {
            key_of(r->options->column_aliases[i].header, k2, sizeof k2);
            if (strcmp(key, k2) == 0)
                return (int)r->options->column_aliases[i].field;
        }
    }
    return vip_case_field_find(name);
}

/* How many of vipgen's columns a header line names when split at sep: tells a ';' or tab file from a bad one. */
static size_t columns_split_by(const reader *r, char sep)
{
    size_t known = 0;
    for (size_t i = 0; i < r->field_count; i++) {
        const char *s = r->fields[i].text, *end = s + r->fields[i].len;
        while (s < end) {
            const char *stop = memchr(s, sep, (size_t)(end - s));
            if (!stop)
                stop = end;
            char name[64];
            size_t n = (size_t)(stop - s);
            if (n < sizeof name) {
                memcpy(name, s, n);
                name[n] = '\0';
                known += header_field(r, name) >= 0;
            }
            s = stop + 1;
        }
    }
    return known;
}

/* Maps header names to fields; fails on a duplicated column or a missing required one. */
static void read_header(reader *r)
{
    size_t column[VIP_CASE_FIELD_COUNT];
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
        column[f] = SIZE_MAX;
    for (size_t i = 0; i < r->field_count; i++) {
        char name[64];
        const char *text = r->fields[i].text;
        size_t n = r->fields[i].len;
        while (n > 0 && is_ascii_space((unsigned char)*text))
            text++, n--;
        while (n > 0 && is_ascii_space((unsigned char)text[n - 1]))
            n--;
        if (n >= sizeof name)
            continue;
        memcpy(name, text, n);
        name[n] = '\0';
        int f = header_field(r, name);
        if (f < 0)
            continue; /* another column of the export: ignored */
        if (column[f] != SIZE_MAX) {
            vip_error_set(r->err, VIP_ERR_INPUT, "%s: the header row (line %zu) names the column %s twice "
                          "(columns %zu \"%s\" and %zu \"%s\"); remove or rename one", r->path, r->record_line,
                          field_names[f], column[f] + 1, r->header_name[f], i + 1, name);
            r->failed = 1;
            return;
        }
        column[f] = i;
        snprintf(r->header_name[f], sizeof r->header_name[f], "%s", name);
    }
    char missing[600] = "", hints[600] = "";
    size_t missing_count = 0;
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        if (column[f] != SIZE_MAX || !required[f])
            continue;
        strncat(missing, missing_count++ ? ", " : "", sizeof missing - strlen(missing) - 1);
        strncat(missing, field_names[f], sizeof missing - strlen(missing) - 1);
        /* Did a column of the file mean this one? */
        char key[64], k2[64];
        key_of(field_names[f], key, sizeof key);
        const char *best = NULL;
        size_t best_score = SIZE_MAX, score;
        for (size_t i = 0; i < r->field_count; i++) {
            if (r->fields[i].len >= sizeof k2)
                continue;
            key_of(r->fields[i].text, k2, sizeof k2);
            int taken = 0;
            for (int g = 0; g < VIP_CASE_FIELD_COUNT; g++)
                taken |= column[g] == i;
            if (!taken && *k2 && close_to(key, k2, &score) && score < best_score) {
                best = r->fields[i].text;
                best_score = score;
            }
        }
        if (best) {
            size_t used = strlen(hints);
            snprintf(hints + used, sizeof hints - used, "; is \"%.60s\" meant to be %s? rename it, or map it in "
                     "the [columns] group of vipgen.conf", best, field_names[f]);
        }
    }
    if (missing_count) {
        size_t semi = columns_split_by(r, ';'), tab = columns_split_by(r, '\t');
        if (r->field_count <= 2 && (semi >= 3 || tab >= 3)) {
            vip_error_set(r->err, VIP_ERR_INPUT, "%s: the values are separated by %s, not commas (as a spreadsheet "
                          "set to some regional settings saves \"CSV\"); save the file again as \"CSV UTF-8 (Comma "
                          "delimited)\"%s", r->path, semi >= tab ? "semicolons (;)" : "tabs",
                          semi >= tab ? ", or set separator = ; in the [import] group of vipgen.conf" : "");
        } else {
            vip_error_set(r->err, VIP_ERR_INPUT, "%s: the header row (line %zu) lacks the required column%s %s%s",
                          r->path, r->record_line, missing_count > 1 ? "s" : "", missing, hints);
        }
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

/* A CSV syntax error in the record being read: fatal in the header, otherwise one bad row. */
static void syntax_error(reader *r, struct csv_parser *parser, int at_end)
{
    int code = csv_error(parser);
    char why[WHY_SIZE], start[64] = "";
    if (code == CSV_ENOMEM) {
        fail_nomem(r);
        return;
    }
    if (at_end)
        reason(why, "not valid CSV: a quoted value in the record that starts on this line is never closed (a closing "
               "\" is missing)");
    else if (code == CSV_EPARSE) {
        if (r->record_line != r->line)
            snprintf(start, sizeof start, " (at line %zu)", r->line);
        reason(why, "not valid CSV%s: a \" inside a value must be doubled (\"\") and the whole value put in quotes; "
               "or a quoted value was not closed", start);
    } else
        reason(why, "not valid CSV: %s", csv_strerror(code));
    if (!r->have_header) {
        vip_error_set(r->err, VIP_ERR_INPUT, "%s: line %zu (the header row): %s", r->path, r->record_line, why);
        r->failed = 1;
        return;
    }
    add_problem(r, ++r->set->total_rows, r->record_line, -1, why);
}

/* The offset just past the line end at or after i (LF, CRLF or a lone CR), or n. */
static size_t line_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n && s[i] != '\n' && s[i] != '\r')
        i++;
    if (i < n && s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
        i++;
    return i < n ? i + 1 : n;
}

static int parser_start(reader *r, struct csv_parser *parser)
{
    if (csv_init(parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        fail_nomem(r);
        return -1;
    }
    if (r->options->separator)
        csv_set_delim(parser, (unsigned char)r->options->separator);
    return 0;
}

/* Parses s[0..n) line by line. libcsv ends a record only at a line end, so feeding whole lines tells the line
 * of every record, counting line breaks inside quoted values and lone CRs too. A syntax error costs only its
 * record: the parser starts again on the line after the one the record began on. */
static void parse(reader *r, const unsigned char *s, size_t n)
{
    struct csv_parser parser;
    if (parser_start(r, &parser))
        return;
    size_t i = 0;
    r->line = 1;
    while (!r->failed) {
        int at_end = i >= n;
        int error = 0;
        if (!at_end) {
            size_t end = line_end(s, n, i);
            /* libcsv skips spaces, tabs and line breaks between records (blank lines); anything else starts one. */
            for (size_t k = i; k < end && !r->in_record; k++)
                if (!(s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '\n')) {
                    r->in_record = 1;
                    r->record_line = r->line;
                    r->record_offset = i;
                }
            size_t used = csv_parse(&parser, s + i, end - i, on_field, on_row, r);
            if (r->failed)
                break;
            error = used != end - i;
            if (!error) {
                if (s[end - 1] == '\n' || s[end - 1] == '\r')
                    r->line++;
                i = end;
                continue;
            }
        } else {
            if (csv_fini(&parser, on_field, on_row, r) == 0 || r->failed)
                break;
            error = 1;
        }
        /* A syntax error: report the record, then read on from the line after its first. */
        syntax_error(r, &parser, at_end);
        if (r->failed)
            break;
        clear_fields(r);
        csv_free(&parser);
        if (parser_start(r, &parser))
            return;
        i = line_end(s, n, r->record_offset);
        r->line = r->record_line + 1;
        r->in_record = 0;
    }
    csv_free(&parser);
}

/* Files that are not case data at all, told apart by their first bytes. */
static int refuse_by_content(reader *r, const unsigned char *s, size_t n)
{
    if (n >= 4 && memcmp(s, "PK\x03\x04", 4) == 0)
        return vip_error_set(r->err, VIP_ERR_INPUT, "%s: this is an Excel workbook (.xlsx) or another zip file, not "
                             "CSV; in Excel choose File > Save As and the type \"CSV UTF-8 (Comma delimited) (*.csv)\"",
                             r->path);
    if (n >= 8 && memcmp(s, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
        return vip_error_set(r->err, VIP_ERR_INPUT, "%s: this is an old Excel workbook (.xls), not CSV; in Excel choose "
                             "File > Save As and the type \"CSV UTF-8 (Comma delimited) (*.csv)\"", r->path);
    if (n >= 2 && (memcmp(s, "\xFF\xFE", 2) == 0 || memcmp(s, "\xFE\xFF", 2) == 0))
        return vip_error_set(r->err, VIP_ERR_INPUT, "%s: the file is UTF-16; save it as \"CSV UTF-8\"", r->path);
    /* UTF-16 without a byte-order mark: ASCII text with a NUL byte beside every character. */
    size_t look = n < 64 ? n : 64, even = 0, odd = 0;
    for (size_t i = 0; i < look; i++)
        if (!s[i])
            *(i % 2 ? &odd : &even) += 1;
    if (look >= 8 && (even >= look / 2 - 1 || odd >= look / 2 - 1))
        return vip_error_set(r->err, VIP_ERR_INPUT, "%s: the file looks like UTF-16 (a NUL byte beside every "
                             "letter); save it as \"CSV UTF-8\"", r->path);
    return VIP_OK;
}

/* Reads the whole file: case files are small (a day's export), and a syntax error is recovered from by reading
 * again from an earlier line. */
static unsigned char *read_file(reader *r, size_t *len)
{
    enum { MAX_FILE = 1 << 30 };
    FILE *fp = fopen(r->path, "rb");
    if (!fp) {
        vip_error_set(r->err, VIP_ERR_IO, "%s: cannot open: %s", r->path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        vip_error_set(r->err, VIP_ERR_IO, "%s: is a directory, not a CSV file", r->path);
        fclose(fp);
        return NULL;
    }
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                vip_error_set(r->err, VIP_ERR_INPUT, "%s: the file is larger than 1 GB; split it into smaller files",
                              r->path);
                free(buf);
                fclose(fp);
                return NULL;
            }
            unsigned char *p = realloc(buf, cap * 2);
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    if (!buf) {
        fail_nomem(r);
    } else if (ferror(fp)) {
        vip_error_set(r->err, VIP_ERR_IO, "%s: read failed: %s", r->path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    *len = n;
    return buf;
}

vip_case_set *vip_case_read_with(const char *path, const vip_case_options *options, vip_error *err)
{
    vip_case_options defaults = {0};
    reader r = {.path = path, .options = options ? options : &defaults, .err = err, .line = 1};
    UErrorCode status = U_ZERO_ERROR;
    r.nfc = unorm2_getNFCInstance(&status);
    if (U_FAILURE(status)) {
        vip_error_set(err, VIP_ERR_INTERNAL, "ICU NFC normaliser unavailable: %s", u_errorName(status));
        return NULL;
    }
    size_t n = 0;
    unsigned char *buf = read_file(&r, &n);
    if (!buf)
        return NULL;
    if (!(r.set = calloc(1, sizeof *r.set))) {
        free(buf);
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory while reading case data", path);
        return NULL;
    }
    size_t start = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* UTF-8 byte order mark, as Excel writes */
    if (refuse_by_content(&r, buf + start, n - start))
        r.failed = 1;
    else
        parse(&r, buf + start, n - start);
    if (!r.failed && !r.have_header) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: the file is empty; expected a header row naming the columns", path);
        r.failed = 1;
    }
    if (!r.failed && r.lost_rows) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: row %zu (line %zu), column %s%s has \"?\" where letters should be: the "
                      "file was saved in an 8-bit encoding (such as Excel's \"CSV (Comma delimited)\"), which has no "
                      "Arabic, Urdu, Farsi, Punjabi, Chinese or Polish letters, and they were lost. Save the export "
                      "again as \"CSV UTF-8 (Comma delimited)\" (do not retype the names); no letter was produced",
                      path, r.lost_row, r.lost_line, field_names[r.lost_field],
                      r.lost_rows > 1 ? ", and other rows," : "");
        r.failed = 1;
    }
    free(buf);
    clear_fields(&r);
    free(r.fields);
    if (r.failed) {
        vip_case_set_destroy(r.set);
        return NULL;
    }
    return r.set;
}

vip_case_set *vip_case_read(const char *path, vip_error *err)
{
    return vip_case_read_with(path, NULL, err);
}
