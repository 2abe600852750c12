#include "raster.h"

#include <cairo-ft.h>
#include <cairo.h>
#include <math.h>
#include <png.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>


struct vip_raster {
    PopplerDocument *doc;
    GBytes *bytes;
};

vip_raster *vip_raster_open(const unsigned char *pdf, size_t len, vip_error *err)
{
    vip_raster *r = calloc(1, sizeof *r);
    if (!r) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->bytes = g_bytes_new(pdf, len);
    GError *gerr = NULL;
    r->doc = poppler_document_new_from_bytes(r->bytes, NULL, &gerr);
    if (!r->doc) {
        vip_error_set(err, VIP_ERR_INTERNAL, "poppler cannot read the PDF: %s", gerr ? gerr->message : "unknown");
        if (gerr)
            g_error_free(gerr);
        vip_raster_destroy(r);
        return NULL;
    }
    return r;
}

void vip_raster_destroy(vip_raster *r)
{
    if (!r)
        return;
    if (r->doc)
        g_object_unref(r->doc);
    if (r->bytes)
        g_bytes_unref(r->bytes);
    free(r);
}

size_t vip_raster_page_count(const vip_raster *r)
{
    int n = poppler_document_get_n_pages(r->doc);
    return n > 0 ? (size_t)n : 0;
}

void vip_raster_page_size(const vip_raster *r, size_t page, double *width, double *height)
{
    *width = *height = 0;
    PopplerPage *p = poppler_document_get_page(r->doc, (int)page);
    if (p) {
        poppler_page_get_size(p, width, height);
        g_object_unref(p);
    }
}

struct vip_raster_font {
    cairo_font_face_t *face;
};

/* What the cairo font face keeps alive: freed when cairo lets go of the face (it may cache it after we do). */
typedef struct ft_hold {
    FT_Library library;
    FT_Face face;
} ft_hold;

static const cairo_user_data_key_t hold_key;

static void release_hold(void *data)
{
    ft_hold *h = data;
    FT_Done_Face(h->face);
    FT_Done_FreeType(h->library);
    free(h);
}

vip_raster_font *vip_raster_font_load(const char *path, unsigned face_index, vip_error *err)
{
    vip_raster_font *f = calloc(1, sizeof *f);
    ft_hold *h = calloc(1, sizeof *h);
    if (!f || !h) {
        free(f);
        free(h);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (FT_Init_FreeType(&h->library)) {
        free(f);
        free(h);
        vip_error_set(err, VIP_ERR_FONT, "FreeType cannot start");
        return NULL;
    }
    if (FT_New_Face(h->library, path, (FT_Long)face_index, &h->face)) {
        FT_Done_FreeType(h->library);
        free(f);
        free(h);
        vip_error_set(err, VIP_ERR_FONT, "%s: FreeType cannot read the font", path);
        return NULL;
    }
    f->face = cairo_ft_font_face_create_for_ft_face(h->face, 0);
    if (cairo_font_face_set_user_data(f->face, &hold_key, h, release_hold) != CAIRO_STATUS_SUCCESS) {
        cairo_font_face_destroy(f->face);
        release_hold(h);
        free(f);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return f;
}

void vip_raster_font_destroy(vip_raster_font *f)
{
    if (!f)
        return;
    cairo_font_face_destroy(f->face);
    free(f);
}

static void set_color(cairo_t *cr, uint32_t rgb, double alpha)
{
    cairo_set_source_rgba(cr, ((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0, (rgb & 0xFF) / 255.0,
                          alpha);
}

/* The outlines (one per colour, each inside the last) and the margin label of one mark. */
static void draw_mark(cairo_t *cr, const vip_raster_mark *m, double page_width, const vip_raster_font *font)
{
    const double pad = 1.5, step = 1.6;
    if (m->color_count == 0) {
        cairo_set_line_width(cr, 0.4);
        set_color(cr, 0x9CA3AF, 0.9);
        cairo_rectangle(cr, m->x - pad, m->y - pad, m->width + 2 * pad, m->height + 2 * pad);
        cairo_stroke(cr);
    }
    for (size_t i = 0; i < m->color_count && i < VIP_RASTER_MAX_COLORS; i++) {
        double inset = pad - step * (double)i;
        /* A light wash under the first outline, so that a marked place shows at a glance. */
        if (i == 0) {
            set_color(cr, m->colors[0], 0.10);
            cairo_rectangle(cr, m->x - pad, m->y - pad, m->width + 2 * pad, m->height + 2 * pad);
            cairo_fill(cr);
        }
        cairo_set_line_width(cr, 1.1);
        set_color(cr, m->colors[i], 0.95);
        cairo_rectangle(cr, m->x - inset, m->y - inset, m->width + 2 * inset, m->height + 2 * inset);
        cairo_stroke(cr);
    }
    if (!m->label || !*m->label || !font)
        return;
    cairo_set_font_face(cr, font->face);
    cairo_set_font_size(cr, 5.0);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, m->label, &ext);
    double x = m->label_right ? fmin(page_width - ext.x_advance - 2, m->x + m->width + 4)
                              : fmax(2, m->x - ext.x_advance - 4);
    double y = m->y + 5;
    set_color(cr, 0xFFFFFF, 0.85);
    cairo_rectangle(cr, x - 1, y - 5, ext.x_advance + 2, 6.5);
    cairo_fill(cr);
    set_color(cr, m->color_count ? m->colors[0] : 0x4B5563, 1);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, m->label);
}

typedef struct png_buffer {
    unsigned char *data;
    size_t len, cap;
    int failed;
} png_buffer;

static void append_png(png_structp png, png_bytep data, png_size_t length)
{
    png_buffer *b = png_get_io_ptr(png);
    if (b->failed)
        return;
    if (b->len + length > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + length)
            cap *= 2;
        unsigned char *nd = realloc(b->data, cap);
        if (!nd) {
            b->failed = 1;
            return;
        }
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
}

static void flush_png(png_structp png)
{
    (void)png;
}

static void on_png_error(png_structp png, png_const_charp message)
{
    (void)message;
    png_longjmp(png, 1);
}

/* The surface as an 8-bit RGB PNG, compressed for speed rather than size (cairo's own writer compresses harder,
 * and a live preview draws every page again after each change). */
static int encode_png(cairo_surface_t *surface, png_buffer *out)
{
    int w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface);
    int stride = cairo_image_surface_get_stride(surface);
    const unsigned char *pixels = cairo_image_surface_get_data(surface);
    unsigned char *row = malloc((size_t)w * 3);
    png_structp png = row ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, on_png_error, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        free(row);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return -1;
    }
    png_set_write_fn(png, out, append_png, flush_png);
    png_set_compression_level(png, 1);
    png_set_filter(png, 0, PNG_FILTER_SUB);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        /* CAIRO_FORMAT_RGB24: one native-endian 32-bit word per pixel, 0x00RRGGBB. */
        const uint32_t *src = (const uint32_t *)(const void *)(pixels + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            row[3 * x] = (unsigned char)(src[x] >> 16);
            row[3 * x + 1] = (unsigned char)(src[x] >> 8);
            row[3 * x + 2] = (unsigned char)src[x];
        }
        png_write_row(png, row);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    return out->failed ? -1 : 0;
}

int vip_raster_render_png(vip_raster *r, size_t page, double scale, const vip_raster_mark *marks,
                          size_t mark_count, const vip_raster_font *label_font, unsigned char **png,
                          size_t *png_len, vip_error *err)
{
    *png = NULL;
    *png_len = 0;
    PopplerPage *p = page < vip_raster_page_count(r) ? poppler_document_get_page(r->doc, (int)page) : NULL;
    if (!p)
        return vip_error_set(err, VIP_ERR_INTERNAL, "the PDF has no page %zu", page + 1);
    double w, h;
    poppler_page_get_size(p, &w, &h);
    int pw = (int)(w * scale + 0.5), ph = (int)(h * scale + 0.5);
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    poppler_page_render(p, cr);
    for (size_t i = 0; i < mark_count; i++)
        if (marks[i].page == page)
            draw_mark(cr, &marks[i], w, label_font);
    int rc = VIP_OK;
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        rc = vip_error_set(err, VIP_ERR_INTERNAL, "page %zu: cairo: %s", page + 1,
                           cairo_status_to_string(cairo_status(cr)));
    cairo_destroy(cr);
    png_buffer buf = {0};
    if (!rc) {
        cairo_surface_flush(surface);
        if (encode_png(surface, &buf)) {
            free(buf.data);
            rc = vip_error_set(err, VIP_ERR_NOMEM, "page %zu: out of memory for its picture", page + 1);
        } else {
            *png = buf.data;
            *png_len = buf.len;
        }
    }
    cairo_surface_destroy(surface);
    g_object_unref(p);
    return rc;
}
