/* make bench: one-page documents per second, milliseconds and PDF bytes per page for each language, and peak
 * memory. Fonts are loaded once, as in a batch; each document is read, laid out and rendered to PDF in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "doc.h"
#include "fonts.h"
#include "layout.h"
#include "pdf.h"
#include "text.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static const char *langs[] = {"en", "pl", "ro", "ar", "fa", "ur", "pa", "zh-Hans"};
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    vip_error err = {0};
    double t0 = now();
    vip_fontset *fonts = vip_fontset_load("fonts/manifest", &err);
    vip_text *text = fonts ? vip_text_create(fonts, &err) : NULL;
    if (!text) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
    }
    printf("fonts loaded in %.1f ms\n", (now() - t0) * 1e3);
    printf("%-8s %10s %10s %12s %6s\n", "lang", "docs/s", "ms/page", "bytes/page", "pages");
    vip_layout_options options;
    vip_layout_default_options(&options);
    for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++) {
        char path[256];
        snprintf(path, sizeof path, "examples/samples/%s.txt", langs[l]);
        vip_doc *doc = vip_doc_read_text(path, langs[l], &err);
        if (!doc) {
            fprintf(stderr, "bench: %s\n", err.message);
            return 1;
        }
        /* The first document pays for preparing the fonts' subsetting data: done before timing, as a batch
         * pays it once. */
        size_t docs = 0, bytes = 0, pages = 0;
        double start = 0;
        for (int warm = 1;; warm = 0) {
            vip_page_doc *pd = vip_layout_document(text, doc, &options, &err);
            unsigned char *pdf = NULL;
            size_t len = 0;
            if (!pd || vip_pdf_render(pd, &pdf, &len, &err)) {
                fprintf(stderr, "bench: %s: %s\n", langs[l], err.message);
                return 1;
            }
            pages = pd->page_count;
            vip_page_doc_destroy(pd);
            free(pdf);
            if (warm) {
                start = now();
                continue;
            }
            docs++;
            bytes = len;
            if (now() - start >= seconds)
                break;
        }
        double elapsed = now() - start;
        printf("%-8s %10.1f %10.2f %12zu %6zu\n", langs[l], docs / elapsed, elapsed * 1e3 / docs / pages,
               bytes / pages, pages);
        vip_doc_destroy(doc);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak memory: %.1f MB\n", ru.ru_maxrss / 1024.0);
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
    return 0;
}
