#include "layout.h"

#include <stdlib.h>
#include <string.h>

#define MM (72.0 / 25.4)

void vip_layout_default_options(vip_layout_options *o)
{
    memset(o, 0, sizeof *o);
    o->page_width = 210 * MM;
    o->page_height = 297 * MM;
    o->margin_top = o->margin_bottom = o->margin_left = o->margin_right = 20 * MM;
    o->body_size = 11;
    o->heading_size[0] = 18;
    o->heading_size[1] = 14;
    o->heading_size[2] = 12;
    o->leading = 0.25;
    o->paragraph_space = 6;
}

typedef struct placed {
    vip_paragraph *para;
    double space_before, space_after;
    int keep_with_next;
} placed;

/* Copies a laid-out line onto the page at baseline y; the paragraph text is kept once per paragraph. */
static int emit_line(vip_page_doc *out, vip_page *page, const vip_text_line *line, const char *text, double left,
                     double baseline)
{
    for (size_t r = 0; r < line->run_count; r++) {
        const vip_text_run *tr = &line->runs[r];
        if (tr->glyph_count == 0)
            continue;
        vip_page_glyph *glyphs = malloc(tr->glyph_count * sizeof *glyphs);
        if (!glyphs)
            return VIP_ERR_NOMEM;
        for (size_t g = 0; g < tr->glyph_count; g++)
            glyphs[g] = (vip_page_glyph){tr->glyphs[g].gid, tr->glyphs[g].cluster, tr->glyphs[g].x,
                                         tr->glyphs[g].y, tr->glyphs[g].advance};
        vip_page_run run = {.font = tr->font,
                            .size = tr->size,
                            .x = left + tr->x,
                            .y = baseline,
                            .rtl = tr->rtl,
                            .text = text,
                            .text_start = tr->start,
                            .text_end = tr->end,
                            .lang = tr->lang,
                            .glyphs = glyphs,
                            .glyph_count = tr->glyph_count,
                            .color = 0x000000};
        int rc = vip_page_add_run(out, page, &run);
        free(glyphs);
        if (rc)
            return rc;
    }
    return VIP_OK;
}

static double line_height(const vip_text_line *l)
{
    return l->ascent + l->descent + l->leading;
}

vip_page_doc *vip_layout_document(vip_text *text, const vip_doc *doc, const vip_layout_options *o,
                                  vip_error *err)
{
    double width = o->page_width - o->margin_left - o->margin_right;
    double bottom = o->page_height - o->margin_bottom;
    placed *items = calloc(doc->block_count ? doc->block_count : 1, sizeof *items);
    vip_page_doc *out = vip_page_doc_create(doc->title, doc->lang);
    if (!items || !out) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < doc->block_count; i++) {
        const vip_block *b = &doc->blocks[i];
        int heading = b->kind == VIP_BLOCK_HEADING;
        int level = b->level < 1 ? 1 : b->level > 3 ? 3 : b->level;
        vip_text_style style = {.lang = b->lang,
                                .dir = b->dir,
                                .align = b->align,
                                .size = heading ? o->heading_size[level - 1] : o->body_size,
                                .leading = o->leading,
                                .weight = heading ? VIP_WEIGHT_BOLD : VIP_WEIGHT_REGULAR};
        items[i].para = vip_text_layout_paragraph(text, b->text, b->length, &style, b->spans, b->span_count, width,
                                                  b->where, err);
        if (!items[i].para)
            goto fail;
        items[i].space_before = heading && i > 0 ? style.size * 0.8 : 0;
        items[i].space_after = heading ? style.size * 0.3 : o->paragraph_space;
        items[i].keep_with_next = heading;
    }

    vip_page *page = NULL;
    double y = 0;
    for (size_t i = 0; i < doc->block_count; i++) {
        vip_paragraph *p = items[i].para;
        /* A heading moves to the next page unless it and two lines of what follows fit below it. */
        double need = items[i].space_before;
        for (size_t l = 0; l < p->line_count; l++)
            need += line_height(&p->lines[l]);
        if (items[i].keep_with_next && i + 1 < doc->block_count) {
            vip_paragraph *next = items[i + 1].para;
            need += items[i].space_after;
            for (size_t l = 0; l < next->line_count && l < 2; l++)
                need += line_height(&next->lines[l]);
        } else if (p->line_count) {
            need = items[i].space_before + line_height(&p->lines[0]);
        }
        if (!page || (y + need > bottom && y > o->margin_top)) {
            if (!(page = vip_page_doc_add_page(out, o->page_width, o->page_height)))
                goto nomem;
            y = o->margin_top;
        } else {
            y += items[i].space_before;
        }
        const char *kept = vip_page_doc_keep_text(out, p->text, p->length);
        if (!kept)
            goto nomem;
        for (size_t l = 0; l < p->line_count; l++) {
            const vip_text_line *line = &p->lines[l];
            if (y + line->ascent + line->descent > bottom && y > o->margin_top) {
                if (!(page = vip_page_doc_add_page(out, o->page_width, o->page_height)))
                    goto nomem;
                y = o->margin_top;
            }
            if (emit_line(out, page, line, kept, o->margin_left, y + line->ascent))
                goto nomem;
            y += line_height(line);
        }
        y += items[i].space_after;
    }
    if (out->page_count == 0 && !vip_page_doc_add_page(out, o->page_width, o->page_height))
        goto nomem;
    for (size_t i = 0; i < doc->block_count; i++)
        vip_paragraph_destroy(items[i].para);
    free(items);
    return out;
nomem:
    vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
fail:
    for (size_t i = 0; items && i < doc->block_count; i++)
        vip_paragraph_destroy(items[i].para);
    free(items);
    vip_page_doc_destroy(out);
    return NULL;
}
