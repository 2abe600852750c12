/* fuzz_case: any bytes as a case-data CSV file → vip_case_read. Beyond the sanitizers, checks what case.h promises
 * of every row it returns: a supported, canonical language; every value present, valid UTF-8, NFC and trimmed;
 * calendar dates; rows in file order; and a message for every problem. */
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "fuzz_common.h"

static void check_value(const vip_case_row *r, int f)
{
    const char *v = r->value[f];
    const char *name = vip_case_field_name((vip_case_field)f);
    FUZZ_REQUIRE(v != NULL, "row %zu: %s is NULL", r->row, name);
    size_t len = strlen(v);
    if (!len)
        return;
    UErrorCode status = U_ZERO_ERROR;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, v, (int32_t)len, &status);
    FUZZ_REQUIRE(status == U_BUFFER_OVERFLOW_ERROR || U_SUCCESS(status), "row %zu: %s is not valid UTF-8 (%s)",
                 r->row, name, u_errorName(status));
    UChar *u = malloc(((size_t)ulen + 1) * sizeof *u);
    FUZZ_REQUIRE(u != NULL, "out of memory");
    status = U_ZERO_ERROR;
    u_strFromUTF8(u, ulen + 1, NULL, v, (int32_t)len, &status);
    FUZZ_REQUIRE(U_SUCCESS(status), "row %zu: %s: %s", r->row, name, u_errorName(status));
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&status);
    FUZZ_REQUIRE(U_SUCCESS(status), "no NFC normaliser");
    FUZZ_REQUIRE(unorm2_isNormalized(nfc, u, ulen, &status) && U_SUCCESS(status), "row %zu: %s is not NFC", r->row,
                 name);
    UChar32 first, last;
    int32_t i = 0, j = ulen;
    U16_NEXT(u, i, ulen, first);
    U16_PREV(u, 0, j, last);
    FUZZ_REQUIRE(!u_isUWhiteSpace(first) && !u_isUWhiteSpace(last), "row %zu: %s is not trimmed", r->row, name);
    free(u);
}

static void check_date(const vip_case_row *r, const int *date, const char *name)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    FUZZ_REQUIRE(date[1] >= 1 && date[1] <= 12 && date[2] >= 1 && date[2] <= days[date[1] - 1],
                 "row %zu: %s is %d-%d-%d", r->row, name, date[0], date[1], date[2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    fuzz_path(path, sizeof path, "input.csv");
    static int checked;
    if (!checked++) { /* the example file, put where the inputs go, gives rows */
        size_t n;
        uint8_t *example = fuzz_repo_file("examples/cases.csv", &n);
        fuzz_write_file(path, example, n);
        free(example);
        vip_error err = {0};
        vip_case_set *set = vip_case_read(path, &err);
        fuzz_setup_or_die(set && set->row_count > 0, "examples/cases.csv read from the scratch directory", &err);
        vip_case_set_destroy(set);
    }
    fuzz_write_file(path, data, size);
    vip_error err = {0};
    vip_case_set *set = vip_case_read(path, &err);
    if (!set) {
        FUZZ_REQUIRE_ERROR(err, "vip_case_read");
        return 0;
    }
    FUZZ_REQUIRE(set->row_count <= set->total_rows, "%zu valid rows of %zu", set->row_count, set->total_rows);
    for (size_t i = 0; i < set->row_count; i++) {
        const vip_case_row *r = &set->rows[i];
        FUZZ_REQUIRE(r->lang != NULL, "row %zu has no language", r->row);
        const vip_lang *lang = vip_lang_find(r->lang, NULL);
        FUZZ_REQUIRE(lang && strcmp(lang->tag, r->lang) == 0, "row %zu: language %s is not a canonical tag",
                     r->row, r->lang);
        FUZZ_REQUIRE(r->row >= 1 && r->row <= set->total_rows, "row number %zu of %zu", r->row, set->total_rows);
        FUZZ_REQUIRE(i == 0 || r->row > set->rows[i - 1].row, "rows out of file order");
        for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
            check_value(r, f);
        check_date(r, r->offence_date, "offence_date");
        check_date(r, r->reported_date, "reported_date");
        check_date(r, r->letter_date, "letter_date");
    }
    for (size_t i = 0; i < set->problem_count; i++)
        FUZZ_REQUIRE(set->problems[i].message[0] && memchr(set->problems[i].message, '\0',
                                                           sizeof set->problems[i].message),
                     "problem %zu has no message", i);
    vip_case_set_destroy(set);
    return 0;
}
