#include "xml.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* NONET: nothing from the network. NOCDATA: CDATA arrives as ordinary text, so readers see one kind of text.
 * BIG_LINES: line numbers past 65535 stay right in messages. NOERROR/NOWARNING: nothing goes to stderr; our
 * structured handler collects the errors instead. Deliberately absent: NOENT (entity substitution), DTDLOAD,
 * DTDATTR, DTDVALID, XINCLUDE and HUGE (which would lift libxml2's size and expansion limits). */
#define VIP_XML_OPTIONS                                                                                          \
    (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* What one parse learned; hung on the parser context's _private, so nothing is global. */
typedef struct xml_state {
    int doctype_line; /* > 0 once a DOCTYPE has been seen */
    int error_line;
    int have_error;
    int error_code;   /* libxml2's code of the first error */
    int nomem;
    char error[512];
} xml_state;

/* libxml2's limits without XML_PARSE_HUGE (parserInternals.h), named in messages so a user knows what to cut. */
#define MAX_DEPTH 256
#define MAX_TEXT 10000000  /* XML_MAX_TEXT_LENGTH: an attribute value, comment, CDATA section or text node */
#define MAX_NAME 50000     /* XML_MAX_NAME_LENGTH */

/* Says what libxml2's message means in words a user can act on, on one line: its limits without XML_PARSE_HUGE
 * (which it suggests, and which would lift the protection), and its two-line encoding errors. */
void vip_xml_describe_error(int code, const char *message, char *out, size_t size)
{
    const char *m = message ? message : "malformed XML";
    if (code == XML_ERR_INTERNAL_ERROR && strstr(m, "Excessive depth"))
        snprintf(out, size, "elements are nested more than %d deep (the most vipgen reads)", MAX_DEPTH);
    else if (code == XML_ERR_INTERNAL_ERROR && strstr(m, "Huge input lookup"))
        snprintf(out, size, "a name, attribute or text is longer than %d bytes (the most vipgen reads)", MAX_TEXT);
    else if (strstr(m, "AttValue length too long"))
        snprintf(out, size, "an attribute value is longer than %d bytes (the most vipgen reads)", MAX_TEXT);
    else if (strstr(m, "huge text node"))
        snprintf(out, size, "a text is longer than %d bytes (the most vipgen reads)", MAX_TEXT);
    else if (strstr(m, "Comment too big"))
        snprintf(out, size, "a comment is longer than %d bytes (the most vipgen reads)", MAX_TEXT);
    else if (strstr(m, "CData section too big"))
        snprintf(out, size, "a CDATA section is longer than %d bytes (the most vipgen reads)", MAX_TEXT);
    else if (strstr(m, "Name too long"))
        snprintf(out, size, "a name is longer than %d bytes (the most vipgen reads)", MAX_NAME);
    else if (strstr(m, "not proper UTF-8")) {
        const char *bytes = strstr(m, "Bytes:");
        int n = 0;
        if (bytes) /* "Bytes: 0xFF 0xFE 0x20 0x50" up to the line's end */
            for (bytes += 6; *bytes == ' '; bytes++)
                ;
        while (bytes && bytes[n] && bytes[n] != '\n' && bytes[n] != '\r')
            n++;
        snprintf(out, size, "the text is not valid UTF-8%s%.*s%s; save the file as UTF-8, or name its encoding in "
                 "the XML declaration", n ? " (bytes " : "", n, n ? bytes : "", n ? ")" : "");
    } else {
        /* Anything else as libxml2 says it, its lines joined. */
        size_t k = 0;
        for (const char *c = m; *c && k + 1 < size; c++) {
            if (*c == '\n' || *c == '\r') {
                if (k > 0 && out[k - 1] != ' ' && c[1] && c[1] != '\n' && k + 2 < size) {
                    out[k++] = ';';
                    out[k++] = ' ';
                }
            } else {
                out[k++] = *c;
            }
        }
        while (k > 0 && (out[k - 1] == ' ' || out[k - 1] == ';'))
            k--;
        if (size)
            out[k] = '\0';
    }
}

static void on_error(void *data, xmlErrorPtr e)
{
    /* libxml2 passes ctxt->userData, which we leave as the context itself (SAX2 callbacks need it). */
    xmlParserCtxtPtr ctxt = data;
    xml_state *st = ctxt ? ctxt->_private : NULL;
    if (!st || !e || e->level < XML_ERR_ERROR)
        return;
    if (e->code == XML_ERR_NO_MEMORY)
        st->nomem = 1;
    if (st->have_error) /* the first error is the cause; later ones are usually its echoes */
        return;
    st->have_error = 1;
    st->error_line = e->line;
    st->error_code = e->code;
    vip_xml_describe_error(e->code, e->message, st->error, sizeof st->error);
}

/* Called as soon as the parser has read "<!DOCTYPE name ...", before any declaration of the internal subset:
 * stopping here means no entity is ever declared, let alone expanded or fetched. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    xmlParserCtxtPtr ctxt = ctx;
    xml_state *st = ctxt->_private;
    if (st && !st->doctype_line) {
        int line = ctxt->input ? ctxt->input->line : 0;
        st->doctype_line = line > 0 ? line : 1;
    }
    xmlStopParser(ctxt);
}

static xmlDocPtr parse(const char *data, size_t len, const char *name, vip_error *err)
{
    if (len > INT_MAX) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: too large to read as XML (%zu bytes)", name, len);
        return NULL;
    }
    if (len == 0) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:1: the XML document is empty", name);
        return NULL;
    }
    xmlInitParser();
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory creating the XML parser", name);
        return NULL;
    }
    xml_state st;
    memset(&st, 0, sizeof st);
    ctxt->_private = &st;
    /* ctxt->sax is the context's own copy of the handler table, so these changes stay with this parse. */
    ctxt->sax->serror = on_error;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->externalSubset = on_doctype;

    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, data, (int)len, name, NULL, VIP_XML_OPTIONS);
    if (doc && (doc->intSubset || doc->extSubset) && !st.doctype_line) {
        /* Not reached with on_doctype in place; kept so a change in libxml2's callbacks cannot let one in.
         * A DTD node records no line; the DOCTYPE comes before the root element, so name the file's start. */
        st.doctype_line = 1;
    }
    if (st.doctype_line) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: a DOCTYPE is not allowed (entities are refused)", name,
                      st.doctype_line);
        xmlFreeDoc(doc);
        doc = NULL;
    } else if (!doc) {
        /* libxml2 follows a limit's error with a memory error of its own: the first error is the cause. */
        if (st.nomem && (!st.have_error || st.error_code == XML_ERR_NO_MEMORY))
            vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory parsing XML", name);
        else if (st.have_error)
            vip_error_set(err, VIP_ERR_INPUT, "%s:%d: %s", name, st.error_line, st.error);
        else
            vip_error_set(err, VIP_ERR_INPUT, "%s: malformed XML", name);
    } else if (!xmlDocGetRootElement(doc)) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: the XML document has no root element", name);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    ctxt->_private = NULL;
    xmlFreeParserCtxt(ctxt);
    return doc;
}

xmlDocPtr vip_xml_read_memory(const char *data, size_t len, const char *name, vip_error *err)
{
    if (!name)
        name = "(memory)";
    if (!data) {
        vip_error_set(err, VIP_ERR_INTERNAL, "%s: no XML data given", name);
        return NULL;
    }
    return parse(data, len, name, err);
}

/* The file is read here rather than by libxml2, so the path is only ever a path: never a URL, never a
 * compressed stream, never anything but this one file. */
xmlDocPtr vip_xml_read_file(const char *path, vip_error *err)
{
    if (!path) {
        vip_error_set(err, VIP_ERR_INTERNAL, "no XML file named");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory reading the file", path);
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            if (cap > (size_t)INT_MAX) {
                free(buf);
                fclose(f);
                vip_error_set(err, VIP_ERR_INPUT, "%s: too large to read as XML", path);
                return NULL;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                fclose(f);
                vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory reading the file", path);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fclose(f);
                vip_error_set(err, VIP_ERR_IO, "%s: cannot read: %s", path, strerror(e));
                return NULL;
            }
            break;
        }
    }
    fclose(f);
    xmlDocPtr doc = parse(buf, len, path, err);
    free(buf);
    return doc;
}

char *vip_xml_text(const xmlNode *n)
{
    size_t len = 0;
    for (const xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            len += strlen((const char *)c->content);
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    size_t at = 0;
    for (const xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t k = strlen((const char *)c->content);
            memcpy(s + at, c->content, k);
            at += k;
        }
    s[at] = '\0';
    return s;
}

char *vip_xml_attr(const xmlNode *n, const char *ns, const char *name, int *nomem)
{
    xmlChar *v = ns ? xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns)
                    : xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    if (!s)
        *nomem = 1;
    return s;
}

int vip_xml_line(const xmlNode *n)
{
    long l = xmlGetLineNo(n);
    return l > 0 && l < 0x7fffffff ? (int)l : 0;
}

int vip_xml_is_element(const xmlNode *n, const char *ns, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0 &&
           (!name || strcmp((const char *)n->name, name) == 0);
}
