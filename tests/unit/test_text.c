/* The text engine's own behaviour: errors for bad input, warnings for characters no font has, line breaking
 * (Chinese without spaces, punctuation that must not start a line), visual order of mixed-direction lines,
 * alignment and justification, and line heights that hold the glyphs' ink. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hb.h>

#include "check.h"
#include "fonts.h"
#include "hyphen.h"
#include "text.h"

static char warnings[4096];

static void collect(void *user, const char *msg)
{
    (void)user;
    strncat(warnings, msg, sizeof warnings - strlen(warnings) - 2);
    strcat(warnings, "\n");
}

static vip_paragraph *lay(vip_text *t, const char *lang, const char *s, vip_align align, double width,
                          vip_error *err)
{
    vip_text_style st = {.lang = lang, .size = 11, .align = align, .leading = 0.25};
    return vip_text_layout_paragraph(t, s, strlen(s), &st, NULL, 0, width, "test", err);
}

/* The first character of a line, as a UTF-8 string. */
static void first_char(const vip_paragraph *p, size_t line, char out[8])
{
    const char *s = p->text + p->lines[line].start;
    size_t n = 1;
    while (n < 4 && (s[n] & 0xC0) == 0x80)
        n++;
    memcpy(out, s, n);
    out[n] = '\0';
}

static double run_min_x(const vip_text_line *l)
{
    return l->run_count ? l->runs[0].x : 0;
}

static double run_max_x(const vip_text_line *l)
{
    return l->run_count ? l->runs[l->run_count - 1].x + l->runs[l->run_count - 1].width : 0;
}

/* Whether two laid-out paragraphs are the same, line by line and glyph by glyph. */
static int same_paragraph(const vip_paragraph *a, const vip_paragraph *b)
{
    if (!a || !b || a->line_count != b->line_count || a->length != b->length || a->height != b->height ||
        a->rtl != b->rtl || memcmp(a->text, b->text, a->length) != 0)
        return 0;
    for (size_t l = 0; l < a->line_count; l++) {
        const vip_text_line *x = &a->lines[l], *y = &b->lines[l];
        if (x->run_count != y->run_count || x->start != y->start || x->end != y->end || x->width != y->width ||
            x->ascent != y->ascent || x->descent != y->descent || x->leading != y->leading)
            return 0;
        for (size_t r = 0; r < x->run_count; r++) {
            const vip_text_run *u = &x->runs[r], *v = &y->runs[r];
            if (u->font != v->font || u->size != v->size || u->rtl != v->rtl || u->x != v->x ||
                u->width != v->width || u->start != v->start || u->end != v->end ||
                u->glyph_count != v->glyph_count || strcmp(u->script, v->script) != 0)
                return 0;
            for (size_t g = 0; g < u->glyph_count; g++) {
                const vip_text_glyph *m = &u->glyphs[g], *n = &v->glyphs[g];
                if (m->gid != n->gid || m->cluster != n->cluster || m->x_advance != n->x_advance ||
                    m->x_offset != n->x_offset || m->y_offset != n->y_offset || m->x != n->x || m->y != n->y ||
                    m->advance != n->advance)
                    return 0;
            }
        }
    }
    return 1;
}

/* The highest ink, in points, of the first run in script `script` of line 0, and that run's size. */
static double ink_top(const vip_paragraph *p, const char *script, double *size)
{
    for (size_t r = 0; p && p->line_count && r < p->lines[0].run_count; r++) {
        const vip_text_run *run = &p->lines[0].runs[r];
        if (strcmp(run->script, script))
            continue;
        double top = -1;
        for (size_t g = 0; g < run->glyph_count; g++) {
            hb_glyph_extents_t e;
            if (hb_font_get_glyph_extents(vip_font_hb_font(run->font), run->glyphs[g].gid, &e))
                top = fmax(top, e.y_bearing * run->size / vip_font_get_metrics(run->font)->upem + run->glyphs[g].y);
        }
        *size = run->size;
        return top;
    }
    *size = 0;
    return -1;
}

/* A word with its hyphenation points marked by '-' (code points in, UTF-8 out). */
static void hyphenated(vip_hyphen *h, const char *word, char *out, size_t cap)
{
    uint32_t cps[128];
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)word; *s && n < 128;) {
        uint32_t c = *s++;
        if (c >= 0xC0) {
            int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
            c &= 0x3F >> more;
            while (more-- && *s)
                c = (c << 6) | (*s++ & 0x3F);
        }
        cps[n++] = c;
    }
    unsigned char after[128];
    size_t len = 0;
    out[0] = '\0';
    if (!h || vip_hyphen_points(h, cps, n, after))
        return;
    for (size_t i = 0; i < n && len + 6 < cap; i++) {
        uint32_t c = cps[i];
        if (c < 0x80)
            out[len++] = (char)c;
        else if (c < 0x800) {
            out[len++] = (char)(0xC0 | (c >> 6));
            out[len++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[len++] = (char)(0xE0 | (c >> 12));
            out[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[len++] = (char)(0x80 | (c & 0x3F));
        }
        if (after[i])
            out[len++] = '-';
    }
    out[len] = '\0';
}

/* The text of line l, spaces at its end left out. */
static void line_text(const vip_paragraph *p, size_t l, char *out, size_t cap)
{
    size_t a = p->lines[l].start, b = p->lines[l].end;
    while (b > a && p->text[b - 1] == ' ')
        b--;
    snprintf(out, cap, "%.*s", (int)(b - a), p->text + a);
}

int main(void)
{
    vip_error err = {0};
    vip_fontset *fonts = vip_fontset_load("fonts/manifest", &err);
    if (!fonts) {
        printf("FAIL fonts: %s\n", err.message);
        return 1;
    }
    vip_text *t = vip_text_create(fonts, &err);
    vip_text_set_warnings(t, (vip_warn_sink){collect, NULL});
    vip_paragraph *p;

    /* Bad input. */
    p = lay(t, "en", "abc\xC3(def", VIP_ALIGN_START, 300, &err);
    CHECK("utf8.invalid_rejected", !p && err.code == VIP_ERR_INPUT && strstr(err.message, "byte offset 3"),
          "got: %s", p ? "a paragraph" : err.message);
    vip_paragraph_destroy(p);
    p = lay(t, "en", "\xE0\x80\xAF overlong", VIP_ALIGN_START, 300, &err);
    CHECK("utf8.overlong_rejected", !p && strstr(err.message, "byte offset 0"), "got: %s", err.message);
    vip_paragraph_destroy(p);
    p = lay(t, "de", "Hallo", VIP_ALIGN_START, 300, &err);
    CHECK("lang.unknown_lists_supported", !p && strstr(err.message, "'de'") && strstr(err.message, "zh-Hans") &&
          strstr(err.message, "ur"), "got: %s", err.message);
    vip_paragraph_destroy(p);
    p = lay(t, "zh-CN", "中文", VIP_ALIGN_START, 300, &err);
    CHECK("lang.alias_zh_CN", p != NULL, "%s", err.message);
    vip_paragraph_destroy(p);

    /* A character no font has: a warning naming it and its offset, and a visible .notdef glyph. */
    warnings[0] = '\0';
    p = lay(t, "en", "ab \xF0\x93\x80\x80 cd", VIP_ALIGN_START, 300, &err); /* U+13000 EGYPTIAN HIEROGLYPH */
    CHECK("missing_glyph.warned", p && strstr(warnings, "U+13000") && strstr(warnings, "byte offset 3"),
          "warnings: %s", warnings);
    int notdef = 0;
    for (size_t r = 0; p && r < p->lines[0].run_count; r++)
        for (size_t g = 0; g < p->lines[0].runs[r].glyph_count; g++)
            notdef += p->lines[0].runs[r].glyphs[g].gid == 0;
    CHECK("missing_glyph.drawn_as_notdef", notdef == 1, "%d .notdef glyphs", notdef);
    vip_paragraph_destroy(p);
    warnings[0] = '\0';
    p = lay(t, "fa", "می\u200cگیرید", VIP_ALIGN_START, 300, &err);
    CHECK("zwnj.no_warning", p && warnings[0] == '\0', "warnings: %s", warnings);
    vip_paragraph_destroy(p);

    /* Chinese breaks between ideographs, never before closing punctuation. */
    const char *zh = "根据《犯罪受害者行为守则》，您有权被转介至为受害者提供支持的服务机构，有权了解调查情况，"
                     "有权作出受害者个人陈述，并有权获知案件结果。如果您在理解或表达方面需要帮助，我们将免费为您安排"
                     "口译员。您的案件编号是NC/2024/012345。";
    int bad_start = 0, lines_ok = 1;
    size_t nlines = 0;
    for (double w = 60; w <= 200; w += 7) {
        p = lay(t, "zh-Hans", zh, VIP_ALIGN_START, w, &err);
        if (!p) {
            lines_ok = 0;
            break;
        }
        nlines += p->line_count;
        for (size_t l = 1; l < p->line_count; l++) {
            char c[8];
            first_char(p, l, c);
            if (strstr("，。、：；！？」）》", c)) {
                bad_start++;
                printf("INFO width %.0f: line %zu starts with %s\n", w, l, c);
            }
        }
        for (size_t l = 0; l < p->line_count; l++)
            if (p->lines[l].width > w + 1e-6 && p->lines[l].end - p->lines[l].start > 3)
                lines_ok = 0;
        vip_paragraph_destroy(p);
    }
    CHECK("zh.breaks_without_spaces", lines_ok && nlines > 40, "lines: %zu", nlines);
    CHECK("zh.no_line_starts_with_closing_punctuation", bad_start == 0, "%d lines do", bad_start);

    /* Mixed directions: in an RTL paragraph the first Arabic word is rightmost, the crime reference reads
     * left to right as one run, and START alignment is the right edge. */
    const char *ar = "الرقم المرجعي هو NC/2024/012345 شكرا";
    p = lay(t, "ar", ar, VIP_ALIGN_START, 400, &err);
    CHECK("ar.laid_out", p && p->rtl && p->line_count == 1, "%s", p ? "wrong shape" : err.message);
    if (p && p->line_count == 1) {
        const vip_text_line *l = &p->lines[0];
        const vip_text_run *right = &l->runs[l->run_count - 1], *left = &l->runs[0];
        CHECK("ar.first_word_rightmost", right->rtl && right->start == 0, "rightmost run starts at %u",
              right->start);
        CHECK("ar.last_word_leftmost", left->rtl && left->end == strlen(ar), "leftmost run ends at %u", left->end);
        int ref_ltr = 0;
        for (size_t r = 0; r < l->run_count; r++)
            if (!l->runs[r].rtl && strncmp(p->text + l->runs[r].start, "NC/2024/012345", 14) == 0 &&
                l->runs[r].glyphs[0].cluster == l->runs[r].start)
                ref_ltr = 1;
        CHECK("ar.reference_ltr_run", ref_ltr, "no LTR run starting with the reference");
        CHECK("ar.start_is_right_edge", fabs(run_max_x(l) - 400) < 1e-6, "right edge at %f", run_max_x(l));
    }
    vip_paragraph_destroy(p);
    p = lay(t, "en", "Reference NC/2024/012345", VIP_ALIGN_END, 400, &err);
    CHECK("en.end_is_right_edge", p && fabs(run_max_x(&p->lines[0]) - 400) < 1e-6, "misaligned");
    vip_paragraph_destroy(p);
    p = lay(t, "ar", ar, VIP_ALIGN_END, 400, &err);
    CHECK("ar.end_is_left_edge", p && fabs(run_min_x(&p->lines[0])) < 1e-6, "misaligned");
    vip_paragraph_destroy(p);
    p = lay(t, "en", "Centred", VIP_ALIGN_CENTER, 400, &err);
    CHECK("en.center", p && fabs(run_min_x(&p->lines[0]) - (400 - run_max_x(&p->lines[0]))) < 1e-6,
          "not centred");
    vip_paragraph_destroy(p);

    /* Justification fills every line but the last, in space-separated and in Chinese text. */
    const char *en = "Under the Code of Practice for Victims of Crime you have the right to be referred to services "
                     "that support victims, to be told about the investigation, to make a Victim Personal Statement "
                     "and to be told the outcome of the case.";
    const struct {
        const char *lang, *text;
    } just[] = {{"en", en}, {"zh-Hans", zh}, {"ar", "بموجب مدونة الممارسات الخاصة بضحايا الجرائم، يحق لك أن تُحالي "
                                                    "إلى الخدمات التي تدعم الضحايا، وأن تُبلَّغي بسير التحقيق."}};
    for (size_t j = 0; j < 3; j++) {
        p = lay(t, just[j].lang, just[j].text, VIP_ALIGN_JUSTIFY, 200, &err);
        int full = p && p->line_count > 2;
        for (size_t l = 0; full && l + 1 < p->line_count; l++) {
            const vip_text_line *ln = &p->lines[l];
            if (fabs(run_min_x(ln)) > 1e-6 || fabs(run_max_x(ln) - 200) > 1e-3) {
                printf("INFO %s line %zu spans %f..%f\n", just[j].lang, l, run_min_x(ln), run_max_x(ln));
                full = 0;
            }
        }
        char name[64];
        snprintf(name, sizeof name, "justify.%s.lines_fill_width", just[j].lang);
        CHECK(name, full, "justified lines do not fill the width");
        vip_paragraph_destroy(p);
    }

    /* Line spacing and ink: the paragraph's box holds its ink (the first line's ascent what its glyphs reach above,
     * the last line's descent what they reach below), and no line's ink comes within 0.1 em of the next line's
     * where the two overlap across the page; Nastaliq's lines are brought closer than its tallest and deepest ink
     * would put them, Latin lines are spaced by the font's metrics. */
    p = lay(t, "ur", "متاثرینِ جرم کے ضابطۂ عمل کے تحت آپ کو یہ حق حاصل ہے کہ آپ کو متاثرین کی مدد کرنے والی خدمات "
                     "کے پاس بھیجا جائے، تفتیش کے بارے میں بتایا جائے۔ اگر آپ کو ضرورت ہو تو ہم آپ کے لیے "
                     "مفت ترجمان کا انتظام کریں گے، اور آپ کو اپنے مقدمے کی ہر اہم پیش رفت سے آگاہ رکھا جائے گا۔",
            VIP_ALIGN_START, 250, &err);
    int ink_ok = p && p->line_count > 2, clear = 1;
    double max_top = 0, max_bottom = 0, baseline = 0;
    typedef struct { double x0, x1, top, bottom, base; } inkbox;
    static inkbox boxes[2][512];
    size_t nbox[2] = {0, 0};
    for (size_t l = 0; ink_ok && l < p->line_count; l++) {
        const vip_text_line *ln = &p->lines[l];
        if (l)
            baseline += p->lines[l - 1].descent + p->lines[l - 1].leading + ln->ascent;
        inkbox *cur = boxes[l & 1];
        nbox[l & 1] = 0;
        for (size_t r = 0; r < ln->run_count; r++) {
            const vip_text_run *run = &ln->runs[r];
            double scale = run->size / vip_font_get_metrics(run->font)->upem;
            for (size_t g = 0; g < run->glyph_count && nbox[l & 1] < 512; g++) {
                hb_glyph_extents_t e;
                if (!hb_font_get_glyph_extents(vip_font_hb_font(run->font), run->glyphs[g].gid, &e) || !e.width ||
                    !e.height)
                    continue;
                inkbox *b = &cur[nbox[l & 1]++];
                b->x0 = run->x + run->glyphs[g].x + e.x_bearing * scale;
                b->x1 = b->x0 + e.width * scale;
                b->top = run->glyphs[g].y + e.y_bearing * scale;
                b->bottom = -(run->glyphs[g].y + (e.y_bearing + e.height) * scale);
                b->base = baseline;
                max_top = fmax(max_top, b->top);
                max_bottom = fmax(max_bottom, b->bottom);
                if ((l == 0 && b->top > ln->ascent + 1e-6) || (l + 1 == p->line_count && b->bottom > ln->descent + 1e-6))
                    ink_ok = 0;
            }
        }
        if (l)
            for (size_t a = 0; a < nbox[(l - 1) & 1]; a++)
                for (size_t b = 0; b < nbox[l & 1]; b++) {
                    const inkbox *u = &boxes[(l - 1) & 1][a], *v = &cur[b];
                    if (u->x1 > v->x0 && v->x1 > u->x0 && (u->base + u->bottom) + 0.1 * 11 - 1e-6 > v->base - v->top)
                        clear = 0;
                }
    }
    CHECK("ur.paragraph_box_holds_ink", ink_ok, "the first line's ink reaches above its ascent or the last's below");
    CHECK("ur.lines_ink_clear_of_each_other", ink_ok && clear, "ink of adjacent lines comes within 0.1 em");
    double pitch = p && p->line_count > 1 ? p->lines[0].ascent + p->lines[0].descent : 0;
    CHECK("ur.lines_closer_than_ink_extremes", pitch > 0 && pitch < max_top + max_bottom - 0.5,
          "pitch %.2f pt, ink extremes %.2f pt", pitch, max_top + max_bottom);
    CHECK("ur.taller_than_latin", p && p->lines[0].ascent + p->lines[0].descent > 11 * 1.8, "line height %f",
          p ? p->lines[0].ascent + p->lines[0].descent : 0);
    vip_paragraph_destroy(p);

    /* A word wider than the line is cut between graphemes, never inside one. */
    p = lay(t, "pa", "ਕਿਰਪਾਕਰਕੇਪ੍ਰਾਪਤੀਦੀਪੁਸ਼ਟੀਕਰੋਕਿਰਪਾਕਰਕੇਪ੍ਰਾਪਤੀਦੀਪੁਸ਼ਟੀਕਰੋ", VIP_ALIGN_START, 60, &err);
    int cut_ok = p && p->line_count > 1;
    for (size_t l = 1; cut_ok && l < p->line_count; l++) {
        unsigned char c0 = (unsigned char)p->text[p->lines[l].start + 2];
        /* Gurmukhi vowel signs and virama (U+0A3C..U+0A4D) never start a line. */
        unsigned cp = 0x0A00 | ((unsigned)(unsigned char)p->text[p->lines[l].start + 1] & 0x3) << 6 | (c0 & 0x3F);
        if (cp >= 0x0A3C && cp <= 0x0A4D)
            cut_ok = 0;
    }
    CHECK("pa.long_word_cut_between_graphemes", cut_ok, "a line starts with a combining sign");
    vip_paragraph_destroy(p);

    /* A hard line break ends a line. */
    p = lay(t, "en", "first\nsecond", VIP_ALIGN_START, 400, &err);
    CHECK("hard_break", p && p->line_count == 2, "%zu lines", p ? p->line_count : 0);
    vip_paragraph_destroy(p);
    p = lay(t, "en", "", VIP_ALIGN_START, 400, &err);
    CHECK("empty_paragraph", p && p->line_count == 1 && p->lines[0].ascent > 0, "%s", err.message);
    vip_paragraph_destroy(p);

    /* Justification widens spaces, but not the no-break spaces that hold a phone number's groups together. */
    {
        const char *s = "You can call the free Supportline on 08\u00A008\u00A016\u00A089\u00A0111 at any time of day or "
                        "night, and you can also visit the website to find out more about the help you can get.";
        p = lay(t, "en", s, VIP_ALIGN_JUSTIFY, 230, &err);
        int found = 0, even = 1;
        for (size_t l = 0; p && l + 1 < p->line_count; l++)
            for (size_t r = 0; r < p->lines[l].run_count; r++) {
                const vip_text_run *run = &p->lines[l].runs[r];
                for (size_t g = 0; g + 1 < run->glyph_count; g++) {
                    const char *c = p->text + run->glyphs[g].cluster;
                    if ((unsigned char)c[0] == 0xC2 && (unsigned char)c[1] == 0xA0) {
                        found++;
                        double gap = run->glyphs[g + 1].x - run->glyphs[g].x;
                        if (fabs(gap - run->glyphs[g].advance) > 1e-6)
                            even = 0;
                    }
                }
            }
        CHECK("justify.number_groups_keep_their_spacing", found == 4 && even,
              "%d no-break spaces on justified lines, widened: %s", found, even ? "no" : "yes");
        vip_paragraph_destroy(p);
    }

    /* Reuse: a paragraph laid out again comes from the context's cache, identical to one laid out afresh, and a
     * copy of its own (destroying one leaves the other whole); a cache too small to keep anything still gives the
     * same layouts while it drops paragraphs (under AddressSanitizer, this checks what eviction frees). */
    {
        const char *mixed = "رقم الجريمة NC/2024/012345 لدى الشرطة، والضابط Daniel Okafor يتابع القضية معك.";
        vip_text *fresh = vip_text_create(fonts, &err), *tiny = vip_text_create(fonts, &err);
        vip_text_set_cache_limit(tiny, 0);
        vip_paragraph *first = lay(t, "ar", mixed, VIP_ALIGN_JUSTIFY, 160, &err);
        vip_paragraph *again = lay(t, "ar", mixed, VIP_ALIGN_JUSTIFY, 160, &err);
        vip_paragraph *afresh = lay(fresh, "ar", mixed, VIP_ALIGN_JUSTIFY, 160, &err);
        vip_paragraph *narrower = lay(t, "ar", mixed, VIP_ALIGN_JUSTIFY, 120, &err);
        CHECK("cache.hit_same_as_fresh", same_paragraph(again, afresh) && same_paragraph(first, afresh),
              "a cached layout differs");
        CHECK("cache.width_is_part_of_the_key", narrower && afresh && narrower->line_count > afresh->line_count,
              "%zu vs %zu lines", narrower ? narrower->line_count : 0, afresh ? afresh->line_count : 0);
        vip_paragraph_destroy(first);
        CHECK("cache.copies_are_independent", same_paragraph(again, afresh), "destroying one copy changed another");
        int all_same = 1;
        for (int i = 0; i < 40 && all_same; i++) {
            char text[160];
            snprintf(text, sizeof text, "Paragraph %d of a long batch, with enough words to break over lines.", i);
            vip_paragraph *x = lay(tiny, "en", text, VIP_ALIGN_START, 120, &err);
            vip_paragraph *y = lay(fresh, "en", text, VIP_ALIGN_START, 120, &err);
            all_same = same_paragraph(x, y);
            vip_paragraph_destroy(x);
            vip_paragraph_destroy(y);
        }
        vip_paragraph *evicted = lay(tiny, "ar", mixed, VIP_ALIGN_JUSTIFY, 160, &err);
        CHECK("cache.bounded_cache_same_layouts", all_same && same_paragraph(evicted, afresh),
              "a layout from a cache that drops paragraphs differs");
        vip_paragraph_destroy(again);
        vip_paragraph_destroy(afresh);
        vip_paragraph_destroy(narrower);
        vip_paragraph_destroy(evicted);
        vip_text_destroy(fresh);
        vip_text_destroy(tiny);
    }

    /* Arabic script reads the size of the Latin beside it (font-size-adjust by x-height): Naskh's heh stands as
     * tall as Latin's x, in both weights; Nastaliq's letter bodies never stand lower than x. */
    {
        double xs, hs, bs, ns;
        p = lay(t, "ar", "\xD9\x87 x", VIP_ALIGN_START, 300, &err);
        double x_top = ink_top(p, "Latn", &xs), heh_top = ink_top(p, "Arab", &hs);
        CHECK("size_adjust.latin_at_style_size", xs == 11, "Latin run at %.3f pt", xs);
        CHECK("size_adjust.naskh_heh_as_tall_as_x", x_top > 0 && fabs(heh_top - x_top) < 0.02 * x_top && hs > 13,
              "heh %.3f pt high at %.3f pt, x %.3f pt high at %.3f pt", heh_top, hs, x_top, xs);
        vip_paragraph_destroy(p);
        vip_text_style bold = {.lang = "fa", .size = 11, .leading = 0.25, .weight = VIP_WEIGHT_BOLD};
        p = vip_text_layout_paragraph(t, "\xD9\x87", 2, &bold, NULL, 0, 300, "test", &err);
        ink_top(p, "Arab", &bs);
        CHECK("size_adjust.bold_same_factor", bs == hs, "bold Naskh at %.3f pt, regular at %.3f pt", bs, hs);
        vip_paragraph_destroy(p);
        p = lay(t, "ur", "\xD8\xB5 x", VIP_ALIGN_START, 300, &err);
        double sad_top = ink_top(p, "Arab", &ns);
        x_top = ink_top(p, "Latn", &xs);
        CHECK("size_adjust.nastaliq_not_smaller", ns >= 11 && sad_top >= x_top, "sad %.3f pt high at %.3f pt, x %.3f",
              sad_top, ns, x_top);
        vip_paragraph_destroy(p);
    }

    /* Characters common to all scripts take the font of the run they stand in, or the common (Latin) font where
     * that has none, never the font of another language of the script: no Nastaliq in Farsi or Arabic text. */
    for (int l = 0; l < 2; l++) {
        const char *lang = l ? "ar" : "fa";
        p = lay(t, lang, "\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 (\xD8\xA7\xD9\x84\xD9\x81) \xE2\x80\x93 "
                         "\xD8\xA8/\xD8\xAC - 12\xD8\x8C 3", VIP_ALIGN_START, 400, &err);
        char bad[256] = "";
        size_t common = 0;
        for (size_t li = 0; p && li < p->line_count; li++)
            for (size_t r = 0; r < p->lines[li].run_count; r++) {
                const vip_text_run *run = &p->lines[li].runs[r];
                for (size_t g = 0; g < run->glyph_count; g++) {
                    char c = p->text[run->glyphs[g].cluster];
                    if (strchr("()/-0123456789", c) || (unsigned char)c == 0xE2 || (unsigned char)c == 0xD8)
                        common++;
                    if (strcmp(vip_font_name(run->font), "naskh") && strcmp(vip_font_name(run->font), "sans") &&
                        strlen(bad) < 200)
                        snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s at byte %u; ",
                                 vip_font_name(run->font), run->glyphs[g].cluster);
                }
            }
        char name[64];
        snprintf(name, sizeof name, "common_chars.%s.naskh_or_sans_only", lang);
        CHECK(name, p && common >= 10 && !bad[0], "%s (%zu common glyphs)", bad, common);
        vip_paragraph_destroy(p);
    }

    /* Hyphenation points from Debian's patterns (libhyphen): British English, Polish (an ISO 8859-2 file),
     * Romanian; two letters at least before a hyphen, three after; none for a language without patterns. */
    {
        static const struct {
            const char *lang, *word, *want;
        } words[] = {
            {"en", "acknowledgement", "ac-know-ledge-ment"},
            {"en", "Investigating", "in-vest-ig-at-ing"},
            {"pl", "przestępstwa", "prze-stęp-stwa"},
            {"pl", "POLICJA", "po-li-cja"},
            {"ro", "infracțiunii", "in-frac-țiu-nii"},
        };
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            vip_hyphen *h = vip_hyphen_create(words[w].lang, &err);
            char got[256], name[96];
            hyphenated(h, words[w].word, got, sizeof got);
            for (char *c = got; *c; c++) /* the points, compared in lower case */
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            snprintf(name, sizeof name, "hyphen.points.%s.%s", words[w].lang, words[w].want);
            CHECK(name, h && strcmp(got, words[w].want) == 0, "got '%s' (%s)", got, h ? "" : err.message);
            vip_hyphen_destroy(h);
        }
        CHECK("hyphen.not_for_other_languages", !vip_hyphen_supported("ar") && !vip_hyphen_supported("zh-Hans") &&
              vip_hyphen_supported("pl"), "support differs");
    }

    /* Justified English, Polish and Romanian: a word that does not fit is hyphenated (a hyphen glyph after the
     * line's last letter, in that letter's cluster, so the text copies whole) instead of opening the spaces; never
     * a name, an address or a URL; Polish one-letter words stay with the next word, at every width. */
    {
        static const struct {
            const char *lang, *text;
        } paras[] = {
            {"en", "Unfortunately, investigating officers occasionally require additional documentation concerning "
                   "circumstances surrounding incidents; acknowledgement correspondence communicates responsibilities."},
            {"pl", "Funkcjonariusze prowadzący postępowanie przygotowawcze niezwłocznie poinformują pokrzywdzonego "
                   "o przysługujących uprawnieniach, a w szczególności o możliwości uzyskania odszkodowania."},
            {"ro", "Ofițerii care investighează infracțiunea vă vor informa despre drepturile dumneavoastră, inclusiv "
                   "despre posibilitatea obținerii despăgubirilor și a sprijinului specializat."},
        };
        for (size_t k = 0; k < 3; k++) {
            int hyphens = 0, bad_cluster = 0, widest_ok = 1, loose = 0;
            for (double width = 150; width <= 290; width += 10) { /* every word fits a line */
                p = lay(t, paras[k].lang, paras[k].text, VIP_ALIGN_JUSTIFY, width, &err);
                for (size_t l = 0; p && l + 1 < p->line_count; l++) {
                    const vip_text_line *ln = &p->lines[l];
                    const vip_text_run *last = &ln->runs[ln->run_count - 1];
                    const vip_text_glyph *g = last->glyph_count ? &last->glyphs[last->glyph_count - 1] : NULL;
                    /* A hyphenated line ends inside a word: its last character and the next line's first are
                     * letters. */
                    int inside = ln->end > 0 && ln->end < p->length && p->text[ln->end - 1] != ' ';
                    if (!inside)
                        continue;
                    hyphens++;
                    if (!g || last->glyph_count < 2 || g->cluster != last->glyphs[last->glyph_count - 2].cluster ||
                        g->cluster >= ln->end)
                        bad_cluster++;
                    /* Full, or (too loose: gaps over twice the space) start-aligned. */
                    if (fabs(run_max_x(ln) - width) > 1e-3 && (loose++, ln->runs[0].x > 1e-3))
                        widest_ok = 0;
                }
                vip_paragraph_destroy(p);
            }
            char name[64];
            snprintf(name, sizeof name, "hyphenate.%s.words_broken", paras[k].lang);
            CHECK(name, hyphens >= 5 && !bad_cluster && widest_ok,
                  "%d hyphenated lines, %d with the hyphen outside the last letter's cluster, all full or "
                  "start-aligned: %d, %d start-aligned", hyphens, bad_cluster, widest_ok, loose);
        }
        /* Not justified: no hyphenation. Names and addresses: never. */
        p = lay(t, "en", paras[0].text, VIP_ALIGN_START, 150, &err);
        int ragged_inside = 0;
        for (size_t l = 0; p && l + 1 < p->line_count; l++)
            ragged_inside += p->text[p->lines[l].end - 1] != ' ';
        CHECK("hyphenate.only_justified", p && !ragged_inside, "%d lines end inside a word", ragged_inside);
        vip_paragraph_destroy(p);
        const char *names = "Write to Northshire Constabulary Headquarters about victimsupport.org.uk/information "
                            "or investigations@northshire.police.example whenever possible.";
        int inside = 0;
        for (double width = 230; width <= 330; width += 5) { /* the longest address fits a line */
            p = lay(t, "en", names, VIP_ALIGN_JUSTIFY, width, &err);
            for (size_t l = 0; p && l + 1 < p->line_count; l++) {
                /* Broken inside a word (not after '/' or '.' of an address): the word must be neither a name
                 * (capitalised) nor part of an address. */
                size_t e = p->lines[l].end, a = e, z = e;
                if (p->text[e - 1] == ' ' || strchr("/.@", p->text[e - 1]))
                    continue;
                while (a > 0 && p->text[a - 1] != ' ')
                    a--;
                while (z < p->length && p->text[z] != ' ')
                    z++;
                int protected_word = p->text[a] >= 'A' && p->text[a] <= 'Z';
                for (size_t i = a; i < z; i++)
                    protected_word |= strchr("/@", p->text[i]) != NULL ||
                                      (p->text[i] == '.' && i + 1 < z && p->text[i + 1] != ' ');
                inside += protected_word;
            }
            vip_paragraph_destroy(p);
        }
        CHECK("hyphenate.not_names_or_addresses", inside == 0, "%d lines broken inside a name", inside);
        int single = 0;
        char where[600] = "";
        const char *pl = "Prosimy o kontakt w sprawie zgłoszenia i o podanie numeru, a także z innymi pytaniami "
                         "w dowolnym momencie u funkcjonariusza.";
        for (double width = 60; width <= 300; width += 3) {
            p = lay(t, "pl", pl, VIP_ALIGN_JUSTIFY, width, &err);
            for (size_t l = 0; p && l + 1 < p->line_count; l++) {
                char txt[512];
                line_text(p, l, txt, sizeof txt);
                size_t n = strlen(txt);
                if (n >= 2 && txt[n - 2] == ' ' && strchr("wziaou", txt[n - 1])) {
                    single++;
                    snprintf(where, sizeof where, "'%s' at %.0f pt", txt, width);
                }
            }
            vip_paragraph_destroy(p);
        }
        CHECK("polish.one_letter_words_with_next", single == 0, "%d lines end with a one-letter word: %s", single,
              where);
    }

    /* Chinese: justified between characters but never inside a Latin word; no paragraph ending on one
     * character; a date never broken inside. At every width from 100 to 300 pt. */
    {
        const char *zh_text = "如果您在2024年3月2日之后需要帮助，请联系Northshire Police的警官，或者拨打电话0300 555 "
                              "0152，我们会尽快回复您的问题并告诉您案件的进展情况和结果。";
        const char *date = strstr(zh_text, "2024");
        size_t date_from = (size_t)(date - zh_text), date_to = date_from + strlen("2024年3月2日");
        int spaced = 0, lone = 0, broken_date = 0, laid = 0;
        char where[256] = "";
        for (double width = 100; width <= 300; width += 2) {
            p = lay(t, "zh-Hans", zh_text, VIP_ALIGN_JUSTIFY, width, &err);
            if (!p)
                continue;
            laid++;
            for (size_t l = 0; l < p->line_count; l++) {
                const vip_text_line *ln = &p->lines[l];
                if (ln->start > date_from && ln->start < date_to) {
                    broken_date++;
                    snprintf(where, sizeof where, "date broken at %.0f pt", width);
                }
                for (size_t r = 0; r < ln->run_count; r++) {
                    const vip_text_run *run = &ln->runs[r];
                    for (size_t g = 1; g < run->glyph_count; g++) {
                        char a = p->text[run->glyphs[g - 1].cluster], b = p->text[run->glyphs[g].cluster];
                        int latin = ((a >= 'A' && a <= 'z') || (a >= '0' && a <= '9')) &&
                                    ((b >= 'A' && b <= 'z') || (b >= '0' && b <= '9'));
                        if (latin && fabs(run->glyphs[g].x - run->glyphs[g - 1].x - run->glyphs[g - 1].advance) > 1e-6) {
                            spaced++;
                            snprintf(where, sizeof where, "'%c%c' spaced at %.0f pt", a, b, width);
                        }
                    }
                }
            }
            /* The last line: at least two characters besides punctuation. */
            const vip_text_line *last = &p->lines[p->line_count - 1];
            int chars = 0;
            for (size_t i = last->start; i < last->end;) {
                unsigned char c = (unsigned char)p->text[i];
                size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
                chars += !(n == 3 && (unsigned char)p->text[i + 1] == 0x80 && (unsigned char)p->text[i + 2] == 0x82) &&
                         !(n == 3 && (unsigned char)p->text[i] == 0xEF && (unsigned char)p->text[i + 1] == 0xBC) &&
                         c != ' ';
                i += n;
            }
            if (p->line_count > 1 && chars < 2) {
                lone++;
                snprintf(where, sizeof where, "last line of %d character at %.0f pt", chars, width);
            }
            vip_paragraph_destroy(p);
        }
        CHECK("chinese.latin_not_letter_spaced", laid == 101 && spaced == 0, "%d gaps (%s)", spaced, where);
        CHECK("chinese.no_lone_last_character", laid == 101 && lone == 0, "%d paragraphs (%s)", lone, where);
        CHECK("chinese.date_not_broken", laid == 101 && broken_date == 0, "%d lines (%s)", broken_date, where);
    }

    /* A URL or an email address breaks only after '/' or '.', never at a hyphen (at every width where its parts
     * fit a line). */
    {
        const char *url = "Read more at https://www.north-shire-police.example.org/victim-support/after-a-crime or "
                          "write to victim-care@north-shire-police.example.org today.";
        int bad = 0;
        char where[300] = "";
        for (double width = 250; width <= 400; width += 3) { /* the address fits a line */
            p = lay(t, "en", url, VIP_ALIGN_START, width, &err);
            for (size_t l = 0; p && l + 1 < p->line_count; l++) {
                char c = p->text[p->lines[l].end - 1];
                if (c != ' ' && c != '/' && c != '.') {
                    bad++;
                    snprintf(where, sizeof where, "line ends '%c' at %.0f pt", c, width);
                }
            }
            vip_paragraph_destroy(p);
        }
        CHECK("url.breaks_only_after_slash_or_dot", bad == 0, "%d lines (%s)", bad, where);
    }

    /* The same in Chinese, where the address follows ideographs with no space and a phone number's groups are a
     * no-break space apart: the ideographs break as ever (nothing is cut for want of a break), the address only
     * after its dots. */
    {
        const char *text = "\xE5\x8F\x8D\xE6\xAC\xBA\xE8\xAF\x88\xE4\xB8\xBE\xE6\x8A\xA5\xE4\xB8\xAD"
                           "\xE5\xBF\x83\xEF\xBC\x88" "Action Fraud\xEF\xBC\x89\xEF\xBC\x8C\xE4\xB8\xBE\xE6\x8A"
                           "\xA5\xE8\xAF\x88\xE9\xAA\x97\xEF\xBC\x9A" "0300\xC2\xA0" "123\xC2\xA0" "2040"
                           "\xEF\xBC\x8C" "actionfraud.police.uk";
        int cut = 0, bad = 0;
        char where[300] = "";
        for (double width = 130; width <= 400; width += 7) { /* the address fits a line */
            p = lay(t, "zh-Hans", text, VIP_ALIGN_START, width, &err);
            if (p && p->overflow > 0) {
                cut++;
                snprintf(where, sizeof where, "%.1f pt over at %.0f pt", p->overflow, width);
            }
            for (size_t l = 0; p && l + 1 < p->line_count; l++) {
                const char *end = p->text + p->lines[l].end, *url = strstr(p->text, "actionfraud");
                if (end > url && end < url + strlen(url) && end[-1] != '.') {
                    bad++;
                    snprintf(where, sizeof where, "line ends inside the address at %.0f pt", width);
                }
            }
            vip_paragraph_destroy(p);
        }
        CHECK("url.chinese_whole_nothing_cut", cut == 0 && bad == 0, "%d cut, %d broken (%s)", cut, bad, where);
    }

    /* Phone numbers and digits in Arabic-script text: European digits in one font (the common one), and the
     * no-break spaces between a number's groups as wide as that font's, not Nastaliq's 1.5 pt. */
    for (int l = 0; l < 3; l++) {
        static const char *const langs[] = {"ur", "fa", "ar"};
        const char *text = "\xD9\x81\xD9\x88\xD9\x86 08\xC2\xA0" "08 16\xC2\xA0" "89\xC2\xA0" "111 "
                           "\xD9\x81\xD9\x88\xD9\x86 2024";
        p = lay(t, langs[l], text, VIP_ALIGN_START, 400, &err);
        int digits = 0, other_font = 0, narrow = 0;
        for (size_t li = 0; p && li < p->line_count; li++)
            for (size_t r = 0; r < p->lines[li].run_count; r++) {
                const vip_text_run *run = &p->lines[li].runs[r];
                for (size_t g = 0; g < run->glyph_count; g++) {
                    unsigned char c = (unsigned char)p->text[run->glyphs[g].cluster];
                    int nbsp = c == 0xC2 && (unsigned char)p->text[run->glyphs[g].cluster + 1] == 0xA0;
                    if ((c >= '0' && c <= '9') || nbsp) {
                        digits += !nbsp;
                        other_font += strcmp(vip_font_name(run->font), "sans") != 0;
                        narrow += nbsp && run->glyphs[g].advance < 0.2 * 11;
                    }
                }
            }
        char name[64];
        snprintf(name, sizeof name, "digits.%s.one_font_and_wide_spaces", langs[l]);
        CHECK(name, p && digits == 15 && !other_font && !narrow, "%d digits, %d glyphs in another font, %d narrow "
              "spaces", digits, other_font, narrow);
        vip_paragraph_destroy(p);
    }

    vip_text_destroy(t);
    vip_fontset_destroy(fonts);
    return CHECK_DONE();
}
