/* Saddle-stitch imposition: the order of pages on each sheet for every page count, and a real booklet imposed with
 * qpdf read back with poppler: each half of each sheet shows the page the order says (its "Page N of M" footer),
 * padding halves are blank, the PDF passes qpdf --check, and the bytes are the same twice. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "impose.h"

static void test_order(void)
{
    size_t order[64];
    size_t n = vip_impose_saddle_order(8, 0, order);
    static const size_t eight[] = {8, 1, 2, 7, 6, 3, 4, 5};
    CHECK("order: 8 pages, 2 sheets", n == 8 && memcmp(order, eight, sizeof eight) == 0, "n=%zu", n);
    n = vip_impose_saddle_order(8, 1, order);
    static const size_t eight_rtl[] = {1, 8, 7, 2, 3, 6, 5, 4};
    CHECK("order: right to left, bound on the right", n == 8 && memcmp(order, eight_rtl, sizeof eight_rtl) == 0,
          "n=%zu", n);
    n = vip_impose_saddle_order(6, 0, order);
    static const size_t six[] = {0, 1, 2, 0, 6, 3, 4, 5};
    CHECK("order: 6 pages padded with two blanks", n == 8 && memcmp(order, six, sizeof six) == 0, "n=%zu", n);
    /* Every page exactly once, whatever the count; folded sheets read in order: sheet s front right is 2s+1. */
    for (size_t pages = 1; pages <= 40; pages++) {
        size_t k = vip_impose_saddle_order(pages, 0, order), seen[64] = {0};
        int ok = k % 4 == 0 && k >= pages && k < pages + 4;
        for (size_t i = 0; i < k; i++)
            if (order[i])
                ok &= ++seen[order[i]] == 1;
        for (size_t p = 1; p <= pages; p++)
            ok &= seen[p] == 1;
        for (size_t s = 0; s < k / 4; s++)
            ok &= order[4 * s + 1] == 2 * s + 1 && (order[4 * s + 2] == 2 * s + 2 || !order[4 * s + 2]);
        char name[48];
        snprintf(name, sizeof name, "order: %zu pages", pages);
        CHECK(name, ok, "bad order");
    }
}

/* The page number printed in one half of a sheet ("Page N of M"), 0 when the half is blank, -1 on failure. */
static int page_in_half(const char *pdf, int sheet, int half)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "pdftotext -f %d -l %d -x %d -y 0 -W 421 -H 596 '%s' - 2>/dev/null", sheet, sheet,
             half * 421, pdf);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512];
    int page = 0, words = 0;
    while (fgets(line, sizeof line, p)) {
        int n, of;
        char *at = strstr(line, "Page ");
        if (at && sscanf(at, "Page %d of %d", &n, &of) == 2)
            page = n;
        for (char *c = line; *c; c++)
            words += *c > ' ';
    }
    pclose(p);
    return page ? page : words ? -1 : 0;
}

static void test_real_booklet(const char *vipgen)
{
    char dir[] = "/tmp/vip_impose_XXXXXX";
    if (!mkdtemp(dir))
        return;
    char booklet[256], out[256], again[256], cmd[2048];
    snprintf(booklet, sizeof booklet, "%s/booklet.pdf", dir);
    snprintf(out, sizeof out, "%s/imposed.pdf", dir);
    snprintf(again, sizeof again, "%s/again.pdf", dir);
    snprintf(cmd, sizeof cmd, "'%.1000s' booklet --lang en -o '%s' 2>/dev/null", vipgen, booklet);
    int made = system(cmd) == 0;
    CHECK("setup: a booklet", made, "%s failed", cmd);
    if (!made)
        return;
    snprintf(cmd, sizeof cmd, "qpdf --show-npages '%s'", booklet);
    FILE *p = popen(cmd, "r");
    int pages = 0;
    if (p) {
        if (fscanf(p, "%d", &pages) != 1)
            pages = 0;
        pclose(p);
    }
    vip_error err = {0};
    int rc = vip_impose_booklet(booklet, out, 0, &err);
    CHECK("impose: written", rc == 0, "%s", err.message);
    rc |= vip_impose_booklet(booklet, again, 0, &err);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s' && qpdf --check '%s' >/dev/null 2>&1", out, again, out);
    CHECK("impose: deterministic and valid", rc == 0 && system(cmd) == 0, "cmp or qpdf --check failed");
    size_t order[64];
    size_t slots = vip_impose_saddle_order((size_t)pages, 0, order);
    int all = pages > 0;
    char where[200] = "";
    for (size_t i = 0; i < slots && all; i++) {
        int sheet_side = (int)(i / 2) + 1, half = (int)(i % 2);
        int got = page_in_half(out, sheet_side, half);
        if (got != (int)order[i]) {
            all = 0;
            snprintf(where, sizeof where, "side %d %s: page %d, want %zu", sheet_side, half ? "right" : "left", got,
                     order[i]);
        }
    }
    CHECK("impose: every half shows the right page", all, "%d pages; %s", pages, where);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(int argc, char **argv)
{
    (void)argc;
    char vipgen[1024], self[1024];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(vipgen, sizeof vipgen, "%s/../vipgen", dirname(self));
    test_order();
    test_real_booklet(vipgen);
    return CHECK_DONE();
}
