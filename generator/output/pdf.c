/* vip_pdf: the PDF backend (see pdf.h and shared/design/pdf-text.md).
 *
 * libharu is the container (document, pages, xref, deflate, info, outlines, links, images). Text does not go
 * through libharu's text API: each font becomes a Type0 font (Identity-H) built here with libharu's object API,
 * and the page content gets 2-byte glyph IDs written by us, positioned exactly where HarfBuzz put them.
 *
 * Rendering is two passes over the document:
 *   1. analysis: collect each font's used glyphs and derive its ToUnicode map from the HarfBuzz clusters
 *      (first come, first served, so the result is deterministic);
 *   2. drawing: write the content streams; a cluster whose text the final ToUnicode map cannot give back
 *      (Indic reordering, a glyph mapped differently elsewhere, ...) is wrapped, alone, in ActualText.
 * The font objects (subset, /W, descriptor, ToUnicode) are filled in last, just before saving. */
#include "pdf.h"
#include "version.h"

/* Without HPDF_SHARED, hpdf.h exposes libharu's structs (documents, dicts, page attributes), which the object
 * API below needs. Their layout is libharu 2.3's; the build checks the version (check_libharu.c). */
#include <hpdf.h>

#include <errno.h>
#include <fcntl.h>
#include <hb-subset.h>
#include <ctype.h>
#include <hb.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "outfile.h"

#include <unicode/uchar.h>

#if HPDF_VERSION_ID < 20300 || HPDF_VERSION_ID >= 20400
#error "pdf.c relies on libharu 2.3's struct layouts"
#endif

/* ------------------------------------------------------------------------------------------------------------ */
/* Small growable arrays and a byte buffer.                                                                      */

/* Makes room for n items; returns 0 on success, -1 when out of memory (the array is then unchanged). */
static int reserve(void *items, size_t *cap, size_t n, size_t size)
{
    void **p = items;
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n) {
        if (c > SIZE_MAX / 2 / size)
            return -1;
        c *= 2;
    }
    void *q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* A byte buffer whose failure is sticky, so that writers need not check every append: check `failed` once. */
typedef struct sbuf {
    char *data;
    size_t len, cap;
    int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed || reserve(&b->data, &b->cap, b->len + n + 1, 1)) {
        b->failed = 1;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_char(sbuf *b, char ch)
{
    sb_put(b, &ch, 1);
}

static void sb_hex(sbuf *b, unsigned v, int digits)
{
    static const char hex[] = "0123456789ABCDEF";
    char tmp[8];
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        tmp[i] = hex[v & 15];
    sb_put(b, tmp, (size_t)digits);
}

/* A fixed-point number q / 10^decimals, trailing zeros trimmed. Written by hand: printf's %f follows the C
 * locale's decimal separator, and PDF needs a point. */
static void sb_fixed(sbuf *b, long long q, int decimals)
{
    char tmp[40], *p = tmp + sizeof tmp;
    unsigned long long u = q < 0 ? 0ULL - (unsigned long long)q : (unsigned long long)q;
    int frac = 0;
    for (int i = 0; i < decimals; i++, u /= 10) {
        unsigned d = (unsigned)(u % 10);
        if (d || frac) {
            *--p = (char)('0' + d);
            frac = 1;
        }
    }
    if (frac)
        *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (q < 0)
        *--p = '-';
    sb_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

static long long quantize(double v, int decimals)
{
    static const double scale[] = {1, 10, 100, 1000, 10000};
    double s = isfinite(v) ? v * scale[decimals] : 0;
    if (s > 1e15)
        s = 1e15;
    if (s < -1e15)
        s = -1e15;
    return llround(s);
}

static void sb_num(sbuf *b, double v, int decimals)
{
    sb_fixed(b, quantize(v, decimals), decimals);
}

/* Writes numbers separated by spaces (3 decimals): the operands of one operator. */
static void sb_numbers(sbuf *b, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_char(b, ' ');
        sb_num(b, v[i], 3);
    }
}

/* Writes "r g b" with components in 0..1. */
static void sb_rgb(sbuf *b, uint32_t color)
{
    for (int shift = 16; shift >= 0; shift -= 8) {
        sb_fixed(b, llround(((color >> shift) & 255) / 255.0 * 1000), 3);
        sb_char(b, ' ');
    }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Unicode.                                                                                                      */

/* Decodes one UTF-8 character; malformed input becomes U+FFFD, one byte at a time. */
static uint32_t utf8_next(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    if (c < 0x80) {
        *pp = p;
        return c;
    }
    int n = c >= 0xC2 && c < 0xE0 ? 1 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xF0 && c < 0xF5 ? 3 : -1;
    if (n < 0 || end - p < n) {
        *pp = p;
        return 0xFFFD;
    }
    c &= 0x3F >> n;
    for (int i = 0; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *pp = p;
            return 0xFFFD;
        }
        c = c << 6 | (p[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    *pp = p + n;
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c < 0xE000))
        return 0xFFFD;
    return c;
}

/* Appends a character as UTF-16BE hex digits (a surrogate pair above the BMP). */
static void sb_utf16(sbuf *b, uint32_t cp)
{
    if (cp >= 0x10000) {
        cp -= 0x10000;
        sb_hex(b, 0xD800 | (cp >> 10), 4);
        sb_hex(b, 0xDC00 | (cp & 0x3FF), 4);
    } else {
        sb_hex(b, cp, 4);
    }
}

/* One code point as UTF-16BE bytes. */
static void sb_utf16be_cp(sbuf *b, uint32_t cp)
{
    uint16_t u[2];
    int n = 1;
    if (cp >= 0x10000) {
        u[0] = (uint16_t)(0xD800 | ((cp - 0x10000) >> 10));
        u[1] = (uint16_t)(0xDC00 | ((cp - 0x10000) & 0x3FF));
        n = 2;
    } else {
        u[0] = (uint16_t)cp;
    }
    for (int i = 0; i < n; i++) {
        char be[2] = {(char)(u[i] >> 8), (char)(u[i] & 0xFF)};
        sb_put(b, be, 2);
    }
}

/* UTF-8 to UTF-16BE bytes with a byte-order mark: how PDF text strings hold non-Latin text. */
static void sb_utf16be_bytes(sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    sb_put(b, "\xFE\xFF", 2);
    while (p < end)
        sb_utf16be_cp(b, utf8_next(&p, end));
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Per-font state: the used glyphs (an open-addressing hash keyed by GID) and the codes the content draws them   */
/* with. A code is a CID with its own ToUnicode text. In a TrueType (glyf) font one glyph may have several codes:  */
/* a glyph drawn in clusters with different text (a Nastaliq body shared by several letters, a glyph that carries */
/* a ligature's text in one word and nothing in another) gets a code per text, all drawn as the same glyph through */
/* /CIDToGIDMap. A glyph that carries no text of its own (Nastaliq's dots, a mark whose text went to its base, the */
/* second glyph of a reordered matra) is drawn with a code whose text is U+200B, a format character pdf.js drops; */
/* poppler and PDFium keep it, so such glyphs are covered by ActualText where pdf.js does not suffer from it (see  */
/* write_run). In a CFF font (CID-keyed, CID = GID) each glyph has one code, its CID.                             */

#define NO_CODE UINT32_MAX

enum code_kind {
    CODE_PRIMARY, /* CID = GID */
    CODE_EXTRA,   /* a further text for the glyph: a CID after the font's used GIDs */
    CODE_NOTHING  /* no text of its own: U+200B, a CID after the font's used GIDs */
};

typedef struct code_entry {
    uint32_t gid, cid;  /* cid is final once assign_cids has run */
    uint32_t off, len;  /* ToUnicode string in the font's pool */
    uint32_t next;      /* the glyph's next code, or NO_CODE */
    enum code_kind kind;
} code_entry;

typedef struct glyph_entry {
    uint32_t key;      /* gid + 1; 0 marks an empty slot */
    int32_t width;     /* advance in 1/1000 em, as /W says */
    uint32_t first;    /* the glyph's first code, or NO_CODE */
} glyph_entry;

typedef struct pdf_font {
    const vip_font *font;
    HPDF_Dict type0;   /* indirect; referenced from content, filled in before saving */
    int per_use;       /* codes per use (glyf fonts, through /CIDToGIDMap); 0: CID = GID (CFF) */
    glyph_entry *slots;
    size_t cap, count; /* cap is a power of two */
    code_entry *codes;
    size_t code_count, code_cap;
    uint32_t max_cid;
    uint32_t *pool;    /* code points of the ToUnicode strings */
    size_t pool_len, pool_cap;
} pdf_font;

static size_t slot_of(const pdf_font *f, uint32_t gid)
{
    return (size_t)((gid * 2654435761u) & (uint32_t)(f->cap - 1));
}

static glyph_entry *glyph_find(const pdf_font *f, uint32_t gid)
{
    if (!f->cap)
        return NULL;
    for (size_t i = slot_of(f, gid);; i = (i + 1) & (f->cap - 1)) {
        if (f->slots[i].key == gid + 1)
            return &f->slots[i];
        if (!f->slots[i].key)
            return NULL;
    }
}

/* Finds or inserts gid; NULL when out of memory. Keeps the load under one half. */
static glyph_entry *glyph_add(pdf_font *f, uint32_t gid)
{
    glyph_entry *e = glyph_find(f, gid);
    if (e)
        return e;
    if ((f->count + 1) * 2 > f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 64;
        glyph_entry *ns = calloc(ncap, sizeof *ns), *old = f->slots;
        if (!ns)
            return NULL;
        size_t ocap = f->cap;
        f->slots = ns;
        f->cap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].key) {
                size_t j = slot_of(f, old[i].key - 1);
                while (ns[j].key)
                    j = (j + 1) & (ncap - 1);
                ns[j] = old[i];
            }
        free(old);
    }
    size_t i = slot_of(f, gid);
    while (f->slots[i].key)
        i = (i + 1) & (f->cap - 1);
    e = &f->slots[i];
    e->key = gid + 1;
    e->first = NO_CODE;
    const vip_font_metrics *m = vip_font_get_metrics(f->font);
    e->width = (int32_t)lround(vip_font_glyph_advance(f->font, gid) * 1000.0 / (m->upem ? m->upem : 1000));
    f->count++;
    return e;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* The render context.                                                                                           */

typedef struct pdf_image {
    const char *path;
    HPDF_Image image;
} pdf_image;

typedef struct ctx {
    const vip_page_doc *doc;
    vip_error *err; /* never NULL: failures deep down return NULL and leave their code here */
    HPDF_Doc pdf;
    HPDF_STATUS hpdf_error, hpdf_detail; /* the first error libharu reported */
    pdf_font *fonts;
    size_t font_count, font_cap;
    pdf_image *images;
    size_t image_count, image_cap;
    HPDF_Page *pages;
    sbuf out;   /* content of the current page; later the ToUnicode CMaps */
    sbuf bytes; /* binary scratch (UTF-16 titles) */
    /* Scratch for one run or cluster, reused to avoid allocations per glyph. */
    uint32_t *uniq; size_t uniq_cap;     /* the run's distinct cluster values, sorted */
    unsigned char *seen; size_t seen_cap;
    uint32_t *cps; size_t cps_cap;       /* one cluster's characters */
    uint32_t *nominal; size_t nominal_cap;
    uint32_t *strs; size_t strs_cap;     /* per glyph of a cluster: own char index or ~0; or its text's length */
    uint32_t *starts; size_t starts_cap; /* per glyph of a cluster: where its text starts */
    uint32_t *txt; size_t txt_cap;       /* one glyph's text */
    uint32_t *uses; size_t uses_cap;     /* the code of every glyph drawn, in drawing order (pass 1 to pass 2) */
    size_t use_count, use_pos;
    uint64_t *order; size_t order_cap;   /* a font's codes sorted by CID */
    uint32_t *gids; size_t gids_cap;     /* a font's sorted glyph set */
    int32_t *widths; size_t widths_cap;
    int in_line_span;                    /* marked-content spans open around a line (poppler's, PDFium's) */
    int line_span_marked;                /* the line's outer span is its runs' marked-content sequence */
    uint32_t *line_text; size_t line_text_cap; /* a line's text in logical order, then as PDFium is to read it */
    uint32_t *line_seen; size_t line_seen_cap; /* the same text as the glyphs give it to PDFium */
    /* Where pdf.js's text extraction stands on the page (see pdfjs_kind): the end of the last glyph it checked
     * the gap after, as it places it (x, and y with the rise), and where that glyph and the marks drawn after it
     * really end. */
    int pdfjs_prev;
    double pdfjs_prev_x, pdfjs_prev_y, pdfjs_ink_end;
    /* Tagged PDF (when layout made a structure tree): every marked-content sequence drawn and every annotation
     * of a Link element, for the structure tree and its parent tree (write_structure). */
    int tagged;
    const vip_page_item *mark_item; /* the item being drawn */
    size_t mark_page;
    int mcid, mark_open;            /* the page's next MCID; whether the item's marked content is open */
    struct pdf_mark {
        size_t element, page;
        int mcid;             /* -1: an annotation */
        uint64_t order;       /* the place in the reading order of its first item */
        const char *lang;     /* its runs' language */
        HPDF_Dict annot;
    } *marks;
    size_t mark_count, mark_cap, annot_count;
    size_t span_element;      /* a line span being opened: its element, when not its first run's (0: that one's) */
    /* A line whose PDFium text is a property list of the page's (/Properties /PFn), so that each run of the line
     * can be a marked-content sequence of its own, in the structure tree in reading order (see open_line_span):
     * the line's property (its index + 1; 0: none), the item it ends before, and the page's properties, their
     * ActualText strings one after another in props (UTF-16BE), each ending at prop_ends[i]. */
    size_t line_prop, line_prop_end;
    sbuf props;
    size_t *prop_ends; size_t prop_count, prop_cap;
} ctx;

static void hpdf_on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
    ctx *c = user;
    if (!c->hpdf_error) { /* the first error is the cause; later ones are consequences */
        c->hpdf_error = error_no;
        c->hpdf_detail = detail_no;
    }
}

static int nomem(ctx *c)
{
    return vip_error_set(c->err, VIP_ERR_NOMEM, "pdf: out of memory");
}

/* Reports a failed libharu call, with libharu's error code (see hpdf_error.h). */
static int hpdf_fail(ctx *c, const char *what)
{
    HPDF_STATUS e = c->hpdf_error ? c->hpdf_error : HPDF_GetError(c->pdf);
    HPDF_STATUS d = c->hpdf_error ? c->hpdf_detail : HPDF_GetErrorDetail(c->pdf);
    if (e == HPDF_FAILD_TO_ALLOC_MEM)
        return nomem(c);
    return vip_error_set(c->err, VIP_ERR_INTERNAL, "pdf: %s failed (libharu error 0x%04X, detail %u)", what,
                         (unsigned)e, (unsigned)d);
}

static pdf_font *font_state(ctx *c, const vip_font *font)
{
    for (size_t i = c->font_count; i-- > 0;)
        if (c->fonts[i].font == font)
            return &c->fonts[i];
    if (reserve(&c->fonts, &c->font_cap, c->font_count + 1, sizeof *c->fonts)) {
        nomem(c);
        return NULL;
    }
    pdf_font *f = &c->fonts[c->font_count];
    memset(f, 0, sizeof *f);
    f->font = font;
    f->per_use = !vip_font_is_cff(font);
    /* The Type0 dict exists from the start so pages can refer to it; its contents come at the end. */
    f->type0 = HPDF_Dict_New(c->pdf->mmgr);
    if (!f->type0 || HPDF_Xref_Add(c->pdf->xref, f->type0) != HPDF_OK) {
        hpdf_fail(c, "creating a font object");
        return NULL;
    }
    c->font_count++;
    /* Glyph 0 (.notdef) is always in a subset. */
    if (!glyph_add(f, 0)) {
        nomem(c);
        return NULL;
    }
    return f;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Clusters. A glyph's cluster is [glyph.cluster, the next larger cluster value of the run or text_end) of      */
/* run.text. A cluster is handled as a group of consecutive glyphs (HarfBuzz keeps a cluster's glyphs together).  */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts the run's distinct cluster values into c->uniq; returns their number, or -1 when out of memory. */
static long run_clusters(ctx *c, const vip_page_run *run)
{
    size_t n = run->glyph_count;
    if (reserve(&c->uniq, &c->uniq_cap, n, sizeof *c->uniq) || reserve(&c->seen, &c->seen_cap, n, 1))
        return -1;
    /* Clusters come in visual order: rising in LTR runs, falling in RTL ones; only reordered text needs a sort. */
    int rising = 1, falling = 1;
    for (size_t i = 1; i < n; i++) {
        rising &= run->glyphs[i - 1].cluster <= run->glyphs[i].cluster;
        falling &= run->glyphs[i - 1].cluster >= run->glyphs[i].cluster;
    }
    for (size_t i = 0; i < n; i++)
        c->uniq[i] = run->glyphs[falling && !rising ? n - 1 - i : i].cluster;
    if (!rising && !falling)
        qsort(c->uniq, n, sizeof *c->uniq, cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || c->uniq[u - 1] != c->uniq[i])
            c->uniq[u++] = c->uniq[i];
    memset(c->seen, 0, u);
    return (long)u;
}

/* Characters that steer bidi or line breaking and are not text: isolates, embeddings, marks, the word joiner.
 * HarfBuzz drops their glyphs and merges their clusters into a neighbour's, so they would otherwise reach the
 * extracted text. Joiners that are part of a word (ZWJ, ZWNJ in Persian) stay. */
static int steers_only(uint32_t cp)
{
    return cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

/* The place of cluster value `cluster` among the run's distinct values c->uniq[0..nuniq) (sorted). */
static size_t cluster_slot(const ctx *c, size_t nuniq, uint32_t cluster)
{
    size_t lo = 0, hi = nuniq;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->uniq[mid] < cluster)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Decodes the text of the cluster that starts at value `cluster` into c->cps and returns the number of
 * characters (or -1 when out of memory). A cluster value met again in a later group gets no text: its
 * characters were already given to the first group. */
static long cluster_text(ctx *c, const vip_page_run *run, size_t nuniq, uint32_t cluster)
{
    size_t lo = cluster_slot(c, nuniq, cluster);
    if (c->seen[lo])
        return 0;
    c->seen[lo] = 1;
    uint32_t start = cluster, end = lo + 1 < nuniq ? c->uniq[lo + 1] : run->text_end;
    if (end > run->text_end)
        end = run->text_end;
    if (!run->text || start < run->text_start || start >= end)
        return 0;
    if (reserve(&c->cps, &c->cps_cap, end - start, sizeof *c->cps))
        return -1;
    const unsigned char *p = (const unsigned char *)run->text + start, *e = (const unsigned char *)run->text + end;
    long n = 0;
    while (p < e) {
        uint32_t cp = utf8_next(&p, e);
        if (!steers_only(cp))
            c->cps[n++] = cp;
    }
    return n;
}

/* A hyphenated line's hyphen is drawn after the line's last character, in that character's cluster (text.c), and
 * is no character of the paragraph. It is given the text "-": poppler and PDFium take a hyphen-minus that ends a
 * line after a letter for a word broken across the line and join the two halves, hyphen dropped. */
#define LINE_END_HYPHEN 0x002D

/* The text of the cluster glyphs[a..b) of a run, as cluster_text gives it, with the line-end hyphen if it is the
 * one drawn there; -1 when out of memory. */
static long drawn_cluster_text(ctx *c, const pdf_font *f, const vip_page_run *run, size_t nuniq, size_t a, size_t b)
{
    long ncp = cluster_text(c, run, nuniq, run->glyphs[a].cluster);
    if (ncp < 1 || run->rtl || b != run->glyph_count || b - a < 2)
        return ncp;
    uint32_t gid = run->glyphs[b - 1].gid, last = c->cps[ncp - 1];
    if ((gid != vip_font_nominal_glyph(f->font, 0x2010) && gid != vip_font_nominal_glyph(f->font, '-')) ||
        last == '-' || last == 0x2010 || last == 0x00AD)
        return ncp;
    if (reserve(&c->cps, &c->cps_cap, (size_t)ncp + 1, sizeof *c->cps))
        return -1;
    c->cps[ncp++] = LINE_END_HYPHEN;
    return ncp;
}

/* Appends a text to the font's pool; returns its offset, or UINT32_MAX when out of memory. */
static uint32_t pool_add(pdf_font *f, const uint32_t *t, size_t n)
{
    if (f->pool_len + n > UINT32_MAX / 2 || reserve(&f->pool, &f->pool_cap, f->pool_len + n + 1, sizeof *f->pool))
        return UINT32_MAX;
    uint32_t off = (uint32_t)f->pool_len;
    if (n)
        memcpy(f->pool + off, t, n * sizeof *t);
    f->pool_len += n;
    return off;
}

/* Adds a code for gid to the font's list; returns its index, or NO_CODE when out of memory. */
static uint32_t code_new(pdf_font *f, uint32_t gid, enum code_kind kind, const uint32_t *t, size_t n)
{
    glyph_entry *e = glyph_add(f, gid);
    uint32_t off = e ? pool_add(f, t, n) : UINT32_MAX;
    if (off == UINT32_MAX || f->code_count >= NO_CODE - 1 ||
        reserve(&f->codes, &f->code_cap, f->code_count + 1, sizeof *f->codes))
        return NO_CODE;
    uint32_t index = (uint32_t)f->code_count++;
    f->codes[index] = (code_entry){gid, kind == CODE_PRIMARY ? gid : 0, off, (uint32_t)n, NO_CODE, kind};
    /* Appended at the end of the glyph's list: the first code stays the first text the document gave it. */
    uint32_t *link = &e->first;
    while (*link != NO_CODE)
        link = &f->codes[*link].next;
    *link = index;
    return index;
}

/* The code drawing gid with text t[0..n) (n 0: no text), created at its first use; NO_CODE when out of memory. */
static uint32_t code_for(pdf_font *f, uint32_t gid, const uint32_t *t, size_t n)
{
    const glyph_entry *e = glyph_find(f, gid);
    int has_primary = 0;
    for (uint32_t k = e ? e->first : NO_CODE; k != NO_CODE; k = f->codes[k].next) {
        const code_entry *x = &f->codes[k];
        if (x->len == n && (n ? memcmp(f->pool + x->off, t, n * sizeof *t) == 0 : x->kind == CODE_NOTHING))
            return k;
        has_primary |= x->kind == CODE_PRIMARY;
    }
    return code_new(f, gid, !n ? CODE_NOTHING : has_primary ? CODE_EXTRA : CODE_PRIMARY, t, n);
}

/* Joiners are text inside a word (Persian's ZWNJ, a ZWJ) that have no glyph of their own worth the name. */
static int is_joiner(uint32_t cp)
{
    return cp == 0x200C || cp == 0x200D;
}

/* Appends a code to the document's list of glyph uses (read back in the same order by pass 2). */
static int use_code(ctx *c, uint32_t code)
{
    if (code == NO_CODE || reserve(&c->uses, &c->uses_cap, c->use_count + 1, sizeof *c->uses))
        return nomem(c);
    c->uses[c->use_count++] = code;
    return VIP_OK;
}

/* Pass 1 for one cluster in a font with a code per use: glyphs[0..count) in visual order (reversed for RTL).
 * Walking the glyphs in logical order, a glyph that is the font's nominal glyph for one of the cluster's
 * characters not yet given out takes it, with the characters before it that no glyph took (so that the texts,
 * in logical order, are the cluster's text, whatever the glyph order: a reordered matra takes its consonant too),
 * and the joiners after it; but when a glyph before it took nothing (a contextual form, a conjunct's half), those
 * characters are that glyph's. What is left goes to such a glyph after the last match, else to the last glyph
 * that took text, else to the first glyph with an advance. In right-to-left runs, marks and glyphs off the
 * baseline take nothing: the engines read a glyph on another baseline as another line, and a mark drawn before
 * its base in content order as a letter of its own, so the base carries the mark's text. Glyphs without text get
 * a code with none. In RTL runs a glyph's text is written reversed: the three engines reverse the characters of a
 * right-to-left word as they read it, a glyph's several characters included (this is what gave "اهلل" for الله).
 * A joiner thus never ends a glyph's text, where pdf.js would take the glyph for an invisible format character and
 * drop it. */
static int map_cluster_per_use(ctx *c, pdf_font *f, const vip_page_glyph *glyphs, size_t count, int rtl,
                               size_t ncp, int match)
{
    size_t pos = 0, last = SIZE_MAX, pending = SIZE_MAX;
    for (size_t k = 0; k < count; k++) {
        const vip_page_glyph *g = &glyphs[rtl ? count - 1 - k : k];
        uint32_t gid = g->gid;
        c->starts[k] = (uint32_t)pos;
        c->strs[k] = 0;
        if (rtl && (quantize(g->y, 3) != 0 || g->advance == 0))
            continue;
        for (size_t m = pos; match && gid && m < ncp; m++)
            if (c->nominal[m] == gid) {
                if (pending != SIZE_MAX && m > pos) {
                    /* A glyph before it took no character of its own (a contextual form, a conjunct's
                     * half): the characters in between are that glyph's. */
                    c->starts[pending] = (uint32_t)pos;
                    c->strs[pending] = (uint32_t)(m - pos);
                    last = pending;
                    pos = m;
                }
                c->starts[k] = (uint32_t)pos;
                c->strs[k] = (uint32_t)(m + 1 - pos);
                pos = m + 1;
                break;
            }
        if (!c->strs[k] && pending == SIZE_MAX)
            pending = k;
        if (c->strs[k]) {
            pending = SIZE_MAX;
            for (; pos < ncp && is_joiner(c->cps[pos]); pos++)
                c->strs[k]++;
            last = k;
        }
    }
    if (pos < ncp) {
        if (pending != SIZE_MAX) {
            /* The last characters belong to a glyph after the last one matched (a ligature of marks). */
            last = pending;
            c->starts[last] = (uint32_t)pos;
        } else if (last == SIZE_MAX) {
            last = 0;
            for (size_t k = 0; k < count; k++)
                if (glyphs[rtl ? count - 1 - k : k].advance > 0) {
                    last = k;
                    break;
                }
            c->starts[last] = (uint32_t)pos;
        }
        c->strs[last] += (uint32_t)(ncp - pos);
    }
    for (size_t i = 0; i < count; i++) {
        size_t k = rtl ? count - 1 - i : i, n = c->strs[k];
        const uint32_t *t = c->cps + c->starts[k];
        for (size_t j = 0; j < n; j++)
            c->txt[j] = t[rtl ? n - 1 - j : j];
        int rc = use_code(c, code_for(f, glyphs[i].gid, c->txt, n));
        if (rc)
            return rc;
    }
    return VIP_OK;
}

/* Pass 1 for one cluster: glyphs[0..count) in visual order (reversed for RTL). In a CFF font a glyph has one
 * code: a glyph that is the font's nominal glyph for one of the cluster's characters maps to it; the characters
 * left over go, in logical order, to the first glyph without a character; a glyph keeps the first mapping the
 * document gave it, and pass 2 gives a cluster those mappings cannot spell its text as ActualText. */
static int map_cluster(ctx *c, pdf_font *f, const vip_page_glyph *glyphs, size_t count, int rtl, size_t ncp)
{
    if (reserve(&c->nominal, &c->nominal_cap, ncp + 1, sizeof *c->nominal) ||
        reserve(&c->strs, &c->strs_cap, count + 1, sizeof *c->strs) ||
        reserve(&c->starts, &c->starts_cap, count + 1, sizeof *c->starts) ||
        reserve(&c->txt, &c->txt_cap, ncp + 1, sizeof *c->txt))
        return nomem(c);
    /* Nominal matching is quadratic in the cluster's size; a pathological cluster skips it. */
    int match = (uint64_t)count * ncp <= 4096;
    for (size_t m = 0; m < ncp; m++)
        c->nominal[m] = match && !is_joiner(c->cps[m]) ? vip_font_nominal_glyph(f->font, c->cps[m]) : 0;
    if (f->per_use)
        return map_cluster_per_use(c, f, glyphs, count, rtl, ncp, match);
    size_t first_free = count;
    for (size_t k = 0; k < count; k++) {
        uint32_t gid = glyphs[rtl ? count - 1 - k : k].gid;
        c->strs[k] = UINT32_MAX;
        for (size_t m = 0; gid && m < ncp; m++)
            if (c->nominal[m] == gid) {
                c->nominal[m] = 0; /* claimed */
                c->strs[k] = (uint32_t)m;
                break;
            }
        if (c->strs[k] == UINT32_MAX && first_free == count)
            first_free = k;
    }
    for (size_t i = 0; i < count; i++) {
        size_t k = rtl ? count - 1 - i : i;
        uint32_t gid = glyphs[i].gid;
        const glyph_entry *e = glyph_find(f, gid);
        uint32_t code = e && e->first != NO_CODE ? e->first : code_new(f, gid, CODE_PRIMARY, NULL, 0);
        int rc = use_code(c, code);
        if (rc)
            return rc;
        code_entry *x = &f->codes[code];
        if (x->len)
            continue;
        size_t n = 0;
        if (c->strs[k] != UINT32_MAX) {
            c->txt[n++] = c->cps[c->strs[k]];
        } else if (k == first_free) {
            for (size_t m = 0; m < ncp; m++) {
                int claimed = 0;
                for (size_t j = 0; match && j < count && !claimed; j++)
                    claimed = c->strs[j] == m;
                if (!claimed)
                    c->txt[n++] = c->cps[m];
            }
        }
        uint32_t off = pool_add(f, c->txt, n);
        if (off == UINT32_MAX)
            return nomem(c);
        x = &f->codes[code];
        x->off = off;
        x->len = (uint32_t)n;
    }
    return VIP_OK;
}

/* Whether a cluster has a glyph drawn with a code without text (poppler would extract its U+200B). */
static int cluster_has_textless(const pdf_font *f, const uint32_t *codes, size_t count)
{
    for (size_t i = 0; f->per_use && i < count; i++)
        if (f->codes[codes[i]].kind == CODE_NOTHING)
            return 1;
    return 0;
}

/* Pass 2 for one cluster, drawn with codes[0..count) in visual order: does extraction through the final
 * ToUnicode maps give its text back? Always, by construction, in a font with a code per use. */
static int cluster_extracts(ctx *c, const pdf_font *f, const uint32_t *codes, size_t count, int rtl, size_t ncp)
{
    if (f->per_use)
        return 1;
    size_t pos = 0;
    for (size_t k = 0; k < count; k++) {
        const code_entry *e = &f->codes[codes[rtl ? count - 1 - k : k]];
        /* A code with no text (e->len 0) may sit in an empty pool: memcmp must not see its NULL. */
        if (e->len > ncp - pos || (e->len && memcmp(f->pool + e->off, c->cps + pos, e->len * sizeof *c->cps) != 0))
            return 0;
        pos += e->len;
    }
    return pos == ncp;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Validation and pass 1.                                                                                        */

static int check_run(ctx *c, const vip_page_run *run, size_t page)
{
    if (!run->font)
        return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: page %zu: a text run has no font", page + 1);
    if (!(run->size > 0 && run->size < 10000) || !isfinite(run->x) || !isfinite(run->y))
        return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: page %zu: a text run has an invalid size or position",
                             page + 1);
    if (run->glyph_count && !run->glyphs)
        return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: page %zu: a text run has no glyph array", page + 1);
    for (size_t i = 0; i < run->glyph_count; i++) {
        const vip_page_glyph *g = &run->glyphs[i];
        if (g->gid > 0xFFFF)
            return vip_error_set(c->err, VIP_ERR_INPUT,
                                 "pdf: page %zu: glyph %u of font '%s' does not fit a 2-byte code", page + 1,
                                 (unsigned)g->gid, vip_font_name(run->font));
        if (!isfinite(g->x) || !isfinite(g->y))
            return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: page %zu: a glyph has an invalid position", page + 1);
    }
    return VIP_OK;
}

/* Right-to-left runs with raised glyphs (Nastaliq's cascade, marks set with a text rise) are mapped a word at a
 * time: the engines put a glyph on another baseline on another line, tearing the word apart. So each word's whole
 * text goes to one glyph on the baseline (its anchor), written reversed as the engines read right-to-left text,
 * and every other glyph of the word is drawn with a code without text. Words with digits keep the mapping per
 * cluster: the engines read digits left to right inside right-to-left text. */
static int run_by_words(const pdf_font *f, const vip_page_run *run)
{
    if (!f->per_use || !run->rtl)
        return 0;
    for (size_t i = 0; i < run->glyph_count; i++)
        if (quantize(run->glyphs[i].y, 3) != 0 && run->glyphs[i].advance > 0)
            return 1;
    return 0;
}

static int is_space_cp(uint32_t cp)
{
    return cp == 0x20 || cp == 0xA0 || cp == 0x202F || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x3000;
}

static int is_digit_cp(uint32_t cp)
{
    return (cp >= '0' && cp <= '9') || (cp >= 0x660 && cp <= 0x669) || (cp >= 0x6F0 && cp <= 0x6F9);
}

/* Forgets that the text of the cluster starting at `cluster` was handed out (see cluster_text). */
static void cluster_unsee(ctx *c, size_t nuniq, uint32_t cluster)
{
    size_t lo = cluster_slot(c, nuniq, cluster);
    if (lo < nuniq)
        c->seen[lo] = 0;
}

/* The end (exclusive) of the word that starts at glyph a of the run: its clusters up to a space. A space cluster
 * is a word of its own. */
static size_t word_end(ctx *c, const vip_page_run *run, size_t nuniq, size_t a, long *ncp_total, int *digits)
{
    size_t z = a;
    *ncp_total = 0;
    *digits = 0;
    while (z < run->glyph_count) {
        size_t b = z + 1;
        while (b < run->glyph_count && run->glyphs[b].cluster == run->glyphs[z].cluster)
            b++;
        long n = cluster_text(c, run, nuniq, run->glyphs[z].cluster);
        if (n < 0)
            return SIZE_MAX;
        int space = n > 0;
        for (long m = 0; m < n; m++)
            space &= is_space_cp(c->cps[m]);
        if (space && z > a) {
            cluster_unsee(c, nuniq, run->glyphs[z].cluster); /* the space is the next word's */
            break;
        }
        if (reserve(&c->txt, &c->txt_cap, (size_t)(*ncp_total + n) + 1, sizeof *c->txt))
            return SIZE_MAX;
        /* Content order is visual: each cluster reversed, one after another, is the word reversed. */
        for (long m = 0; m < n; m++) {
            c->txt[*ncp_total + m] = c->cps[n - 1 - m];
            *digits |= is_digit_cp(c->cps[m]);
        }
        *ncp_total += n;
        z = b;
        if (space)
            break;
    }
    return z;
}

/* The longest text one glyph code is given in a run mapped by words, in UTF-16 units: mupdf ignores longer ones. */
#define MAX_GLYPH_TEXT 8

/* Glyphs [a, z) of a run mapped by words, whose text is c->txt[off..) (units UTF-16 units, reversed): all of it
 * to one glyph on the baseline (else the first with an advance), none to the others. */
static int map_piece(ctx *c, pdf_font *f, const vip_page_run *run, size_t a, size_t z, size_t off, size_t units)
{
    size_t anchor = SIZE_MAX, n = 0;
    for (size_t u = 0; u < units; n++)
        u += c->txt[off + n] >= 0x10000 ? 2 : 1;
    for (size_t g = a; g < z && anchor == SIZE_MAX; g++)
        if (quantize(run->glyphs[g].y, 3) == 0 && run->glyphs[g].advance > 0)
            anchor = g;
    for (size_t g = a; g < z && anchor == SIZE_MAX; g++)
        if (run->glyphs[g].advance > 0)
            anchor = g;
    if (anchor == SIZE_MAX)
        anchor = a;
    for (size_t g = a; g < z; g++) {
        int rc = use_code(c, code_for(f, run->glyphs[g].gid, c->txt + off, g == anchor ? n : 0));
        if (rc)
            return rc;
    }
    return VIP_OK;
}

/* Pass 1 for a run mapped by words (see run_by_words). */
static int map_run_words(ctx *c, pdf_font *f, const vip_page_run *run, size_t nuniq)
{
    for (size_t a = 0, z; a < run->glyph_count; a = z) {
        long n;
        int digits;
        z = word_end(c, run, nuniq, a, &n, &digits);
        if (z == SIZE_MAX)
            return nomem(c);
        if (digits || z - a == 1) {
            /* Cluster by cluster, as in other runs, reading the texts word_end handed out again. */
            for (size_t g = a; g < z; g++)
                cluster_unsee(c, nuniq, run->glyphs[g].cluster);
            for (size_t g = a, h; g < z; g = h) {
                for (h = g + 1; h < z && run->glyphs[h].cluster == run->glyphs[g].cluster; h++)
                    ;
                long ncp = cluster_text(c, run, nuniq, run->glyphs[g].cluster);
                if (ncp < 0)
                    return nomem(c);
                int rc = map_cluster(c, f, run->glyphs + g, h - g, run->rtl, (size_t)ncp);
                if (rc)
                    return rc;
            }
            continue;
        }
        /* Pieces of at most 8 UTF-16 units (mupdf ignores longer ToUnicode strings), cluster by cluster. */
        for (size_t g = a; g < z; g++)
            cluster_unsee(c, nuniq, run->glyphs[g].cluster);
        size_t pa = a, off = 0, units = 0;
        for (size_t g = a, h; g < z; g = h) {
            for (h = g + 1; h < z && run->glyphs[h].cluster == run->glyphs[g].cluster; h++)
                ;
            long ncp = cluster_text(c, run, nuniq, run->glyphs[g].cluster);
            if (ncp < 0)
                return nomem(c);
            size_t cu = 0;
            for (long m = 0; m < ncp; m++)
                cu += c->cps[m] >= 0x10000 ? 2 : 1;
            if (g > pa && units + cu > MAX_GLYPH_TEXT) {
                int rc = map_piece(c, f, run, pa, g, off, units);
                if (rc)
                    return rc;
                pa = g;
                off += units;
                units = 0;
            }
            units += cu;
            if (h == z) {
                int rc = map_piece(c, f, run, pa, z, off, units);
                if (rc)
                    return rc;
            }
        }
    }
    return VIP_OK;
}

static int analyse(ctx *c)
{
    const vip_page_doc *doc = c->doc;
    for (size_t p = 0; p < doc->page_count; p++) {
        const vip_page *page = &doc->pages[p];
        for (size_t i = 0; i < page->item_count; i++) {
            if (page->items[i].kind != VIP_PAGE_RUN)
                continue;
            const vip_page_run *run = &page->items[i].u.run;
            int rc = check_run(c, run, p);
            if (rc)
                return rc;
            if (!run->glyph_count)
                continue;
            pdf_font *f = font_state(c, run->font);
            if (!f)
                return c->err->code;
            long nuniq = run_clusters(c, run);
            if (nuniq < 0)
                return nomem(c);
            if (run_by_words(f, run)) {
                if ((rc = map_run_words(c, f, run, (size_t)nuniq)))
                    return rc;
                continue;
            }
            /* Joiners that begin a right-to-left cluster (Persian's ZWNJ, clustered with the letter after it)
             * are carried to the end of the cluster before it in logical order, the next one drawn: written
             * reversed, a glyph's text would otherwise end with the joiner, and pdf.js drops a glyph whose text
             * ends with a format character, letter and all. */
            uint32_t carry[4];
            size_t carried = 0;
            for (size_t a = 0, b; a < run->glyph_count; a = b) {
                for (b = a + 1; b < run->glyph_count && run->glyphs[b].cluster == run->glyphs[a].cluster; b++)
                    ;
                long ncp = drawn_cluster_text(c, f, run, (size_t)nuniq, a, b);
                if (ncp < 0 || reserve(&c->cps, &c->cps_cap, (size_t)ncp + carried + 1, sizeof *c->cps))
                    return nomem(c);
                for (size_t k = 0; k < carried; k++)
                    c->cps[ncp++] = carry[k];
                carried = 0;
                if (f->per_use && run->rtl && b < run->glyph_count) {
                    long lead = 0;
                    while (lead < ncp && lead < 4 && is_joiner(c->cps[lead]))
                        lead++;
                    if (lead && lead < ncp) {
                        memcpy(carry, c->cps, (size_t)lead * sizeof *carry);
                        carried = (size_t)lead;
                        memmove(c->cps, c->cps + lead, (size_t)(ncp - lead) * sizeof *c->cps);
                        ncp -= lead;
                    }
                }
                if ((rc = map_cluster(c, f, run->glyphs + a, b - a, run->rtl, (size_t)ncp)))
                    return rc;
            }
        }
    }
    return VIP_OK;
}

/* After pass 1: gives the codes of a font with a code per use their CIDs. Glyphs' first texts keep CID = GID;
 * further texts, and glyphs without text, get CIDs after the largest GID. A code without text maps to U+200B ZERO
 * WIDTH SPACE: an entry is needed (pdf.js and PDFium take an unmapped code for the character of that number), and
 * both drop that character from what they extract; poppler does not, so pass 2 gives such clusters ActualText. */
static int assign_cids(ctx *c, pdf_font *f)
{
    uint32_t next = 0;
    for (size_t i = 0; i < f->cap; i++)
        if (f->slots[i].key && f->slots[i].key - 1 > next)
            next = f->slots[i].key - 1;
    f->max_cid = next;
    for (size_t i = 0; i < f->code_count; i++) {
        code_entry *x = &f->codes[i];
        if (x->kind == CODE_PRIMARY)
            continue;
        if (x->kind == CODE_NOTHING) {
            static const uint32_t zero_width_space = 0x200B;
            uint32_t off = pool_add(f, &zero_width_space, 1);
            if (off == UINT32_MAX)
                return nomem(c);
            x = &f->codes[i];
            x->off = off;
            x->len = 1;
        }
        if (++next > 0xFFFF)
            return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: font '%s': more than 65536 glyph codes",
                                 vip_font_name(f->font));
        x->cid = next;
        f->max_cid = next;
    }
    return VIP_OK;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Pass 2: page content.                                                                                         */

/* Where the TJ writer stands: inside an array, inside a hex string, the pen and the text rise. */
typedef struct tj_state {
    int in_array, in_hex;
    double pen;  /* where the next glyph would land with no adjustment, in points from the run's origin */
    double rise; /* current Ts */
    /* pdf.js's text extraction: how far its pen is behind the real one (points), whether the array's last glyph
     * is one it skips (it then skips the TJ move after it too), and the word spacing (Tw) set for it. */
    double pdfjs_lag;
    int pdfjs_skipped;
    double word_spacing;
    /* The glyph before which pdf.js's lag is made up for the rest of the run (SIZE_MAX: none), see
     * pdfjs_make_up. */
    size_t pdfjs_make_up_at;
} tj_state;

static void tj_close(sbuf *b, tj_state *t)
{
    if (t->in_hex)
        sb_char(b, '>');
    if (t->in_array)
        sb_str(b, "] TJ\n");
    t->in_hex = t->in_array = 0;
    t->pdfjs_skipped = 0;
}

/* Moves the pen to x (points from the run's origin), from where /W left it: kerning, marks and justification make
 * the two differ. TJ numbers are in thousandths of an em and move left. */
static void tj_move_to(sbuf *b, tj_state *t, double x, double size)
{
    if (!t->in_array) {
        sb_char(b, '[');
        t->in_array = 1;
    }
    long long adj = quantize((t->pen - x) * 1000.0 / size, 2);
    if (!adj)
        return;
    if (t->in_hex)
        sb_char(b, '>');
    t->in_hex = 0;
    sb_char(b, ' ');
    sb_fixed(b, adj, 2);
    sb_char(b, ' ');
    t->pen -= adj / 100.0 * size / 1000.0;
    if (t->pdfjs_skipped) /* the move belongs to the glyph before, which pdf.js skips with it */
        t->pdfjs_lag -= adj / 100.0 * size / 1000.0;
    t->pdfjs_skipped = 0;
}

static void emit_glyph(sbuf *b, tj_state *t, const vip_page_glyph *g, uint32_t cid, int32_t width, double size)
{
    if (quantize(g->y, 3) != quantize(t->rise, 3)) {
        /* A vertical offset (Nastaliq's cascade, a raised mark) is a text rise around this glyph only. */
        tj_close(b, t);
        sb_num(b, g->y, 3);
        sb_str(b, " Ts\n");
        t->rise = g->y;
    }
    tj_move_to(b, t, g->x, size);
    if (!t->in_hex) {
        sb_char(b, '<');
        t->in_hex = 1;
    }
    sb_hex(b, cid, 4);
    t->pen += width * size / 1000.0;
}

/* Text extraction (poppler) places each glyph's text in the box its /W width gives, and starts a new word at a
 * gap. A mark drawn back over its base (a Gurmukhi tippi, a subscript ha) leaves such a gap inside a word
 * ("ਨੰ ਬਰ"): the cluster's glyphs do not abut as their boxes say. Such a cluster is given its text as ActualText,
 * whose box runs from its first glyph to its last glyph's end, and its last glyph ends where the cluster does
 * (char spacing, Tc, which extraction counts inside ActualText, instead of a TJ move it does not). */
static double cluster_box_gap(const pdf_font *f, const vip_page_run *run, size_t a, size_t z)
{
    /* Left to right only: poppler spreads a cluster's ActualText over its box from the left, so in right-to-left
     * text it reads an Arabic mark before its base letter (a wrong word, worse than a split one). */
    if (run->rtl || z - a < 2)
        return 0;
    double end = z < run->glyph_count ? run->glyphs[z].x : 0, worst = 0;
    for (size_t i = a; z == run->glyph_count && i < z; i++)
        end = fmax(end, run->glyphs[i].x + run->glyphs[i].advance);
    for (size_t i = a; i < z; i++) {
        double box_end = run->glyphs[i].x + glyph_find(f, run->glyphs[i].gid)->width * run->size / 1000.0;
        double next = i + 1 < z ? run->glyphs[i + 1].x : end;
        worst = fmax(worst, fabs(next - box_end));
    }
    return worst > 0.01 * run->size ? end : 0;
}

/* Right-to-left lines for poppler and PDFium. In a right-to-left run, glyphs without text (marks and glyphs off the
 * baseline, whose text went to their base, the glyphs of a word mapped by words) read as U+200B there, inside words,
 * and a glyph off the baseline as a line of its own. So a line with such a run gets the text of all its runs as
 * one ActualText span around them, in the order those engines read glyphs: left to right on the page, each
 * right-to-left run reversed. pdf.js reads no ActualText and drops U+200B; it ends a text item at every
 * marked-content operator, so the span wraps the whole line (a span around one run of a line would split the line
 * into items that pdf.js joins in drawing order, reordering it). */
#define LINE_SPAN_MAX_RUNS 64

/* Whether the run (its codes in uses) is right-to-left with a glyph without text or mapped by words. */
static int run_needs_span(const pdf_font *f, const vip_page_run *run, const uint32_t *uses)
{
    if (!f->per_use || !run->rtl || !run->glyph_count)
        return 0;
    if (run_by_words(f, run))
        return 1;
    for (size_t i = 0; i < run->glyph_count; i++)
        if (f->codes[uses[i]].kind == CODE_NOTHING)
            return 1;
    return 0;
}

/* Whether a left-to-right run holds an address, a reference or grouped digits: letters or digits on both sides of
 * '.', '/', '@' or ':' (victimsupport.org.uk, NC/2025/100001), digits a space apart. PDFium's own bidi reverses the pieces of such a text on a
 * right-to-left line ("uk.org.victimsupport"); read from the glyphs, with the line's right-to-left text torn onto
 * other lines, it comes back whole. Such a line keeps its glyphs' text in PDFium (and in poppler). */
static int run_has_address(const vip_page_run *run)
{
    if (run->rtl || !run->text)
        return 0;
    const unsigned char *t = (const unsigned char *)run->text;
    /* Numbers in groups (18001 101, 08 08 16 89 111): read from the span, poppler would reorder the groups. */
    for (uint32_t i = run->text_start; i < run->text_end; i++) {
        if (!isdigit(t[i]))
            continue;
        uint32_t k = i + 1;
        while (k < run->text_end && (t[k] == ' ' || (t[k] == 0xC2 && k + 1 < run->text_end && t[k + 1] == 0xA0)))
            k += t[k] == 0xC2 ? 2 : 1; /* a space or a no-break space */
        if (k > i + 1 && k < run->text_end && isdigit(t[k]))
            return 1;
    }
    for (uint32_t i = run->text_start + 1; i + 1 < run->text_end; i++)
        if (t[i] && strchr("./@:", t[i]) && (isalnum(t[i - 1]) || t[i - 1] >= 0x80) &&
            (isalnum(t[i + 1]) || t[i + 1] >= 0x80)) /* a word joiner may follow */
            return 1;
    return 0;
}

/* The visual extent of a run on the page, in points from the left. */
static void run_extent(const vip_page_run *run, double *left, double *right)
{
    *left = INFINITY;
    *right = -INFINITY;
    for (size_t i = 0; i < run->glyph_count; i++) {
        *left = fmin(*left, run->x + run->glyphs[i].x);
        *right = fmax(*right, run->x + run->glyphs[i].x + run->glyphs[i].advance);
    }
}

/* Appends the run's text as those engines read its glyphs (left to right; a right-to-left run reversed) to the
 * ActualText being written, and as UTF-16BE bytes to also when not NULL; *last is the last character written (0 at
 * the start). */
static int span_run_text(ctx *c, const vip_page_run *run, uint32_t *last, sbuf *also)
{
    long nuniq = run_clusters(c, run);
    if (nuniq < 0)
        return nomem(c);
    for (size_t a = 0, z; a < run->glyph_count; a = z) {
        for (z = a + 1; z < run->glyph_count && run->glyphs[z].cluster == run->glyphs[a].cluster; z++)
            ;
        long ncp = cluster_text(c, run, (size_t)nuniq, run->glyphs[a].cluster);
        if (ncp < 0)
            return nomem(c);
        for (long m = 0; m < ncp; m++) {
            uint32_t cp = c->cps[run->rtl ? ncp - 1 - m : m];
            sb_utf16(&c->out, cp);
            if (also)
                sb_utf16be_cp(also, cp);
            *last = cp;
        }
    }
    return VIP_OK;
}

/* What page furniture is: rules and rectangles are layout; runs and images say. */
static vip_page_artifact artifact_of(const vip_page_item *it)
{
    return it->kind == VIP_PAGE_RUN || it->kind == VIP_PAGE_IMAGE ? it->artifact : VIP_ARTIFACT_LAYOUT;
}

/* The start of an artifact's marked-content sequence, typed. */
static const char *artifact_open(const vip_page_item *it)
{
    static const char *const kinds[] = {
        [VIP_ARTIFACT_LAYOUT] = "/Artifact <</Type /Layout>> BDC\n",
        [VIP_ARTIFACT_HEADER] = "/Artifact <</Type /Pagination /Subtype /Header>> BDC\n",
        [VIP_ARTIFACT_FOOTER] = "/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n",
        [VIP_ARTIFACT_PAGINATION] = "/Artifact <</Type /Pagination>> BDC\n"};
    return kinds[artifact_of(it)];
}

/* The element a run's text is marked for in a line span: a link's text is its paragraph's there (PDFium reads a
 * line's ActualText only from a sequence holding no other, so a line that needs one cannot be cut at a link; the
 * Link element then holds its annotation alone). */
static size_t line_element(const vip_page_doc *doc, size_t tag)
{
    return tag && tag < doc->element_count && doc->elements[tag].role == VIP_ROLE_LINK ? doc->elements[tag].parent
                                                                                        : tag;
}

/* Whether two items go in one marked-content sequence of a line: the same structure element (a link's as its
 * paragraph's), and runs of one language (or furniture of one kind). */
static int same_mark(const vip_page_doc *doc, const vip_page_item *a, const vip_page_item *b)
{
    const char *la = a->kind == VIP_PAGE_RUN ? a->u.run.lang : NULL;
    const char *lb = b->kind == VIP_PAGE_RUN ? b->u.run.lang : NULL;
    return line_element(doc, a->tag) == line_element(doc, b->tag) &&
           (a->tag ? la == lb || (la && lb && strcmp(la, lb) == 0) : artifact_of(a) == artifact_of(b));
}

static int span_open(ctx *c, const char *tag);

/* Whether an item is page furniture in a tagged document. */
static int is_artifact(const ctx *c, const vip_page_item *it)
{
    return c->tagged && (!it->tag || it->tag >= c->doc->element_count);
}

/* PDFium's text extraction (CPDF_TextPage::CloseTempLine) has a bidi of its own, far from Unicode's. It takes a
 * line's characters left to right on the page and cuts them into segments of one direction class (CFX_BidiChar):
 * strong left (L), weak left (digits, number separators and terminators, marks, boundary neutrals: EN ES ET AN CS
 * NSM BN), right (R, AL) and neutral (spaces, punctuation). A line with at least as many right segments as strong
 * left ones is right to left: PDFium then reads its segments from the last to the first. A right segment, and a
 * neutral one while the last strong segment read was right, is read backwards with its characters mirrored; any
 * other segment forwards. So a left-to-right piece of several segments inside a right-to-left line comes back
 * with its segments reversed ("NC/2025/100001" as "/2025/100001NC", "0300 555 0148" as "0148 555 0300", a name
 * "Amira Haddad" as "Haddad Amira"), and brackets round a Latin word turn round. No order of glyphs that draws the
 * same page gives that back. But PDFium takes the ActualText of any marked-content tag, poppler only that of /Span
 * and pdf.js none: a line PDFium would read wrongly gets, in a /PDFiumText tag, its logical text arranged so that
 * PDFium's reading gives it back (pdfium_order). */
enum { PDFIUM_NEUTRAL, PDFIUM_LEFT, PDFIUM_WEAK, PDFIUM_RIGHT };

static int pdfium_class(uint32_t cp)
{
    switch (u_charDirection((UChar32)cp)) {
    case U_LEFT_TO_RIGHT:
        return PDFIUM_LEFT;
    case U_RIGHT_TO_LEFT:
    case U_RIGHT_TO_LEFT_ARABIC:
        return PDFIUM_RIGHT;
    case U_EUROPEAN_NUMBER:
    case U_EUROPEAN_NUMBER_SEPARATOR:
    case U_EUROPEAN_NUMBER_TERMINATOR:
    case U_ARABIC_NUMBER:
    case U_COMMON_NUMBER_SEPARATOR:
    case U_DIR_NON_SPACING_MARK:
    case U_BOUNDARY_NEUTRAL:
        return PDFIUM_WEAK;
    default:
        return PDFIUM_NEUTRAL;
    }
}

/* The end of the segment that starts at a. */
static size_t pdfium_segment_end(const uint32_t *t, size_t n, size_t a)
{
    int k = pdfium_class(t[a]);
    while (++a < n && pdfium_class(t[a]) == k)
        ;
    return a;
}

/* Puts t[a..b), a segment PDFium takes in the state *dir, at out: backwards and mirrored, or as it is. */
static void pdfium_segment(const uint32_t *t, size_t a, size_t b, int *dir, uint32_t *out)
{
    int k = pdfium_class(t[a]);
    if (k == PDFIUM_RIGHT || (k == PDFIUM_NEUTRAL && *dir == PDFIUM_RIGHT)) {
        *dir = PDFIUM_RIGHT;
        for (size_t m = b; m > a; m--)
            *out++ = (uint32_t)u_charMirror((UChar32)t[m - 1]);
        return;
    }
    if (k != PDFIUM_WEAK)
        *dir = PDFIUM_LEFT;
    memcpy(out, t + a, (b - a) * sizeof *t);
}

/* With inverse 0, the text PDFium reads from the characters t[0..n) of a line (rtl: a right-to-left line); with
 * inverse 1, the characters from which it reads the text t. Into out, n characters either way. Segments keep
 * their bounds when their order is turned round (neighbours are of different classes), so the one walk serves
 * both ways: PDFium takes the segments in logical order, the first of a right-to-left line at its end. */
static void pdfium_order(const uint32_t *t, size_t n, int rtl, int inverse, uint32_t *out)
{
    int dir = rtl ? PDFIUM_RIGHT : PDFIUM_LEFT;
    if (!rtl) {
        for (size_t a = 0, b; a < n; a = b) {
            b = pdfium_segment_end(t, n, a);
            pdfium_segment(t, a, b, &dir, out + a);
        }
    } else if (inverse) {
        for (size_t a = 0, b; a < n; a = b) {
            b = pdfium_segment_end(t, n, a);
            pdfium_segment(t, a, b, &dir, out + n - b);
        }
    } else {
        size_t o = 0;
        for (size_t b = n, a; b > 0; b = a) {
            int k = pdfium_class(t[b - 1]);
            for (a = b - 1; a > 0 && pdfium_class(t[a - 1]) == k; a--)
                ;
            pdfium_segment(t, a, b, &dir, out + o);
            o += b - a;
        }
    }
}

/* Adds the run's right and strong left segments (as PDFium counts them) to *right and *left. */
static void pdfium_count(const vip_page_run *run, size_t *right, size_t *left)
{
    if (!run->text || !run->glyph_count)
        return;
    const unsigned char *p = (const unsigned char *)run->text + run->text_start;
    const unsigned char *e = (const unsigned char *)run->text + run->text_end;
    int last = -1;
    while (p < e) {
        uint32_t cp = utf8_next(&p, e);
        int k = pdfium_class(cp);
        if (steers_only(cp) || k == last)
            continue;
        *right += k == PDFIUM_RIGHT;
        *left += k == PDFIUM_LEFT;
        last = k;
    }
}

/* Whether two texts are the same but for spaces at their ends and the length of runs of spaces (leading spaces
 * are none: both texts start at a glyph). */
static int same_words(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t i = 0, j = 0;
    while (na && is_space_cp(a[na - 1]))
        na--;
    while (nb && is_space_cp(b[nb - 1]))
        nb--;
    while (i < na && j < nb) {
        int sa = is_space_cp(a[i]), sb = is_space_cp(b[j]);
        if (sa != sb || (!sa && a[i] != b[j]))
            return 0;
        for (i++, j++; sa && i < na && is_space_cp(a[i]); i++)
            ;
        for (; sb && j < nb && is_space_cp(b[j]); j++)
            ;
    }
    return i == na && j == nb;
}

/* For the line of runs order[0..n) (left to right on the page; drawn from one paragraph): whether PDFium would
 * read it other than in logical order. If so, returns the number of characters of the text for its /PDFiumText
 * ActualText, left in c->line_text; 0 when the line needs none, -1 when out of memory. */
static long pdfium_line_text(ctx *c, const vip_page *page, const size_t *order, size_t n)
{
    const vip_page_run *first = &page->items[order[0]].u.run;
    uint32_t lo = UINT32_MAX, hi = 0;
    int any_rtl = 0;
    for (size_t k = 0; k < n; k++) {
        const vip_page_run *r = &page->items[order[k]].u.run;
        if (!r->text || r->text != first->text)
            return 0; /* text from several paragraphs (a list marker, a table cell) */
        lo = r->text_start < lo ? r->text_start : lo;
        hi = r->text_end > hi ? r->text_end : hi;
    }
    if (hi <= lo)
        return 0;
    /* Right to left as PDFium decides it, over the line it reads: the runs drawn one after the other on this
     * baseline (a table row's cells too; not the same baseline in another column, drawn at another time). */
    size_t right = 0, left = 0, from = order[0], to = order[0];
    for (size_t k = 0; k < n; k++) {
        from = order[k] < from ? order[k] : from;
        to = order[k] > to ? order[k] : to;
    }
    while (from > 0 && (page->items[from - 1].kind != VIP_PAGE_RUN ||
                        fabs(page->items[from - 1].u.run.y - first->y) < 0.5 * first->size))
        from--;
    while (to + 1 < page->item_count && (page->items[to + 1].kind != VIP_PAGE_RUN ||
                                         fabs(page->items[to + 1].u.run.y - first->y) < 0.5 * first->size))
        to++;
    for (size_t k = from; k <= to; k++)
        any_rtl |= page->items[k].kind == VIP_PAGE_RUN && page->items[k].u.run.rtl;
    if (!any_rtl)
        return 0; /* left to right, and read so */
    for (size_t k = from; k <= to; k++)
        if (page->items[k].kind == VIP_PAGE_RUN)
            pdfium_count(&page->items[k].u.run, &right, &left);
    int rtl = right > 0 && right >= left;
    /* The logical text: the paragraph's characters the line's runs span. */
    if (reserve(&c->line_text, &c->line_text_cap, 2 * ((size_t)(hi - lo) + 2) + 1, sizeof *c->line_text))
        return -1;
    uint32_t *logical = c->line_text, *read = c->line_text + (hi - lo) + 2;
    size_t nl = 0;
    int any_right = 0;
    const unsigned char *p = (const unsigned char *)first->text + lo, *e = (const unsigned char *)first->text + hi;
    while (p < e) {
        uint32_t cp = utf8_next(&p, e);
        if (!steers_only(cp)) {
            logical[nl++] = cp;
            any_right |= pdfium_class(cp) == PDFIUM_RIGHT;
        }
    }
    if (rtl && !any_right && nl) {
        /* Left-to-right text only (a table cell's reference, a phone number), in a right-to-left line: PDFium
         * may yet read it as a line of its own (after a raised mark it takes the next text for a new line),
         * which would be left to right and read the arrangement as it is. A right-to-left mark at either end
         * makes the text right to left on its own too (as it is in its paragraph), so either reading gives it
         * back. */
        memmove(logical + 1, logical, nl * sizeof *logical);
        logical[0] = logical[nl + 1] = 0x200F;
        nl += 2;
    }
    /* What PDFium reads now: the runs' glyph texts left to right, a space where runs stand apart. */
    size_t nv = 0;
    double prev_right = 0;
    for (size_t k = 0; k < n; k++) {
        const vip_page_run *r = &page->items[order[k]].u.run;
        double l, rt;
        run_extent(r, &l, &rt);
        if (k && (!nv || !is_space_cp(c->line_seen[nv - 1])) && l - prev_right > 0.15 * r->size) {
            if (reserve(&c->line_seen, &c->line_seen_cap, nv + 1, sizeof *c->line_seen))
                return -1;
            c->line_seen[nv++] = ' ';
        }
        prev_right = rt;
        long nuniq = run_clusters(c, r);
        if (nuniq < 0)
            return -1;
        for (size_t a = 0, z; a < r->glyph_count; a = z) {
            for (z = a + 1; z < r->glyph_count && r->glyphs[z].cluster == r->glyphs[a].cluster; z++)
                ;
            long ncp = cluster_text(c, r, (size_t)nuniq, r->glyphs[a].cluster);
            if (ncp < 0 || reserve(&c->line_seen, &c->line_seen_cap, nv + (size_t)ncp + 1, sizeof *c->line_seen))
                return -1;
            for (long m = 0; m < ncp; m++) {
                uint32_t cp = c->cps[r->rtl ? ncp - 1 - m : m];
                c->line_seen[nv++] = cp;
            }
        }
    }
    if (nv > (size_t)(hi - lo) + 2)
        return 0; /* more glyph text than the paragraph has: not a plain line of it */
    pdfium_order(c->line_seen, nv, rtl, 0, read);
    if (same_words(read, nv, logical, nl))
        return 0;
    pdfium_order(logical, nl, rtl, 1, read);
    memcpy(logical, read, nl * sizeof *logical);
    return (long)nl;
}

/* Opens a line's ActualText span as the marked-content sequence of the line's runs (see span_open). */
static int open_line_sequence(ctx *c, const char *tag)
{
    int rc = span_open(c, tag);
    c->span_element = 0;
    if (!rc)
        c->line_span_marked = c->tagged;
    return rc;
}

/* If the line that starts with item i (the consecutive runs on its baseline) needs a span, opens it and returns
 * the item that ends the line (exclusive); otherwise returns i. uses: the codes of item i's glyphs onwards. */
static size_t open_line_span(ctx *c, const vip_page *page, size_t i, const uint32_t *uses, size_t uses_left)
{
    const vip_page_run *first = &page->items[i].u.run;
    size_t order[LINE_SPAN_MAX_RUNS], n = 0, end = i, used = 0;
    int needed = 0;
    double group_left = INFINITY, group_right = -INFINITY;
    while (end < page->item_count && page->items[end].kind == VIP_PAGE_RUN && n < LINE_SPAN_MAX_RUNS) {
        const vip_page_run *r = &page->items[end].u.run;
        if (fabs(r->y - first->y) >= 0.5 * first->size || used + r->glyph_count > uses_left)
            break;
        if (!same_mark(c->doc, &page->items[end], &page->items[i])) /* a span is one marked-content sequence */
            break;
        if (r->glyph_count && r->font) {
            /* Runs that touch (or stand a space apart): a list marker, a table cell or another column is text of
             * its own, with its own place on the page. */
            double l, rt;
            run_extent(r, &l, &rt);
            if (n && (l > group_right + 0.5 * r->size || rt < group_left - 0.5 * r->size))
                break;
            group_left = fmin(group_left, l);
            group_right = fmax(group_right, rt);
            const pdf_font *f = NULL;
            for (size_t k = 0; k < c->font_count && !f; k++)
                if (c->fonts[k].font == r->font)
                    f = &c->fonts[k];
            needed |= f && run_needs_span(f, r, uses + used);
            order[n++] = end;
        }
        used += r->glyph_count;
        end++;
    }
    /* Any run on this baseline, wherever the page lists it. */
    for (size_t k = 0; needed > 0 && k < page->item_count; k++)
        if (page->items[k].kind == VIP_PAGE_RUN && fabs(page->items[k].u.run.y - first->y) < 0.5 * first->size &&
            run_has_address(&page->items[k].u.run))
            needed = 0;
    if (!n || (end < page->item_count && page->items[end].kind == VIP_PAGE_RUN && n == LINE_SPAN_MAX_RUNS))
        return i;
    /* Left to right on the page. */
    double left[LINE_SPAN_MAX_RUNS], right[LINE_SPAN_MAX_RUNS];
    for (size_t k = 0; k < n; k++)
        run_extent(&page->items[order[k]].u.run, &left[k], &right[k]);
    for (size_t k = 1; k < n; k++)
        for (size_t m = k; m > 0 && left[m] < left[m - 1]; m--) {
            size_t t = order[m];
            order[m] = order[m - 1];
            order[m - 1] = t;
            double l = left[m], r = right[m];
            left[m] = left[m - 1];
            right[m] = right[m - 1];
            left[m - 1] = l;
            right[m - 1] = r;
        }
    long pdfium = pdfium_line_text(c, page, order, n);
    if (pdfium < 0) {
        nomem(c);
        return SIZE_MAX;
    }
    if (needed <= 0 && !pdfium)
        return i;
    /* Tagged text (not furniture): each run marks its own sequence, in its own element and at its own place in
     * the reading order (a right-to-left line's runs are drawn left to right), inside poppler's span, which then
     * has no MCID of its own; innermost, the line's property list of the page's (/PDFiumText /PFn) with the text
     * PDFium is to read. PDFium reads the innermost property list's ActualText (ProcessMarkedContent), once for
     * the text objects whose innermost marks are the very same property list (PreMarkedContent in its
     * CPDF_TextPage): the same named resource is that, where inline dictionaries, one per run, would each be
     * read again. */
    int split = c->tagged && page->items[i].tag && page->items[i].tag < c->doc->element_count &&
                !is_artifact(c, &page->items[i]);
    if (!split)
        for (size_t k = i; k < end; k++)
            if (page->items[k].tag != page->items[i].tag)
                c->span_element = line_element(c->doc, page->items[i].tag);
    /* Furniture: its artifact holds the line's span, whose ActualText PDFium then reads as the innermost one (an
     * artifact's property list inside the span would be the innermost), and its runs mark nothing of their own. */
    if (is_artifact(c, &page->items[i])) {
        sb_str(&c->out, artifact_open(&page->items[i]));
        c->in_line_span++;
        c->line_span_marked = 1;
    }
    /* The line's property list's text: PDFium reads the innermost property list's ActualText, empty if it has none
     * (ProcessMarkedContent), so without a text of its own the line's property list repeats poppler's. */
    sbuf *prop = split && !pdfium ? &c->props : NULL;
    if (split)
        sb_put(&c->props, "\xFE\xFF", 2);
    if (needed > 0) {
        if (split)
            sb_str(&c->out, "/Span <</ActualText <FEFF");
        else if (open_line_sequence(c, "Span"))
            return SIZE_MAX;
        uint32_t last = 0;
        for (size_t k = 0; k < n; k++) {
            const vip_page_run *r = &page->items[order[k]].u.run;
            /* Runs set apart with no space character between them (the space dropped at a run's edge). */
            if (k && last != ' ' && left[k] - right[k - 1] > 0.15 * r->size) {
                sb_utf16(&c->out, ' ');
                if (prop)
                    sb_utf16be_cp(prop, ' ');
                last = ' ';
            }
            if (span_run_text(c, r, &last, prop))
                return SIZE_MAX;
        }
        sb_str(&c->out, ">>> BDC\n");
        c->in_line_span++;
    }
    if (split) {
        if (reserve(&c->prop_ends, &c->prop_cap, c->prop_count + 1, sizeof *c->prop_ends)) {
            nomem(c);
            return SIZE_MAX;
        }
        for (long k = 0; k < pdfium; k++)
            sb_utf16be_cp(&c->props, c->line_text[k]);
        if (c->props.failed) {
            nomem(c);
            return SIZE_MAX;
        }
        c->prop_ends[c->prop_count++] = c->props.len;
        c->line_prop = c->prop_count;
        c->line_prop_end = end;
    } else if (pdfium) {
        /* Inside poppler's span: PDFium takes the innermost ActualText. Alone, it is the line's marked-content
         * sequence: PDFium reads no ActualText from a sequence that holds others (poppler reads ActualText only on
         * /Span, so it reads the glyphs there). */
        if (needed > 0) {
            sb_str(&c->out, "/PDFiumText <</ActualText <FEFF");
        } else if (open_line_sequence(c, "PDFiumText")) {
            return SIZE_MAX;
        }
        for (long k = 0; k < pdfium; k++)
            sb_utf16(&c->out, c->line_text[k]);
        sb_str(&c->out, ">>> BDC\n");
        c->in_line_span++;
    }
    return end;
}

/* Marked content for the structure tree: a run's is inside its text object. An ActualText span is a sequence of
 * its own that carries both the ActualText and the MCID (or is an artifact): poppler ends an MCID's text at the
 * first EMC inside it, and PDFium takes the ActualText of the innermost sequence only. A line span is one, and so
 * holds runs of one element and language (see same_mark); a cluster's span interrupts its run's sequence. The
 * item being drawn is c->mark_item; see open_mark_properties. */
static int mark_resume(ctx *c);

static void mark_pause(ctx *c)
{
    for (; c->mark_open; c->mark_open--)
        sb_str(&c->out, "EMC\n");
}

/* Whether glyph z is the run's last and a space (its text nothing but spaces). */
static int ends_with_space(const vip_page_run *run, size_t z)
{
    if (z >= run->glyph_count || !run->text || run->glyphs[z].cluster >= run->text_end)
        return 0;
    if (z + 1 < run->glyph_count && run->glyphs[z + 1].cluster == run->glyphs[z].cluster)
        return 0;
    const unsigned char *p = (const unsigned char *)run->text + run->glyphs[z].cluster;
    const unsigned char *e = (const unsigned char *)run->text +
                             (z + 1 < run->glyph_count && run->glyphs[z + 1].cluster > run->glyphs[z].cluster
                                  ? run->glyphs[z + 1].cluster : run->text_end);
    while (p < e) {
        uint32_t cp = utf8_next(&p, e);
        if (!is_space_cp(cp) && !steers_only(cp))
            return 0;
    }
    return 1;
}

/* pdf.js's text extraction (getTextContent's buildTextContentItem and compareWithLastPosition in its worker) takes
 * each glyph by its ToUnicode text, as the first match of /^(\s)|(\p{Mn})|(\p{Cf})$/u says:
 *   - a space (the text starts with white space) moves its pen by the glyph's width, the char spacing and the word
 *     spacing (Tw) -- any space glyph, where viewers apply Tw to the one-byte code 32 only, which 2-byte codes never
 *     are: Tw moves pdf.js's reading pen and nothing drawn;
 *   - a mark (a nonspacing mark anywhere in the text: a Gurmukhi letter with nukta, an Arabic letter with tanween
 *     as one glyph) moves it by nothing of its width, and is not checked for a gap before it;
 *   - a skipped glyph (the text ends with a format character: U+200B, a glyph without text) moves it by nothing,
 *     nor by its char spacing or the TJ move after it;
 *   - any other glyph (ink) is checked for a gap: from where the last ink glyph ended to where its own pen stands;
 *     more than a tenth of an em is a space.
 * So a word whose first glyph is a mark comes back with the space before it repeated after it ("ਫ਼ ਰਵਰੀ",
 * "أيض اً"): the gap is measured only at the word's second glyph. write_run sets Tw before each space glyph so that
 * pdf.js's pen meets the next ink glyph as far from the last one as the glyphs really stand apart (the marks
 * between them counted at their width). */
enum pdfjs_kind { PDFJS_INK, PDFJS_SPACE, PDFJS_MARK, PDFJS_SKIPPED };

static int js_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

static enum pdfjs_kind pdfjs_kind_of(const pdf_font *f, uint32_t code)
{
    const code_entry *e = &f->codes[code];
    const uint32_t *t = f->pool + e->off;
    for (uint32_t i = 0; i < e->len; i++) {
        if (i == 0 && js_space(t[0]))
            return PDFJS_SPACE;
        int8_t type = u_charType((UChar32)t[i]);
        if (type == U_NON_SPACING_MARK)
            return PDFJS_MARK;
        if (type == U_FORMAT_CHAR && i + 1 == e->len)
            return PDFJS_SKIPPED;
    }
    return PDFJS_INK;
}

/* Where pdf.js's pen stands: whether an ink glyph was checked, where it ended as pdf.js places it (x, y), where it
 * and the marks after it really end, and how far pdf.js's pen is behind the real one in the run. */
typedef struct pdfjs_pen {
    int prev;
    double prev_x, prev_y, ink_end, lag;
} pdfjs_pen;

/* pdf.js's reading of the gap g (points) at an ink glyph after a space glyph, size the font size: none, the space
 * glyph's space undone (A, up to 0.03 em); a space of its own, a text item apart (B, to 0.102 em, or D, over 0.6 em:
 * in a right-to-left line such an item is put in drawing order, out of the line's logical order); a space inside
 * the item (C). A negative gap beyond -0.2 em starts a new item without a space. */
static char pdfjs_gap_class(double g, double size)
{
    return g <= 0.03 * size ? 'A' : g <= 0.102 * size ? 'B' : g <= 0.6 * size ? 'C' : 'D';
}

/* The word spacing for the space glyph i of the run, with pdf.js's pen behind by lag now and the word spacing set
 * now current. The spaces up to the next ink glyph G are to leave pdf.js's pen so that it reads one space: a gap
 * inside the item (C) as near as can be to the glyphs' own, or none (A) when a mark follows the spaces, as pdf.js
 * then puts the space glyph's space before the mark. current (no change, which would split the TJ) when that is
 * so already, or no ink glyph of the run follows on the line of the last one. */
static double pdfjs_word_spacing(const pdfjs_pen *p, const pdf_font *f, const vip_page_run *run, const uint32_t *codes,
                                 size_t i, double current, double baseline)
{
    if (!p->prev)
        return current;
    double behind = 0, ends = p->ink_end, lag = p->lag; /* what pdf.js's pen falls behind after the space, where glyphs end */
    size_t g = i, spaces = 0;
    int mark_first = 0;
    for (; g < run->glyph_count; g++) {
        enum pdfjs_kind k = pdfjs_kind_of(f, codes[g]);
        if (k == PDFJS_INK)
            break;
        if (k == PDFJS_SPACE) {
            spaces++;
            continue;
        }
        mark_first |= k == PDFJS_MARK; /* skipped glyphs (an Arabic mark without text) before it do not count */
        const vip_page_glyph *gl = &run->glyphs[g];
        double w = glyph_find(f, gl->gid)->width * run->size / 1000.0;
        ends = fmax(ends, run->x + gl->x + w);
        /* A skipped glyph loses the TJ move after it (written when the next glyph stands elsewhere). */
        int moved = g + 1 < run->glyph_count && quantize(gl->x + w - run->glyphs[g + 1].x, 3) != 0 &&
                    quantize(gl->y, 3) == quantize(run->glyphs[g + 1].y, 3);
        behind += k == PDFJS_MARK ? w : moved ? run->glyphs[g + 1].x - gl->x : w;
    }
    if (g == run->glyph_count || fabs(baseline + run->glyphs[g].y - p->prev_y) > 0.5 * run->size)
        return current;
    /* The gap pdf.js measures at G: where its pen puts G, from the end of the last ink glyph. */
    double at = run->x + run->glyphs[g].x - (lag + behind) - p->prev_x;
    double gap = at + spaces * current, want;
    if (mark_first) {
        if (pdfjs_gap_class(gap, run->size) == 'A')
            return current;
        want = 0;
    } else {
        if (pdfjs_gap_class(gap, run->size) == 'C')
            return current;
        want = fmin(fmax(run->x + run->glyphs[g].x - ends, 0.15 * run->size), 0.5 * run->size);
    }
    return (want - at) / (double)spaces;
}

/* Follows pdf.js's pen over the glyphs a..z-1 of the run, none of them a space, as emit_run_glyph draws them. */
static void pdfjs_walk(const pdf_font *f, const vip_page_run *run, const uint32_t *codes, size_t a, size_t z,
                       double baseline, pdfjs_pen *p)
{
    for (size_t k = a; k < z; k++) {
        const vip_page_glyph *gl = &run->glyphs[k];
        double w = glyph_find(f, gl->gid)->width * run->size / 1000.0, end = run->x + gl->x + w;
        enum pdfjs_kind kind = pdfjs_kind_of(f, codes[k]);
        if (kind == PDFJS_INK) {
            p->prev = 1;
            p->prev_x = end - p->lag;
            p->prev_y = baseline + gl->y;
            p->ink_end = end;
            continue;
        }
        int moved = kind == PDFJS_SKIPPED && k + 1 < run->glyph_count &&
                    quantize(gl->x + w - run->glyphs[k + 1].x, 3) != 0 &&
                    quantize(gl->y, 3) == quantize(run->glyphs[k + 1].y, 3);
        p->lag += moved ? run->glyphs[k + 1].x - gl->x : w;
        p->ink_end = fmax(p->ink_end, end);
    }
}

/* pdf.js's pen falls behind the real one by the width of every mark it passes (a Gurmukhi letter with nukta, a
 * vowel sign), and the next run on the line starts where it really stands: a run that ends in a word with no space
 * after it ("ਸਪੋਰਟਲਾਈਨ (" before "Supportline)") read as if a space followed. The lag is made up at the run's last
 * word gap, where pdf.js reads a space whatever the gap: returns the first glyph after the run's last space when
 * that glyph is ink, the run is left to right and does not end in a space, else SIZE_MAX. */
static size_t pdfjs_make_up_glyph(const pdf_font *f, const vip_page_run *run, const uint32_t *codes)
{
    if (run->rtl || !run->glyph_count || pdfjs_kind_of(f, codes[run->glyph_count - 1]) == PDFJS_SPACE)
        return SIZE_MAX;
    for (size_t i = run->glyph_count - 1; i > 0; i--)
        if (pdfjs_kind_of(f, codes[i - 1]) == PDFJS_SPACE)
            return pdfjs_kind_of(f, codes[i]) == PDFJS_INK ? i : SIZE_MAX;
    return SIZE_MAX;
}

/* Makes up, before glyph i (t->pdfjs_make_up_at), the lag pdf.js's pen will have at the run's last ink glyph, by
 * moving that pen alone: pdf.js's text extraction adds the char spacing (Tc) to a TJ number that opens an array
 * (buildTextContentItem with no characters), where drawing and other viewers' extraction move by the number only.
 * The number is the move to glyph i (a hundredth of a unit if there is none). */
static void pdfjs_make_up(ctx *c, tj_state *t, const pdf_font *f, const vip_page_run *run, const uint32_t *codes,
                          size_t i, double baseline)
{
    pdfjs_pen pen = {c->pdfjs_prev, c->pdfjs_prev_x, c->pdfjs_prev_y, c->pdfjs_ink_end, t->pdfjs_lag};
    pdfjs_walk(f, run, codes, i, run->glyph_count, baseline, &pen);
    long long lag = quantize(pen.lag, 4);
    if (llabs(lag) < quantize(0.03 * run->size, 4))
        return;
    sbuf *b = &c->out;
    tj_close(b, t);
    sb_fixed(b, lag, 4);
    sb_str(b, " Tc\n[");
    t->in_array = 1;
    long long adj = quantize((t->pen - run->glyphs[i].x) * 1000.0 / run->size, 2);
    if (!adj)
        adj = 1;
    sb_fixed(b, adj, 2);
    t->pen -= adj / 100.0 * run->size / 1000.0;
    tj_close(b, t);
    sb_str(b, "0 Tc\n");
    t->pdfjs_lag -= lag / 10000.0;
}

/* Draws glyph i of the run (emit_glyph), with the word spacing pdf.js is to read a space glyph with, and follows
 * where pdf.js's pen goes. tc: the glyph's char spacing in 1/10000 pt; baseline: the run's y on the page. */
static void emit_run_glyph(ctx *c, tj_state *t, const pdf_font *f, const vip_page_run *run, const uint32_t *codes,
                           size_t i, long long tc, double baseline)
{
    sbuf *b = &c->out;
    const vip_page_glyph *g = &run->glyphs[i];
    int32_t width = glyph_find(f, g->gid)->width;
    enum pdfjs_kind kind = pdfjs_kind_of(f, codes[i]);
    uint32_t cid = f->codes[codes[i]].cid;
    /* poppler's text extraction (TextPage::addChar) takes Tw off the width of a glyph of code 32, whatever the code's
     * length: no other glyph of that code is drawn with word spacing. */
    pdfjs_pen pen = {c->pdfjs_prev, c->pdfjs_prev_x, c->pdfjs_prev_y, c->pdfjs_ink_end, t->pdfjs_lag};
    double spacing = t->word_spacing;
    if (kind == PDFJS_SPACE && cid != 0x20) {
        spacing = pdfjs_word_spacing(&pen, f, run, codes, i, t->word_spacing, baseline);
        if (fabs(spacing - t->word_spacing) < 0.01 * run->size) /* set ahead (below), as near as matters */
            spacing = t->word_spacing;
    } else if (cid == 0x20) {
        spacing = 0;
    } else if (!t->in_array || quantize(g->y, 3) != quantize(t->rise, 3)) {
        /* The TJ breaks here anyway: the word spacing for the next space is set here rather than by a break of its
         * own just before it (a TJ of a lone space is a text object PDFium skips, and it orders a line's text
         * objects by place). */
        size_t j = i;
        int code32 = 0;
        for (; j < run->glyph_count && pdfjs_kind_of(f, codes[j]) != PDFJS_SPACE; j++)
            code32 |= f->codes[codes[j]].cid == 0x20;
        if (j < run->glyph_count && !code32 && f->codes[codes[j]].cid != 0x20) {
            pdfjs_walk(f, run, codes, i, j, baseline, &pen);
            spacing = pdfjs_word_spacing(&pen, f, run, codes, j, t->word_spacing, baseline);
        }
    }
    long long tw = quantize(spacing, 3);
    {
        if (tw != quantize(t->word_spacing, 3)) {
            tj_close(b, t);
            sb_fixed(b, tw, 3);
            sb_str(b, " Tw\n");
            t->word_spacing = tw / 1000.0;
        }
    }
    if (i == t->pdfjs_make_up_at && !tc) /* (a glyph with char spacing is a cluster's last, not a word's first) */
        pdfjs_make_up(c, t, f, run, codes, i, baseline);
    emit_glyph(b, t, g, cid, width, run->size);
    double w = width * run->size / 1000.0, end = run->x + t->pen;
    switch (kind) {
    case PDFJS_SPACE:
        t->pdfjs_lag -= t->word_spacing;
        break;
    case PDFJS_SKIPPED:
        t->pdfjs_lag += tc / 10000.0;
        t->pdfjs_skipped = 1;
        /* fall through */
    case PDFJS_MARK:
        t->pdfjs_lag += w;
        c->pdfjs_ink_end = fmax(c->pdfjs_ink_end, end);
        break;
    case PDFJS_INK:
        c->pdfjs_prev = 1;
        c->pdfjs_prev_x = end - t->pdfjs_lag;
        c->pdfjs_prev_y = baseline + g->y;
        c->pdfjs_ink_end = end;
        break;
    }
}

static int write_run(ctx *c, HPDF_Page hpage, const vip_page *page, const vip_page_run *run)
{
    if (!run->glyph_count)
        return VIP_OK;
    sbuf *b = &c->out;
    pdf_font *f = font_state(c, run->font);
    if (!f)
        return c->err->code;
    const char *name = HPDF_Page_GetLocalFontName(hpage, (HPDF_Font)f->type0);
    if (!name)
        return hpdf_fail(c, "adding a font to a page");
    sb_str(b, "q\n");
    if (run->color) {
        sb_rgb(b, run->color);
        sb_str(b, "rg\n");
    }
    sb_str(b, "BT\n/");
    sb_str(b, name);
    sb_char(b, ' ');
    sb_num(b, run->size, 3);
    sb_str(b, " Tf\n1 0 0 1 ");
    sb_num(b, run->x, 3);
    sb_char(b, ' ');
    sb_num(b, page->height - run->y, 3); /* page.h has y down from the top; PDF has y up from the bottom */
    sb_str(b, " Tm\n");
    if (mark_resume(c))
        return c->err->code;

    long nuniq = run_clusters(c, run);
    if (nuniq < 0)
        return nomem(c);
    if (c->use_pos + run->glyph_count > c->use_count)
        return vip_error_set(c->err, VIP_ERR_INTERNAL, "pdf: pass 2 met glyphs pass 1 did not");
    const uint32_t *codes = c->uses + c->use_pos;
    c->use_pos += run->glyph_count;
    tj_state t = {0, 0, 0.0, 0.0, 0.0, 0, 0.0, pdfjs_make_up_glyph(f, run, codes)};
    double baseline = page->height - run->y;
    int by_words = run_by_words(f, run);
    for (size_t a = 0, z; a < run->glyph_count; a = z) {
        for (z = a + 1; z < run->glyph_count && run->glyphs[z].cluster == run->glyphs[a].cluster; z++)
            ;
        long ncp = drawn_cluster_text(c, f, run, (size_t)nuniq, a, z);
        if (ncp < 0)
            return nomem(c);
        double box_end = cluster_box_gap(f, run, a, z);
        /* A glyph without text in a left-to-right cluster: poppler and PDFium read U+200B for it, so the cluster
         * gets its text as ActualText. Not in right-to-left runs, where a marked-content span splits pdf.js's
         * text items and reorders the line (and pdf.js drops U+200B, a format character). */
        int actual = !by_words && !c->in_line_span && !c->line_prop &&
                     (box_end > 0 || !cluster_extracts(c, f, codes + a, z - a, run->rtl, (size_t)ncp) ||
                      (!run->rtl && cluster_has_textless(f, codes + a, z - a)));
        /* A space that ends the run after such a span would be a text object of its own, without ink, which PDFium
         * skips (and the word gap with it): the span takes it in. */
        int space_after = actual && !run->rtl && ends_with_space(run, z);
        if (actual) {
            /* Only this cluster: line- or word-wide ActualText makes poppler reverse RTL text. In a font with a
             * code per use, RTL text is written reversed as the glyphs' texts are (poppler and PDFium spread it
             * over the cluster's box from the left, then read right to left). */
            int reversed = f->per_use && run->rtl;
            tj_close(b, &t);
            if (span_open(c, "Span"))
                return c->err->code;
            for (long m = 0; m < ncp; m++)
                sb_utf16(b, c->cps[reversed ? ncp - 1 - m : m]);
            if (space_after)
                sb_utf16(b, ' ');
            sb_str(b, ">>> BDC\n");
        }
        for (size_t i = a; i < z; i++) {
            const glyph_entry *e = glyph_find(f, run->glyphs[i].gid);
            /* The last glyph's char spacing, in 1/10000 pt, that ends it where the cluster ends. */
            long long tc = box_end > 0 && i + 1 == z
                               ? quantize(box_end - (run->glyphs[i].x + e->width * run->size / 1000.0), 4)
                               : 0;
            if (tc) {
                /* The move to the glyph comes before Tc is set: pdf.js's text extraction adds the char spacing to
                 * a TJ number that opens an array (a glyph drawn back over its base read as a word gap). */
                tj_move_to(b, &t, run->glyphs[i].x, run->size);
                tj_close(b, &t);
                sb_fixed(b, tc, 4);
                sb_str(b, " Tc\n");
            }
            emit_run_glyph(c, &t, f, run, codes, i, tc, baseline);
            if (tc) {
                tj_close(b, &t);
                sb_str(b, "0 Tc\n");
                t.pen += tc / 10000.0;
            }
        }
        if (space_after) {
            emit_run_glyph(c, &t, f, run, codes, z, 0, baseline);
            z++;
        }
        if (actual) {
            tj_close(b, &t);
            sb_str(b, "EMC\n");
            if (z < run->glyph_count && mark_resume(c)) /* no empty sequence at the run's end */
                return c->err->code;
        }
    }
    tj_close(b, &t);
    mark_pause(c);
    sb_str(b, "ET\nQ\n");
    return VIP_OK;
}

static void write_rule(sbuf *b, const vip_page *page, const vip_page_rule *r)
{
    sb_str(b, "q\n");
    sb_rgb(b, r->color);
    sb_str(b, "RG\n");
    sb_num(b, r->width, 3);
    sb_str(b, " w\n");
    sb_num(b, r->x0, 3);
    sb_char(b, ' ');
    sb_num(b, page->height - r->y0, 3);
    sb_str(b, " m\n");
    sb_num(b, r->x1, 3);
    sb_char(b, ' ');
    sb_num(b, page->height - r->y1, 3);
    sb_str(b, " l\nS\nQ\n");
}

static void write_rect(sbuf *b, const vip_page *page, const vip_page_rect *r)
{
    int stroke = r->stroke_width > 0;
    if (!r->filled && !stroke)
        return;
    sb_str(b, "q\n");
    if (r->filled) {
        sb_rgb(b, r->fill);
        sb_str(b, "rg\n");
    }
    if (stroke) {
        sb_rgb(b, r->stroke);
        sb_str(b, "RG\n");
        sb_num(b, r->stroke_width, 3);
        sb_str(b, " w\n");
    }
    sb_numbers(b, (const double[]){r->x, page->height - r->y - r->height, r->width, r->height}, 4);
    sb_str(b, r->filled && stroke ? " re\nB\nQ\n" : r->filled ? " re\nf\nQ\n" : " re\nS\nQ\n");
}

/* Compression levels (zlib; deterministic, so the same data always gives the same bytes). What is deflated once
 * and kept (font programs, images) gets the best; what every document deflates anew (page content, ToUnicode)
 * a faster level that costs a few per cent in size. */
#define LEVEL_KEPT 9
#define LEVEL_PER_DOCUMENT 3

static int deflate_bytes(const unsigned char *data, size_t len, int level, unsigned char **out, size_t *out_len)
{
    uLongf cap = compressBound((uLong)len);
    unsigned char *z = malloc(cap ? cap : 1);
    if (!z || compress2(z, &cap, data, (uLong)len, level) != Z_OK) {
        free(z);
        return -1;
    }
    *out = z;
    *out_len = cap;
    return 0;
}

static HPDF_STATUS write_flate_filter(HPDF_Dict dict, HPDF_Stream stream)
{
    (void)dict;
    return HPDF_Stream_WriteStr(stream, "/Filter /FlateDecode\012");
}

/* libharu writes /Filter from its own setting and deflates what it writes: a stream vipgen deflates itself is
 * written as it is, with its filter named here. */
static void holds_deflated(HPDF_Dict d)
{
    d->filter = HPDF_STREAM_FILTER_NONE;
    d->write_fn = write_flate_filter;
}

/* A stream object holding data deflated once and kept (the logo, font programs). */
static HPDF_Dict new_deflated_stream(ctx *c, const unsigned char *z, size_t zlen)
{
    HPDF_Dict d = HPDF_DictStream_New(c->pdf->mmgr, c->pdf->xref);
    if (!d)
        return NULL;
    holds_deflated(d);
    if (zlen && HPDF_Stream_Write(d->stream, z, (HPDF_UINT)zlen) != HPDF_OK)
        return NULL;
    return d;
}

/* Deflates data made for this document (page content, a ToUnicode CMap) into the stream of d. */
static int write_deflating(ctx *c, HPDF_Dict d, const char *data, size_t len, const char *what)
{
    unsigned char *z = NULL;
    size_t zlen = 0;
    if (deflate_bytes((const unsigned char *)data, len, LEVEL_PER_DOCUMENT, &z, &zlen))
        return nomem(c);
    holds_deflated(d);
    HPDF_STATUS st = HPDF_Stream_Write(d->stream, z, (HPDF_UINT)zlen);
    free(z);
    return st == HPDF_OK ? VIP_OK : hpdf_fail(c, what);
}

/* The page's whole content, written here (images included), deflated in one piece into its content stream. */
static int flush_content(ctx *c, HPDF_Page hpage)
{
    if (c->out.failed)
        return nomem(c);
    int rc = write_deflating(c, ((HPDF_PageAttr)hpage->attr)->contents, c->out.data, c->out.len,
                             "writing page content");
    c->out.len = 0;
    return rc;
}

/* A PNG decoded (libpng) and deflated once per process: every letter of a batch carries the same logo. Kept until
 * the process ends. */
typedef struct prepared_image {
    char *path;
    unsigned width, height;
    unsigned char *rgb, *alpha; /* deflated samples; alpha is NULL for an opaque image */
    size_t rgb_len, alpha_len;
} prepared_image;

static prepared_image *prepared_images;
static size_t prepared_count;

static const prepared_image *prepare_image(const char *path, vip_error *err)
{
    for (size_t i = 0; i < prepared_count; i++)
        if (strcmp(prepared_images[i].path, path) == 0)
            return &prepared_images[i];
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path)) {
        vip_error_set(err, VIP_ERR_INPUT, "pdf: %s: cannot read the PNG image: %s", path, png.message);
        return NULL;
    }
    png.format = PNG_FORMAT_RGBA;
    size_t pixels = (size_t)png.width * png.height;
    unsigned char *rgba = malloc(PNG_IMAGE_SIZE(png)), *rgb = malloc(pixels * 3 + 1), *alpha = malloc(pixels + 1);
    prepared_image *grown = realloc(prepared_images, (prepared_count + 1) * sizeof *grown);
    prepared_image im = {0};
    if (grown)
        prepared_images = grown;
    if (!rgba || !rgb || !alpha || !grown) {
        png_image_free(&png);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (!png_image_finish_read(&png, NULL, rgba, 0, NULL)) {
        vip_error_set(err, VIP_ERR_INPUT, "pdf: %s: cannot read the PNG image: %s", path, png.message);
        goto done;
    }
    int opaque = 1;
    for (size_t i = 0; i < pixels; i++) {
        memcpy(rgb + 3 * i, rgba + 4 * i, 3);
        alpha[i] = rgba[4 * i + 3];
        opaque &= alpha[i] == 255;
    }
    im.width = png.width;
    im.height = png.height;
    if (deflate_bytes(rgb, pixels * 3, LEVEL_KEPT, &im.rgb, &im.rgb_len) ||
        (!opaque && deflate_bytes(alpha, pixels, LEVEL_KEPT, &im.alpha, &im.alpha_len)) || !(im.path = strdup(path))) {
        free(im.rgb);
        free(im.alpha);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    prepared_images[prepared_count] = im;
done:
    free(rgba);
    free(rgb);
    free(alpha);
    return im.path ? &prepared_images[prepared_count++] : NULL;
}

/* An image XObject with the prepared (deflated) samples. */
static HPDF_Dict image_object(ctx *c, const prepared_image *im, int alpha)
{
    HPDF_Dict d = new_deflated_stream(c, alpha ? im->alpha : im->rgb, alpha ? im->alpha_len : im->rgb_len);
    if (!d)
        return NULL;
    d->header.obj_class |= HPDF_OSUBCLASS_XOBJECT;
    if (HPDF_Dict_AddName(d, "Type", "XObject") != HPDF_OK || HPDF_Dict_AddName(d, "Subtype", "Image") != HPDF_OK ||
        HPDF_Dict_AddNumber(d, "Width", (HPDF_INT32)im->width) != HPDF_OK ||
        HPDF_Dict_AddNumber(d, "Height", (HPDF_INT32)im->height) != HPDF_OK ||
        HPDF_Dict_AddName(d, "ColorSpace", alpha ? "DeviceGray" : "DeviceRGB") != HPDF_OK ||
        HPDF_Dict_AddNumber(d, "BitsPerComponent", 8) != HPDF_OK)
        return NULL;
    if (!alpha && im->alpha) {
        HPDF_Dict mask = image_object(c, im, 1);
        if (!mask || HPDF_Dict_Add(d, "SMask", mask) != HPDF_OK)
            return NULL;
    }
    return d;
}

static int draw_image(ctx *c, HPDF_Page hpage, const vip_page *page, const vip_page_image *im)
{
    HPDF_Image image = NULL;
    for (size_t i = 0; i < c->image_count && !image; i++)
        if (strcmp(c->images[i].path, im->path) == 0)
            image = c->images[i].image;
    if (!image) {
        if (reserve(&c->images, &c->image_cap, c->image_count + 1, sizeof *c->images))
            return nomem(c);
        const prepared_image *pi = prepare_image(im->path, c->err);
        if (!pi)
            return c->err->code;
        if (!(image = image_object(c, pi, 0)))
            return hpdf_fail(c, "adding an image");
        c->images[c->image_count++] = (pdf_image){im->path, image};
    }
    const char *name = HPDF_Page_GetXObjectName(hpage, image);
    if (!name)
        return hpdf_fail(c, "adding an image to a page");
    sbuf *b = &c->out;
    sb_str(b, "q\n");
    sb_numbers(b, (const double[]){im->width, 0, 0, im->height, im->x, page->height - im->y - im->height}, 6);
    sb_str(b, " cm\n/");
    sb_str(b, name);
    sb_str(b, " Do\nQ\n");
    return VIP_OK;
}

static int add_text_string(ctx *c, HPDF_Dict dict, const char *key, const char *utf8);

/* A link to a place in the document; its /Dest (for now this page, which libharu asks for) is replaced once every
 * page exists (add_destinations). */
static HPDF_Annotation goto_link(ctx *c, HPDF_Page hpage, HPDF_Rect r, const vip_page_link *l)
{
    HPDF_Destination here = l->dest_page < c->doc->page_count ? HPDF_Page_CreateDestination(hpage) : NULL;
    return here ? HPDF_Page_CreateLinkAnnot(hpage, r, here) : NULL;
}

/* Each link to a place in the document: /Dest [page /XYZ null top null] (as the outline's, keeping the zoom).
 * A page's annotations are its links, in order (add_links). */
static int add_destinations(ctx *c)
{
    HPDF_MMgr mm = c->pdf->mmgr;
    for (size_t p = 0; p < c->doc->page_count; p++) {
        const vip_page *page = &c->doc->pages[p];
        HPDF_Array annots = page->link_count ? HPDF_Dict_GetItem(c->pages[p], "Annots", HPDF_OCLASS_ARRAY) : NULL;
        for (size_t i = 0; annots && i < page->link_count; i++) {
            const vip_page_link *l = &page->links[i];
            if (l->uri)
                continue;
            HPDF_Dict a = HPDF_Array_GetItem(annots, (HPDF_UINT)i, HPDF_OCLASS_DICT);
            HPDF_Array dest = a ? HPDF_Array_New(mm) : NULL;
            if (!dest || HPDF_Dict_Add(a, "Dest", dest) != HPDF_OK)
                return hpdf_fail(c, "adding a link's destination");
            HPDF_STATUS s = HPDF_Array_Add(dest, c->pages[l->dest_page]);
            s |= HPDF_Array_AddName(dest, "XYZ");
            s |= HPDF_Array_Add(dest, HPDF_Null_New(mm));
            s |= HPDF_Array_AddReal(dest, (HPDF_REAL)(c->doc->pages[l->dest_page].height - l->dest_y));
            s |= HPDF_Array_Add(dest, HPDF_Null_New(mm));
            if (s != HPDF_OK)
                return hpdf_fail(c, "adding a link's destination");
        }
    }
    return VIP_OK;
}

static int add_links(ctx *c, HPDF_Page hpage, const vip_page *page, size_t page_index)
{
    for (size_t i = 0; i < page->link_count; i++) {
        const vip_page_link *l = &page->links[i];
        HPDF_Rect r = {(HPDF_REAL)l->x, (HPDF_REAL)(page->height - l->y - l->height), (HPDF_REAL)(l->x + l->width),
                       (HPDF_REAL)(page->height - l->y)};
        HPDF_Annotation a = l->uri ? HPDF_Page_CreateURILinkAnnot(hpage, r, l->uri) : goto_link(c, hpage, r, l);
        if (!a || HPDF_LinkAnnot_SetBorderStyle(a, 0, 0, 0) != HPDF_OK)
            return hpdf_fail(c, "adding a link");
        if (!c->tagged || !l->tag || l->tag >= c->doc->element_count)
            continue;
        /* In its Link element (an OBJR there), with the address as its description. Annotations take the parent
         * tree keys after the pages'. */
        if (reserve(&c->marks, &c->mark_cap, c->mark_count + 1, sizeof *c->marks))
            return nomem(c);
        c->marks[c->mark_count++] = (struct pdf_mark){l->tag, page_index, -1, l->order, NULL, a};
        int rc = add_text_string(c, a, "Contents", l->uri ? l->uri : l->contents);
        if (rc)
            return rc;
        if (HPDF_Dict_AddNumber(a, "StructParent", (HPDF_INT32)(c->doc->page_count + c->annot_count++)) != HPDF_OK)
            return hpdf_fail(c, "tagging a link");
    }
    return VIP_OK;
}

/* The structure types of vip_page_role, as PDF names them. */
static const char *const role_names[] = {
    [VIP_ROLE_DOCUMENT] = "Document", [VIP_ROLE_DIV] = "Div", [VIP_ROLE_H1] = "H1", [VIP_ROLE_H2] = "H2",
    [VIP_ROLE_H3] = "H3", [VIP_ROLE_P] = "P", [VIP_ROLE_L] = "L", [VIP_ROLE_LI] = "LI", [VIP_ROLE_LBL] = "Lbl",
    [VIP_ROLE_LBODY] = "LBody", [VIP_ROLE_TABLE] = "Table", [VIP_ROLE_TR] = "TR", [VIP_ROLE_TH] = "TH",
    [VIP_ROLE_TD] = "TD", [VIP_ROLE_FIGURE] = "Figure", [VIP_ROLE_LINK] = "Link", [VIP_ROLE_TOC] = "TOC",
    [VIP_ROLE_TOCI] = "TOCI", [VIP_ROLE_SECT] = "Sect"};

/* The language of element e: its own, an ancestor's, or the document's. */
static const char *element_lang(const vip_page_doc *doc, size_t e)
{
    for (; e && e < doc->element_count; e = doc->elements[e].parent)
        if (doc->elements[e].lang)
            return doc->elements[e].lang;
    return doc->lang;
}

/* A run in another language than its element's goes in a Span of its own with /Lang. */
static const char *foreign_lang(const vip_page_doc *doc, size_t element, const char *lang)
{
    const char *own = element_lang(doc, element);
    return lang && (!own || strcmp(lang, own) != 0) ? lang : NULL;
}

/* Writes the start of the BDC of a marked-content sequence of the structure element of the item being drawn, up to
 * its open property list: "/Role <</MCID n" with the page's next MCID; the tag is the span's for an ActualText span
 * (span_tag: poppler reads ActualText only on /Span, PDFium on any tag), else Span for text in another language. */
static int open_mark_properties(ctx *c, const char *span_tag)
{
    const vip_page_item *it = c->mark_item;
    size_t element = c->span_element ? c->span_element : it->tag;
    if (reserve(&c->marks, &c->mark_cap, c->mark_count + 1, sizeof *c->marks))
        return nomem(c);
    const char *lang = foreign_lang(c->doc, element, it->kind == VIP_PAGE_RUN ? it->u.run.lang : NULL);
    c->marks[c->mark_count++] = (struct pdf_mark){element, c->mark_page, c->mcid, it->order, lang, NULL};
    sb_char(&c->out, '/');
    sb_str(&c->out, span_tag ? span_tag : lang ? "Span" : role_names[c->doc->elements[element].role]);
    sb_str(&c->out, " <</MCID ");
    sb_num(&c->out, c->mcid++, 0);
    return VIP_OK;
}

static int mark_resume(ctx *c)
{
    if (!c->tagged || !c->mark_item || c->mark_open)
        return VIP_OK;
    if (c->in_line_span && c->line_span_marked) /* the span is the sequence, or inside the artifact */
        return VIP_OK;
    if (is_artifact(c, c->mark_item)) { /* spans may nest inside an artifact: it has no MCID */
        sb_str(&c->out, artifact_open(c->mark_item));
        c->mark_open = 1;
        return VIP_OK;
    }
    c->mark_open = 1;
    int rc = open_mark_properties(c, NULL);
    sb_str(&c->out, ">> BDC\n");
    if (c->line_prop && c->mark_item->kind == VIP_PAGE_RUN) {
        sb_str(&c->out, "/PDFiumText /PF");
        sb_num(&c->out, (double)(c->line_prop - 1), 0);
        sb_str(&c->out, " BDC\n");
        c->mark_open = 2;
    }
    return rc;
}

/* Writes the start of an ActualText span's BDC with the given tag, up to the opening of the ActualText string: the
 * span is the item's marked-content sequence (its MCID, or an artifact) when tagged. */
static int span_open(ctx *c, const char *tag)
{
    if (!c->tagged || !c->mark_item || !c->mark_item->tag || c->mark_item->tag >= c->doc->element_count) {
        sb_char(&c->out, '/');
        sb_str(&c->out, tag);
        sb_str(&c->out, " <</ActualText <FEFF");
        return VIP_OK;
    }
    mark_pause(c); /* the run's sequence, interrupted by the span */
    int rc = open_mark_properties(c, tag);
    sb_str(&c->out, " /ActualText <FEFF");
    return rc;
}

/* The page's line properties (see open_line_span) into its resources: /Properties << /PFn << /ActualText ... >> >>. */
static int add_line_properties(ctx *c, HPDF_Page hpage)
{
    if (!c->prop_count)
        return VIP_OK;
    HPDF_MMgr mm = c->pdf->mmgr;
    HPDF_Dict res = HPDF_Dict_GetItem(hpage, "Resources", HPDF_OCLASS_DICT), props = HPDF_Dict_New(mm);
    if (!res || !props || HPDF_Dict_Add(res, "Properties", props) != HPDF_OK)
        return hpdf_fail(c, "adding a page's property lists");
    for (size_t k = 0, from = 0; k < c->prop_count; from = c->prop_ends[k++]) {
        char name[32];
        snprintf(name, sizeof name, "PF%zu", k);
        HPDF_Dict d = HPDF_Dict_New(mm);
        if (!d || HPDF_Dict_Add(props, name, d) != HPDF_OK ||
            HPDF_Dict_Add(d, "ActualText", HPDF_Binary_New(mm, (HPDF_BYTE *)c->props.data + from,
                                                          (HPDF_UINT)(c->prop_ends[k] - from))) != HPDF_OK)
            return hpdf_fail(c, "adding a page's property lists");
    }
    c->props.len = 0;
    c->prop_count = 0;
    return VIP_OK;
}

static int draw_pages(ctx *c)
{
    const vip_page_doc *doc = c->doc;
    c->pages = calloc(doc->page_count, sizeof *c->pages);
    if (!c->pages)
        return nomem(c);
    for (size_t p = 0; p < doc->page_count; p++) {
        const vip_page *page = &doc->pages[p];
        HPDF_Page hpage = HPDF_AddPage(c->pdf);
        if (!hpage)
            return hpdf_fail(c, "adding a page");
        if (HPDF_Page_SetWidth(hpage, (HPDF_REAL)page->width) != HPDF_OK ||
            HPDF_Page_SetHeight(hpage, (HPDF_REAL)page->height) != HPDF_OK)
            return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: page %zu: size %gx%g pt is outside 3..14400 pt",
                                 p + 1, page->width, page->height);
        c->pages[p] = hpage;
        c->out.len = 0;
        size_t span_end = 0;
        c->mark_page = p;
        c->mcid = 0;
        c->pdfjs_prev = 0;
        for (size_t i = 0; i < page->item_count; i++) {
            const vip_page_item *it = &page->items[i];
            int rc = VIP_OK;
            if (c->line_prop && i == c->line_prop_end)
                c->line_prop = 0;
            for (; c->in_line_span && i == span_end; c->in_line_span--)
                sb_str(&c->out, "EMC\n");
            if (!c->in_line_span)
                c->line_span_marked = 0;
            c->mark_item = it;
            /* Rules, boxes and images are marked around their q/Q; a run inside its text object. */
            if (it->kind != VIP_PAGE_RUN && (rc = mark_resume(c)))
                return rc;
            if (!c->in_line_span && !c->line_prop && it->kind == VIP_PAGE_RUN) {
                span_end = open_line_span(c, page, i, c->uses + c->use_pos, c->use_count - c->use_pos);
                if (span_end == SIZE_MAX)
                    return c->err->code;
                /* A line span's sequence takes the reading order of its first run in the text. */
                for (size_t k = i; c->line_span_marked && c->in_line_span && it->tag && k < span_end; k++)
                    if (page->items[k].order < c->marks[c->mark_count - 1].order)
                        c->marks[c->mark_count - 1].order = page->items[k].order;
            }
            switch (it->kind) {
            case VIP_PAGE_RUN: rc = write_run(c, hpage, page, &it->u.run); break;
            case VIP_PAGE_RULE: write_rule(&c->out, page, &it->u.rule); break;
            case VIP_PAGE_RECT: write_rect(&c->out, page, &it->u.rect); break;
            case VIP_PAGE_IMAGE: rc = draw_image(c, hpage, page, &it->u.image); break;
            }
            if (rc)
                return rc;
            mark_pause(c);
        }
        c->mark_item = NULL;
        for (; c->in_line_span; c->in_line_span--)
            sb_str(&c->out, "EMC\n");
        c->line_span_marked = 0;
        c->line_prop = 0;
        int rc = flush_content(c, hpage);
        if (!rc)
            rc = add_line_properties(c, hpage);
        if (!rc)
            rc = add_links(c, hpage, page, p);
        /* The page's MCIDs are in the parent tree under its index; annotations tab in structure order. */
        if (!rc && c->tagged &&
            (HPDF_Dict_AddNumber(hpage, "StructParents", (HPDF_INT32)p) != HPDF_OK ||
             (page->link_count && HPDF_Dict_AddName(hpage, "Tabs", "S") != HPDF_OK)))
            rc = hpdf_fail(c, "tagging a page");
        if (rc)
            return rc;
    }
    return add_destinations(c);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Font objects, built once every page is drawn.                                                                 */

/* A new indirect dict (the xref owns it). */
static HPDF_Dict new_indirect(ctx *c)
{
    HPDF_Dict d = HPDF_Dict_New(c->pdf->mmgr);
    if (d && HPDF_Xref_Add(c->pdf->xref, d) != HPDF_OK)
        return NULL;
    return d;
}

/* Six uppercase letters from a hash of the glyph set: the same subset always gets the same tag. */
static void subset_tag(const uint32_t *gids, size_t n, const char *psname, char tag[7])
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 32; s += 8)
            h = (h ^ ((gids[i] >> s) & 255)) * 1099511628211ULL;
    for (const char *p = psname; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (int i = 0; i < 6; i++, h /= 26)
        tag[i] = (char)('A' + h % 26);
    tag[6] = '\0';
}

/* hb-subset survives some allocation failures by leaving glyphs, tables or charstrings out and still reporting
 * success; such a subset draws blank or broken text, or no text at all. So a subset must keep every used glyph
 * with the same outline extents, and (see sfnt_complete) every table it has must be non-empty. */
static int subset_complete(const vip_font *font, hb_face_t *sub, const uint32_t *to_gids, const uint32_t *gids,
                           size_t n)
{
    hb_font_t *orig = vip_font_hb_font(font), *copy = hb_font_create(sub);
    int ok = copy != hb_font_get_empty();
    for (size_t i = 0; ok && i < n; i++) {
        hb_codepoint_t to = to_gids[i];
        hb_glyph_extents_t a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
        ok = to != HB_MAP_VALUE_INVALID &&
             hb_font_get_glyph_extents(orig, gids[i], &a) == hb_font_get_glyph_extents(copy, to, &b) &&
             memcmp(&a, &b, sizeof a) == 0;
    }
    hb_font_destroy(copy);
    return ok;
}

/* The serialised subset's table directory: the tables a TrueType font needs, none of them empty. */
static int sfnt_complete(const unsigned char *d, size_t len)
{
    static const char need[][5] = {"glyf", "loca", "head", "hhea", "hmtx", "maxp"};
    unsigned found = 0, tables = len >= 12 ? (unsigned)(d[4] << 8 | d[5]) : 0;
    if (!tables || len < 12 + 16 * (size_t)tables)
        return 0;
    for (unsigned i = 0; i < tables; i++) {
        const unsigned char *r = d + 12 + 16 * i;
        uint32_t off = (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
        uint32_t size = (uint32_t)r[12] << 24 | (uint32_t)r[13] << 16 | (uint32_t)r[14] << 8 | r[15];
        if (!size || off > len || size > len - off)
            return 0;
        for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
            found |= (unsigned)(memcmp(r, need[k], 4) == 0) << k;
    }
    return found == (1u << (sizeof need / sizeof need[0])) - 1;
}

/* Big-endian unsigned integer of n bytes. */
static uint32_t be(const unsigned char *p, int n)
{
    uint32_t v = 0;
    while (n-- > 0)
        v = v << 8 | *p++;
    return v;
}

/* The end of the CFF INDEX at d[pos], or 0 when it does not fit in len. */
static size_t cff_index_end(const unsigned char *d, size_t len, size_t pos)
{
    if (pos + 2 > len)
        return 0;
    uint32_t count = be(d + pos, 2);
    if (!count)
        return pos + 2;
    if (pos + 3 > len)
        return 0;
    int size = d[pos + 2];
    size_t offsets = pos + 3, data = offsets + (size_t)(count + 1) * (size_t)size;
    if (size < 1 || size > 4 || data > len)
        return 0;
    size_t end = data - 1 + be(d + offsets + (size_t)count * (size_t)size, size);
    return end <= len ? end : 0;
}

/* Content codes are the font's original CIDs (CID = GID in Noto Sans CJK), so the subset's charset must give each
 * kept glyph its old glyph ID as CID; the subset must also still be CID-keyed (a ROS operator in its Top DICT).
 * A subset made in low memory was seen to get this wrong while looking fine to HarfBuzz. */
static int cff_keeps_cids(hb_face_t *sub, const uint32_t *to_gids, const uint32_t *gids, size_t n)
{
    hb_blob_t *blob = hb_face_reference_table(sub, HB_TAG('C', 'F', 'F', ' '));
    unsigned len = 0;
    const unsigned char *d = (const unsigned char *)hb_blob_get_data(blob, &len);
    unsigned glyphs = hb_face_get_glyph_count(sub);
    uint32_t *cid = len > 4 && glyphs ? calloc(glyphs, sizeof *cid) : NULL;
    int ok = 0, ros = 0;
    size_t charset = 0;
    /* Header, Name INDEX, then the Top DICT INDEX: its first DICT holds ROS (12 30) and the charset offset (15). */
    size_t names = len > 4 ? d[2] : 0, top = names ? cff_index_end(d, len, names) : 0;
    size_t top_end = top ? cff_index_end(d, len, top) : 0;
    if (!cid || !top_end || be(d + top, 2) == 0)
        goto done;
    int size = d[top + 2];
    size_t data = top + 3 + (be(d + top, 2) + 1) * (size_t)size - 1; /* offsets count from 1 */
    size_t p = data + be(d + top + 3, size), q = data + be(d + top + 3 + size, size);
    if (q > top_end || p > q)
        goto done;
    long operand = 0;
    while (p < q) {
        unsigned b = d[p];
        if (b == 28 && p + 3 <= q)
            operand = (int16_t)be(d + p + 1, 2), p += 3;
        else if (b == 29 && p + 5 <= q)
            operand = (int32_t)be(d + p + 1, 4), p += 5;
        else if (b == 30) { /* a real: nibbles up to an 0xF */
            while (++p < q && (d[p] & 0x0F) != 0x0F && (d[p] & 0xF0) != 0xF0)
                ;
            p++;
        } else if (b >= 32 && b <= 246)
            operand = (long)b - 139, p++;
        else if (b >= 247 && b <= 250 && p + 2 <= q)
            operand = ((long)b - 247) * 256 + d[p + 1] + 108, p += 2;
        else if (b >= 251 && b <= 254 && p + 2 <= q)
            operand = -((long)b - 251) * 256 - d[p + 1] - 108, p += 2;
        else if (b == 12 && p + 2 <= q)
            ros |= d[p + 1] == 30, p += 2;
        else if (b <= 21) {
            if (b == 15)
                charset = operand > 0 ? (size_t)operand : 0;
            p++;
        } else
            goto done;
    }
    /* The charset names glyphs 1.. (glyph 0 is CID 0): format 0 lists CIDs, 1 and 2 list ranges. */
    if (!ros || !charset || charset >= len)
        goto done;
    unsigned format = d[charset], g = 1;
    size_t r = charset + 1;
    while (g < glyphs) {
        if (format == 0) {
            if (r + 2 > len)
                goto done;
            cid[g++] = be(d + r, 2);
            r += 2;
        } else if (format == 1 || format == 2) {
            int w = format == 1 ? 1 : 2;
            if (r + 2 + (size_t)w > len)
                goto done;
            uint32_t first = be(d + r, 2), left = be(d + r + 2, w);
            for (uint32_t k = 0; k <= left && g < glyphs; k++)
                cid[g++] = first + k;
            r += 2 + (size_t)w;
        } else {
            goto done;
        }
    }
    ok = 1;
    for (size_t i = 0; ok && i < n; i++) {
        hb_codepoint_t to = to_gids[i];
        ok = to < glyphs && cid[to] == gids[i];
    }
done:
    free(cid);
    hb_blob_destroy(blob);
    return ok;
}

/* Subsets the font to the used glyphs (c->gids[0..n)). glyf fonts keep their glyph IDs (so /CIDToGIDMap is
 * /Identity); CFF fonts must not (the subset would grow a hundredfold) and keep their CIDs in the charset instead. */
static hb_face_t *make_subset(ctx *c, const pdf_font *f, size_t n)
{
    uint32_t *source_gids = malloc((n ? n : 1) * sizeof *source_gids), *to_gids = malloc((n ? n : 1) * sizeof *to_gids);
    hb_subset_input_t *in = source_gids && to_gids ? hb_subset_input_create_or_fail() : NULL;
    if (!in) {
        free(source_gids);
        free(to_gids);
        nomem(c);
        return NULL;
    }
    hb_face_t *face = vip_font_subset_source(f->font, c->gids, n, source_gids);
    hb_set_t *glyphs = hb_subset_input_set(in, HB_SUBSET_SETS_GLYPH_INDEX);
    for (size_t i = 0; i < n; i++)
        hb_set_add(glyphs, source_gids[i]);
    hb_set_clear(hb_subset_input_set(in, HB_SUBSET_SETS_UNICODE));
    /* Layout tables are useless in a PDF, and their closure would pull in glyphs the document never uses. */
    static const char drop[][5] = {"GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "kern", "morx", "kerx",
                                   "mort", "feat", "trak", "DSIG", "hdmx", "LTSH", "VDMX", "vhea", "vmtx", "VORG"};
    hb_set_t *tables = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        hb_set_add(tables, hb_tag_from_string(drop[i], 4));
    unsigned flags = VIP_FONT_SUBSET_FLAGS;
    if (!vip_font_is_cff(f->font))
        flags |= HB_SUBSET_FLAGS_RETAIN_GIDS;
    hb_subset_input_set_flags(in, flags);
    hb_subset_plan_t *plan = NULL;
    hb_face_t *sub = NULL;
    if (hb_set_allocation_successful(glyphs) && hb_set_allocation_successful(tables) &&
        (plan = hb_subset_plan_create_or_fail(face, in)))
        sub = hb_subset_plan_execute_or_fail(plan);
    if (sub) {
        const hb_map_t *old_to_new = hb_subset_plan_old_to_new_glyph_mapping(plan);
        for (size_t i = 0; i < n; i++)
            to_gids[i] = hb_map_get(old_to_new, source_gids[i]);
        if (!subset_complete(f->font, sub, to_gids, c->gids, n) ||
            (vip_font_is_cff(f->font) && !cff_keeps_cids(sub, to_gids, c->gids, n))) {
            hb_face_destroy(sub);
            sub = NULL;
        }
    }
    hb_subset_plan_destroy(plan);
    hb_subset_input_destroy(in);
    free(source_gids);
    free(to_gids);
    if (!sub)
        vip_error_set(c->err, VIP_ERR_FONT, "pdf: font '%s': subsetting failed (out of memory?)",
                      vip_font_name(f->font));
    return sub;
}

/* Embedded font programs (the whole subset sfnt for FontFile2, its raw CFF table for FontFile3), deflated, kept
 * per font and glyph set: the letters of a batch in one language mostly use the same glyphs. A small bounded
 * cache per process, least recently used out first. */
typedef struct kept_program {
    uint64_t font; /* vip_font_serial: a font loaded later at the same address is another font */
    uint32_t *gids;
    size_t n;
    unsigned char *z;
    size_t zlen, raw_len;
    uint64_t used; /* 0: an empty slot */
} kept_program;

#define KEPT_PROGRAMS 96
static kept_program kept_programs[KEPT_PROGRAMS];
static uint64_t kept_clock;

static const kept_program *font_program(ctx *c, const pdf_font *f, size_t n)
{
    kept_program *slot = &kept_programs[0];
    for (size_t i = 0; i < KEPT_PROGRAMS; i++) {
        kept_program *k = &kept_programs[i];
        if (k->used && k->font == vip_font_serial(f->font) && k->n == n && memcmp(k->gids, c->gids, n * sizeof *c->gids) == 0) {
            k->used = ++kept_clock;
            return k;
        }
        if (k->used < slot->used)
            slot = k;
    }
    hb_face_t *sub = make_subset(c, f, n);
    if (!sub)
        return NULL;
    int cff = vip_font_is_cff(f->font);
    hb_blob_t *blob = cff ? hb_face_reference_table(sub, HB_TAG('C', 'F', 'F', ' ')) : hb_face_reference_blob(sub);
    unsigned len = 0;
    const unsigned char *data = (const unsigned char *)hb_blob_get_data(blob, &len);
    kept_program made = {.font = vip_font_serial(f->font), .n = n, .raw_len = len};
    int ok = 0;
    if (!len || (!cff && !sfnt_complete(data, len)))
        vip_error_set(c->err, VIP_ERR_FONT, "pdf: font '%s': the subset is incomplete (out of memory?)",
                      vip_font_name(f->font));
    else if (!(made.gids = malloc(n * sizeof *made.gids)) || deflate_bytes(data, len, LEVEL_KEPT, &made.z, &made.zlen))
        nomem(c);
    else
        ok = 1;
    hb_blob_destroy(blob);
    hb_face_destroy(sub);
    if (!ok) {
        free(made.gids);
        return NULL;
    }
    memcpy(made.gids, c->gids, n * sizeof *made.gids);
    free(slot->gids);
    free(slot->z);
    *slot = made;
    slot->used = ++kept_clock;
    return slot;
}

/* The font program's stream object. */
static HPDF_Dict font_file(ctx *c, const pdf_font *f, size_t n)
{
    const kept_program *k = font_program(c, f, n);
    if (!k)
        return NULL;
    HPDF_Dict file = new_deflated_stream(c, k->z, k->zlen);
    if (!file || (vip_font_is_cff(f->font) ? HPDF_Dict_AddName(file, "Subtype", "CIDFontType0C")
                                           : HPDF_Dict_AddNumber(file, "Length1", (HPDF_INT32)k->raw_len)) != HPDF_OK) {
        hpdf_fail(c, "embedding a font");
        return NULL;
    }
    return file;
}

/* Objects are attached to their container before they are filled: a direct object that belongs to nothing
 * would leak when a later call fails (libharu frees only what the xref reaches). */
static HPDF_STATUS add_int_array(ctx *c, HPDF_Dict dict, const char *key, const int *v, size_t n)
{
    HPDF_Array a = HPDF_Array_New(c->pdf->mmgr);
    HPDF_STATUS s = HPDF_Dict_Add(dict, key, a);
    for (size_t i = 0; s == HPDF_OK && i < n; i++)
        s = HPDF_Array_AddNumber(a, v[i]);
    return s;
}

/* /W as `c [w w ...]` runs over consecutive used CIDs (cids[0..n), widths in c->widths), leaving out those whose
 * width is /DW. */
static HPDF_STATUS add_widths(ctx *c, HPDF_Dict cid, const uint32_t *cids, size_t n, int32_t dw)
{
    HPDF_Array w = HPDF_Array_New(c->pdf->mmgr);
    HPDF_STATUS s = HPDF_Dict_Add(cid, "W", w);
    if (s != HPDF_OK)
        return s;
    for (size_t i = 0; i < n;) {
        if (c->widths[i] == dw) {
            i++;
            continue;
        }
        size_t j = i + 1; /* extend over consecutive GIDs; trailing /DW widths are trimmed below */
        while (j < n && cids[j] == cids[j - 1] + 1 && j - i < HPDF_LIMIT_MAX_ARRAY)
            j++;
        size_t end = j;
        while (c->widths[end - 1] == dw)
            end--;
        HPDF_Array run;
        if ((s = HPDF_Array_AddNumber(w, (HPDF_INT32)cids[i])) != HPDF_OK ||
            (s = HPDF_Array_Add(w, run = HPDF_Array_New(c->pdf->mmgr))) != HPDF_OK)
            return s;
        for (size_t k = i; k < end; k++)
            if ((s = HPDF_Array_AddNumber(run, c->widths[k])) != HPDF_OK)
                return s;
        i = j;
    }
    return HPDF_OK;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The most common width, so that /W lists as few glyphs as possible. */
static int32_t common_width(ctx *c, size_t n)
{
    int32_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return c->widths[0];
    memcpy(tmp, c->widths, n * sizeof *tmp);
    qsort(tmp, n, sizeof *tmp, cmp_i32);
    int32_t best = tmp[0];
    size_t best_n = 0;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && tmp[j] == tmp[i]; j++)
            ;
        if (j - i > best_n) {
            best_n = j - i;
            best = tmp[i];
        }
    }
    free(tmp);
    return best;
}

/* A single BMP character that is not a surrogate: what a bfrange can hold. */
static int single_bmp(const pdf_font *f, const code_entry *e)
{
    return e->len == 1 && f->pool[e->off] < 0x10000;
}

/* The font's codes sorted by CID into c->order (CID << 32 | code index); returns their number, or -1 when out
 * of memory. */
static long sorted_codes(ctx *c, const pdf_font *f)
{
    if (reserve(&c->order, &c->order_cap, f->code_count + 1, sizeof *c->order))
        return -1;
    for (size_t i = 0; i < f->code_count; i++)
        c->order[i] = (uint64_t)f->codes[i].cid << 32 | i;
    qsort(c->order, f->code_count, sizeof *c->order, cmp_u64);
    return (long)f->code_count;
}

/* The ToUnicode CMap over the codes sorted in c->order[0..n): bfrange for runs of consecutive CIDs mapping to
 * consecutive characters, bfchar for the rest, at most 100 entries per block as the CMap format requires. Codes
 * without text have no entry. */
static void to_unicode_text(ctx *c, const pdf_font *f, size_t n)
{
    sbuf *b = &c->out;
    b->len = 0;
    sb_str(b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
              "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
              "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
              "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
#define CODE_AT(i) (&f->codes[(uint32_t)c->order[i]])
#define CID_AT(i) ((uint32_t)(c->order[i] >> 32))
    for (int ranges = 0; ranges < 2; ranges++) {
        /* Collect the entries of this kind into blocks of up to 100. */
        size_t block_start = b->len, in_block = 0;
        for (size_t i = 0; i < n;) {
            const code_entry *e = CODE_AT(i);
            if (!e->len) {
                i++;
                continue;
            }
            size_t j = i + 1;
            if (single_bmp(f, e)) {
                uint32_t cp = f->pool[e->off];
                while (j < n && CID_AT(j) == CID_AT(i) + (j - i) && (CID_AT(j) >> 8) == (CID_AT(i) >> 8)) {
                    const code_entry *x = CODE_AT(j);
                    if (!single_bmp(f, x) || f->pool[x->off] != cp + (j - i) || ((cp + (j - i)) & 0xFF) == 0)
                        break;
                    j++;
                }
            }
            int is_range = j - i > 1;
            if (is_range == ranges) {
                if (in_block == 100) {
                    sb_str(b, ranges ? "endbfrange\n" : "endbfchar\n");
                    in_block = 0;
                }
                if (in_block == 0) {
                    block_start = b->len;
                    sb_str(b, "100 "); /* patched below when the block ends short */
                    sb_str(b, ranges ? "beginbfrange\n" : "beginbfchar\n");
                }
                sb_char(b, '<');
                sb_hex(b, CID_AT(i), 4);
                if (ranges) {
                    sb_str(b, "> <");
                    sb_hex(b, CID_AT(j - 1), 4);
                }
                sb_str(b, "> <");
                for (uint32_t k = 0; k < e->len; k++)
                    sb_utf16(b, f->pool[e->off + k]);
                sb_str(b, ">\n");
                in_block++;
            }
            i = is_range ? j : i + 1;
        }
        if (in_block) {
            sb_str(b, ranges ? "endbfrange\n" : "endbfchar\n");
            if (!b->failed && in_block < 100) { /* the count was written as "100 ": rewrite it in place */
                char num[4] = "   ";
                int w = snprintf(num, sizeof num, "%zu", in_block);
                memset(b->data + block_start, ' ', 3);
                memcpy(b->data + block_start, num, (size_t)w);
            }
        }
    }
#undef CODE_AT
#undef CID_AT
    sb_str(b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
}

/* /CIDToGIDMap: CIDs are GIDs unless a glyph has further codes; then a stream of big-endian GIDs by CID. */
static int add_cid_to_gid(ctx *c, const pdf_font *f, HPDF_Dict cid, size_t n)
{
    int identity = 1;
    for (size_t i = 0; i < f->code_count && identity; i++)
        identity = f->codes[i].cid == f->codes[i].gid;
    if (identity)
        return HPDF_Dict_AddName(cid, "CIDToGIDMap", "Identity") == HPDF_OK ? VIP_OK
                                                                           : hpdf_fail(c, "filling a CID font");
    size_t len = 2 * ((size_t)f->max_cid + 1);
    unsigned char *map = calloc(len, 1);
    if (!map)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        const code_entry *e = &f->codes[(uint32_t)c->order[i]];
        map[2 * e->cid] = (unsigned char)(e->gid >> 8);
        map[2 * e->cid + 1] = (unsigned char)(e->gid & 0xFF);
    }
    HPDF_Dict stream = HPDF_DictStream_New(c->pdf->mmgr, c->pdf->xref);
    int rc = !stream || HPDF_Dict_Add(cid, "CIDToGIDMap", stream) != HPDF_OK
                 ? hpdf_fail(c, "writing a CIDToGIDMap")
                 : write_deflating(c, stream, (const char *)map, len, "writing a CIDToGIDMap");
    free(map);
    return rc;
}

static int build_font(ctx *c, pdf_font *f)
{
    HPDF_MMgr mm = c->pdf->mmgr;
    const vip_font_metrics *m = vip_font_get_metrics(f->font);
    double scale = 1000.0 / (m->upem ? m->upem : 1000);
    int cff = vip_font_is_cff(f->font);

    /* The glyph set, sorted, for the subset. */
    size_t n = 0;
    if (reserve(&c->gids, &c->gids_cap, f->count, sizeof *c->gids))
        return nomem(c);
    for (size_t i = 0; i < f->cap; i++)
        if (f->slots[i].key)
            c->gids[n++] = f->slots[i].key - 1;
    qsort(c->gids, n, sizeof *c->gids, cmp_u32);

    HPDF_Dict file = font_file(c, f, n);
    if (!file)
        return c->err->code;

    /* The codes, sorted by CID, with the widths /W will say (the same ones the TJ adjustments assumed). */
    long ncodes = sorted_codes(c, f);
    uint32_t *cids = ncodes >= 0 ? malloc(((size_t)ncodes + 1) * sizeof *cids) : NULL;
    if (!cids || reserve(&c->widths, &c->widths_cap, (size_t)ncodes + 1, sizeof *c->widths)) {
        free(cids);
        return nomem(c);
    }
    for (long i = 0; i < ncodes; i++) {
        cids[i] = (uint32_t)(c->order[i] >> 32);
        c->widths[i] = glyph_find(f, f->codes[(uint32_t)c->order[i]].gid)->width;
    }

    /* Names are at most 127 bytes: TAG+ (7), the PostScript name, and "-Identity-H" (11) for CFF. */
    char tag[7], base[128], type0_name[128];
    subset_tag(c->gids, n, vip_font_postscript_name(f->font), tag);
    snprintf(base, sizeof base, "%s+%.*s", tag, 108, vip_font_postscript_name(f->font));
    snprintf(type0_name, sizeof type0_name, cff ? "%s-Identity-H" : "%s", base);

    int bbox[4] = {(int)lround(m->bbox[0] * scale), (int)lround(m->bbox[1] * scale),
                   (int)lround(m->bbox[2] * scale), (int)lround(m->bbox[3] * scale)};
    HPDF_Dict desc = new_indirect(c), cid = new_indirect(c);
    if (!desc || !cid)
        return hpdf_fail(c, "creating font objects");
    HPDF_STATUS s = HPDF_OK;
    s |= HPDF_Dict_AddName(desc, "Type", "FontDescriptor");
    s |= HPDF_Dict_AddName(desc, "FontName", base);
    s |= HPDF_Dict_AddNumber(desc, "Flags", 4); /* symbolic: the glyphs are not in a standard encoding */
    s |= add_int_array(c, desc, "FontBBox", bbox, 4);
    s |= HPDF_Dict_AddNumber(desc, "ItalicAngle", m->italic_angle);
    s |= HPDF_Dict_AddNumber(desc, "Ascent", (HPDF_INT32)lround(m->ascender * scale));
    s |= HPDF_Dict_AddNumber(desc, "Descent", (HPDF_INT32)lround(m->descender * scale));
    s |= HPDF_Dict_AddNumber(desc, "CapHeight", (HPDF_INT32)lround(m->cap_height * scale));
    s |= HPDF_Dict_AddNumber(desc, "StemV", 80); /* required; nothing uses it for embedded fonts */
    s |= HPDF_Dict_Add(desc, cff ? "FontFile3" : "FontFile2", file);
    if (s != HPDF_OK)
        return hpdf_fail(c, "filling a font descriptor");

    int32_t dw = ncodes ? common_width(c, (size_t)ncodes) : 1000;
    HPDF_Dict sysinfo = HPDF_Dict_New(mm);
    s |= HPDF_Dict_AddName(cid, "Type", "Font");
    s |= HPDF_Dict_AddName(cid, "Subtype", cff ? "CIDFontType0" : "CIDFontType2");
    s |= HPDF_Dict_AddName(cid, "BaseFont", base);
    s |= HPDF_Dict_Add(cid, "CIDSystemInfo", sysinfo);
    if (s == HPDF_OK) {
        s |= HPDF_Dict_Add(sysinfo, "Registry", HPDF_String_New(mm, "Adobe", NULL));
        s |= HPDF_Dict_Add(sysinfo, "Ordering", HPDF_String_New(mm, "Identity", NULL));
        s |= HPDF_Dict_AddNumber(sysinfo, "Supplement", 0);
    }
    s |= HPDF_Dict_Add(cid, "FontDescriptor", desc);
    s |= HPDF_Dict_AddNumber(cid, "DW", dw);
    s |= add_widths(c, cid, cids, (size_t)ncodes, dw);
    free(cids);
    if (s != HPDF_OK)
        return hpdf_fail(c, "filling a CID font");
    /* The subset kept the original GIDs (/CIDToGIDMap maps codes to them); a CFF subset its CIDs. */
    if (!cff) {
        int rc = add_cid_to_gid(c, f, cid, (size_t)ncodes);
        if (rc)
            return rc;
    }

    to_unicode_text(c, f, (size_t)ncodes);
    if (c->out.failed)
        return nomem(c);
    HPDF_Dict tounicode = HPDF_DictStream_New(mm, c->pdf->xref);
    if (!tounicode)
        return hpdf_fail(c, "writing a ToUnicode CMap");
    int rc = write_deflating(c, tounicode, c->out.data, c->out.len, "writing a ToUnicode CMap");
    if (rc)
        return rc;

    HPDF_Array descendants = HPDF_Array_New(mm);
    s |= HPDF_Dict_AddName(f->type0, "Type", "Font");
    s |= HPDF_Dict_AddName(f->type0, "Subtype", "Type0");
    s |= HPDF_Dict_AddName(f->type0, "BaseFont", type0_name);
    s |= HPDF_Dict_AddName(f->type0, "Encoding", "Identity-H");
    s |= HPDF_Dict_Add(f->type0, "DescendantFonts", descendants);
    if (s == HPDF_OK)
        s |= HPDF_Array_Add(descendants, cid);
    s |= HPDF_Dict_Add(f->type0, "ToUnicode", tounicode);
    if (s != HPDF_OK)
        return hpdf_fail(c, "filling font objects");
    return VIP_OK;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Metadata and outlines.                                                                                        */

/* Sets dict[key] to a text string in UTF-16BE with a byte-order mark, written in hex: right for any script. */
static int add_text_string(ctx *c, HPDF_Dict dict, const char *key, const char *utf8)
{
    c->bytes.len = 0;
    sb_utf16be_bytes(&c->bytes, utf8);
    if (c->bytes.failed)
        return nomem(c);
    if (c->bytes.len > HPDF_LIMIT_MAX_STRING_LEN)
        return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: text for /%s is longer than a PDF string may be", key);
    HPDF_Binary b = HPDF_Binary_New(c->pdf->mmgr, (HPDF_BYTE *)c->bytes.data, (HPDF_UINT)c->bytes.len);
    if (HPDF_Dict_Add(dict, key, b) != HPDF_OK)
        return hpdf_fail(c, "writing a text string");
    return VIP_OK;
}

static int write_metadata(ctx *c)
{
    const vip_page_doc *doc = c->doc;
    /* Replaces libharu's own Producer. No dates and no /ID, so that output depends on the input alone. */
    if (HPDF_SetInfoAttr(c->pdf, HPDF_INFO_PRODUCER, "vipgen " VIP_VERSION) != HPDF_OK)
        return hpdf_fail(c, "setting the producer");
    if (doc->title && *doc->title) {
        int rc = add_text_string(c, c->pdf->info, "Title", doc->title);
        if (rc)
            return rc;
    }
    if (doc->lang && *doc->lang) {
        for (const char *p = doc->lang; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
                return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: '%s' is not a BCP 47 language tag", doc->lang);
        if (HPDF_Dict_Add(c->pdf->catalog, "Lang", HPDF_String_New(c->pdf->mmgr, doc->lang, NULL)) != HPDF_OK)
            return hpdf_fail(c, "setting the language");
    }
    return VIP_OK;
}

static int write_outlines(ctx *c)
{
    const vip_page_doc *doc = c->doc;
    enum { MAX_LEVEL = 16 };
    HPDF_Outline parents[MAX_LEVEL + 1] = {NULL}; /* the last outline at each level; [0] is the root */
    HPDF_MMgr mm = c->pdf->mmgr;
    for (size_t i = 0; i < doc->outline_count; i++) {
        const vip_page_outline *o = &doc->outlines[i];
        if (o->page >= doc->page_count)
            return vip_error_set(c->err, VIP_ERR_INPUT, "pdf: outline entry '%s' names page %zu of %zu", o->title,
                                 o->page + 1, doc->page_count);
        int level = o->level < 1 ? 1 : o->level > MAX_LEVEL ? MAX_LEVEL : o->level;
        while (level > 1 && !parents[level - 1])
            level--;
        /* libharu would write the title through an 8-bit encoder; it is replaced below by a UTF-16 string. */
        HPDF_Outline ol = HPDF_CreateOutline(c->pdf, parents[level - 1], "", NULL);
        if (!ol)
            return hpdf_fail(c, "adding an outline entry");
        parents[level] = ol;
        for (int k = level + 1; k <= MAX_LEVEL; k++)
            parents[k] = NULL;
        int rc = add_text_string(c, ol, "Title", o->title);
        if (rc)
            return rc;
        /* [page /XYZ null top null]: keeps the reader's zoom, which HPDF_Destination_SetXYZ cannot express. */
        HPDF_Array dest = HPDF_Array_New(mm);
        HPDF_STATUS s = HPDF_Dict_Add(ol, "Dest", dest);
        if (s != HPDF_OK)
            return hpdf_fail(c, "adding an outline entry");
        s |= HPDF_Array_Add(dest, c->pages[o->page]);
        s |= HPDF_Array_AddName(dest, "XYZ");
        s |= HPDF_Array_Add(dest, HPDF_Null_New(mm));
        s |= HPDF_Array_AddReal(dest, (HPDF_REAL)(doc->pages[o->page].height - o->y));
        s |= HPDF_Array_Add(dest, HPDF_Null_New(mm));
        s |= HPDF_Outline_SetOpened(ol, HPDF_TRUE);
        if (s != HPDF_OK)
            return hpdf_fail(c, "adding an outline entry");
    }
    if (doc->outline_count && HPDF_SetPageMode(c->pdf, HPDF_PAGE_MODE_USE_OUTLINE) != HPDF_OK)
        return hpdf_fail(c, "showing the outline");
    return VIP_OK;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Tagged PDF: the structure tree, its parent tree, and what PDF/UA asks of the catalog.                           */

/* One entry of an element's /K: a child element, or one of its marks (marked content or an annotation). */
typedef struct kid {
    size_t parent;
    uint64_t order;
    size_t element; /* a child element; SIZE_MAX for a mark */
    size_t mark;    /* marks of one item (a run an ActualText span interrupts) keep their drawing order */
} kid;

static int cmp_kid(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->mark > y->mark) - (x->mark < y->mark);
}

static HPDF_STATUS add_lang(ctx *c, HPDF_Dict d, const char *lang)
{
    return HPDF_Dict_Add(d, "Lang", HPDF_String_New(c->pdf->mmgr, lang, NULL));
}

/* A figure's layout attributes: /A << /O /Layout /BBox [left bottom right top] >>, its image's place on the page
 * (the first image of the element). */
static HPDF_STATUS add_figure_bbox(ctx *c, HPDF_Dict dict, size_t element)
{
    HPDF_MMgr mm = c->pdf->mmgr;
    for (size_t p = 0; p < c->doc->page_count; p++) {
        const vip_page *page = &c->doc->pages[p];
        for (size_t i = 0; i < page->item_count; i++) {
            const vip_page_item *it = &page->items[i];
            if (it->tag != element || it->kind != VIP_PAGE_IMAGE)
                continue;
            const vip_page_image *im = &it->u.image;
            HPDF_Dict a = HPDF_Dict_New(mm);
            HPDF_Array box = a ? HPDF_Array_New(mm) : NULL;
            if (!box)
                return HPDF_FAILD_TO_ALLOC_MEM;
            HPDF_STATUS s = HPDF_Dict_Add(dict, "A", a);
            s |= HPDF_Dict_AddName(a, "O", "Layout");
            s |= HPDF_Dict_Add(a, "BBox", box);
            s |= HPDF_Array_AddReal(box, (HPDF_REAL)im->x);
            s |= HPDF_Array_AddReal(box, (HPDF_REAL)(page->height - im->y - im->height));
            s |= HPDF_Array_AddReal(box, (HPDF_REAL)(im->x + im->width));
            s |= HPDF_Array_AddReal(box, (HPDF_REAL)(page->height - im->y));
            return s;
        }
    }
    return HPDF_OK;
}

/* A marked-content reference: the MCID alone when on the element's own page; else, as for an annotation, a
 * reference with its page (MCR, OBJR). */
static HPDF_STATUS add_mcr(ctx *c, HPDF_Array k, const struct pdf_mark *m, size_t element_page)
{
    if (m->mcid >= 0 && m->page == element_page)
        return HPDF_Array_AddNumber(k, m->mcid);
    HPDF_Dict ref = HPDF_Dict_New(c->pdf->mmgr);
    if (!ref)
        return HPDF_FAILD_TO_ALLOC_MEM;
    HPDF_STATUS s = HPDF_Array_Add(k, ref);
    s |= HPDF_Dict_AddName(ref, "Type", m->mcid < 0 ? "OBJR" : "MCR");
    s |= HPDF_Dict_Add(ref, "Pg", c->pages[m->page]);
    s |= m->mcid < 0 ? HPDF_Dict_Add(ref, "Obj", m->annot) : HPDF_Dict_AddNumber(ref, "MCID", m->mcid);
    return s;
}

/* The structure tree from the elements layout made and the marks drawn: every element that holds content, its
 * kids in reading order (marked content of a right-to-left line is listed in logical order, whatever order the
 * page draws it in), runs in another language in a Span with /Lang; the parent tree maps each page's MCIDs and
 * each link annotation back to its element. */
static int write_structure(ctx *c)
{
    const vip_page_doc *doc = c->doc;
    size_t n = doc->element_count;
    HPDF_MMgr mm = c->pdf->mmgr;
    HPDF_Dict *dicts = calloc(n, sizeof *dicts), *mark_dicts = calloc(c->mark_count + 1, sizeof *mark_dicts);
    size_t *first_page = malloc(n * sizeof *first_page);
    kid *kids = malloc((n + c->mark_count) * sizeof *kids);
    HPDF_Array *parents = calloc(doc->page_count, sizeof *parents);
    unsigned char *kept = calloc(n, 1);
    int rc = VIP_OK;
    if (!dicts || !mark_dicts || !first_page || !kids || !parents || !kept) {
        rc = nomem(c);
        goto done;
    }
    /* The page of each element's first content is its /Pg. */
    for (size_t e = 0; e < n; e++)
        first_page[e] = SIZE_MAX;
    for (size_t m = 0; m < c->mark_count; m++) {
        const struct pdf_mark *mk = &c->marks[m];
        if (first_page[mk->element] == SIZE_MAX || mk->order < c->marks[first_page[mk->element]].order)
            first_page[mk->element] = m; /* the element's first mark, for now */
    }
    for (size_t e = 0; e < n; e++)
        first_page[e] = first_page[e] == SIZE_MAX ? SIZE_MAX : c->marks[first_page[e]].page;
    /* Elements with content and their ancestors are written, empty ones left out. Parents come before their
     * children, so a walk from the last element back meets every child before its parent. */
    HPDF_STATUS s = HPDF_OK;
    size_t kid_count = 0;
    for (size_t e = n; e-- > 1;) {
        if (first_page[e] == SIZE_MAX && !kept[e])
            continue;
        size_t parent = doc->elements[e].parent < e ? doc->elements[e].parent : 0;
        if (!(dicts[e] = new_indirect(c))) {
            rc = hpdf_fail(c, "writing the structure tree");
            goto done;
        }
        kept[parent] = 1;
        kids[kid_count++] = (kid){parent, doc->elements[e].order, e, 0};
    }
    HPDF_Dict root = new_indirect(c);
    if (!root || !(dicts[0] = new_indirect(c))) {
        rc = hpdf_fail(c, "writing the structure tree");
        goto done;
    }
    for (size_t m = 0; m < c->mark_count; m++)
        kids[kid_count++] = (kid){c->marks[m].element, c->marks[m].order, SIZE_MAX, m};
    qsort(kids, kid_count, sizeof *kids, cmp_kid);

    s |= HPDF_Dict_AddName(root, "Type", "StructTreeRoot");
    s |= HPDF_Dict_Add(root, "K", dicts[0]);
    for (size_t e = 0; e < n; e++) {
        if (!dicts[e])
            continue;
        const vip_page_element *el = &doc->elements[e];
        s |= HPDF_Dict_AddName(dicts[e], "Type", "StructElem");
        s |= HPDF_Dict_AddName(dicts[e], "S", role_names[el->role]);
        s |= HPDF_Dict_Add(dicts[e], "P", e ? dicts[el->parent < e ? el->parent : 0] : root);
        if (e && first_page[e] != SIZE_MAX)
            s |= HPDF_Dict_Add(dicts[e], "Pg", c->pages[first_page[e]]);
        if (e && el->lang)
            s |= add_lang(c, dicts[e], el->lang);
        if (el->alt && (rc = add_text_string(c, dicts[e], "Alt", el->alt)))
            goto done;
        if (el->role == VIP_ROLE_FIGURE)
            s |= add_figure_bbox(c, dicts[e], e);
        if (el->scope != VIP_SCOPE_NONE) {
            HPDF_Dict a = HPDF_Dict_New(mm);
            s |= a ? HPDF_Dict_Add(dicts[e], "A", a) : HPDF_FAILD_TO_ALLOC_MEM;
            s |= a ? HPDF_Dict_AddName(a, "O", "Table") : HPDF_OK;
            s |= a ? HPDF_Dict_AddName(a, "Scope", el->scope == VIP_SCOPE_ROW ? "Row" : "Column") : HPDF_OK;
        }
    }
    /* Each element's kids, in reading order; consecutive runs in one other language share a Span. */
    for (size_t k = 0; k < kid_count;) {
        size_t e = kids[k].parent, end = k;
        while (end < kid_count && kids[end].parent == e)
            end++;
        HPDF_Array arr = HPDF_Array_New(mm);
        s |= arr ? HPDF_Dict_Add(dicts[e], "K", arr) : HPDF_FAILD_TO_ALLOC_MEM;
        for (; k < end && s == HPDF_OK; k++) {
            if (kids[k].element != SIZE_MAX) {
                s |= HPDF_Array_Add(arr, dicts[kids[k].element]);
                continue;
            }
            const struct pdf_mark *m = &c->marks[kids[k].mark];
            if (!m->lang) {
                s |= add_mcr(c, arr, m, first_page[e]);
                mark_dicts[kids[k].mark] = dicts[e];
                continue;
            }
            HPDF_Dict span = new_indirect(c);
            HPDF_Array sk = HPDF_Array_New(mm);
            if (!span || !sk) {
                s |= HPDF_FAILD_TO_ALLOC_MEM;
                break;
            }
            s |= HPDF_Array_Add(arr, span);
            s |= HPDF_Dict_AddName(span, "Type", "StructElem");
            s |= HPDF_Dict_AddName(span, "S", "Span");
            s |= HPDF_Dict_Add(span, "P", dicts[e]);
            s |= HPDF_Dict_Add(span, "Pg", c->pages[m->page]);
            s |= add_lang(c, span, m->lang);
            s |= HPDF_Dict_Add(span, "K", sk);
            for (; k < end && kids[k].element == SIZE_MAX && c->marks[kids[k].mark].lang &&
                   strcmp(c->marks[kids[k].mark].lang, m->lang) == 0;
                 k++) {
                s |= add_mcr(c, sk, &c->marks[kids[k].mark], m->page);
                mark_dicts[kids[k].mark] = span;
            }
            k--;
        }
    }
    /* The parent tree: per page, the element of each MCID in order; per link annotation, its element. */
    HPDF_Dict tree = HPDF_Dict_New(mm);
    HPDF_Array nums = HPDF_Array_New(mm);
    s |= tree && nums ? HPDF_Dict_Add(root, "ParentTree", tree) : HPDF_FAILD_TO_ALLOC_MEM;
    s |= tree && nums ? HPDF_Dict_Add(tree, "Nums", nums) : HPDF_OK;
    for (size_t p = 0; p < doc->page_count && s == HPDF_OK; p++) {
        s |= HPDF_Array_AddNumber(nums, (HPDF_INT32)p);
        s |= (parents[p] = HPDF_Array_New(mm)) ? HPDF_Array_Add(nums, parents[p]) : HPDF_FAILD_TO_ALLOC_MEM;
    }
    for (size_t m = 0; m < c->mark_count && s == HPDF_OK; m++) /* marks are in drawing order: MCIDs ascending */
        if (c->marks[m].mcid >= 0)
            s |= HPDF_Array_Add(parents[c->marks[m].page], mark_dicts[m]);
    for (size_t m = 0, a = 0; m < c->mark_count && s == HPDF_OK; m++)
        if (c->marks[m].mcid < 0) {
            s |= HPDF_Array_AddNumber(nums, (HPDF_INT32)(doc->page_count + a++));
            s |= HPDF_Array_Add(nums, mark_dicts[m]);
        }
    s |= HPDF_Dict_AddNumber(root, "ParentTreeNextKey", (HPDF_INT32)(doc->page_count + c->annot_count));
    s |= HPDF_Dict_Add(c->pdf->catalog, "StructTreeRoot", root);
    HPDF_Dict mark_info = HPDF_Dict_New(mm), viewer = HPDF_Dict_New(mm);
    s |= mark_info && viewer ? HPDF_Dict_Add(c->pdf->catalog, "MarkInfo", mark_info) : HPDF_FAILD_TO_ALLOC_MEM;
    s |= mark_info ? HPDF_Dict_AddBoolean(mark_info, "Marked", HPDF_TRUE) : HPDF_OK;
    /* Readers show the title, not the file name. */
    s |= viewer ? HPDF_Dict_Add(c->pdf->catalog, "ViewerPreferences", viewer) : HPDF_OK;
    s |= viewer ? HPDF_Dict_AddBoolean(viewer, "DisplayDocTitle", HPDF_TRUE) : HPDF_OK;
    if (s != HPDF_OK)
        rc = hpdf_fail(c, "writing the structure tree");
done:
    free(dicts);
    free(mark_dicts);
    free(first_page);
    free(kids);
    free(parents);
    free(kept);
    return rc;
}

/* Appends text escaped for XML. */
static void sb_xml(sbuf *b, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '<': sb_str(b, "&lt;"); break;
        case '>': sb_str(b, "&gt;"); break;
        case '&': sb_str(b, "&amp;"); break;
        default: sb_char(b, *s);
        }
}

/* The XMP metadata PDF/UA asks for: title, language, producer and the PDF/UA identifier. Uncompressed, so that
 * tools that search for it without parsing the PDF find it; no dates and no IDs, so the bytes stay the same. */
static int write_xmp(ctx *c)
{
    sbuf *b = &c->out;
    b->len = 0;
    sb_str(b, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
              "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
              "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
              "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
              "xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n"
              "<dc:format>application/pdf</dc:format>\n");
    if (c->doc->title && *c->doc->title) {
        sb_str(b, "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">");
        sb_xml(b, c->doc->title);
        sb_str(b, "</rdf:li></rdf:Alt></dc:title>\n");
    }
    if (c->doc->lang && *c->doc->lang) {
        sb_str(b, "<dc:language><rdf:Bag><rdf:li>");
        sb_xml(b, c->doc->lang);
        sb_str(b, "</rdf:li></rdf:Bag></dc:language>\n");
    }
    sb_str(b, "<pdf:Producer>vipgen " VIP_VERSION "</pdf:Producer>\n"
              "<pdfuaid:part>1</pdfuaid:part>\n"
              "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"r\"?>\n");
    if (b->failed)
        return nomem(c);
    HPDF_Dict d = HPDF_DictStream_New(c->pdf->mmgr, c->pdf->xref);
    if (!d)
        return hpdf_fail(c, "writing the metadata");
    d->filter = HPDF_STREAM_FILTER_NONE;
    HPDF_STATUS s = HPDF_Dict_AddName(d, "Type", "Metadata");
    s |= HPDF_Dict_AddName(d, "Subtype", "XML");
    s |= HPDF_Stream_Write(d->stream, (const HPDF_BYTE *)b->data, (HPDF_UINT)b->len);
    s |= HPDF_Dict_Add(c->pdf->catalog, "Metadata", d);
    b->len = 0;
    return s == HPDF_OK ? VIP_OK : hpdf_fail(c, "writing the metadata");
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Entry points.                                                                                                 */

static void ctx_free(ctx *c)
{
    for (size_t i = 0; i < c->font_count; i++) {
        free(c->fonts[i].slots);
        free(c->fonts[i].codes);
        free(c->fonts[i].pool);
    }
    free(c->fonts);
    free(c->images);
    free(c->pages);
    free(c->out.data);
    free(c->bytes.data);
    free(c->uniq);
    free(c->seen);
    free(c->cps);
    free(c->nominal);
    free(c->strs);
    free(c->starts);
    free(c->txt);
    free(c->uses);
    free(c->order);
    free(c->gids);
    free(c->widths);
    free(c->marks);
    free(c->line_text);
    free(c->props.data);
    free(c->prop_ends);
    free(c->line_seen);
    if (c->pdf)
        HPDF_Free(c->pdf);
}

static int save(ctx *c, unsigned char **out, size_t *out_len)
{
    if (HPDF_SaveToStream(c->pdf) != HPDF_OK)
        return hpdf_fail(c, "saving the document");
    HPDF_UINT32 size = HPDF_GetStreamSize(c->pdf);
    unsigned char *buf = size ? malloc(size) : NULL;
    if (!buf)
        return size ? nomem(c) : hpdf_fail(c, "saving the document");
    HPDF_UINT32 got = size;
    if (HPDF_ReadFromStream(c->pdf, buf, &got) != HPDF_OK || got != size) {
        free(buf);
        return hpdf_fail(c, "reading the saved document");
    }
    *out = buf;
    *out_len = size;
    return VIP_OK;
}

int vip_pdf_render(const vip_page_doc *doc, unsigned char **out, size_t *out_len, vip_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!doc || doc->page_count == 0)
        return vip_error_set(err, VIP_ERR_INPUT, "pdf: the document has no pages");
    ctx c;
    vip_error local;
    memset(&c, 0, sizeof c);
    c.doc = doc;
    c.err = err ? err : &local;
    c.pdf = HPDF_New(hpdf_on_error, &c);
    if (!c.pdf)
        return vip_error_set(err, VIP_ERR_NOMEM, "pdf: cannot create a document (out of memory)");
    int rc = VIP_OK;
    /* Compression applies only to pages added after it is set; ActualText and FontFile3 need PDF 1.5+. */
    if (HPDF_SetCompressionMode(c.pdf, HPDF_COMP_ALL) != HPDF_OK)
        rc = hpdf_fail(&c, "setting compression");
    c.pdf->pdf_version = HPDF_VER_17;
    c.tagged = doc->element_count > 1; /* a structure tree from layout */
    if (!rc)
        rc = analyse(&c);
    for (size_t i = 0; !rc && i < c.font_count; i++)
        rc = c.fonts[i].per_use ? assign_cids(&c, &c.fonts[i]) : VIP_OK;
    if (!rc)
        rc = draw_pages(&c);
    for (size_t i = 0; !rc && i < c.font_count; i++)
        rc = build_font(&c, &c.fonts[i]);
    if (!rc)
        rc = write_metadata(&c);
    if (!rc)
        rc = write_outlines(&c);
    if (!rc && c.tagged)
        rc = write_structure(&c);
    if (!rc && c.tagged)
        rc = write_xmp(&c);
    if (!rc)
        rc = save(&c, out, out_len);
    ctx_free(&c);
    return rc;
}

int vip_pdf_write(const vip_page_doc *doc, const char *path, vip_error *err)
{
    unsigned char *buf;
    size_t len;
    int rc = vip_pdf_render(doc, &buf, &len, err);
    if (rc)
        return rc;
    rc = vip_outfile_write_whole(path, buf, len, err);
    free(buf);
    return rc;
}
