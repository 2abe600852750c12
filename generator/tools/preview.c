#include "preview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "catalog.h"
#include "check.h"
#include "doc.h"
#include "fit.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
#include "outfile.h"
#include "page.h"
#include "pdf.h"
#include "raster.h"
#include "template.h"
#include "text.h"

#define MAX_PLACES 6   /* places kept per unit for the index's links (all are counted) */
#define MAX_DOCS 40
#define PATH_SIZE 4096

/* A page picture made by the last render, by what went into it: a page that comes out the same again (most do,
 * after a change to one unit) is not drawn again but taken from there. */
typedef struct drawn_page {
    char doc[32];
    size_t page;
    uint64_t hash;
} drawn_page;

struct vip_preview {
    char fonts_path[PATH_SIZE], templates[PATH_SIZE], translations[PATH_SIZE];
    char last_dir[PATH_SIZE];       /* where the last render went ("" before the first) */
    drawn_page *drawn, *drawing;    /* the last render's pages; the current render's */
    size_t drawn_count, drawn_cap, drawing_count, drawing_cap;
    vip_fit *fit;                   /* fonts, text context, templates; shared with check's width pass (one cache) */
    vip_fontset *fonts;
    vip_text *text;
    vip_template *letter, *booklet;
    vip_raster_font *label_font;    /* the margin labels' font: the Latin font of the manifest */
    struct kept_doc *kept, *keeping; /* the last render's documents; the current render's (MAX_DOCS each) */
    size_t kept_count, keeping_count;
    vip_layout_options layout;
};

/* Where a unit is printed: a document, a page, a rectangle in points (none for the title, header and footer). */
typedef struct place {
    size_t doc, page;
    double x, y, width, height;
    int furniture;
} place;

typedef struct unit_info {
    const char *id;
    vip_unit_status status;
    int changed, overflow;
    size_t problems;           /* check problems about the unit */
    place places[MAX_PLACES];
    size_t place_count;        /* every place, including those not kept */
} unit_info;

typedef struct document {
    char name[32];             /* file name stem: letter-01, booklet */
    char title[600];           /* what it is: the variant's values */
    size_t pages;
    double page_width, page_height;
    int rtl;
    char note[300];            /* what is wrong with the whole document (pages over the limit) */
} document;

/* A document as the last render made it, and what it came from: it is made again only when one of those changed
 * (after a change to a booklet unit, the letters are taken as they were, and the other way round). */
typedef struct kept_place {
    char *unit;
    place pl;
} kept_place;

typedef struct kept_doc {
    document doc;
    uint64_t key;              /* the case row, and the text and marks of every unit it printed */
    char **units;              /* those units' ids */
    size_t unit_count;
    kept_place *places;        /* where it printed them */
    size_t place_count, place_cap;
} kept_doc;

/* One render's state. */
typedef struct render {
    vip_preview *p;
    const vip_preview_options *o;
    const char *out;
    const vip_lang *lang;
    vip_catalog *cat, *baseline;
    vip_check *check;
    unit_info *units;
    size_t unit_count;
    document docs[MAX_DOCS];
    size_t doc_count;
    double scale;
    size_t drawn_pages;        /* pictures drawn (the others were the same as the last render's) */
    size_t reused_docs;        /* documents taken whole from the last render */
    kept_doc *capture;         /* the document being made: its places are noted here */
    vip_error *err;
} render;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void quiet(void *user, const char *message)
{
    (void)user;
    (void)message;
}

/* ---- set-up ---- */

static int copy_path(char *dst, const char *src, const char *what, vip_error *err)
{
    if (!src || strlen(src) >= PATH_SIZE)
        return vip_error_set(err, VIP_ERR_INPUT, "preview: no usable path for the %s", what);
    strcpy(dst, src);
    return VIP_OK;
}

static void forget_documents(vip_preview *p);

vip_preview *vip_preview_create(const vip_produce_paths *paths, vip_error *err)
{
    vip_preview *p = calloc(1, sizeof *p);
    if (p && (!(p->kept = calloc(MAX_DOCS, sizeof *p->kept)) || !(p->keeping = calloc(MAX_DOCS, sizeof *p->keeping)))) {
        free(p->kept);
        free(p);
        p = NULL;
    }
    if (!p) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    vip_layout_default_options(&p->layout);
    if (copy_path(p->fonts_path, paths->fonts, "font manifest", err) ||
        copy_path(p->templates, paths->templates, "templates", err) ||
        copy_path(p->translations, paths->translations, "translations", err) || !(p->fit = vip_fit_create(paths, err))) {
        vip_preview_destroy(p);
        return NULL;
    }
    p->fonts = vip_fit_fonts(p->fit);
    p->text = vip_fit_text(p->fit);
    p->letter = vip_fit_letter(p->fit);
    p->booklet = vip_fit_booklet(p->fit);
    p->layout = *vip_fit_layout(p->fit);
    const vip_font *latin = vip_fontset_primary(p->fonts, "Latn", "en", VIP_WEIGHT_REGULAR);
    if (!latin) {
        vip_error_set(err, VIP_ERR_FONT, "%s: no Latin font for the margin labels", p->fonts_path);
        vip_preview_destroy(p);
        return NULL;
    }
    if (!(p->label_font = vip_raster_font_load(vip_font_path(latin), vip_font_face_index(latin), err))) {
        vip_preview_destroy(p);
        return NULL;
    }
    return p;
}

void vip_preview_destroy(vip_preview *p)
{
    if (!p)
        return;
    vip_raster_font_destroy(p->label_font);
    forget_documents(p);
    free(p->kept);
    free(p->keeping);
    vip_fit_destroy(p->fit);
    free(p->drawn);
    free(p->drawing);
    free(p);
}

/* ---- output helpers ---- */

static void html(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A memory stream written to out/name through a temporary file when complete. */
typedef struct memfile {
    FILE *f;
    char *data;
    size_t len;
} memfile;

static int mem_open(memfile *m, vip_error *err)
{
    m->data = NULL;
    m->len = 0;
    if (!(m->f = open_memstream(&m->data, &m->len)))
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    return VIP_OK;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, vip_error *err);

static int mem_commit(memfile *m, const char *dir, const char *name, vip_error *err)
{
    int bad = ferror(m->f);
    fclose(m->f);
    int rc = VIP_OK;
    if (bad) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory writing %s", name);
    } else {
        rc = write_file(dir, name, m->data, m->len, err);
    }
    free(m->data);
    m->data = NULL;
    return rc;
}

/* A preview's file, whole or not at all: written to a temporary beside it (named as vip_outfile names them, so that
 * a killed run's are recognised) and renamed into place. Not synced to disk, unlike the documents people are sent:
 * a preview is made again in a moment, and syncing each of its pages would cost more than drawing them. */
static int write_file(const char *dir, const char *name, const void *data, size_t len, vip_error *err)
{
    char path[PATH_SIZE + 64], tmp[PATH_SIZE + 96];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.vipgen-tmp.XXXXXX", dir, name);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: %s", path, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    int e = left ? errno : 0;
    if (!e && fchmod(fd, vip_outfile_mode()) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return vip_error_set(err, VIP_ERR_IO, "%s: %s", path, strerror(e ? e : EIO));
    }
    return VIP_OK;
}

/* ---- what the catalogue's units are like ---- */

static unit_info *unit_by_id(render *r, const char *id)
{
    for (size_t i = 0; id && i < r->unit_count; i++)
        if (strcmp(r->units[i].id, id) == 0)
            return &r->units[i];
    return NULL;
}

/* Problems check reports as too long for the place: a length limit, a shaped width, a page count. */
static int is_overflow_kind(const char *kind)
{
    return kind && (strcmp(kind, "length") == 0 || strstr(kind, "overflow") || strstr(kind, "width") ||
                    strstr(kind, "pages"));
}

static int load_units(render *r)
{
    r->unit_count = vip_catalog_unit_count(r->cat);
    if (!(r->units = calloc(r->unit_count ? r->unit_count : 1, sizeof *r->units)))
        return vip_error_set(r->err, VIP_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < r->unit_count; i++) {
        unit_info *u = &r->units[i];
        u->id = vip_catalog_unit_id(r->cat, i);
        u->status = vip_catalog_unit_status(r->cat, i);
        if (r->baseline) {
            int found = 0;
            for (size_t b = 0; b < vip_catalog_unit_count(r->baseline) && !found; b++)
                if (strcmp(vip_catalog_unit_id(r->baseline, b), u->id) == 0) {
                    found = 1;
                    u->changed = strcmp(vip_catalog_unit_text(r->baseline, b), vip_catalog_unit_text(r->cat, i)) != 0;
                }
            u->changed |= !found; /* new since the baseline */
        }
    }
    for (size_t i = 0; r->check && i < vip_check_count(r->check); i++) {
        const vip_check_problem *pr = vip_check_problem_at(r->check, i);
        unit_info *u = unit_by_id(r, pr->unit);
        if (!u)
            continue;
        if (is_overflow_kind(pr->kind))
            u->overflow = 1;
        else
            u->problems++;
    }
    return VIP_OK;
}

/* The colours a unit is marked with, in a fixed order; returns how many. */
static size_t unit_colors(const unit_info *u, uint32_t *colors, size_t n)
{
    size_t c = 0;
    if (u->status != VIP_UNIT_TRANSLATED && c < n)
        colors[c++] = VIP_PREVIEW_COLOR_FALLBACK;
    if (u->changed && c < n)
        colors[c++] = VIP_PREVIEW_COLOR_CHANGED;
    if (u->problems && c < n)
        colors[c++] = VIP_PREVIEW_COLOR_PROBLEM;
    if (u->overflow && c < n)
        colors[c++] = VIP_PREVIEW_COLOR_OVERFLOW;
    return c;
}

static void add_place(unit_info *u, place pl)
{
    if (u->place_count < MAX_PLACES)
        u->places[u->place_count] = pl;
    u->place_count++;
}

/* add_place, noting the place for the document being made (so that it can be taken whole next time). */
static void add_doc_place(render *r, unit_info *u, place pl)
{
    add_place(u, pl);
    kept_doc *k = r->capture;
    if (!k)
        return;
    if (k->place_count == k->place_cap) {
        size_t cap = k->place_cap ? 2 * k->place_cap : 64;
        kept_place *np = realloc(k->places, cap * sizeof *np);
        if (!np) {
            r->capture = NULL; /* not kept then: made again next time */
            return;
        }
        k->places = np;
        k->place_cap = cap;
    }
    char *id = strdup(u->id);
    if (!id) {
        r->capture = NULL;
        return;
    }
    k->places[k->place_count++] = (kept_place){id, pl};
}

/* ---- one document: PDF, pages, marks ---- */

static const char style_css[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 1.5rem 3rem;color:#1f2328;background:#fff}\n"
    "h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}\n"
    "a{color:#0b4fb3}a:focus,button:focus{outline:3px solid #f0b400;outline-offset:2px}\n"
    ".legend span,.tag{display:inline-block;padding:0 .4em;margin:0 .3em .2em 0;border-radius:3px;color:#fff;"
    "font-size:.85em}\n"
    ".fallback{background:#E07B00}.changed{background:#1D5FD6}.problem{background:#D1242F}"
    ".overflow{background:#A21CAF}.ok{background:#4b5563}\n"
    "table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.3em .5em;"
    "vertical-align:top;text-align:start}\n"
    "td.text{max-width:40em;white-space:pre-wrap}.error{background:#ffebe9;border:1px solid #D1242F;padding:.6em}\n"
    ".pages{display:flex;flex-wrap:wrap;gap:.6rem;padding:0;list-style:none}.pages img{border:1px solid #999;"
    "height:180px}\n"
    ".page{position:relative;margin:1rem 0;border:1px solid #999}.page img{display:block;width:100%;height:auto}\n"
    ".place{position:absolute;display:block}.place:target{outline:4px solid #f0b400;background:rgba(240,180,0,.15)}"
    "\nnav a{margin-inline-end:1em}\n";

/* Reloads the page when the server (vipgen serve) has rendered the preview again; does nothing from files. */
static const char live_js[] =
    "(function(){if(!/^https?:$/.test(location.protocol))return;var seen=null;\n"
    "function tick(){fetch('status.json',{cache:'no-store'}).then(function(r){return r.ok?r.json():null})\n"
    ".then(function(s){if(s){if(seen===null)seen=s.generation;else if(s.generation!==seen){location.reload();"
    "return}}setTimeout(tick,250)}).catch(function(){setTimeout(tick,1000)})}tick()})();\n";

static void head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>",
          f);
    html(f, title);
    fputs("</title><link rel=\"stylesheet\" href=\"style.css\"><script src=\"live.js\" defer></script></head>\n"
          "<body>\n",
          f);
}

/* NAME-pN.html: the page picture with a link target over every unit printed on it. */
static int write_page_html(render *r, size_t d, size_t page, const vip_doc *doc, const vip_page_doc *pd)
{
    const document *dc = &r->docs[d];
    memfile m;
    if (mem_open(&m, r->err))
        return r->err->code;
    char title[700];
    snprintf(title, sizeof title, "%s, page %zu of %zu", dc->title, page + 1, dc->pages);
    head(m.f, title);
    fputs("<nav><a href=\"index.html\">Index</a>", m.f);
    if (page > 0)
        fprintf(m.f, "<a href=\"%s-p%zu.html\" rel=\"prev\">Previous page</a>", dc->name, page);
    if (page + 1 < dc->pages)
        fprintf(m.f, "<a href=\"%s-p%zu.html\" rel=\"next\">Next page</a>", dc->name, page + 2);
    fprintf(m.f, "<a href=\"%s.pdf\">PDF</a></nav>\n<h1>", dc->name);
    html(m.f, title);
    fprintf(m.f, "</h1>\n<div class=\"page\" lang=\"%s\" dir=\"%s\"><img src=\"%s-p%zu.png\" alt=\"", r->lang->tag,
            dc->rtl ? "rtl" : "ltr", dc->name, page + 1);
    html(m.f, title);
    fputs("\">\n", m.f);
    for (const vip_page_area *a = pd->areas; a; a = a->next) {
        if (a->page != page || a->block >= doc->block_count)
            continue;
        const vip_block *b = &doc->blocks[a->block];
        for (size_t k = 0; k < b->unit_count; k++) {
            fprintf(m.f, "<a class=\"place\" id=\"");
            html(m.f, b->units[k]);
            fprintf(m.f, "\" href=\"index.html#unit-");
            html(m.f, b->units[k]);
            fprintf(m.f, "\" title=\"");
            html(m.f, b->units[k]);
            fprintf(m.f, "\" style=\"left:%.3f%%;top:%.3f%%;width:%.3f%%;height:%.3f%%\"><span hidden>", 
                    100 * a->x / dc->page_width, 100 * a->y / dc->page_height, 100 * a->width / dc->page_width,
                    100 * a->height / dc->page_height);
            html(m.f, b->units[k]);
            fputs("</span></a>\n", m.f);
        }
    }
    fputs("</div>\n</body></html>\n", m.f);
    char name[64];
    snprintf(name, sizeof name, "%s-p%zu.html", dc->name, page + 1);
    return mem_commit(&m, r->out, name, r->err);
}

/* Marks for every area that prints units, and each unit's places. */
static int collect_marks(render *r, size_t d, const vip_doc *doc, const vip_page_doc *pd, vip_raster_mark **marks,
                         size_t *count, char **labels)
{
    size_t n = 0;
    for (const vip_page_area *a = pd->areas; a; a = a->next)
        n++;
    *marks = calloc(n ? n : 1, sizeof **marks);
    *labels = calloc(n ? n : 1, 200);
    if (!*marks || !*labels)
        return vip_error_set(r->err, VIP_ERR_NOMEM, "out of memory");
    *count = 0;
    for (const vip_page_area *a = pd->areas; a; a = a->next) {
        if (a->block >= doc->block_count || !doc->blocks[a->block].unit_count)
            continue;
        const vip_block *b = &doc->blocks[a->block];
        vip_raster_mark *mk = &(*marks)[*count];
        char *label = *labels + 200 * *count;
        *mk = (vip_raster_mark){.page = a->page, .x = a->x, .y = a->y, .width = a->width, .height = a->height,
                                .label = label, .label_right = r->docs[d].rtl};
        size_t used = 0;
        for (size_t k = 0; k < b->unit_count; k++) {
            unit_info *u = unit_by_id(r, b->units[k]);
            if (!u)
                continue;
            add_doc_place(r, u, (place){d, a->page, a->x, a->y, a->width, a->height, 0});
            uint32_t colors[VIP_RASTER_MAX_COLORS];
            size_t c = unit_colors(u, colors, VIP_RASTER_MAX_COLORS);
            for (size_t j = 0; j < c; j++) {
                size_t have = 0;
                while (have < mk->color_count && mk->colors[have] != colors[j])
                    have++;
                if (have == mk->color_count && mk->color_count < VIP_RASTER_MAX_COLORS)
                    mk->colors[mk->color_count++] = colors[j];
            }
            int w = snprintf(label + used, 200 - used, "%s%s", used ? " " : "", u->id);
            if (w > 0 && (size_t)w < 200 - used)
                used += (size_t)w;
        }
        (*count)++;
    }
    for (size_t k = 0; k < doc->furniture_unit_count; k++) {
        unit_info *u = unit_by_id(r, doc->furniture_units[k]);
        if (u)
            add_doc_place(r, u, (place){d, 0, 0, 0, 0, 0, 1});
    }
    return VIP_OK;
}

/* FNV-1a over what a page picture is drawn from: the page's items, its marks, the scale. */
static uint64_t mix(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

#define MIX(h, v) ((h) = mix((h), &(v), sizeof(v)))

static uint64_t page_hash(const vip_page *page, size_t index, const vip_raster_mark *marks, size_t mark_count,
                          double scale)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    MIX(h, scale);
    MIX(h, page->width);
    MIX(h, page->height);
    for (size_t i = 0; i < page->item_count; i++) {
        const vip_page_item *it = &page->items[i];
        int kind = (int)it->kind;
        MIX(h, kind);
        if (it->kind == VIP_PAGE_RUN) {
            const vip_page_run *r = &it->u.run;
            MIX(h, r->font);
            MIX(h, r->size);
            MIX(h, r->x);
            MIX(h, r->y);
            MIX(h, r->color);
            for (size_t g = 0; g < r->glyph_count; g++) {
                MIX(h, r->glyphs[g].gid);
                MIX(h, r->glyphs[g].x);
                MIX(h, r->glyphs[g].y);
            }
        } else if (it->kind == VIP_PAGE_RULE) {
            const vip_page_rule *r = &it->u.rule;
            MIX(h, r->x0);
            MIX(h, r->y0);
            MIX(h, r->x1);
            MIX(h, r->y1);
            MIX(h, r->width);
            MIX(h, r->color);
        } else if (it->kind == VIP_PAGE_RECT) {
            const vip_page_rect *r = &it->u.rect;
            MIX(h, r->x);
            MIX(h, r->y);
            MIX(h, r->width);
            MIX(h, r->height);
            MIX(h, r->fill);
            MIX(h, r->filled);
            MIX(h, r->stroke_width);
            MIX(h, r->stroke);
        } else {
            const vip_page_image *im = &it->u.image;
            h = mix(h, im->path, strlen(im->path));
            MIX(h, im->x);
            MIX(h, im->y);
            MIX(h, im->width);
            MIX(h, im->height);
        }
    }
    for (size_t i = 0; i < mark_count; i++) {
        const vip_raster_mark *m = &marks[i];
        if (m->page != index)
            continue;
        MIX(h, m->x);
        MIX(h, m->y);
        MIX(h, m->width);
        MIX(h, m->height);
        MIX(h, m->color_count);
        MIX(h, m->colors);
        MIX(h, m->label_right);
        if (m->label)
            h = mix(h, m->label, strlen(m->label) + 1);
    }
    return h;
}

/* Whether the picture of this page is already in out (the last render's, the same): then it is kept, or linked
 * from the last render's folder. Either way the page is noted for the next render. */
static int note_drawn(vip_preview *p, const char *doc, size_t page, uint64_t hash)
{
    if (p->drawing_count == p->drawing_cap) {
        size_t cap = p->drawing_cap ? 2 * p->drawing_cap : 128;
        drawn_page *nd = realloc(p->drawing, cap * sizeof *nd);
        if (!nd)
            return -1;
        p->drawing = nd;
        p->drawing_cap = cap;
    }
    drawn_page *d = &p->drawing[p->drawing_count++];
    snprintf(d->doc, sizeof d->doc, "%s", doc);
    d->page = page;
    d->hash = hash;
    return 0;
}

static int reuse_picture(render *r, const char *doc, size_t page, uint64_t hash, const char *file)
{
    vip_preview *p = r->p;
    if (note_drawn(p, doc, page, hash))
        return 0;
    for (size_t i = 0; *p->last_dir && i < p->drawn_count; i++) {
        if (p->drawn[i].page != page || p->drawn[i].hash != hash || strcmp(p->drawn[i].doc, doc) != 0)
            continue;
        char old[PATH_SIZE + 64], new[PATH_SIZE + 64];
        snprintf(old, sizeof old, "%s/%s", p->last_dir, file);
        snprintf(new, sizeof new, "%s/%s", r->out, file);
        if (strcmp(p->last_dir, r->out) == 0)
            return access(new, R_OK) == 0;
        unlink(new);
        return link(old, new) == 0;
    }
    return 0;
}

static void kept_free(kept_doc *k)
{
    for (size_t i = 0; i < k->unit_count; i++)
        free(k->units[i]);
    for (size_t i = 0; i < k->place_count; i++)
        free(k->places[i].unit);
    free(k->units);
    free(k->places);
    memset(k, 0, sizeof *k);
}

static void forget_documents(vip_preview *p)
{
    for (size_t i = 0; p->kept && i < p->kept_count; i++)
        kept_free(&p->kept[i]);
    for (size_t i = 0; p->keeping && i < p->keeping_count; i++)
        kept_free(&p->keeping[i]);
    p->kept_count = p->keeping_count = 0;
}

static uint64_t row_hash(const vip_case_row *row)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int f = 0; row && f < VIP_CASE_FIELD_COUNT; f++)
        h = mix(h, row->value[f] ? row->value[f] : "", row->value[f] ? strlen(row->value[f]) + 1 : 1);
    if (row) {
        MIX(h, row->enhanced);
        MIX(h, row->offence_date);
        MIX(h, row->reported_date);
        MIX(h, row->letter_date);
    }
    return h;
}

/* What a document came from: its case row and title, and the text and marks of each unit it prints. 0 when one
 * of those units is no longer in the catalogue. */
static int document_key(const render *r, const kept_doc *k, uint64_t row, uint64_t *key)
{
    uint64_t h = mix(0xcbf29ce484222325ULL, &row, sizeof row);
    h = mix(h, k->doc.title, strlen(k->doc.title) + 1);
    for (size_t i = 0; i < k->unit_count; i++) {
        const unit_info *u = unit_by_id((render *)r, k->units[i]);
        if (!u)
            return 0;
        const char *text = vip_catalog_unit_text(r->cat, (size_t)(u - r->units));
        int marks[4] = {(int)u->status, u->changed, u->problems != 0, u->overflow};
        h = mix(h, k->units[i], strlen(k->units[i]) + 1);
        h = mix(h, text, strlen(text) + 1);
        h = mix(h, marks, sizeof marks);
    }
    *key = h;
    return 1;
}

/* The document's files from the last render's folder (linked; already there when it is the same folder). */
static int take_files(render *r, const kept_doc *k)
{
    const char *last = r->p->last_dir;
    for (size_t i = 0; i <= 2 * k->doc.pages; i++) {
        char file[64], old[PATH_SIZE + 64], new[PATH_SIZE + 64];
        if (i == 0)
            snprintf(file, sizeof file, "%s.pdf", k->doc.name);
        else
            snprintf(file, sizeof file, "%s-p%zu.%s", k->doc.name, (i + 1) / 2, i % 2 ? "png" : "html");
        snprintf(old, sizeof old, "%s/%s", last, file);
        snprintf(new, sizeof new, "%s/%s", r->out, file);
        if (strcmp(last, r->out) == 0 ? access(new, R_OK) != 0 : (unlink(new), link(old, new) != 0))
            return 0;
    }
    return 1;
}

/* Takes the document whole from the last render when nothing it came from changed; 1 when it did. */
static int reuse_document(render *r, const char *name, const char *title, uint64_t row)
{
    vip_preview *p = r->p;
    kept_doc *k = NULL;
    for (size_t i = 0; i < p->kept_count && !k; i++)
        if (strcmp(p->kept[i].doc.name, name) == 0 && strcmp(p->kept[i].doc.title, title) == 0)
            k = &p->kept[i];
    uint64_t key;
    if (!k || !*p->last_dir || !document_key(r, k, row, &key) || key != k->key || !take_files(r, k))
        return 0;
    size_t d = r->doc_count++;
    r->docs[d] = k->doc;
    for (size_t i = 0; i < k->place_count; i++) {
        unit_info *u = unit_by_id(r, k->places[i].unit);
        if (u) {
            k->places[i].pl.doc = d;
            add_place(u, k->places[i].pl);
        }
    }
    /* Its pictures stay what the next render can take. */
    for (size_t i = 0; i < p->drawn_count; i++)
        if (strcmp(p->drawn[i].doc, name) == 0)
            note_drawn(p, name, p->drawn[i].page, p->drawn[i].hash);
    p->keeping[p->keeping_count++] = *k;
    memset(k, 0, sizeof *k);
    r->reused_docs++;
    return 1;
}

/* Notes a document just made, and the units it printed, for the next render. */
static void keep_document(render *r, kept_doc *k, const vip_doc *doc, uint64_t row)
{
    size_t n = doc->furniture_unit_count;
    for (size_t i = 0; i < doc->block_count; i++)
        n += doc->blocks[i].unit_count;
    if (!(k->units = calloc(n ? n : 1, sizeof *k->units)))
        goto drop;
    for (size_t i = 0; i <= doc->block_count; i++) {
        const char *const *ids = i < doc->block_count ? doc->blocks[i].units : doc->furniture_units;
        size_t count = i < doc->block_count ? doc->blocks[i].unit_count : doc->furniture_unit_count;
        for (size_t j = 0; j < count; j++) {
            size_t seen = 0;
            while (seen < k->unit_count && strcmp(k->units[seen], ids[j]) != 0)
                seen++;
            if (seen < k->unit_count)
                continue;
            if (!(k->units[k->unit_count] = strdup(ids[j])))
                goto drop;
            k->unit_count++;
        }
    }
    if (!document_key(r, k, row, &k->key))
        goto drop;
    r->p->keeping_count++;
    return;
drop:
    kept_free(k);
}

static int render_document(render *r, vip_template *tmpl, const vip_case_row *row, const char *name,
                           const char *title)
{
    uint64_t row_key = row_hash(row);
    if (r->doc_count < MAX_DOCS && reuse_document(r, name, title, row_key))
        return VIP_OK;
    if (r->doc_count == MAX_DOCS)
        return vip_error_set(r->err, VIP_ERR_INTERNAL, "preview: too many documents");
    size_t d = r->doc_count;
    document *dc = &r->docs[d];
    memset(dc, 0, sizeof *dc);
    snprintf(dc->name, sizeof dc->name, "%s", name);
    snprintf(dc->title, sizeof dc->title, "%s", title);
    dc->rtl = r->lang->rtl;
    vip_warn_sink silent = {quiet, NULL};
    vip_doc *doc = vip_template_merge(tmpl, r->cat, row, &silent, r->err);
    vip_page_doc *pd = doc ? vip_layout_document(r->p->text, doc, &r->p->layout, r->err) : NULL;
    unsigned char *pdf = NULL;
    size_t pdf_len = 0;
    vip_raster *raster = NULL;
    vip_raster_mark *marks = NULL;
    char *labels = NULL;
    size_t mark_count = 0;
    int rc = pd ? vip_pdf_render(pd, &pdf, &pdf_len, r->err) : r->err->code;
    char file[64];
    snprintf(file, sizeof file, "%s.pdf", name);
    if (!rc)
        rc = write_file(r->out, file, pdf, pdf_len, r->err);
    if (!rc && !(raster = vip_raster_open(pdf, pdf_len, r->err)))
        rc = r->err->code;
    if (!rc) {
        r->doc_count++;
        dc->pages = pd->page_count;
        dc->page_width = pd->page_count ? pd->pages[0].width : 595.276;
        dc->page_height = pd->page_count ? pd->pages[0].height : 841.89;
        if (doc->max_pages > 0 && pd->page_count > (size_t)doc->max_pages)
            snprintf(dc->note, sizeof dc->note, "runs to %zu pages, more than the %d allowed, even with its type "
                     "scaled down", pd->page_count, doc->max_pages);
        else if (doc->max_pages > 0 && pd->full_size_pages > (size_t)doc->max_pages)
            snprintf(dc->note, sizeof dc->note, "runs to %zu pages at full type size, more than the %d allowed: it "
                     "is printed in smaller type to fit", pd->full_size_pages, doc->max_pages);
        kept_doc *k = &r->p->keeping[r->p->keeping_count];
        memset(k, 0, sizeof *k);
        k->doc = *dc;
        r->capture = k;
        rc = collect_marks(r, d, doc, pd, &marks, &mark_count, &labels);
        if (!rc && r->capture)
            keep_document(r, k, doc, row_key);
        else
            kept_free(k);
        r->capture = NULL;
    }
    for (size_t pg = 0; !rc && pg < pd->page_count; pg++) {
        unsigned char *png = NULL;
        size_t png_len = 0;
        snprintf(file, sizeof file, "%s-p%zu.png", name, pg + 1);
        uint64_t hash = page_hash(&pd->pages[pg], pg, marks, mark_count, r->scale);
        if (!reuse_picture(r, name, pg, hash, file)) {
            rc = vip_raster_render_png(raster, pg, r->scale, marks, mark_count, r->p->label_font, &png, &png_len,
                                       r->err);
            if (!rc)
                rc = write_file(r->out, file, png, png_len, r->err);
            free(png);
            r->drawn_pages++;
        }
        if (!rc)
            rc = write_page_html(r, d, pg, doc, pd);
    }
    if (rc)
        vip_error_prefix(r->err, "preview of %s: ", title);
    free(marks);
    free(labels);
    vip_raster_destroy(raster);
    free(pdf);
    vip_page_doc_destroy(pd);
    vip_doc_destroy(doc);
    return rc;
}

/* ---- the letter variants ---- */

/* Every letter variant vip_fit lays out for check, so that each finding is on a page here. */
static int render_letters(render *r, const vip_case_row *first)
{
    for (size_t k = 0; k < vip_fit_letter_variants(); k++) {
        vip_case_row row;
        char name[32], title[600];
        vip_fit_letter_variant(first, r->lang->tag, k, &row, name, sizeof name, title, sizeof title);
        if (render_document(r, r->p->letter, &row, name, title))
            return r->err->code;
    }
    return VIP_OK;
}

/* ---- the index ---- */

static const char *status_name(const unit_info *u)
{
    return u->status == VIP_UNIT_FALLBACK ? "fallback" : u->status == VIP_UNIT_INITIAL ? "initial" : "translated";
}

static void legend(FILE *f)
{
    fputs("<p class=\"legend\">Marks on the pages: <span class=\"fallback\">orange: English fallback (not "
          "translated yet)</span><span class=\"changed\">blue: changed since the baseline</span>"
          "<span class=\"problem\">red: vipgen check lists a problem</span><span class=\"overflow\">purple: too "
          "long for its place</span><span class=\"ok\">grey: translated, nothing to do</span> — each with its unit "
          "id in the margin.</p>\n",
          f);
}

static void write_problems(FILE *f, const render *r, const char *unit)
{
    int any = 0;
    for (size_t i = 0; r->check && i < vip_check_count(r->check); i++) {
        const vip_check_problem *p = vip_check_problem_at(r->check, i);
        if ((unit && (!p->unit || strcmp(p->unit, unit))) || (!unit && p->unit))
            continue;
        if (!any)
            fputs("<ul class=\"problems\">", f);
        any = 1;
        fprintf(f, "<li><span class=\"tag %s\">%s</span>line %d: ", is_overflow_kind(p->kind) ? "overflow" : "problem",
                p->severity == VIP_CHECK_ERROR ? "error" : "warning", p->line);
        html(f, p->message);
        fputs(" [", f);
        html(f, p->kind);
        fputs("]</li>", f);
    }
    if (any)
        fputs("</ul>", f);
}

/* Every problem check found, each with its unit and where the unit is printed. */
static void write_problem_list(FILE *f, const render *r)
{
    size_t n = vip_check_count(r->check);
    if (!n) {
        fputs("<p>None: vipgen check finds nothing to do in this catalogue.</p>\n", f);
        return;
    }
    fputs("<ol class=\"problem-list\">\n", f);
    for (size_t i = 0; i < n; i++) {
        const vip_check_problem *p = vip_check_problem_at(r->check, i);
        fprintf(f, "<li><span class=\"tag %s\">%s</span>line %d", is_overflow_kind(p->kind) ? "overflow" : "problem",
                p->severity == VIP_CHECK_ERROR ? "error" : "warning", p->line);
        const unit_info *u = NULL;
        for (size_t k = 0; p->unit && k < r->unit_count && !u; k++)
            if (strcmp(r->units[k].id, p->unit) == 0)
                u = &r->units[k];
        if (p->unit) {
            fputs(", unit <a href=\"#unit-", f);
            html(f, p->unit);
            fputs("\"><code>", f);
            html(f, p->unit);
            fputs("</code></a>", f);
        }
        fputs(": ", f);
        html(f, p->message);
        fputs(" [", f);
        html(f, p->kind);
        fputs("]", f);
        if (u && u->place_count) {
            const place *pl = &u->places[0];
            fprintf(f, " — printed in <a href=\"%s-p%zu.html%s", r->docs[pl->doc].name, pl->page + 1,
                    pl->furniture ? "" : "#");
            if (!pl->furniture)
                html(f, u->id);
            fprintf(f, "\">%s page %zu</a>", r->docs[pl->doc].name, pl->page + 1);
        } else if (u) {
            fputs(" — printed nowhere in these documents", f);
        }
        fputs("</li>\n", f);
    }
    fputs("</ol>\n", f);
}

static void write_unit_row(FILE *f, const render *r, const unit_info *u, size_t index)
{
    fputs("<tr id=\"unit-", f);
    html(f, u->id);
    fputs("\"><th scope=\"row\"><code>", f);
    html(f, u->id);
    fputs("</code></th><td>", f);
    if (u->status != VIP_UNIT_TRANSLATED)
        fprintf(f, "<span class=\"tag fallback\">%s</span>", status_name(u));
    if (u->changed)
        fputs("<span class=\"tag changed\">changed</span>", f);
    if (u->problems)
        fprintf(f, "<span class=\"tag problem\">%zu problem%s</span>", u->problems, u->problems == 1 ? "" : "s");
    if (u->overflow)
        fputs("<span class=\"tag overflow\">too long</span>", f);
    if (u->status == VIP_UNIT_TRANSLATED && !u->changed && !u->problems && !u->overflow)
        fputs("<span class=\"tag ok\">ok</span>", f);
    /* The text as the documents use it: the translator's language and direction. */
    fprintf(f, "</td><td class=\"text\" lang=\"%s\" dir=\"%s\">", u->status == VIP_UNIT_TRANSLATED ? r->lang->tag : "en",
            u->status == VIP_UNIT_TRANSLATED && r->lang->rtl ? "rtl" : "ltr");
    html(f, vip_catalog_unit_text(r->cat, index));
    fputs("</td><td>", f);
    write_problems(f, r, u->id);
    fputs("</td><td>", f);
    for (size_t k = 0; k < u->place_count && k < MAX_PLACES; k++) {
        const place *pl = &u->places[k];
        const document *dc = &r->docs[pl->doc];
        fprintf(f, "<a href=\"%s-p%zu.html%s", dc->name, pl->page + 1, pl->furniture ? "" : "#");
        if (!pl->furniture)
            html(f, u->id);
        fprintf(f, "\">%s p%zu%s</a> ", dc->name, pl->page + 1, pl->furniture ? " (header/footer)" : "");
    }
    if (u->place_count > MAX_PLACES)
        fprintf(f, "and %zu more", u->place_count - MAX_PLACES);
    fputs("</td></tr>\n", f);
}

static int write_index(render *r, const char *failure)
{
    memfile m;
    if (mem_open(&m, r->err))
        return r->err->code;
    FILE *f = m.f;
    char title[200];
    snprintf(title, sizeof title, "Preview: %s (%s)", r->lang ? r->lang->name : "?", r->lang ? r->lang->tag : "?");
    head(f, title);
    fputs("<header><h1>", f);
    html(f, title);
    fputs("</h1><p>Catalogue: <code>", f);
    html(f, r->cat ? vip_catalog_path(r->cat) : r->o->catalog);
    fputs("</code>", f);
    if (r->o->baseline) {
        fputs(" · baseline: <code>", f);
        html(f, r->o->baseline);
        fputs("</code>", f);
    }
    fputs("</p>", f);
    legend(f);
    fputs("<nav aria-label=\"Sections\"><a href=\"#problems\">Problems</a><a href=\"#documents\">Documents</a>"
          "<a href=\"#units\">Units</a><a href=\"#unused\">Unused units</a></nav>\n</header>\n<main>\n", f);
    if (failure) {
        fputs("<p class=\"error\" role=\"alert\"><strong>The preview could not be made:</strong> ", f);
        html(f, failure);
        fputs("</p>\n", f);
    }
    if (r->check) {
        fprintf(f, "<h2 id=\"problems\">Problems: %zu errors, %zu warnings</h2>\n", vip_check_errors(r->check),
                vip_check_warnings(r->check));
        write_problem_list(f, r);
    }
    if (r->doc_count) {
        fputs("<h2 id=\"documents\">Documents</h2>\n", f);
        for (size_t d = 0; d < r->doc_count; d++) {
            const document *dc = &r->docs[d];
            fprintf(f, "<h3 id=\"%s\">", dc->name);
            html(f, dc->title);
            fprintf(f, " <a href=\"%s.pdf\">PDF</a></h3>\n", dc->name);
            if (*dc->note) {
                fputs("<p class=\"error\"><span class=\"tag overflow\">too long</span>", f);
                html(f, dc->note);
                fputs("</p>", f);
            }
            /* Pages run in the document's direction: right to left for Arabic, Farsi and Urdu. */
            fprintf(f, "<ul class=\"pages\" dir=\"%s\">", dc->rtl ? "rtl" : "ltr");
            for (size_t pg = 0; pg < dc->pages; pg++)
                fprintf(f, "<li><a href=\"%s-p%zu.html\"><img src=\"%s-p%zu.png\" alt=\"%s page %zu\" "
                        "loading=\"lazy\"></a></li>",
                        dc->name, pg + 1, dc->name, pg + 1, dc->name, pg + 1);
            fputs("</ul>\n", f);
        }
    }
    if (r->units) {
        fputs("<h2 id=\"units\">Units</h2>\n<table><thead><tr><th scope=\"col\">Unit</th><th scope=\"col\">Status"
              "</th><th scope=\"col\">Text</th><th scope=\"col\">Problems</th><th scope=\"col\">Printed at</th>"
              "</tr></thead><tbody>\n",
              f);
        for (size_t i = 0; i < r->unit_count; i++)
            if (r->units[i].place_count)
                write_unit_row(f, r, &r->units[i], i);
        fputs("</tbody></table>\n<h2 id=\"unused\">Unused units (printed nowhere in these documents)</h2>\n"
              "<p>These are used by vipgen elsewhere (emails, messages) or by no template; they are checked all "
              "the same.</p>\n<table><tbody>\n",
              f);
        for (size_t i = 0; i < r->unit_count; i++)
            if (!r->units[i].place_count)
                write_unit_row(f, r, &r->units[i], i);
        fputs("</tbody></table>\n", f);
    }
    fputs("</main>\n</body></html>\n", f);
    return mem_commit(&m, r->out, "index.html", r->err);
}

static int write_units_json(render *r)
{
    memfile m;
    if (mem_open(&m, r->err))
        return r->err->code;
    FILE *f = m.f;
    fputs("{\"lang\":", f);
    json_string(f, r->lang->tag);
    fputs(",\"documents\":[", f);
    for (size_t d = 0; d < r->doc_count; d++) {
        fprintf(f, "%s{\"name\":", d ? "," : "");
        json_string(f, r->docs[d].name);
        fputs(",\"title\":", f);
        json_string(f, r->docs[d].title);
        fprintf(f, ",\"pages\":%zu,\"note\":", r->docs[d].pages);
        json_string(f, r->docs[d].note);
        fputs("}", f);
    }
    fputs("],\"units\":[", f);
    for (size_t i = 0; i < r->unit_count; i++) {
        const unit_info *u = &r->units[i];
        fprintf(f, "%s\n{\"id\":", i ? "," : "");
        json_string(f, u->id);
        fprintf(f, ",\"status\":\"%s\",\"changed\":%s,\"problems\":%zu,\"overflow\":%s,\"text\":", status_name(u),
                u->changed ? "true" : "false", u->problems, u->overflow ? "true" : "false");
        json_string(f, vip_catalog_unit_text(r->cat, i));
        fprintf(f, ",\"printed\":%zu,\"places\":[", u->place_count);
        for (size_t k = 0; k < u->place_count && k < MAX_PLACES; k++) {
            const place *pl = &u->places[k];
            fprintf(f, "%s{\"document\":", k ? "," : "");
            json_string(f, r->docs[pl->doc].name);
            fprintf(f, ",\"page\":%zu,\"furniture\":%s,\"x\":%.2f,\"y\":%.2f,\"width\":%.2f,\"height\":%.2f}",
                    pl->page + 1, pl->furniture ? "true" : "false", pl->x, pl->y, pl->width, pl->height);
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    return mem_commit(&m, r->out, "units.json", r->err);
}

/* ---- the whole render ---- */

static int open_catalogues(render *r)
{
    char path[PATH_SIZE + 64];
    const char *cat_path = r->o->catalog;
    if (!cat_path) {
        snprintf(path, sizeof path, "%s/%s.xlf", r->p->translations, r->lang->tag);
        cat_path = path;
    }
    if (!(r->cat = vip_catalog_load(cat_path, r->err)))
        return r->err->code;
    /* Never a preview that silently shows another language. */
    if (strcmp(vip_catalog_lang(r->cat), r->lang->tag) != 0)
        return vip_error_set(r->err, VIP_ERR_INPUT, "%s: the catalogue is in %s (trgLang), not %s: check the file's "
                             "trgLang, or preview it with --lang %s", cat_path, vip_catalog_lang(r->cat),
                             r->lang->tag, vip_catalog_lang(r->cat));
    if (r->o->baseline && !(r->baseline = vip_catalog_load(r->o->baseline, r->err)))
        return vip_error_prefix(r->err, "the baseline: ");
    return VIP_OK;
}

/* vip_check's problems with the catalogue, against the English catalogue and glossary of the translations. */
static int run_check(render *r)
{
    char english[PATH_SIZE + 64], glossary[PATH_SIZE + 64], path[PATH_SIZE + 64];
    snprintf(english, sizeof english, "%s/en.xlf", r->p->translations);
    snprintf(glossary, sizeof glossary, "%s/glossary.tsv", r->p->translations);
    vip_check_options opt = {english, access(glossary, R_OK) == 0 ? glossary : NULL, r->p->fit, r->o->cases};
    if (!(r->check = vip_check_create(&opt, r->err)))
        return r->err->code;
    const char *cat_path = r->o->catalog;
    if (!cat_path) {
        snprintf(path, sizeof path, "%s/%s.xlf", r->p->translations, r->lang->tag);
        cat_path = path;
    }
    return vip_check_file(r->check, cat_path, r->err);
}

int vip_preview_render(vip_preview *p, const vip_preview_options *o, const char *out_dir,
                       vip_preview_result *result, vip_error *err)
{
    double t0 = now_ms(), c0 = cpu_ms();
    render r = {.p = p, .o = o, .out = out_dir, .err = err, .scale = o->scale > 0 ? o->scale : 1.5};
    memset(result, 0, sizeof *result);
    if (!(r.lang = vip_lang_find(o->lang, err)))
        return err->code;
    p->drawing_count = 0;
    for (size_t i = 0; i < p->keeping_count; i++)
        kept_free(&p->keeping[i]);
    p->keeping_count = 0;
    if (mkdir(out_dir, 0700) != 0 && errno != EEXIST)
        return vip_error_set(err, VIP_ERR_IO, "%s: %s", out_dir, strerror(errno));
    int rc = write_file(out_dir, "style.css", style_css, sizeof style_css - 1, err);
    if (!rc)
        rc = write_file(out_dir, "live.js", live_js, sizeof live_js - 1, err);
    if (!rc) {
        double t = now_ms();
        rc = run_check(&r);
        result->check_ms = now_ms() - t;
    }
    vip_case_set *cases = NULL;
    if (!rc)
        rc = open_catalogues(&r);
    if (!rc)
        rc = load_units(&r);
    char cases_path[PATH_SIZE + 64];
    if (!rc && !o->skip_letters && !(rc = vip_fit_find_cases(p->fit, o->cases, cases_path, sizeof cases_path, err))) {
        double t = now_ms();
        if (!(cases = vip_case_read(cases_path, err)))
            rc = err->code;
        else if (!cases->row_count)
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s: no valid case row to make the letters from", cases_path);
        else
            rc = render_letters(&r, &cases->rows[0]);
        result->letters_ms = now_ms() - t;
    }
    if (!rc && !o->skip_booklet) {
        double t = now_ms();
        rc = render_document(&r, p->booklet, NULL, "booklet", "Booklet");
        result->booklet_ms = now_ms() - t;
    }
    if (!rc)
        rc = write_units_json(&r);
    vip_error index_err = {0};
    r.err = &index_err;
    /* The index is written either way: when the preview fails it says why (the server shows it). */
    int irc = write_index(&r, rc ? err->message : NULL);
    if (!rc && irc) {
        *err = index_err;
        rc = irc;
    }
    /* The pages drawn now are what the next render can take. */
    if (!rc && strlen(out_dir) < PATH_SIZE) {
        drawn_page *swap = p->drawn;
        size_t cap = p->drawing_cap;
        p->drawn = p->drawing;
        p->drawn_count = p->drawing_count;
        p->drawing = swap;
        p->drawing_cap = swap ? p->drawn_cap : 0;
        p->drawn_cap = cap;
        strcpy(p->last_dir, out_dir);
        /* And the documents made (or taken) now are what it can take whole. */
        for (size_t i = 0; i < p->kept_count; i++)
            kept_free(&p->kept[i]);
        kept_doc *swap_docs = p->kept;
        p->kept = p->keeping;
        p->kept_count = p->keeping_count;
        p->keeping = swap_docs;
        p->keeping_count = 0;
    } else {
        p->drawn_count = 0;
        p->last_dir[0] = '\0';
        forget_documents(p);
    }
    result->reused = r.reused_docs;
    result->drawn = r.drawn_pages;
    result->documents = r.doc_count;
    for (size_t d = 0; d < r.doc_count; d++)
        result->pages += r.docs[d].pages;
    result->units = r.unit_count;
    for (size_t i = 0; i < r.unit_count; i++) {
        const unit_info *u = &r.units[i];
        result->unused += u->place_count == 0;
        result->fallback += u->status != VIP_UNIT_TRANSLATED;
        result->changed += u->changed != 0;
        result->with_problems += u->problems != 0;
        result->overflow += u->overflow != 0;
    }
    if (r.check) {
        result->errors = vip_check_errors(r.check);
        result->warnings = vip_check_warnings(r.check);
    }
    vip_case_set_destroy(cases);
    vip_check_destroy(r.check);
    free(r.units);
    vip_catalog_destroy(r.baseline);
    vip_catalog_destroy(r.cat);
    result->total_ms = now_ms() - t0;
    result->cpu_ms = cpu_ms() - c0;
    return rc;
}
