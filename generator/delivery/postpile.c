#include "postpile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* A postcode as its parts: "NT10 4AB" → area "NT", district 10, rest "", inward "4AB". Anything not shaped like a
 * postcode keeps its whole text in area, so it still sorts, deterministically. */
typedef struct postcode_key {
    char area[32], rest[32], inward[8];
    long district;
} postcode_key;

static void postcode_key_of(const char *postcode, postcode_key *k)
{
    char norm[32];
    size_t n = 0;
    memset(k, 0, sizeof *k);
    for (const char *p = postcode ? postcode : ""; *p && n < sizeof norm - 1; p++)
        if (!isspace((unsigned char)*p))
            norm[n++] = (char)toupper((unsigned char)*p);
    norm[n] = '\0';
    if (n < 5 || n > 7) {
        snprintf(k->area, sizeof k->area, "%s", norm);
        return;
    }
    snprintf(k->inward, sizeof k->inward, "%s", norm + n - 3);
    norm[n - 3] = '\0';
    size_t i = 0;
    while (norm[i] && isalpha((unsigned char)norm[i]))
        i++;
    snprintf(k->area, sizeof k->area, "%.*s", (int)i, norm);
    while (norm[i] && isdigit((unsigned char)norm[i]))
        k->district = k->district * 10 + (norm[i++] - '0');
    snprintf(k->rest, sizeof k->rest, "%s", norm + i);
}

int vip_postpile_compare_postcodes(const char *a, const char *b)
{
    postcode_key x, y;
    postcode_key_of(a, &x);
    postcode_key_of(b, &y);
    int c = strcmp(x.area, y.area);
    if (c)
        return c;
    if (x.district != y.district)
        return x.district < y.district ? -1 : 1;
    if ((c = strcmp(x.rest, y.rest)))
        return c;
    return strcmp(x.inward, y.inward);
}

typedef struct sort_item {
    const vip_postpile_letter *letter;
    size_t index;
} sort_item;

static int by_postcode(const void *pa, const void *pb)
{
    const sort_item *x = pa, *y = pb;
    const vip_postpile_letter *a = x->letter, *b = y->letter;
    int c = vip_postpile_compare_postcodes(a->postcode, b->postcode);
    if (!c)
        c = strcmp(a->crime_ref ? a->crime_ref : "", b->crime_ref ? b->crime_ref : "");
    if (!c)
        c = strcmp(a->pdf_path, b->pdf_path);
    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

static char *read_whole(const char *path, size_t *len, vip_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot read the letter: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf) {
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (got != (size_t)st.st_size) {
        vip_error_set(err, VIP_ERR_IO, "%s: reading the letter failed", path);
        free(buf);
        return NULL;
    }
    *len = got;
    return buf;
}

/* qpdf reports errors through the qpdf_data; this turns the last one into a vip_error. */
static int qpdf_failed(qpdf_data q, const char *path, const char *what, vip_error *err)
{
    const char *detail = "unknown error";
    if (qpdf_has_error(q)) {
        qpdf_error e = qpdf_get_error(q);
        detail = qpdf_get_error_full_text(q, e);
    }
    return vip_error_set(err, VIP_ERR_INPUT, "%s: %s: %s", path, what, detail);
}

/* A copy of a page's key, made in the same document (so the two pages do not share one direct object). */
static int copy_key(qpdf_data q, qpdf_oh from, qpdf_oh to, const char *key)
{
    if (!qpdf_oh_has_key(q, from, key))
        return 0;
    qpdf_oh value = qpdf_oh_get_key(q, from, key);
    /* The unparsed text lives in a buffer qpdf reuses: copied before the next call. */
    char *text = strdup(qpdf_oh_unparse_resolved(q, value));
    if (!text)
        return -1;
    qpdf_oh_replace_key(q, to, key, qpdf_oh_parse(q, text));
    free(text);
    return 0;
}

/* Adds a letter's pages to out, and a blank page after an odd count. The blank page is made in the letter's own
 * document, beside its last page, and copied over like the others. */
static int add_letter(qpdf_data out, qpdf_data src, const char *path, size_t *pages, size_t *blanks, vip_error *err)
{
    int n = qpdf_get_num_pages(src);
    if (n < 0 || qpdf_has_error(src))
        return qpdf_failed(src, path, "cannot read its pages", err);
    if (n == 0)
        return vip_error_set(err, VIP_ERR_INPUT, "%s: the letter has no pages", path);
    /* Pages may inherit their size and resources from the page tree, which does not come along when a page is
     * copied into another document. */
    if (qpdf_push_inherited_attributes_to_page(src) & QPDF_ERRORS)
        return qpdf_failed(src, path, "cannot read its page tree", err);
    for (int i = 0; i < n; i++) {
        qpdf_oh page = qpdf_get_page_n(src, (size_t)i);
        if ((qpdf_add_page(out, src, page, QPDF_FALSE) & QPDF_ERRORS) || qpdf_has_error(src))
            return qpdf_failed(qpdf_has_error(out) ? out : src, path, "cannot copy a page", err);
    }
    *pages += (size_t)n;
    if (n % 2 == 1) {
        qpdf_oh last = qpdf_get_page_n(src, (size_t)n - 1);
        qpdf_oh blank = qpdf_oh_new_dictionary(src);
        qpdf_oh_replace_key(src, blank, "/Type", qpdf_oh_new_name(src, "/Page"));
        qpdf_oh_replace_key(src, blank, "/Resources", qpdf_oh_new_dictionary(src));
        if (copy_key(src, last, blank, "/MediaBox") || copy_key(src, last, blank, "/CropBox") ||
            copy_key(src, last, blank, "/Rotate") || copy_key(src, last, blank, "/UserUnit"))
            return vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", path);
        qpdf_oh indirect = qpdf_oh_new_object(src, blank);
        if (qpdf_has_error(src))
            return qpdf_failed(src, path, "cannot make a blank page", err);
        if ((qpdf_add_page(out, src, indirect, QPDF_FALSE) & QPDF_ERRORS) || qpdf_has_error(src))
            return qpdf_failed(qpdf_has_error(out) ? out : src, path, "cannot add a blank page", err);
        (*pages)++;
        (*blanks)++;
    }
    return VIP_OK;
}

int vip_postpile_write(const char *out_path, const vip_postpile_letter *letters, size_t count, size_t *order,
                       vip_postpile_result *result, vip_error *err)
{
    if (count == 0)
        return vip_error_set(err, VIP_ERR_INTERNAL, "%s: no letters to post", out_path);
    sort_item *idx = malloc(count * sizeof *idx);
    qpdf_data *src = calloc(count, sizeof *src);
    char **bufs = calloc(count, sizeof *bufs);
    qpdf_data out = qpdf_init();
    int rc = VIP_OK;
    if (!idx || !src || !bufs || !out) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", out_path);
        goto done;
    }
    qpdf_silence_errors(out);
    for (size_t i = 0; i < count; i++)
        idx[i] = (sort_item){&letters[i], i};
    qsort(idx, count, sizeof *idx, by_postcode);

    if (qpdf_empty_pdf(out) & QPDF_ERRORS) {
        rc = qpdf_failed(out, out_path, "cannot start the pile", err);
        goto done;
    }
    size_t pages = 0, blanks = 0;
    for (size_t k = 0; k < count && rc == VIP_OK; k++) {
        const vip_postpile_letter *l = idx[k].letter;
        size_t len = 0;
        /* The letter's bytes stay alive until the pile is written: qpdf copies page content lazily. */
        if (!(bufs[k] = read_whole(l->pdf_path, &len, err))) {
            rc = err ? err->code : VIP_ERR_IO;
            break;
        }
        if (!(src[k] = qpdf_init())) {
            rc = vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", l->pdf_path);
            break;
        }
        qpdf_silence_errors(src[k]);
        qpdf_set_suppress_warnings(src[k], QPDF_TRUE);
        if (qpdf_read_memory(src[k], l->pdf_path, bufs[k], len, "") & QPDF_ERRORS) {
            rc = qpdf_failed(src[k], l->pdf_path, "not a readable PDF", err);
            break;
        }
        rc = add_letter(out, src[k], l->pdf_path, &pages, &blanks, err);
    }
    if (rc != VIP_OK)
        goto done;

    qpdf_set_suppress_warnings(out, QPDF_TRUE);
    if (qpdf_init_write_memory(out) & QPDF_ERRORS) {
        rc = qpdf_failed(out, out_path, "cannot write the pile", err);
        goto done;
    }
    /* The /ID from the content, not the time: the same letters give the same bytes. */
    qpdf_set_deterministic_ID(out, QPDF_TRUE);
    qpdf_set_object_stream_mode(out, qpdf_o_generate);
    qpdf_set_compress_streams(out, QPDF_TRUE);
    if (qpdf_write(out) & QPDF_ERRORS) {
        rc = qpdf_failed(out, out_path, "cannot write the pile", err);
        goto done;
    }
    rc = vip_outfile_write_whole(out_path, qpdf_get_buffer(out), qpdf_get_buffer_length(out), err);
    if (rc == VIP_OK) {
        for (size_t k = 0; order && k < count; k++)
            order[k] = idx[k].index;
        if (result) {
            result->letters = count;
            result->pages = pages;
            result->blank_pages = blanks;
        }
    }

done:
    if (out)
        qpdf_cleanup(&out);
    for (size_t k = 0; src && k < count; k++)
        if (src[k])
            qpdf_cleanup(&src[k]);
    for (size_t k = 0; bufs && k < count; k++)
        free(bufs[k]);
    free(bufs);
    free(src);
    free(idx);
    return rc;
}
