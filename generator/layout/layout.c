#include "layout.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MM (72.0 / 25.4)

/* The envelope window UK letter services use (C5/DL windowed envelopes), from the page's top-left corner. */
#define WINDOW_LEFT (24.6 * MM)
#define WINDOW_RIGHT (120.0 * MM)
#define WINDOW_TOP (39.5 * MM)
#define WINDOW_BOTTOM (66.3 * MM)
#define WINDOW_PAD (2.0 * MM)

#define COLOR_TEXT 0x111111
#define COLOR_HEADING 0x122A5E
#define COLOR_MUTED 0x555555
#define COLOR_LINK 0x1A4DB3
#define COLOR_RULE 0xB0B7C3
#define COLOR_HEADER_FILL 0xE4E9F2
#define COLOR_BOX_INFO 0xEEF2F8
#define COLOR_BOX_IMPORTANT 0xFCF3DC
#define COLOR_BOX_IMPORTANT_RULE 0xC9A227

void vip_layout_default_options(vip_layout_options *o)
{
    memset(o, 0, sizeof *o);
    o->page_width = 210 * MM;
    o->page_height = 297 * MM;
    o->margin_top = o->margin_bottom = o->margin_left = o->margin_right = 20 * MM;
    o->body_size = 10.5;
    o->min_body_size = 11; /* Arabic-script fonts are sized up by their x-height to read the same (fonts.h) */
    o->heading_size[0] = 17;
    o->heading_size[1] = 13.5;
    o->heading_size[2] = 11.5;
    o->leading = 0.25;
    o->paragraph_space = 4.5;
}

/* The state of one layout pass. x coordinates are absolute; "start" and "end" follow the document's direction. */
typedef struct flow {
    vip_text *text;
    const vip_doc *doc;
    const vip_layout_options *o;
    vip_page_doc *out;
    vip_error *err;
    int rtl;
    double pw, ph, top, bottom;     /* page size; vertical limits of the body */
    double page_top;                /* the body's top on the current page (lower under a running header) */
    double header_clear;            /* pages after the first: the body's top clear of the running header */
    double left, right;             /* the body's horizontal limits (boxes narrow them) */
    size_t page;                    /* current page index; SIZE_MAX before the first */
    double y;                       /* top of the free space */
    int in_box, box_tone;
    size_t box_page, box_item;      /* where the current box's background goes */
    double box_top;
    const vip_block *table_header;  /* the header row to repeat after a page break */
    size_t *heading_page;           /* per block: page of a heading (filled in by every pass) */
    double *heading_y;              /* per block: top of a heading on its page (this pass) */
    struct goto_link { size_t page, link, block; } *gotos; /* links to headings, resolved once all are placed */
    size_t goto_count, goto_cap;
    const size_t *known_page;       /* from the previous pass, for the contents; NULL in the first */
    double scale;                   /* applied to every type size (1 unless fitting into max_pages) */
    double leading;                 /* fraction of the size between lines */
    double spacing;                 /* applied to the space between lines and paragraphs (1, less to save a page) */
    int in_contents;                /* laying out the table of contents */
    size_t *block_tag;              /* per block: its structure element (0: none); see tag_blocks */
    int repeating;                  /* laying a table's header row again: page furniture */
    struct link_tag { const vip_rich *r; size_t link, element; } *link_tags; /* each link's Link element */
    size_t link_tag_count, link_tag_cap;
} flow;

static vip_page *cur(flow *f)
{
    return &f->out->pages[f->page];
}

static int nomem(flow *f)
{
    return vip_error_set(f->err, VIP_ERR_NOMEM, "out of memory");
}

/* The box on the page being left: its background runs to the bottom of the page. */
static int close_box_segment(flow *f, double bottom)
{
    uint32_t fill = f->box_tone ? COLOR_BOX_IMPORTANT : COLOR_BOX_INFO;
    uint32_t stroke = f->box_tone ? COLOR_BOX_IMPORTANT_RULE : COLOR_RULE;
    vip_page_rect rect = {f->left - 3 * MM, f->box_top, f->right - f->left + 6 * MM, bottom - f->box_top,
                          fill, 1, f->box_tone ? 1.0 : 0.6, stroke};
    if (vip_page_insert_rect(&f->out->pages[f->box_page], f->box_item, &rect))
        return nomem(f);
    return VIP_OK;
}

static int new_page(flow *f)
{
    if (f->in_box && f->page != SIZE_MAX && close_box_segment(f, f->y + 2 * MM))
        return f->err->code;
    if (!vip_page_doc_add_page(f->out, f->pw, f->ph))
        return nomem(f);
    f->page = f->out->page_count - 1;
    f->page_top = f->page > 0 && f->header_clear > f->top ? f->header_clear : f->top;
    f->y = f->page_top;
    if (f->in_box) {
        f->box_page = f->page;
        f->box_item = 0;
        f->box_top = f->y;
        f->y += 3 * MM;
    }
    return VIP_OK;
}

/* Starts a new page unless the space needed fits below y (or the page is still empty). */
static int ensure(flow *f, double need)
{
    if (f->page == SIZE_MAX || (f->y + need > f->bottom && f->y > f->page_top + (f->in_box ? 3 * MM : 0) + 1e-6))
        return new_page(f);
    return VIP_OK;
}

/* The block (and table cell, else SIZE_MAX) whose text r is; SIZE_MAX when it is none's (header, footer). */
static size_t block_of(const flow *f, const vip_rich *r, size_t *cell)
{
    *cell = SIZE_MAX;
    for (size_t i = 0; r && i < f->doc->block_count; i++) {
        const vip_block *b = &f->doc->blocks[i];
        if (r == &b->content)
            return i;
        if (b->cell_count && r >= b->cells && r < b->cells + b->cell_count) {
            *cell = (size_t)(r - b->cells);
            return i;
        }
    }
    return SIZE_MAX;
}

/* Notes a block's text that is wider than its place (see vip_page_overflow); once per block, cell and kind, at
 * the most it was over. */
static int note_overflow(flow *f, const vip_rich *r, const vip_paragraph *p, const vip_text_style *style,
                         double width, const char *where)
{
    size_t cell, block = block_of(f, r, &cell);
    if (block == SIZE_MAX)
        return VIP_OK;
    const vip_block *b = &f->doc->blocks[block];
    int limit = f->in_contents ? 0 : cell == SIZE_MAX ? b->max_lines : b->cell_lines ? b->cell_lines[cell] : 0;
    vip_page_place place = f->in_contents                     ? VIP_PLACE_CONTENTS
                           : cell != SIZE_MAX                 ? VIP_PLACE_CELL
                           : b->region == VIP_REGION_LETTERHEAD ? VIP_PLACE_LETTERHEAD
                           : b->region == VIP_REGION_ADDRESS  ? VIP_PLACE_ADDRESS
                           : b->region == VIP_REGION_REFERENCE ? VIP_PLACE_REFERENCE
                           : b->kind == VIP_BLOCK_LIST_ITEM && b->list_columns == 2 ? VIP_PLACE_LIST_COLUMN
                           : f->in_box                        ? VIP_PLACE_BOX
                                                              : VIP_PLACE_COLUMN;
    for (int kind = 0; kind < 2; kind++) {
        double excess = p->overflow;
        if (kind == 0 && excess <= 0.05)
            continue;
        if (kind == 1) {
            if (limit <= 0 || p->line_count <= (size_t)limit)
                break;
            /* How much narrower the text must get: its width on one line (its own line breaks kept) against the
             * room of the lines it may take. */
            vip_paragraph *wide = vip_text_layout_paragraph(f->text, r->text ? r->text : "", r->length, style,
                                                            r->spans, r->span_count, 1e6, where, f->err);
            if (!wide)
                return f->err->code;
            double natural = 0;
            for (size_t l = 0; l < wide->line_count; l++)
                natural += wide->lines[l].width;
            vip_paragraph_destroy(wide);
            excess = fmax(0, natural - limit * width);
        }
        /* The piece that was cut, to tell which of the block's units it is in (vipgen check). */
        const char *piece = NULL;
        size_t piece_length = kind ? 0 : p->overflow_end - p->overflow_start;
        vip_page_overflow *o = f->out->overflows;
        while (o && !(o->block == block && o->cell == cell && o->lines == (kind ? limit : 0)))
            o = o->next;
        if (piece_length && (!o || excess > o->excess) &&
            !(piece = vip_page_doc_keep_text(f->out, p->text + p->overflow_start, piece_length)))
            return nomem(f);
        if (o) {
            if (piece) {
                o->piece = piece;
                o->piece_length = piece_length;
            }
            o->excess = fmax(o->excess, excess);
            o->line_count = p->line_count > o->line_count ? p->line_count : o->line_count;
            continue;
        }
        vip_page_overflow note = {block, cell, place, kind ? limit : 0, p->line_count, excess, width, style->size,
                                  piece, piece_length, f->out->overflows};
        /* Kept in the document's storage, so that it goes with the document. */
        if (!(o = (vip_page_overflow *)vip_page_doc_keep_text(f->out, (const char *)&note, sizeof note)))
            return nomem(f);
        f->out->overflows = o;
    }
    return VIP_OK;
}

static vip_paragraph *lay(flow *f, const vip_rich *r, const char *lang, vip_dir dir, vip_align align, double size,
                          vip_weight weight, double width, const char *where)
{
    vip_text_style style = {.lang = lang ? lang : f->doc->lang,
                            .dir = dir ? dir : f->doc->dir,
                            .align = align,
                            .size = size,
                            .leading = f->leading,
                            .weight = weight};
    vip_paragraph *p = vip_text_layout_paragraph(f->text, r->text ? r->text : "", r->length, &style, r->spans,
                                                 r->span_count, width, where, f->err);
    if (p && note_overflow(f, r, p, &style, width, where)) {
        vip_paragraph_destroy(p);
        return NULL;
    }
    return p;
}

static double line_height(const vip_text_line *l)
{
    return l->ascent + l->descent + l->leading;
}

/* Notes where a block's line went, for previews: the line's box joins the block's area on this page, or starts
 * one. Header, footer and contents lines (r NULL, or not a block's text) are not a block's. */
static int note_area(flow *f, const vip_text_line *line, const vip_rich *r, double x0, double baseline)
{
    size_t cell, block = block_of(f, r, &cell);
    if (block == SIZE_MAX || !line->run_count)
        return VIP_OK;
    double x = x0 + line->runs[0].x, right = x0 + line->runs[line->run_count - 1].x +
                                             line->runs[line->run_count - 1].width;
    double top = baseline - line->ascent, bottom = baseline + line->descent;
    vip_page_area *a = f->out->areas;
    if (a && a->block == block && a->page == f->page) {
        right = fmax(right, a->x + a->width);
        bottom = fmax(bottom, a->y + a->height);
        a->x = fmin(a->x, x);
        a->y = fmin(a->y, top);
        a->width = right - a->x;
        a->height = bottom - a->y;
        return VIP_OK;
    }
    vip_page_area area = {block, f->page, x, top, right - x, bottom - top, f->out->areas};
    /* Kept in the document's storage, so that it goes with the document. */
    if (!(a = (vip_page_area *)vip_page_doc_keep_text(f->out, (const char *)&area, sizeof area)))
        return nomem(f);
    f->out->areas = a;
    return VIP_OK;
}

/* The structure element a block's text belongs to (a list item's LBody, a cell's TH or TD; see tag_blocks); text
 * that is no block's (a list marker, a contents entry) belongs to the current element. */
static size_t tag_of(const flow *f, const vip_rich *r)
{
    if (f->repeating)
        return 0;
    for (size_t i = 0; r && i < f->doc->block_count; i++) {
        const vip_block *b = &f->doc->blocks[i];
        if (r == &b->content)
            return f->block_tag[i] && b->kind == VIP_BLOCK_LIST_ITEM ? f->block_tag[i] + 2 : f->block_tag[i];
        if (b->cell_count && r >= b->cells && r < b->cells + b->cell_count)
            return f->block_tag[i] ? f->block_tag[i] + 1 + (size_t)(r - b->cells) : 0;
    }
    return f->out->current;
}

/* The Link element of link l of r, under parent; made when the link's first run is placed, so that it takes that
 * run's place in the reading order. 0 when out of memory. */
/* Notes element e as link l of r's Link element. */
static int set_link_element(flow *f, const vip_rich *r, size_t l, size_t e)
{
    if (f->link_tag_count == f->link_tag_cap) {
        size_t cap = f->link_tag_cap ? 2 * f->link_tag_cap : 16;
        struct link_tag *grown = realloc(f->link_tags, cap * sizeof *grown);
        if (!grown)
            return VIP_ERR_NOMEM;
        f->link_tags = grown;
        f->link_tag_cap = cap;
    }
    f->link_tags[f->link_tag_count++] = (struct link_tag){r, l, e};
    return VIP_OK;
}

static size_t link_element(flow *f, const vip_rich *r, size_t l, size_t parent)
{
    for (size_t i = f->link_tag_count; i-- > 0;)
        if (f->link_tags[i].r == r && f->link_tags[i].link == l)
            return f->link_tags[i].element;
    size_t e = vip_page_doc_add_element(f->out, VIP_ROLE_LINK, parent, NULL, NULL);
    return e && !set_link_element(f, r, l, e) ? e : 0;
}

/* The link of r a run of text [start, end) is part of (runs are cut where links begin and end), or SIZE_MAX. */
static size_t link_of(const vip_rich *r, size_t start, size_t end)
{
    for (size_t l = 0; r && l < r->link_count; l++)
        if (start < r->links[l].end && end > r->links[l].start)
            return l;
    return SIZE_MAX;
}

/* The line's runs (items from first on the page) in reading order: logical order, not the visual order they are
 * drawn in, each linked run in its Link element. */
static int tag_line(flow *f, vip_page *page, size_t first, const vip_rich *r)
{
    size_t tag = tag_of(f, r);
    for (size_t i = first; i < page->item_count; i++)
        page->items[i].order = UINT64_MAX; /* not yet placed in the reading order */
    for (;;) {
        vip_page_item *next = NULL; /* the run that starts next in the text */
        for (size_t i = first; i < page->item_count; i++) {
            vip_page_item *it = &page->items[i];
            if (it->order == UINT64_MAX && (!next || it->u.run.text_start < next->u.run.text_start))
                next = it;
        }
        if (!next)
            return VIP_OK;
        size_t l = tag ? link_of(r, next->u.run.text_start, next->u.run.text_end) : SIZE_MAX;
        next->tag = l == SIZE_MAX ? tag : link_element(f, r, l, tag);
        if (!next->tag && tag)
            return nomem(f);
        next->order = f->out->next_order++;
    }
}

/* A link to heading block `block` from link `link` of the current page; its place is known once the pass is done. */
static int note_goto(flow *f, size_t link, size_t block)
{
    if (f->goto_count == f->goto_cap) {
        size_t cap = f->goto_cap ? 2 * f->goto_cap : 16;
        struct goto_link *grown = realloc(f->gotos, cap * sizeof *grown);
        if (!grown)
            return nomem(f);
        f->gotos = grown;
        f->goto_cap = cap;
    }
    f->gotos[f->goto_count++] = (struct goto_link){f->page, link, block};
    return VIP_OK;
}

/* The link of r that glyph g of a run is part of, or SIZE_MAX: the one its cluster's text overlaps (a cluster
 * may begin with an invisible character before the link, such as the isolate around a case value). */
static size_t link_at(const vip_rich *r, const vip_text_run *tr, size_t g)
{
    if (!r || !r->link_count)
        return SIZE_MAX;
    uint32_t start = tr->glyphs[g].cluster, end = tr->end;
    for (size_t k = 0; k < tr->glyph_count; k++)
        if (tr->glyphs[k].cluster > start && tr->glyphs[k].cluster < end)
            end = tr->glyphs[k].cluster;
    for (size_t l = 0; l < r->link_count; l++)
        if (start < r->links[l].end && end > r->links[l].start)
            return l;
    return SIZE_MAX;
}

/* Adds the glyphs [from, to) of a shaped run (visual order) as one page run, at the same places on the page. */
static int add_run_piece(flow *f, vip_page *page, const vip_text_run *tr, size_t from, size_t to, const char *text,
                         const vip_link *link, double x0, double baseline, uint32_t color)
{
    vip_page_glyph *glyphs = malloc((to - from) * sizeof *glyphs);
    if (!glyphs)
        return nomem(f);
    /* The piece's text: from its first cluster to the next cluster of the run after its last (or the run's end). */
    uint32_t start = UINT32_MAX, last = 0, end = tr->end;
    double origin = from > 0 ? tr->glyphs[from].x : 0;
    for (size_t g = from; g < to; g++) {
        const vip_text_glyph *gl = &tr->glyphs[g];
        glyphs[g - from] = (vip_page_glyph){gl->gid, gl->cluster, gl->x - origin, gl->y, gl->advance};
        start = gl->cluster < start ? gl->cluster : start;
        last = gl->cluster > last ? gl->cluster : last;
    }
    for (size_t g = 0; g < tr->glyph_count; g++)
        if (tr->glyphs[g].cluster > last && tr->glyphs[g].cluster < end)
            end = tr->glyphs[g].cluster;
    if (from == 0 && to == tr->glyph_count)
        start = tr->start, end = tr->end;
    if (link) /* a link's piece ends with its text (a line-end space without a glyph is not the link's) */
        end = end < link->end ? end : (uint32_t)link->end;
    vip_page_run run = {.font = tr->font, .size = tr->size, .x = x0 + tr->x + origin, .y = baseline,
                        .rtl = tr->rtl, .text = text, .text_start = start, .text_end = end, .lang = tr->lang,
                        .glyphs = glyphs, .glyph_count = to - from, .color = color};
    int rc = vip_page_add_run(f->out, page, &run);
    free(glyphs);
    return rc ? nomem(f) : VIP_OK;
}

/* Puts one line on the current page with its baseline at y; links in the line become clickable areas. A run is
 * cut where a link starts or ends inside it (its glyphs stay where they were shaped), so that the link's text is
 * marked content of its own, in its Link element. */
static int emit_line(flow *f, const vip_text_line *line, const char *text, const vip_rich *r, double x0,
                     double baseline, uint32_t color)
{
    vip_page *page = cur(f);
    size_t first = page->item_count;
    for (size_t i = 0; i < line->run_count; i++) {
        const vip_text_run *tr = &line->runs[i];
        for (size_t from = 0, to; from < tr->glyph_count; from = to) {
            size_t l = link_at(r, tr, from);
            for (to = from + 1; to < tr->glyph_count && link_at(r, tr, to) == l; to++)
                ;
            /* A link the template draws as one (<link>) is coloured; one found in the text looks like the text. */
            uint32_t run_color = l != SIZE_MAX && !r->links[l].plain ? COLOR_LINK : color;
            if (add_run_piece(f, page, tr, from, to, text, l == SIZE_MAX ? NULL : &r->links[l], x0, baseline,
                              run_color))
                return f->err->code;
        }
    }
    if (tag_line(f, page, first, r) || note_area(f, line, r, x0, baseline))
        return f->err->code;
    /* Each link's extent on this line: the glyphs whose clusters fall in its byte range. */
    for (size_t l = 0; r && l < r->link_count; l++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < line->run_count; i++)
            for (size_t g = 0; g < line->runs[i].glyph_count; g++) {
                const vip_text_glyph *gl = &line->runs[i].glyphs[g];
                if (link_at(r, &line->runs[i], g) == l) {
                    double x = x0 + line->runs[i].x + gl->x;
                    lo = fmin(lo, x);
                    hi = fmax(hi, x + gl->advance);
                }
            }
        if (lo < hi) {
            vip_page_rule underline = {lo, baseline + 1.5, hi, baseline + 1.5, 0.5, COLOR_LINK};
            double top = baseline - line->ascent, height = line->ascent + line->descent;
            const char *goes_to = r->links[l].target ? f->doc->blocks[r->links[l].target - 1].content.text : NULL;
            goes_to = goes_to ? goes_to : "";
            if ((!r->links[l].plain && vip_page_add_rule(page, &underline)) ||
                (r->links[l].target ? vip_page_add_goto(f->out, page, lo, top, hi - lo, height, 0, 0, goes_to)
                                    : vip_page_add_link(f->out, page, lo, top, hi - lo, height, r->links[l].uri)))
                return nomem(f);
            if (r->links[l].target && note_goto(f, page->link_count - 1, r->links[l].target - 1))
                return f->err->code;
            /* The annotation goes in its Link element, after the link's text. */
            size_t tag = tag_of(f, r);
            if (tag && !(page->links[page->link_count - 1].tag = link_element(f, r, l, tag)))
                return nomem(f);
        }
    }
    return VIP_OK;
}

/* The height of lines [from, to) of a paragraph, the last one's leading not counted. */
static double lines_height(const vip_paragraph *p, size_t from, size_t to)
{
    double h = 0;
    for (size_t l = from; l < to && l < p->line_count; l++)
        h += l + 1 < to ? line_height(&p->lines[l]) : p->lines[l].ascent + p->lines[l].descent;
    return h;
}

/* What a paragraph's first line needs on a page: with its second line too when it has more, so that it is never
 * left alone at the foot of a page (an orphan); a paragraph of three lines whole, since a break inside it would
 * leave one of its lines alone on one page or the other. */
static double opening_height(const vip_paragraph *p)
{
    return lines_height(p, 0, p->line_count <= 3 ? p->line_count : 2);
}

/* Places a laid-out paragraph at x0, flowing over pages; never leaves a single line of it alone at the foot or
 * the head of a page when it has more (orphans and widows). Gives the page and baseline of its first line (for
 * a list item's marker) when first_page is not NULL. */
static int place(flow *f, const vip_paragraph *p, const vip_rich *r, double x0, uint32_t color, size_t *first_page,
                 double *first_baseline)
{
    const char *kept = vip_page_doc_keep_text(f->out, p->text, p->length);
    if (!kept)
        return nomem(f);
    for (size_t l = 0; l < p->line_count; l++) {
        const vip_text_line *line = &p->lines[l];
        double need = line->ascent + line->descent;
        if (l == 0)
            need = opening_height(p);
        else if (l >= 2 && l + 2 == p->line_count) /* no single last line at the head of one */
            need = lines_height(p, l, l + 2);
        if (ensure(f, need))
            return f->err->code;
        if (l == 0 && first_page) {
            *first_page = f->page;
            *first_baseline = f->y + line->ascent;
        }
        if (emit_line(f, line, kept, r, x0, f->y + line->ascent, color))
            return f->err->code;
        f->y += line_height(line);
    }
    return VIP_OK;
}

/* A print variant's scale of every type size (large print), on top of the fitting scale. */
static double type_scale(const flow *f)
{
    return f->doc->type_scale > 0 ? f->doc->type_scale : 1;
}

static double heading_size(const flow *f, int level)
{
    return f->o->heading_size[level < 1 ? 0 : level > 3 ? 2 : level - 1] * f->scale * type_scale(f);
}

static double body_size(const flow *f)
{
    return (f->doc->body_size > 0 ? f->doc->body_size : f->o->body_size) * f->scale;
}

/* A size a block sets itself, or the default of its kind. */
static double own_size(const flow *f, double size, double fallback)
{
    return size > 0 ? size * f->scale * type_scale(f) : fallback;
}

static char *number_text(flow *f, int n)
{
    if (f->doc->number)
        return f->doc->number(f->doc->user, n, f->err);
    char *s = malloc(16);
    if (s)
        snprintf(s, 16, "%d", n);
    else
        nomem(f);
    return s;
}

/* One entry of the contents: the heading's text on the start side, its page number on the end side. */
static int contents_entry(flow *f, const vip_block *h, size_t index, size_t contents)
{
    double size = body_size(f), indent = h->level > 1 ? 6 * MM : 0;
    double num_width = 14 * MM, width = f->right - f->left;
    size_t page = f->known_page ? f->known_page[index] + 1 : 0;
    char *num = page ? number_text(f, (int)page) : strdup("");
    if (!num)
        return f->err->code ? f->err->code : nomem(f);
    vip_rich nr = {.text = num, .length = strlen(num)};
    /* Each entry an item of the contents (TOCI), title and page number, which go to the heading: one link over
     * both (the title's Link element holds the number's text and areas too), drawn like the text. */
    if (f->block_tag[contents] && !(f->out->current = vip_page_doc_add_element(f->out, VIP_ROLE_TOCI,
                                                                               f->block_tag[contents], NULL, NULL))) {
        free(num);
        return nomem(f);
    }
    vip_link title_link = {0, h->content.length, NULL, 1, index + 1}, number_link = {0, nr.length, NULL, 1, index + 1};
    vip_rich entry = h->content;
    entry.links = &title_link;
    entry.link_count = 1;
    nr.links = &number_link;
    nr.link_count = 1;
    vip_weight w = h->level == 1 ? VIP_WEIGHT_BOLD : VIP_WEIGHT_REGULAR;
    vip_paragraph *title = lay(f, &h->content, h->lang, 0, VIP_ALIGN_START, size, w, width - indent - num_width,
                               h->where);
    vip_paragraph *pn = title ? lay(f, &nr, NULL, 0, VIP_ALIGN_END, size, w, num_width, h->where) : NULL;
    int rc = VIP_OK;
    if (!title || !pn) {
        rc = f->err->code;
    } else {
        double start_x = f->rtl ? f->left + num_width : f->left + indent;
        double num_x = f->rtl ? f->left : f->right - num_width;
        if ((rc = place(f, title, &entry, start_x, COLOR_TEXT, NULL, NULL)) == VIP_OK && pn->line_count) {
            /* The number sits on the title's last line, which is on the current page. */
            const vip_text_line *last = &title->lines[title->line_count - 1];
            double baseline = f->y - line_height(last) + last->ascent;
            const char *kept = vip_page_doc_keep_text(f->out, pn->text, pn->length);
            rc = kept ? VIP_OK : nomem(f);
            /* The number in the title's Link element. */
            size_t link = f->out->current ? link_element(f, &entry, 0, f->out->current) : 0;
            if (!rc && f->out->current && (!link || set_link_element(f, &nr, 0, link)))
                rc = nomem(f);
            if (!rc)
                rc = emit_line(f, &pn->lines[0], kept, &nr, num_x, baseline, COLOR_TEXT);
        }
        f->y += 2;
    }
    vip_paragraph_destroy(title);
    vip_paragraph_destroy(pn);
    free(num);
    f->out->current = 0;
    /* entry and nr go with this call: their Link elements must not be found again by their addresses. */
    for (size_t i = 0; i < f->link_tag_count; i++)
        if (f->link_tags[i].r == &entry || f->link_tags[i].r == &nr)
            f->link_tags[i].r = NULL;
    return rc;
}

static int lay_contents(flow *f, size_t from)
{
    int levels = f->doc->blocks[from].level > 0 ? f->doc->blocks[from].level : 2;
    f->in_contents = 1;
    for (size_t i = from + 1; i < f->doc->block_count; i++) {
        const vip_block *b = &f->doc->blocks[i];
        if (b->kind == VIP_BLOCK_HEADING && b->bookmark && b->level <= levels && contents_entry(f, b, i, from))
            return f->err->code;
    }
    f->in_contents = 0;
    return VIP_OK;
}

/* A table row: cells side by side (first cell on the start side), each ruled; a header row is shaded and bold. */
static int lay_row(flow *f, const vip_block *b, int repeating)
{
    double width = f->right - f->left, total = 0, pad = 1.2 * MM * f->scale, size = body_size(f);
    for (size_t c = 0; c < b->cell_count; c++)
        total += b->columns[c] > 0 ? b->columns[c] : 1;
    vip_paragraph **cells = calloc(b->cell_count ? b->cell_count : 1, sizeof *cells);
    double *cw = calloc(b->cell_count ? b->cell_count : 1, sizeof *cw);
    int rc = VIP_OK;
    if (!cells || !cw) {
        rc = nomem(f);
        goto done;
    }
    double height = 0;
    for (size_t c = 0; c < b->cell_count; c++) {
        cw[c] = width * (b->columns[c] > 0 ? b->columns[c] : 1) / total;
        cells[c] = lay(f, &b->cells[c], b->lang, 0, VIP_ALIGN_START, size,
                       b->header ? VIP_WEIGHT_BOLD : VIP_WEIGHT_REGULAR, cw[c] - 2 * pad, b->where);
        if (!cells[c]) {
            rc = f->err->code;
            goto done;
        }
        double h = cells[c]->height - (cells[c]->line_count ? cells[c]->lines[cells[c]->line_count - 1].leading : 0);
        height = fmax(height, h + 2 * pad);
    }
    size_t before = f->page;
    if ((rc = ensure(f, height)))
        goto done;
    if (f->page != before && f->table_header && !b->header && !repeating) {
        /* The header row again at the top of the new page. */
        f->repeating = 1; /* furniture: the header row is in the structure once */
        f->out->artifact = VIP_ARTIFACT_PAGINATION;
        rc = lay_row(f, f->table_header, 1);
        f->out->artifact = VIP_ARTIFACT_LAYOUT;
        f->repeating = 0;
        if (rc)
            goto done;
    }
    double top = f->y, x = f->rtl ? f->right : f->left;
    for (size_t c = 0; c < b->cell_count; c++) {
        double cx = f->rtl ? x - cw[c] : x;
        vip_page_rect rect = {cx, top, cw[c], height, COLOR_HEADER_FILL, b->header, 0.6, COLOR_RULE};
        if (vip_page_insert_rect(cur(f), cur(f)->item_count, &rect)) {
            rc = nomem(f);
            goto done;
        }
        f->y = top + pad;
        const char *kept = vip_page_doc_keep_text(f->out, cells[c]->text, cells[c]->length);
        if (!kept) {
            rc = nomem(f);
            goto done;
        }
        for (size_t l = 0; l < cells[c]->line_count; l++) {
            const vip_text_line *line = &cells[c]->lines[l];
            if ((rc = emit_line(f, line, kept, &b->cells[c], cx + pad, f->y + line->ascent, COLOR_TEXT)))
                goto done;
            f->y += line_height(line);
        }
        x = f->rtl ? x - cw[c] : x + cw[c];
    }
    f->y = top + height;
done:
    for (size_t c = 0; cells && c < b->cell_count; c++)
        vip_paragraph_destroy(cells[c]);
    free(cells);
    free(cw);
    return rc;
}

/* A list item laid out for a column from left to right: its marker on the start side, its text beside it. */
typedef struct list_item {
    vip_paragraph *marker, *text;
    double marker_x, text_x;
} list_item;

static void list_item_free(list_item *it)
{
    vip_paragraph_destroy(it->marker);
    vip_paragraph_destroy(it->text);
    *it = (list_item){0};
}

static int lay_list_item_text(flow *f, const vip_block *b, double left, double right, list_item *it)
{
    /* The marker's room grows with the type: "12." at 11 pt needs more than 5 mm. */
    double size = own_size(f, b->size, body_size(f)), indent = fmax(7 * MM, 2.6 * size), gap = 2 * MM;
    vip_rich marker = {.text = b->marker ? b->marker : "\xE2\x80\xA2", .length = strlen(b->marker ? b->marker : "\xE2\x80\xA2")};
    *it = (list_item){0};
    it->marker = lay(f, &marker, b->lang, 0, VIP_ALIGN_END, size, VIP_WEIGHT_REGULAR, indent - gap, b->where);
    it->text = it->marker ? lay(f, &b->content, b->lang, b->dir, b->align, size, b->weight, right - left - indent,
                                b->where)
                          : NULL;
    if (!it->marker || !it->text) {
        list_item_free(it);
        return f->err->code;
    }
    it->text_x = f->rtl ? left : left + indent;
    it->marker_x = f->rtl ? right - indent + gap : left;
    return VIP_OK;
}

/* The marker sits on the item's first baseline, on the page where that line went. */
static int emit_marker(flow *f, const list_item *it, size_t page, double baseline, size_t item_tag)
{
    if (!it->marker->line_count)
        return VIP_OK;
    const char *kept = vip_page_doc_keep_text(f->out, it->marker->text, it->marker->length);
    if (!kept)
        return nomem(f);
    size_t now = f->page;
    f->page = page;
    f->out->current = item_tag ? item_tag + 1 : 0; /* the item's Lbl */
    int rc = emit_line(f, &it->marker->lines[0], kept, NULL, it->marker_x, baseline, COLOR_HEADING);
    f->out->current = 0;
    f->page = now;
    return rc;
}

static int lay_list_item(flow *f, const vip_block *b)
{
    list_item it;
    int rc = lay_list_item_text(f, b, f->left, f->right, &it);
    if (rc)
        return rc;
    /* The marker goes where the item's first line went: place() may take that line to the next page, with the
     * one after it, and the marker with them. */
    size_t page = SIZE_MAX;
    double first_baseline = 0;
    rc = place(f, it.text, &b->content, it.text_x, COLOR_TEXT, &page, &first_baseline);
    if (!rc && page != SIZE_MAX)
        rc = emit_marker(f, &it, page, first_baseline, f->block_tag[b - f->doc->blocks]);
    f->y += 1.0;
    list_item_free(&it);
    return rc;
}

/* Whether block i is an item of the same list as block i - 1. */
static int continues_list(const vip_doc *d, size_t i)
{
    const vip_block *b = &d->blocks[i], *prev = i ? &d->blocks[i - 1] : NULL;
    return prev && b->kind == VIP_BLOCK_LIST_ITEM && prev->kind == VIP_BLOCK_LIST_ITEM && !b->list_first &&
           b->list_columns == prev->list_columns && b->region == prev->region;
}

/* poppler's text engine (pdftotext, desktop viewers) takes a line into the block of the line above it only when
 * their baselines are at most 1.5 em apart (maxLineSpacingDelta in its TextOutputDev.cc), then orders the blocks
 * by their place on the page. At the body's leading Latin lines are 1.6 em apart, so every line of a two-column
 * list was a block of its own and poppler read the list across the columns, line by line. In the list, the lines
 * of an item are therefore LIST_LINE_EM apart and items LIST_ITEM_EM, or as little more as the lines' glyphs need
 * (Naskh's about 1.49 em) up to LIST_MOST_EM, and a column's items follow each other without a gap: each column
 * is one block, read whole before the other. Lines that need more (Nastaliq's) keep the body's leading. */
#define LIST_LINE_EM 1.40
#define LIST_ITEM_EM 1.48  /* a little more between items, still under poppler's 1.5 */
#define LIST_MOST_EM 1.495 /* lines whose glyphs need more keep the body's leading */
#define LIST_CLEAR_EM 0.02 /* the least room kept between one line's box (ascent and descent) and the next's */

/* The type size poppler takes a line's block at: that of its longest run (Arabic-script runs are set larger than
 * the list's size, to read as large as Latin; see fonts.h); size when it has none. */
static double line_em(const vip_text_line *l, double size)
{
    size_t most = 0;
    for (size_t i = 0; i < l->run_count; i++)
        if (l->runs[i].glyph_count > most) {
            most = l->runs[i].glyph_count;
            size = l->runs[i].size;
        }
    return size;
}

/* From the baseline of a line (its descent and leading given) to the baseline of line b below it in a two-column
 * list: the next line of an item, or the first line of the next item (1.0 pt more at the body's leading). */
static double list_step(double descent, double leading, const vip_text_line *b, double size, int next_item)
{
    double ink = descent + b->ascent, normal = ink + leading + (next_item ? 1.0 : 0);
    size = line_em(b, size);
    double step = fmax((next_item ? LIST_ITEM_EM : LIST_LINE_EM) * size, ink + LIST_CLEAR_EM * size);
    return step <= LIST_MOST_EM * size ? fmin(normal, step) : normal;
}

/* The bottom of a list item's last line when its first baseline is at y. */
static double list_item_bottom(const vip_paragraph *p, double y, double size)
{
    for (size_t l = 1; l < p->line_count; l++)
        y += list_step(p->lines[l - 1].descent, p->lines[l - 1].leading, &p->lines[l], size, 0);
    return p->line_count ? y + p->lines[p->line_count - 1].descent : y;
}

/* Places items [a, b) of a two-column list down one column whose first baseline is y (baseline[i] for each item);
 * returns the bottom of its last line, and in *last the baseline, descent and leading that follow it. */
typedef struct list_end {
    double baseline, descent, leading;
} list_end;

static double list_column(const list_item *items, const double *size, size_t a, size_t b, double y,
                          double *baseline, list_end *last)
{
    double bottom = y;
    for (size_t i = a; i < b; i++) {
        const vip_paragraph *p = items[i].text;
        if (!p->line_count) {
            if (baseline)
                baseline[i] = y;
            continue;
        }
        if (i > a && last->leading > 0)
            y = last->baseline + list_step(last->descent, last->leading, &p->lines[0], size[i], 1);
        if (baseline)
            baseline[i] = y;
        bottom = list_item_bottom(p, y, size[i]);
        const vip_text_line *l = &p->lines[p->line_count - 1];
        *last = (list_end){bottom - l->descent, l->descent, l->leading};
    }
    return bottom;
}

static double first_ascent(const list_item *items, size_t i, size_t n)
{
    return i < n && items[i].text->line_count ? items[i].text->lines[0].ascent : 0;
}

/* How many items from a fit one column from first baseline y down to the page's foot (0 when not even one). */
static size_t list_column_fit(const flow *f, const list_item *items, const double *size, size_t a, size_t n, double y)
{
    size_t k = 0;
    list_end last = {0, 0, 0};
    while (a + k < n && list_column(items, size, a, a + k + 1, y, NULL, &last) <= f->bottom + 1e-6)
        k++;
    return k;
}

/* A list in two columns, from its first item: the items run down the start column, then down the other, page by
 * page. Where the rest of the list fits on the page, the two columns are balanced (the start column takes the odd
 * one); otherwise the start column fills the page, then the other, and the list goes on on the next page, so that
 * a reader goes down one column and then the other on every page. An item is never split. Within a page each
 * column runs on by itself (see LIST_LINE_EM); the two start on one baseline. It is drawn column by column, in
 * reading order: engines that read in drawing order (PDFium joins text drawn one after another on one baseline into
 * a line; pdf.js) and the structure tree get the items in their order. */
static int lay_list_columns(flow *f, size_t first)
{
    size_t n = 1;
    while (first + n < f->doc->block_count && continues_list(f->doc, first + n))
        n++;
    double gap = 6 * MM, width = (f->right - f->left - gap) / 2;
    double column_left[2] = {f->rtl ? f->right - width : f->left, f->rtl ? f->left : f->right - width};
    list_item *items = calloc(n, sizeof *items);
    double *size = calloc(n, sizeof *size), *baseline = calloc(n, sizeof *baseline);
    size_t *page = calloc(n, sizeof *page);
    int *column = calloc(n, sizeof *column);
    int rc = items && size && baseline && page && column ? VIP_OK : nomem(f);
    for (size_t i = 0; i < n && !rc; i++) {
        const vip_block *b = &f->doc->blocks[first + i];
        size[i] = own_size(f, b->size, body_size(f));
        rc = lay_list_item_text(f, b, column_left[0], column_left[0] + width, &items[i]);
    }
    if (!rc && f->page == SIZE_MAX)
        rc = new_page(f);
    double end = f->y;
    for (size_t next = 0; next < n && !rc;) {
        size_t rest = n - next, split = 0;
        double y0 = f->y, best = INFINITY;
        /* All the rest on this page, balanced: the split with the shorter longest column (the start column at
         * least as long in items). */
        for (size_t s = (rest + 1) / 2; s <= rest; s++) {
            double top = y0 + fmax(first_ascent(items, next, n), s < rest ? first_ascent(items, next + s, n) : 0);
            list_end l0 = {0, 0, 0}, l1 = {0, 0, 0};
            double low = fmax(list_column(items, size, next, next + s, top, NULL, &l0),
                              list_column(items, size, next + s, n, top, NULL, &l1));
            if (low <= f->bottom + 1e-6 && low < best - 1e-6) {
                best = low;
                split = s;
            }
        }
        size_t k0 = split, k1 = split ? rest - split : 0;
        double top = y0 + first_ascent(items, next, n);
        if (!split) {
            /* The page holds less than the rest: the start column fills it, then the other. */
            k0 = list_column_fit(f, items, size, next, n, top);
            if (k0 == 0 && f->y > f->page_top + 1e-6) {
                rc = new_page(f);
                continue;
            }
            if (k0 == 0)
                k0 = 1; /* an item taller than a page: placed all the same */
            top = y0 + fmax(first_ascent(items, next, n), first_ascent(items, next + k0, n));
            size_t fits = list_column_fit(f, items, size, next, next + k0, top); /* the baseline may have moved */
            k0 = fits ? fits : 1;
            k1 = list_column_fit(f, items, size, next + k0, n, top);
        } else {
            top = y0 + fmax(first_ascent(items, next, n), first_ascent(items, next + k0, n));
        }
        list_end l0 = {0, 0, 0}, l1 = {0, 0, 0};
        list_column(items, size, next, next + k0, top, baseline, &l0);
        list_column(items, size, next + k0, next + k0 + k1, top, baseline, &l1);
        for (size_t i = next; i < next + k0 + k1; i++) {
            page[i] = f->page;
            column[i] = i >= next + k0;
        }
        end = y0;
        if (l0.leading > 0)
            end = fmax(end, l0.baseline + l0.descent + l0.leading + 1.0);
        if (l1.leading > 0)
            end = fmax(end, l1.baseline + l1.descent + l1.leading + 1.0);
        next += k0 + k1;
        if (next < n)
            rc = new_page(f);
    }
    /* Drawn in reading order, each item where it was placed. */
    size_t now = f->page;
    for (size_t i = 0; i < n && !rc; i++) {
        const vip_block *b = &f->doc->blocks[first + i];
        int c = column[i];
        list_item it;
        if ((rc = lay_list_item_text(f, b, column_left[c], column_left[c] + width, &it)))
            break;
        const vip_paragraph *p = it.text;
        const char *kept = p->line_count ? vip_page_doc_keep_text(f->out, p->text, p->length) : "";
        if (!kept)
            rc = nomem(f);
        f->page = page[i];
        double y = baseline[i];
        for (size_t l = 0; l < p->line_count && !rc; l++) {
            if (l)
                y += list_step(p->lines[l - 1].descent, p->lines[l - 1].leading, &p->lines[l], size[i], 0);
            rc = emit_line(f, &p->lines[l], kept, &b->content, it.text_x, y, COLOR_TEXT);
        }
        f->page = now;
        if (!rc && p->line_count)
            rc = emit_marker(f, &it, page[i], baseline[i], f->block_tag[b - f->doc->blocks]);
        list_item_free(&it);
    }
    for (size_t i = 0; items && i < n; i++)
        list_item_free(&items[i]);
    free(items);
    free(size);
    free(baseline);
    free(page);
    free(column);
    if (!rc)
        f->y = end;
    return rc;
}

/* A heading stays with at least two lines of what follows it. */
static int lay_heading(flow *f, size_t index)
{
    const vip_block *b = &f->doc->blocks[index];
    double size = own_size(f, b->size, heading_size(f, b->level));
    vip_paragraph *p = lay(f, &b->content, b->lang, b->dir, b->align, size, VIP_WEIGHT_BOLD, f->right - f->left,
                           b->where);
    if (!p)
        return f->err->code;
    /* Kept with the first two lines of what follows: a paragraph's as laid out (what place() will ask), else
     * two lines estimated from this heading's own line pitch, in ems of its script (about 1.4 for Latin, 2.3 for
     * Nastaliq), at the body size. */
    double pitch_em = p->line_count ? (p->lines[0].ascent + p->lines[0].descent) / size : 1.5;
    double follow = 2 * body_size(f) * fmax(1.5, pitch_em + f->leading);
    const vip_block *next = index + 1 < f->doc->block_count ? &f->doc->blocks[index + 1] : NULL;
    if (next && next->kind == VIP_BLOCK_PARAGRAPH && next->region == b->region) {
        vip_paragraph *np = lay(f, &next->content, next->lang, next->dir, next->align,
                                own_size(f, next->size, body_size(f)), next->weight, f->right - f->left, next->where);
        if (!np) {
            vip_paragraph_destroy(p);
            return f->err->code;
        }
        if (np->line_count)
            follow = opening_height(np);
        vip_paragraph_destroy(np);
    }
    double before = f->y > f->page_top + 1 ? size * 0.7 : 0, after = size * 0.35;
    double need = before + p->height + after + follow;
    int rc = ensure(f, need);
    if (!rc) {
        if (f->y > f->page_top + 1)
            f->y += before;
        f->heading_page[index] = f->page;
        f->heading_y[index] = f->y;
        if (b->bookmark) {
            char *title = strndup(b->content.text ? b->content.text : "", b->content.length);
            if (!title || vip_page_doc_add_outline(f->out, title, b->level, f->page, f->y))
                rc = nomem(f);
            free(title);
        }
        if (!rc)
            rc = place(f, p, &b->content, f->left, COLOR_HEADING, NULL, NULL);
        f->y += after;
    }
    vip_paragraph_destroy(p);
    return rc;
}

static int lay_image(flow *f, const vip_block *b)
{
    int rc = ensure(f, b->height);
    if (rc)
        return rc;
    double x;
    vip_align a = b->align;
    if (a == VIP_ALIGN_CENTER)
        x = (f->left + f->right - b->width) / 2;
    else if ((a == VIP_ALIGN_END) != f->rtl)
        x = f->right - b->width;
    else
        x = f->left;
    f->out->current = f->block_tag[b - f->doc->blocks]; /* its Figure, or furniture without alternative text */
    rc = vip_page_add_image(f->out, cur(f), b->image_path, x, f->y, b->width, b->height);
    f->out->current = 0;
    if (rc)
        return nomem(f);
    f->y += b->height + 2 * MM;
    return VIP_OK;
}

static int lay_block(flow *f, size_t i)
{
    const vip_block *b = &f->doc->blocks[i];
    if (b->kind != VIP_BLOCK_TABLE_ROW)
        f->table_header = NULL;
    switch (b->kind) {
    case VIP_BLOCK_HEADING:
        return lay_heading(f, i);
    case VIP_BLOCK_PARAGRAPH: {
        double size = own_size(f, b->size, body_size(f));
        vip_paragraph *p = lay(f, &b->content, b->lang, b->dir, b->align, size, b->weight, f->right - f->left,
                               b->where);
        if (!p)
            return f->err->code;
        /* A short paragraph that leads into a list ("... one of these things:") stays with the opening lines of
         * the list's first item (as place() will ask for them; a two-column list's first row is taller still,
         * and kept whole on its own). */
        const vip_block *next = i + 1 < f->doc->block_count ? &f->doc->blocks[i + 1] : NULL;
        double need = p->line_count ? p->lines[0].ascent + p->lines[0].descent : 0;
        int rc = VIP_OK;
        if (p->line_count && p->line_count <= 3 && next && next->kind == VIP_BLOCK_LIST_ITEM &&
            next->region == b->region) {
            list_item it;
            if ((rc = lay_list_item_text(f, next, f->left, f->right, &it))) {
                vip_paragraph_destroy(p);
                return rc;
            }
            need = p->height + f->o->paragraph_space * f->scale * f->spacing + opening_height(it.text);
            list_item_free(&it);
        }
        if (p->line_count)
            rc = ensure(f, need);
        if (!rc)
            rc = place(f, p, &b->content, f->left, COLOR_TEXT, NULL, NULL);
        f->y += f->o->paragraph_space * f->scale * f->spacing;
        vip_paragraph_destroy(p);
        return rc;
    }
    case VIP_BLOCK_LIST_ITEM: {
        /* A two-column list is laid whole at its first item; its other items are then already placed. */
        int rc = b->list_columns != 2     ? lay_list_item(f, b)
                 : continues_list(f->doc, i) ? VIP_OK
                                             : lay_list_columns(f, i);
        if (!rc && (i + 1 == f->doc->block_count || f->doc->blocks[i + 1].kind != VIP_BLOCK_LIST_ITEM))
            f->y += f->o->paragraph_space * f->scale * f->spacing;
        return rc;
    }
    case VIP_BLOCK_TABLE_ROW: {
        if (b->header)
            f->table_header = b;
        int rc = lay_row(f, b, 0);
        if (!rc && (i + 1 == f->doc->block_count || f->doc->blocks[i + 1].kind != VIP_BLOCK_TABLE_ROW))
            f->y += (f->o->paragraph_space * f->spacing + 2) * f->scale;
        return rc;
    }
    case VIP_BLOCK_BOX_BEGIN: {
        int rc = ensure(f, 12 * MM);
        if (rc)
            return rc;
        f->y += 2 * MM * f->scale;
        f->in_box = 1;
        f->box_tone = b->tone;
        f->box_page = f->page;
        f->box_item = cur(f)->item_count;
        f->box_top = f->y;
        f->y += 2.5 * MM * f->scale;
        f->left += 3 * MM;
        f->right -= 3 * MM;
        return VIP_OK;
    }
    case VIP_BLOCK_BOX_END: {
        if (!f->in_box)
            return VIP_OK;
        f->y += 1 * MM * f->scale;
        int rc = close_box_segment(f, f->y); /* measured from the inset edges, as every segment is */
        f->left -= 3 * MM;
        f->right += 3 * MM;
        f->in_box = 0;
        f->y += 3.5 * MM * f->scale;
        return rc;
    }
    case VIP_BLOCK_IMAGE:
        return lay_image(f, b);
    case VIP_BLOCK_SPACE:
        if (f->page != SIZE_MAX && f->y > f->page_top + 1e-6)
            f->y = fmin(f->y + b->height * f->scale, f->bottom);
        return VIP_OK;
    case VIP_BLOCK_PAGE_BREAK:
        return f->page == SIZE_MAX || f->y > f->page_top + 1e-6 ? new_page(f) : VIP_OK;
    case VIP_BLOCK_CONTENTS:
        if (f->page == SIZE_MAX && new_page(f))
            return f->err->code;
        return lay_contents(f, i);
    }
    return VIP_OK;
}

/* Blocks of one first-page region, flowed inside a fixed frame from top down between left and right; drawn only
 * when draw is set (else only measured). Gives the bottom of the last line's box, its leading not counted. */
static int lay_region(flow *f, vip_region region, double left, double right, double top, double size,
                      double leading, int draw, double *bottom)
{
    double last = top;
    double save_left = f->left, save_right = f->right, y = f->y, save_leading = f->leading;
    f->leading = leading;
    f->left = left;
    f->right = right;
    f->y = top;
    int rc = VIP_OK;
    for (size_t i = 0; i < f->doc->block_count && !rc; i++) {
        const vip_block *b = &f->doc->blocks[i];
        if (b->region != region)
            continue;
        vip_paragraph *p = lay(f, &b->content, b->lang, b->dir, b->align, own_size(f, b->size, size), b->weight,
                               right - left, b->where);
        if (!p)
            return f->err->code;
        const char *kept = draw ? vip_page_doc_keep_text(f->out, p->text, p->length) : NULL;
        if (draw && !kept)
            rc = nomem(f);
        for (size_t l = 0; !rc && l < p->line_count; l++) {
            if (draw)
                rc = emit_line(f, &p->lines[l], kept, &b->content, left, f->y + p->lines[l].ascent, COLOR_TEXT);
            last = f->y + p->lines[l].ascent + p->lines[l].descent;
            f->y += line_height(&p->lines[l]);
        }
        vip_paragraph_destroy(p);
    }
    *bottom = last;
    f->left = save_left;
    f->right = save_right;
    f->leading = save_leading;
    f->y = y;
    return rc;
}

/* How near the paper's edge a mark may come: many office printers cannot print the outer few millimetres. */
#define EDGE (10.5 * MM)
#define FURNITURE_SIZE 8.5 /* running header and footer, points */

/* A line's extent by its fonts' bounding boxes (what viewers and printers take as a glyph's box), not its ink. */
static void font_extent(const vip_text_line *l, double *ascent, double *descent)
{
    *ascent = l->ascent;
    *descent = l->descent;
    for (size_t r = 0; r < l->run_count; r++) {
        const vip_font_metrics *m = vip_font_get_metrics(l->runs[r].font);
        *ascent = fmax(*ascent, fmax(m->ascender, m->bbox[3]) * l->runs[r].size / m->upem);
        *descent = fmax(*descent, -fmin(m->descender, m->bbox[1]) * l->runs[r].size / m->upem);
    }
}

/* Where the running header's baseline and rule go: 6 and 4 mm above the body, or lower where the top margin is
 * too small to keep the header's glyphs out of the unprintable edge (the body then starts below it). */
static void header_place(const flow *f, const vip_text_line *l, double size, double *base, double *rule_y)
{
    double asc = 0, desc = 0;
    font_extent(l, &asc, &desc);
    *base = fmax(f->top - 6 * MM, EDGE + asc);
    *rule_y = fmax(f->top - 4 * MM, *base + fmin(desc, 0.35 * size) + 0.5 * MM);
}

/* Sets where the body starts on pages after the first: 2.5 mm below the running header's rule where the top margin
 * cannot hold the header (the letters' 12 mm: their header stands clear of the unprintable edge, below it). */
static int measure_header(flow *f)
{
    vip_paragraph *p = lay(f, &f->doc->header, NULL, 0, VIP_ALIGN_END, FURNITURE_SIZE, VIP_WEIGHT_REGULAR,
                           f->right - f->left, "header");
    if (!p)
        return f->err->code;
    if (p->line_count) {
        double base, rule_y;
        header_place(f, &p->lines[0], FURNITURE_SIZE, &base, &rule_y);
        f->header_clear = rule_y + 2.5 * MM;
    }
    vip_paragraph_destroy(p);
    return VIP_OK;
}

static double footer_descent(const vip_text_line *l)
{
    double asc, desc;
    font_extent(l, &asc, &desc);
    return desc;
}

/* The running header (pages after the first) and footer (every page), once the page count is known. */
static int furniture(flow *f)
{
    size_t pages = f->out->page_count;
    double size = FURNITURE_SIZE;
    for (size_t i = 0; i < pages; i++) {
        f->page = i;
        if (i > 0 && f->doc->header.length) {
            vip_paragraph *p = lay(f, &f->doc->header, NULL, 0, VIP_ALIGN_END, size, VIP_WEIGHT_REGULAR,
                                   f->right - f->left, "header");
            if (!p)
                return f->err->code;
            const char *kept = vip_page_doc_keep_text(f->out, p->text, p->length);
            double base = f->top - 6 * MM, rule_y = f->top - 4 * MM;
            if (p->line_count)
                header_place(f, &p->lines[0], size, &base, &rule_y);
            f->out->artifact = VIP_ARTIFACT_HEADER;
            int rc = kept && p->line_count ? emit_line(f, &p->lines[0], kept, NULL, f->left, base, COLOR_MUTED)
                                           : (kept ? VIP_OK : nomem(f));
            f->out->artifact = VIP_ARTIFACT_LAYOUT;
            vip_page_rule rule = {f->left, rule_y, f->right, rule_y, 0.5, COLOR_RULE};
            if (!rc && vip_page_add_rule(cur(f), &rule))
                rc = nomem(f);
            vip_paragraph_destroy(p);
            if (rc)
                return rc;
        }
        if (f->doc->footer) {
            char *label = f->doc->footer(f->doc->user, (int)i + 1, (int)pages, f->err);
            if (!label)
                return f->err->code;
            vip_rich r = {.text = label, .length = strlen(label)};
            vip_paragraph *p = lay(f, &r, NULL, 0, VIP_ALIGN_CENTER, size, VIP_WEIGHT_REGULAR, f->right - f->left,
                                   "footer");
            int rc = p ? VIP_OK : f->err->code;
            const char *kept = p ? vip_page_doc_keep_text(f->out, p->text, p->length) : NULL;
            if (p && !kept)
                rc = nomem(f);
            f->out->artifact = VIP_ARTIFACT_FOOTER;
            if (!rc && p->line_count)
                /* Half way into the bottom margin, and out of office printers' unprintable edge (10 mm, the
                 * glyphs' full height counted). */
                rc = emit_line(f, &p->lines[0], kept, NULL, f->left,
                               fmin(f->ph - (f->doc->margin_bottom > 0 ? f->doc->margin_bottom : f->o->margin_bottom) / 2 -
                                        2.5 * MM,
                                    f->ph - EDGE - footer_descent(&p->lines[0])),
                               COLOR_MUTED);
            f->out->artifact = VIP_ARTIFACT_LAYOUT;
            vip_paragraph_destroy(p);
            free(label);
            if (rc)
                return rc;
        }
    }
    return VIP_OK;
}

/* The language of element e (its own or an ancestor's; the document's at the root). */
static const char *element_lang(const flow *f, size_t e)
{
    for (; e; e = f->out->elements[e].parent)
        if (f->out->elements[e].lang)
            return f->out->elements[e].lang;
    return f->doc->lang;
}

static size_t add_element(flow *f, vip_page_role role, size_t parent, const char *lang, const char *alt)
{
    /* /Lang only where it differs from the parent's. */
    const char *inherited = element_lang(f, parent);
    int same = !lang || (inherited && strcmp(lang, inherited) == 0);
    return vip_page_doc_add_element(f->out, role, parent, same ? NULL : lang, alt);
}

/* The structure tree, in reading order, made before anything is placed (a two-column list places its items out
 * of order): per block its element, a list item's LI (its Lbl and LBody the next two), a table row's TR (its
 * cells the next ones), a box's Div (the blocks in it below it), an image's Figure (when it has alternative
 * text; one without is decoration). Lists and tables group their consecutive items and rows; a numbered
 * section's Sect holds its heading and the blocks up to the next level-1 heading. */
static int tag_blocks(flow *f)
{
    const vip_doc *d = f->doc;
    size_t list = 0, table = 0, box = 0, sect = 0;
    for (size_t i = 0; i < d->block_count; i++) {
        const vip_block *b = &d->blocks[i];
        if (b->kind == VIP_BLOCK_HEADING && b->level <= 1 && b->region == VIP_REGION_BODY) {
            sect = 0;
            if (b->section && !(sect = add_element(f, VIP_ROLE_SECT, 0, b->lang, NULL)))
                return nomem(f);
        }
        size_t parent = box ? box : sect, e = 0;
        if (b->kind != VIP_BLOCK_LIST_ITEM || !continues_list(d, i))
            list = 0;
        if (b->kind != VIP_BLOCK_TABLE_ROW || (i && d->blocks[i - 1].region != b->region))
            table = 0;
        switch (b->kind) {
        case VIP_BLOCK_HEADING:
            e = add_element(f, b->level <= 1 ? VIP_ROLE_H1 : b->level == 2 ? VIP_ROLE_H2 : VIP_ROLE_H3, parent,
                            b->lang, NULL);
            break;
        case VIP_BLOCK_PARAGRAPH:
            e = add_element(f, VIP_ROLE_P, parent, b->lang, NULL);
            break;
        case VIP_BLOCK_LIST_ITEM:
            if (!list && !(list = add_element(f, VIP_ROLE_L, parent, b->lang, NULL)))
                return nomem(f);
            if ((e = add_element(f, VIP_ROLE_LI, list, b->lang, NULL)) &&
                (!vip_page_doc_add_element(f->out, VIP_ROLE_LBL, e, NULL, NULL) ||
                 !vip_page_doc_add_element(f->out, VIP_ROLE_LBODY, e, NULL, NULL)))
                e = 0;
            break;
        case VIP_BLOCK_TABLE_ROW:
            if (!table && !(table = add_element(f, VIP_ROLE_TABLE, parent, b->lang, NULL)))
                return nomem(f);
            e = add_element(f, VIP_ROLE_TR, table, b->lang, NULL);
            for (size_t c = 0; e && c < b->cell_count; c++) {
                int head = b->header || (b->row_header && c == 0);
                size_t cell = vip_page_doc_add_element(f->out, head ? VIP_ROLE_TH : VIP_ROLE_TD, e, NULL, NULL);
                if (!cell)
                    e = 0;
                else if (head)
                    f->out->elements[cell].scope = b->header ? VIP_SCOPE_COLUMN : VIP_SCOPE_ROW;
            }
            break;
        case VIP_BLOCK_BOX_BEGIN:
            e = box = add_element(f, VIP_ROLE_DIV, sect, b->lang, NULL);
            break;
        case VIP_BLOCK_BOX_END:
            box = 0;
            continue;
        case VIP_BLOCK_IMAGE:
            if (!b->content.length)
                continue;
            {
                char *alt = strndup(b->content.text, b->content.length);
                e = alt ? add_element(f, VIP_ROLE_FIGURE, parent, b->lang, alt) : 0;
                free(alt);
            }
            break;
        case VIP_BLOCK_CONTENTS:
            e = add_element(f, VIP_ROLE_TOC, parent, b->lang, NULL);
            break;
        case VIP_BLOCK_SPACE:
        case VIP_BLOCK_PAGE_BREAK:
            continue;
        }
        if (!e)
            return nomem(f);
        f->block_tag[i] = e;
    }
    return VIP_OK;
}

static vip_page_doc *run_pass(vip_text *text, const vip_doc *doc, const vip_layout_options *o, size_t *heading_page,
                              const size_t *known_page, double scale, double spacing, vip_error *err)
{
    flow f = {.text = text, .doc = doc, .o = o, .err = err, .page = SIZE_MAX, .heading_page = heading_page,
              .known_page = known_page, .scale = scale, .spacing = spacing,
              .leading = (doc->leading > 0 ? doc->leading : o->leading) * spacing};
    f.rtl = doc->dir == VIP_DIR_RTL;
    f.pw = doc->page_width > 0 ? doc->page_width : o->page_width;
    f.ph = doc->page_height > 0 ? doc->page_height : o->page_height;
    double ms = doc->margin_start > 0 ? doc->margin_start : o->margin_left;
    double me = doc->margin_end > 0 ? doc->margin_end : o->margin_right;
    f.top = doc->margin_top > 0 ? doc->margin_top : o->margin_top;
    f.bottom = f.ph - (doc->margin_bottom > 0 ? doc->margin_bottom : o->margin_bottom);
    f.left = f.rtl ? me : ms;
    f.right = f.pw - (f.rtl ? ms : me);
    if (!(f.out = vip_page_doc_create(doc->title, doc->lang)) ||
        !(f.block_tag = calloc(doc->block_count ? doc->block_count : 1, sizeof *f.block_tag)) ||
        !(f.heading_y = calloc(doc->block_count ? doc->block_count : 1, sizeof *f.heading_y))) {
        free(f.block_tag);
        vip_page_doc_destroy(f.out);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int rc = tag_blocks(&f);
    if (!rc && doc->header.length)
        rc = measure_header(&f);
    /* First page: letterhead, then the address window and the reference beside it, then the body below both. */
    int has_regions = 0;
    for (size_t i = 0; i < doc->block_count; i++)
        has_regions |= doc->blocks[i].region != VIP_REGION_BODY;
    if (has_regions && !rc) {
        rc = new_page(&f);
        for (size_t i = 0; i < doc->block_count && !rc; i++)
            if (doc->blocks[i].region == VIP_REGION_LETTERHEAD)
                rc = lay_block(&f, i);
        double address_bottom = f.y, reference_bottom = f.y, address_size = 8.5;
        /* The address is set small and tight whatever the scale, and smaller (down to 7 pt) when its lines would
         * reach below the window: the envelope shows only what is inside it. */
        for (; !rc; address_size -= 0.5) {
            rc = lay_region(&f, VIP_REGION_ADDRESS, WINDOW_LEFT + WINDOW_PAD, WINDOW_RIGHT - WINDOW_PAD,
                            WINDOW_TOP + WINDOW_PAD, address_size, 0.02, 0, &address_bottom);
            if (address_bottom <= WINDOW_BOTTOM - WINDOW_PAD || address_size <= 7)
                break;
        }
        if (!rc)
            rc = lay_region(&f, VIP_REGION_ADDRESS, WINDOW_LEFT + WINDOW_PAD, WINDOW_RIGHT - WINDOW_PAD,
                            WINDOW_TOP + WINDOW_PAD, address_size, 0.02, 1, &address_bottom);
        if (!rc && address_bottom > WINDOW_BOTTOM)
            f.out->address_overflow = address_bottom - WINDOW_BOTTOM;
        if (!rc)
            rc = lay_region(&f, VIP_REGION_REFERENCE, WINDOW_RIGHT + 6 * MM, f.right, WINDOW_TOP + WINDOW_PAD,
                            body_size(&f), f.leading, 1, &reference_bottom);
        if (!rc && f.y < WINDOW_BOTTOM + 5 * MM)
            f.y = fmax(WINDOW_BOTTOM + 5 * MM, reference_bottom + 5 * MM);
    }
    for (size_t i = 0; i < doc->block_count && !rc; i++)
        if (doc->blocks[i].region == VIP_REGION_BODY)
            rc = lay_block(&f, i);
    if (!rc && f.in_box)
        rc = close_box_segment(&f, f.y);
    if (!rc && f.out->page_count == 0 && !vip_page_doc_add_page(f.out, f.pw, f.ph))
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    /* The contents' links go where their headings were placed. */
    for (size_t i = 0; !rc && i < f.goto_count; i++) {
        vip_page_link *l = &f.out->pages[f.gotos[i].page].links[f.gotos[i].link];
        l->dest_page = heading_page[f.gotos[i].block] < f.out->page_count ? heading_page[f.gotos[i].block] : 0;
        l->dest_y = f.heading_y[f.gotos[i].block];
    }
    if (!rc)
        rc = furniture(&f);
    free(f.block_tag);
    free(f.heading_y);
    free(f.gotos);
    free(f.link_tags);
    if (rc) {
        vip_page_doc_destroy(f.out);
        return NULL;
    }
    return f.out;
}

/* One layout: a second pass when there is a contents page, which needs the pages the first pass found for the
 * headings (its own length does not depend on the numbers, so the second pass places headings alike). */
static vip_page_doc *lay_out(vip_text *text, const vip_doc *doc, const vip_layout_options *options, double scale,
                             double spacing, vip_error *err)
{
    size_t n = doc->block_count ? doc->block_count : 1;
    size_t *pages = calloc(n, sizeof *pages), *known = malloc(n * sizeof *known);
    vip_page_doc *out = NULL;
    if (!pages || !known) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    int has_contents = 0;
    for (size_t i = 0; i < doc->block_count; i++)
        has_contents |= doc->blocks[i].kind == VIP_BLOCK_CONTENTS;
    out = run_pass(text, doc, options, pages, NULL, scale, spacing, err);
    if (out && has_contents) {
        memcpy(known, pages, n * sizeof *known);
        vip_page_doc_destroy(out);
        out = run_pass(text, doc, options, pages, known, scale, spacing, err);
    }
done:
    free(pages);
    free(known);
    return out;
}

vip_page_doc *vip_layout_document(vip_text *text, const vip_doc *doc, const vip_layout_options *options,
                                  vip_error *err)
{
    vip_page_doc *out = lay_out(text, doc, options, 1.0, 1.0, err);
    size_t full_size_pages = out ? out->page_count : 0;
    /* A document with a page limit (a letter) gets smaller type until it fits, down to 76 % but never below the
     * minimum body size: a letter that does not fit at the minimum takes more pages rather than shrink further
     * (one body size for the whole document either way). */
    double body = doc->body_size > 0 ? doc->body_size : options->body_size, scale = 1;
    while (out && doc->max_pages > 0 && out->page_count > (size_t)doc->max_pages && scale - 0.04 > 0.75 &&
           body * (scale - 0.04) >= options->min_body_size - 1e-9) {
        scale -= 0.04;
        vip_page_doc_destroy(out);
        out = lay_out(text, doc, options, scale, 1.0, err);
    }
    /* Then less space between lines and paragraphs (down to 40 %), where that brings it within the limit or at
     * least saves a page. */
    for (double spacing = 0.8; out && doc->max_pages > 0 && out->page_count > (size_t)doc->max_pages &&
                               spacing > 0.3;
         spacing -= 0.2) {
        vip_page_doc *tight = lay_out(text, doc, options, scale, spacing, err);
        if (!tight) {
            vip_page_doc_destroy(out);
            return NULL;
        }
        if (tight->page_count < out->page_count) {
            vip_page_doc_destroy(out);
            out = tight;
            break;
        }
        vip_page_doc_destroy(tight);
    }
    if (out)
        out->full_size_pages = full_size_pages;
    return out;
}
