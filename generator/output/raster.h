/* vip_raster: PNG pictures of a PDF's pages, drawn by poppler (poppler-glib) onto cairo image surfaces, with
 * marks over them — coloured outlines around places on a page and a label in the margin beside each — for the
 * translators' preview. */
#ifndef VIP_RASTER_H
#define VIP_RASTER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VIP_RASTER_MAX_COLORS 4

/* A place on a page, in PDF points from the page's top-left corner, outlined in each of its colours (nested). */
typedef struct vip_raster_mark {
    size_t page;                 /* 0-based */
    double x, y, width, height;
    uint32_t colors[VIP_RASTER_MAX_COLORS]; /* 0xRRGGBB */
    size_t color_count;          /* 0: a thin grey outline */
    const char *label;           /* ASCII, printed in the margin beside the place (may be NULL) */
    int label_right;             /* the label goes in the right margin (right-to-left pages), else the left */
} vip_raster_mark;

typedef struct vip_raster vip_raster;

/* The font the margin labels are set in: a font file (e.g. the Latin font of fonts/manifest), through FreeType, so
 * that no system font lookup is involved. */
typedef struct vip_raster_font vip_raster_font;
vip_raster_font *vip_raster_font_load(const char *path, unsigned face_index, vip_error *err);
void vip_raster_font_destroy(vip_raster_font *font);

/* Opens a PDF held in memory (copied). */
vip_raster *vip_raster_open(const unsigned char *pdf, size_t len, vip_error *err);
void vip_raster_destroy(vip_raster *raster);
size_t vip_raster_page_count(const vip_raster *raster);
/* Page size in points. */
void vip_raster_page_size(const vip_raster *raster, size_t page, double *width, double *height);

/* Draws page (0-based) at scale pixels per point with the marks that are on it, their labels in label_font (NULL:
 * no labels), as a PNG in a malloc'd buffer (*png, *png_len; the caller frees *png). */
int vip_raster_render_png(vip_raster *raster, size_t page, double scale, const vip_raster_mark *marks,
                          size_t mark_count, const vip_raster_font *label_font, unsigned char **png,
                          size_t *png_len, vip_error *err);

#endif
