/* fuzz_text: a plain-text document (what `vipgen render` reads) → vip_doc_read_text → layout → PDF in memory.
 * Byte 0 picks the language (low bits: index into vip_lang_all) and, with bit 7, asks for the document to be fitted
 * to one page (type scaled down); the rest is the text file. */
#include "doc.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t lang_count;
    const vip_lang *langs = vip_lang_all(&lang_count);
    const char *lang = langs[(data[0] & 0x7f) % lang_count].tag;
    char path[600];
    fuzz_path(path, sizeof path, "input.txt");
    static int checked;
    if (!checked++) { /* the English sample, put where the inputs go, reads */
        size_t n;
        uint8_t *sample = fuzz_repo_file("examples/samples/en.txt", &n);
        fuzz_write_file(path, sample, n);
        free(sample);
        vip_error err = {0};
        vip_doc *doc = vip_doc_read_text(path, "en", &err);
        fuzz_setup_or_die(doc && doc->block_count > 0, "examples/samples/en.txt from the scratch directory", &err);
        vip_doc_destroy(doc);
    }
    fuzz_write_file(path, data + 1, size - 1);
    vip_error err = {0};
    vip_doc *doc = vip_doc_read_text(path, lang, &err);
    if (!doc) {
        FUZZ_REQUIRE_ERROR(err, "vip_doc_read_text");
        return 0;
    }
    FUZZ_REQUIRE(doc->lang && strcmp(doc->lang, lang) == 0, "document language %s, asked for %s",
                 doc->lang ? doc->lang : "(null)", lang);
    if (data[0] & 0x80)
        doc->max_pages = 1;
    fuzz_layout_and_render(doc);
    vip_doc_destroy(doc);
    return 0;
}
