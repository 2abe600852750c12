/* vip_layout against real fonts: a heading is never left at the foot of a page without the first lines of the
 * paragraph after it, in any script, whatever the text before it pushes it to (Nastaliq's lines are about 1.6
 * times as tall as Latin ones, so an estimate made for Latin would strand its headings); a list item's marker
 * stays on its first line, and no paragraph leaves a single line at the foot or head of a page. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "doc.h"
#include "layout.h"

#define STEPS 60

static const struct {
    const char *lang, *filler, *heading, *after;
} samples[] = {
    {"en", "We will tell you about important decisions in your case within five working days of each decision.",
     "Keeping you informed", "Please tell us how often you want updates, and how, for example by phone or letter."},
    {"ur", "آپ کے کیس میں جب بھی کوئی اہم فیصلہ ہوگا، ہم اس فیصلے کے بعد پانچ دن کے اندر آپ کو بتائیں گے۔",
     "آپ کو باخبر رکھنا", "براہ کرم ہمیں بتائیں کہ آپ کو کتنی بار اور کس طرح تازہ معلومات دی جائیں، مثلاً فون یا خط کے ذریعے۔"},
    {"ar", "سنخبرك بالقرارات المهمة في قضيتك خلال خمسة أيام عمل من كل قرار، ونشرح لك ما يعنيه ذلك.",
     "إبقاؤك على اطلاع", "يرجى إخبارنا بعدد المرات التي تريد فيها الحصول على المستجدات وطريقتها، مثلاً بالهاتف أو بالرسالة."},
    {"zh-Hans", "每当您的案件有重要决定时，我们会在做出决定后的五个工作日内告诉您，并解释这对您意味着什么。",
     "让您了解案件进展", "请告诉我们您希望多久收到一次进展通知，以及通过什么方式收到，例如电话、电子邮件或信件。"},
};

/* A document in sample s's language whose first page holds its filler paragraph and then a space of the given
 * height (a space at the head of a page is dropped, so it follows a paragraph): what comes next starts that far
 * down. NULL with err set on failure. */
static vip_doc *pushed_down(size_t s, double height, vip_error *err)
{
    vip_doc *doc = vip_doc_create("test", samples[s].lang, err);
    vip_block *space = NULL;
    if (doc && vip_doc_add_block(doc, VIP_BLOCK_PARAGRAPH, 0, samples[s].filler, strlen(samples[s].filler),
                                 VIP_ALIGN_START, "filler", err))
        space = vip_doc_add_block(doc, VIP_BLOCK_SPACE, 0, NULL, 0, VIP_ALIGN_START, "space", err);
    if (!space) {
        vip_doc_destroy(doc);
        return NULL;
    }
    space->height = height;
    return doc;
}

/* The page holding the first run of the paragraph whose text starts with prefix, or SIZE_MAX. */
static size_t page_of_text(const vip_page_doc *pd, const char *prefix)
{
    for (size_t p = 0; p < pd->page_count; p++)
        for (size_t i = 0; i < pd->pages[p].item_count; i++) {
            const vip_page_item *it = &pd->pages[p].items[i];
            if (it->kind == VIP_PAGE_RUN && it->u.run.text && strncmp(it->u.run.text, prefix, strlen(prefix)) == 0)
                return p;
        }
    return (size_t)-1;
}

/* Lines of the paragraph whose text starts with prefix on each page (distinct baselines), into lines[page]; gives
 * how many it has in all. */
static size_t lines_per_page(const vip_page_doc *pd, const char *prefix, size_t *lines, size_t max_pages)
{
    size_t total = 0;
    for (size_t p = 0; p < pd->page_count && p < max_pages; p++) {
        double seen[256];
        size_t n = 0;
        for (size_t i = 0; i < pd->pages[p].item_count; i++) {
            const vip_page_item *it = &pd->pages[p].items[i];
            if (it->kind != VIP_PAGE_RUN || !it->u.run.text || strncmp(it->u.run.text, prefix, strlen(prefix)))
                continue;
            int known = 0;
            for (size_t k = 0; k < n; k++)
                known |= fabs(seen[k] - it->u.run.y) < 0.01;
            if (!known && n < 256)
                seen[n++] = it->u.run.y;
        }
        lines[p] = n;
        total += n;
    }
    return total;
}

/* The page and baseline of the list marker (a run whose text is the bullet), and of the item's first line. */
static int marker_with_first_line(const vip_page_doc *pd, const char *prefix)
{
    size_t marker_page = SIZE_MAX, text_page = SIZE_MAX;
    double marker_y = 0, text_y = 0;
    for (size_t p = 0; p < pd->page_count; p++)
        for (size_t i = 0; i < pd->pages[p].item_count; i++) {
            const vip_page_item *it = &pd->pages[p].items[i];
            if (it->kind != VIP_PAGE_RUN || !it->u.run.text)
                continue;
            if (strcmp(it->u.run.text, "\xE2\x80\xA2") == 0 && marker_page == SIZE_MAX) {
                marker_page = p;
                marker_y = it->u.run.y;
            }
            if (strncmp(it->u.run.text, prefix, strlen(prefix)) == 0 &&
                (text_page == SIZE_MAX || (p == text_page && it->u.run.y < text_y))) {
                text_page = p;
                text_y = it->u.run.y;
            }
        }
    return marker_page != SIZE_MAX && marker_page == text_page && fabs(marker_y - text_y) < 0.01;
}

/* What does not fit its place is reported (vip_page_overflow), never silently cut: a word wider than its table cell,
 * by its width against the cell's room; a heading the document keeps to one line that takes two, by its width on
 * one line against the line's room; a paragraph that fits, not at all. */
static void test_overflow(vip_text *text, const vip_layout_options *o)
{
    vip_error err = {0};
    const char *word = "Supercalifragilisticexpialidociousnesses", *fits = "Date of offence";
    const char *heading = "Written acknowledgement of your crime report, with everything you need to know next";
    vip_doc *doc = vip_doc_create("t", "en", &err);
    vip_block *row = doc ? vip_doc_add_block(doc, VIP_BLOCK_TABLE_ROW, 0, NULL, 0, VIP_ALIGN_START, "row", &err) : NULL;
    if (row && (row->cells = calloc(2, sizeof *row->cells)) && (row->columns = calloc(2, sizeof *row->columns))) {
        row->cell_count = 2;
        row->columns[0] = 20;
        row->columns[1] = 80;
        vip_rich_append(&row->cells[0], word, strlen(word), &err);
        vip_rich_append(&row->cells[1], fits, strlen(fits), &err);
    }
    vip_block *h = row ? vip_doc_add_block(doc, VIP_BLOCK_HEADING, 1, heading, strlen(heading), VIP_ALIGN_START,
                                           "heading", &err) : NULL;
    if (h)
        h->max_lines = 1;
    vip_block *p = h ? vip_doc_add_block(doc, VIP_BLOCK_PARAGRAPH, 0, fits, strlen(fits), VIP_ALIGN_START, "p", &err)
                     : NULL;
    vip_page_doc *pd = p ? vip_layout_document(text, doc, o, &err) : NULL;
    const vip_page_overflow *cell = NULL, *line = NULL;
    int others = 0;
    for (const vip_page_overflow *v = pd ? pd->overflows : NULL; v; v = v->next) {
        if (v->block == 0 && v->cell == 0 && v->place == VIP_PLACE_CELL && v->lines == 0)
            cell = v;
        else if (v->block == 1 && v->cell == SIZE_MAX && v->place == VIP_PLACE_COLUMN && v->lines == 1)
            line = v;
        else
            others++;
    }
    /* The widths on one line, as the same engine sets them with no limit. */
    vip_text_style body = {.lang = "en", .size = o->body_size, .leading = o->leading};
    vip_text_style bold = {.lang = "en", .size = o->heading_size[0], .leading = o->leading, .weight = VIP_WEIGHT_BOLD};
    vip_paragraph *w = vip_text_layout_paragraph(text, word, strlen(word), &body, NULL, 0, 1e6, NULL, &err);
    vip_paragraph *hw = vip_text_layout_paragraph(text, heading, strlen(heading), &bold, NULL, 0, 1e6, NULL, &err);
    double room = (o->page_width - o->margin_left - o->margin_right) * 0.2 - 2 * 1.2 * 72 / 25.4;
    CHECK("overflow.word_wider_than_its_cell",
          cell && w && fabs(cell->room - room) < 0.01 && fabs(cell->excess - (w->lines[0].width - room)) < 0.01 &&
              cell->excess > 10,
          "%s: room %.2f (expected %.2f), excess %.2f (expected %.2f)", cell ? "reported" : "not reported",
          cell ? cell->room : 0, room, cell ? cell->excess : 0, w ? w->lines[0].width - room : 0);
    double column = o->page_width - o->margin_left - o->margin_right;
    CHECK("overflow.heading_over_its_line_limit",
          line && hw && line->line_count == 2 && fabs(line->room - column) < 0.01 &&
              fabs(line->excess - (hw->lines[0].width - column)) < 0.01,
          "%s: %zu lines, excess %.2f (expected %.2f)", line ? "reported" : "not reported", line ? line->line_count : 0,
          line ? line->excess : 0, hw ? hw->lines[0].width - column : 0);
    CHECK("overflow.nothing_else", pd && others == 0, "%d other overflows %s", others, err.message);
    CHECK("overflow.full_size_pages", pd && pd->full_size_pages == pd->page_count && pd->page_count == 1,
          "%zu pages, %zu at full size", pd ? pd->page_count : 0, pd ? pd->full_size_pages : 0);
    vip_paragraph_destroy(w);
    vip_paragraph_destroy(hw);
    vip_page_doc_destroy(pd);
    vip_doc_destroy(doc);
}

/* The item (1 to 9) whose text a run is, from the digit it starts with; 0 for others (markers, other text). */
static int item_of_run(const vip_page_run *r)
{
    return r->text && r->text[0] >= '1' && r->text[0] <= '9' && r->text[1] == ' ' ? r->text[0] - '0' : 0;
}

/* A two-column list of five items of different lengths, pushed down its page and over the foot 7 pt further each
 * time. poppler's text engine (pdftotext) joins a line into the block above it only when their baselines are at
 * most 1.5 em apart, and orders blocks by place; so that it reads each column whole, the lines of a column follow
 * each other at most that far apart where the glyphs allow it (always in Latin and Chinese; Arabic lines only when
 * their marks leave room, Nastaliq's never: tests/e2e/extract.sh measures the letters with poppler itself).
 * Items are drawn in their order on every page (engines that read in drawing order), a row (item k and k + 3) goes
 * on one page, the two columns start on one baseline, every marker stands on its item's first line, and nothing
 * runs below the page's bottom margin. */
static void test_two_column_list(vip_text *text, const vip_layout_options *o)
{
    vip_error err = {0};
    static const int repeats[] = {1, 2, 0, 3, 1};
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        int tight = strcmp(samples[s].lang, "en") == 0 || strcmp(samples[s].lang, "zh-Hans") == 0;
        int laid = 0, spread = 0, disorder = 0, split = 0, apart = 0, marker = 0, below = 0, broken = 0;
        char where[256] = "";
        for (int step = 0; step < 50; step++) {
            vip_doc *doc = pushed_down(s, 380 + 7 * step, &err);
            for (int k = 0; k < 5 && doc; k++) {
                char item[4096];
                int n = snprintf(item, sizeof item, "%d", k + 1);
                for (int r = 0; r < repeats[k] + 1; r++)
                    n += snprintf(item + n, sizeof item - (size_t)n, " %s", samples[s].after);
                vip_block *b = vip_doc_add_block(doc, VIP_BLOCK_LIST_ITEM, 0, item, strlen(item), VIP_ALIGN_START,
                                                 "item", &err);
                if (b) {
                    b->list_columns = 2;
                    b->list_first = k == 0;
                }
            }
            vip_page_doc *pd = doc ? vip_layout_document(text, doc, o, &err) : NULL;
            if (!pd) {
                vip_doc_destroy(doc);
                continue;
            }
            laid++;
            size_t item_page[6] = {0};
            double first_baseline[6] = {0};
            int seen[6] = {0}, item_side[6] = {0};
            for (size_t p = 0; p < pd->page_count; p++) {
                const vip_page *page = &pd->pages[p];
                double mid = page->width / 2;
                int last_item = 0;
                /* Per column: the baselines of its lines on this page, in order, and their type size. */
                double baselines[2][64], sizes[2][64];
                size_t count[2] = {0, 0};
                for (size_t i = 0; i < page->item_count; i++) {
                    const vip_page_item *it = &page->items[i];
                    if (it->kind != VIP_PAGE_RUN)
                        continue;
                    const vip_page_run *r = &it->u.run;
                    int k = item_of_run(r), c = r->x >= mid;
                    if (r->y > o->page_height - o->margin_bottom + 0.01) {
                        below++;
                        snprintf(where, sizeof where, "step %d: a run at %.1f pt on page %zu", step, r->y, p + 1);
                    }
                    if (!k)
                        continue;
                    if (k < last_item) {
                        disorder++;
                        snprintf(where, sizeof where, "step %d: item %d drawn after item %d", step, k, last_item);
                    }
                    last_item = k;
                    if (!seen[k]) {
                        seen[k] = 1;
                        item_page[k] = p;
                        first_baseline[k] = r->y;
                        item_side[k] = c;
                    }
                    if (count[c] == 0 || fabs(baselines[c][count[c] - 1] - r->y) > 0.01) {
                        if (count[c] < 64) {
                            baselines[c][count[c]] = r->y;
                            sizes[c][count[c]++] = r->size;
                        }
                    }
                }
                for (int c = 0; c < 2; c++)
                    for (size_t l = 1; l < count[c]; l++) {
                        double gap = baselines[c][l] - baselines[c][l - 1];
                        if (gap < 0) {
                            broken++;
                            snprintf(where, sizeof where, "step %d: a column goes up", step);
                        } else if (tight && gap > 1.5 * sizes[c][l - 1]) {
                            spread++;
                            snprintf(where, sizeof where, "step %d: lines %.2f pt apart at %.1f pt", step, gap,
                                     sizes[c][l - 1]);
                        }
                    }
                /* Every item's first line has its marker beside it: a bullet run on the same baseline. */
                for (int k = 1; k <= 5; k++) {
                    if (!seen[k] || item_page[k] != p)
                        continue;
                    int found = 0;
                    for (size_t i = 0; i < page->item_count && !found; i++) {
                        const vip_page_run *r = &page->items[i].u.run;
                        found = page->items[i].kind == VIP_PAGE_RUN && r->text &&
                                strcmp(r->text, "\xE2\x80\xA2") == 0 && fabs(r->y - first_baseline[k]) < 0.01;
                    }
                    if (!found) {
                        marker++;
                        snprintf(where, sizeof where, "step %d: no marker on item %d's first line", step, k);
                    }
                }
            }
            /* Column by column on every page: the start column's items (the first item's side) before the other's,
             * the two starting on one baseline; a page's items before the next page's. */
            for (size_t p = 0; p < pd->page_count; p++) {
                int start_side = -1, other_seen = 0, first_of[2] = {0, 0};
                for (int k = 1; k <= 5; k++) {
                    if (!seen[k] || item_page[k] != p)
                        continue;
                    if (start_side < 0)
                        start_side = item_side[k];
                    if (item_side[k] != start_side)
                        other_seen = 1;
                    else if (other_seen) {
                        split++;
                        snprintf(where, sizeof where, "step %d: item %d in the start column after the other's", step, k);
                    }
                    if (!first_of[item_side[k]])
                        first_of[item_side[k]] = k;
                    if (k > 1 && seen[k - 1] && item_page[k - 1] > p) {
                        split++;
                        snprintf(where, sizeof where, "step %d: item %d on a page before item %d", step, k, k - 1);
                    }
                }
                if (first_of[0] && first_of[1] && fabs(first_baseline[first_of[0]] - first_baseline[first_of[1]]) > 0.01) {
                    apart++;
                    snprintf(where, sizeof where, "step %d: the columns of page %zu start on two baselines", step, p + 1);
                }
            }
            if (!seen[3]) {
                broken++;
                snprintf(where, sizeof where, "step %d: item 3 missing", step);
            }
            vip_page_doc_destroy(pd);
            vip_doc_destroy(doc);
        }
        char name[64];
        snprintf(name, sizeof name, "two_column_list.%s", samples[s].lang);
        CHECK(name, laid == 50 && !spread && !disorder && !split && !apart && !marker && !below && !broken,
              "%d layouts: %d spread, %d out of order, %d out of column order, %d apart, %d markers astray, %d below the "
              "margin, %d broken (%s) %s", laid, spread, disorder, split, apart, marker, below, broken, where,
              err.message);
    }
}

/* The addresses vip_rich_find_links finds in text, as "text=uri;..." (empty: none). */
static void found_links(const char *text, char *out, size_t cap)
{
    vip_error err = {0};
    vip_rich r = {0};
    out[0] = '\0';
    if (vip_rich_append(&r, text, strlen(text), &err) || vip_rich_find_links(&r, &err)) {
        snprintf(out, cap, "error: %.200s", err.message);
    } else {
        for (size_t l = 0; l < r.link_count; l++) {
            size_t n = strlen(out);
            snprintf(out + n, cap - n, "%.*s=%s%s;", (int)(r.links[l].end - r.links[l].start),
                     r.text + r.links[l].start, r.links[l].uri, r.links[l].plain ? "" : "(styled)");
        }
    }
    vip_rich_free(&r);
}

static void test_find_links(void)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"Call 08 08 16 89 111, or visit victimsupport.org.uk.", "victimsupport.org.uk=https://victimsupport.org.uk;"},
        {"Apply at gov.uk/claim-compensation-criminal-injury. You do not need a lawyer.",
         "gov.uk/claim-compensation-criminal-injury=https://gov.uk/claim-compensation-criminal-injury;"},
        {"(see gov.uk/criminal-injuries-compensation)",
         "gov.uk/criminal-injuries-compensation=https://gov.uk/criminal-injuries-compensation;"},
        {"email them at daniel.okafor@northshire.police.example.",
         "daniel.okafor@northshire.police.example=mailto:daniel.okafor@northshire.police.example;"},
        {"J.SMITH@EXAMPLE.ORG", "J.SMITH@EXAMPLE.ORG=mailto:J.SMITH@EXAMPLE.ORG;"},
        {"www.northshire.police.example", "www.northshire.police.example=https://www.northshire.police.example;"},
        {"https://www.gov.uk/victims-code?lang=en#rights", "https://www.gov.uk/victims-code?lang=en#rights="
                                                           "https://www.gov.uk/victims-code?lang=en#rights;"},
        /* Inside other text: Chinese has no spaces, Arabic isolates its Latin. */
        {"请访问victimsupport.org.uk。", "victimsupport.org.uk=https://victimsupport.org.uk;"},
        {"\xE2\x81\xA6" "cps.gov.uk" "\xE2\x81\xA9", "cps.gov.uk=https://cps.gov.uk;"},
        /* Not addresses: abbreviations, numbers, names, file-like words, part of a longer word. */
        {"e.g. i.e. a.m. U.K. No.5 2.3 10.30am J.Smith Mr.Jones", ""},
        {"version 1.2.3, section 4.1a, 12.5%", ""},
        {"victimsupport.org.uk_x foo.bar-", ""},
        {"@victimsupport.org.uk /gov.uk", ""},
        {"a@b", ""},
    };
    char got[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        found_links(cases[i].text, got, sizeof got);
        char name[64];
        snprintf(name, sizeof name, "find_links.%zu", i);
        CHECK(name, strcmp(got, cases[i].expect) == 0, "\"%s\": found \"%s\", expected \"%s\"", cases[i].text, got,
              cases[i].expect);
    }
    /* A link the template made stays as it is, and its text is not found again. */
    vip_error err = {0};
    vip_rich r = {0};
    int ok = !vip_rich_append(&r, "see cps.gov.uk", 14, &err) &&
             !vip_rich_add_link(&r, 4, 14, "https://x.example", &err) && !vip_rich_find_links(&r, &err);
    CHECK("find_links.template_link_kept", ok && r.link_count == 1 && !r.links[0].plain, "%zu links", r.link_count);
    vip_rich_free(&r);
}

/* A link inside a line: its text is a run of its own in a Link element with its annotation, the glyphs drawn where
 * they are without the link, and the text looks the same (no colour). */
static void test_link_runs(vip_text *text, const vip_layout_options *o)
{
    static const struct {
        const char *lang, *text, *link;
    } cases[] = {
        {"en", "For free help, visit victimsupport.org.uk or call us.", "victimsupport.org.uk"},
        {"ar", "يمكنك زيارة victimsupport.org.uk للحصول على المساعدة.", "victimsupport.org.uk"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vip_page_doc *pd[2] = {NULL, NULL};
        vip_error err = {0};
        for (int with = 0; with < 2; with++) {
            vip_doc *doc = vip_doc_create("t", cases[c].lang, &err);
            vip_block *b = doc ? vip_doc_add_block(doc, VIP_BLOCK_PARAGRAPH, 0, cases[c].text,
                                                   strlen(cases[c].text), VIP_ALIGN_START, "p", &err)
                               : NULL;
            if (b && with)
                vip_rich_find_links(&b->content, &err);
            pd[with] = b ? vip_layout_document(text, doc, o, &err) : NULL;
            vip_doc_destroy(doc);
        }
        int link_runs = 0, link_text_ok = 1, same_ink = pd[0] && pd[1], colour_same = 1, annotations = 0;
        double ink[2][64];
        size_t glyphs[2] = {0, 0};
        for (int with = 0; with < 2 && same_ink; with++) {
            const vip_page *pg = &pd[with]->pages[0];
            for (size_t i = 0; i < pg->item_count; i++) {
                const vip_page_run *run = &pg->items[i].u.run;
                if (pg->items[i].kind != VIP_PAGE_RUN)
                    continue;
                colour_same &= run->color == pd[0]->pages[0].items[0].u.run.color;
                for (size_t g = 0; g < run->glyph_count && glyphs[with] < 64; g++)
                    ink[with][glyphs[with]++] = run->x + run->glyphs[g].x;
                if (with && pd[1]->elements[pg->items[i].tag].role == VIP_ROLE_LINK) {
                    link_runs++;
                    size_t len = run->text_end - run->text_start;
                    link_text_ok &= len == strlen(cases[c].link) &&
                                    strncmp(run->text + run->text_start, cases[c].link, len) == 0;
                }
            }
            if (with)
                for (size_t l = 0; l < pg->link_count; l++)
                    annotations += pg->links[l].uri && strcmp(pg->links[l].uri, "https://victimsupport.org.uk") == 0 &&
                                   pd[1]->elements[pg->links[l].tag].role == VIP_ROLE_LINK;
        }
        same_ink &= glyphs[0] == glyphs[1];
        for (size_t g = 0; same_ink && g < glyphs[0]; g++)
            same_ink &= fabs(ink[0][g] - ink[1][g]) < 1e-6;
        char name[64];
        snprintf(name, sizeof name, "link_runs.%s", cases[c].lang);
        CHECK(name, link_runs == 1 && link_text_ok && same_ink && colour_same && annotations == 1,
              "%d link runs (text right: %d), glyphs in place %d, colour same %d, %d annotations (%s)", link_runs,
              link_text_ok, same_ink, colour_same, annotations, err.message);
        vip_page_doc_destroy(pd[0]);
        vip_page_doc_destroy(pd[1]);
    }
}

int main(void)
{
    vip_error err = {0};
    vip_fontset *fonts = vip_fontset_load("fonts/manifest", &err);
    vip_text *text = fonts ? vip_text_create(fonts, &err) : NULL;
    if (!text) {
        printf("FAIL setup: %s\n", err.message);
        return 1;
    }
    vip_layout_options o;
    vip_layout_default_options(&o);
    test_overflow(text, &o);
    test_two_column_list(text, &o);
    test_find_links();
    test_link_runs(text, &o);
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        int stranded = 0, laid = 0;
        /* A space before the heading, 5 pt taller each time, moves it down its page and over the foot. */
        for (int step = 0; step < STEPS; step++) {
            vip_doc *doc = pushed_down(s, 500 + 5 * step, &err);
            vip_block *h = doc ? vip_doc_add_block(doc, VIP_BLOCK_HEADING, 2, samples[s].heading,
                                                   strlen(samples[s].heading), VIP_ALIGN_START, "heading", &err)
                               : NULL;
            if (h)
                h->bookmark = 1;
            /* The text after it runs to several lines, so that its first two are what must follow the heading. */
            char after[2048];
            snprintf(after, sizeof after, "%s %s %s", samples[s].after, samples[s].after, samples[s].after);
            if (doc)
                vip_doc_add_block(doc, VIP_BLOCK_PARAGRAPH, 0, after, strlen(after), VIP_ALIGN_START, "after", &err);
            vip_page_doc *pd = doc ? vip_layout_document(text, doc, &o, &err) : NULL;
            if (pd && pd->outline_count == 1) {
                laid++;
                stranded += pd->outlines[0].page != page_of_text(pd, samples[s].after);
            }
            vip_page_doc_destroy(pd);
            vip_doc_destroy(doc);
        }
        char name[64];
        snprintf(name, sizeof name, "heading_kept_with_next.%s", samples[s].lang);
        CHECK(name, laid == STEPS && stranded == 0, "%d of %d layouts leave the heading on another page than the text "
              "after it (%s)", stranded, laid, err.message);
    }
    /* A list item and paragraphs of two to nine lines pushed over the foot of a page, 3 pt further each time: the
     * marker always stands on the item's first line, and no page holds a single line of any of them (no orphan at
     * the foot, no widow at the head). */
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        int bullet_alone = 0, single = 0, intro_alone = 0, laid = 0;
        char where_marker[256] = "", where_single[256] = "", where_intro[64] = "";
        static const int repeats[] = {3, 1, 2, 5};
        for (int step = 0; step < STEPS * 2; step++) {
            vip_doc *doc = pushed_down(s, 520 + 3 * step, &err);
            /* A one-line paragraph leads into the list: it goes with the item's first lines. */
            char intro[512];
            snprintf(intro, sizeof intro, "0 %s", samples[s].heading);
            if (doc)
                vip_doc_add_block(doc, VIP_BLOCK_PARAGRAPH, 0, intro, strlen(intro), VIP_ALIGN_START, "intro", &err);
            char texts[4][4096];
            for (int k = 0; k < 4 && doc; k++) {
                int n = snprintf(texts[k], sizeof texts[k], "%d", k + 1);
                for (int r = 0; r < repeats[k] + 1; r++)
                    n += snprintf(texts[k] + n, sizeof texts[k] - (size_t)n, " %s", samples[s].after);
                vip_doc_add_block(doc, k == 0 ? VIP_BLOCK_LIST_ITEM : VIP_BLOCK_PARAGRAPH, 0, texts[k],
                                  strlen(texts[k]), VIP_ALIGN_START, "text", &err);
            }
            vip_page_doc *pd = doc ? vip_layout_document(text, doc, &o, &err) : NULL;
            if (pd) {
                laid++;
                if (page_of_text(pd, "0 ") != page_of_text(pd, "1 ")) {
                    intro_alone++;
                    snprintf(where_intro, sizeof where_intro, "step %d", step);
                }
                if (!marker_with_first_line(pd, "1 ")) {
                    bullet_alone++;
                    snprintf(where_marker, sizeof where_marker, "step %d: the marker is not on the item's first line",
                             step);
                }
                for (int k = 0; k < 4; k++) {
                    char prefix[16];
                    snprintf(prefix, sizeof prefix, "%d ", k + 1);
                    size_t lines[16] = {0};
                    size_t total = lines_per_page(pd, prefix, lines, 16);
                    for (size_t p = 0; p < pd->page_count && p < 16 && total > 1; p++)
                        if (lines[p] == 1) {
                            single++;
                            snprintf(where_single, sizeof where_single,
                                     "step %d: text %d (%zu lines) has one line on page %zu", step, k + 1, total, p + 1);
                        }
                }
            }
            vip_page_doc_destroy(pd);
            vip_doc_destroy(doc);
        }
        char name[64];
        snprintf(name, sizeof name, "list_marker_with_first_line.%s", samples[s].lang);
        CHECK(name, laid == STEPS * 2 && bullet_alone == 0, "%d of %d layouts (%s) %s", bullet_alone, laid,
              where_marker, err.message);
        snprintf(name, sizeof name, "list_intro_with_list.%s", samples[s].lang);
        CHECK(name, laid == STEPS * 2 && intro_alone == 0, "%d of %d layouts leave the paragraph before the list on "
              "another page (%s)", intro_alone, laid, where_intro);
        snprintf(name, sizeof name, "no_widow_or_orphan.%s", samples[s].lang);
        CHECK(name, laid == STEPS * 2 && single == 0, "%d single lines in %d layouts (%s)", single, laid, where_single);
    }
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
    return CHECK_DONE();
}
