/* vip_layout against real fonts: a heading is never left at the foot of a page without the first lines of the
 * paragraph after it, in any script, whatever the text before it pushes it to (Nastaliq's lines are about 1.6
 * times as tall as Latin ones, so an estimate made for Latin would strand its headings). */
#include <stdio.h>
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
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        int stranded = 0, laid = 0;
        /* A space before the heading, 5 pt taller each time, moves it down its page and over the foot. */
        for (int step = 0; step < STEPS; step++) {
            vip_doc *doc = vip_doc_create("test", samples[s].lang, &err);
            if (doc)
                vip_doc_add_block(doc, VIP_BLOCK_PARAGRAPH, 0, samples[s].filler, strlen(samples[s].filler),
                                  VIP_ALIGN_START, "filler", &err);
            vip_block *space = doc ? vip_doc_add_block(doc, VIP_BLOCK_SPACE, 0, NULL, 0, VIP_ALIGN_START, "space",
                                                       &err)
                                   : NULL;
            if (space) /* a space at the head of a page is dropped, so it follows a paragraph */
                space->height = 500 + 5 * step;
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
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
    return CHECK_DONE();
}
