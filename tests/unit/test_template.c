/* vip_template against real libxml2 and ICU, with a small template and catalogues written to a temporary
 * directory: phone numbers in message text (joined with no-break spaces, isolated left to right in RTL
 * documents, ordinary numbers and case values left alone, span offsets kept right), two-column lists, and
 * per-language page settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <unicode/uclean.h>

#include "check.h"
#include "template.h"

#define SCHEMA "templates/template.rng"
#define NBSP "\xC2\xA0"
#define LRI "\xE2\x81\xA6"
#define FSI "\xE2\x81\xA8"
#define PDI "\xE2\x81\xA9"

static char dir[64];

static const char *template_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<template xmlns=\"urn:vipgen:template:1\" kind=\"letter\">\n"
    "  <page size=\"A4\" margin-top=\"12mm\" margin-bottom=\"17mm\" margin-start=\"18mm\" margin-end=\"16mm\">\n"
    "    <lang tag=\"ar\" leading=\"0.1\"/>\n"
    "  </page>\n"
    "  <body>\n"
    "    <p><msg id=\"call\"/></p>\n"
    "    <p><msg id=\"plain\"/></p>\n"
    "    <p><msg id=\"officer\"/></p>\n"
    "    <p><msg id=\"call\"/><em><msg id=\"bold\"/></em></p>\n"
    "    <p><msg id=\"reason\"/></p>\n"
    "    <ol columns=\"2\"><li><msg id=\"bold\"/></li><li><msg id=\"bold\"/></li><li><msg id=\"bold\"/></li></ol>\n"
    "    <ul><li><msg id=\"bold\"/></li><li><msg id=\"bold\"/></li></ul>\n"
    "  </body>\n"
    "</template>\n";

/* The same messages in an LTR and an RTL catalogue (the RTL text keeps the digits as they are dialled). */
static const char *units[][3] = {
    {"call", "Call 08 08 16 89 111 or 0808 2000 247 or 116 123.", "اتصل بالرقم 08 08 16 89 111 أو 116 123."},
    {"plain", "Your 12 rights since 1 April 2021: call 999 or 101, 1 23 45 67, 12345 6 or 2024-03-05.",
     "حقوقك 12 منذ 1 April 2021: 999 أو 101، 1 23 45 67، 12345 6، 2024-03-05."},
    {"officer", "Phone {officer_phone}.", "الهاتف {officer_phone}."},
    {"bold", "Bold", "عريض"},
    {"enhanced.x", "Help on 0800 1111.", "المساعدة 0800 1111."},
    {"reason", "{enhanced_reason} Then 18001 101.", "{enhanced_reason} ثم 18001 101."},
};

static int write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_catalog(const char *lang, int column)
{
    char name[16], buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof buf,
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                "<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" "
                                "srcLang=\"en\" trgLang=\"%s\"><file id=\"t\">\n",
                                lang);
    for (size_t i = 0; i < sizeof units / sizeof units[0] && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "<unit id=\"%s\"><segment state=\"translated\"><source>%s</source>"
                              "<target>%s</target></segment></unit>\n",
                              units[i][0], units[i][1], units[i][column]);
    if (n < sizeof buf)
        snprintf(buf + n, sizeof buf - n, "</file></xliff>\n");
    snprintf(name, sizeof name, "%s.xlf", lang);
    return write_file(name, buf);
}

static void remove_files(void)
{
    const char *names[] = {"t.xml", "en.xlf", "ar.xlf", "bad.xml"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* A case row with every field empty but the ones the messages use. */
static void make_row(vip_case_row *row, char *empty)
{
    memset(row, 0, sizeof *row);
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
        row->value[f] = empty;
    row->value[VIP_CASE_OFFICER_PHONE] = "0300 555 0152";
    row->value[VIP_CASE_ENHANCED_RIGHTS] = "yes";
    row->value[VIP_CASE_ENHANCED_REASON] = "x";
    row->enhanced = 1;
    int d[3] = {2024, 3, 5};
    memcpy(row->offence_date, d, sizeof d);
    memcpy(row->reported_date, d, sizeof d);
    memcpy(row->letter_date, d, sizeof d);
}

static const char *text_of(const vip_doc *doc, size_t i)
{
    return i < doc->block_count && doc->blocks[i].content.text ? doc->blocks[i].content.text : "";
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static vip_doc *merge(vip_template *t, const char *lang, const vip_case_row *row)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.xlf", dir, lang);
    vip_error err = {0};
    vip_catalog *cat = vip_catalog_load(path, &err);
    vip_doc *doc = cat ? vip_template_merge(t, cat, row, NULL, &err) : NULL;
    if (!doc)
        printf("INFO %s: %s\n", lang, err.message);
    vip_catalog_destroy(cat); /* the document keeps no footer, so it needs no catalogue */
    return doc;
}

static void test_phone_numbers(vip_template *t, const vip_case_row *row)
{
    vip_doc *en = merge(t, "en", row), *ar = merge(t, "ar", row);
    CHECK("template.merge", en && ar, "merge failed");
    if (!en || !ar)
        goto done;

    const char *want = "Call 08" NBSP "08" NBSP "16" NBSP "89" NBSP "111 or 0808" NBSP "2000" NBSP "247 or 116" NBSP
                       "123.";
    CHECK("phone.ltr_no_break_spaces", strcmp(text_of(en, 0), want) == 0, "got '%s'", text_of(en, 0));
    want = "اتصل بالرقم " LRI "08" NBSP "08" NBSP "16" NBSP "89" NBSP "111" PDI " أو " LRI "116" NBSP "123" PDI ".";
    CHECK("phone.rtl_isolated_left_to_right", strcmp(text_of(ar, 0), want) == 0, "got '%s'", text_of(ar, 0));

    /* Ordinary numbers: one group, groups of one digit, under 6 digits, or not separated by single spaces. */
    CHECK("phone.ordinary_numbers_untouched",
          strcmp(text_of(en, 1), units[1][1]) == 0 && strcmp(text_of(ar, 1), units[1][2]) == 0, "got '%s' / '%s'",
          text_of(en, 1), text_of(ar, 1));

    /* A case value is printed as given, inside its own isolate. */
    CHECK("phone.case_value_as_given",
          strcmp(text_of(ar, 2), "الهاتف " FSI "0300 555 0152" PDI ".") == 0 &&
              strcmp(text_of(en, 2), "Phone " FSI "0300 555 0152" PDI ".") == 0,
          "got '%s' / '%s'", text_of(en, 2), text_of(ar, 2));

    /* The bold span after a lengthened message still covers exactly its text. */
    const vip_rich *r = &ar->blocks[3].content;
    CHECK("phone.span_offsets_kept", r->span_count == 1 && r->spans[0].end == r->length &&
                                         r->spans[0].end - r->spans[0].start == strlen("عريض") &&
                                         memcmp(r->text + r->spans[0].start, "عريض", strlen("عريض")) == 0,
          "span %zu..%zu of %zu", r->span_count ? r->spans[0].start : 0, r->span_count ? r->spans[0].end : 0,
          r->length);

    /* A coded value formatted into another message is isolated once, not again. */
    const char *reason = text_of(ar, 4);
    CHECK("phone.nested_message_isolated_once",
          count(reason, LRI) == 2 && strstr(reason, LRI "0800" NBSP "1111" PDI) &&
              strstr(reason, LRI "18001" NBSP "101" PDI),
          "got '%s'", reason);
done:
    vip_doc_destroy(en);
    vip_doc_destroy(ar);
}

static void test_lists_and_page(vip_template *t, const vip_case_row *row)
{
    vip_doc *en = merge(t, "en", row), *ar = merge(t, "ar", row);
    if (!en || !ar) {
        CHECK("template.merge_lists", 0, "merge failed");
        goto done;
    }
    int ok = en->block_count == 10;
    for (size_t i = 5; ok && i < 10; i++) {
        const vip_block *b = &en->blocks[i];
        ok = b->kind == VIP_BLOCK_LIST_ITEM && b->list_first == (i == 5 || i == 8) &&
             b->list_columns == (i < 8 ? 2 : 0);
    }
    CHECK("list.columns_and_first_items", ok, "%zu blocks", en->block_count);
    CHECK("page.lang_leading", ar->leading > 0.099 && ar->leading < 0.101 && en->leading == 0,
          "ar %g en %g", ar->leading, en->leading);
done:
    vip_doc_destroy(en);
    vip_doc_destroy(ar);
}

/* A <lang> naming an unsupported language is an error with the template's line, when the template is loaded
 * (not once per letter at merge time). */
static void test_bad_lang(const vip_case_row *row)
{
    char path[128], bad[4096];
    const char *at = strstr(template_xml, "tag=\"ar\"");
    snprintf(bad, sizeof bad, "%.*stag=\"xx\"%s", (int)(at - template_xml), template_xml, at + strlen("tag=\"ar\""));
    vip_error err = {0};
    snprintf(path, sizeof path, "%s/bad.xml", dir);
    vip_template *t = write_file("bad.xml", bad) == 0 ? vip_template_load(path, SCHEMA, &err) : NULL;
    vip_doc *doc = t ? merge(t, "en", row) : NULL;
    CHECK("page.lang_unknown_tag_refused", !t && strstr(err.message, "bad.xml:4: <lang tag>: unknown language tag 'xx'"),
          "%s", t ? "loaded" : err.message);
    vip_doc_destroy(doc);
    vip_template_destroy(t);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/vip-template-XXXXXX");
    if (!mkdtemp(dir) || write_file("t.xml", template_xml) || write_catalog("en", 1) || write_catalog("ar", 2)) {
        CHECK("template.fixtures", 0, "cannot write to %s", dir);
        return CHECK_DONE();
    }
    char path[128], empty[1] = "";
    snprintf(path, sizeof path, "%s/t.xml", dir);
    vip_error err = {0};
    vip_template *t = vip_template_load(path, SCHEMA, &err);
    CHECK("template.load", t != NULL, "%s", err.message);
    vip_case_row row;
    make_row(&row, empty);
    if (t) {
        test_phone_numbers(t, &row);
        test_lists_and_page(t, &row);
    }
    test_bad_lang(&row);
    vip_template_destroy(t);
    remove_files();
    xmlCleanupParser(); /* so leak checkers see libxml2's and ICU's caches freed */
    u_cleanup();
    return CHECK_DONE();
}
