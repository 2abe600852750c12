#include "text.h"

#include <hb.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "bidi.h"
#include "hyphen.h"
#include "kashida.h"
#include "lang.h"
#include "linebreak.h"

#define MAX_BREAKERS 8
#define MAX_HYPHENATORS 4
#define MAX_HYPHENATED_LINES 2  /* in a row */
#define HYPHEN_SLACK 1.0        /* a line is hyphenated only when it would otherwise leave this many ems free */
#define CACHE_BUCKETS 4096
#define CACHE_DEFAULT_LIMIT ((size_t)32 << 20) /* bytes of analyses and laid-out paragraphs */
#define CACHE_MAX_RESULTS 12              /* laid-out paragraphs kept per analysis */
#define NO_INK INT32_MIN                  /* a glyph whose extents the font cannot give */

typedef struct cached cached;

struct vip_text {
    const vip_fontset *fonts;
    hb_buffer_t *buffer;
    vip_warn_sink warn;
    unsigned warn_generation; /* counts vip_text_set_warnings calls: each sink hears of a character once */
    struct {
        const char *locale;
        vip_breaker *breaker;
    } breakers[MAX_BREAKERS];
    struct {
        const char *lang;
        vip_hyphen *hyphen;
    } hyphens[MAX_HYPHENATORS];
    /* Analysed paragraphs (bidi, runs, fonts, shaped glyphs, break opportunities: everything that does not
     * depend on the size or the width), each with the paragraphs laid out from it, in a hash table by text and
     * style, bounded in bytes, least recently used out first. A batch of letters repeats most paragraphs in
     * each of its languages, and fitting a document to its pages lays the same paragraphs out again at other
     * sizes. */
    cached *buckets[CACHE_BUCKETS];
    cached *lru_newest, *lru_oldest;
    size_t cache_bytes, cache_limit;
};

/* Shaped glyphs of one run or piece, in visual order, as HarfBuzz returned them. */
typedef struct shaped {
    hb_glyph_info_t *info;
    hb_glyph_position_t *pos;
    int32_t *ink;       /* per glyph: top and bottom of its outline (font units, y up), two entries; may be NULL */
    size_t count;
} shaped;

/* A run: a maximal stretch of characters with one bidi level, script, language, weight and font. */
typedef struct run {
    size_t first, last; /* character indices [first, last) */
    uint8_t level;
    UScriptCode script;
    const vip_lang *lang;
    const vip_font *font;
    shaped glyphs;
    int cluster_order;  /* +1: glyph clusters never decrease in visual order, -1: never increase, 0: neither */
} run;

/* Everything one paragraph's layout needs, freed in one place. */
typedef struct para {
    const char *text;
    size_t len;
    size_t n;               /* characters */
    uint32_t *cp;           /* code points */
    uint32_t *off;          /* byte offset of each character; off[n] = len */
    uint32_t *char_at;      /* character index of each byte */
    const vip_lang **lang;  /* per character */
    vip_weight *weight;     /* per character */
    UScriptCode *script;    /* per character, common/inherited resolved */
    const vip_font **font;  /* per character */
    uint8_t *level;         /* per character */
    double *width;          /* per character: advances of the glyphs of clusters starting there (points) */
    double *sum;            /* prefix sums of width, n + 1 entries */
    uint32_t *trim;         /* n + 1 entries: trim[i] ends the last character before i that does not hang at a
                             * line's end (0 when there is none), so a stretch is measured in constant time */
    run *runs;
    size_t run_count;
    vip_bidi *bidi;
    vip_break *breaks;      /* line-break opportunities, found on first use */
    size_t break_count;
    uint8_t *kashida;       /* per character: the priority of the kashida place joining it to the character before
                             * (see kashida.h), 0 where there is none; NULL in text without any */
    uint32_t *graphemes;    /* grapheme boundaries, found on first use (only for words wider than a line) */
    size_t grapheme_count;
    uint32_t *missing;      /* characters no font has, warned about again whenever the analysis is used again:
                             * each document (each row of a batch) hears of its own */
    size_t missing_count;
    unsigned warned_generation; /* the sink they were last told to */
} para;

/* A paragraph laid out from an analysis, kept for the next request with the same size, width and setting. */
typedef struct laid_out {
    double size, width, leading;
    vip_align align;
    vip_paragraph *paragraph; /* packed (see pack_paragraph) */
    size_t bytes;
} laid_out;

struct cached {
    uint64_t hash;
    unsigned char *key;     /* language, direction, weight, spans and text, as compared on lookup */
    size_t key_len;
    char *text;             /* the paragraph's own copy of its text, which p points into */
    para p;
    laid_out results[CACHE_MAX_RESULTS];
    size_t result_count, next_result;
    size_t bytes;           /* what it holds, for the cache's bound */
    cached *bucket_next, *newer, *older;
};

static void cached_free(cached *c);
static void cache_trim(vip_text *t, const cached *keep);

vip_text *vip_text_create(const vip_fontset *fonts, vip_error *err)
{
    vip_text *t = calloc(1, sizeof *t);
    if (!t || !(t->buffer = hb_buffer_create()) || !hb_buffer_allocation_successful(t->buffer)) {
        vip_text_destroy(t);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->fonts = fonts;
    t->cache_limit = CACHE_DEFAULT_LIMIT;
    return t;
}

void vip_text_destroy(vip_text *t)
{
    if (!t)
        return;
    hb_buffer_destroy(t->buffer);
    for (int i = 0; i < MAX_BREAKERS; i++)
        vip_breaker_destroy(t->breakers[i].breaker);
    for (int i = 0; i < MAX_HYPHENATORS; i++)
        vip_hyphen_destroy(t->hyphens[i].hyphen);
    for (cached *c = t->lru_newest, *next; c; c = next) {
        next = c->older;
        cached_free(c);
    }
    free(t);
}

void vip_text_set_warnings(vip_text *t, vip_warn_sink sink)
{
    t->warn = sink;
    t->warn_generation++;
}

void vip_text_set_cache_limit(vip_text *t, size_t bytes)
{
    t->cache_limit = bytes;
    cache_trim(t, NULL);
}

/* One line breaker per locale, made on first use and kept for the context's lifetime. */
static vip_breaker *breaker_for(vip_text *t, const char *locale, vip_error *err)
{
    for (int i = 0; i < MAX_BREAKERS; i++) {
        if (t->breakers[i].breaker && strcmp(t->breakers[i].locale, locale) == 0)
            return t->breakers[i].breaker;
        if (!t->breakers[i].breaker) {
            t->breakers[i].breaker = vip_breaker_create(locale, err);
            t->breakers[i].locale = locale;
            return t->breakers[i].breaker;
        }
    }
    vip_error_set(err, VIP_ERR_INTERNAL, "too many line-breaking locales in one text context");
    return NULL;
}

/* The hyphenation patterns of a language vipgen hyphenates, loaded on first use and kept; NULL with err set when
 * they cannot be loaded. */
static vip_hyphen *hyphen_for(vip_text *t, const char *lang, vip_error *err)
{
    for (int i = 0; i < MAX_HYPHENATORS; i++) {
        if (t->hyphens[i].hyphen && strcmp(t->hyphens[i].lang, lang) == 0)
            return t->hyphens[i].hyphen;
        if (!t->hyphens[i].hyphen) {
            t->hyphens[i].hyphen = vip_hyphen_create(lang, err);
            t->hyphens[i].lang = lang;
            return t->hyphens[i].hyphen;
        }
    }
    vip_error_set(err, VIP_ERR_INTERNAL, "too many hyphenated languages in one text context");
    return NULL;
}

/* Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when it is malformed (overlong forms,
 * surrogates and values above U+10FFFF included). */
static size_t utf8_decode(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c = s[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (i + n > len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

int vip_text_check_utf8(const char *utf8, size_t len, vip_error *err)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_decode((const unsigned char *)utf8, len, i, &cp);
        if (!n)
            return vip_error_set(err, VIP_ERR_INPUT, "invalid UTF-8 at byte offset %zu (byte 0x%02X)", i,
                                 (unsigned char)utf8[i]);
        i += n;
    }
    return VIP_OK;
}

static void para_free(para *p)
{
    free(p->missing);
    free(p->cp);
    free(p->off);
    free(p->char_at);
    free(p->lang);
    free(p->weight);
    free(p->script);
    free(p->font);
    free(p->level);
    free(p->width);
    free(p->sum);
    free(p->trim);
    for (size_t i = 0; i < p->run_count; i++) {
        free(p->runs[i].glyphs.info);
        free(p->runs[i].glyphs.pos);
        free(p->runs[i].glyphs.ink);
    }
    free(p->runs);
    vip_bidi_destroy(p->bidi);
    free(p->breaks);
    free(p->graphemes);
    free(p->kashida);
}

static int is_line_end_space(uint32_t cp)
{
    /* Spaces and hard breaks that hang at a line's end: not drawn, not measured. */
    return cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == 0x85 || cp == 0x2028 || cp == 0x2029 ||
           (u_isUWhiteSpace((UChar32)cp) && cp != 0xA0 && cp != 0x202F && cp != 0x2007);
}

/* UAX #14 classes that never begin a line: closing punctuation, exclamation, infix separators, nonstarters. */
static int must_not_start_line(uint32_t cp)
{
    int lb = u_getIntPropertyValue((UChar32)cp, UCHAR_LINE_BREAK);
    return lb == U_LB_CLOSE_PUNCTUATION || lb == U_LB_CLOSE_PARENTHESIS || lb == U_LB_EXCLAMATION ||
           lb == U_LB_INFIX_NUMERIC || lb == U_LB_NONSTARTER;
}

static int is_digit_cp(uint32_t cp)
{
    return u_charType((UChar32)cp) == U_DECIMAL_DIGIT_NUMBER;
}

/* Spaces that justification widens: not a no-break space between digits, which holds a number's groups
 * together ("08 08 16 89 111") and must keep them evenly spaced. */
static int is_justify_space(const para *p, size_t i)
{
    uint32_t cp = p->cp[i];
    if (cp == 0xA0 && i > 0 && i + 1 < p->n && is_digit_cp(p->cp[i - 1]) && is_digit_cp(p->cp[i + 1]))
        return 0;
    return cp == ' ' || cp == 0x3000 || cp == 0xA0;
}

/* Characters that take the font of their neighbours instead of choosing one: controls, joiners, marks that
 * steer bidi or shaping. HarfBuzz hides the default ignorables itself. */
static int follows_neighbour_font(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 ||
           u_hasBinaryProperty((UChar32)cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

static UScriptCode lang_script(const vip_lang *lang)
{
    if (strcmp(lang->script, "Arab") == 0)
        return USCRIPT_ARABIC;
    if (strcmp(lang->script, "Guru") == 0)
        return USCRIPT_GURMUKHI;
    if (strcmp(lang->script, "Hans") == 0)
        return USCRIPT_HAN;
    return USCRIPT_LATIN;
}

/* Common and inherited characters (spaces, digits, punctuation, combining marks) take the script of the
 * character before them, or, at the start, of the first character after them with a script of its own; a
 * paragraph with none takes its language's script. */
static void resolve_scripts(para *p)
{
    UScriptCode prev = USCRIPT_INVALID_CODE;
    size_t pending = 0; /* leading characters waiting for a script */
    for (size_t i = 0; i < p->n; i++) {
        UErrorCode status = U_ZERO_ERROR;
        UScriptCode s = uscript_getScript((UChar32)p->cp[i], &status);
        if (U_FAILURE(status))
            s = USCRIPT_COMMON;
        if (s == USCRIPT_COMMON || s == USCRIPT_INHERITED || s == USCRIPT_UNKNOWN) {
            if (prev != USCRIPT_INVALID_CODE)
                p->script[i] = prev;
            else
                pending = i + 1;
            continue;
        }
        for (size_t k = 0; k < pending; k++)
            p->script[k] = s;
        pending = 0;
        p->script[i] = prev = s;
    }
    for (size_t k = 0; k < pending; k++)
        p->script[k] = lang_script(p->lang[k]);
}

static int is_common_cp(uint32_t cp)
{
    UErrorCode status = U_ZERO_ERROR;
    UScriptCode s = uscript_getScript((UChar32)cp, &status);
    return U_SUCCESS(status) && (s == USCRIPT_COMMON || s == USCRIPT_INHERITED);
}

static void warn_missing(vip_text *t, const para *p, size_t i, const char *where)
{
    vip_warn(&t->warn, "%s%sU+%04X at byte offset %u has no glyph in any font of the manifest; it shows as a "
             "missing-glyph box", where ? where : "", where ? ": " : "", (unsigned)p->cp[i], p->off[i]);
}

static void pick_fonts(vip_text *t, para *p, const char *where)
{
    p->warned_generation = t->warn_generation;
    for (size_t i = 0; i < p->n; i++) {
        const char *script = uscript_getShortName(p->script[i]);
        uint32_t cp = p->cp[i];
        if (follows_neighbour_font(cp)) {
            p->font[i] = NULL; /* settled below */
            continue;
        }
        /* A character common to all scripts (bracket, dash, slash, digit, Arabic comma) takes the font of the run
         * it stands in; where that has none, the common font, then the font of the text's language; only then any
         * (never a font made for another language of the script: Naskh has no brackets, and Nastaliq's would
         * stand in Farsi text). */
        const vip_font *f = NULL;
        /* European digits, and the no-break spaces that join a number's groups, are all in the common font: one
         * design of the digits in a document (a crime reference beside a date, a case value's phone number beside
         * the catalogue's), and a space as wide as the digits' own (Nastaliq's is 1.5 pt). Arabic-Indic digits
         * stay with the Arabic font. */
        if ((cp >= '0' && cp <= '9') ||
            (cp == 0xA0 && i > 0 && i + 1 < p->n && is_digit_cp(p->cp[i - 1]) && is_digit_cp(p->cp[i + 1]))) {
            const vip_font *common = vip_fontset_primary(t->fonts, "Zyyy", p->lang[i]->tag, p->weight[i]);
            if (common && vip_font_nominal_glyph(common, cp))
                f = common;
        }
        if (!f && is_common_cp(cp)) {
            const vip_font *candidates[3] = {
                vip_fontset_primary(t->fonts, script, p->lang[i]->tag, p->weight[i]),
                vip_fontset_primary(t->fonts, "Zyyy", p->lang[i]->tag, p->weight[i]),
                vip_fontset_primary(t->fonts, p->lang[i]->script, p->lang[i]->tag, p->weight[i])};
            for (int c = 0; c < 3 && !f; c++)
                if (candidates[c] && vip_font_nominal_glyph(candidates[c], cp))
                    f = candidates[c];
        }
        if (!f)
            f = vip_fontset_pick(t->fonts, script, p->lang[i]->tag, p->weight[i], cp);
        if (!f) {
            warn_missing(t, p, i, where);
            uint32_t *m = realloc(p->missing, (p->missing_count + 1) * sizeof *m);
            if (m) { /* without memory, later uses are not warned again: the first was */
                p->missing = m;
                p->missing[p->missing_count++] = (uint32_t)i;
            }
            f = vip_fontset_primary(t->fonts, script, p->lang[i]->tag, p->weight[i]);
        }
        p->font[i] = f;
    }
    /* Controls and joiners stay with the font before them (or after them at the start). */
    const vip_font *prev = NULL;
    for (size_t i = 0; i < p->n; i++)
        if (p->font[i])
            prev = p->font[i];
        else if (prev)
            p->font[i] = prev;
    const vip_font *next = NULL;
    for (size_t i = p->n; i-- > 0;)
        if (p->font[i])
            next = p->font[i];
        else
            p->font[i] = next;
    for (size_t i = 0; i < p->n; i++)
        if (!p->font[i])
            p->font[i] = vip_fontset_primary(t->fonts, uscript_getShortName(p->script[i]), p->lang[i]->tag,
                                             p->weight[i]);
}

/* Shapes characters [first, last) with the whole paragraph as context, so that joining and contextual forms
 * across a run boundary come out as they would unbroken. */
static int shape(vip_text *t, const para *p, const run *r, size_t first, size_t last, shaped *out)
{
    hb_buffer_t *b = t->buffer;
    hb_buffer_clear_contents(b);
    hb_buffer_add_utf8(b, p->text, (int)p->len, p->off[first], (int)(p->off[last] - p->off[first]));
    hb_buffer_set_direction(b, (r->level & 1) ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
    hb_buffer_set_script(b, hb_script_from_string(uscript_getShortName(r->script), -1));
    hb_buffer_set_language(b, hb_language_from_string(r->lang->tag, -1));
    /* Default ignorables (joiners, bidi isolates and marks) steer shaping and ordering but draw nothing: removing
     * them keeps invisible glyphs out of the PDF and its text layer. In Arabic script, HarfBuzz also tells where a
     * tatweel would join two letters without changing their shapes (for kashida); the glyphs are the same. */
    hb_buffer_set_flags(b, (first == 0 ? HB_BUFFER_FLAG_BOT : 0) | (last == p->n ? HB_BUFFER_FLAG_EOT : 0) |
                               HB_BUFFER_FLAG_REMOVE_DEFAULT_IGNORABLES |
                               (r->script == USCRIPT_ARABIC ? HB_BUFFER_FLAG_PRODUCE_SAFE_TO_INSERT_TATWEEL : 0));
    hb_shape(vip_font_hb_font(r->font), b, NULL, 0);
    unsigned n;
    hb_glyph_info_t *info = hb_buffer_get_glyph_infos(b, &n);
    hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(b, &n);
    if (!hb_buffer_allocation_successful(b))
        return VIP_ERR_NOMEM;
    out->info = malloc((n ? n : 1) * sizeof *info);
    out->pos = malloc((n ? n : 1) * sizeof *pos);
    if (!out->info || !out->pos) {
        free(out->info);
        free(out->pos);
        out->info = NULL;
        out->pos = NULL;
        return VIP_ERR_NOMEM;
    }
    memcpy(out->info, info, n * sizeof *info);
    memcpy(out->pos, pos, n * sizeof *pos);
    out->ink = NULL;
    out->count = n;
    return VIP_OK;
}

/* HarfBuzz's default cluster level keeps clusters monotonic in visual order (rising left to right, falling right
 * to left); piece_glyphs relies on it to find a line's glyphs by binary search, and checks it here. */
static int cluster_order(const shaped *g)
{
    int up = 1, down = 1;
    for (size_t k = 1; k < g->count; k++) {
        if (g->info[k].cluster < g->info[k - 1].cluster)
            up = 0;
        if (g->info[k].cluster > g->info[k - 1].cluster)
            down = 0;
    }
    return up ? 1 : down ? -1 : 0;
}

static int build_runs(vip_text *t, para *p)
{
    p->runs = calloc(p->n ? p->n : 1, sizeof *p->runs);
    if (!p->runs)
        return VIP_ERR_NOMEM;
    for (size_t i = 0; i < p->n;) {
        size_t j = i + 1;
        while (j < p->n && p->level[j] == p->level[i] && p->script[j] == p->script[i] && p->lang[j] == p->lang[i] &&
               p->font[j] == p->font[i])
            j++;
        run *r = &p->runs[p->run_count++];
        r->first = i;
        r->last = j;
        r->level = p->level[i];
        r->script = p->script[i];
        r->lang = p->lang[i];
        r->font = p->font[i];
        if (shape(t, p, r, i, j, &r->glyphs))
            return VIP_ERR_NOMEM;
        /* Glyph extents (outlines; for CFF, charstrings run) are asked for at every layout of the paragraph. */
        shaped *g = &r->glyphs;
        if (!(g->ink = malloc((g->count ? g->count : 1) * 2 * sizeof *g->ink)))
            return VIP_ERR_NOMEM;
        hb_font_t *hbf = vip_font_hb_font(r->font);
        for (size_t k = 0; k < g->count; k++) {
            hb_glyph_extents_t ext;
            int known = hb_font_get_glyph_extents(hbf, g->info[k].codepoint, &ext);
            g->ink[2 * k] = known ? ext.y_bearing : NO_INK;
            g->ink[2 * k + 1] = known ? ext.y_bearing + ext.height : NO_INK;
        }
        r->cluster_order = cluster_order(g);
        i = j;
    }
    return VIP_OK;
}

/* Whether a run may be lengthened with kashida: Arabic script, in a language justified so, in a font with a
 * tatweel. */
static int run_takes_kashida(const run *r)
{
    return r->script == USCRIPT_ARABIC && vip_kashida_language(r->lang->tag) &&
           vip_font_nominal_glyph(r->font, 0x640) != 0;
}

/* The kashida places of a paragraph (p->kashida; left NULL when it has none). A join is eligible where HarfBuzz
 * says a tatweel may go between the two letters without changing their shapes, both letters are clusters of one
 * character and one glyph (no mark on either, no ligature) in one run, and neither is a tatweel already. */
static int find_kashida_places(para *p)
{
    int any = 0;
    for (size_t r = 0; r < p->run_count && !any; r++)
        any = run_takes_kashida(&p->runs[r]);
    if (!any || !p->n)
        return VIP_OK;
    uint8_t *glyphs = calloc(p->n, 1), *safe = calloc(p->n, 1), *eligible = calloc(p->n, 1);
    if (!glyphs || !safe || !eligible || !(p->kashida = malloc(p->n))) {
        free(glyphs);
        free(safe);
        free(eligible);
        return VIP_ERR_NOMEM;
    }
    for (size_t r = 0; r < p->run_count; r++)
        for (size_t g = 0; g < p->runs[r].glyphs.count; g++) {
            const hb_glyph_info_t *info = &p->runs[r].glyphs.info[g];
            size_t ci = p->char_at[info->cluster];
            if (glyphs[ci] < 2)
                glyphs[ci]++;
            safe[ci] = (hb_glyph_info_get_glyph_flags(info) & HB_GLYPH_FLAG_SAFE_TO_INSERT_TATWEEL) != 0;
        }
    for (size_t r = 0; r < p->run_count; r++) {
        const run *rn = &p->runs[r];
        if (!run_takes_kashida(rn))
            continue;
        for (size_t i = rn->first + 1; i < rn->last; i++) {
            /* A character is its cluster's only one when the next character has glyphs of its own. */
            int alone = glyphs[i] == 1 && (i + 1 == p->n || glyphs[i + 1] > 0);
            int before_alone = glyphs[i - 1] == 1;
            eligible[i] = alone && before_alone && safe[i] && p->cp[i] != 0x640 && p->cp[i - 1] != 0x640;
        }
    }
    vip_kashida_places(p->cp, p->n, eligible, p->kashida);
    free(glyphs);
    free(safe);
    free(eligible);
    return VIP_OK;
}

/* Per character: the advances of the clusters that start there, at this size; and their running sums. */
static void measure_widths(para *p, double size)
{
    memset(p->width, 0, (p->n + 1) * sizeof *p->width);
    for (size_t r = 0; r < p->run_count; r++) {
        const run *rn = &p->runs[r];
        double scale = size * vip_font_size_adjust(rn->font) / vip_font_get_metrics(rn->font)->upem;
        for (size_t g = 0; g < rn->glyphs.count; g++)
            p->width[p->char_at[rn->glyphs.info[g].cluster]] += rn->glyphs.pos[g].x_advance * scale;
    }
    p->sum[0] = 0;
    for (size_t i = 0; i < p->n; i++)
        p->sum[i + 1] = p->sum[i] + p->width[i];
}

/* Width of characters [a, b) without the spaces that would hang at the end of a line. */
static double measure(const para *p, size_t a, size_t b)
{
    if (p->trim[b] > a)
        b = p->trim[b];
    else
        b = a;
    return p->sum[b] - p->sum[a];
}

typedef struct line_range {
    size_t first, last; /* characters */
    int hard;           /* ends at a mandatory break */
    int hyphen;         /* ends inside a word, with a hyphen drawn after its last character */
} line_range;

/* The hyphen drawn at the end of a hyphenated line, in the font of the character before it: its glyph and its
 * advance at this size. */
static uint32_t hyphen_glyph(const vip_font *font, double size, double *advance)
{
    uint32_t gid = vip_font_nominal_glyph(font, 0x2010);
    if (!gid)
        gid = vip_font_nominal_glyph(font, '-');
    *advance = vip_font_glyph_advance(font, gid) * size * vip_font_size_adjust(font) / vip_font_get_metrics(font)->upem;
    return gid;
}

/* What an address never holds and so ends one: a space (a no-break one too: "0800 1111"), and the ideographs and
 * full-width punctuation Chinese writes an address between without spaces ("帮助：childline.org.uk"). */
static int ends_address(uint32_t cp)
{
    return is_line_end_space(cp) || cp == 0xA0 || cp == 0x2007 || cp == 0x202F || (cp >= 0x2E80 && cp <= 0x9FFF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
           (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* Whether the gap before character b lies inside a URL or an email address (a stretch between spaces or
 * ideographs with a slash, an at sign, or a dot between letters): one breaks only after '/' or '.', never at its
 * hyphens (a reader would take the hyphen for the line's). */
static int in_address(const para *p, size_t b)
{
    if (ends_address(p->cp[b - 1]) || ends_address(p->cp[b]))
        return 0;
    size_t a = b, z = b;
    while (a > 0 && !ends_address(p->cp[a - 1]))
        a--;
    while (z < p->n && !ends_address(p->cp[z]))
        z++;
    for (size_t i = a; i < z; i++)
        if (p->cp[i] == '/' || p->cp[i] == '@' ||
            (p->cp[i] == '.' && i > a && i + 1 < z && u_isalnum((UChar32)p->cp[i - 1]) && u_isalpha((UChar32)p->cp[i + 1])))
            return 1;
    return 0;
}

/* The year, month and day characters of Chinese and Japanese dates, and the hour and minute ones of times. */
static int is_date_unit(uint32_t cp)
{
    return cp == 0x5E74 || cp == 0x6708 || cp == 0x65E5 || cp == 0x53F7 || cp == 0x65F6 || cp == 0x5206;
}

/* Break opportunities the line breaker gives that vipgen does not take: Polish keeps a one-letter word (w, z, i,
 * a, o, u) with the word after it, so that no line ends with one; a Chinese date or time is never broken inside
 * ("2024年3月2日": not between a number and its unit, nor after a unit before the next number). */
static int keeps_with_next(const para *p, size_t b)
{
    if (b < 1 || b >= p->n)
        return 0;
    if (p->cp[b - 1] != '/' && p->cp[b - 1] != '.' && in_address(p, b))
        return 1;
    if ((is_digit_cp(p->cp[b - 1]) && is_date_unit(p->cp[b])) ||
        (is_date_unit(p->cp[b - 1]) && p->cp[b - 1] != 0x65E5 && p->cp[b - 1] != 0x53F7 && is_digit_cp(p->cp[b])))
        return 1;
    if (b < 2 || p->cp[b - 1] != ' ' || p->cp[b - 2] > 0x7F || !strchr("wziaouWZIAOU", (int)p->cp[b - 2]))
        return 0;
    return (b == 2 || !u_isalpha((UChar32)p->cp[b - 3])) && strcmp(p->lang[b - 2]->tag, "pl") == 0;
}

/* Characters of a word written with spaces (Latin letters and digits, and what joins them in names and
 * addresses): justification does not open the gaps between two of them. */
static int is_word_char(uint32_t cp)
{
    UErrorCode status = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript((UChar32)cp, &status);
    return (u_isalnum((UChar32)cp) && sc != USCRIPT_HAN && sc != USCRIPT_HIRAGANA && sc != USCRIPT_KATAKANA &&
            sc != USCRIPT_BOPOMOFO) ||
           (cp < 0x80 && strchr(".-_@/'", (int)cp) && cp);
}

/* Whether justification without spaces may widen the gap before character i of a line starting at first. */
static int is_cluster_gap(const para *p, size_t first, size_t i)
{
    return i > first && p->width[i] > 0 && !(is_word_char(p->cp[i - 1]) && is_word_char(p->cp[i]));
}

/* Chinese: a paragraph does not end with a line of one character (punctuation after it aside). The line before
 * gives up its last character where the line breaker allows a break before it. */
static void no_lone_last_character(const para *p, line_range *lines, size_t n)
{
    if (n < 2 || lines[n - 2].hard)
        return;
    line_range *prev = &lines[n - 2], *last = &lines[n - 1];
    if (strcmp(p->lang[last->first]->script, "Hans") != 0)
        return;
    size_t chars = 0;
    for (size_t i = last->first; i < last->last; i++)
        chars += !u_ispunct((UChar32)p->cp[i]) && !is_line_end_space(p->cp[i]);
    if (chars != 1)
        return;
    for (size_t k = 0; k < p->break_count; k++) {
        size_t b = p->breaks[k].offset >= p->len ? p->n : p->char_at[p->breaks[k].offset];
        if (b + 1 == prev->last && b > prev->first + 1 && !keeps_with_next(p, b)) {
            prev->last = last->first = b;
            return;
        }
    }
}

/* Where to hyphenate the word that does not fit on the line [start, from) (its text runs to `to`): the last
 * hyphenation point that leaves the line, hyphen included, within width; 0 when there is none or the line is
 * full enough without. Not in names (a capital first letter), addresses (a slash, an at sign, a dot inside), or
 * short words. */
static int hyphenate(vip_text *t, const para *p, size_t start, size_t from, size_t to, double width, double size,
                     size_t *cut, vip_error *err)
{
    if (width - measure(p, start, from) < HYPHEN_SLACK * size)
        return 0;
    /* The whole space-delimited word: a URL's last part comes after a break the line breaker allows at '/'. */
    size_t a = from, z = to;
    while (a > 0 && !is_line_end_space(p->cp[a - 1]))
        a--;
    while (z < p->n && !is_line_end_space(p->cp[z]))
        z++;
    for (size_t i = a; i < z; i++)
        if (p->cp[i] == '/' || p->cp[i] == '@' || (p->cp[i] == '.' && i + 1 < z && u_isalnum((UChar32)p->cp[i + 1])))
            return 0;
    size_t w0 = from;
    while (w0 < to && !u_isalpha((UChar32)p->cp[w0]))
        w0++;
    size_t w1 = w0;
    while (w1 < to && u_isalpha((UChar32)p->cp[w1]))
        w1++;
    unsigned char after[128];
    if (w1 - w0 < 5 || w1 - w0 > sizeof after || u_isupper((UChar32)p->cp[w0]))
        return 0;
    if (!vip_hyphen_supported(p->lang[w0]->tag))
        return 0;
    vip_hyphen *h = hyphen_for(t, p->lang[w0]->tag, err);
    if (!h)
        return -1;
    if (vip_hyphen_points(h, &p->cp[w0], w1 - w0, after)) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return -1;
    }
    double hyphen_width;
    hyphen_glyph(p->font[w1 - 1], size, &hyphen_width);
    for (size_t k = w1 - w0 - 1; k-- > 0;)
        if (after[k] && measure(p, start, w0 + k + 1) + hyphen_width <= width + 1e-6) {
            *cut = w0 + k + 1;
            return 1;
        }
    return 0;
}

/* The character at grapheme boundary g (the text's end for the last). */
static size_t grapheme_char(const para *p, size_t g)
{
    return p->graphemes[g] >= p->len ? p->n : p->char_at[p->graphemes[g]];
}

/* Greedy line filling over the break opportunities; a word wider than the line is cut between graphemes. */
static int break_lines(vip_text *t, para *p, const vip_lang *lang, double width, double size, int justify,
                       line_range **out, size_t *count, double *overflow, size_t over[2], vip_error *err)
{
    *overflow = 0;
    over[0] = over[1] = 0;
    vip_breaker *br = breaker_for(t, lang->icu_locale, err);
    if (!br)
        return err ? err->code : VIP_ERR_INTERNAL;
    size_t nlines = 0, cap = 8;
    line_range *lines = malloc(cap * sizeof *lines);
    int rc = VIP_ERR_NOMEM;
    if (!lines)
        goto done;
    if (!p->breaks && (rc = vip_breaker_lines(br, p->text, p->len, &p->breaks, &p->break_count, err)))
        goto done;
    const vip_break *breaks = p->breaks;
    size_t nb = p->break_count;
    rc = VIP_ERR_NOMEM;
    size_t start = 0, last_ok = 0;
    int last_ok_hard = 0, hyphenated = 0, in_a_row = 0;
    for (size_t k = 0; k < nb && start < p->n;) {
        size_t b = p->char_at[breaks[k].offset < p->len ? breaks[k].offset : p->len - 1];
        if (breaks[k].offset >= p->len)
            b = p->n;
        if (b <= start || keeps_with_next(p, b)) {
            k++;
            continue;
        }
        size_t end = 0;
        int hard = 0;
        hyphenated = 0;
        if (measure(p, start, b) <= width + 1e-6) {
            last_ok = b;
            last_ok_hard = breaks[k].mandatory;
            k++;
            if (breaks[k - 1].mandatory || b == p->n) {
                end = b;
                hard = breaks[k - 1].mandatory;
            }
        } else if (last_ok > start) {
            end = last_ok;
            hard = last_ok_hard;
            /* Justified text in a language with patterns: the word that does not fit is hyphenated rather than
             * the line's spaces opened wide. */
            size_t cut;
            int h = justify && !hard && in_a_row < MAX_HYPHENATED_LINES
                        ? hyphenate(t, p, start, last_ok, b, width, size, &cut, err)
                        : 0;
            if (h < 0) {
                rc = err ? err->code : VIP_ERR_INTERNAL;
                goto done;
            }
            if (h) {
                end = cut;
                hyphenated = 1;
            }
        } else {
            /* Nothing fits: take as many whole graphemes as fit, at least one. How far the piece is too wide is
             * reported (vipgen check: a word wider than its place). */
            double over_by = measure(p, start, b) - width;
            if (over_by > *overflow) {
                *overflow = over_by;
                over[0] = start;
                over[1] = b;
            }
            if (!p->graphemes &&
                (rc = vip_breaker_graphemes(br, p->text, p->len, &p->graphemes, &p->grapheme_count, err)))
                goto done;
            size_t ng = p->grapheme_count;
            rc = VIP_ERR_NOMEM;
            end = 0;
            /* The scan starts at the first boundary after the line's start (boundaries rise with the text), so
             * a long unbreakable stretch costs time in proportion to its length, not its length squared. */
            size_t g0 = 0, hi = ng;
            while (g0 < hi) {
                size_t mid = g0 + (hi - g0) / 2;
                if (grapheme_char(p, mid) <= start)
                    g0 = mid + 1;
                else
                    hi = mid;
            }
            size_t gend = g0; /* the boundary `end` is, once set */
            for (size_t g = g0; g < ng; g++) {
                size_t c = grapheme_char(p, g);
                if (c > b || (end && measure(p, start, c) > width + 1e-6))
                    break;
                end = c;
                gend = g;
            }
            /* Closing punctuation must not start the next line: give it the grapheme before it. */
            while (end > start && end < b && must_not_start_line(p->cp[end])) {
                if (gend == g0)
                    break; /* no boundary between the line's start and `end` */
                end = grapheme_char(p, --gend);
            }
            if (!end)
                end = b;
        }
        if (end) {
            if (nlines == cap) {
                line_range *nl = realloc(lines, (cap *= 2) * sizeof *lines);
                if (!nl)
                    goto done;
                lines = nl;
            }
            lines[nlines++] = (line_range){start, end, hard, hyphenated};
            in_a_row = hyphenated ? in_a_row + 1 : 0;
            start = last_ok = end;
        }
    }
    if (p->n == 0)
        lines[nlines++] = (line_range){0, 0, 1, 0};
    no_lone_last_character(p, lines, nlines);
    rc = VIP_OK;
done:
    if (rc) {
        free(lines);
        if (rc == VIP_ERR_NOMEM)
            vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return rc;
    }
    *out = lines;
    *count = nlines;
    return VIP_OK;
}

/* In glyphs whose clusters rise (order 1), the first with cluster >= x; in glyphs whose clusters fall (order -1),
 * the first with cluster < x. */
static size_t cluster_bound(const shaped *s, int order, uint32_t x)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t c = s->info[mid].cluster;
        if (order > 0 ? c >= x : c < x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The glyphs of characters [a, b) of run r: a slice of the run's glyphs where HarfBuzz marks both cuts safe,
 * else the stretch shaped again on its own (still with the paragraph as context). */
static int piece_glyphs(vip_text *t, const para *p, const run *r, size_t a, size_t b, shaped *out, int *owned)
{
    const shaped *s = &r->glyphs;
    *owned = 0;
    if (a == r->first && b == r->last) {
        *out = *s;
        return VIP_OK;
    }
    uint32_t lo = p->off[a], hi = p->off[b];
    size_t first = s->count, last = 0;
    int unsafe = 0;
    if (r->cluster_order) {
        /* Clusters are monotonic: the piece's glyphs and those at each cut are found by binary search, so the
         * lines of a long run cost time in proportion to their own glyphs, not the run's. */
        int up = r->cluster_order > 0;
        size_t in_from = up ? cluster_bound(s, 1, lo) : cluster_bound(s, -1, hi);
        size_t in_to = up ? cluster_bound(s, 1, hi) : cluster_bound(s, -1, lo);
        if (in_from < in_to) {
            first = in_from;
            last = in_to;
        }
        for (int cut = 0; cut < 2 && !unsafe; cut++) {
            uint32_t c = cut ? hi : lo;
            if (cut ? b == r->last : a == r->first)
                continue;
            size_t from = up ? cluster_bound(s, 1, c) : cluster_bound(s, -1, c + 1);
            size_t to = up ? cluster_bound(s, 1, c + 1) : cluster_bound(s, -1, c);
            for (size_t g = from; g < to; g++)
                if (hb_glyph_info_get_glyph_flags(&s->info[g]) & HB_GLYPH_FLAG_UNSAFE_TO_BREAK)
                    unsafe = 1;
        }
    } else {
        for (size_t g = 0; g < s->count; g++) {
            uint32_t c = s->info[g].cluster;
            if (c >= lo && c < hi) {
                if (g < first)
                    first = g;
                last = g + 1;
            }
            /* The glyph that starts a cluster at either cut tells whether cutting there changes the shaping. */
            if ((c == lo && a != r->first) || (c == hi && b != r->last))
                if (hb_glyph_info_get_glyph_flags(&s->info[g]) & HB_GLYPH_FLAG_UNSAFE_TO_BREAK)
                    unsafe = 1;
        }
    }
    if (unsafe) {
        *owned = 1;
        return shape(t, p, r, a, b, out);
    }
    if (first >= last) {
        out->count = 0;
        out->info = NULL;
        out->pos = NULL;
        out->ink = NULL;
        return VIP_OK;
    }
    out->info = s->info + first;
    out->pos = s->pos + first;
    out->ink = s->ink ? s->ink + 2 * first : NULL;
    out->count = last - first;
    return VIP_OK;
}

typedef struct piece {
    const run *r;
    size_t first, last;
    uint8_t level;
} piece;

/* Arabic-script lines: a word gap at most 1.5 times the space, a kashida at most this many tatweels. */
#define MAX_SPACE_STRETCH 0.5
#define MAX_TATWEELS 3
/* Other space-justified lines: a word gap at most twice the space. */
#define MAX_LATIN_STRETCH 1.0

/* The tatweel glyph of a font and its advance in points at the paragraph's size. */
static uint32_t tatweel_glyph(const vip_font *font, double size, double *advance)
{
    uint32_t gid = vip_font_nominal_glyph(font, 0x640);
    *advance = vip_font_glyph_advance(font, gid) * size * vip_font_size_adjust(font) / vip_font_get_metrics(font)->upem;
    return gid;
}

/* Whether left-to-right text in characters [first, last) holds a web or email address, a reference (letters or
 * digits on both sides of '.', '/', '@' or ':') or digits in groups ("08 08 16 89 111"). The PDF writer gives such a
 * right-to-left line its text glyph by glyph rather than as one span (viewers would reorder its pieces), and there
 * a tatweel, which has no text of its own, would copy as a zero-width space inside its word: such lines are not
 * lengthened with kashida. */
static int holds_address(const para *p, size_t first, size_t last)
{
    for (size_t i = first + 1; i + 1 < last; i++) {
        if (p->level[i] & 1)
            continue;
        uint32_t a = p->cp[i - 1], c = p->cp[i], b = p->cp[i + 1];
        if ((c == '.' || c == '/' || c == '@' || c == ':') && (a >= 0x80 || u_isalnum((UChar32)a)) &&
            (b >= 0x80 || u_isalnum((UChar32)b)))
            return 1;
        if ((c == ' ' || c == 0xA0) && a >= '0' && a <= '9' && b >= '0' && b <= '9')
            return 1;
    }
    return 0;
}

/* Justifies a line of Arabic-script text, characters [first, visible), that is slack points short of its width.
 * The spaces widen, each by the same fraction of its own width, up to 1.5 times it; what they cannot take goes
 * to kashidas: whole tatweels, given one at a time to the line's kashida places in turn (best priority first,
 * then in logical order), until the spaces can take the rest. tatweels[i - first] receives the number joining
 * character i to the one before, *stretch the spaces' fraction. Returns 0 where the line cannot be filled so
 * (too few places, a kashida of more than MAX_TATWEELS, or no space to take the remainder): it is then set
 * start-aligned rather than opened wider. */
static int justify_arabic(const para *p, size_t first, size_t visible, double size, double slack, double *stretch,
                          uint8_t *tatweels)
{
    double spaces = 0;
    for (size_t i = first; i < visible; i++)
        if (is_justify_space(p, i))
            spaces += p->width[i];
    double room = MAX_SPACE_STRETCH * spaces, added = 0;
    int kashida = p->kashida && !holds_address(p, first, visible);
    for (int round = 0; kashida && round < MAX_TATWEELS && slack - added > room + 1e-9; round++)
        for (int pr = 1; pr <= VIP_KASHIDA_PRIORITIES && slack - added > room + 1e-9; pr++) {
            /* The places of this priority still at `round` tatweels; when fewer tatweels are wanted than there are
             * places, every (places / wanted)-th takes one, so that they spread over the line. */
            size_t places = 0, wanted = 0, seen = 0;
            double advance = 0;
            for (size_t i = first + 1; i < visible; i++)
                if (p->kashida[i] == pr && tatweels[i - first] == round && !places++)
                    tatweel_glyph(p->font[i - 1], size, &advance);
            if (!places || advance <= 0)
                continue;
            wanted = (size_t)ceil((slack - added - room) / advance - 1e-9);
            for (int pass = 0; pass < 2; pass++)
                for (size_t i = first + 1; i < visible && slack - added > room + 1e-9; i++) {
                    if (p->kashida[i] != pr || tatweels[i - first] != round)
                        continue;
                    int take = pass || wanted >= places || (seen + 1) * wanted / places > seen * wanted / places;
                    seen += !pass;
                    if (take) {
                        tatweel_glyph(p->font[i - 1], size, &advance);
                        added += advance;
                        tatweels[i - first]++;
                    }
                }
        }
    if (slack - added > room + 1e-9 || added > slack + 1e-9 || (spaces <= 0 && added < slack - 1e-6)) {
        memset(tatweels, 0, visible - first + 1);
        return 0;
    }
    *stretch = spaces > 0 ? (slack - added) / spaces : 0;
    return 1;
}

/* Builds one output line: pieces of runs cut to the line and to its L1 levels, in visual order, positioned. */
static int build_line(vip_text *t, para *p, const line_range *lr, int last_line, const vip_text_style *style,
                      double width, vip_text_line *line, vip_error *err)
{
    int rc = VIP_ERR_NOMEM;
    size_t visible = lr->last;
    while (visible > lr->first && is_line_end_space(p->cp[visible - 1]))
        visible--;
    line->start = p->off[lr->first];
    line->end = p->off[lr->last];
    size_t nchars = visible - lr->first;
    uint32_t bstart = p->off[lr->first], bend = p->off[visible];
    uint8_t *levels = malloc(bend - bstart + 1);
    piece *pieces = malloc((nchars + 1) * sizeof *pieces);
    uint8_t *plevels = malloc(nchars + 1);
    uint32_t *order = malloc((nchars + 1) * sizeof *order);
    uint8_t *tatweels = calloc(nchars + 1, 1);
    if (!levels || !pieces || !plevels || !order || !tatweels)
        goto done;
    if (nchars && (rc = vip_bidi_line_levels(p->bidi, bstart, bend, levels, err)))
        goto done;
    rc = VIP_ERR_NOMEM;

    /* Pieces: characters of one run and one line level, from the run holding the line's first character. */
    size_t np = 0, ri = 0, rhi = p->run_count;
    while (ri < rhi) {
        size_t mid = ri + (rhi - ri) / 2;
        if (p->runs[mid].last <= lr->first)
            ri = mid + 1;
        else
            rhi = mid;
    }
    for (size_t i = lr->first; i < visible;) {
        while (p->runs[ri].last <= i)
            ri++;
        const run *r = &p->runs[ri];
        uint8_t lv = levels[p->off[i] - bstart];
        size_t j = i + 1;
        while (j < visible && j < r->last && levels[p->off[j] - bstart] == lv)
            j++;
        pieces[np] = (piece){r, i, j, lv};
        plevels[np++] = lv;
        i = j;
    }
    if (np && (rc = vip_bidi_reorder(plevels, np, order, err)))
        goto done;
    rc = VIP_ERR_NOMEM;

    line->runs = calloc(np ? np : 1, sizeof *line->runs);
    if (!line->runs)
        goto done;
    /* Justification: extra space after each space glyph, or between clusters where a script has no spaces. */
    double extra = 0, space_stretch = 0;
    size_t slots = 0;
    int by_cluster = 0, justified = 0;
    double content = measure(p, lr->first, lr->last), hyphen_width = 0;
    uint32_t hyphen_gid = lr->hyphen && visible > lr->first
                              ? hyphen_glyph(p->font[visible - 1], style->size, &hyphen_width)
                              : 0;
    content += hyphen_width;
    if (hyphen_gid && style->align == VIP_ALIGN_JUSTIFY) {
        /* A cut inside a word may be shaped apart (kerning across it dropped): the line is justified by the
         * widths its pieces will have. */
        content = hyphen_width;
        for (size_t k = 0; k < np; k++) {
            shaped s;
            int owned;
            if ((rc = piece_glyphs(t, p, pieces[k].r, pieces[k].first, pieces[k].last, &s, &owned))) {
                vip_error_set(err, rc, "out of memory");
                goto done;
            }
            double scale = style->size * vip_font_size_adjust(pieces[k].r->font) /
                           vip_font_get_metrics(pieces[k].r->font)->upem;
            for (size_t g = 0; g < s.count; g++)
                content += s.pos[g].x_advance * scale;
            if (owned) {
                free(s.info);
                free(s.pos);
            }
        }
        rc = VIP_ERR_NOMEM;
    }
    const vip_lang *base = vip_lang_find(style->lang, NULL);
    if (style->align == VIP_ALIGN_JUSTIFY && !last_line && !lr->hard && content < width && base &&
        strcmp(base->script, "Arab") == 0) {
        /* Arabic, Farsi and Urdu: never a word gap wider than 1.5 spaces (Arabic and Farsi lengthen words with
         * kashida instead), never letter-spaced. */
        justified = justify_arabic(p, lr->first, visible, style->size, width - content, &space_stretch, tatweels);
    } else if (style->align == VIP_ALIGN_JUSTIFY && !last_line && !lr->hard && content < width) {
        /* Chinese is justified between characters, even on a line with a few spaces (around an English name),
         * which would otherwise take all the extra width. */
        int cjk = strcmp(p->lang[lr->first]->script, "Hans") == 0;
        for (size_t i = lr->first; i < visible && !cjk; i++)
            slots += is_justify_space(p, i);
        if (slots == 0) {
            /* Between characters; not inside a Latin word or number ("Northshire" is not letter-spaced). */
            by_cluster = 1;
            for (size_t i = lr->first + 1; i < visible; i++)
                slots += is_cluster_gap(p, lr->first, i);
        }
        if (slots)
            extra = (width - content) / slots;
        if (slots && !by_cluster) {
            /* A word gap never more than twice the space (a line with a long unbreakable address or number and few
             * spaces would open gaps of an em and more): such a loose line is set start-aligned. */
            double spaces = 0;
            for (size_t i = lr->first; i < visible; i++)
                if (is_justify_space(p, i))
                    spaces += p->width[i];
            if (width - content > MAX_LATIN_STRETCH * spaces)
                extra = 0;
        }
    }

    double x = 0;
    double asc = 0, desc = 0;
    for (size_t v = 0; v < np; v++) {
        const piece *pc = &pieces[order[v]];
        const run *r = pc->r;
        vip_text_run *out = &line->runs[line->run_count++];
        shaped s;
        int owned;
        if ((rc = piece_glyphs(t, p, r, pc->first, pc->last, &s, &owned))) {
            vip_error_set(err, rc, "out of memory");
            goto done;
        }
        rc = VIP_ERR_NOMEM;
        size_t added = 0; /* tatweels */
        for (size_t i = pc->first + 1; justified && i < pc->last; i++)
            added += tatweels[i - lr->first];
        out->glyphs = malloc((s.count + 1 + added) * sizeof *out->glyphs); /* room for a hyphen */
        if (!out->glyphs) {
            if (owned) {
                free(s.info);
                free(s.pos);
            }
            goto done;
        }
        const vip_font_metrics *m = vip_font_get_metrics(r->font);
        /* Arabic-script fonts are set larger, by their x-height, to read the size of the Latin beside them. */
        out->size = style->size * vip_font_size_adjust(r->font);
        double scale = out->size / m->upem;
        hb_font_t *hbf = vip_font_hb_font(r->font);
        out->font = r->font;
        out->rtl = pc->level & 1;
        out->lang = r->lang->tag;
        memcpy(out->script, uscript_getShortName(r->script), 4);
        out->script[4] = '\0';
        out->start = p->off[pc->first];
        out->end = p->off[pc->last];
        out->x = x;
        /* The font's own line metrics count up to 1.1 em above and 0.4 em below the baseline; beyond that only
         * the ink does. Nastaliq declares 2.5 em for its tallest stacks, which most lines never reach. */
        asc = fmax(asc, fmin(m->ascender, 1.1 * m->upem) * scale);
        desc = fmax(desc, fmin(-m->descender, 0.4 * m->upem) * scale);
        double pen = 0;
        size_t n = 0; /* glyphs out */
        for (size_t g = 0; g < s.count; g++) {
            int cluster_start = g == 0 || s.info[g - 1].cluster != s.info[g].cluster;
            if (added && out->rtl && cluster_start) {
                /* A kashida joining this cluster's letter to the next one, drawn to its left (before it in visual
                 * order) in its cluster: extraction gives the letter, and the tatweels no text of their own. */
                size_t ci = p->char_at[s.info[g].cluster];
                double advance;
                uint32_t gid = tatweel_glyph(r->font, style->size, &advance);
                int32_t units = vip_font_glyph_advance(r->font, gid);
                uint8_t *k = ci + 1 < pc->last ? &tatweels[ci + 1 - lr->first] : NULL;
                for (; k && *k > 0; --*k) { /* used up: never more glyphs than counted above */
                    out->glyphs[n++] = (vip_text_glyph){.gid = gid, .cluster = s.info[g].cluster, .x_advance = units,
                                                        .x = pen, .y = 0, .advance = advance};
                    pen += advance;
                }
            }
            vip_text_glyph *o = &out->glyphs[n++];
            o->gid = s.info[g].codepoint;
            o->cluster = s.info[g].cluster;
            o->x_advance = s.pos[g].x_advance;
            o->x_offset = s.pos[g].x_offset;
            o->y_offset = s.pos[g].y_offset;
            o->x = pen + s.pos[g].x_offset * scale;
            o->y = s.pos[g].y_offset * scale;
            o->advance = s.pos[g].x_advance * scale;
            pen += o->advance;
            if (space_stretch > 0 && cluster_start && is_justify_space(p, p->char_at[o->cluster]))
                pen += space_stretch * p->width[p->char_at[o->cluster]];
            if (extra > 0) {
                size_t ci = p->char_at[o->cluster];
                /* Spaces widen; without spaces, each cluster start after the line's first widens the gap
                 * before it (in visual order: after the glyph for LTR, before it for RTL; both are gaps). */
                if (by_cluster ? (is_cluster_gap(p, lr->first, ci) && (g == 0 || s.info[g - 1].cluster != o->cluster))
                               : is_justify_space(p, ci)) {
                    if (by_cluster && !out->rtl) {
                        o->x += extra;
                        pen += extra;
                    } else
                        pen += extra;
                }
            }
            int32_t top = NO_INK, bottom = NO_INK;
            hb_glyph_extents_t ext;
            if (s.ink) {
                top = s.ink[2 * g];
                bottom = s.ink[2 * g + 1];
            } else if (hb_font_get_glyph_extents(hbf, o->gid, &ext)) {
                top = ext.y_bearing;
                bottom = ext.y_bearing + ext.height;
            }
            if (top != NO_INK) {
                asc = fmax(asc, (top + s.pos[g].y_offset) * scale);
                desc = fmax(desc, -(bottom + s.pos[g].y_offset) * scale);
            }
        }
        out->glyph_count = n;
        /* A hyphenated line's hyphen, after its last character (the last piece of a left-to-right line), in that
         * character's cluster: drawn, but the text it stands for is the character alone, so the word copies
         * whole. */
        if (hyphen_gid && v + 1 == np && !out->rtl && s.count && r->font == p->font[visible - 1]) {
            vip_text_glyph *o = &out->glyphs[out->glyph_count++];
            int32_t adv = vip_font_glyph_advance(r->font, hyphen_gid);
            *o = (vip_text_glyph){.gid = hyphen_gid, .cluster = s.info[s.count - 1].cluster, .x_advance = adv,
                                  .x = pen, .y = 0, .advance = adv * scale};
            pen += o->advance;
        }
        out->width = pen;
        x += pen;
        if (owned) {
            free(s.info);
            free(s.pos);
        }
    }
    if (np == 0) {
        /* An empty line still has the height of the paragraph's font. */
        const vip_lang *lang = p->n ? p->lang[lr->first < p->n ? lr->first : p->n - 1] : NULL;
        const vip_font *f =
            lang ? vip_fontset_primary(t->fonts, lang->script, lang->tag, style->weight) : NULL;
        if (!f)
            f = vip_fontset_primary(t->fonts, "Latn", "en", style->weight);
        if (f) {
            const vip_font_metrics *m = vip_font_get_metrics(f);
            double size = style->size * vip_font_size_adjust(f);
            asc = fmin(m->ascender, 1.1 * m->upem) * size / m->upem;
            desc = fmin(-m->descender, 0.4 * m->upem) * size / m->upem;
        }
    }
    line->width = x;
    line->ascent = asc;
    line->descent = desc;
    line->leading = style->leading * style->size;

    /* Alignment: START is the left edge for LTR paragraphs and the right edge for RTL ones. */
    vip_align align = style->align;
    if (align == VIP_ALIGN_JUSTIFY)
        align = VIP_ALIGN_START;
    double shift = 0, room = width - x;
    if (align == VIP_ALIGN_CENTER)
        shift = room / 2;
    else if ((align == VIP_ALIGN_START) == !!vip_bidi_is_rtl(p->bidi))
        shift = room;
    if (extra > 0 || justified)
        shift = 0;
    for (size_t i = 0; i < line->run_count; i++)
        line->runs[i].x += shift;
    rc = VIP_OK;
done:
    free(levels);
    free(pieces);
    free(plevels);
    free(order);
    free(tatweels);
    if (rc == VIP_ERR_NOMEM)
        vip_error_set(err, rc, "out of memory");
    return rc;
}

void vip_paragraph_destroy(vip_paragraph *pg)
{
    if (!pg)
        return;
    if (pg->packed) {
        free(pg);
        return;
    }
    for (size_t i = 0; i < pg->line_count; i++) {
        for (size_t r = 0; r < pg->lines[i].run_count; r++)
            free(pg->lines[i].runs[r].glyphs);
        free(pg->lines[i].runs);
    }
    free(pg->lines);
    free(pg->text);
    free(pg);
}

static int alloc_arrays(para *p)
{
    size_t n = p->n + 1;
    p->cp = malloc(n * sizeof *p->cp);
    p->off = malloc(n * sizeof *p->off);
    p->char_at = malloc((p->len + 1) * sizeof *p->char_at);
    p->lang = malloc(n * sizeof *p->lang);
    p->weight = malloc(n * sizeof *p->weight);
    p->script = malloc(n * sizeof *p->script);
    p->font = malloc(n * sizeof *p->font);
    p->level = malloc(n);
    p->width = calloc(n, sizeof *p->width);
    p->sum = malloc((n + 1) * sizeof *p->sum);
    p->trim = malloc(n * sizeof *p->trim);
    return p->cp && p->off && p->char_at && p->lang && p->weight && p->script && p->font && p->level && p->width &&
                   p->sum && p->trim
               ? VIP_OK
               : VIP_ERR_NOMEM;
}

static void cached_free(cached *c)
{
    if (!c)
        return;
    para_free(&c->p);
    for (size_t i = 0; i < c->result_count; i++)
        free(c->results[i].paragraph);
    free(c->key);
    free(c->text);
    free(c);
}

/* About what an analysis holds, for the cache's bound. */
static size_t analysis_bytes(const cached *c)
{
    const para *p = &c->p;
    size_t b = sizeof *c + c->key_len + 2 * p->len + p->len * sizeof *p->char_at +
               p->n * (sizeof *p->cp + sizeof *p->off + sizeof *p->lang + sizeof *p->weight + sizeof *p->script +
                       sizeof *p->font + sizeof *p->level + 2 * sizeof *p->width + sizeof *p->trim) +
               p->run_count * sizeof *p->runs + p->break_count * sizeof *p->breaks +
               p->grapheme_count * sizeof *p->graphemes + (p->kashida ? p->n : 0);
    for (size_t i = 0; i < p->run_count; i++)
        b += p->runs[i].glyphs.count * (sizeof(hb_glyph_info_t) + sizeof(hb_glyph_position_t) + 2 * sizeof(int32_t));
    return b;
}

static void lru_unlink(vip_text *t, cached *c)
{
    if (c->newer)
        c->newer->older = c->older;
    else
        t->lru_newest = c->older;
    if (c->older)
        c->older->newer = c->newer;
    else
        t->lru_oldest = c->newer;
    c->newer = c->older = NULL;
}

static void lru_push_newest(vip_text *t, cached *c)
{
    c->older = t->lru_newest;
    c->newer = NULL;
    if (t->lru_newest)
        t->lru_newest->newer = c;
    t->lru_newest = c;
    if (!t->lru_oldest)
        t->lru_oldest = c;
}

/* Drops the least recently used analyses until the cache is within its bound, sparing `keep`. */
static void cache_trim(vip_text *t, const cached *keep)
{
    while (t->cache_bytes > t->cache_limit && t->lru_oldest && t->lru_oldest != keep) {
        cached *c = t->lru_oldest;
        lru_unlink(t, c);
        for (cached **b = &t->buckets[c->hash % CACHE_BUCKETS]; *b; b = &(*b)->bucket_next)
            if (*b == c) {
                *b = c->bucket_next;
                break;
            }
        t->cache_bytes -= c->bytes;
        cached_free(c);
    }
}

/* A paragraph in one allocation (the struct, its lines, runs, glyphs and text, in that order; each part's
 * items are multiples of 8 bytes, so every part stays aligned): what the cache keeps, and what a cache hit
 * returns a copy of. vip_paragraph_destroy frees it with one free(). */
static size_t packed_size(const vip_paragraph *src, size_t *run_count)
{
    size_t runs = 0, glyphs = 0;
    for (size_t i = 0; i < src->line_count; i++) {
        runs += src->lines[i].run_count;
        for (size_t r = 0; r < src->lines[i].run_count; r++)
            glyphs += src->lines[i].runs[r].glyph_count;
    }
    if (run_count)
        *run_count = runs;
    return sizeof *src + src->line_count * sizeof *src->lines + runs * sizeof(vip_text_run) +
           glyphs * sizeof(vip_text_glyph) + src->length + 1;
}

static vip_paragraph *pack_paragraph(const vip_paragraph *src, size_t *bytes)
{
    size_t runs;
    size_t size = packed_size(src, &runs);
    unsigned char *block = malloc(size);
    if (!block)
        return NULL;
    vip_paragraph *pg = (vip_paragraph *)block;
    *pg = *src;
    pg->packed = 1;
    vip_text_line *lines = (vip_text_line *)(block + sizeof *pg);
    vip_text_run *run = (vip_text_run *)(lines + src->line_count);
    vip_text_glyph *glyph = (vip_text_glyph *)(run + runs);
    pg->lines = lines;
    for (size_t i = 0; i < src->line_count; i++) {
        lines[i] = src->lines[i];
        lines[i].runs = run;
        for (size_t r = 0; r < src->lines[i].run_count; r++) {
            *run = src->lines[i].runs[r];
            run->glyphs = glyph;
            memcpy(glyph, src->lines[i].runs[r].glyphs, run->glyph_count * sizeof *glyph);
            glyph += run->glyph_count;
            run++;
        }
    }
    pg->text = (char *)glyph;
    memcpy(pg->text, src->text, src->length + 1);
    if (bytes)
        *bytes = size;
    return pg;
}

static void key_add(unsigned char **k, size_t *len, size_t *cap, const void *data, size_t n, int *fail)
{
    if (*fail)
        return;
    if (*len + n > *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        while (nc < *len + n)
            nc *= 2;
        unsigned char *nk = realloc(*k, nc);
        if (!nk) {
            *fail = 1;
            return;
        }
        *k = nk;
        *cap = nc;
    }
    memcpy(*k + *len, data, n);
    *len += n;
}

/* Ink-aware line spacing. A line's ink profile: for each column of COLUMN points across the paragraph, how far its
 * glyphs' outlines reach above and below the baseline (0 where it has none). */
#define COLUMN 0.5

static void line_profile(const vip_text_line *line, double left, size_t columns, double *above, double *below)
{
    for (size_t k = 0; k < columns; k++)
        above[k] = below[k] = 0;
    for (size_t r = 0; r < line->run_count; r++) {
        const vip_text_run *run = &line->runs[r];
        hb_font_t *hbf = vip_font_hb_font(run->font);
        double scale = run->size / vip_font_get_metrics(run->font)->upem;
        for (size_t g = 0; g < run->glyph_count; g++) {
            hb_glyph_extents_t e;
            if (!hb_font_get_glyph_extents(hbf, run->glyphs[g].gid, &e) || e.width == 0 || e.height == 0)
                continue;
            double x0 = run->x + run->glyphs[g].x + e.x_bearing * scale, x1 = x0 + e.width * scale;
            if (x1 < x0) {
                double t = x0;
                x0 = x1;
                x1 = t;
            }
            double top = run->glyphs[g].y + e.y_bearing * scale;
            double bottom = -(run->glyphs[g].y + (e.y_bearing + e.height) * scale);
            long c0 = lround(floor((x0 - left) / COLUMN)), c1 = lround(floor((x1 - left) / COLUMN));
            for (long k = c0 < 0 ? 0 : c0; k <= c1 && k < (long)columns; k++) {
                above[k] = fmax(above[k], top);
                below[k] = fmax(below[k], bottom);
            }
        }
    }
}

/* One line pitch for the whole paragraph (even spacing), as small as keeps every line's ink clear of the next's.
 * A line never gets less than its fonts' own line metrics (capped at 1.1 em above and 0.4 em below), so text whose
 * ink stays within them (Latin, Chinese) is spaced by the metrics alone. Where ink reaches beyond (Nastaliq's
 * tall stacks and deep tails), lines are brought as close as their ink profiles allow with a clearance, a tall
 * stack in one line sitting over a shallow stretch of the line above: about a tenth less height for Urdu than
 * spacing by the tallest and deepest ink of any line. The first line's ascent and the last line's descent still
 * hold all their ink, so the paragraph's box does. */
static int set_line_pitch(vip_paragraph *pg, double size)
{
    double max_asc = 0, max_desc = 0, metric = 0;
    for (size_t i = 0; i < pg->line_count; i++) {
        const vip_text_line *l = &pg->lines[i];
        max_asc = fmax(max_asc, l->ascent);
        max_desc = fmax(max_desc, l->descent);
        for (size_t r = 0; r < l->run_count; r++) {
            const vip_font_metrics *m = vip_font_get_metrics(l->runs[r].font);
            metric = fmax(metric, (fmin(m->ascender, 1.1 * m->upem) + fmin(-m->descender, 0.4 * m->upem)) *
                                      l->runs[r].size / m->upem);
        }
    }
    double pitch = max_asc + max_desc, last_desc = max_desc;
    if (pg->line_count > 1 && pitch > metric + 1e-9) {
        double left = 0, right = 0;
        for (size_t i = 0; i < pg->line_count; i++)
            for (size_t r = 0; r < pg->lines[i].run_count; r++) {
                const vip_text_run *run = &pg->lines[i].runs[r];
                left = fmin(left, run->x - size);
                right = fmax(right, run->x + run->width + size);
            }
        size_t columns = (size_t)ceil((right - left) / COLUMN) + 1;
        double *prof = malloc(4 * columns * sizeof *prof);
        if (!prof)
            return VIP_ERR_NOMEM;
        double *above = prof, *below = prof + columns, *next_above = prof + 2 * columns, *next_below = prof + 3 * columns;
        double need = 0, clearance = 0.1 * size;
        long spread = lround(ceil(0.05 * size / COLUMN)); /* side by side closer than this counts as touching */
        line_profile(&pg->lines[0], left, columns, above, below);
        for (size_t i = 1; i < pg->line_count; i++) {
            line_profile(&pg->lines[i], left, columns, next_above, next_below);
            /* No ink-free column counts as less than the baseline: a line's baseline stays below the ink above. */
            for (size_t k = 0; k < columns; k++)
                for (long d = -spread; d <= spread; d++) {
                    long j = (long)k + d;
                    if (j >= 0 && j < (long)columns)
                        need = fmax(need, below[k] + next_above[j]);
                }
            memcpy(above, next_above, columns * sizeof *above);
            memcpy(below, next_below, columns * sizeof *below);
        }
        free(prof);
        pitch = fmin(pitch, fmax(metric, need + clearance));
    }
    /* Lines above the last get the descent that makes the pitch; the last keeps its own below. */
    for (size_t i = 0; i < pg->line_count; i++) {
        pg->lines[i].ascent = max_asc;
        pg->lines[i].descent = i + 1 < pg->line_count ? pitch - max_asc : last_desc;
        pg->height += pg->lines[i].ascent + pg->lines[i].descent + pg->lines[i].leading;
    }
    return VIP_OK;
}

/* Everything about a paragraph that does not depend on its size or width: characters, bidi levels, scripts,
 * languages, fonts, runs and their shaped glyphs. */
static cached *analyse(vip_text *t, const char *utf8, size_t len, const vip_text_style *style, const vip_lang *base,
                       const vip_text_span *spans, size_t span_count, const char *where, vip_error *err)
{
    cached *c = calloc(1, sizeof *c);
    if (!c || !(c->text = malloc(len + 1)))
        goto nomem;
    memcpy(c->text, utf8, len);
    c->text[len] = '\0';
    para *p = &c->p;
    p->text = c->text;
    p->len = len;
    uint32_t cp;
    for (size_t i = 0; i < len; i += utf8_decode((const unsigned char *)utf8, len, i, &cp))
        p->n++;
    if (alloc_arrays(p))
        goto nomem;
    size_t ci = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_decode((const unsigned char *)utf8, len, i, &p->cp[ci]);
        p->off[ci] = (uint32_t)i;
        for (size_t b = 0; b < k; b++)
            p->char_at[i + b] = (uint32_t)ci;
        p->lang[ci] = base;
        p->weight[ci] = style->weight;
        i += k;
        ci++;
    }
    p->off[p->n] = (uint32_t)len;
    p->char_at[len] = (uint32_t)p->n;
    /* Spans in order, a later one overriding an earlier one where they overlap: each costs only its own length,
     * however many there are. */
    for (size_t s = 0; s < span_count; s++) {
        if (spans[s].start >= len || spans[s].end <= spans[s].start)
            continue;
        const vip_lang *lang = spans[s].lang ? vip_lang_find(spans[s].lang, NULL) : NULL;
        for (size_t c = p->char_at[spans[s].start]; c < p->n && p->off[c] < spans[s].end; c++) {
            if (p->off[c] < spans[s].start)
                continue; /* the span starts inside this character */
            if (spans[s].lang)
                p->lang[c] = lang;
            if (spans[s].weight != VIP_WEIGHT_KEEP)
                p->weight[c] = spans[s].weight;
        }
    }
    p->trim[0] = 0;
    for (size_t i = 0; i < p->n; i++)
        p->trim[i + 1] = is_line_end_space(p->cp[i]) ? p->trim[i] : (uint32_t)(i + 1);

    vip_bidi_base bb = style->dir == VIP_DIR_LTR   ? VIP_BIDI_LTR
                       : style->dir == VIP_DIR_RTL ? VIP_BIDI_RTL
                       : base->rtl                 ? VIP_BIDI_AUTO_RTL
                                                   : VIP_BIDI_AUTO_LTR;
    if (!(p->bidi = vip_bidi_create(p->text, len, bb, err))) {
        cached_free(c);
        return NULL;
    }
    for (size_t i = 0; i < p->n; i++)
        p->level[i] = vip_bidi_level_at(p->bidi, p->off[i]);
    resolve_scripts(p);
    pick_fonts(t, p, where);
    if (build_runs(t, p) || find_kashida_places(p))
        goto nomem;
    return c;
nomem:
    cached_free(c);
    vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    return NULL;
}

/* The analysis of a paragraph, from the cache or made now (and kept). The cache owns what it returns. */
static cached *analysed(vip_text *t, const char *utf8, size_t len, const vip_text_style *style, const vip_lang *base,
                      const vip_text_span *spans, size_t span_count, const char *where, vip_error *err)
{
    unsigned char *key = NULL;
    size_t klen = 0, kcap = 0;
    int fail = 0;
    unsigned char dw[2] = {(unsigned char)style->dir, (unsigned char)style->weight};
    key_add(&key, &klen, &kcap, base->tag, strlen(base->tag) + 1, &fail);
    key_add(&key, &klen, &kcap, dw, 2, &fail);
    for (size_t s = 0; s < span_count; s++) {
        uint64_t range[3] = {spans[s].start, spans[s].end, (uint64_t)spans[s].weight};
        const char *l = spans[s].lang ? spans[s].lang : "";
        key_add(&key, &klen, &kcap, range, sizeof range, &fail);
        key_add(&key, &klen, &kcap, l, strlen(l) + 1, &fail);
    }
    key_add(&key, &klen, &kcap, utf8, len, &fail);
    if (fail) {
        free(key);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < klen; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    cached **bucket = &t->buckets[h % CACHE_BUCKETS];
    for (cached *c = *bucket; c; c = c->bucket_next)
        if (c->hash == h && c->key_len == klen && memcmp(c->key, key, klen) == 0) {
            free(key);
            lru_unlink(t, c);
            lru_push_newest(t, c);
            for (size_t i = 0; c->p.warned_generation != t->warn_generation && i < c->p.missing_count; i++)
                warn_missing(t, &c->p, c->p.missing[i], where);
            c->p.warned_generation = t->warn_generation;
            return c;
        }
    cached *c = analyse(t, utf8, len, style, base, spans, span_count, where, err);
    if (!c) {
        free(key);
        return NULL;
    }
    c->hash = h;
    c->key = key;
    c->key_len = klen;
    c->bucket_next = *bucket;
    *bucket = c;
    lru_push_newest(t, c);
    return c;
}

/* Counts what an analysis holds now (layout adds break opportunities and results) and keeps the cache bounded. */
static void cache_account(vip_text *t, cached *c)
{
    size_t bytes = analysis_bytes(c);
    for (size_t i = 0; i < c->result_count; i++)
        bytes += c->results[i].bytes;
    t->cache_bytes = t->cache_bytes - c->bytes + bytes;
    c->bytes = bytes;
    cache_trim(t, c);
}

vip_paragraph *vip_text_layout_paragraph(vip_text *t, const char *utf8, size_t len, const vip_text_style *style,
                                         const vip_text_span *spans, size_t span_count, double width,
                                         const char *where, vip_error *err)
{
    vip_paragraph *pg = NULL, *packed = NULL;
    line_range *ranges = NULL;
    size_t nranges = 0;
    int rc;
    if ((rc = vip_text_check_utf8(utf8, len, err)))
        goto fail;
    const vip_lang *base = vip_lang_find(style->lang, err);
    if (!base)
        goto fail;
    for (size_t s = 0; s < span_count; s++)
        if (spans[s].lang && !vip_lang_find(spans[s].lang, err))
            goto fail;
    cached *c = analysed(t, utf8, len, style, base, spans, span_count, where, err);
    if (!c)
        goto fail;
    for (size_t i = 0; i < c->result_count; i++) {
        const laid_out *r = &c->results[i];
        if (r->size == style->size && r->width == width && r->leading == style->leading && r->align == style->align) {
            if (!(packed = pack_paragraph(r->paragraph, NULL)))
                goto nomem;
            return packed;
        }
    }
    para *p = &c->p;
    measure_widths(p, style->size);
    double overflow;
    size_t over[2];
    if ((rc = break_lines(t, p, base, width, style->size, style->align == VIP_ALIGN_JUSTIFY, &ranges, &nranges,
                          &overflow, over, err)))
        goto fail;

    if (!(pg = calloc(1, sizeof *pg)) || !(pg->text = malloc(len + 1)) ||
        !(pg->lines = calloc(nranges, sizeof *pg->lines)))
        goto nomem;
    memcpy(pg->text, utf8, len);
    pg->text[len] = '\0';
    pg->length = len;
    pg->rtl = vip_bidi_is_rtl(p->bidi);
    pg->overflow = overflow;
    pg->overflow_start = p->off[over[0]];
    pg->overflow_end = p->off[over[1]];
    for (size_t i = 0; i < nranges; i++) {
        pg->line_count++;
        if ((rc = build_line(t, p, &ranges[i], i + 1 == nranges, style, width, &pg->lines[i], err)))
            goto fail;
    }
    if ((rc = set_line_pitch(pg, style->size)))
        goto nomem;
    free(ranges);
    ranges = NULL;
    /* A result bigger than the whole cache would only push everything else out, itself next: it is handed back
     * as it is, not copied and kept. */
    if (packed_size(pg, NULL) > t->cache_limit) {
        cache_account(t, c);
        return pg;
    }
    /* Kept for the next request alike (the oldest result of this analysis makes room), and returned packed. */
    size_t bytes;
    vip_paragraph *kept = pack_paragraph(pg, &bytes);
    if (!kept || !(packed = pack_paragraph(pg, NULL))) {
        free(kept);
        goto nomem;
    }
    vip_paragraph_destroy(pg);
    laid_out *slot = &c->results[c->next_result];
    if (c->result_count < CACHE_MAX_RESULTS)
        c->result_count++;
    else
        free(slot->paragraph);
    *slot = (laid_out){style->size, width, style->leading, style->align, kept, bytes};
    c->next_result = (c->next_result + 1) % CACHE_MAX_RESULTS;
    cache_account(t, c);
    return packed;
nomem:
    vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
fail:
    if (where && err)
        vip_error_prefix(err, "%s: ", where);
    free(ranges);
    vip_paragraph_destroy(pg);
    return NULL;
}
