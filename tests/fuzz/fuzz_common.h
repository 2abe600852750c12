/* Shared by the libFuzzer harnesses: where the repository's resources are, a scratch file for the input, and the
 * fonts, text context and catalogues loaded once per process (the program loads them once per batch too).
 * VIP_SOURCE_DIR is the repository root, given at build time, so a harness runs from any directory. */
#ifndef VIP_FUZZ_COMMON_H
#define VIP_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case.h"
#include "catalog.h"
#include "error.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
#include "page.h"
#include "pdf.h"
#include "text.h"

#ifndef VIP_SOURCE_DIR
#error "build with -DVIP_SOURCE_DIR=\"/path/to/the/repository\" (tests/fuzz/fuzz.mk does)"
#endif

/* Stops the run so that libFuzzer records the input: a broken invariant is a finding like a sanitizer report. */
#define FUZZ_REQUIRE(cond, ...)                                                                                \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                                      \
            fputc('\n', stderr);                                                                               \
            abort();                                                                                           \
        }                                                                                                      \
    } while (0)

/* Checks what every failing library call promises: a code and a message. With VIPGEN_FUZZ_VERBOSE set the message
 * is printed, to see why seeds are refused (e.g. `VIPGEN_FUZZ_VERBOSE=1 build-fuzz/fuzz_catalog corpus/...`). */
#define FUZZ_REQUIRE_ERROR(err, what)                                                                          \
    do {                                                                                                       \
        FUZZ_REQUIRE((err).code != VIP_OK && (err).message[0], "%s failed without an error message", what);    \
        if (getenv("VIPGEN_FUZZ_VERBOSE"))                                                                     \
            fprintf(stderr, "%s: %s\n", what, (err).message);                                                 \
    } while (0)

/* Setting up what every input needs cannot fail on a working checkout: if it does, say why and stop. */
static inline void fuzz_setup_or_die(int ok, const char *what, const vip_error *err)
{
    if (!ok) {
        fprintf(stderr, "fuzz harness setup: %s: %s\n", what, err ? err->message : "failed");
        exit(2);
    }
}

static char fuzz_dir[512];

static void fuzz_remove_dir(void)
{
    /* Only the few files the harnesses put there (see fuzz_path): the directory is theirs alone. */
    static const char *const names[] = {"input", "input.csv", "input.xlf", "input.txt", "letter.xml", "logo.png"};
    char path[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, names[i]);
        unlink(path);
    }
    rmdir(fuzz_dir);
}

/* A private scratch directory for this process, removed at exit. */
static inline const char *fuzz_scratch_dir(void)
{
    if (!fuzz_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/vipgen-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            perror("fuzz harness setup: mkdtemp");
            exit(2);
        }
        atexit(fuzz_remove_dir);
    }
    return fuzz_dir;
}

/* The path of the file called name in the scratch directory. */
static inline void fuzz_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", fuzz_scratch_dir(), name);
}

/* Writes the input to a scratch file; the harnesses read it back through the library's own file readers. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* A file of the repository, read whole (malloc'd; *size gets its length). For the harnesses' one-time checks that a
 * real input still goes through: if it did not, every fuzzed input would fail early and the run would prove nothing. */
static inline uint8_t *fuzz_repo_file(const char *relative, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", VIP_SOURCE_DIR, relative);
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    while (f) {
        if (n == cap) {
            uint8_t *more = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!more)
                break;
            buf = more;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                break;
            fclose(f);
            *size = n;
            return buf;
        }
    }
    fprintf(stderr, "fuzz harness setup: cannot read %s\n", path);
    exit(2);
}

static vip_fontset *fuzz_fonts_set;
static vip_text *fuzz_text_ctx;

/* The fonts of fonts/manifest and one text context, loaded at the first input and kept for the process. */
static inline vip_text *fuzz_text(void)
{
    if (!fuzz_text_ctx) {
        vip_error err = {0};
        fuzz_fonts_set = vip_fontset_load(VIP_SOURCE_DIR "/fonts/manifest", &err);
        fuzz_setup_or_die(fuzz_fonts_set != NULL, "fonts/manifest", &err);
        fuzz_text_ctx = vip_text_create(fuzz_fonts_set, &err);
        fuzz_setup_or_die(fuzz_text_ctx != NULL, "text context", &err);
    }
    return fuzz_text_ctx;
}

/* A catalogue of translations/ by language tag, loaded once. */
static inline vip_catalog *fuzz_catalog(const char *lang)
{
    static vip_catalog *loaded[16];
    size_t count;
    const vip_lang *all = vip_lang_all(&count);
    for (size_t i = 0; i < count && i < 16; i++) {
        if (strcmp(all[i].tag, lang) != 0)
            continue;
        if (!loaded[i]) {
            char path[1024];
            vip_error err = {0};
            snprintf(path, sizeof path, "%s/translations/%s.xlf", VIP_SOURCE_DIR, lang);
            loaded[i] = vip_catalog_load(path, &err);
            fuzz_setup_or_die(loaded[i] != NULL, path, &err);
        }
        return loaded[i];
    }
    fprintf(stderr, "fuzz harness setup: no language %s\n", lang);
    exit(2);
}

/* Lays a document out with the default options and renders it to a PDF in memory. Failure is allowed (bad input
 * gets an error) but must say why; a PDF that comes out must look like one. Takes ownership of nothing. */
static inline void fuzz_layout_and_render(const vip_doc *doc)
{
    vip_layout_options options;
    vip_layout_default_options(&options);
    vip_error err = {0};
    vip_page_doc *pages = vip_layout_document(fuzz_text(), doc, &options, &err);
    if (!pages) {
        FUZZ_REQUIRE_ERROR(err, "vip_layout_document");
        return;
    }
    unsigned char *pdf = NULL;
    size_t pdf_len = 0;
    if (vip_pdf_render(pages, &pdf, &pdf_len, &err) == VIP_OK) {
        FUZZ_REQUIRE(pdf && pdf_len > 16 && memcmp(pdf, "%PDF-", 5) == 0, "rendered bytes are not a PDF (%zu bytes)",
                     pdf_len);
        FUZZ_REQUIRE(pages->page_count > 0, "a PDF with no pages");
    } else {
        FUZZ_REQUIRE_ERROR(err, "vip_pdf_render");
    }
    free(pdf);
    vip_page_doc_destroy(pages);
}

#endif
