/* The PDF backend: documents built by hand from runs shaped here with HarfBuzz, one per script (English,
 * Polish/Romanian, Arabic with a left-to-right reference beside it, Urdu Nastaliq, Gurmukhi, Chinese in a CFF
 * font) and one with all of them, checked with external tools: qpdf --check, pdffonts (embedded subsets of the
 * right type, with ToUnicode), pdftotext (the text comes back), pdfinfo (a UTF-16 title), mutool (renders
 * cleanly). Also: the same input gives the same bytes, vip_pdf_write replaces a file atomically and leaves no
 * temporary behind, and bad input is an error rather than a broken file. Pages are rendered to PNG under
 * build/test-out/ for a look. Run from the repository root. */
#include <dirent.h>
#include <hb.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "fonts.h"
#include "page.h"
#include "pdf.h"

#define OUT_DIR "build/test-out"
#define A4_W 595.276
#define A4_H 841.89

static vip_fontset *fonts;
static double justify_extra; /* points added after each space, as justification would */

/* Shapes text in a font and adds it to the page as one run whose left end is at x (or whose right end is at
 * x when right_aligned). Returns the run's width in points. */
static double add_text(vip_page_doc *doc, vip_page *page, const vip_font *font, const char *text, double size,
                       double x, double y, int right_aligned, uint32_t color, const char *lang)
{
    size_t len = strlen(text);
    const char *kept = vip_page_doc_keep_text(doc, text, len);
    hb_buffer_t *buf = hb_buffer_create();
    hb_buffer_add_utf8(buf, kept, (int)len, 0, (int)len);
    hb_buffer_guess_segment_properties(buf);
    hb_buffer_set_language(buf, hb_language_from_string(lang, -1));
    hb_shape(vip_font_hb_font(font), buf, NULL, 0);
    unsigned n;
    hb_glyph_info_t *info = hb_buffer_get_glyph_infos(buf, &n);
    hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(buf, &n);
    double scale = size / vip_font_get_metrics(font)->upem;
    vip_page_glyph *glyphs = calloc(n ? n : 1, sizeof *glyphs);
    double pen = 0;
    for (unsigned i = 0; i < n; i++) {
        glyphs[i].gid = info[i].codepoint;
        glyphs[i].cluster = info[i].cluster;
        glyphs[i].x = (pen + pos[i].x_offset) * scale;
        glyphs[i].y = pos[i].y_offset * scale;
        glyphs[i].advance = pos[i].x_advance * scale;
        pen += pos[i].x_advance;
        if (kept[info[i].cluster] == ' ')
            pen += justify_extra / scale;
    }
    double width = pen * scale;
    vip_page_run run = {
        .font = font,
        .size = size,
        .x = right_aligned ? x - width : x,
        .y = y,
        .rtl = HB_DIRECTION_IS_BACKWARD(hb_buffer_get_direction(buf)),
        .text = kept,
        .text_start = 0,
        .text_end = (uint32_t)len,
        .lang = lang,
        .glyphs = glyphs,
        .glyph_count = n,
        .color = color,
    };
    vip_page_add_run(doc, page, &run);
    free(glyphs);
    hb_buffer_destroy(buf);
    return width;
}

static const vip_font *font_for(const char *script, const char *lang)
{
    return vip_fontset_primary(fonts, script, lang, VIP_WEIGHT_REGULAR);
}

/* Runs a shell command and returns its exit status and output (stdout, and stderr when asked). */
static int run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        out[0] = '\0';
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Collapses runs of white space into one space and trims the ends. */
static void squeeze(char *s)
{
    char *w = s;
    int space = 1;
    for (char *r = s; *r; r++) {
        if (*r == ' ' || *r == '\n' || *r == '\t' || *r == '\r' || *r == '\f') {
            if (!space)
                *w++ = ' ';
            space = 1;
        } else {
            *w++ = *r;
            space = 0;
        }
    }
    if (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

static char out[1 << 16];

static void pdf_text(const char *path, char *buf, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' - 2>&1", path);
    run(cmd, buf, cap);
    squeeze(buf);
}

/* The checks every PDF gets: structure, fonts, rendering with two engines, a PNG to look at. */
static void check_file(const char *name, const char *path, const char *font_type)
{
    char cmd[1024], label[128];
    snprintf(cmd, sizeof cmd, "qpdf --check '%s' 2>&1", path);
    int rc = run(cmd, out, sizeof out);
    snprintf(label, sizeof label, "%s.qpdf_check", name);
    CHECK(label, rc == 0 && strstr(out, "No syntax or stream encoding errors"), "qpdf exit %d: %s", rc, out);

    snprintf(cmd, sizeof cmd, "pdffonts '%s' 2>&1", path);
    rc = run(cmd, out, sizeof out);
    int fonts_seen = 0, bad = 0;
    char *save, *line = strtok_r(out, "\n", &save);
    for (int i = 0; line; line = strtok_r(NULL, "\n", &save), i++) {
        if (i < 2)
            continue; /* the header and its underline */
        fonts_seen++;
        char subset_prefix[8] = {0};
        memcpy(subset_prefix, line, 7);
        int subset_name = subset_prefix[6] == '+';
        if (!strstr(line, font_type) || !strstr(line, "Identity-H") || !strstr(line, "yes yes yes") || !subset_name) {
            printf("  pdffonts: %s\n", line);
            bad++;
        }
    }
    snprintf(label, sizeof label, "%s.fonts_embedded_subset_tounicode", name);
    CHECK(label, rc == 0 && fonts_seen > 0 && !bad, "%d of %d fonts not '%s', embedded, subset, with ToUnicode",
          bad, fonts_seen, font_type);

    snprintf(cmd, sizeof cmd, "mutool draw -q -o /dev/null '%s' 2>&1", path);
    rc = run(cmd, out, sizeof out);
    snprintf(label, sizeof label, "%s.mutool_renders_cleanly", name);
    /* This mupdf build lacks ICC support and says so for every file: not a problem of the file. */
    char *icc = strstr(out, "warning: ICC support is not available\n");
    if (icc)
        memmove(icc, icc + 38, strlen(icc + 38) + 1);
    CHECK(label, rc == 0 && !strstr(out, "error") && !strstr(out, "warning"), "mutool exit %d: %s", rc, out);

    snprintf(cmd, sizeof cmd, "pdftoppm -r 80 -png '%s' '%s/%s' 2>&1", path, OUT_DIR, name);
    rc = run(cmd, out, sizeof out);
    snprintf(label, sizeof label, "%s.pdftoppm_renders_cleanly", name);
    CHECK(label, rc == 0 && out[0] == '\0', "pdftoppm exit %d: %s", rc, out);
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* How many times needle occurs in the uncompressed form of a PDF (qpdf --qdf). */
static int count_in_qdf(const char *path, const char *needle)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "qpdf --qdf --object-streams=disable '%s' %s/qdf.pdf && grep -a -c -F -- '%s' %s/qdf.pdf",
             path, OUT_DIR, needle, OUT_DIR);
    if (run(cmd, out, sizeof out) > 1)
        return -1;
    return atoi(out);
}

static vip_page_doc *new_doc(const char *title, const char *lang, vip_page **page)
{
    vip_page_doc *doc = vip_page_doc_create(title, lang);
    *page = vip_page_doc_add_page(doc, A4_W, A4_H);
    return doc;
}

/* Writes doc to OUT_DIR/name.pdf, checks it, and reports its size. */
static int write_and_check(vip_page_doc *doc, const char *name, const char *font_type, char *path, size_t cap)
{
    vip_error err = {0};
    snprintf(path, cap, "%s/%s.pdf", OUT_DIR, name);
    int rc = vip_pdf_write(doc, path, &err);
    char label[128];
    snprintf(label, sizeof label, "%s.written", name);
    CHECK(label, rc == VIP_OK, "%s", err.message);
    if (rc)
        return rc;
    printf("INFO %s.pdf: %zu bytes\n", name, file_size(path));
    check_file(name, path, font_type);
    return VIP_OK;
}

static int has_bytes(const unsigned char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Average time of vip_pdf_render over a few runs, after one run that warms the fonts' subset caches. */
static double time_render(const vip_page_doc *doc)
{
    unsigned char *bytes;
    size_t len;
    vip_error err;
    if (vip_pdf_render(doc, &bytes, &len, &err))
        return -1;
    free(bytes);
    int n = 20;
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        if (vip_pdf_render(doc, &bytes, &len, &err))
            return -1;
        free(bytes);
    }
    return (now_ms() - t0) / n;
}

/* Each script alone: the text must come back through pdftotext. */
static const char *EN = "The office offers affordable flights, first-class fjords and 12% off — thank you.";
static const char *PL = "Zażółć gęślą jaźń, Łódź";
static const char *RO = "Știință, țară și în București";
static const char *AR = "مرحبا بكم في خدمة العملاء، رقم الطلب";
static const char *REF = "NC/2024/012345";
static const char *UR = "یہ ایک مثال ہے۔ آپ کا بہت شکریہ";
static const char *PA = "ਪੰਜਾਬੀ ਕਿਰਪਾ ਕਰਕੇ";
static const char *ZH = "您好，欢迎使用中文信件服务。谢谢！";

static void test_latin(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("English letter", "en", &page);
    add_text(doc, page, font_for("Latn", "en"), EN, 12, 56.7, 80, 0, 0, "en");
    vip_page_rule rule = {56.7, 90, 538.6, 90, 0.5, 0x336699};
    vip_page_add_rule(page, &rule);
    if (!write_and_check(doc, "pdf_en", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("en.text_extracts_exactly", strcmp(out, EN) == 0, "got '%s'", out);
        CHECK("en.no_actualtext_needed", count_in_qdf(path, "/ActualText") == 0, "ligatures should map by ToUnicode");
        CHECK("en.lang", count_in_qdf(path, "/Lang (en)") == 1, "no /Lang (en) in the catalog");
        run("pdfinfo build/test-out/pdf_en.pdf", out, sizeof out);
        squeeze(out);
        CHECK("en.info", strstr(out, "Title: English letter Producer: vipgen") && !strstr(out, "CreationDate") &&
              strstr(out, "PDF version: 1.7"), "pdfinfo: %s", out);
    }
    printf("INFO one-page Latin document: %.2f ms per render\n", time_render(doc));
    vip_page_doc_destroy(doc);

    doc = new_doc("Polski i română", "pl", &page);
    add_text(doc, page, font_for("Latn", "pl"), PL, 12, 56.7, 80, 0, 0, "pl");
    add_text(doc, page, font_for("Latn", "ro"), RO, 12, 56.7, 100, 0, 0x990000, "ro");
    if (!write_and_check(doc, "pdf_pl_ro", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        char want[512];
        snprintf(want, sizeof want, "%s %s", PL, RO);
        CHECK("pl_ro.text_extracts_exactly", strcmp(out, want) == 0, "got '%s'", out);
    }
    vip_page_doc_destroy(doc);
}

static void test_arabic(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("رسالة تجريبية", "ar", &page);
    /* An RTL line ending (on the left) with a left-to-right reference number, as bidi would lay it out. */
    double w = add_text(doc, page, font_for("Arab", "ar"), AR, 14, 538.6, 90, 1, 0, "ar");
    add_text(doc, page, font_for("Latn", "en"), REF, 14, 538.6 - w - 4, 90, 1, 0, "en");
    if (!write_and_check(doc, "pdf_ar", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        /* pdftotext brackets directional runs with embedding controls and sets the Arabic comma apart. */
        const char *words[] = {"مرحبا", "بكم", "في", "خدمة", "العملاء", "،", "رقم", "الطلب"};
        int all = 1;
        const char *p = out;
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if ((p = strstr(p, words[i])))
                p += strlen(words[i]);
            else
                all = 0, p = out;
        CHECK("ar.words_in_logical_order", all, "got '%s'", out);
        CHECK("ar.reference_present", strstr(out, REF) != NULL, "got '%s'", out);
        run("pdfinfo build/test-out/pdf_ar.pdf", out, sizeof out);
        squeeze(out);
        CHECK("ar.utf16_title", strstr(out, "Title: رسالة تجريبية Producer") != NULL, "pdfinfo: %s", out);
    }
    vip_page_doc_destroy(doc);
}

static void test_urdu(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("اردو", "ur", &page);
    const vip_font *nastaliq = font_for("Arab", "ur");
    add_text(doc, page, nastaliq, UR, 16, 538.6, 100, 1, 0, "ur");
    int raised = 0;
    const vip_page_run *r = &page->items[0].u.run;
    for (size_t i = 0; i < r->glyph_count; i++)
        raised += r->glyphs[i].y != 0;
    CHECK("ur.has_vertical_offsets", raised > 0, "Nastaliq should cascade");
    if (!write_and_check(doc, "pdf_ur", "CID TrueType", path, sizeof path)) {
        CHECK("ur.text_rise_used", count_in_qdf(path, " Ts") > 0, "no Ts operator");
        pdf_text(path, out, sizeof out);
        /* Nastaliq's cascading baselines split words for pdftotext; every letter must still be there. */
        const char *words[] = {"یہ", "ایک", "مثال", "ہے", "آپ", "کا", "بہت", "شکریہ"};
        int missing = 0;
        static char flat[sizeof out];
        memcpy(flat, out, sizeof out);
        for (char *s = flat, *d = flat;; s++) /* drop spaces: words may be split */
            if (*s != ' ' && !(*d++ = *s))
                break;
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            for (const char *p = words[i]; *p;) {
                char ch[5] = {0};
                size_t n = 1;
                while ((p[n] & 0xC0) == 0x80)
                    n++;
                memcpy(ch, p, n);
                p += n;
                missing += strstr(flat, ch) == NULL;
            }
        CHECK("ur.letters_present", missing == 0, "%d letters missing from '%s'", missing, out);
    }
    vip_page_doc_destroy(doc);
}

static void test_gurmukhi(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("ਪੰਜਾਬੀ", "pa", &page);
    add_text(doc, page, font_for("Guru", "pa"), PA, 16, 56.7, 90, 0, 0, "pa");
    if (!write_and_check(doc, "pdf_pa", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("pa.text_extracts_exactly", strcmp(out, PA) == 0, "got '%s'", out);
        int n = count_in_qdf(path, "/ActualText");
        /* Only the cluster with the left-side matra (ਕਿ), and the one whose tippi is drawn back over its base. */
        CHECK("pa.actualtext_per_cluster_only", n == 2, "%d lines with ActualText", n);
    }
    vip_page_doc_destroy(doc);
    /* Marks drawn back over their base (tippi, subscript ha) leave no gap that splits the word in extraction. */
    const char *marks = "ਅਪਰਾਧ ਹਵਾਲਾ ਨੰਬਰ ਇਸ ਤਰ੍ਹਾਂ ਦਰਜ";
    doc = new_doc("ਨੰਬਰ", "pa", &page);
    add_text(doc, page, font_for("Guru", "pa"), marks, 12, 56.7, 90, 0, 0, "pa");
    if (!write_and_check(doc, "pdf_pa_marks", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("pa.marks_drawn_back_keep_words_whole", strcmp(out, marks) == 0, "got '%s'", out);
    }
    vip_page_doc_destroy(doc);
}

static void test_chinese(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("中文信件", "zh-Hans", &page);
    add_text(doc, page, font_for("Hans", "zh-Hans"), ZH, 14, 56.7, 90, 0, 0, "zh-Hans");
    if (!write_and_check(doc, "pdf_zh", "CID Type 0C", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("zh.text_extracts_exactly", strcmp(out, ZH) == 0, "got '%s'", out);
    }
    vip_page_doc_destroy(doc);
}

/* Everything on one page, as a letter would mix them, plus a second page reusing the fonts. */
static vip_page_doc *mixed_doc(void)
{
    vip_page *page;
    vip_page_doc *doc = new_doc("Mixed scripts / مختلط", "en", &page);
    double y = 80;
    add_text(doc, page, font_for("Latn", "en"), EN, 12, 56.7, y, 0, 0, "en");
    add_text(doc, page, font_for("Latn", "pl"), PL, 12, 56.7, y += 24, 0, 0, "pl");
    add_text(doc, page, font_for("Latn", "ro"), RO, 12, 56.7, y += 24, 0, 0, "ro");
    double w = add_text(doc, page, font_for("Arab", "ar"), AR, 14, 538.6, y += 30, 1, 0, "ar");
    add_text(doc, page, font_for("Latn", "en"), REF, 14, 538.6 - w - 4, y, 1, 0, "en");
    add_text(doc, page, font_for("Arab", "fa"), "با سپاس از شما", 14, 538.6, y += 30, 1, 0, "fa");
    add_text(doc, page, font_for("Arab", "ur"), UR, 16, 538.6, y += 44, 1, 0, "ur");
    add_text(doc, page, font_for("Guru", "pa"), PA, 16, 56.7, y += 44, 0, 0x003366, "pa");
    add_text(doc, page, font_for("Hans", "zh-Hans"), ZH, 14, 56.7, y += 30, 0, 0, "zh-Hans");
    vip_page_rule rule = {56.7, y + 12, 538.6, y + 12, 1, 0xCC0000};
    vip_page_add_rule(page, &rule);
    page = vip_page_doc_add_page(doc, A4_W, A4_H);
    add_text(doc, page, font_for("Latn", "en"), "Page two: the fonts are shared between pages.", 12, 56.7, 80, 0, 0,
             "en");
    add_text(doc, page, font_for("Guru", "pa"), "ਕਿਰਪਾ", 16, 56.7, 110, 0, 0, "pa");
    return doc;
}

static void test_mixed(void)
{
    char path[256];
    vip_page_doc *doc = mixed_doc();
    if (!write_and_check(doc, "pdf_mixed", "CID", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("mixed.text", strstr(out, EN) && strstr(out, PA) && strstr(out, ZH) && strstr(out, REF) &&
              strstr(out, "ਕਿਰਪਾ"), "got '%s'", out);
    }
    printf("INFO one-page mixed-script document (+1 short page): %.2f ms per render\n", time_render(doc));

    /* Determinism: rendering again, and rendering an identical document built anew, give the same bytes. */
    unsigned char *a = NULL, *b = NULL, *c = NULL;
    size_t alen = 0, blen = 0, clen = 0;
    vip_error err = {0};
    vip_pdf_render(doc, &a, &alen, &err);
    vip_pdf_render(doc, &b, &blen, &err);
    vip_page_doc *again = mixed_doc();
    vip_pdf_render(again, &c, &clen, &err);
    CHECK("determinism.same_bytes_twice", a && b && alen == blen && memcmp(a, b, alen) == 0, "%zu vs %zu bytes",
          alen, blen);
    CHECK("determinism.same_bytes_rebuilt", a && c && alen == clen && memcmp(a, c, alen) == 0, "%zu vs %zu bytes",
          alen, clen);
    CHECK("determinism.no_id_no_dates", a && !has_bytes(a, alen, "/ID") && !has_bytes(a, alen, "Date"),
          "found /ID or a date");
    free(a);
    free(b);
    free(c);
    vip_page_doc_destroy(again);
    vip_page_doc_destroy(doc);
}

/* Glyphs land where the run says, not where /W would put them: justified words start exactly at their shaped
 * positions (pdftotext -bbox gives each word's origin). */
static void test_positions(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("Positions", "en", &page);
    const char *text = "Justified text keeps every word where layout put it, kerning AV To Wa included.";
    justify_extra = 7.25;
    add_text(doc, page, font_for("Latn", "en"), text, 11, 50, 100, 0, 0, "en");
    justify_extra = 0;
    if (write_and_check(doc, "pdf_positions", "CID TrueType", path, sizeof path)) {
        vip_page_doc_destroy(doc);
        return;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pdftotext -bbox '%s' - 2>&1", path);
    run(cmd, out, sizeof out);
    const vip_page_run *r = &page->items[0].u.run;
    int words = 0, off = 0;
    double worst = 0;
    const char *p = out;
    for (size_t i = 0; i < r->glyph_count; i++) {
        int starts_word = r->text[r->glyphs[i].cluster] != ' ' && (i == 0 || r->text[r->glyphs[i - 1].cluster] == ' ');
        if (!starts_word)
            continue;
        p = strstr(p, "<word xMin=\"");
        if (!p)
            break;
        double x = strtod(p + 12, NULL);
        double want = r->x + r->glyphs[i].x;
        if (fabs(x - want) > worst)
            worst = fabs(x - want);
        off += fabs(x - want) > 0.01;
        words++;
        p++;
    }
    CHECK("positions.words_at_shaped_x", words == 14 && off == 0, "%d words, %d off by more than 0.01 pt (worst %.4f)",
          words, off, worst);
    vip_page_doc_destroy(doc);
}

/* Arabic with vowel marks and repeated words, and Farsi: marks are positioned, letters come back. */
static void test_marks(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("تشكيل", "ar", &page);
    const char *ar = "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ";
    const char *fa = "کتاب‌های فارسی و کتاب‌های عربی";
    add_text(doc, page, font_for("Arab", "ar"), ar, 18, 538.6, 100, 1, 0, "ar");
    add_text(doc, page, font_for("Arab", "fa"), fa, 16, 538.6, 140, 1, 0, "fa");
    int raised = 0;
    const vip_page_run *r = &page->items[0].u.run;
    for (size_t i = 0; i < r->glyph_count; i++)
        raised += r->glyphs[i].y != 0;
    if (!write_and_check(doc, "pdf_marks", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        /* Every base letter and mark comes back (pdftotext may order a mark differently within its cluster). */
        int missing = 0;
        for (const char *t = ar; *t;) {
            char ch[5] = {0};
            size_t n = 1;
            while ((t[n] & 0xC0) == 0x80)
                n++;
            memcpy(ch, t, n);
            t += n;
            missing += ch[0] != ' ' && !strstr(out, ch);
        }
        CHECK("marks.arabic_letters_and_marks_present", missing == 0, "%d missing from '%s' (%d raised marks)",
              missing, out, raised);
        CHECK("marks.farsi_words", strstr(out, "فارسی") && strstr(out, "عربی") && strstr(out, "کتاب"), "got '%s'",
              out);
    }
    vip_page_doc_destroy(doc);
}

/* Removes the bidi embedding and isolate controls pdftotext puts around right-to-left lines (its markup, not the
 * document's text), in place. */
static void strip_bidi_controls(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        /* U+200E, U+200F: E2 80 8E/8F; U+202A..U+202E: E2 80 AA..AE; U+2066..U+2069: E2 81 A6..A9. */
        unsigned char a = (unsigned char)r[0], b = a ? (unsigned char)r[1] : 0, c = b ? (unsigned char)r[2] : 0;
        if (a == 0xE2 && ((b == 0x80 && (c == 0x8E || c == 0x8F || (c >= 0xAA && c <= 0xAE))) ||
                          (b == 0x81 && c >= 0xA6 && c <= 0xA9))) {
            r += 3;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

/* Right-to-left text whose glyphs leave the baseline (Nastaliq's cascade, Naskh's raised marks and cursive
 * attachments) and the Allah ligature: each line comes back whole, in logical order, in poppler. */
static void test_rtl_words(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("نام", "ur", &page);
    const char *name = "محمد عبد الله";
    const char *ur = "ہم آپ کی رپورٹ کے بارے میں آپ سے رابطہ کریں گے";
    add_text(doc, page, font_for("Arab", "ar"), name, 14, 538.6, 100, 1, 0, "ar");
    add_text(doc, page, font_for("Arab", "ur"), name, 14, 538.6, 140, 1, 0, "ur");
    add_text(doc, page, font_for("Arab", "ur"), ur, 14, 538.6, 180, 1, 0, "ur");
    int raised = 0;
    const vip_page_run *r = &page->items[2].u.run;
    for (size_t i = 0; i < r->glyph_count; i++)
        raised += r->glyphs[i].y != 0 && r->glyphs[i].advance > 0;
    CHECK("rtl_words.nastaliq_cascades", raised > 0, "no glyph of '%s' off the baseline: nothing tested", ur);
    if (!write_and_check(doc, "pdf_rtl_words", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        strip_bidi_controls(out);
        const char *first = strstr(out, name), *second = first ? strstr(first + strlen(name), name) : NULL;
        CHECK("rtl_words.allah_ligature_in_naskh_and_nastaliq", first && second, "got '%s'", out);
        CHECK("rtl_words.nastaliq_sentence_whole", strstr(out, ur) != NULL, "got '%s'", out);
        CHECK("rtl_words.no_zero_width_space", !strstr(out, "\xE2\x80\x8B"), "got '%s'", out);
    }
    vip_page_doc_destroy(doc);
}

/* Rectangles, an image, a link and outline entries (bookmarks with non-Latin titles). */
static void test_furniture(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("Furniture", "en", &page);
    vip_page_rect box = {50, 60, 300, 80, 0xEEF3FA, 1, 1.5, 0x336699};
    vip_page_add_rule(page, &(vip_page_rule){50, 50, 350, 50, 2, 0});
    vip_page_insert_rect(page, 0, &box);
    add_text(doc, page, font_for("Latn", "en"), "Inside a box, over a fill.", 12, 60, 90, 0, 0x333333, "en");
    vip_page_add_image(doc, page, OUT_DIR "/pdf_pa-1.png", 60, 160, 331, 468);
    vip_page_add_link(doc, page, 60, 78, 150, 16, "https://example.org/a?b=1&c=(2)");
    vip_page *page2 = vip_page_doc_add_page(doc, A4_W, A4_H);
    add_text(doc, page2, font_for("Latn", "en"), "Second page.", 12, 60, 90, 0, 0, "en");
    vip_page_doc_add_outline(doc, "Introduction", 1, 0, 60);
    vip_page_doc_add_outline(doc, "مقدمة", 2, 0, 160);
    vip_page_doc_add_outline(doc, "ਦੂਜਾ ਪੰਨਾ", 1, 1, 90);
    if (!write_and_check(doc, "pdf_furniture", "CID TrueType", path, sizeof path)) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "pdfimages -list '%s' | tail -n +3 | wc -l", path);
        run(cmd, out, sizeof out);
        CHECK("furniture.image", atoi(out) == 1, "%s images", out);
        CHECK("furniture.link", count_in_qdf(path, "/URI (https://example.org/a?b=1&c=\\(2\\))") == 1,
              "no URI action");
        snprintf(cmd, sizeof cmd, "mutool show '%s' outline 2>&1", path);
        run(cmd, out, sizeof out);
        CHECK("furniture.outline", strstr(out, "Introduction") && strstr(out, "مقدمة") && strstr(out, "ਦੂਜਾ ਪੰਨਾ"),
              "mutool: %s", out);
        pdf_text(path, out, sizeof out);
        CHECK("furniture.text", strstr(out, "Inside a box, over a fill.") && strstr(out, "Second page."), "got '%s'",
              out);
    }
    vip_page_doc_destroy(doc);
}

/* Tagged PDF: a paragraph drawn in another order than it reads (its runs from right to left on the page, as a
 * right-to-left line is) with a link and a word in another language, a figure with alternative text and its box, a
 * footer as a Pagination artifact and a rule as a Layout one. Read back with tests/tagged/check.py (qpdf and poppler's structure tree): parent tree, marked
 * content, the link's OBJR, the Span's /Lang; and in poppler's structure text the runs come in reading order. */
static void test_tagged(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("Tagged", "en", &page);
    const vip_font *latin = font_for("Latn", "en"), *arabic = font_for("Arab", "ar");
    size_t p = vip_page_doc_add_element(doc, VIP_ROLE_P, 0, NULL, NULL);
    size_t link = vip_page_doc_add_element(doc, VIP_ROLE_LINK, p, NULL, NULL);
    size_t figure = vip_page_doc_add_element(doc, VIP_ROLE_FIGURE, 0, NULL, "The force's crest");
    /* Reading order: "Call us", the link, the Arabic word; drawn from the end. */
    uint64_t first = doc->next_order;
    doc->current = p;
    add_text(doc, page, arabic, "مرحبا", 12, 300, 100, 0, 0, "ar");
    doc->current = link;
    add_text(doc, page, latin, "example.org", 12, 200, 100, 0, 0, "en");
    vip_page_add_link(doc, page, 200, 88, 80, 16, "https://example.org/");
    doc->current = p;
    add_text(doc, page, latin, "Call us at ", 12, 130, 100, 0, 0, "en");
    page->items[0].order = first + 10; /* the Arabic word last, the words before it first */
    page->items[2].order = first;
    doc->elements[link].order = first + 5; /* as layout makes it: when its first run is placed */
    doc->current = figure;
    vip_page_add_image(doc, page, OUT_DIR "/pdf_pa-1.png", 60, 160, 100, 140);
    doc->current = 0;
    doc->artifact = VIP_ARTIFACT_FOOTER;
    add_text(doc, page, latin, "Page 1 of 1", 9, 280, 800, 0, 0, "en");
    doc->artifact = VIP_ARTIFACT_LAYOUT;
    vip_page_add_rule(page, &(vip_page_rule){50, 790, 500, 790, 0.5, 0});
    if (!write_and_check(doc, "pdf_tagged", "CID TrueType", path, sizeof path)) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "tests/tagged/check.py --lang en --span-lang ar --letter tagged '%s' 2>&1 | "
                 "grep -v -e 'summary table' -e 'H1 in logical' -e 'furniture as artifacts on every'", path);
        run(cmd, out, sizeof out);
        CHECK("tagged.check_py", !strstr(out, "FAIL") && strstr(out, "PASS") &&
              strstr(out, "1 link annotations in Link elements"), "%s", out);
        snprintf(cmd, sizeof cmd, "pdfinfo -struct-text '%s' 2>&1", path);
        run(cmd, out, sizeof out);
        char *call = strstr(out, "Call us at"), *org = strstr(out, "example.org"), *ar = strstr(out, "Span");
        CHECK("tagged.reading_order", call && org && ar && call < org && org < ar && !strstr(out, "Page 1 of 1"),
              "pdfinfo -struct-text: %s", out);
    }
    vip_page_doc_destroy(doc);
}

/* Text that reaches one glyph in two ways: "fi" through the ligature, and U+FB01 (ﬁ) directly. One code can say
 * only one of them in ToUnicode, so the glyph gets a code per text (CIDs drawn as the same glyph through a
 * /CIDToGIDMap stream), and no ActualText is needed: pdf.js reads no ActualText. */
static void test_shared_glyphs(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("Shared glyphs", "en", &page);
    const char *text = "A fine \xEF\xAC\x81le, a \xEF\xAC\x82ow and a fly."; /* A fine ﬁle, a ﬂow and a fly. */
    add_text(doc, page, font_for("Latn", "en"), text, 12, 56.7, 80, 0, 0, "en");
    if (!write_and_check(doc, "pdf_shared", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("shared.text_extracts_exactly", strcmp(out, text) == 0, "got '%s'", out);
        int n = count_in_qdf(path, "/ActualText");
        CHECK("shared.no_actualtext", n == 0, "%d ActualText spans", n);
        CHECK("shared.cid_to_gid_map_stream",
              count_in_qdf(path, "/CIDToGIDMap") == 1 && count_in_qdf(path, "/CIDToGIDMap /Identity") == 0,
              "no /CIDToGIDMap stream");
    }
    vip_page_doc_destroy(doc);
}

/* A character no font has is shaped to .notdef: the PDF must draw its box (the subset keeps its outline) and
 * give the character back. */
static void test_notdef(void)
{
    char path[256];
    vip_page *page;
    vip_page_doc *doc = new_doc("Notdef", "en", &page);
    const char *text = "\xF0\x93\x80\x80"; /* U+13000 EGYPTIAN HIEROGLYPH A001 */
    add_text(doc, page, font_for("Latn", "en"), text, 40, 100, 100, 0, 0, "en");
    CHECK("notdef.shaped_to_glyph_0", page->items[0].u.run.glyph_count == 1 && page->items[0].u.run.glyphs[0].gid == 0,
          "expected .notdef");
    if (!write_and_check(doc, "pdf_notdef", "CID TrueType", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("notdef.text_extracts", strcmp(out, text) == 0, "got '%s'", out);
        /* Count dark pixels where the box is: 72 dpi, so one pixel per point. */
        char cmd[512];
        snprintf(cmd, sizeof cmd, "pdftoppm -r 72 -gray -x 95 -y 60 -W 50 -H 50 '%s' %s/notdef", path, OUT_DIR);
        run(cmd, out, sizeof out);
        FILE *f = fopen(OUT_DIR "/notdef-1.pgm", "rb");
        int w = 0, h = 0, max = 0, dark = 0;
        if (f && fscanf(f, "P5 %d %d %d", &w, &h, &max) == 3 && fgetc(f) != EOF)
            for (int i = 0, ch; i < w * h && (ch = fgetc(f)) != EOF; i++)
                dark += ch < 128;
        if (f)
            fclose(f);
        CHECK("notdef.box_is_drawn", dark > 20, "%d dark pixels in a %dx%d crop", dark, w, h);
    }
    vip_page_doc_destroy(doc);
}

/* Hundreds of distinct glyphs: ToUnicode blocks of at most 100 entries, ranges and single characters, /W runs. */
static void test_many_glyphs(void)
{
    char path[256], want[8192] = "", line[512] = "";
    vip_page *page;
    vip_page_doc *doc = new_doc("Many glyphs", "zh-Hans", &page);
    const vip_font *latin = font_for("Latn", "en"), *cjk = font_for("Hans", "zh-Hans");
    double y = 60;
    for (uint32_t cp = 0x21, n = 0; cp < 0x180; cp++) { /* ASCII and Latin-1 and Latin Extended-A, 60 a line */
        if (cp >= 0x7F && cp < 0xA1)
            continue;
        char *e = line + strlen(line);
        if (cp < 0x80)
            *e++ = (char)cp;
        else
            *e++ = (char)(0xC0 | cp >> 6), *e++ = (char)(0x80 | (cp & 0x3F));
        *e = '\0';
        if (++n % 60 == 0 || cp == 0x17F) {
            add_text(doc, page, latin, line, 9, 40, y += 14, 0, 0, "en");
            strcat(want, *want ? " " : "");
            strcat(want, line);
            line[0] = '\0';
        }
    }
    /* 640 ideographs, 32 a line: every other one (glyph IDs with gaps: single entries), then consecutive ones
     * (runs of glyph IDs: ranges). */
    for (uint32_t i = 0; i < 640; i++) {
        uint32_t cp = i < 320 ? 0x4E00 + 2 * i : 0x5000 + i;
        char *e = line + strlen(line);
        *e++ = (char)(0xE0 | cp >> 12), *e++ = (char)(0x80 | ((cp >> 6) & 0x3F)), *e++ = (char)(0x80 | (cp & 0x3F));
        *e = '\0';
        if (i % 32 == 31) {
            add_text(doc, page, cjk, line, 12, 40, y += 17, 0, 0, "zh-Hans");
            strcat(want, " ");
            strcat(want, line);
            line[0] = '\0';
        }
    }
    if (!write_and_check(doc, "pdf_many", "CID", path, sizeof path)) {
        pdf_text(path, out, sizeof out);
        CHECK("many.text_extracts_exactly", strcmp(out, want) == 0, "got '%s'", out);
        CHECK("many.tounicode_blocks_of_100", count_in_qdf(path, "100 beginbfchar") == 4 &&
              count_in_qdf(path, "beginbfrange") >= 2, "expected 4 full bfchar blocks and some bfrange blocks");
    }
    vip_page_doc_destroy(doc);
}

/* Numbers in the PDF do not follow the C locale: under a locale with a decimal comma the bytes are the same.
 * The locale is built with localedef when the system has none. */
static void test_comma_locale(void)
{
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
        mkdir(OUT_DIR "/locale", 0755);
        if (system("localedef -i de_DE -f UTF-8 " OUT_DIR "/locale/de_DE.UTF-8 >/dev/null 2>&1") != 0)
            printf("INFO localedef failed\n");
        setenv("LOCPATH", OUT_DIR "/locale", 1);
        if (!setlocale(LC_NUMERIC, "de_DE.UTF-8")) {
            printf("INFO comma locale unavailable: test skipped\n");
            return;
        }
    }
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    setlocale(LC_NUMERIC, "C");
    vip_page_doc *doc = mixed_doc();
    unsigned char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    vip_error err = {0};
    vip_pdf_render(doc, &a, &alen, &err);
    setlocale(LC_NUMERIC, "de_DE.UTF-8");
    vip_pdf_render(doc, &b, &blen, &err);
    setlocale(LC_NUMERIC, "C");
    CHECK("locale.comma_locale_same_bytes", strcmp(probe, "1,5") == 0 && a && b && alen == blen &&
          memcmp(a, b, alen) == 0, "locale gives '%s'; %zu vs %zu bytes", probe, alen, blen);
    free(a);
    free(b);
    vip_page_doc_destroy(doc);
}

/* No file in dir whose name contains part (the temporary files are ".<name>.XXXXXX"). */
static int leftovers(const char *dir, const char *part)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] == '.' && strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

static void test_write(void)
{
    const char *path = OUT_DIR "/pdf_replace.pdf";
    FILE *f = fopen(path, "w");
    fputs("not a pdf, to be replaced\n", f);
    fclose(f);
    chmod(path, 0640);
    vip_page *page;
    vip_page_doc *doc = new_doc("Replace", "en", &page);
    add_text(doc, page, font_for("Latn", "en"), "Replaced.", 12, 56.7, 80, 0, 0, "en");
    vip_error err = {0};
    int rc = vip_pdf_write(doc, path, &err);
    CHECK("write.ok", rc == VIP_OK, "%s", err.message);
    f = fopen(path, "rb");
    char head[9] = {0};
    if (f) {
        if (fread(head, 1, 8, f) != 8)
            head[0] = '\0';
        fclose(f);
    }
    struct stat st;
    stat(path, &st);
    CHECK("write.replaces_existing", strcmp(head, "%PDF-1.7") == 0, "starts with '%s'", head);
    CHECK("write.private_mode_not_inherited", (st.st_mode & 0777) == 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    CHECK("write.no_temporary_left", leftovers(OUT_DIR, "pdf_replace.pdf") == 0, "a temporary file is left");

    rc = vip_pdf_write(doc, OUT_DIR "/no-such-dir/x.pdf", &err);
    CHECK("write.missing_dir_is_io_error", rc == VIP_ERR_IO && strstr(err.message, "no-such-dir"), "rc %d: %s", rc,
          err.message);
    rc = vip_pdf_write(doc, OUT_DIR, &err); /* a directory: the rename fails, the temporary must go */
    CHECK("write.failed_rename_cleans_up", rc == VIP_ERR_IO && leftovers("build", "test-out.") == 0, "rc %d: %s", rc,
          err.message);
    vip_page_doc_destroy(doc);
}

/* A batch prepares its fonts for subsetting (a CFF font is cut down to the batch's characters first): what it
 * embeds must be byte for byte what an unprepared font embeds, also when a document needs a glyph outside the
 * cut-down font. Each case loads its own fonts, so that no subset kept from an earlier render is reused. */
static int render_with(vip_fontset *set, const char *zh, unsigned char **bytes, size_t *len)
{
    vip_fontset *saved = fonts;
    fonts = set;
    vip_page *page;
    vip_page_doc *doc = new_doc("Prepared", "zh-Hans", &page);
    add_text(doc, page, font_for("Hans", "zh-Hans"), zh, 14, 56.7, 80, 0, 0, "zh-Hans");
    add_text(doc, page, font_for("Latn", "en"), EN, 12, 56.7, 110, 0, 0, "en");
    vip_error err = {0};
    int rc = vip_pdf_render(doc, bytes, len, &err);
    vip_page_doc_destroy(doc);
    fonts = saved;
    return rc;
}

static void test_prepared_subsetting(void)
{
    static const uint32_t repertoire[] = {0x4E2D, 0x6587, 0x60A8, 0x597D, 0xFF0C, 0x6B22, 0x8FCE, 0x4F7F, 0x7528,
                                          0x4FE1, 0x4EF6, 0x670D, 0x52A1, 0x3002, 0x8C22, 0xFF01, 'T', 'h', 'e'};
    const char *outside = "您好，欢迎使用中文信件服务。谢谢！李伟"; /* 李伟 are not in the repertoire */
    unsigned char *plain = NULL, *prepared = NULL, *beyond = NULL, *beyond_plain = NULL;
    size_t plain_len = 0, prepared_len = 0, beyond_len = 0, beyond_plain_len = 0;
    vip_error err = {0};
    vip_fontset *a = vip_fontset_load("fonts/manifest", &err), *b = vip_fontset_load("fonts/manifest", &err),
                *c = vip_fontset_load("fonts/manifest", &err), *d = vip_fontset_load("fonts/manifest", &err);
    if (!a || !b || !c || !d) {
        CHECK("prepared.fonts", 0, "%s", err.message);
        goto done;
    }
    size_t n = sizeof repertoire / sizeof repertoire[0];
    vip_fontset_prepare_subsetting(b, "Hans", "zh-Hans", repertoire, n);
    vip_fontset_prepare_subsetting(b, "Latn", "en", repertoire, n);
    vip_fontset_prepare_subsetting(c, "Hans", "zh-Hans", repertoire, n);
    const vip_font *cjk = vip_fontset_primary(b, "Hans", "zh-Hans", VIP_WEIGHT_REGULAR);
    uint32_t gid = vip_font_nominal_glyph(cjk, 0x4E2D), in_source = 0;
    hb_face_t *source = vip_font_subset_source(cjk, &gid, 1, &in_source);
    CHECK("prepared.cff_cut_down", source != vip_font_hb_face(cjk) &&
              hb_face_get_glyph_count(source) < hb_face_get_glyph_count(vip_font_hb_face(cjk)) / 100,
          "%u of %u glyphs", hb_face_get_glyph_count(source), hb_face_get_glyph_count(vip_font_hb_face(cjk)));
    int rc = render_with(a, ZH, &plain, &plain_len);
    rc |= render_with(b, ZH, &prepared, &prepared_len);
    rc |= render_with(c, outside, &beyond, &beyond_len);
    rc |= render_with(d, outside, &beyond_plain, &beyond_plain_len);
    CHECK("prepared.renders", rc == VIP_OK, "rc %d", rc);
    CHECK("prepared.same_bytes_as_unprepared", plain && prepared && plain_len == prepared_len &&
              memcmp(plain, prepared, plain_len) == 0, "%zu vs %zu bytes", plain_len, prepared_len);
    CHECK("prepared.glyph_outside_same_bytes", beyond && beyond_plain && beyond_len == beyond_plain_len &&
              memcmp(beyond, beyond_plain, beyond_len) == 0, "%zu vs %zu bytes", beyond_len, beyond_plain_len);
done:
    free(plain);
    free(prepared);
    free(beyond);
    free(beyond_plain);
    vip_fontset_destroy(a);
    vip_fontset_destroy(b);
    vip_fontset_destroy(c);
    vip_fontset_destroy(d);
}

static void test_errors(void)
{
    vip_error err = {0};
    unsigned char *bytes = (unsigned char *)"x";
    size_t len = 1;
    vip_page_doc *doc = vip_page_doc_create("Empty", "en");
    int rc = vip_pdf_render(doc, &bytes, &len, &err);
    CHECK("errors.no_pages", rc == VIP_ERR_INPUT && !bytes && len == 0, "rc %d", rc);
    vip_page *page = vip_page_doc_add_page(doc, A4_W, A4_H);
    const char *text = vip_page_doc_keep_text(doc, "x", 1);
    vip_page_glyph g = {.gid = 70000, .cluster = 0};
    vip_page_run run = {.font = font_for("Latn", "en"), .size = 12, .x = 10, .y = 10, .text = text, .text_end = 1,
                        .glyphs = &g, .glyph_count = 1};
    vip_page_add_run(doc, page, &run);
    rc = vip_pdf_render(doc, &bytes, &len, &err);
    CHECK("errors.gid_too_large", rc == VIP_ERR_INPUT && strstr(err.message, "70000"), "rc %d: %s", rc, err.message);
    page->items[0].u.run.glyphs[0].gid = 1;
    page->items[0].u.run.size = 0;
    rc = vip_pdf_render(doc, &bytes, &len, &err);
    CHECK("errors.bad_size", rc == VIP_ERR_INPUT, "rc %d: %s", rc, err.message);
    page->items[0].u.run.size = 12;
    page->width = 1e6;
    rc = vip_pdf_render(doc, &bytes, &len, &err);
    CHECK("errors.page_too_large", rc == VIP_ERR_INPUT && strstr(err.message, "page 1"), "rc %d: %s", rc,
          err.message);
    vip_page_doc_destroy(doc);
}

int main(void)
{
    vip_error err = {0};
    fonts = vip_fontset_load("fonts/manifest", &err);
    if (!fonts) {
        printf("FAIL fonts: %s\n", err.message);
        return 1;
    }
    mkdir("build", 0755);
    mkdir(OUT_DIR, 0755);
    test_latin();
    test_arabic();
    test_urdu();
    test_gurmukhi();
    test_chinese();
    test_mixed();
    test_positions();
    test_marks();
    test_rtl_words();
    test_furniture();
    test_tagged();
    test_shared_glyphs();
    test_many_glyphs();
    test_notdef();
    test_comma_locale();
    test_write();
    test_prepared_subsetting();
    test_errors();
    vip_fontset_destroy(fonts);
    return CHECK_DONE();
}
