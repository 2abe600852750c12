/* vip_text: one paragraph of UTF-8 text in, lines of positioned glyph runs in visual order out.
 * The pipeline, in the order it runs (libraqm's, with line breaking between shaping and reordering):
 *   1. bidi levels for the paragraph (ICU ubidi; base direction from the style, the text or the language)
 *   2. runs split by bidi level, script (common and inherited characters join their neighbours), language
 *      and font (fallback along fonts/manifest)
 *   3. each run shaped by HarfBuzz with script, direction and language set, in the paragraph's context
 *   4. lines broken at ICU line-break opportunities by the shaped widths (a run cut by a line end is
 *      re-shaped only where HarfBuzz says the cut changes its glyphs)
 *   5. each line re-levelled (L1) and its runs reordered (L2); aligned and justified. */
#ifndef VIP_TEXT_H
#define VIP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fonts.h"

typedef enum { VIP_DIR_AUTO = 0, VIP_DIR_LTR, VIP_DIR_RTL } vip_dir;
typedef enum { VIP_ALIGN_START = 0, VIP_ALIGN_END, VIP_ALIGN_CENTER, VIP_ALIGN_JUSTIFY } vip_align;

/* A stretch of the paragraph (byte range) with its own language and weight, e.g. a Latin name in Urdu. */
typedef struct vip_text_span {
    size_t start, end;
    const char *lang;   /* BCP 47 tag; NULL keeps the paragraph's */
    vip_weight weight;
} vip_text_span;

typedef struct vip_text_style {
    const char *lang;    /* BCP 47 tag of the paragraph (required) */
    vip_dir dir;         /* AUTO: from the first strong character, else from the language */
    vip_align align;     /* START is the left edge in LTR paragraphs, the right edge in RTL ones */
    double size;         /* font size in points */
    double leading;      /* extra space between lines, as a fraction of size (e.g. 0.25) */
    vip_weight weight;
} vip_text_style;

typedef struct vip_text_glyph {
    uint32_t gid;
    uint32_t cluster;          /* byte offset into the paragraph's text */
    int32_t x_advance, x_offset, y_offset; /* as HarfBuzz gave them, font units */
    double x, y;               /* pen position in points, relative to the run's left end; y up */
    double advance;            /* x_advance in points */
} vip_text_glyph;

typedef struct vip_text_run {
    const vip_font *font;
    double size;
    int rtl;
    const char *lang;          /* canonical tag of the run's language */
    char script[5];            /* ISO 15924 code the run was shaped with */
    uint32_t start, end;       /* byte range in the paragraph's text */
    vip_text_glyph *glyphs;    /* visual order */
    size_t glyph_count;
    double x;                  /* left end, relative to the line's left edge (alignment applied) */
    double width;
} vip_text_run;

typedef struct vip_text_line {
    vip_text_run *runs;        /* visual order, left to right */
    size_t run_count;
    uint32_t start, end;       /* byte range of the line in the paragraph's text */
    double width;              /* width of the content, trailing spaces excluded */
    double ascent, descent;    /* extent above and below the baseline in points (positive), glyph ink included */
    double leading;            /* extra space to leave below the line */
} vip_text_line;

typedef struct vip_paragraph {
    char *text;                /* the paragraph's text (a copy), NUL-terminated */
    size_t length;
    int rtl;                   /* resolved paragraph direction */
    vip_text_line *lines;
    size_t line_count;
    double height;             /* sum of the lines' ascent + descent + leading */
    double overflow;           /* points by which the widest piece with no break opportunity (a long word) is
                                * wider than the line; such a piece is cut between graphemes. 0: all fit */
    uint32_t overflow_start, overflow_end; /* that piece's byte range in text */
    int packed;                /* held in one allocation (see vip_paragraph_destroy) */
} vip_paragraph;

/* A text context: fonts, line breakers and HarfBuzz buffers, reused across paragraphs. One per thread. */
typedef struct vip_text vip_text;

vip_text *vip_text_create(const vip_fontset *fonts, vip_error *err);
void vip_text_destroy(vip_text *text);
/* Where warnings go (characters no font can show); default stderr. */
void vip_text_set_warnings(vip_text *text, vip_warn_sink sink);
/* How many bytes the context may keep of analysed and laid-out paragraphs for reuse (default 32 MB; a batch of
 * letters in eight languages uses about 20); the least recently used go first. 0 keeps only the paragraph in
 * hand. */
void vip_text_set_cache_limit(vip_text *text, size_t bytes);

/* Lays one paragraph out into lines no wider than width (points). Invalid UTF-8 is an error giving the byte
 * offset; an unknown language an error listing the supported ones; a character no font has a warning naming
 * the code point and its offset (it is drawn with the font's .notdef glyph, never silently dropped).
 * `where` names the paragraph in messages (e.g. "sample.txt:12"); may be NULL. */
vip_paragraph *vip_text_layout_paragraph(vip_text *text, const char *utf8, size_t len, const vip_text_style *style,
                                         const vip_text_span *spans, size_t span_count, double width,
                                         const char *where, vip_error *err);
void vip_paragraph_destroy(vip_paragraph *paragraph);

/* Checks that len bytes are well-formed UTF-8; on failure returns VIP_ERR_INPUT with the byte offset. */
int vip_text_check_utf8(const char *utf8, size_t len, vip_error *err);

#endif
