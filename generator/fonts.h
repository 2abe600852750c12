/* vip_fonts: the fonts named in fonts/manifest, loaded once per process and shared by every document.
 * A font is one face of one file; a fontset picks, for a character, the font that serves its script and
 * language, falling back along the manifest's order. */
#ifndef VIP_FONTS_H
#define VIP_FONTS_H

#include <hb.h>
#include <stdint.h>

#include "error.h"

typedef struct vip_font vip_font;
typedef struct vip_fontset vip_fontset;

typedef enum { VIP_WEIGHT_REGULAR = 0, VIP_WEIGHT_BOLD = 1 } vip_weight;

/* Metrics in font units (see upem), for line heights and the PDF font descriptor. */
typedef struct vip_font_metrics {
    unsigned upem;
    int ascender, descender, line_gap; /* typographic line metrics; descender is negative */
    int cap_height;
    int bbox[4];                       /* xMin yMin xMax yMax from the head table */
    int italic_angle;
} vip_font_metrics;

/* Reads the manifest and loads every font it names. A missing font file is an error naming the file and the
 * Debian package that provides it. */
vip_fontset *vip_fontset_load(const char *manifest_path, vip_error *err);
void vip_fontset_destroy(vip_fontset *set);

/* The font for codepoint cp in the given script (ISO 15924, e.g. "Arab") and language tag ("ur"):
 * first a font listed for that script and language, then one listed for the script, then any font in manifest
 * order; each only if it has a glyph for cp. Returns NULL when no font has the character. Fonts of the requested
 * weight are preferred; the other weight serves when none of it has the character. */
const vip_font *vip_fontset_pick(const vip_fontset *set, const char *script, const char *lang, vip_weight weight,
                                 uint32_t cp);

/* The font a script and language would use for text in general (for empty lines and line metrics). */
const vip_font *vip_fontset_primary(const vip_fontset *set, const char *script, const char *lang,
                                    vip_weight weight);

const char *vip_font_name(const vip_font *font);           /* manifest name, e.g. "naskh" */
const char *vip_font_path(const vip_font *font);
unsigned vip_font_face_index(const vip_font *font);
const char *vip_font_postscript_name(const vip_font *font); /* from the name table; never NULL */
int vip_font_is_cff(const vip_font *font);                  /* outlines in a CFF table rather than glyf */
const vip_font_metrics *vip_font_get_metrics(const vip_font *font);
hb_face_t *vip_font_hb_face(const vip_font *font);          /* owned by the font */
hb_font_t *vip_font_hb_font(const vip_font *font);          /* owned by the font; scale = upem */
/* The face prepared once by hb_subset_preprocess, for fast per-document subsets; made on first use. */
hb_face_t *vip_font_subset_face(const vip_font *font);
/* Prepares the subsetting data (hb_subset_preprocess; about a second for a CJK font) of the fonts a script and
 * language use, in both weights. A batch calls it before starting worker processes, which then share the prepared
 * faces instead of each making its own. */
void vip_fontset_prepare_subsetting(const vip_fontset *set, const char *script, const char *lang);
/* Horizontal advance of a glyph in font units, as the font's hmtx has it (what a PDF /W entry must say). */
int vip_font_glyph_advance(const vip_font *font, uint32_t gid);
/* The font's own glyph for a character, or 0 when it has none. */
uint32_t vip_font_nominal_glyph(const vip_font *font, uint32_t cp);

#endif
