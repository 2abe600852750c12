/* vip_postpile on real letters written by the built vipgen (examples/cases.csv), plus a one-page letter and a
 * three-page one whose last page is US Letter (made from real letters with the qpdf and mutool programs), given in
 * shuffled order. Checked with outside tools: qpdf --check passes; the pile holds every letter in postcode order
 * (then crime reference), known independently from the example data; each letter's part has an even page count
 * (qpdf --show-npages) and its first page's text is the letter's own first page (pdftotext), with its postcode on
 * it; a padding page is blank and the size of the letter's last page (pdfinfo -box); the same letters in another
 * order give the same bytes; bad letters are errors naming the file and leave an existing pile as it was. */
#define _GNU_SOURCE
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "files.h"
#include "postpile.h"

/* Runs a command and returns all of its standard output (empty on failure); *status its exit status. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    if (!p || !out) {
        if (p)
            pclose(p);
        free(out);
        *status = -1;
        return strdup("");
    }
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *bigger = realloc(out, cap *= 2);
            if (!bigger)
                break;
            out = bigger;
        }
    }
    out[len] = '\0';
    int rc = pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

static int npages(const char *pdf)
{
    char cmd[1024];
    int st;
    snprintf(cmd, sizeof cmd, "qpdf --show-npages '%s' 2>/dev/null", pdf);
    char *out = run(cmd, &st);
    int n = st == 0 ? atoi(out) : -1;
    free(out);
    return n;
}

static char *page_text(const char *pdf, int page)
{
    char cmd[1024];
    int st;
    snprintf(cmd, sizeof cmd, "pdftotext -q -layout -f %d -l %d '%s' -", page, page, pdf);
    return run(cmd, &st);
}

static int only_space(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\f' && *s != '\r' && *s != '\t')
            return 0;
    return 1;
}

static void mediabox(const char *pdf, int page, char *out, size_t size)
{
    char cmd[1024];
    int st;
    snprintf(cmd, sizeof cmd, "pdfinfo -f %d -l %d -box '%s' 2>/dev/null", page, page, pdf);
    char *text = run(cmd, &st);
    char *m = strstr(text, "MediaBox:");
    snprintf(out, size, "%s", m ? m + 9 : "none");
    out[strcspn(out, "\n")] = '\0';
    free(text);
}

static void test_compare_postcodes(void)
{
    struct {
        const char *a, *b;
        int sign;
    } cases[] = {
        {"NT2 1AA", "NT10 1AA", -1}, /* district by number, not text */
        {"nt1 4ab", "NT14AB", 0},    /* case and spaces ignored */
        {"NT1 4AB", "NT1 8ZZ", -1},  {"EF2 3RS", "NT1 4AB", -1}, {"W1 1AA", "W1A 1AA", -1},
        {"N1 9GU", "NW1 1AA", -1},   {"SW1A 1AA", "SW1A 2AA", -1}, {"B33 8TH", "B4 7DA", 1},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int c = vip_postpile_compare_postcodes(cases[i].a, cases[i].b);
        int r = vip_postpile_compare_postcodes(cases[i].b, cases[i].a);
        int sign = c < 0 ? -1 : c > 0;
        if (sign != cases[i].sign || (r < 0 ? -1 : r > 0) != -sign) {
            printf("INFO compare %s / %s gave %d\n", cases[i].a, cases[i].b, c);
            ok = 0;
        }
    }
    CHECK("compare_postcodes.uk_order", ok, "see INFO");
}

typedef struct letter_case {
    const char *file, *crime_ref, *postcode;
} letter_case;

static void test_pile(const char *vipgen)
{
    char cmd[2048], letters_dir[512];
    int st;
    snprintf(letters_dir, sizeof letters_dir, "%s", in_root("letters"));
    snprintf(cmd, sizeof cmd, "'%s' letter examples/cases.csv -o '%s' --jobs 2 >/dev/null 2>&1", vipgen, letters_dir);
    CHECK("setup.vipgen_letters", system(cmd) == 0, "%s failed", cmd);

    /* Odd page counts, from real letters: one page; and two pages then a US Letter page. */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && qpdf NC-2024-012353_en.pdf --pages NC-2024-012353_en.pdf 1 -- one-page.pdf && "
             "printf '%%%%%%%%MediaBox 0 0 612 792\\nBT /F1 12 Tf 72 700 Td (annex) Tj ET\\n' > us.txt && "
             "mutool create -o us.pdf us.txt && "
             "qpdf --empty --pages NC-2024-012345_en.pdf 1-2 us.pdf -- three-pages.pdf",
             letters_dir);
    CHECK("setup.odd_letters", system(cmd) == 0, "%s failed", cmd);

    /* Given shuffled; the postcodes are those of examples/cases.csv. */
    letter_case cases[] = {
        {"NC-2024-012351_pa.pdf", "NC/2024/012351", "WM5 6HU"},
        {"three-pages.pdf", "NC/2024/099002", "NT1 4AB"},
        {"NC-2024-012347_ro.pdf", "NC/2024/012347", "SB4 2LT"},
        {"NC-2024-012353_en.pdf", "NC/2024/012353", "WM1 2BB"},
        {"NC-2024-012345_en.pdf", "NC/2024/012345", "NT1 4AB"},
        {"NC-2024-012350_ur.pdf", "NC/2024/012350", "EF2 3RS"},
        {"one-page.pdf", "NC/2024/099001", "wm1 2bb"},
        {"NC-2024-012348_ar.pdf", "NC/2024/012348", "NT3 9DF"},
        {"NC-2024-012352_zh-Hans.pdf", "NC/2024/012352", "SB1 1AA"},
        {"NC-2024-012346_pl.pdf", "NC/2024/012346", "NT2 7QP"},
        {"NC-2024-012349_fa.pdf", "NC/2024/012349", "NT1 8ZZ"},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    /* The order the pile must have: by postcode, then crime reference. */
    const char *expected[N] = {"NC/2024/012350", "NC/2024/012345", "NC/2024/099002", "NC/2024/012349",
                               "NC/2024/012346", "NC/2024/012348", "NC/2024/012352", "NC/2024/012347",
                               "NC/2024/012353", "NC/2024/099001", "NC/2024/012351"};
    vip_postpile_letter letters[N];
    char paths[N][600];
    for (size_t i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", letters_dir, cases[i].file);
        letters[i] = (vip_postpile_letter){paths[i], cases[i].postcode, cases[i].crime_ref};
    }
    char pile[600];
    snprintf(pile, sizeof pile, "%s/to-post.pdf", letters_dir);
    size_t order[N];
    vip_postpile_result res = {0};
    vip_error err = {0};
    umask(022);
    int rc = vip_postpile_write(pile, letters, N, order, &res, &err);
    CHECK("pile.written", rc == VIP_OK, "%s", err.message);
    if (rc != VIP_OK)
        return;
    struct stat sb;
    CHECK("pile.mode_0600", stat(pile, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode %o",
          (unsigned)(sb.st_mode & 0777));

    int order_ok = 1;
    for (size_t k = 0; k < N; k++)
        order_ok = order_ok && strcmp(cases[order[k]].crime_ref, expected[k]) == 0;
    CHECK("pile.order_by_postcode_then_crime_ref", order_ok, "first %s", cases[order[0]].crime_ref);

    snprintf(cmd, sizeof cmd, "qpdf --check '%s' 2>&1", pile);
    char *check = run(cmd, &st);
    CHECK("pile.qpdf_check", st == 0 && strstr(check, "No syntax or stream encoding errors"), "status %d: %.300s",
          st, check);
    free(check);
    /* The letters' own page counts (two or three, as their languages need) padded to even. */
    int total = npages(pile), want_total = 0, want_blanks = 0;
    for (size_t k = 0; k < N; k++) {
        int own = npages(letters[k].pdf_path);
        want_total += own + own % 2;
        want_blanks += own % 2;
    }
    CHECK("pile.pages_counted", total == (int)res.pages && res.letters == N && (int)res.blank_pages == want_blanks &&
          total == want_total, "%d pages in the file, result %zu pages %zu blanks, expected %d and %d", total,
          res.pages, res.blank_pages, want_total, want_blanks);

    /* Each letter in turn: its part, its first page, its padding. */
    int at = 1, us_blank_at = 0, parts_even = 1, first_pages_same = 1, postcodes_seen = 1, blanks_blank = 1, blank_sizes = 1;
    for (size_t k = 0; k < N; k++) {
        const letter_case *c = &cases[order[k]];
        int own = npages(letters[order[k]].pdf_path), padded = own + own % 2;
        char part[600];
        snprintf(part, sizeof part, "%s/part-%zu.pdf", letters_dir, k);
        snprintf(cmd, sizeof cmd, "qpdf '%s' --pages '%s' %d-%d -- '%s' 2>&1", pile, pile, at, at + padded - 1, part);
        free(run(cmd, &st));
        int pn = npages(part);
        if (st != 0 || pn != padded || pn % 2) {
            printf("INFO %s: part of %d pages (own %d)\n", c->crime_ref, pn, own);
            parts_even = 0;
        }
        char *mine = page_text(letters[order[k]].pdf_path, 1), *in_pile = page_text(pile, at);
        if (strcmp(mine, in_pile) != 0 || only_space(mine)) {
            printf("INFO %s: first page in the pile differs from the letter's\n", c->crime_ref);
            first_pages_same = 0;
        }
        char upper[16];
        snprintf(upper, sizeof upper, "%s", c->postcode);
        for (char *u = upper; *u; u++)
            *u = (char)(*u >= 'a' && *u <= 'z' ? *u - 32 : *u);
        if (!strstr(in_pile, upper)) {
            printf("INFO %s: postcode %s not on its first page\n", c->crime_ref, upper);
            postcodes_seen = 0;
        }
        free(mine);
        free(in_pile);
        if (own % 2) {
            char *blank = page_text(pile, at + own);
            char last_box[128], blank_box[128];
            mediabox(letters[order[k]].pdf_path, own, last_box, sizeof last_box);
            mediabox(pile, at + own, blank_box, sizeof blank_box);
            blanks_blank = blanks_blank && only_space(blank);
            if (strcmp(last_box, blank_box) != 0 || strcmp(last_box, "none") == 0) {
                printf("INFO %s: blank page box %s, last page %s\n", c->crime_ref, blank_box, last_box);
                blank_sizes = 0;
            }
            free(blank);
            if (strcmp(c->crime_ref, "NC/2024/099002") == 0)
                us_blank_at = at + own;
        }
        at += padded;
    }
    CHECK("pile.each_letter_even_pages", parts_even, "see INFO");
    CHECK("pile.first_pages_are_the_letters", first_pages_same, "see INFO");
    CHECK("pile.postcode_on_each_first_page", postcodes_seen, "see INFO");
    CHECK("pile.padding_blank", blanks_blank, "a padding page has text");
    CHECK("pile.padding_size_of_last_page", blank_sizes, "see INFO");
    char us_box[128];
    mediabox(pile, us_blank_at, us_box, sizeof us_box); /* the blank after the letter whose last page is US Letter */
    CHECK("pile.us_letter_blank", us_blank_at && strstr(us_box, "612.00") && strstr(us_box, "792.00"), "%s", us_box);

    /* Determinism: the same letters, reversed, give the same bytes. */
    vip_postpile_letter reversed[N];
    for (size_t i = 0; i < N; i++)
        reversed[i] = letters[N - 1 - i];
    char again[600];
    snprintf(again, sizeof again, "%s/again.pdf", letters_dir);
    rc = vip_postpile_write(again, reversed, N, NULL, NULL, &err);
    size_t la = 0, lb = 0;
    char *a = slurp(pile, &la), *b = slurp(again, &lb);
    CHECK("pile.deterministic", rc == VIP_OK && a && b && la == lb && memcmp(a, b, la) == 0, "%zu vs %zu bytes (%s)",
          la, lb, rc == VIP_OK ? "" : err.message);
    free(b);

    /* Bad letters: an error naming the file; the existing pile untouched. */
    char notpdf[600], missing[600];
    snprintf(notpdf, sizeof notpdf, "%s/report.csv", letters_dir);
    snprintf(missing, sizeof missing, "%s/gone.pdf", letters_dir);
    vip_postpile_letter bad[2] = {letters[0], {notpdf, "AA1 1AA", "NC/1"}};
    rc = vip_postpile_write(pile, bad, 2, NULL, NULL, &err);
    CHECK("bad.not_a_pdf_named", rc != VIP_OK && strstr(err.message, notpdf), "%s", err.message);
    bad[1].pdf_path = missing;
    rc = vip_postpile_write(pile, bad, 2, NULL, NULL, &err);
    CHECK("bad.missing_named", rc != VIP_OK && strstr(err.message, missing), "%s", err.message);
    rc = vip_postpile_write(pile, bad, 0, NULL, NULL, &err);
    CHECK("bad.no_letters", rc != VIP_OK && strstr(err.message, "no letters"), "%s", err.message);
    b = slurp(pile, &lb);
    CHECK("bad.pile_untouched", a && b && la == lb && memcmp(a, b, la) == 0, "to-post.pdf changed");
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    (void)argc;
    char vipgen[1024], self[1024];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(vipgen, sizeof vipgen, "%s/../vipgen", dirname(self));
    snprintf(root, sizeof root, "/tmp/vipgen-postpile-XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_compare_postcodes();
    test_pile(vipgen);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("INFO could not remove %s\n", root);
    return CHECK_DONE();
}
