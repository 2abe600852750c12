/* Hostile input to the engine, against the real modules: plain text with a NUL, many language spans and the
 * bidi-control sequence the fuzzer found (rendered to PDF, so the sanitizer build sees the whole path);
 * catalogues whose language or messages are wrong; templates with values that could only fail later, images
 * outside the templates directory and schemas that reach for files or the network; XML and PNG errors as one
 * line a user can act on, and nothing printed by libxml2 or libpng themselves. Run from the repository root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "doc.h"
#include "layout.h"
#include "pdf.h"
#include "template.h"
#include "text.h"
#include "xml.h"

static char dir[64];
static vip_fontset *fonts;
static vip_text *text;

static const char *path_in(const char *name)
{
    static char paths[16][512];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static int write_bytes(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(path_in(name), "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_text(const char *name, const char *data)
{
    return write_bytes(name, data, strlen(data));
}

/* stderr goes to a file while fn runs, so that a test sees what a library printed by itself. */
static int saved_stderr = -1;

static void capture_stderr(void)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(path_in("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

/* Restores stderr and returns what was printed (malloc'd). */
static char *captured_stderr(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(path_in("stderr.txt"), "rb");
    char *buf = calloc(1, 65536);
    if (f && buf)
        buf[fread(buf, 1, 65535, f)] = '\0';
    if (f)
        fclose(f);
    return buf;
}

/* Reads a plain-text document, lays it out and renders it to PDF in memory. */
static int render_text_file(const char *name, const char *lang, vip_error *err)
{
    vip_doc *doc = vip_doc_read_text(path_in(name), lang, err);
    if (!doc)
        return err->code;
    vip_layout_options o;
    vip_layout_default_options(&o);
    vip_page_doc *pages = vip_layout_document(text, doc, &o, err);
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc = pages ? vip_pdf_render(pages, &pdf, &len, err) : err->code;
    free(pdf);
    vip_page_doc_destroy(pages);
    vip_doc_destroy(doc);
    return rc;
}

static void test_render_text(void)
{
    vip_error err = {0};
    /* F12: U+2067 RIGHT-TO-LEFT ISOLATE and a vertical tab; the sanitizer build aborted in the PDF backend. */
    static const char *langs[] = {"en", "ar", "ur", "zh-Hans"};
    write_bytes("rli_vt.txt", "\xE2\x81\xA7\x0B", 4);
    int all_ok = 1;
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
        if (render_text_file("rli_vt.txt", langs[i], &err)) {
            all_ok = 0;
            break;
        }
    CHECK("render.rli_vertical_tab", all_ok, "%s", err.message);

    /* F16: text after a NUL byte was silently dropped; now the line is refused with its place. */
    write_bytes("nul.txt", "# Title\n\nHello world\0 this part is lost\n", 40);
    memset(&err, 0, sizeof err);
    vip_doc *doc = vip_doc_read_text(path_in("nul.txt"), "en", &err);
    CHECK("render.nul_refused", !doc && err.code == VIP_ERR_INPUT && strstr(err.message, "nul.txt:3:") &&
                                    strstr(err.message, "NUL byte at byte offset 11"),
          "%s", doc ? "accepted" : err.message);
    vip_doc_destroy(doc);

    /* F16: any number of [[tag:text]] spans in a paragraph (after 32 the markup was printed literally). */
    char many[8192] = "";
    for (int i = 0; i < 100; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s[[ar:\xD8\xB9\xD9\x84\xD9\x8A %d]]", i ? " " : "", i);
        strcat(many, one);
    }
    strcat(many, "\n");
    write_text("spans.txt", many);
    memset(&err, 0, sizeof err);
    doc = vip_doc_read_text(path_in("spans.txt"), "en", &err);
    int spans_ok = doc && doc->block_count == 1 && doc->blocks[0].content.span_count == 100 &&
                   !strstr(doc->blocks[0].content.text, "[[") && !strstr(doc->blocks[0].content.text, "]]");
    for (size_t s = 0; spans_ok && s < doc->blocks[0].content.span_count; s++) {
        const vip_text_span *sp = &doc->blocks[0].content.spans[s];
        spans_ok = sp->lang && strcmp(sp->lang, "ar") == 0 && sp->end > sp->start &&
                   strncmp(doc->blocks[0].content.text + sp->start, "\xD8\xB9", 2) == 0;
    }
    CHECK("render.hundred_spans", spans_ok, "%s", doc ? doc->blocks[0].content.text : err.message);
    vip_doc_destroy(doc);
    memset(&err, 0, sizeof err);
    CHECK("render.hundred_spans_to_pdf", render_text_file("spans.txt", "en", &err) == VIP_OK, "%s", err.message);
}

/* ---- catalogues ---- */

static const char *xliff_head =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\" trgLang=\"%s\">\n"
    "  <file id=\"letter\">\n";

/* A catalogue named name with one translated unit whose target is target. */
static int write_catalog(const char *name, const char *trg_lang, const char *target)
{
    size_t n = strlen(xliff_head) + strlen(target) + 512;
    char *buf = malloc(n);
    if (!buf)
        return -1;
    int k = snprintf(buf, n, xliff_head, trg_lang);
    snprintf(buf + k, n - (size_t)k,
             "    <unit id=\"letter.thanks\">\n"
             "      <segment state=\"translated\">\n"
             "        <source>Thank you.</source>\n"
             "        <target>%s</target>\n"
             "      </segment>\n"
             "    </unit>\n"
             "  </file>\n"
             "</xliff>\n",
             target);
    int rc = write_text(name, buf);
    free(buf);
    return rc;
}

static void test_catalogs(void)
{
    vip_error err = {0};
    /* F11: pl.xlf saying it is Romanian gave Polish readers Romanian dates and plurals. */
    write_catalog("pl.xlf", "ro", "Mulțumim.");
    vip_catalog *c = vip_catalog_load(path_in("pl.xlf"), &err);
    CHECK("catalog.trglang_must_match_file_name",
          !c && err.code == VIP_ERR_INPUT && strstr(err.message, "pl.xlf:2: trgLang is 'ro' (Romanian)") &&
              strstr(err.message, "named for 'pl' (Polish)"),
          "%s", c ? "loaded" : err.message);
    vip_catalog_destroy(c);
    /* Aliases of the file's language are the same language. */
    write_catalog("zh-Hans.xlf", "zh-CN", "谢谢。");
    memset(&err, 0, sizeof err);
    c = vip_catalog_load(path_in("zh-Hans.xlf"), &err);
    CHECK("catalog.trglang_alias_of_file_name", c && strcmp(vip_catalog_lang(c), "zh-Hans") == 0, "%s", err.message);
    vip_catalog_destroy(c);

    /* F5: a message of megabytes made every letter of its language take minutes; at most 64 KiB. */
    char *big = malloc(70001);
    for (int i = 0; i < 70000; i++)
        big[i] = i % 4 == 3 ? ' ' : 'x';
    big[70000] = '\0';
    write_catalog("ro.xlf", "ro", big);
    memset(&err, 0, sizeof err);
    c = vip_catalog_load(path_in("ro.xlf"), &err);
    CHECK("catalog.long_message_refused",
          !c && strstr(err.message, "ro.xlf:7: unit letter.thanks: <target> is longer than 65536 bytes"), "%s",
          c ? "loaded" : err.message);
    vip_catalog_destroy(c);
    big[60000] = '\0';
    write_catalog("ro.xlf", "ro", big);
    memset(&err, 0, sizeof err);
    c = vip_catalog_load(path_in("ro.xlf"), &err);
    CHECK("catalog.message_under_the_cap_loads", c != NULL, "%s", err.message);
    vip_catalog_destroy(c);
    free(big);
}

/* ---- XML messages ---- */

static void test_xml_messages(void)
{
    vip_error err = {0};
    /* F15: libxml2 said "Excessive depth in document: 256 use XML_PARSE_HUGE option". */
    size_t depth = 300, n = depth * 7 + 64;
    char *deep = malloc(n), *o = deep;
    o += sprintf(o, "<?xml version=\"1.0\"?>\n");
    for (size_t i = 0; i < depth; i++)
        o += sprintf(o, "<a>");
    for (size_t i = 0; i < depth; i++)
        o += sprintf(o, "</a>");
    xmlDocPtr doc = vip_xml_read_memory(deep, (size_t)(o - deep), "deep.xml", &err);
    CHECK("xml.depth_message", !doc && strstr(err.message, "deep.xml:2: elements are nested more than 256 deep") &&
                                   !strstr(err.message, "HUGE"),
          "%s", doc ? "parsed" : err.message);
    xmlFreeDoc(doc);
    free(deep);

    /* F15: a 20 MB attribute of non-ASCII text was "out of memory parsing XML". */
    size_t chars = 10u << 20;
    char *huge = malloc(2 * chars + 256);
    o = huge + sprintf(huge, xliff_head, "pl");
    o += sprintf(o, "    <unit id=\"");
    for (size_t i = 0; i < chars; i++) {
        *o++ = (char)0xC4; /* Ą */
        *o++ = (char)0x84;
    }
    o += sprintf(o, "\"/>\n  </file>\n</xliff>\n");
    write_bytes("pl.xlf", huge, (size_t)(o - huge));
    free(huge);
    memset(&err, 0, sizeof err);
    vip_catalog *c = vip_catalog_load(path_in("pl.xlf"), &err);
    CHECK("xml.long_attribute_message",
          !c && err.code == VIP_ERR_INPUT && strstr(err.message, "pl.xlf:4: an attribute value is longer than 10000000 bytes"),
          "%s", c ? "loaded" : err.message);
    vip_catalog_destroy(c);

    /* F15: invalid UTF-8 came as two lines, "Input is not proper UTF-8, indicate encoding !\nBytes: 0xFF ...". */
    static const char bad[] = "<?xml version=\"1.0\"?>\n<r>\n<u a=\"\xFF\xFE Pa\"/></r>\n";
    memset(&err, 0, sizeof err);
    doc = vip_xml_read_memory(bad, sizeof bad - 1, "bad.xml", &err);
    CHECK("xml.encoding_error_one_line",
          !doc && !strchr(err.message, '\n') && strstr(err.message, "bad.xml:3: the text is not valid UTF-8") &&
              strstr(err.message, "0xFF 0xFE"),
          "%s", doc ? "parsed" : err.message);
    xmlFreeDoc(doc);
}

/* ---- templates ---- */

static const char *schema_path = "templates/template.rng";

#define MARGINS " margin-top=\"12mm\" margin-bottom=\"17mm\" margin-start=\"18mm\" margin-end=\"16mm\""

/* A letter template in the test directory (the margins above unless page_attrs gives them): page attributes, <page> children, params and body given. */
static const char *write_template(const char *name, const char *kind, const char *page_attrs,
                                  const char *page_children, const char *params, const char *body)
{
    char buf[16384];
    snprintf(buf, sizeof buf,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<template xmlns=\"urn:vipgen:template:1\" kind=\"%s\">\n"
             "  <page size=\"A4\"%s%s>%s</page>\n"
             "  <param name=\"force_name\" value=\"Northshire Police\"/>%s\n"
             "  <footer><msg id=\"common.page_of\"/><field name=\"page\"/></footer>\n"
             "  <body>\n"
             "    %s\n"
             "  </body>\n"
             "</template>\n",
             kind, strstr(page_attrs, "margin") ? "" : MARGINS, page_attrs, page_children, params, body);
    write_text(name, buf);
    return path_in(name);
}

/* Loads a template that must be refused; the message must hold want and nothing may reach stderr. */
static void check_template_refused(const char *label, const char *template_path, const char *schema_file,
                                   const char *want)
{
    char path[512], schema[512];
    snprintf(path, sizeof path, "%s", template_path);
    snprintf(schema, sizeof schema, "%s", schema_file);
    vip_error err = {0};
    capture_stderr();
    vip_template *t = vip_template_load(path, schema, &err);
    char *printed = captured_stderr();
    CHECK(label, !t && err.code && strstr(err.message, want) && printed && !*printed,
          "%s; want '%s'%s%s", t ? "loaded" : err.message, want, printed && *printed ? "; printed: " : "",
          printed ? printed : "");
    free(printed);
    vip_template_destroy(t);
}

static void test_templates(void)
{
    vip_error err = {0};
    /* The logo beside the templates, as in templates/. */
    FILE *in = fopen("templates/logo.png", "rb");
    char png[65536];
    size_t png_len = in ? fread(png, 1, sizeof png, in) : 0;
    if (in)
        fclose(in);
    write_bytes("logo.png", png, png_len);

    const char *path = write_template("ok.xml", "letter", " body-size=\"9.5\" max-pages=\"2\"",
                                      "<lang tag=\"ur\" leading=\"0.1\"/>", "",
                                      "<image src=\"logo.png\" width=\"11mm\"/>"
                                      "<p size=\"12\"><field name=\"victim_name\"/><field name=\"force_name\"/></p>"
                                      "<table columns=\"32 68\"><tr><td/><td/></tr></table>"
                                      "<if field=\"location\" empty=\"true\"><p/></if><space height=\"8mm\"/>");
    vip_template *t = vip_template_load(path, schema_path, &err);
    CHECK("template.valid_loads", t != NULL, "%s", err.message);
    vip_template_destroy(t);

    /* F14: values that only failed later (per letter, or in the PDF) are refused at load, with file and line. */
    check_template_refused("template.body_size_tiny", write_template("t.xml", "letter", " body-size=\"0.0001\"", "", "", ""),
                           schema_path, "t.xml:3: <page body-size=\"0.0001\">: must be from 4 to 96 pt");
    check_template_refused("template.p_size_huge", write_template("t.xml", "letter", "", "", "", "<p size=\"100000\"/>"),
                           schema_path, "t.xml:7: <p size=\"100000\">: must be from 4 to 96 pt");
    check_template_refused("template.margin_over_page",
                           write_template("t.xml", "letter",
                                          " margin-top=\"400mm\" margin-bottom=\"17mm\" margin-start=\"18mm\" "
                                          "margin-end=\"16mm\"",
                                          "", "", ""),
                           schema_path, "t.xml:3: <page margin-top=\"400mm\">: must be from 0 to 297 mm");
    check_template_refused("template.margins_leave_no_body",
                           write_template("t.xml", "letter",
                                          " margin-top=\"12mm\" margin-bottom=\"17mm\" margin-start=\"100mm\" "
                                          "margin-end=\"300pt\"",
                                          "", "", ""),
                           schema_path, "t.xml:3: <page>: the margins leave");
    check_template_refused("template.leading_out_of_range",
                           write_template("t.xml", "letter", "", "<lang tag=\"ur\" leading=\"100000\"/>", "", ""),
                           schema_path, "t.xml:3: <lang leading=\"100000\">: must be from 0 to 2");
    check_template_refused("template.max_pages_out_of_range",
                           write_template("t.xml", "letter", " max-pages=\"99999999999999999999\"", "", "", ""),
                           schema_path, "t.xml:3: <page max-pages=\"99999999999999999999\">: must be from 1 to 999");
    check_template_refused("template.table_zero_columns",
                           write_template("t.xml", "letter", "", "", "", "<table columns=\"0 0\"><tr><td/></tr></table>"),
                           schema_path, "t.xml:7: <table columns=\"0 0\">: each width must be a whole number from 1 to 1000");
    check_template_refused("template.table_huge_column",
                           write_template("t.xml", "letter", "", "", "", "<table columns=\"99999999999 1\"><tr><td/></tr></table>"),
                           schema_path, "t.xml:7: <table columns=\"99999999999 1\">: each width");
    check_template_refused("template.table_sliver_column",
                           write_template("t.xml", "letter", "", "", "", "<table columns=\"1 99\"><tr><td/></tr></table>"),
                           schema_path, "column 1 is 1 of 100");
    check_template_refused("template.table_more_cells_than_columns",
                           write_template("t.xml", "letter", "", "", "",
                                          "<table columns=\"50 50\">\n<tr><td/><td/><td/></tr></table>"),
                           schema_path, "t.xml:8: the row has 3 cells but the table 2 columns");
    check_template_refused("template.unknown_field",
                           write_template("t.xml", "letter", "", "", "", "<p><field name=\"victim_nmae\"/></p>"),
                           schema_path, "t.xml:7: <field name=\"victim_nmae\">: no such case column or parameter");
    check_template_refused("template.booklet_has_no_case_fields",
                           write_template("t.xml", "booklet", "", "", "", "<p><field name=\"victim_name\"/></p>"),
                           schema_path, "t.xml:7: <field name=\"victim_name\">: no such parameter");
    check_template_refused("template.page_field_only_in_footer",
                           write_template("t.xml", "letter", "", "", "", "<p><field name=\"pages\"/></p>"),
                           schema_path, "t.xml:7: <field name=\"pages\">");
    check_template_refused("template.unknown_if_field",
                           write_template("t.xml", "letter", "", "", "", "<if field=\"nope\" empty=\"true\"/>"),
                           schema_path, "t.xml:7: <if field=\"nope\">: no such case column");
    char params[8192] = "";
    for (int i = 0; i < 60; i++)
        snprintf(params + strlen(params), sizeof params - strlen(params), "\n  <param name=\"p%d\" value=\"v\"/>", i);
    check_template_refused("template.too_many_params", write_template("t.xml", "letter", "", "", params, ""),
                           schema_path, "<param>: more than 38 parameters");
    check_template_refused("template.image_width_zero",
                           write_template("t.xml", "letter", "", "", "", "<image src=\"logo.png\" width=\"0mm\"/>"),
                           schema_path, "t.xml:7: <image width=\"0mm\">: must be from 1 to 210 mm");

    /* F16: images only from inside the templates directory. */
    check_template_refused("template.image_absolute",
                           write_template("t.xml", "letter", "", "", "", "<image src=\"/etc/passwd\" width=\"10mm\"/>"),
                           schema_path, "t.xml:7: <image src=\"/etc/passwd\"> is an absolute path");
    check_template_refused("template.image_dotdot",
                           write_template("t.xml", "letter", "", "", "",
                                          "<image src=\"../../../../etc/passwd\" width=\"10mm\"/>"),
                           schema_path, "t.xml:7: <image src=\"../../../../etc/passwd\"> goes up with \"..\"");
    check_template_refused("template.image_url",
                           write_template("t.xml", "letter", "", "", "",
                                          "<image src=\"http://127.0.0.1:9/x.png\" width=\"10mm\"/>"),
                           schema_path, "is a URL");
    if (symlink("/etc/passwd", path_in("escape.png")) != 0)
        printf("INFO symlink: %s\n", strerror(errno));
    check_template_refused("template.image_symlink_out",
                           write_template("t.xml", "letter", "", "", "", "<image src=\"escape.png\" width=\"10mm\"/>"),
                           schema_path, "t.xml:7: <image src=\"escape.png\"> leads outside the templates directory");
    /* F15: libpng printed "libpng error: Not a PNG file" itself. */
    write_text("text.png", "this is not a PNG\n");
    check_template_refused("template.image_not_png_message",
                           write_template("t.xml", "letter", "", "", "", "<image src=\"text.png\" width=\"10mm\"/>"),
                           schema_path, "text.png: not a readable PNG image (Not a PNG file)");

    /* F10: the schema reads no other file and no URL, and libxml2 prints nothing. */
    FILE *rng = fopen(schema_path, "rb");
    static char schema[65536];
    size_t schema_len = rng ? fread(schema, 1, sizeof schema - 1, rng) : 0;
    if (rng)
        fclose(rng);
    schema[schema_len] = '\0';
    const char *grammar_end = strstr(schema, "datatypes\">");
    static const char *inserts[][2] = {
        {"<include href=\"/etc/passwd\"/>", "<include href=\"/etc/passwd\"> is not allowed"},
        {"<include href=\"http://127.0.0.1:9/evil.rng\"/>", "<include href=\"http://127.0.0.1:9/evil.rng\"> is not allowed"},
        {"<define name=\"evil\"><externalRef href=\"http://127.0.0.1:9/evil2.rng\"/></define>",
         "<externalRef href=\"http://127.0.0.1:9/evil2.rng\"> is not allowed"},
    };
    path = write_template("t.xml", "letter", "", "", "", "");
    for (size_t i = 0; grammar_end && i < sizeof inserts / sizeof inserts[0]; i++) {
        static char changed[70000];
        size_t head = (size_t)(grammar_end - schema) + strlen("datatypes\">");
        snprintf(changed, sizeof changed, "%.*s\n  %s%s", (int)head, schema, inserts[i][0], schema + head);
        write_text("schema.rng", changed);
        char label[64];
        snprintf(label, sizeof label, "schema.inclusion_refused.%zu", i + 1);
        check_template_refused(label, path, path_in("schema.rng"), inserts[i][1]);
    }
    CHECK("schema.fixture", grammar_end != NULL, "cannot find the grammar element in %s", schema_path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/vip_hardening_XXXXXX");
    if (!mkdtemp(dir)) {
        printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    vip_error err = {0};
    fonts = vip_fontset_load("fonts/manifest", &err);
    text = fonts ? vip_text_create(fonts, &err) : NULL;
    if (!text) {
        printf("FAIL setup: %s\n", err.message);
        return 1;
    }
    test_render_text();
    test_catalogs();
    test_xml_messages();
    test_templates();
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("INFO could not remove %s\n", dir);
    return CHECK_DONE();
}
