#include "page.h"

#include <stdlib.h>
#include <string.h>

/* Grows an array to hold at least `need` items; returns 0 on success. */
static int grow(void **items, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *p = realloc(*items, n * item_size);
    if (!p)
        return -1;
    *items = p;
    *cap = n;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

vip_page_doc *vip_page_doc_create(const char *title, const char *lang)
{
    vip_page_doc *doc = calloc(1, sizeof *doc);
    if (!doc)
        return NULL;
    doc->title = dup_or_null(title);
    doc->lang = dup_or_null(lang);
    /* Element 0: the document, the root of the structure tree. */
    doc->elements = calloc(1, sizeof *doc->elements);
    doc->element_cap = doc->element_count = 1;
    if ((title && !doc->title) || (lang && !doc->lang) || !doc->elements) {
        vip_page_doc_destroy(doc);
        return NULL;
    }
    return doc;
}

void vip_page_doc_destroy(vip_page_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->page_count; i++) {
        free(doc->pages[i].items);
        free(doc->pages[i].links);
    }
    free(doc->outlines);
    free(doc->elements);
    free(doc->pages);
    for (size_t i = 0; i < doc->block_count; i++)
        free(doc->blocks[i]);
    free(doc->blocks);
    free(doc->title);
    free(doc->lang);
    free(doc);
}

vip_page *vip_page_doc_add_page(vip_page_doc *doc, double width, double height)
{
    if (grow((void **)&doc->pages, &doc->page_cap, doc->page_count + 1, sizeof *doc->pages))
        return NULL;
    vip_page *page = &doc->pages[doc->page_count++];
    memset(page, 0, sizeof *page);
    page->width = width;
    page->height = height;
    return page;
}

static void *keep(vip_page_doc *doc, size_t size)
{
    if (grow((void **)&doc->blocks, &doc->block_cap, doc->block_count + 1, sizeof *doc->blocks))
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p)
        doc->blocks[doc->block_count++] = p;
    return p;
}

char *vip_page_doc_keep_text(vip_page_doc *doc, const char *text, size_t len)
{
    char *copy = keep(doc, len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

static vip_page_item *add_item(vip_page *page)
{
    if (grow((void **)&page->items, &page->item_cap, page->item_count + 1, sizeof *page->items))
        return NULL;
    vip_page_item *item = &page->items[page->item_count++];
    memset(item, 0, sizeof *item);
    return item;
}

int vip_page_add_run(vip_page_doc *doc, vip_page *page, const vip_page_run *run)
{
    vip_page_glyph *glyphs = keep(doc, run->glyph_count * sizeof *glyphs);
    if (!glyphs)
        return VIP_ERR_NOMEM;
    if (run->glyph_count)
        memcpy(glyphs, run->glyphs, run->glyph_count * sizeof *glyphs);
    vip_page_item *item = add_item(page);
    if (!item)
        return VIP_ERR_NOMEM;
    item->kind = VIP_PAGE_RUN;
    item->tag = doc->current;
    item->artifact = doc->artifact;
    item->order = doc->next_order++;
    item->u.run = *run;
    item->u.run.glyphs = glyphs;
    return VIP_OK;
}

int vip_page_add_rule(vip_page *page, const vip_page_rule *rule)
{
    vip_page_item *item = add_item(page);
    if (!item)
        return VIP_ERR_NOMEM;
    item->kind = VIP_PAGE_RULE;
    item->u.rule = *rule;
    return VIP_OK;
}

int vip_page_insert_rect(vip_page *page, size_t index, const vip_page_rect *rect)
{
    if (!add_item(page))
        return VIP_ERR_NOMEM;
    if (index > page->item_count - 1)
        index = page->item_count - 1;
    memmove(&page->items[index + 1], &page->items[index], (page->item_count - 1 - index) * sizeof *page->items);
    vip_page_item *item = &page->items[index];
    memset(item, 0, sizeof *item);
    item->kind = VIP_PAGE_RECT;
    item->u.rect = *rect;
    return VIP_OK;
}

int vip_page_add_image(vip_page_doc *doc, vip_page *page, const char *path, double x, double y, double width,
                       double height)
{
    const char *kept = vip_page_doc_keep_text(doc, path, strlen(path));
    vip_page_item *item = kept ? add_item(page) : NULL;
    if (!item)
        return VIP_ERR_NOMEM;
    item->kind = VIP_PAGE_IMAGE;
    item->tag = doc->current;
    item->artifact = doc->artifact;
    item->order = doc->next_order++;
    item->u.image = (vip_page_image){kept, x, y, width, height};
    return VIP_OK;
}

int vip_page_add_link(vip_page_doc *doc, vip_page *page, double x, double y, double width, double height,
                      const char *uri)
{
    const char *kept = vip_page_doc_keep_text(doc, uri, strlen(uri));
    if (!kept || grow((void **)&page->links, &page->link_cap, page->link_count + 1, sizeof *page->links))
        return VIP_ERR_NOMEM;
    page->links[page->link_count++] =
        (vip_page_link){x, y, width, height, kept, 0, 0, NULL, doc->current, doc->next_order++};
    return VIP_OK;
}

int vip_page_add_goto(vip_page_doc *doc, vip_page *page, double x, double y, double width, double height,
                      size_t dest_page, double dest_y, const char *contents)
{
    const char *kept = vip_page_doc_keep_text(doc, contents, strlen(contents));
    if (!kept || grow((void **)&page->links, &page->link_cap, page->link_count + 1, sizeof *page->links))
        return VIP_ERR_NOMEM;
    page->links[page->link_count++] =
        (vip_page_link){x, y, width, height, NULL, dest_page, dest_y, kept, doc->current, doc->next_order++};
    return VIP_OK;
}

size_t vip_page_doc_add_element(vip_page_doc *doc, vip_page_role role, size_t parent, const char *lang,
                                const char *alt)
{
    const char *kept_lang = lang ? vip_page_doc_keep_text(doc, lang, strlen(lang)) : NULL;
    const char *kept_alt = alt ? vip_page_doc_keep_text(doc, alt, strlen(alt)) : NULL;
    if ((lang && !kept_lang) || (alt && !kept_alt) ||
        grow((void **)&doc->elements, &doc->element_cap, doc->element_count + 1, sizeof *doc->elements))
        return 0;
    doc->elements[doc->element_count] =
        (vip_page_element){role, parent, kept_lang, kept_alt, VIP_SCOPE_NONE, doc->next_order++};
    return doc->element_count++;
}

int vip_page_doc_add_outline(vip_page_doc *doc, const char *title, int level, size_t page, double y)
{
    const char *kept = vip_page_doc_keep_text(doc, title, strlen(title));
    if (!kept || grow((void **)&doc->outlines, &doc->outline_cap, doc->outline_count + 1, sizeof *doc->outlines))
        return VIP_ERR_NOMEM;
    doc->outlines[doc->outline_count++] = (vip_page_outline){kept, level, page, y};
    return VIP_OK;
}
