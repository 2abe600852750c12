/* fuzz_catalog: any bytes as an XLIFF catalogue → vip_catalog_load; then every unit is read back and formatted
 * twice (the second time from the catalogue's cache of compiled patterns) with the arguments a letter passes:
 * every case column (dates as dates), days, force_name, page and pages. Checks that the accessors give what
 * catalog.h promises and that each failure carries a message. */
#include "fuzz_common.h"

enum { ARG_COUNT = VIP_CASE_FIELD_COUNT + 5 };

static size_t letter_args(vip_arg *args)
{
    size_t n = 0;
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        vip_arg a = {.name = vip_case_field_name((vip_case_field)f), .type = VIP_ARG_STRING,
                     .string = "\xE2\x81\xA8Se\xC3\xA1n O'Brien {0} #\xE2\x81\xA9"};
        if (f == VIP_CASE_OFFENCE_DATE || f == VIP_CASE_REPORTED_DATE || f == VIP_CASE_LETTER_DATE) {
            a.type = VIP_ARG_DATE;
            a.year = 2024;
            a.month = 2;
            a.day = 29;
        }
        args[n++] = a;
    }
    args[n++] = (vip_arg){.name = "days", .type = VIP_ARG_NUMBER, .number = 5};
    args[n++] = (vip_arg){.name = "force_name", .type = VIP_ARG_STRING, .string = "Northshire Police"};
    args[n++] = (vip_arg){.name = "page", .type = VIP_ARG_NUMBER, .number = 2};
    args[n++] = (vip_arg){.name = "pages", .type = VIP_ARG_NUMBER, .number = 14};
    args[n++] = (vip_arg){.name = "date", .type = VIP_ARG_DATE, .year = 2024, .month = 3, .day = 1};
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[600];
    fuzz_path(path, sizeof path, "input.xlf");
    static int checked;
    if (!checked++) { /* the English catalogue, put where the inputs go, loads */
        size_t n;
        uint8_t *english = fuzz_repo_file("translations/en.xlf", &n);
        fuzz_write_file(path, english, n);
        free(english);
        vip_error err = {0};
        vip_catalog *cat = vip_catalog_load(path, &err);
        fuzz_setup_or_die(cat && vip_catalog_unit_count(cat) > 0, "translations/en.xlf from the scratch directory",
                          &err);
        vip_catalog_destroy(cat);
    }
    fuzz_write_file(path, data, size);
    vip_error err = {0};
    vip_catalog *cat = vip_catalog_load(path, &err);
    if (!cat) {
        FUZZ_REQUIRE_ERROR(err, "vip_catalog_load");
        return 0;
    }
    const char *lang = vip_catalog_lang(cat);
    const vip_lang *found = lang ? vip_lang_find(lang, NULL) : NULL;
    FUZZ_REQUIRE(found && strcmp(found->tag, lang) == 0, "catalogue language %s is not canonical",
                 lang ? lang : "(null)");
    FUZZ_REQUIRE(vip_catalog_path(cat) && strcmp(vip_catalog_path(cat), path) == 0, "catalogue path changed");

    vip_arg args[ARG_COUNT];
    size_t arg_count = letter_args(args);
    size_t units = vip_catalog_unit_count(cat);
    for (size_t i = 0; i < units; i++) {
        const char *id = vip_catalog_unit_id(cat, i);
        const char *source = vip_catalog_unit_source(cat, i);
        const char *text = vip_catalog_unit_text(cat, i);
        vip_unit_status status = vip_catalog_unit_status(cat, i);
        FUZZ_REQUIRE(id && source && text, "unit %zu lacks an id, source or text", i);
        FUZZ_REQUIRE(vip_catalog_has(cat, id), "unit %s not found by its id", id);
        FUZZ_REQUIRE(vip_catalog_unit_line(cat, i) > 0, "unit %s has no line", id);
        FUZZ_REQUIRE(status != VIP_UNIT_TRANSLATED || text[0], "translated unit %s is blank", id);
        FUZZ_REQUIRE(status == VIP_UNIT_TRANSLATED || strcmp(text, source) == 0,
                     "unit %s falls back but its text is not its source", id);
        for (int pass = 0; pass < 2; pass++) {
            int fell_back = 0;
            vip_error ferr = {0};
            char *out = vip_catalog_format(cat, id, args, arg_count, &fell_back, &ferr);
            if (out) {
                FUZZ_REQUIRE(fell_back == (status != VIP_UNIT_TRANSLATED), "unit %s: fell_back %d, status %d", id,
                             fell_back, (int)status);
                free(out);
            } else {
                FUZZ_REQUIRE_ERROR(ferr, "vip_catalog_format");
            }
        }
    }
    int fell_back = 0;
    char *none = vip_catalog_format(cat, "no.such.unit\xE2\x80\xAE", args, arg_count, &fell_back, &err);
    FUZZ_REQUIRE(none == NULL || vip_catalog_has(cat, "no.such.unit\xE2\x80\xAE"), "an unknown id was formatted");
    free(none);
    vip_catalog_destroy(cat);
    return 0;
}
