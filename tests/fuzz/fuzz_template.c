/* fuzz_template: any bytes as a letter template → vip_template_load (validated against the real
 * templates/template.rng; the template's directory has the real logo.png) → vip_template_merge with the English
 * catalogue and a valid case row (examples/cases.csv, row 1) → layout → PDF in memory. */
#include "fuzz_common.h"
#include "template.h"

static const vip_case_row *english_row(void)
{
    static vip_case_set *set;
    if (!set) {
        vip_error err = {0};
        set = vip_case_read(VIP_SOURCE_DIR "/examples/cases.csv", &err);
        fuzz_setup_or_die(set && set->row_count > 0 && strcmp(set->rows[0].lang, "en") == 0,
                          "examples/cases.csv: an English first row", &err);
    }
    return &set->rows[0];
}

static void quiet(void *user, const char *message)
{
    (void)user;
    (void)message;
}

/* Copies a file of the repository into the scratch directory (templates may use images beside them only). */
static void copy_in(const char *relative, const char *to)
{
    size_t n;
    uint8_t *bytes = fuzz_repo_file(relative, &n);
    fuzz_write_file(to, bytes, n);
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[600];
    if (!path[0]) {
        char logo[600];
        fuzz_path(logo, sizeof logo, "logo.png");
        copy_in("templates/logo.png", logo);
        fuzz_path(path, sizeof path, "letter.xml");
        /* The real letter must load where the fuzzed ones are put: else every input fails early, unnoticed. */
        copy_in("templates/letter.xml", path);
        vip_error err = {0};
        vip_template *real = vip_template_load(path, VIP_SOURCE_DIR "/templates/template.rng", &err);
        fuzz_setup_or_die(real != NULL, "templates/letter.xml in the scratch directory", &err);
        vip_template_destroy(real);
    }
    const vip_case_row *row = english_row();
    vip_catalog *cat = fuzz_catalog("en");
    fuzz_write_file(path, data, size);

    vip_error err = {0};
    vip_template *tmpl = vip_template_load(path, VIP_SOURCE_DIR "/templates/template.rng", &err);
    if (!tmpl) {
        FUZZ_REQUIRE_ERROR(err, "vip_template_load");
        return 0;
    }
    const char *kind = vip_template_kind(tmpl);
    FUZZ_REQUIRE(strcmp(kind, "letter") == 0 || strcmp(kind, "booklet") == 0, "a valid template of kind \"%s\"",
                 kind);
    vip_warn_sink warn = {quiet, NULL};
    vip_doc *doc = vip_template_merge(tmpl, cat, strcmp(kind, "letter") == 0 ? row : NULL, &warn, &err);
    if (!doc) {
        FUZZ_REQUIRE_ERROR(err, "vip_template_merge");
    } else {
        FUZZ_REQUIRE(doc->lang && strcmp(doc->lang, "en") == 0, "merged document in %s, not en",
                     doc->lang ? doc->lang : "(null)");
        fuzz_layout_and_render(doc);
        vip_doc_destroy(doc);
    }
    vip_template_destroy(tmpl);
    return 0;
}
