/* Justified Arabic, Farsi and Urdu through the real text engine: on every line but a paragraph's last, no word gap
 * wider than 1.5 times the space; the line fills the width, or, where spaces and kashidas cannot fill it, is set
 * start-aligned (at the right edge) with its natural spaces. Kashidas (tatweel glyphs) only in Arabic and Farsi,
 * one per word at most, between two letters that join (the first in its initial or medial form), never beside a
 * mark, never between lam and alef; and HarfBuzz, given the same word with a tatweel typed at that place, shapes
 * exactly the glyphs drawn (the letters keep their forms, the join stays continuous). The priorities of kashida
 * places (kashida.h) on words whose joins ICU's joining types give. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hb.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "check.h"
#include "fonts.h"
#include "kashida.h"
#include "text.h"

/* The code point at byte offset off of s, and its length in bytes. */
static uint32_t cp_at(const char *s, size_t off, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s + off;
    uint32_t c = p[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > 1)
        c &= 0x3F >> (n - 1);
    for (size_t k = 1; k < n; k++)
        c = (c << 6) | (p[k] & 0x3F);
    *len = n;
    return c;
}

static size_t decode(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0, len;
    for (size_t off = 0; s[off] && n < cap; off += len)
        out[n++] = cp_at(s, off, &len);
    return n;
}

static int joining(uint32_t cp)
{
    return u_getIntPropertyValue((UChar32)cp, UCHAR_JOINING_TYPE);
}

static int group(uint32_t cp)
{
    return u_getIntPropertyValue((UChar32)cp, UCHAR_JOINING_GROUP);
}

/* Where ICU's joining types say character i - 1 joins character i (no marks in these words). */
static void joins(const uint32_t *cp, size_t n, uint8_t *eligible)
{
    for (size_t i = 0; i < n; i++)
        eligible[i] = i > 0 && (joining(cp[i - 1]) == U_JT_DUAL_JOINING) &&
                      (joining(cp[i]) == U_JT_DUAL_JOINING || joining(cp[i]) == U_JT_RIGHT_JOINING);
}

/* The place chosen in a one-word text: "index:priority", or "none". */
static void place_of(const char *word, char *out, size_t cap)
{
    uint32_t cp[64];
    uint8_t eligible[64], place[64];
    size_t n = decode(word, cp, 64);
    joins(cp, n, eligible);
    vip_kashida_places(cp, n, eligible, place);
    snprintf(out, cap, "none");
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (place[i])
            used += (size_t)snprintf(out + used, cap - used, "%s%zu:%d", used ? " " : "", i, place[i]);
}

typedef struct figures {
    size_t lines, by_spaces, with_kashida, start_aligned, kashidas;
} figures;

/* The tatweel glyph of a run's font, 0 when it has none. */
static uint32_t tatweel_of(const vip_text_run *r)
{
    hb_codepoint_t g = 0;
    return hb_font_get_nominal_glyph(vip_font_hb_font(r->font), 0x640, &g) ? g : 0;
}

static int is_kashida_glyph(const vip_paragraph *p, const vip_text_run *r, const vip_text_glyph *g)
{
    size_t len;
    uint32_t t = tatweel_of(r);
    return t && g->gid == t && cp_at(p->text, g->cluster, &len) != 0x640;
}

/* HarfBuzz's glyphs for the word of run r around byte c with a tatweel typed after the character at c, against the
 * glyphs drawn for that word (a kashida's several tatweels counted as one). */
static int shaped_alike(const vip_paragraph *p, const vip_text_run *r, uint32_t c, char *why, size_t cap)
{
    size_t w0 = c, w1 = c, len;
    while (w0 > r->start && p->text[w0 - 1] != ' ')
        w0--;
    while (w1 < r->end && p->text[w1] != ' ')
        w1++;
    cp_at(p->text, c, &len);
    char word[512];
    int n = snprintf(word, sizeof word, "%.*s\xD9\x80%.*s", (int)(c + len - w0), p->text + w0,
                     (int)(w1 - (c + len)), p->text + c + len);
    if (n < 0 || (size_t)n >= sizeof word)
        return 0;
    hb_buffer_t *b = hb_buffer_create();
    hb_buffer_add_utf8(b, word, -1, 0, -1);
    hb_buffer_set_direction(b, HB_DIRECTION_RTL);
    hb_buffer_set_script(b, HB_SCRIPT_ARABIC);
    hb_buffer_set_language(b, hb_language_from_string(r->lang, -1));
    hb_buffer_set_flags(b, HB_BUFFER_FLAG_REMOVE_DEFAULT_IGNORABLES);
    hb_shape(vip_font_hb_font(r->font), b, NULL, 0);
    unsigned count;
    hb_glyph_info_t *info = hb_buffer_get_glyph_infos(b, &count);
    uint32_t drawn[256];
    size_t nd = 0;
    for (size_t g = 0; g < r->glyph_count && nd < 256; g++) {
        const vip_text_glyph *gl = &r->glyphs[g];
        if (gl->cluster < w0 || gl->cluster >= w1)
            continue;
        if (nd && is_kashida_glyph(p, r, gl) && drawn[nd - 1] == gl->gid)
            continue;
        drawn[nd++] = gl->gid;
    }
    int same = nd == count;
    for (size_t g = 0; same && g < count; g++)
        same = drawn[g] == info[g].codepoint;
    if (!same)
        snprintf(why, cap, "'%.160s': %zu glyphs drawn, HarfBuzz gives %u", word, nd, count);
    hb_buffer_destroy(b);
    return same;
}

/* Checks every line but the last of a justified paragraph; adds to the figures; returns the first problem found
 * (empty when none). */
static void check_paragraph(const vip_paragraph *p, double width, int kashida_allowed, figures *f, char *why,
                            size_t cap)
{
    for (size_t l = 0; l + 1 < p->line_count && !why[0]; l++) {
        const vip_text_line *line = &p->lines[l];
        f->lines++;
        /* Pen positions across the line, in visual order. */
        double pen[1024], adv[1024];
        int space[1024];
        size_t n = 0, tatweels = 0, len;
        uint32_t last_word_end = UINT32_MAX; /* one kashida per word: the byte after the last kashida's word */
        for (size_t r = 0; r < line->run_count; r++) {
            const vip_text_run *run = &line->runs[r];
            double scale = run->size / vip_font_get_metrics(run->font)->upem;
            for (size_t g = 0; g < run->glyph_count && n < 1024; g++, n++) {
                const vip_text_glyph *gl = &run->glyphs[g];
                pen[n] = run->x + gl->x - gl->x_offset * scale;
                adv[n] = gl->advance;
                space[n] = cp_at(p->text, gl->cluster, &len) == ' ';
                if (!is_kashida_glyph(p, run, gl))
                    continue;
                tatweels++;
                if (g > 0 && is_kashida_glyph(p, run, &run->glyphs[g - 1]))
                    continue; /* the same kashida */
                f->kashidas++;
                size_t la, lb;
                uint32_t a = cp_at(p->text, gl->cluster, &la);
                uint32_t b = cp_at(p->text, gl->cluster + la, &lb);
                uint32_t after = gl->cluster + la + lb < p->length ? cp_at(p->text, gl->cluster + la + lb, &len) : ' ';
                UErrorCode st = U_ZERO_ERROR;
                if (!kashida_allowed || strcmp(run->lang, "ur") == 0)
                    snprintf(why, cap, "line %zu: a kashida in %s text", l, run->lang);
                else if (uscript_getScript((UChar32)a, &st) != USCRIPT_ARABIC || joining(a) != U_JT_DUAL_JOINING ||
                         (joining(b) != U_JT_DUAL_JOINING && joining(b) != U_JT_RIGHT_JOINING))
                    snprintf(why, cap, "line %zu: a kashida between U+%04X and U+%04X, which do not join", l, a, b);
                else if (joining(after) == U_JT_TRANSPARENT)
                    snprintf(why, cap, "line %zu: a kashida beside a mark (U+%04X U+%04X U+%04X)", l, a, b, after);
                else if (group(a) == U_JG_LAM && group(b) == U_JG_ALEF)
                    snprintf(why, cap, "line %zu: a kashida between lam and alef", l);
                else if (!shaped_alike(p, run, gl->cluster, why, cap))
                    ;
                else {
                    /* One per word: a word's kashidas would come one after another in visual order. */
                    size_t w1 = gl->cluster;
                    while (w1 < p->length && p->text[w1] != ' ')
                        w1++;
                    if (last_word_end == (uint32_t)w1)
                        snprintf(why, cap, "line %zu: two kashidas in one word", l);
                    last_word_end = (uint32_t)w1;
                }
            }
        }
        if (why[0])
            return;
        double left = line->run_count ? line->runs[0].x : 0;
        double right = line->run_count ? line->runs[line->run_count - 1].x + line->runs[line->run_count - 1].width : 0;
        double widest = 0;
        for (size_t k = 0; k + 1 < n; k++)
            if (space[k] && adv[k] > 0)
                widest = fmax(widest, (pen[k + 1] - pen[k]) / adv[k]);
        if (widest > 1.5 + 1e-6) {
            snprintf(why, cap, "line %zu: a word gap of %.3f spaces", l, widest);
            return;
        }
        int full = fabs(left) < 1e-6 && fabs(right - width) < 1e-3;
        int at_start = fabs(right - width) < 1e-3 && left > 1e-6 && widest < 1 + 1e-6 && tatweels == 0;
        if (!full && !at_start) {
            snprintf(why, cap, "line %zu spans %.3f..%.3f of %.1f (widest gap %.3f spaces, %zu tatweels)", l, left,
                     right, width, widest, tatweels);
            return;
        }
        if (at_start)
            f->start_aligned++;
        else if (tatweels)
            f->with_kashida++;
        else
            f->by_spaces++;
    }
}

int main(void)
{
    vip_error err = {0};
    char got[128];

    /* The priorities, on single words. */
    const struct {
        const char *word, *want, *why;
    } places[] = {
        {"الحصول", "4:1", "after sad, the best place"},
        {"سلام", "1:1", "after seen"},
        {"مكتبة", "4:2", "before a final teh marbuta"},
        {"کتاب", "2:3", "before a final alef (Farsi keheh, teh)"},
        {"كبير", "2:4", "before a medial yeh followed by a final reh"},
        {"فلان", "none", "never between lam and alef; alef does not join the noon"},
        {"مكتبة الحصول", "4:2 10:1", "one place per word"},
        {"Victim", "none", "not in Latin"},
    };
    for (size_t i = 0; i < sizeof places / sizeof *places; i++) {
        char name[96];
        place_of(places[i].word, got, sizeof got);
        snprintf(name, sizeof name, "kashida.place.%s", places[i].why);
        CHECK(name, strcmp(got, places[i].want) == 0, "'%s': %s, want %s", places[i].word, got, places[i].want);
    }
    CHECK("kashida.languages", vip_kashida_language("ar") && vip_kashida_language("fa") && !vip_kashida_language("ur") &&
          !vip_kashida_language("en"), "ar, fa only");

    vip_fontset *fonts = vip_fontset_load("fonts/manifest", &err);
    if (!fonts) {
        printf("FAIL fonts: %s\n", err.message);
        return 1;
    }
    vip_text *t = vip_text_create(fonts, &err);
    const struct {
        const char *lang, *text;
    } paras[] = {
        {"ar", "إذا توفي شخص بسبب جريمة، فلأفراد أسرته المقرّبين حقوق أيضاً. وإذا كان عمر الضحية أقل من 18 عاماً، "
               "فعادةً ما يحصل أحد والديها أو وليّ أمرها على المعلومات أيضاً. ويمكن أيضاً لأحد أفراد الأسرة أن ينوب "
               "عن الضحية إذا كانت لا تستطيع التواصل بسبب إعاقة أو إصابة خطيرة. يحق لك الحصول على الحقوق المعززة إذا "
               "كنت ضحية لإحدى أخطر الجرائم. ومنها العنف الأسري، وجرائم الكراهية، والجرائم الجنسية، والإرهاب، "
               "والاتجار بالبشر، والشروع في القتل، وبعض جرائم العنف الخطيرة الأخرى."},
        {"ar", "رقم الجريمة NC/2024/012345 لدى الشرطة، والضابط Daniel Okafor يتابع القضية معك. يمكنك الاتصال بخط الدعم "
               "المجاني على الرقم 08 08 16 89 111 أو زيارة victimsupport.org.uk في أي وقت تشاء."},
        {"fa", "اگر کسی بر اثر جرمی جان خود را از دست داده باشد، خانوادهٔ نزدیک او نیز حقوقی دارند. اگر قربانی زیر "
               "18 سال باشد، معمولاً پدر و مادر یا سرپرست او نیز اطلاعات دریافت می‌کنند. همچنین اگر قربانی به دلیل "
               "معلولیت یا آسیب شدید نتواند ارتباط برقرار کند، یکی از اعضای خانواده می‌تواند از طرف او اقدام کند. "
               "این جرایم شامل آزار خانگی، جرم ناشی از نفرت، جرایم جنسی، تروریسم، قاچاق انسان، اقدام به قتل و برخی "
               "دیگر از جرایم خشونت‌آمیز جدی است."},
        {"ur", "اگر کسی جرم کی وجہ سے کسی کی موت ہو گئی ہو تو اس کے قریبی اہلِ خانہ کے بھی حقوق ہیں۔ اگر متاثرہ شخص "
               "کی عمر 18 سال سے کم ہو تو عام طور پر اس کے والدین یا سرپرست کو بھی معلومات دی جاتی ہیں۔ اگر کوئی "
               "متاثرہ شخص کسی معذوری یا شدید چوٹ کی وجہ سے بات چیت نہ کر سکے تو خاندان کا کوئی فرد اس کی طرف سے کام "
               "کر سکتا ہے۔"},
    };
    figures total[3] = {{0}};
    for (size_t i = 0; i < sizeof paras / sizeof *paras; i++) {
        size_t li = strcmp(paras[i].lang, "ar") == 0 ? 0 : strcmp(paras[i].lang, "fa") == 0 ? 1 : 2;
        char why[256] = "";
        for (double width = 140; width <= 460 && !why[0]; width += 13) {
            for (int bold = 0; bold < 2 && !why[0]; bold++) {
                vip_text_style st = {.lang = paras[i].lang, .size = 11, .align = VIP_ALIGN_JUSTIFY, .leading = 0.25,
                                     .weight = bold ? VIP_WEIGHT_BOLD : VIP_WEIGHT_REGULAR};
                vip_paragraph *p = vip_text_layout_paragraph(t, paras[i].text, strlen(paras[i].text), &st, NULL, 0,
                                                             width, "test", &err);
                if (!p) {
                    snprintf(why, sizeof why, "width %.0f: %.200s", width, err.message);
                    break;
                }
                check_paragraph(p, width, li < 2, &total[li], why, sizeof why);
                if (why[0]) {
                    char at[64];
                    snprintf(at, sizeof at, " (width %.0f%s)", width, bold ? ", bold" : "");
                    strncat(why, at, sizeof why - strlen(why) - 1);
                }
                vip_paragraph_destroy(p);
            }
        }
        char name[64];
        snprintf(name, sizeof name, "justify.%s.%zu.gaps_fill_and_kashidas", paras[i].lang, i);
        CHECK(name, !why[0], "%s", why);
    }
    const char *langs[3] = {"ar", "fa", "ur"};
    for (size_t li = 0; li < 3; li++) {
        const figures *f = &total[li];
        printf("INFO justify.%s: %zu lines: %zu by spaces alone, %zu with kashida (%zu kashidas), %zu start-aligned\n",
               langs[li], f->lines, f->by_spaces, f->with_kashida, f->kashidas, f->start_aligned);
        char name[64];
        snprintf(name, sizeof name, "justify.%s.%s", langs[li], li < 2 ? "kashida_fills_most_lines" : "no_kashida");
        if (li < 2)
            CHECK(name, f->with_kashida > f->lines / 4 && f->start_aligned < f->lines / 4,
                  "%zu of %zu lines with kashida, %zu start-aligned", f->with_kashida, f->lines, f->start_aligned);
        else
            CHECK(name, f->kashidas == 0 && f->by_spaces > 0, "%zu kashidas, %zu lines by spaces", f->kashidas,
                  f->by_spaces);
    }
    vip_text_destroy(t);
    vip_fontset_destroy(fonts);
    return CHECK_DONE();
}
