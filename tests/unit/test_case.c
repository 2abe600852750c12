/* Case data from CSV: RFC 4180 quoting, BOM and CRLF, line numbers of records that span lines, NFC and trimming,
 * every validation rule with the row, line and column it names, and the files that cannot be read at all.
 * Fixtures are in tests/data/case/ (fictional people); table-driven cases write small files to /tmp. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case.h"
#include "check.h"

#define DATA "tests/data/case/"
#define HEADER                                                                                                   \
    "crime_ref,language,victim_name,address_1,address_2,address_3,town,postcode,email,offence,offence_date,"     \
    "reported_date,location,officer_name,officer_role,officer_phone,officer_email,needs_assessment,referral,"    \
    "enhanced_rights,enhanced_reason,letter_date"

static const vip_case_problem *problem_in_row(const vip_case_set *set, size_t row)
{
    for (size_t i = 0; i < set->problem_count; i++)
        if (set->problems[i].row == row)
            return &set->problems[i];
    return NULL;
}

static const vip_case_row *row_with_ref(const vip_case_set *set, const char *ref)
{
    for (size_t i = 0; i < set->row_count; i++)
        if (strcmp(set->rows[i].value[VIP_CASE_CRIME_REF], ref) == 0)
            return &set->rows[i];
    return NULL;
}

static const char *value(const vip_case_row *row, vip_case_field f)
{
    return row ? row->value[f] : "(no row)";
}

/* ---- Table-driven cases: one good row with one column changed, written to a temporary file ---------------- */

static const char *const base_row[VIP_CASE_FIELD_COUNT] = {
    "WM/24/1001", "en", "Alex Morgan", "12 Park Lane", "", "", "Birmingham", "B33 8TH", "alex.morgan@example.com",
    "theft", "2024-03-01", "2024-03-02", "Bull Street", "DC Priya Shah", "Investigating officer", "0121 496 0000",
    "priya.shah@police.example.uk", "completed", "referred", "no", "", "2024-03-04", "", "", "",
};

static void write_quoted(FILE *fp, const char *v)
{
    fputc('"', fp);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', fp);
        fputc(*v, fp);
    }
    fputc('"', fp);
}

/* Writes text to a new temporary file; returns its path in path (caller unlinks). */
static int write_temp(const char *text, size_t len, char path[64])
{
    strcpy(path, "/tmp/vip_test_case_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        close(fd);
        return -1;
    }
    fwrite(text, 1, len, fp);
    return fclose(fp);
}

/* Reads a file made of the header and the base row with field f set to v (up to two fields changed). */
static vip_case_set *read_variant(vip_case_field f, const char *v, vip_case_field f2, const char *v2, vip_error *err)
{
    char path[64] = "/tmp/vip_test_case_XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!fp)
        return NULL;
    for (int i = 0; i < VIP_CASE_FIELD_COUNT; i++)
        fprintf(fp, "%s%s", i ? "," : "", vip_case_field_name((vip_case_field)i));
    fputc('\n', fp);
    for (int i = 0; i < VIP_CASE_FIELD_COUNT; i++) {
        if (i)
            fputc(',', fp);
        write_quoted(fp, i == (int)f ? v : i == (int)f2 ? v2 : base_row[i]);
    }
    fputc('\n', fp);
    fclose(fp);
    vip_case_set *set = vip_case_read(path, err);
    unlink(path);
    return set;
}

/* Expects the variant to be accepted with the field stored as want (NULL: unchanged). */
static void expect_good(const char *name, vip_case_field f, const char *v, const char *want)
{
    vip_error err = {0};
    vip_case_set *set = read_variant(f, v, VIP_CASE_FIELD_COUNT, NULL, &err);
    const char *got = set && set->row_count == 1 ? set->rows[0].value[f] : NULL;
    CHECK(name, got && strcmp(got, want ? want : v) == 0, "value \"%s\": %s", v,
          !set ? err.message : set->problem_count ? set->problems[0].message : got ? got : "?");
    vip_case_set_destroy(set);
}

/* Expects the victim's email to leave the row valid, with the reason it cannot be used. */
static void expect_email_problem(const char *name, const char *v, const char *want)
{
    vip_error err = {0};
    vip_case_set *set = read_variant(VIP_CASE_EMAIL, v, VIP_CASE_FIELD_COUNT, NULL, &err);
    CHECK(name, set && set->row_count == 1 && strstr(set->rows[0].email_problem, want) &&
                    !strstr(set->rows[0].email_problem, v),
          "value \"%s\": %s", v, !set ? err.message : set->problem_count ? set->problems[0].message
                                                    : set->row_count ? set->rows[0].email_problem : "?");
    vip_case_set_destroy(set);
}

/* Expects the variant to be accepted with the field stored as want and a row warning containing warn. */
static void expect_warned(const char *name, vip_case_field f, const char *v, const char *want, const char *warn)
{
    vip_error err = {0};
    vip_case_set *set = read_variant(f, v, VIP_CASE_FIELD_COUNT, NULL, &err);
    const vip_case_row *row = set && set->row_count == 1 ? &set->rows[0] : NULL;
    CHECK(name, row && strcmp(row->value[f], want) == 0 && strstr(row->warnings, warn),
          "value \"%s\": %s", v, !set ? err.message : set->problem_count ? set->problems[0].message
                                   : row ? row->warnings : "?");
    vip_case_set_destroy(set);
}

/* Expects the variant to be refused with a problem in the field's column whose message contains want. */
static void expect_bad2(const char *name, vip_case_field f, const char *v, vip_case_field f2, const char *v2,
                        vip_case_field column, const char *want)
{
    vip_error err = {0};
    vip_case_set *set = read_variant(f, v, f2, v2, &err);
    const vip_case_problem *p = set && set->problem_count == 1 && set->row_count == 0 ? &set->problems[0] : NULL;
    CHECK(name, p && p->row == 1 && p->line == 2 && strcmp(p->column, vip_case_field_name(column)) == 0 &&
                    strstr(p->message, want),
          "value \"%s\": %s", v, !set ? err.message : p ? p->message : "accepted");
    vip_case_set_destroy(set);
}

static void expect_bad(const char *name, vip_case_field f, const char *v, const char *want)
{
    expect_bad2(name, f, v, VIP_CASE_FIELD_COUNT, NULL, f, want);
}

static void test_good_file(void)
{
    vip_error err = {0};
    vip_case_set *set = vip_case_read(DATA "good.csv", &err);
    CHECK("good: read", set != NULL, "%s", err.message);
    if (!set)
        return;
    CHECK("good: four rows, no problems", set->row_count == 4 && set->problem_count == 0 && set->total_rows == 4,
          "%zu rows, %zu problems (%s)", set->row_count, set->problem_count,
          set->problem_count ? set->problems[0].message : "");

    const vip_case_row *r = row_with_ref(set, "MP/24/000123");
    CHECK("good: BOM stripped, header in any order and case", r != NULL, "crime_ref not found");
    CHECK("good: doubled quotes and comma", strcmp(value(r, VIP_CASE_VICTIM_NAME), "José \"Pepe\" García, Jr.") == 0,
          "[%s]", value(r, VIP_CASE_VICTIM_NAME));
    CHECK("good: quoted comma", strcmp(value(r, VIP_CASE_ADDRESS_1), "Flat 2, 14 Elm Road") == 0, "[%s]",
          value(r, VIP_CASE_ADDRESS_1));
    CHECK("good: embedded line break kept", strcmp(value(r, VIP_CASE_LOCATION), "Rear garden,\r\nbehind the shed") == 0,
          "[%s]", value(r, VIP_CASE_LOCATION));
    CHECK("good: row 1 on line 2", r && r->row == 1 && r->line == 2, "row %zu line %zu", r ? r->row : 0,
          r ? r->line : 0);
    CHECK("good: postcode normalised", strcmp(value(r, VIP_CASE_POSTCODE), "SW1A 1AA") == 0, "[%s]",
          value(r, VIP_CASE_POSTCODE));
    CHECK("good: enhanced yes", r && r->enhanced == 1 && strcmp(value(r, VIP_CASE_ENHANCED_RIGHTS), "yes") == 0 &&
                                    strcmp(value(r, VIP_CASE_ENHANCED_REASON), "serious_crime") == 0,
          "[%s]", value(r, VIP_CASE_ENHANCED_RIGHTS));
    CHECK("good: dates parsed (leap day)",
          r && r->offence_date[0] == 2024 && r->offence_date[1] == 2 && r->offence_date[2] == 27 &&
              r->reported_date[1] == 2 && r->reported_date[2] == 29 && r->letter_date[1] == 3,
          "dates wrong");
    CHECK("good: phone kept", strcmp(value(r, VIP_CASE_OFFICER_PHONE), "+44 (0)20 7946 0000") == 0, "[%s]",
          value(r, VIP_CASE_OFFICER_PHONE));
    CHECK("good: canonical language", r && strcmp(r->lang, "en") == 0, "%s", r ? r->lang : "");

    r = row_with_ref(set, "GMP-2024-77");
    CHECK("good: row after a two-line record is on line 4", r && r->row == 2 && r->line == 4, "row %zu line %zu",
          r ? r->row : 0, r ? r->line : 0);
    CHECK("good: NFC and placeholder-like text kept", strcmp(value(r, VIP_CASE_VICTIM_NAME), "Se\xC3\xA1n O'Brien {0}") == 0,
          "[%s]", value(r, VIP_CASE_VICTIM_NAME));
    CHECK("good: alias pl-PL", r && strcmp(r->lang, "pl") == 0, "%s", r ? r->lang : "");
    CHECK("good: trimmed", strcmp(value(r, VIP_CASE_ADDRESS_2), "Didsbury") == 0 &&
                               strcmp(value(r, VIP_CASE_TOWN), "Manchester") == 0,
          "[%s] [%s]", value(r, VIP_CASE_ADDRESS_2), value(r, VIP_CASE_TOWN));
    CHECK("good: empty optionals are \"\"", r && strcmp(r->value[VIP_CASE_EMAIL], "") == 0 &&
                                                strcmp(r->value[VIP_CASE_ADDRESS_3], "") == 0 &&
                                                strcmp(r->value[VIP_CASE_OFFICER_EMAIL], "") == 0,
          "not empty");
    CHECK("good: 0 means no", r && r->enhanced == 0 && strcmp(value(r, VIP_CASE_ENHANCED_RIGHTS), "no") == 0, "[%s]",
          value(r, VIP_CASE_ENHANCED_RIGHTS));
    CHECK("good: lower-case postcode", strcmp(value(r, VIP_CASE_POSTCODE), "M1 1AE") == 0, "[%s]",
          value(r, VIP_CASE_POSTCODE));

    r = row_with_ref(set, "WMP/24/5");
    CHECK("good: blank line counted (line 6)", r && r->row == 3 && r->line == 6, "row %zu line %zu",
          r ? r->row : 0, r ? r->line : 0);
    CHECK("good: Arabic name", strcmp(value(r, VIP_CASE_VICTIM_NAME), "ليلى حسن") == 0 && r && strcmp(r->lang, "ar") == 0,
          "[%s]", value(r, VIP_CASE_VICTIM_NAME));

    r = row_with_ref(set, "SYP/24/42");
    CHECK("good: Chinese name, zh-CN is zh-Hans", strcmp(value(r, VIP_CASE_VICTIM_NAME), "王小明") == 0 && r &&
                                                       strcmp(r->lang, "zh-Hans") == 0 && r->line == 7 && r->enhanced,
          "[%s]", value(r, VIP_CASE_VICTIM_NAME));
    CHECK("good: file order", set->rows[0].row == 1 && set->rows[3].row == 4, "order");
    vip_case_set_destroy(set);
}

static void test_mixed_file(void)
{
    static const struct {
        size_t row, line;
        const char *column, *want;
    } expected[] = {
        {2, 3, "offence_date", "\"12/03/2024\" is not a date in the form YYYY-MM-DD"},
        {3, 4, "offence_date", "\"2024-02-30\" is not a date that exists (expected YYYY-MM-DD)"},
        {4, 5, "reported_date", "is before the offence_date"},
        {5, 6, "language", "en, pl, ro, ar, fa, ur, pa, zh-Hans"},
        {7, 8, "offence", "\"burglary\" is not a known offence code; did you mean burglary_dwelling? expected one of: "
                          "burglary_dwelling, theft,"},
        {8, 9, "town", "is empty"},
        {9, 10, "enhanced_reason", "enhanced_rights is yes"},
        {11, 12, "postcode", "not a UK postcode"},
        {12, 13, "", "has 21 fields but the header has 22 columns"},
        {13, 14, "victim_name", "not valid UTF-8 (byte 0xE9 at byte offset 3"},
        {14, 15, "letter_date", "is before the reported_date"},
        {15, 16, "enhanced_reason", "enhanced_rights is no"},
        {16, 17, "officer_phone", "has 9 digits"},
        {17, 18, "crime_ref", "only letters"},
        {18, 19, "enhanced_rights", "is not yes or no"},
        {21, 23, "referral", "\"unknown\" is not a known referral code"},
    };
    vip_error err = {0};
    vip_case_set *set = vip_case_read(DATA "mixed.csv", &err);
    CHECK("mixed: read", set != NULL, "%s", err.message);
    if (!set)
        return;
    CHECK("mixed: counts (trailing empty rows ignored)",
          set->row_count == 6 && set->problem_count == sizeof expected / sizeof expected[0] && set->total_rows == 22,
          "%zu rows, %zu problems, %zu total", set->row_count, set->problem_count, set->total_rows);
    CHECK("mixed: good rows returned",
          set->row_count == 6 && set->rows[0].row == 1 && set->rows[1].row == 6 && set->rows[2].row == 10 &&
              set->rows[3].row == 19 && set->rows[4].row == 20 && set->rows[5].row == 22 && set->rows[4].line == 21 &&
              set->rows[5].line == 24 && strcmp(set->rows[3].value[VIP_CASE_NEEDS_ASSESSMENT], "completed") == 0 &&
              strstr(set->rows[2].email_problem, "not an email address"),
          "rows wrong");
    CHECK("mixed: multi-line value", set->row_count > 4 &&
                                         strcmp(set->rows[4].value[VIP_CASE_LOCATION], "Bull Street\nnear the bus stop") == 0,
          "value wrong");
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        char name[80];
        snprintf(name, sizeof name, "mixed: row %zu %s", expected[i].row,
                 *expected[i].column ? expected[i].column : "field count");
        const vip_case_problem *p = problem_in_row(set, expected[i].row);
        char prefix[80];
        snprintf(prefix, sizeof prefix, "row %zu (line %zu)%s%s", expected[i].row, expected[i].line,
                 *expected[i].column ? ", column " : ":", expected[i].column);
        CHECK(name, p && p->line == expected[i].line && strcmp(p->column, expected[i].column) == 0 &&
                        strncmp(p->message, prefix, strlen(prefix)) == 0 && strstr(p->message, expected[i].want),
              "%s", p ? p->message : "no problem reported");
    }
    vip_case_set_destroy(set);
}

static void test_bad_files(void)
{
    vip_error err = {0};
    vip_case_set *set = vip_case_read(DATA "missing_column.csv", &err);
    CHECK("missing column: fails naming it", !set && err.code == VIP_ERR_INPUT && strstr(err.message, "offence_date") &&
                                                  strstr(err.message, "missing_column.csv"),
          "%s", err.message);
    vip_case_set_destroy(set);

    err = (vip_error){0};
    set = vip_case_read(DATA "duplicate_column.csv", &err);
    CHECK("duplicate column: fails naming it", !set && err.code == VIP_ERR_INPUT && strstr(err.message, "town twice"),
          "%s", err.message);
    vip_case_set_destroy(set);

    /* A CSV syntax error costs only its row: the rows after it are still read. */
    err = (vip_error){0};
    set = vip_case_read(DATA "unterminated_quote.csv", &err);
    CHECK("unterminated quote: that row only", set && set->row_count == 2 && set->problem_count == 1 &&
                                                   set->problems[0].row == 2 && set->problems[0].line == 3 &&
                                                   strstr(set->problems[0].message, "never closed") &&
                                                   set->rows[1].row == 3 && set->rows[1].line == 4,
          "%s", set ? (set->problem_count ? set->problems[0].message : "no problem") : err.message);
    vip_case_set_destroy(set);

    err = (vip_error){0};
    set = vip_case_read(DATA "stray_quote.csv", &err);
    CHECK("stray quote: that row only", set && set->row_count == 1 && set->problem_count == 1 &&
                                            strncmp(set->problems[0].message, "row 2 (line 3): not valid CSV", 29) == 0,
          "%s", set ? (set->problem_count ? set->problems[0].message : "no problem") : err.message);
    vip_case_set_destroy(set);

    err = (vip_error){0};
    set = vip_case_read(DATA "no_such_file.csv", &err);
    CHECK("missing file: I/O error", !set && err.code == VIP_ERR_IO, "%d %s", err.code, err.message);

    char path[64];
    static const struct {
        const char *name, *text, *want;
        size_t len;
    } files[] = {
        {"empty file", "", "empty", 0},
        {"only blank lines", "\n\r\n  \n", "empty", 6},
        {"UTF-16 file", "\xFF\xFE" "c\0r\0", "UTF-16", 6},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        err = (vip_error){0};
        set = NULL;
        if (write_temp(files[i].text, files[i].len ? files[i].len : strlen(files[i].text), path) == 0) {
            set = vip_case_read(path, &err);
            unlink(path);
        }
        CHECK(files[i].name, !set && err.code == VIP_ERR_INPUT && strstr(err.message, files[i].want), "%s",
              err.message);
        vip_case_set_destroy(set);
    }

    /* A quote left open: the record is reported from the line it starts on, and reading goes on after it. */
    const char *open_quote = HEADER "\n\"a\nb\n\"c\"x\n";
    err = (vip_error){0};
    set = NULL;
    if (write_temp(open_quote, strlen(open_quote), path) == 0) {
        set = vip_case_read(path, &err);
        unlink(path);
    }
    CHECK("quote left open mid-file", set && set->problem_count >= 1 && set->problems[0].line == 2 &&
                                          strstr(set->problems[0].message, "not valid CSV (at line 4)"),
          "%s", set ? (set->problem_count ? set->problems[0].message : "no problem") : err.message);
    vip_case_set_destroy(set);

    /* A header alone is a valid, empty case list; unknown extra columns are ignored. */
    const char *header_only = HEADER ",extra,Extra\r\n";
    err = (vip_error){0};
    set = NULL;
    if (write_temp(header_only, strlen(header_only), path) == 0) {
        set = vip_case_read(path, &err);
        unlink(path);
    }
    CHECK("header only: no rows", set && set->row_count == 0 && set->problem_count == 0 && set->total_rows == 0,
          "%s", err.message);
    vip_case_set_destroy(set);
}

static void test_rules(void)
{
    /* Postcodes: the shapes of the UK format, normalised to upper case with one space. */
    expect_good("postcode SW1A 1AA", VIP_CASE_POSTCODE, "SW1A 1AA", NULL);
    expect_good("postcode M1 1AE", VIP_CASE_POSTCODE, "M1 1AE", NULL);
    expect_good("postcode B33 8TH", VIP_CASE_POSTCODE, "B33 8TH", NULL);
    expect_good("postcode cr26xh", VIP_CASE_POSTCODE, "cr26xh", "CR2 6XH");
    expect_good("postcode dn55  1pt", VIP_CASE_POSTCODE, "dn55  1pt", "DN55 1PT");
    expect_good("postcode W1A 0AX", VIP_CASE_POSTCODE, "W1A 0AX", NULL);
    expect_good("postcode EC1A 1BB", VIP_CASE_POSTCODE, "ec1a 1bb", "EC1A 1BB");
    expect_bad("postcode too short", VIP_CASE_POSTCODE, "SW1A 1A", "is not a UK postcode");
    expect_bad("postcode inward letters", VIP_CASE_POSTCODE, "SW1A 1AC", "is not a UK postcode");
    expect_bad("postcode digits only", VIP_CASE_POSTCODE, "12345", "is not a UK postcode");
    expect_bad("postcode too long", VIP_CASE_POSTCODE, "SW1A1 1AA", "is not a UK postcode");
    expect_bad("postcode Q first", VIP_CASE_POSTCODE, "QA1 1AA", "is not a UK postcode");

    /* Dates, including leap years. */
    expect_good("date 2000-02-29", VIP_CASE_OFFENCE_DATE, "2000-02-29", NULL);
    expect_bad("date 1900-02-29", VIP_CASE_OFFENCE_DATE, "1900-02-29", "is not a date that exists");
    expect_bad("date 2023-02-29", VIP_CASE_OFFENCE_DATE, "2023-02-29", "is not a date that exists");
    expect_bad("date month 13", VIP_CASE_OFFENCE_DATE, "2024-13-01", "is not a date that exists");
    expect_bad("date 2024-04-31", VIP_CASE_OFFENCE_DATE, "2024-04-31", "is not a date that exists");
    expect_bad("date 2024-3-1", VIP_CASE_OFFENCE_DATE, "2024-3-1", "form YYYY-MM-DD");
    expect_bad("date with time", VIP_CASE_LETTER_DATE, "2024-03-04T10:00", "form YYYY-MM-DD");
    expect_good("dates all on one day", VIP_CASE_REPORTED_DATE, "2024-03-01", NULL);
    expect_bad2("letter before report", VIP_CASE_REPORTED_DATE, "2024-03-03", VIP_CASE_LETTER_DATE, "2024-03-02",
                VIP_CASE_LETTER_DATE, "before the reported_date \"2024-03-03\"");

    /* Email addresses: the officer's is checked; the victim's, when unusable, stops only the email (the letter is
     * still produced, to post) and says why. */
    expect_good("email plain", VIP_CASE_EMAIL, "jo.bloggs+case@mail.example.co.uk", NULL);
    /* Characters that cannot be shown as written: a warning naming the column and code point, the row kept. */
    expect_warned("name control char left out", VIP_CASE_VICTIM_NAME, "Jo\aBloggs", "JoBloggs",
                  "column victim_name: U+0007 (a control character) left out");
    expect_warned("name C1 control left out", VIP_CASE_VICTIM_NAME, "Jo \xC2\x9B Bloggs", "Jo  Bloggs", "U+009B");
    expect_warned("address tab a space", VIP_CASE_ADDRESS_1, "14 Acacia\t\tAvenue", "14 Acacia Avenue",
                  "column address_1: U+0009 (a tab) read as a space");
    expect_warned("address vertical tab left out", VIP_CASE_ADDRESS_1, "14 Acacia \vAvenue", "14 Acacia Avenue",
                  "U+000B (a control character) left out");
    expect_warned("town noncharacter left out", VIP_CASE_TOWN, "North\xEF\xBF\xBEtown", "Northtown",
                  "U+FFFE (a noncharacter) left out");
    expect_warned("name mark first kept", VIP_CASE_VICTIM_NAME, "Jo \xCC\x81" "Bloggs", "Jo \xCC\x81" "Bloggs",
                  "U+0301 COMBINING ACUTE ACCENT begins a word");
    expect_good("name mark after letter", VIP_CASE_VICTIM_NAME, "Jose\xCC\x81 Bloggs", "Jos\xC3\xA9 Bloggs");
    expect_bad2("name only control chars", VIP_CASE_VICTIM_NAME, "\a\a", VIP_CASE_FIELD_COUNT, NULL,
                VIP_CASE_VICTIM_NAME, "holds only characters that cannot be shown");
    expect_email_problem("email no @", "jo.bloggs.example.org", "has no '@'");
    expect_email_problem("email two @", "jo@bloggs@example.org", "more than one '@'");
    expect_email_problem("email empty local", "@example.org", "nothing before the '@'");
    expect_email_problem("email space", "jo bloggs@example.org", "contains a space");
    expect_bad("email domain dot", VIP_CASE_OFFICER_EMAIL, "jo@example.", "full domain");
    expect_bad("email domain empty label", VIP_CASE_OFFICER_EMAIL, "jo@example..org", "full domain");

    /* How the letter goes, and whether it may. */
    expect_good("contact Post", VIP_CASE_CONTACT, "Post", "post");
    expect_good("contact none", VIP_CASE_CONTACT, "NONE", "none");
    expect_good("safe_to_contact Yes", VIP_CASE_SAFE_TO_CONTACT, "Yes", "yes");
    expect_good("safe_to_contact unknown", VIP_CASE_SAFE_TO_CONTACT, "unknown", NULL);
    expect_bad("safe_to_contact maybe", VIP_CASE_SAFE_TO_CONTACT, "maybe", "expected one of: yes, no, unknown");
    expect_bad2("contact email without address", VIP_CASE_EMAIL, "", VIP_CASE_CONTACT, "email", VIP_CASE_CONTACT,
                "the row has no email address");
    expect_good("victim_id kept", VIP_CASE_VICTIM_ID, " V-000123 ", "V-000123");

    /* Phones. */
    expect_good("phone 16 digits", VIP_CASE_OFFICER_PHONE, "+44 (0) 121-496-0000 123", NULL);
    expect_bad("phone 17 digits", VIP_CASE_OFFICER_PHONE, "+44 (0) 121-496-0000 1234", "has 17 digits");
    expect_bad("phone letters", VIP_CASE_OFFICER_PHONE, "0121 496 0000 ext 2", "only digits, spaces and + ( ) -");

    /* Crime references: they become part of a file name. */
    expect_good("crime_ref 40 chars", VIP_CASE_CRIME_REF, "ABCDEFGHIJ/0123456789-abcdefghij/0123456", NULL);
    expect_bad("crime_ref 41 chars", VIP_CASE_CRIME_REF, "ABCDEFGHIJ/0123456789-abcdefghij/01234567", "3 to 40");
    expect_bad("crime_ref 2 chars", VIP_CASE_CRIME_REF, "AB", "3 to 40");
    expect_bad("crime_ref dot dot", VIP_CASE_CRIME_REF, "../etc", "only letters");
    expect_bad("crime_ref non-ASCII", VIP_CASE_CRIME_REF, "WMÉ/1", "only letters");

    /* yes/no spellings, normalised. */
    static const char *const yes[] = {"YES", "y", "True", "1"}, *const no[] = {"No", "N", "FALSE", "0"};
    for (int i = 0; i < 4; i++) {
        char name[48];
        snprintf(name, sizeof name, "enhanced %s", yes[i]);
        vip_error err = {0};
        vip_case_set *set = read_variant(VIP_CASE_ENHANCED_RIGHTS, yes[i], VIP_CASE_ENHANCED_REASON,
                                         "persistently_targeted", &err);
        CHECK(name, set && set->row_count == 1 && set->rows[0].enhanced == 1 &&
                        strcmp(set->rows[0].value[VIP_CASE_ENHANCED_RIGHTS], "yes") == 0,
              "%s", set && set->problem_count ? set->problems[0].message : err.message);
        vip_case_set_destroy(set);
        snprintf(name, sizeof name, "enhanced %s", no[i]);
        expect_good(name, VIP_CASE_ENHANCED_RIGHTS, no[i], "no");
    }
    expect_bad2("enhanced reason unknown", VIP_CASE_ENHANCED_RIGHTS, "yes", VIP_CASE_ENHANCED_REASON, "other",
                VIP_CASE_ENHANCED_REASON, "expected one of: serious_crime, persistently_targeted, vulnerable_intimidated");

    /* Languages: aliases stored canonically; the error lists the supported tags. */
    expect_good("language zh-hans-cn", VIP_CASE_LANGUAGE, "zh-hans-cn", NULL);
    expect_bad("language fr", VIP_CASE_LANGUAGE, "fr", "\"fr\" is not a supported language; expected one of: en, pl");

    /* Every required column, and the optional ones. */
    static const vip_case_field optional[] = {VIP_CASE_ADDRESS_2, VIP_CASE_ADDRESS_3,      VIP_CASE_EMAIL,
                                              VIP_CASE_OFFICER_EMAIL, VIP_CASE_ENHANCED_REASON, VIP_CASE_LOCATION,
                                              VIP_CASE_CONTACT,   VIP_CASE_SAFE_TO_CONTACT, VIP_CASE_VICTIM_ID};
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        int is_optional = 0;
        for (size_t k = 0; k < sizeof optional / sizeof optional[0]; k++)
            is_optional |= optional[k] == (vip_case_field)f;
        char name[64];
        snprintf(name, sizeof name, "%s %s", vip_case_field_name((vip_case_field)f),
                 is_optional ? "optional" : "required");
        if (f == VIP_CASE_LETTER_DATE)
            continue; /* defaults to today: see test_import */
        if (is_optional)
            expect_good(name, (vip_case_field)f, " \t ", "");
        else
            expect_bad(name, (vip_case_field)f, "  ", "is empty");
    }

    /* Values are data: braces, quotes, commas, apostrophes and line breaks kept; NFC applied. */
    expect_good("value with braces and quotes", VIP_CASE_VICTIM_NAME, " Seán O'Brien {0} \"x\", Jr.\n",
                "Seán O'Brien {0} \"x\", Jr.");
    expect_good("value NFC", VIP_CASE_OFFICER_NAME, "Zoe\xCC\x88 Nowak", "Zo\xC3\xAB Nowak");
    expect_good("value ideographic spaces trimmed", VIP_CASE_TOWN, "\xE3\x80\x80London\xC2\xA0", "London");
    expect_bad("value overlong UTF-8", VIP_CASE_LOCATION, "ab\xC0\xAF", "byte 0xC0 at byte offset 2");
    expect_bad("value surrogate UTF-8", VIP_CASE_LOCATION, "\xED\xA0\x80", "byte 0xED at byte offset 0");
    expect_bad("value truncated UTF-8", VIP_CASE_LOCATION, "Zo\xC3", "byte 0xC3 at byte offset 2");

    /* A long bad value is shortened in the message, which stays valid UTF-8 and one line. */
    char long_value[400];
    size_t n = 0;
    while (n + 2 < 300) {
        memcpy(long_value + n, "é", 2);
        n += 2;
    }
    strcpy(long_value + n, "\nburglary");
    vip_error err = {0};
    vip_case_set *set = read_variant(VIP_CASE_OFFENCE, long_value, VIP_CASE_FIELD_COUNT, NULL, &err);
    const char *msg = set && set->problem_count ? set->problems[0].message : "";
    CHECK("long value shortened", strstr(msg, "…\" is not a known offence code") && !strchr(msg, '\n') &&
                                      strlen(msg) < 400,
          "%s", msg);
    vip_case_set_destroy(set);
}

static void test_codes(void)
{
    const char *const *offences = vip_case_codes(VIP_CASE_OFFENCE);
    size_t n = 0;
    while (offences && offences[n])
        n++;
    CHECK("codes: offence", n == 12 && strcmp(offences[0], "burglary_dwelling") == 0 &&
                                strcmp(offences[11], "vehicle_theft") == 0,
          "%zu codes", n);
    CHECK("codes: needs_assessment", vip_case_codes(VIP_CASE_NEEDS_ASSESSMENT) &&
                                         strcmp(vip_case_codes(VIP_CASE_NEEDS_ASSESSMENT)[2], "not_yet") == 0,
          "wrong");
    CHECK("codes: referral", vip_case_codes(VIP_CASE_REFERRAL) &&
                                 strcmp(vip_case_codes(VIP_CASE_REFERRAL)[2], "not_applicable") == 0 &&
                                 !vip_case_codes(VIP_CASE_REFERRAL)[3],
          "wrong");
    CHECK("codes: enhanced_reason", vip_case_codes(VIP_CASE_ENHANCED_REASON) &&
                                        strcmp(vip_case_codes(VIP_CASE_ENHANCED_REASON)[1], "persistently_targeted") == 0,
          "wrong");
    CHECK("codes: none for free text", vip_case_codes(VIP_CASE_TOWN) == NULL, "not NULL");
    CHECK("field names", strcmp(vip_case_field_name(VIP_CASE_CRIME_REF), "crime_ref") == 0 &&
                             strcmp(vip_case_field_name(VIP_CASE_NEEDS_ASSESSMENT), "needs_assessment") == 0 &&
                             strcmp(vip_case_field_name(VIP_CASE_LETTER_DATE), "letter_date") == 0 &&
                             strcmp(vip_case_field_name(VIP_CASE_FIELD_COUNT), "") == 0,
          "wrong");
}

/* ---- A force's own export: forgiving where only the form differs, never silent --------------------------------- */

static vip_case_set *read_text(const char *text, const vip_case_options *options, vip_error *err)
{
    char path[64];
    if (write_temp(text, strlen(text), path) != 0)
        return NULL;
    vip_case_set *set = vip_case_read_with(path, options, err);
    unlink(path);
    return set;
}

static const char *first_message(const vip_case_set *set, const vip_error *err)
{
    return !set ? err->message : set->problem_count ? set->problems[0].message : "no problem";
}

static void test_import(void)
{
    /* Headers as records systems write them; optional columns left out (no location, no letter_date, no emails). */
    const char *export =
        "Crime Ref;Language;Victim Name;Address Line 1;Town;Post-code;Offence Type;Offence Date;Date Reported;"
        "Officer Name;OFFICER_ROLE;officer phone;Needs Assessment;Referral;Enhanced Rights;Enhanced Reason\n"
        "NC/2024/1;EN;Jo Bloggs;1 High St;Northtown;nt1 4ab;Criminal Damage;05/03/2024;06/03/2024;DC Lee;"
        "Investigating officer;0300 555 0100;Not Yet;Not Applicable;No;\n"
        "NC/2024/2;pl;Anna Nowak;2 High St;Northtown;NT1 4AB;Burglary - Residential;5/3/2024;7/3/2024;DC Lee;"
        "Investigating officer;0300 555 0100;completed;referred;yes;Serious Crime\n"
        "NC/2024/3;ro;Ion Pop;3 High St;Northtown;NT1 4AB;28E;01/02/2024;01/02/2024;DC Lee;"
        "Investigating officer;0300 555 0100;completed;referred;no;\n";
    static const vip_case_code_alias aliases[] = {
        {VIP_CASE_OFFENCE, "Burglary - Residential", "burglary_dwelling"},
        {VIP_CASE_OFFENCE, "28E", "burglary_dwelling"},
    };
    vip_case_options o = {.day_first = 1, .today = {2024, 3, 8}, .separator = ';', .code_aliases = aliases,
                          .code_alias_count = 2};
    vip_error err = {0};
    vip_case_set *set = read_text(export, &o, &err);
    CHECK("import: a force's export reads", set && set->row_count == 3 && set->problem_count == 0, "%s",
          first_message(set, &err));
    if (set && set->row_count == 3) {
        const vip_case_row *r = &set->rows[0];
        CHECK("import: code in its own wording", strcmp(r->value[VIP_CASE_OFFENCE], "criminal_damage") == 0 &&
                                                     strcmp(r->value[VIP_CASE_NEEDS_ASSESSMENT], "not_yet") == 0 &&
                                                     strcmp(r->value[VIP_CASE_REFERRAL], "not_applicable") == 0,
              "%s %s", r->value[VIP_CASE_OFFENCE], r->value[VIP_CASE_NEEDS_ASSESSMENT]);
        CHECK("import: day-first dates", r->offence_date[0] == 2024 && r->offence_date[1] == 3 &&
                                             r->offence_date[2] == 5 && set->rows[1].reported_date[2] == 7,
              "%d-%d-%d", r->offence_date[0], r->offence_date[1], r->offence_date[2]);
        CHECK("import: letter_date defaults to today", strcmp(r->value[VIP_CASE_LETTER_DATE], "2024-03-08") == 0 &&
                                                          r->letter_date[2] == 8,
              "%s", r->value[VIP_CASE_LETTER_DATE]);
        CHECK("import: absent columns are empty", strcmp(r->value[VIP_CASE_LOCATION], "") == 0 &&
                                                      strcmp(r->value[VIP_CASE_EMAIL], "") == 0 &&
                                                      strcmp(r->value[VIP_CASE_ADDRESS_2], "") == 0,
              "not empty");
        CHECK("import: configured wording", strcmp(set->rows[1].value[VIP_CASE_OFFENCE], "burglary_dwelling") == 0 &&
                                                strcmp(set->rows[1].value[VIP_CASE_ENHANCED_REASON], "serious_crime") == 0,
              "%s", set->rows[1].value[VIP_CASE_OFFENCE]);
        CHECK("import: Home Office code", strcmp(set->rows[2].value[VIP_CASE_OFFENCE], "burglary_dwelling") == 0, "%s",
              set->rows[2].value[VIP_CASE_OFFENCE]);
        CHECK("import: language tag any case", strcmp(r->lang, "en") == 0, "%s", r->lang);
    }
    vip_case_set_destroy(set);

    /* The same file without the configuration: refused once, saying what to do. */
    err = (vip_error){0};
    set = read_text(export, NULL, &err);
    CHECK("import: semicolons refused with the fix", !set && err.code == VIP_ERR_INPUT &&
                                                         strstr(err.message, "separated by semicolons") &&
                                                         strstr(err.message, "CSV UTF-8") &&
                                                         strstr(err.message, "separator = ;"),
          "%s", first_message(set, &err));
    vip_case_set_destroy(set);

    /* Day-first dates are never guessed. */
    char text[2048];
    snprintf(text, sizeof text, "%s\nA/1,en,Jo,1 St,,,Town,NT1 4AB,,theft,05/03/2024,2024-03-06,,DC Lee,DC,"
             "0300 555 0100,,completed,referred,no,,2024-03-07\n", HEADER);
    err = (vip_error){0};
    set = read_text(text, NULL, &err);
    CHECK("import: DD/MM/YYYY without date_order", set && set->problem_count == 1 &&
                                                      strstr(set->problems[0].message, "date_order = day-first") &&
                                                      strstr(set->problems[0].message, "never guesses"),
          "%s", first_message(set, &err));
    vip_case_set_destroy(set);

    /* Unknown codes get a suggestion, from the codes and from the configured wordings. */
    snprintf(text, sizeof text, "%s\nA/1,en,Jo,1 St,,,Town,NT1 4AB,,Burglery Dwelling,2024-03-05,2024-03-06,,DC Lee,DC,"
             "0300 555 0100,,completed,referred,no,,2024-03-07\n"
             "A/2,en,Jo,1 St,,,Town,NT1 4AB,,Burglary - Residental,2024-03-05,2024-03-06,,DC Lee,DC,"
             "0300 555 0100,,completed,referred,no,,2024-03-07\n", HEADER);
    o = (vip_case_options){.code_aliases = aliases, .code_alias_count = 2};
    err = (vip_error){0};
    set = read_text(text, &o, &err);
    CHECK("import: did you mean a code", set && set->problem_count == 2 &&
                                             strstr(set->problems[0].message, "did you mean burglary_dwelling?"),
          "%s", first_message(set, &err));
    CHECK("import: did you mean a wording", set && set->problem_count == 2 &&
                                                strstr(set->problems[1].message,
                                                       "did you mean \"Burglary - Residential\" (burglary_dwelling)?"),
          "%s", set && set->problem_count == 2 ? set->problems[1].message : "");
    CHECK("import: a bad row keeps its reference and language", set && set->problem_count == 2 &&
                                                                    strcmp(set->problems[0].ref, "A/1") == 0 &&
                                                                    strcmp(set->problems[0].lang, "en") == 0,
          "[%s] [%s]", set && set->problem_count ? set->problems[0].ref : "", set && set->problem_count ? set->problems[0].lang : "");
    vip_case_set_destroy(set);

    /* Every problem of a row is reported, and personal values are not repeated. */
    snprintf(text, sizeof text, "%s\nA/1,xx,Jo,1 St,,,Town,NOT A PC,jo.secret@mail,theft,2024-03-05,2024-03-04,,"
             "DC Lee,DC,0300 555,,completed,referred,no,,2024-03-07\n", HEADER);
    err = (vip_error){0};
    set = read_text(text, NULL, &err);
    const char *m = set && set->problem_count == 1 ? set->problems[0].message : "";
    CHECK("import: every problem in a row", strstr(m, "column language") && strstr(m, "column postcode") &&
                                                strstr(m, "column reported_date") &&
                                                strstr(m, "column officer_phone") && set &&
                                                strcmp(set->problems[0].column, "language") == 0 &&
                                                strcmp(set->problems[0].ref, "A/1") == 0 && !set->problems[0].lang[0],
          "%s", first_message(set, &err));
    CHECK("import: email, postcode and phone not echoed", !strstr(m, "jo.secret") && !strstr(m, "NOT A PC") &&
                                                             !strstr(m, "0300 555\""),
          "%s", m);
    vip_case_set_destroy(set);

    /* A field longer than the limit is refused at once, however long. */
    size_t big = 1 << 20;
    char *huge = malloc(big + 4096);
    if (huge) {
        size_t n = (size_t)snprintf(huge, 4096, "%s\nA/1,en,", HEADER);
        memset(huge + n, 'x', big);
        n += big;
        snprintf(huge + n, 4096, ",1 St,,,Town,NT1 4AB,,theft,2024-03-05,2024-03-06,,DC Lee,DC,0300 555 0100,,"
                 "completed,referred,no,,2024-03-07\n");
        err = (vip_error){0};
        set = read_text(huge, NULL, &err);
        CHECK("import: a 1 MB name is refused", set && set->problem_count == 1 &&
                                                    strstr(set->problems[0].message, "column victim_name") &&
                                                    strstr(set->problems[0].message, "at most 300 characters"),
              "%s", first_message(set, &err));
        vip_case_set_destroy(set);
        free(huge);
    }

    /* Crime references that would start a file name with '-'. */
    expect_bad("crime_ref starting with -", VIP_CASE_CRIME_REF, "-rf", "must start with a letter or digit");

    /* Lone CR line ends (old Mac exports): each row on its own line. */
    snprintf(text, sizeof text, "%s\rA/1,en,Jo,1 St,,,Town,NT1 4AB,,theft,2024-03-05,2024-03-06,,DC Lee,DC,"
             "0300 555 0100,,completed,referred,no,,2024-03-07\rA/2,en,Jo,1 St,,,Town,NT1 4AB,,theft,2024-03-05,"
             "2024-03-06,,DC Lee,DC,0300 555 0100,,completed,referred,no,,x\r", HEADER);
    err = (vip_error){0};
    set = read_text(text, NULL, &err);
    CHECK("import: lone CR lines counted", set && set->row_count == 1 && set->rows[0].line == 2 &&
                                               set->problem_count == 1 && set->problems[0].line == 3,
          "%s", first_message(set, &err));
    vip_case_set_destroy(set);

    /* Files that are not CSV at all. */
    static const struct {
        const char *name, *bytes, *want;
        size_t len;
    } not_csv[] = {
        {"xlsx refused", "PK\x03\x04\x14\0\x06\0", "Excel workbook (.xlsx)", 8},
        {"xls refused", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0", "old Excel workbook (.xls)", 10},
        {"UTF-16 without BOM refused", "c\0r\0i\0m\0e\0_\0r\0e\0f\0,\0l\0a\0n\0g\0", "looks like UTF-16", 28},
    };
    for (size_t i = 0; i < sizeof not_csv / sizeof not_csv[0]; i++) {
        char path[64];
        err = (vip_error){0};
        set = NULL;
        if (write_temp(not_csv[i].bytes, not_csv[i].len, path) == 0) {
            set = vip_case_read(path, &err);
            unlink(path);
        }
        CHECK(not_csv[i].name, !set && err.code == VIP_ERR_INPUT && strstr(err.message, not_csv[i].want) &&
                                   strstr(err.message, "CSV UTF-8"),
              "%s", err.message);
        vip_case_set_destroy(set);
    }

    /* Names that came back as '?' from an 8-bit encoding: the whole file is refused, saying what to do. */
    snprintf(text, sizeof text, "%s\nA/1,en,Jo,1 St,,,Town,NT1 4AB,,theft,2024-03-05,2024-03-06,,DC Lee,DC,"
             "0300 555 0100,,completed,referred,no,,2024-03-07\nA/2,ar,????? ???? Amira Haddad,1 St,,,Town,NT1 4AB,,"
             "theft,2024-03-05,2024-03-06,,DC Lee,DC,0300 555 0100,,completed,referred,no,,2024-03-07\n", HEADER);
    err = (vip_error){0};
    set = read_text(text, NULL, &err);
    CHECK("import: names lost to '?' refused", !set && err.code == VIP_ERR_INPUT &&
                                                   strstr(err.message, "row 2 (line 3), column victim_name") &&
                                                   strstr(err.message, "8-bit encoding") &&
                                                   strstr(err.message, "CSV UTF-8"),
          "%s", first_message(set, &err));
    vip_case_set_destroy(set);

    /* $SOURCE_DATE_EPOCH sets "today" for reproducible runs. */
    snprintf(text, sizeof text, "%s\nA/1,en,Jo,1 St,,,Town,NT1 4AB,,theft,2024-03-05,2024-03-06,,DC Lee,DC,"
             "0300 555 0100,,completed,referred,no,,\n", HEADER);
    setenv("SOURCE_DATE_EPOCH", "1710115200", 1); /* 2024-03-11 00:00 UTC */
    err = (vip_error){0};
    set = read_text(text, NULL, &err);
    unsetenv("SOURCE_DATE_EPOCH");
    CHECK("import: letter_date from SOURCE_DATE_EPOCH", set && set->row_count == 1 &&
                                                           strcmp(set->rows[0].value[VIP_CASE_LETTER_DATE], "2024-03-11") == 0,
          "%s", set && set->row_count ? set->rows[0].value[VIP_CASE_LETTER_DATE] : first_message(set, &err));
    vip_case_set_destroy(set);

    CHECK("field find", vip_case_field_find("Crime Ref") == VIP_CASE_CRIME_REF &&
                            vip_case_field_find("ADDRESS-LINE-1") == VIP_CASE_ADDRESS_1 &&
                            vip_case_field_find("nope") == -1,
          "wrong");
    CHECK("code find", vip_case_code_find(VIP_CASE_OFFENCE, "Theft From Vehicle") &&
                           !strcmp(vip_case_code_find(VIP_CASE_OFFENCE, "Theft From Vehicle"), "theft_from_vehicle") &&
                           !vip_case_code_find(VIP_CASE_OFFENCE, "arson"),
          "wrong");
}

int main(void)
{
    test_good_file();
    test_mixed_file();
    test_bad_files();
    test_rules();
    test_codes();
    test_import();
    return CHECK_DONE();
}
