/* fuzz_letter: a few bytes put into the name and address fields of an otherwise valid case row → vip_case_read →
 * merge with the real letter template and the catalogue of the row's language → layout → PDF in memory.
 * Byte 0 picks the language (low bits: index into vip_lang_all) and, with bit 7, enhanced rights; the rest is
 * split at NUL bytes into victim_name, address_1, address_2, town and location, each written CSV-quoted.
 * Checks: the file is refused with a reason, or its one row is either valid or one problem; a valid row gives a
 * letter. */
#include "fuzz_common.h"
#include "template.h"

static const char header[] =
    "crime_ref,language,victim_name,address_1,address_2,address_3,town,postcode,email,offence,offence_date,"
    "reported_date,location,officer_name,officer_role,officer_phone,officer_email,needs_assessment,referral,"
    "enhanced_rights,enhanced_reason,letter_date\r\n";

enum { FUZZED = 5 };

static vip_template *letter(void)
{
    static vip_template *tmpl;
    if (!tmpl) {
        vip_error err = {0};
        tmpl = vip_template_load(VIP_SOURCE_DIR "/templates/letter.xml", VIP_SOURCE_DIR "/templates/template.rng",
                                 &err);
        fuzz_setup_or_die(tmpl != NULL, "templates/letter.xml", &err);
    }
    return tmpl;
}

static void put_quoted(FILE *f, const uint8_t *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static void quiet(void *user, const char *message)
{
    (void)user;
    (void)message;
}

/* One input through; returns 1 when its row was valid (and so gave a letter). */
static int one_letter(const uint8_t *data, size_t size)
{
    size_t lang_count;
    const vip_lang *langs = vip_lang_all(&lang_count);
    const char *lang = langs[(data[0] & 0x7f) % lang_count].tag;
    int enhanced = data[0] & 0x80;

    /* The five fuzzed values: NUL-separated; missing ones are empty (which the reader refuses where required). */
    const uint8_t *value[FUZZED] = {0};
    size_t length[FUZZED] = {0};
    const uint8_t *p = data + 1, *end = data + size;
    for (int i = 0; i < FUZZED && p <= end; i++) {
        const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
        value[i] = p;
        length[i] = (size_t)((nul ? nul : end) - p);
        p += length[i] + 1;
    }

    char path[600];
    fuzz_path(path, sizeof path, "input.csv");
    FILE *f = fopen(path, "wb");
    FUZZ_REQUIRE(f != NULL, "cannot write %s", path);
    fputs(header, f);
    fprintf(f, "NC/2024/012345,%s,", lang);
    put_quoted(f, value[0], length[0]); /* victim_name */
    fputc(',', f);
    put_quoted(f, value[1], length[1]); /* address_1 */
    fputc(',', f);
    put_quoted(f, value[2], length[2]); /* address_2 */
    fputs(",,", f);
    put_quoted(f, value[3], length[3]); /* town */
    fputs(",NT1 4AB,jane.smith@example.org,burglary_dwelling,2024-03-02,2024-03-03,", f);
    put_quoted(f, value[4], length[4]); /* location */
    fprintf(f, ",PC Daniel Okafor,Investigating officer,0300 555 0147,daniel.okafor@northshire.police.example,"
               "completed,referred,%s,%s,2024-03-05\r\n",
            enhanced ? "yes" : "no", enhanced ? "vulnerable_intimidated" : "");
    FUZZ_REQUIRE(fclose(f) == 0, "cannot write %s", path);

    vip_error err = {0};
    vip_case_set *set = vip_case_read(path, &err);
    if (!set) { /* the whole file refused: e.g. names with '?' for letters, a sign of an 8-bit export */
        FUZZ_REQUIRE_ERROR(err, "vip_case_read");
        return 0;
    }
    int valid = set->row_count == 1;
    FUZZ_REQUIRE(set->total_rows == 1 && set->row_count + set->problem_count == 1,
                 "one row read as %zu rows, %zu valid, %zu problems", set->total_rows, set->row_count,
                 set->problem_count);
    if (set->row_count == 1) {
        const vip_case_row *row = &set->rows[0];
        FUZZ_REQUIRE(strcmp(row->lang, lang) == 0, "row language %s, written %s", row->lang, lang);
        vip_warn_sink warn = {quiet, NULL};
        vip_doc *doc = vip_template_merge(letter(), fuzz_catalog(lang), row, &warn, &err);
        FUZZ_REQUIRE(doc != NULL, "a valid row gave no letter: %s", err.message);
        vip_layout_options options;
        vip_layout_default_options(&options);
        vip_page_doc *pages = vip_layout_document(fuzz_text(), doc, &options, &err);
        FUZZ_REQUIRE(pages != NULL, "a valid row could not be laid out: %s", err.message);
        unsigned char *pdf = NULL;
        size_t pdf_len = 0;
        FUZZ_REQUIRE(vip_pdf_render(pages, &pdf, &pdf_len, &err) == VIP_OK, "a valid row could not be rendered: %s",
                     err.message);
        FUZZ_REQUIRE(pdf_len > 16 && memcmp(pdf, "%PDF-", 5) == 0, "rendered bytes are not a PDF");
        free(pdf);
        vip_page_doc_destroy(pages);
        vip_doc_destroy(doc);
    } else {
        FUZZ_REQUIRE(set->problems[0].message[0], "a problem with no message");
    }
    vip_case_set_destroy(set);
    return valid;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int checked;
    if (!checked++) { /* the row around the fuzzed values is still a valid one */
        static const char jane[] = "\0Jane Smith\0" "14 Acacia Avenue\0\0Northtown\0" "14 Acacia Avenue, Northtown";
        if (!one_letter((const uint8_t *)jane, sizeof jane - 1)) {
            fprintf(stderr, "fuzz harness setup: the case row in fuzz_letter.c is no longer valid: update it\n");
            exit(2);
        }
    }
    if (size < 1)
        return 0;
    one_letter(data, size);
    return 0;
}
