#include "doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vip_doc *vip_doc_create(const char *title, const char *lang, vip_error *err)
{
    vip_doc *d = calloc(1, sizeof *d);
    if (d && (!title || (d->title = strdup(title))) && (d->lang = strdup(lang ? lang : "en")))
        return d;
    vip_doc_destroy(d);
    vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    return NULL;
}

void vip_rich_free(vip_rich *r)
{
    for (size_t s = 0; s < r->span_count; s++)
        free((char *)r->spans[s].lang);
    for (size_t l = 0; l < r->link_count; l++)
        free(r->links[l].uri);
    free(r->spans);
    free(r->links);
    free(r->text);
    memset(r, 0, sizeof *r);
}

int vip_rich_append(vip_rich *r, const char *text, size_t len, vip_error *err)
{
    char *nt = realloc(r->text, r->length + len + 1);
    if (!nt)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    if (len)
        memcpy(nt + r->length, text, len);
    r->text = nt;
    r->length += len;
    r->text[r->length] = '\0';
    return VIP_OK;
}

int vip_rich_add_span(vip_rich *r, size_t start, size_t end, const char *lang, vip_weight weight, vip_error *err)
{
    /* The array holds a power of two of spans (it is only ever grown here): full when the count is one. */
    if ((r->span_count & (r->span_count - 1)) == 0) {
        vip_text_span *ns = realloc(r->spans, (r->span_count ? 2 * r->span_count : 1) * sizeof *ns);
        if (!ns)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        r->spans = ns;
    }
    char *l = lang ? strdup(lang) : NULL;
    if (lang && !l)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    r->spans[r->span_count++] = (vip_text_span){start, end, l, weight};
    return VIP_OK;
}

int vip_rich_add_link(vip_rich *r, size_t start, size_t end, const char *uri, vip_error *err)
{
    vip_link *nl = realloc(r->links, (r->link_count + 1) * sizeof *nl);
    if (!nl)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    r->links = nl;
    char *u = strdup(uri);
    if (!u)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    r->links[r->link_count++] = (vip_link){start, end, u, 0, 0};
    return VIP_OK;
}

/* Addresses are recognised here, in the document tree, rather than marked in the templates: they are in the
 * catalogue's translated text (every language names victimsupport.org.uk) and in case values (an officer's email),
 * neither of which the template sees the inside of. ICU has no URL finder, and a full one (RFC 3986, every
 * top-level domain) would find false ones in prose ("e.g.", "No.5"): this one knows only what letters print. */

static int link_is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The end of a domain name starting at s[i] (labels of letters, digits and inner hyphens joined by dots; the
 * last label of two or more letters, lower case unless upper is set), or i when none starts there. */
static size_t domain_end(const char *s, size_t i, size_t n, int upper)
{
    size_t j = i, labels = 0, end = i;
    for (;;) {
        size_t start = j;
        int letters_only = 1;
        while (j < n && (link_is_alnum(s[j]) || (s[j] == '-' && j > start))) {
            if (!upper && s[j] >= 'A' && s[j] <= 'Z')
                return i;
            letters_only &= !(s[j] >= '0' && s[j] <= '9') && s[j] != '-';
            j++;
        }
        if (j == start || s[j - 1] == '-')
            return labels >= 2 ? end : i;
        labels++;
        if (labels >= 2 && letters_only && j - start >= 2)
            end = j;
        if (j + 1 < n && s[j] == '.' && link_is_alnum(s[j + 1]))
            j++;
        else
            return labels >= 2 && end == j ? end : i;
    }
}

/* Whether c may be in a URL's path (RFC 3986's unreserved and the delimiters a path or query uses). */
static int path_char(char c)
{
    return link_is_alnum(c) || (c && strchr("-._~/%?#=&+:@", c));
}

int vip_rich_find_links(vip_rich *r, vip_error *err)
{
    const char *s = r->text;
    size_t n = r->length;
    for (size_t i = 0; s && i < n;) {
        int covered = 0;
        for (size_t l = 0; l < r->link_count; l++)
            covered |= i >= r->links[l].start && i < r->links[l].end;
        char prev = i ? s[i - 1] : ' ';
        if (covered || link_is_alnum(prev) || (prev && strchr(".-_@/:%+", prev)) || !link_is_alnum(s[i])) {
            i++;
            continue;
        }
        size_t start = i, end = i;
        const char *scheme = "https://";
        if (strncmp(s + i, "https://", 8) == 0 || strncmp(s + i, "http://", 7) == 0) {
            size_t host = i + (s[i + 4] == 's' ? 8 : 7);
            end = domain_end(s, host, n, 1);
            end = end == host ? i : end;
            scheme = "";
        } else {
            /* An email: its local part, '@', its domain (case values may be in capitals). */
            size_t at = i;
            while (at < n && (link_is_alnum(s[at]) || strchr("._%+-", s[at])))
                at++;
            if (at < n && s[at] == '@' && at > i && s[at - 1] != '.') {
                end = domain_end(s, at + 1, n, 1);
                scheme = end > at + 1 ? "mailto:" : "";
                end = end > at + 1 ? end : i;
            } else {
                end = domain_end(s, i, n, 0);
            }
        }
        if (end == i || (end < n && (link_is_alnum(s[end]) || strchr("-_@", s[end])))) {
            /* Not an address: go on after this word's letters. */
            while (i < n && (link_is_alnum(s[i]) || strchr(".-_@", s[i])))
                i++;
            continue;
        }
        if (strcmp(scheme, "mailto:") != 0 && end < n && s[end] == '/') {
            while (end < n && path_char(s[end]))
                end++;
            while (end > start && strchr(".,;:!?)", s[end - 1]))
                end--;
        }
        char *uri = malloc(strlen(scheme) + (end - start) + 1);
        if (!uri)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        memcpy(uri, scheme, strlen(scheme));
        memcpy(uri + strlen(scheme), s + start, end - start);
        uri[strlen(scheme) + end - start] = '\0';
        int rc = vip_rich_add_link(r, start, end, uri, err);
        free(uri);
        if (rc)
            return rc;
        r->links[r->link_count - 1].plain = 1;
        i = end;
    }
    return VIP_OK;
}

void vip_doc_destroy(vip_doc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->block_count; i++) {
        vip_block *b = &d->blocks[i];
        vip_rich_free(&b->content);
        for (size_t c = 0; c < b->cell_count; c++)
            vip_rich_free(&b->cells[c]);
        free(b->cells);
        free(b->columns);
        free(b->cell_lines);
        free(b->marker);
        free(b->image_path);
        free(b->lang);
        free(b->where);
    }
    vip_rich_free(&d->header);
    if (d->user_free)
        d->user_free(d->user);
    free(d->blocks);
    free(d->title);
    free(d->lang);
    free(d);
}

vip_block *vip_doc_add_block(vip_doc *d, vip_block_kind kind, int level, const char *text, size_t len,
                             vip_align align, const char *where, vip_error *err)
{
    if (d->block_count == d->block_cap) {
        size_t cap = d->block_cap ? d->block_cap * 2 : 16;
        vip_block *nb = realloc(d->blocks, cap * sizeof *nb);
        if (!nb)
            goto nomem;
        d->blocks = nb;
        d->block_cap = cap;
    }
    vip_block *b = &d->blocks[d->block_count];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->level = level;
    b->align = align;
    if (vip_rich_append(&b->content, text ? text : "", text ? len : 0, err))
        return NULL;
    if (!(b->lang = strdup(d->lang)) || (where && !(b->where = strdup(where)))) {
        vip_rich_free(&b->content);
        free(b->lang);
        goto nomem;
    }
    d->block_count++;
    return b;
nomem:
    vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    return NULL;
}

int vip_block_add_span(vip_block *b, size_t start, size_t end, const char *lang, vip_weight weight, vip_error *err)
{
    return vip_rich_add_span(&b->content, start, end, lang, weight, err);
}

/* A growing byte buffer for assembling a paragraph. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf;

static int sb_add(strbuf *sb, const char *s, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *nd = realloc(sb->data, cap);
        if (!nd)
            return -1;
        sb->data = nd;
        sb->cap = cap;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return 0;
}

typedef struct span_mark {
    size_t start, end;
    char lang[24];
} span_mark;

/* Adds the paragraph collected so far: strips the alignment prefix and [[tag:text]] span marks. */
static int flush_paragraph(vip_doc *d, strbuf *sb, const char *path, int line, vip_error *err)
{
    if (sb->len == 0)
        return VIP_OK;
    static const struct {
        const char *prefix;
        vip_align align;
    } prefixes[] = {{"{center} ", VIP_ALIGN_CENTER},
                    {"{end} ", VIP_ALIGN_END},
                    {"{justify} ", VIP_ALIGN_JUSTIFY},
                    {"{start} ", VIP_ALIGN_START}};
    const char *s = sb->data;
    vip_align align = VIP_ALIGN_START;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(s, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0) {
            align = prefixes[i].align;
            s += strlen(prefixes[i].prefix);
        }
    strbuf out = {0};
    span_mark *marks = NULL;
    size_t nmarks = 0, mark_cap = 0;
    int rc = VIP_OK;
    while (*s) {
        const char *open = strstr(s, "[[");
        const char *colon = open ? strchr(open, ':') : NULL;
        const char *close = colon ? strstr(colon, "]]") : NULL;
        if (!close || colon - open - 2 >= (long)sizeof marks[0].lang) {
            if (sb_add(&out, s, strlen(s)))
                goto nomem;
            break;
        }
        if (sb_add(&out, s, (size_t)(open - s)))
            goto nomem;
        if (nmarks == mark_cap) {
            size_t cap = mark_cap ? 2 * mark_cap : 32;
            span_mark *nm = realloc(marks, cap * sizeof *marks);
            if (!nm)
                goto nomem;
            marks = nm;
            mark_cap = cap;
        }
        span_mark *m = &marks[nmarks++];
        snprintf(m->lang, sizeof m->lang, "%.*s", (int)(colon - open - 2), open + 2);
        m->start = out.len;
        if (sb_add(&out, colon + 1, (size_t)(close - colon - 1)))
            goto nomem;
        m->end = out.len;
        s = close + 2;
    }
    char where[512];
    snprintf(where, sizeof where, "%s:%d", path, line);
    vip_block *b = vip_doc_add_block(d, VIP_BLOCK_PARAGRAPH, 0, out.data ? out.data : "", out.len, align, where,
                                     err);
    if (!b)
        rc = err ? err->code : VIP_ERR_NOMEM;
    for (size_t i = 0; b && i < nmarks && !rc; i++)
        rc = vip_block_add_span(b, marks[i].start, marks[i].end, marks[i].lang, VIP_WEIGHT_REGULAR, err);
    free(out.data);
    free(marks);
    sb->len = 0;
    return rc;
nomem:
    free(out.data);
    free(marks);
    return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
}

vip_doc *vip_doc_read_text(const char *path, const char *lang, vip_error *err)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    vip_doc *d = vip_doc_create(NULL, lang, err);
    strbuf para = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, para_line = 0;
    if (!d)
        goto fail;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        /* The text after a NUL would be lost (lines are C strings from here on): refuse it, like invalid UTF-8. */
        const char *nul = memchr(line, '\0', (size_t)n);
        if (nul) {
            vip_error_set(err, VIP_ERR_INPUT, "%s:%d: a NUL byte at byte offset %zu of the line (is the file UTF-16?)",
                          path, lineno, (size_t)(nul - line));
            goto fail;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *s = line;
        if (lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
            s += 3, n -= 3; /* byte-order mark */
        if (n == 0) {
            if (flush_paragraph(d, &para, path, para_line, err))
                goto fail;
            continue;
        }
        if (s[0] == '#') {
            if (flush_paragraph(d, &para, path, para_line, err))
                goto fail;
            int level = 0;
            while (s[level] == '#')
                level++;
            const char *text = s + level + (s[level] == ' ');
            char where[512];
            snprintf(where, sizeof where, "%s:%d", path, lineno);
            if (!vip_doc_add_block(d, VIP_BLOCK_HEADING, level > 3 ? 3 : level, text, strlen(text),
                                   VIP_ALIGN_START, where, err))
                goto fail;
            if (!d->title && !(d->title = strdup(text))) {
                vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
                goto fail;
            }
            continue;
        }
        if (para.len == 0)
            para_line = lineno;
        if ((para.len && sb_add(&para, " ", 1)) || sb_add(&para, s, (size_t)n)) {
            vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if (flush_paragraph(d, &para, path, para_line, err))
        goto fail;
    if (ferror(in)) {
        vip_error_set(err, VIP_ERR_IO, "%s: read error", path);
        goto fail;
    }
    free(line);
    free(para.data);
    fclose(in);
    return d;
fail:
    free(line);
    free(para.data);
    fclose(in);
    vip_doc_destroy(d);
    return NULL;
}
