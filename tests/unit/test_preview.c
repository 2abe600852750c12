/* The preview's parts against the real templates, catalogues, fonts and example cases: the template merge records
 * per block the units it printed (only when asked), layout records where each block went and pdftotext finds the
 * block's text there, poppler draws the page with a mark whose colour and the text's ink libpng reads back, and a
 * second render reuses every page picture that did not change (one unit changed: only its pages are drawn). */
#include <cairo.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unicode/uclean.h>

#include "case.h"
#include "catalog.h"
#include "check.h"
#include "fonts.h"
#include "layout.h"
#include "pdf.h"
#include "preview.h"
#include "raster.h"
#include "template.h"
#include "text.h"

static char dir[64];

static void quiet(void *user, const char *message)
{
    (void)user;
    (void)message;
}

static const vip_block *block_with_unit(const vip_doc *doc, const char *id, size_t *index)
{
    for (size_t i = 0; i < doc->block_count; i++)
        for (size_t k = 0; k < doc->blocks[i].unit_count; k++)
            if (strcmp(doc->blocks[i].units[k], id) == 0) {
                if (index)
                    *index = i;
                return &doc->blocks[i];
            }
    return NULL;
}

/* pdftotext's reading of a rectangle (points) of a page of a PDF file. */
static void text_in(const char *pdf, size_t page, const vip_page_area *a, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "pdftotext -f %zu -l %zu -r 72 -x %d -y %d -W %d -H %d '%s' -", page + 1, page + 1,
             (int)a->x - 2, (int)a->y - 2, (int)a->width + 4, (int)a->height + 4, pdf);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, size - 1, p) : 0;
    out[n] = '\0';
    if (p)
        pclose(p);
    for (char *c = out; *c; c++)
        if (*c == '\n')
            *c = ' ';
}

/* Reads a PNG with libpng into 8-bit RGB rows. */
static unsigned char *read_png(const unsigned char *data, size_t len, unsigned *w, unsigned *h)
{
    png_image image = {.version = PNG_IMAGE_VERSION};
    if (!png_image_begin_read_from_memory(&image, data, len))
        return NULL;
    image.format = PNG_FORMAT_RGB;
    unsigned char *pixels = malloc(PNG_IMAGE_SIZE(image));
    if (pixels && !png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        free(pixels);
        return NULL;
    }
    *w = image.width;
    *h = image.height;
    return pixels;
}

static void test_merge_and_layout(void)
{
    vip_error err = {0};
    vip_fontset *fonts = vip_fontset_load("fonts/manifest", &err);
    vip_text *text = fonts ? vip_text_create(fonts, &err) : NULL;
    vip_template *tmpl = vip_template_load("templates/letter.xml", "templates/template.rng", &err);
    vip_catalog *cat = vip_catalog_load("translations/en.xlf", &err);
    vip_case_set *cases = vip_case_read("examples/cases.csv", &err);
    CHECK("real templates, catalogue, fonts and cases load", text && tmpl && cat && cases && cases->row_count,
          "%s", err.message);
    if (!text || !tmpl || !cat || !cases || !cases->row_count)
        goto done;
    vip_case_row row = cases->rows[0];
    row.lang = "en";
    vip_warn_sink silent = {quiet, NULL};

    vip_doc *plain = vip_template_merge(tmpl, cat, &row, &silent, &err);
    size_t recorded = 0;
    for (size_t i = 0; plain && i < plain->block_count; i++)
        recorded += plain->blocks[i].unit_count;
    CHECK("without recording, a merge records no units", plain && recorded == 0 && !plain->furniture_unit_count,
          "%zu recorded", recorded);
    vip_doc_destroy(plain);

    vip_template_record_units(tmpl, 1);
    vip_doc *doc = vip_template_merge(tmpl, cat, &row, &silent, &err);
    CHECK("merge with recording", doc != NULL, "%s", err.message);
    if (!doc)
        goto done;
    size_t thanks_index = 0;
    const vip_block *thanks = block_with_unit(doc, "letter.thanks", &thanks_index);
    CHECK("the block printing letter.thanks records it", thanks && strstr(thanks->content.text, "Thank you"),
          "%s", thanks ? thanks->content.text : "no block");
    /* A coded case value is printed through its unit (offence.burglary_dwelling), in the table and in prose. */
    char offence_unit[96];
    snprintf(offence_unit, sizeof offence_unit, "offence.%s", row.value[VIP_CASE_OFFENCE]);
    size_t offence_blocks = 0;
    for (size_t i = 0; i < doc->block_count; i++)
        for (size_t k = 0; k < doc->blocks[i].unit_count; k++)
            offence_blocks += strcmp(doc->blocks[i].units[k], offence_unit) == 0;
    CHECK("the offence's unit is recorded where its text is printed", offence_blocks >= 1, "%s in %zu blocks",
          offence_unit, offence_blocks);
    int footer = 0;
    for (size_t k = 0; k < doc->furniture_unit_count; k++)
        footer |= strcmp(doc->furniture_units[k], "common.page_of") == 0;
    CHECK("the footer's unit is recorded as furniture", footer, "%zu furniture units", doc->furniture_unit_count);
    int all_known = 1;
    for (size_t i = 0; i < doc->block_count; i++)
        for (size_t k = 0; k < doc->blocks[i].unit_count; k++)
            all_known &= vip_catalog_has(cat, doc->blocks[i].units[k]);
    CHECK("every recorded id is a unit of the catalogue", all_known, "an unknown id");

    vip_layout_options options;
    vip_layout_default_options(&options);
    vip_page_doc *pd = vip_layout_document(text, doc, &options, &err);
    CHECK("layout", pd != NULL, "%s", err.message);
    if (!pd) {
        vip_doc_destroy(doc);
        goto done;
    }
    const vip_page_area *area = NULL;
    size_t areas = 0, inside = 0;
    for (const vip_page_area *a = pd->areas; a; a = a->next) {
        areas++;
        inside += a->page < pd->page_count && a->x >= 0 && a->y >= 0 && a->width > 0 && a->height > 0 &&
                  a->x + a->width <= pd->pages[a->page].width + 0.01 &&
                  a->y + a->height <= pd->pages[a->page].height + 0.01;
        if (a->block == thanks_index)
            area = a;
    }
    CHECK("every area lies on its page", areas > 10 && inside == areas, "%zu of %zu", inside, areas);
    unsigned char *pdf = NULL;
    size_t pdf_len = 0;
    char pdf_path[128], found[4096] = "";
    snprintf(pdf_path, sizeof pdf_path, "%s/letter.pdf", dir);
    if (area && !vip_pdf_render(pd, &pdf, &pdf_len, &err)) {
        FILE *f = fopen(pdf_path, "wb");
        if (f) {
            fwrite(pdf, 1, pdf_len, f);
            fclose(f);
        }
        text_in(pdf_path, area->page, area, found, sizeof found);
    }
    CHECK("pdftotext finds letter.thanks's text in its area",
          strstr(found, "Thank you for reporting") && strstr(found, "what happens next"), "'%s'", found);

    /* The raster: the page drawn by poppler, a mark around the area, read back by libpng. */
    vip_raster *raster = pdf ? vip_raster_open(pdf, pdf_len, &err) : NULL;
    CHECK("poppler opens the PDF", raster && vip_raster_page_count(raster) == pd->page_count, "%s", err.message);
    if (raster && area) {
        vip_raster_mark mark = {.page = area->page, .x = area->x, .y = area->y, .width = area->width,
                                .height = area->height, .colors = {VIP_PREVIEW_COLOR_CHANGED}, .color_count = 1,
                                .label = "letter.thanks"};
        unsigned char *png = NULL;
        size_t png_len = 0;
        unsigned w = 0, h = 0;
        const vip_font *latin = vip_fontset_primary(fonts, "Latn", "en", VIP_WEIGHT_REGULAR);
        vip_raster_font *labels = vip_raster_font_load(vip_font_path(latin), vip_font_face_index(latin), &err);
        int rc = vip_raster_render_png(raster, area->page, 2.0, &mark, 1, labels, &png, &png_len, &err);
        vip_raster_font_destroy(labels);
        unsigned char *px = rc ? NULL : read_png(png, png_len, &w, &h);
        CHECK("the page picture is the page at 2 px/pt", px && w == (unsigned)(pd->pages[0].width * 2 + 0.5) &&
              h == (unsigned)(pd->pages[0].height * 2 + 0.5), "%ux%u %s", w, h, err.message);
        size_t blue = 0, ink = 0, elsewhere_blue = 0;
        for (unsigned y = 0; px && y < h; y++)
            for (unsigned x = 0; x < w; x++) {
                const unsigned char *p = px + 3 * ((size_t)y * w + x);
                int is_blue = abs(p[0] - 0x1D) < 40 && abs(p[1] - 0x5F) < 40 && abs(p[2] - 0xD6) < 40;
                double px_x = x / 2.0, px_y = y / 2.0;
                int near = px_x > area->x - 6 && px_x < area->x + area->width + 6 && px_y > area->y - 6 &&
                           px_y < area->y + area->height + 6;
                int in = px_x > area->x && px_x < area->x + area->width && px_y > area->y + 2 &&
                         px_y < area->y + area->height - 2;
                if (is_blue && near)
                    blue++;
                if (is_blue && !near && px_x > 60)
                    elsewhere_blue++;
                if (in && p[0] < 90 && p[1] < 90 && p[2] < 90)
                    ink++;
            }
        CHECK("the mark's outline is drawn around the area", blue > 2 * (area->width + area->height), "%zu blue",
              blue);
        CHECK("and nowhere else (the label aside, in the margin)", elsewhere_blue < 50, "%zu", elsewhere_blue);
        CHECK("the text's ink is inside the area", ink > 500, "%zu dark pixels", ink);
        free(px);
        free(png);
    }
    vip_raster_destroy(raster);
    vip_raster *bad = vip_raster_open((const unsigned char *)"not a pdf", 9, &err);
    CHECK("something that is not a PDF is an error", !bad && strstr(err.message, "PDF"), "%s", err.message);
    vip_raster_destroy(bad);
    free(pdf);
    vip_page_doc_destroy(pd);
    vip_doc_destroy(doc);
done:
    vip_case_set_destroy(cases);
    vip_catalog_destroy(cat);
    vip_template_destroy(tmpl);
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
}

/* Copies translations/en.xlf to path with one unit's English source and target text replaced. */
static int write_catalogue(const char *path, const char *from, const char *to)
{
    FILE *in = fopen("translations/en.xlf", "rb");
    if (!in)
        return -1;
    static char buf[1 << 21];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    fclose(in);
    buf[n] = '\0';
    FILE *out = fopen(path, "wb");
    if (!out)
        return -1;
    for (char *p = buf; *p;) {
        char *hit = from ? strstr(p, from) : NULL;
        if (!hit) {
            fputs(p, out);
            break;
        }
        fwrite(p, 1, (size_t)(hit - p), out);
        fputs(to, out);
        p = hit + strlen(from);
    }
    return fclose(out);
}

static void test_rerender(void)
{
    vip_error err = {0};
    char cat[128], out[128];
    snprintf(cat, sizeof cat, "%s/en.xlf", dir);
    snprintf(out, sizeof out, "%s/preview", dir);
    vip_produce_paths paths = {"fonts/manifest", "templates", "translations", NULL};
    vip_preview *p = vip_preview_create(&paths, &err);
    CHECK("preview set up", p != NULL, "%s", err.message);
    if (!p || write_catalogue(cat, NULL, NULL))
        goto done;
    vip_preview_options o = {.lang = "en", .catalog = cat, .cases = "examples/cases.csv", .skip_booklet = 1};
    vip_preview_result first, again, changed, one;
    int rc = vip_preview_render(p, &o, out, &first, &err);
    CHECK("first render draws every page", !rc && first.documents == 12 && first.drawn == first.pages &&
          first.unused > 0, "%s: %zu of %zu", err.message, first.drawn, first.pages);
    rc = vip_preview_render(p, &o, out, &again, &err);
    CHECK("rendering again unchanged draws nothing", !rc && again.drawn == 0 && again.pages == first.pages,
          "%s: %zu drawn", err.message, again.drawn);
    CHECK("and takes every letter whole", again.reused == 12 && first.reused == 0, "%zu, then %zu", first.reused,
          again.reused);
    /* A unit one letter prints (the offence of one variant): the other eleven are taken whole. */
    write_catalogue(cat, "<target>Theft</target>", "<target>Theft of property</target>");
    rc = vip_preview_render(p, &o, out, &one, &err);
    CHECK("after a change to one variant's unit, only that letter is made again",
          !rc && one.reused == 11 && one.drawn >= 1 && one.drawn <= 4, "%s: %zu reused, %zu drawn", err.message,
          one.reused, one.drawn);
    char units_json[200], *json = NULL;
    snprintf(units_json, sizeof units_json, "%s/units.json", out);
    FILE *uj = fopen(units_json, "r");
    if (uj) {
        json = calloc(1, 1 << 20);
        if (json && fread(json, 1, (1 << 20) - 1, uj) == 0)
            json[0] = '\0';
        fclose(uj);
    }
    CHECK("and the index has the new text", json && strstr(json, "Theft of property"), "units.json");
    free(json);
    /* One unit that is printed once per letter, on its first page. */
    write_catalogue(cat, "This letter confirms your report", "This letter confirms the report you made");
    rc = vip_preview_render(p, &o, out, &changed, &err);
    CHECK("after a change to one unit, only the pages it is on are drawn",
          !rc && changed.drawn >= 12 && changed.drawn < first.pages && changed.reused == 0, "%s: %zu of %zu",
          err.message, changed.drawn, changed.pages);
    CHECK("every unit placed as in the first render", changed.unused == first.unused && one.unused == first.unused,
          "%zu, %zu, %zu unused", first.unused, one.unused, changed.unused);
    char png[200];
    snprintf(png, sizeof png, "%s/letter-01-p1.png", out);
    struct stat st;
    CHECK("and the page pictures are all there", stat(png, &st) == 0 && st.st_size > 10000, "%s", png);
    o.lang = "fa";
    rc = vip_preview_render(p, &o, out, &changed, &err);
    CHECK("an English catalogue previewed as Farsi is refused", rc == VIP_ERR_INPUT && strstr(err.message, "not fa"),
          "%s", err.message);
done:
    vip_preview_destroy(p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/vipgen-test-preview-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    test_merge_and_layout();
    test_rerender();
    /* cairo keeps the margin labels' font (a fontconfig pattern) in static caches: released, as cairo documents
     * for leak checkers, now that no cairo object is left. */
    cairo_debug_reset_static_data();
    u_cleanup();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return CHECK_DONE();
}
