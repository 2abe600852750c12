/* vip_fonts: the fonts named in fonts/manifest, loaded once per process and shared by every document.
 * A font is one face of one file; a fontset picks, for a character, the font that serves its script and
 * language, falling back along the manifest's order. */
#ifndef VIP_FONTS_H
#define VIP_FONTS_H

#include <hb-subset.h>
#include <hb.h>
#include <stdint.h>

#include "error.h"

typedef struct vip_font vip_font;
typedef struct vip_fontset vip_fontset;

typedef enum {
    VIP_WEIGHT_REGULAR = 0,
    VIP_WEIGHT_BOLD = 1,
    VIP_WEIGHT_KEEP = 2 /* a text span's only: the weight of the text around it (a span for its language alone) */
} vip_weight;

/* Metrics in font units (see upem), for line heights and the PDF font descriptor. */
typedef struct vip_font_metrics {
    unsigned upem;
    int ascender, descender, line_gap; /* typographic line metrics; descender is negative */
    int cap_height;
    int x_height;                      /* measured from outlines (see fonts.c read_metrics) */
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

/* A number no other font loaded by this process has: a key for caches that outlive a fontset. */
uint64_t vip_font_serial(const vip_font *font);
const char *vip_font_name(const vip_font *font);           /* manifest name, e.g. "naskh" */
const char *vip_font_path(const vip_font *font);
unsigned vip_font_face_index(const vip_font *font);
const char *vip_font_postscript_name(const vip_font *font); /* from the name table; never NULL */
int vip_font_is_cff(const vip_font *font);                  /* outlines in a CFF table rather than glyf */
const vip_font_metrics *vip_font_get_metrics(const vip_font *font);
/* The factor an Arabic-script font's type size is multiplied by so that its letters read as large as the Latin
 * beside them, as CSS font-size-adjust does: the manifest's first regular Latin font's x-height over the x-height
 * of the font's regular face (x_height above; both weights of a family get the same factor, so bold reads the
 * size of regular). 1 for every other script. Between 1 and 1.5: Naskh about 1.31, Nastaliq 1. */
double vip_font_size_adjust(const vip_font *font);
hb_face_t *vip_font_hb_face(const vip_font *font);          /* owned by the font */
hb_font_t *vip_font_hb_font(const vip_font *font);          /* owned by the font; scale = upem */
/* Subsetting (hb-subset) for embedding. Every subset is made with these flags: no hinting (about half the size),
 * and .notdef keeps its outline (a character no font has shows as a box). */
#define VIP_FONT_SUBSET_FLAGS (HB_SUBSET_FLAGS_NO_HINTING | HB_SUBSET_FLAGS_NOTDEF_OUTLINE)

/* Prepares the fonts a script and language use, in both weights, for the many subsets of a batch; called before
 * worker processes start, which then share what it made. A glyf font is preprocessed whole
 * (hb_subset_preprocess: a few ms). Preprocessing a CFF font takes about a second (CJK), so it is first cut down
 * to the glyphs that the characters of repertoire (the batch's text) shape to, and only that is preprocessed. */
void vip_fontset_prepare_subsetting(const vip_fontset *set, const char *script, const char *lang,
                                    const uint32_t *repertoire, size_t n);
/* The face to cut a subset of glyphs gids[0..n) from, with the glyphs' IDs in that face in source_gids[0..n):
 * the reduced face of a prepared CFF font when it holds them all, else the whole face (preprocessed if prepared).
 * A subset cut from either is byte for byte the same. */
hb_face_t *vip_font_subset_source(const vip_font *font, const uint32_t *gids, size_t n, uint32_t *source_gids);
/* Horizontal advance of a glyph in font units, as the font's hmtx has it (what a PDF /W entry must say). */
int vip_font_glyph_advance(const vip_font *font, uint32_t gid);
/* The font's own glyph for a character, or 0 when it has none. */
uint32_t vip_font_nominal_glyph(const vip_font *font, uint32_t cp);

#endif
