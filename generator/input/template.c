#define _XOPEN_SOURCE 700 /* realpath */
#include "template.h"

#include <errno.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "message.h"
#include "xml.h"

#define MM (72.0 / 25.4)
#define FSI "\xE2\x81\xA8" /* U+2068 FIRST STRONG ISOLATE: a case value keeps its own direction */
#define PDI "\xE2\x81\xA9" /* U+2069 POP DIRECTIONAL ISOLATE */
#define LRI "\xE2\x81\xA6" /* U+2066 LEFT-TO-RIGHT ISOLATE */
#define NBSP "\xC2\xA0"     /* U+00A0 NO-BREAK SPACE */
#define LINE_SEPARATOR "\xE2\x80\xA8"
#define MAX_ARGS 64
#define MAX_REPORTED_UNITS 512

struct vip_template {
    char *path;
    char *dir;              /* the template's directory, for relative image paths */
    xmlDocPtr xml;
    xmlNodePtr root;
    char kind[16];
    /* Units already reported as falling back to English, as "lang/unit" (a batch reports each once). */
    char *reported[MAX_REPORTED_UNITS];
    size_t reported_count;
    /* Values set from outside for declared params (the force's name from its configuration), and images replaced
     * by files elsewhere (its logo). */
    char *param_name[MAX_ARGS], *param_value[MAX_ARGS];
    size_t param_count;
    char *image_src[MAX_ARGS], *image_file[MAX_ARGS];
    size_t image_count;
    /* Previews (vip_template_record_units): during a merge, the list the units being printed go to (NULL: none),
     * and which argument strings are a unit's text (a translated offence, a param's message). */
    int record;
    const char **record_to;
    size_t *record_count;
    const char *arg_string[MAX_ARGS], *arg_unit[MAX_ARGS];
    size_t arg_unit_count;
    /* The merge's arguments that are a unit's English source, the unit having no translation (an offence name). */
    const char *english_arg[MAX_ARGS];
    size_t english_arg_count;
    /* The print variants chosen (<page><print name>), applied in order over the page's own settings. */
    char *print[4];
    size_t print_count;
};

/* What one merge needs while walking the template. */
typedef struct merge {
    vip_template *t;
    vip_catalog *cat;
    const vip_case_row *row;
    const vip_warn_sink *warn;
    vip_error *err;
    vip_doc *doc;
    vip_arg args[MAX_ARGS];
    size_t arg_count;
    char *owned[MAX_ARGS];  /* strings made for args (translated codes) */
    size_t owned_count;
    vip_region region;
    int section;            /* numbered sections so far */
} merge;

/* The footer is formatted per page during layout: it keeps what it needs here, owned by the document. */
typedef struct footer_ctx {
    vip_template *t;
    vip_catalog *cat;
    xmlNodePtr node;
    const vip_warn_sink *warn;
    vip_arg args[MAX_ARGS];
    size_t arg_count;
    char *owned[MAX_ARGS];
    size_t owned_count;
} footer_ctx;

static int is_el(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static char *prop(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp((xmlNodePtr)n, (const xmlChar *)name);
}

static int line_of(const xmlNode *n)
{
    return (int)xmlGetLineNo((xmlNodePtr)n);
}

/* "12mm" or "9pt" in points; the schema has checked the form. */
static double length_of(const xmlNode *n, const char *name, double fallback)
{
    char *v = prop(n, name);
    if (!v)
        return fallback;
    char *end;
    double x = strtod(v, &end);
    double pts = strcmp(end, "mm") == 0 ? x * MM : x;
    xmlFree(v);
    return pts;
}

/* Schema errors arrive one at a time; the first, with its line, is the one a template author needs. */
typedef struct schema_errors {
    char first[700];
    int count;
} schema_errors;

static void on_schema_error(void *user, xmlErrorPtr e)
{
    schema_errors *se = user;
    if (se->count++ == 0) {
        char message[600];
        vip_xml_describe_error(e->code, e->message ? e->message : "invalid", message, sizeof message);
        if (e->file)
            snprintf(se->first, sizeof se->first, "%s:%d: %s", e->file, e->line, message);
        else
            snprintf(se->first, sizeof se->first, "%s", message);
    }
}

/* What libxml2 would print through its generic handler (messages outside any context) is kept instead. */
static void on_generic_error(void *user, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void on_generic_error(void *user, const char *fmt, ...)
{
    schema_errors *se = user;
    char raw[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (se->count++ == 0)
        vip_xml_describe_error(0, raw, se->first, sizeof se->first);
}

/* RELAX NG's include and externalRef make libxml2 read another file or URL (with network access, printing what
 * it could not parse); the schema must be one file, so they are refused wherever they are. */
static int refuse_inclusions(const xmlNode *n, const char *schema_path, vip_error *err)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, "include") == 0 || strcmp((const char *)n->name, "externalRef") == 0) {
            xmlChar *href = xmlGetProp((xmlNodePtr)n, (const xmlChar *)"href");
            vip_error_set(err, VIP_ERR_INPUT,
                          "%s:%d: <%s href=\"%.200s\"> is not allowed: the template schema must be one "
                          "self-contained file (it is read with no network and no other files)",
                          schema_path, line_of(n), (const char *)n->name, href ? (const char *)href : "");
            xmlFree(href);
            return VIP_ERR_INPUT;
        }
        if (refuse_inclusions(n->children, schema_path, err))
            return VIP_ERR_INPUT;
    }
    return VIP_OK;
}

static int validate(xmlDocPtr xml, const char *path, const char *schema_path, vip_error *err)
{
    schema_errors se = {0};
    xmlRelaxNGParserCtxtPtr pctx = NULL;
    xmlRelaxNGPtr schema = NULL;
    xmlRelaxNGValidCtxtPtr vctx = NULL;
    int rc = VIP_OK;
    /* The schema is read like every other XML file (no network, no DOCTYPE, no entities) and handed to libxml2's
     * RELAX NG compiler as a tree, so that it never opens a file or URL itself. */
    xmlDocPtr schema_doc = vip_xml_read_file(schema_path, err);
    if (!schema_doc)
        return err->code;
    if ((rc = refuse_inclusions(xmlDocGetRootElement(schema_doc), schema_path, err))) {
        xmlFreeDoc(schema_doc);
        return rc;
    }
    /* Anything libxml2 would print on stderr by itself comes to se for the duration. */
    xmlGenericErrorFunc old_generic = xmlGenericError;
    void *old_generic_ctx = xmlGenericErrorContext;
    xmlStructuredErrorFunc old_structured = xmlStructuredError;
    void *old_structured_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc(&se, on_generic_error);
    xmlSetStructuredErrorFunc(&se, on_schema_error);
    if (!(pctx = xmlRelaxNGNewDocParserCtxt(schema_doc))) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    xmlRelaxNGSetParserStructuredErrors(pctx, on_schema_error, &se);
    if (!(schema = xmlRelaxNGParse(pctx))) {
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: cannot read the template schema%s%s", schema_path,
                           se.count ? ": " : "", se.first);
        goto done;
    }
    if (!(vctx = xmlRelaxNGNewValidCtxt(schema))) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    xmlRelaxNGSetValidStructuredErrors(vctx, on_schema_error, &se);
    if (xmlRelaxNGValidateDoc(vctx, xml) != 0)
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s (template does not follow %s)",
                           se.count ? se.first : path, schema_path);
done:
    xmlRelaxNGFreeValidCtxt(vctx);
    xmlRelaxNGFree(schema);
    xmlRelaxNGFreeParserCtxt(pctx);
    xmlFreeDoc(schema_doc);
    xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
    xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
    return rc;
}

void vip_template_destroy(vip_template *t)
{
    if (!t)
        return;
    xmlFreeDoc(t->xml);
    for (size_t i = 0; i < t->reported_count; i++)
        free(t->reported[i]);
    for (size_t i = 0; i < t->param_count; i++) {
        free(t->param_name[i]);
        free(t->param_value[i]);
    }
    for (size_t i = 0; i < t->image_count; i++) {
        free(t->image_src[i]);
        free(t->image_file[i]);
    }
    for (size_t i = 0; i < t->print_count; i++)
        free(t->print[i]);
    free(t->path);
    free(t->dir);
    free(t);
}

/* libpng's errors and warnings come here instead of to its default handlers, which print on stderr: an error's
 * text goes into the message the caller returns, a warning (a recoverable oddity) is dropped. */
typedef struct png_failure {
    char message[256];
} png_failure;

static void on_png_error(png_structp png, png_const_charp message)
{
    png_failure *f = png_get_error_ptr(png);
    if (f)
        snprintf(f->message, sizeof f->message, "%s", message ? message : "unknown error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* A PNG's size in pixels, read through libpng. */
static int png_size(const char *path, unsigned *w, unsigned *h, vip_error *err)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot open image: %s", path, strerror(errno));
    png_failure failure = {""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = VIP_OK;
    if (!png || !info) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    } else if (setjmp(png_jmpbuf(png))) {
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: not a readable PNG image (%s)", path,
                           failure.message[0] ? failure.message : "unknown error");
    } else {
        png_init_io(png, in);
        png_read_info(png, info);
        *w = png_get_image_width(png, info);
        *h = png_get_image_height(png, info);
    }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(in);
    return rc;
}

static char *image_path(const vip_template *t, const char *src)
{
    for (size_t i = 0; i < t->image_count; i++)
        if (strcmp(t->image_src[i], src) == 0)
            return strdup(t->image_file[i]);
    size_t n = strlen(t->dir) + strlen(src) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", t->dir, src);
    return p;
}

/* An image must be a file in the templates directory (a template may come from elsewhere than the program, and
 * must not make letters out of /etc or of a URL): a relative path without "..", which after symlinks still
 * lies inside the directory. */
static int check_image_src(const vip_template *t, const xmlNode *n, const char *src, vip_error *err)
{
    const char *why = NULL;
    size_t scheme = strspn(src, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (!*src)
        why = "is empty";
    else if (src[0] == '/')
        why = "is an absolute path";
    else if (scheme > 0 && src[scheme] == ':')
        why = "is a URL";
    else
        for (const char *c = src; *c && !why; c += strcspn(c, "/"), c += *c == '/') {
            size_t k = strcspn(c, "/");
            if (k == 2 && c[0] == '.' && c[1] == '.')
                why = "goes up with \"..\"";
        }
    if (why)
        return vip_error_set(err, VIP_ERR_INPUT,
                             "%s:%d: <image src=\"%.200s\"> %s; an image must be a file in the templates directory %s",
                             t->path, line_of(n), src, why, t->dir);
    char *path = image_path(t, src);
    char *real_dir = realpath(t->dir, NULL), *real = path ? realpath(path, NULL) : NULL;
    int rc = VIP_OK;
    if (!path || (!real_dir && errno == ENOMEM))
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    else if (!real_dir || !real)
        rc = vip_error_set(err, VIP_ERR_IO, "%s:%d: <image src=\"%.200s\">: cannot open %s: %s", t->path, line_of(n),
                           src, path, strerror(errno));
    else if (strncmp(real, real_dir, strlen(real_dir)) != 0 ||
             (real[strlen(real_dir)] != '/' && strcmp(real_dir, "/") != 0))
        rc = vip_error_set(err, VIP_ERR_INPUT,
                           "%s:%d: <image src=\"%.200s\"> leads outside the templates directory %s (to %.200s); an "
                           "image must be a file in it",
                           t->path, line_of(n), src, t->dir, real);
    free(real_dir);
    free(real);
    free(path);
    return rc;
}

/* ---- checks at load time: a value that could only fail later (per letter, or in the PDF) fails here, once, with
 * the template's file and line ---- */

#define MIN_TYPE_SIZE 4.0    /* points */
#define MAX_TYPE_SIZE 96.0
#define PAGE_WIDTH_MM 210.0  /* A4, the largest size the schema allows */
#define PAGE_HEIGHT_MM 297.0

/* A paper size's width and height in mm (the schema allows A4 and A5). */
static void paper_mm(const char *size, double *w, double *h)
{
    int a5 = size && strcmp(size, "A5") == 0;
    *w = a5 ? 148.0 : 210.0;
    *h = a5 ? 210.0 : 297.0;
}
#define MIN_BODY_MM 50.0     /* the body keeps at least this much between the margins, each way */
#define MAX_LEADING 2.0      /* fraction of the type size between lines */
#define MAX_PAGES 999
#define MAX_COLUMNS 32
#define MAX_COLUMN_WIDTH 1000
#define MIN_COLUMN_SHARE 0.05 /* of the table's width */

static int find_field(const char *name);

/* The names a <field> may take: the case columns and `days` (letters), the template's params, and in the
 * footer `page` and `pages`. */
static int field_known(const vip_template *t, const char *name, int in_footer)
{
    if (strcmp(t->kind, "letter") == 0 && (find_field(name) >= 0 || strcmp(name, "days") == 0))
        return 1;
    if (in_footer && (strcmp(name, "page") == 0 || strcmp(name, "pages") == 0))
        return 1;
    for (const xmlNode *n = t->root->children; n; n = n->next)
        if (is_el(n, "param")) {
            char *p = prop(n, "name");
            int same = p && strcmp(p, name) == 0;
            xmlFree(p);
            if (same)
                return 1;
        }
    return 0;
}

/* A number attribute in [lo, hi] (the schema has checked its form); *out gets it, in points for lengths. */
static int check_number(const vip_template *t, const xmlNode *n, const char *name, double lo, double hi,
                        const char *unit, int length, double *out, vip_error *err)
{
    char *v = prop(n, name);
    if (!v)
        return VIP_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    double in_unit = x;
    if (length && strcmp(end, "pt") == 0)
        in_unit = x / MM; /* lengths are bounded in mm */
    int ok = end != v && errno != ERANGE && isfinite(x) && in_unit >= lo && in_unit <= hi;
    int rc = VIP_OK;
    if (!ok)
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <%s %s=\"%.60s\">: must be from %g to %g %s", t->path,
                           line_of(n), (const char *)n->name, name, v, lo, hi, unit);
    else if (out)
        *out = length ? in_unit : x;
    xmlFree(v);
    return rc;
}

/* <page>: margins that leave a body, type and leading that can be set, a page limit in range, known languages. */
static int check_page(const vip_template *t, const xmlNode *n, vip_error *err)
{
    double top = 0, bottom = 0, start = 0, end = 0;
    if (check_number(t, n, "margin-top", 0, PAGE_HEIGHT_MM, "mm", 1, &top, err) ||
        check_number(t, n, "margin-bottom", 0, PAGE_HEIGHT_MM, "mm", 1, &bottom, err) ||
        check_number(t, n, "margin-start", 0, PAGE_WIDTH_MM, "mm", 1, &start, err) ||
        check_number(t, n, "margin-end", 0, PAGE_WIDTH_MM, "mm", 1, &end, err) ||
        check_number(t, n, "body-size", MIN_TYPE_SIZE, MAX_TYPE_SIZE, "pt", 0, NULL, err))
        return err->code;
    if (top + bottom > PAGE_HEIGHT_MM - MIN_BODY_MM || start + end > PAGE_WIDTH_MM - MIN_BODY_MM)
        return vip_error_set(err, VIP_ERR_INPUT,
                             "%s:%d: <page>: the margins leave %.0f x %.0f mm of the %.0f x %.0f mm page; at least %.0f mm "
                             "are needed each way",
                             t->path, line_of(n), PAGE_WIDTH_MM - start - end, PAGE_HEIGHT_MM - top - bottom,
                             PAGE_WIDTH_MM, PAGE_HEIGHT_MM, MIN_BODY_MM);
    char *max_pages = prop(n, "max-pages");
    if (max_pages) {
        char *stop;
        errno = 0;
        long pages = strtol(max_pages, &stop, 10);
        int ok = stop != max_pages && !*stop && errno != ERANGE && pages >= 1 && pages <= MAX_PAGES;
        if (!ok)
            vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <page max-pages=\"%.40s\">: must be from 1 to %d", t->path,
                          line_of(n), max_pages, MAX_PAGES);
        xmlFree(max_pages);
        if (!ok)
            return VIP_ERR_INPUT;
    }
    for (const xmlNode *l = n->children; l; l = l->next) {
        if (!is_el(l, "lang"))
            continue;
        if (check_number(t, l, "leading", 0, MAX_LEADING, "(a fraction of the type size)", 0, NULL, err))
            return err->code;
        char *tag = prop(l, "tag");
        vip_error e = {0};
        const vip_lang *lang = tag ? vip_lang_find(tag, &e) : NULL;
        xmlFree(tag);
        if (!lang)
            return vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <lang tag>: %s", t->path, line_of(l),
                                 tag ? e.message : "no tag");
    }
    /* Each print variant leaves a body on its own paper, with type that can be set. */
    for (const xmlNode *v = n->children; v; v = v->next) {
        if (!is_el(v, "print"))
            continue;
        char *size = prop(v, "size"), *base = prop(n, "size");
        double w, h;
        paper_mm(size ? size : base, &w, &h);
        xmlFree(size);
        xmlFree(base);
        double top = length_of(n, "margin-top", 0) / MM, bottom = length_of(n, "margin-bottom", 0) / MM;
        double start = length_of(n, "margin-start", 0) / MM, end = length_of(n, "margin-end", 0) / MM;
        if (check_number(t, v, "margin-top", 0, h, "mm", 1, &top, err) ||
            check_number(t, v, "margin-bottom", 0, h, "mm", 1, &bottom, err) ||
            check_number(t, v, "margin-start", 0, w, "mm", 1, &start, err) ||
            check_number(t, v, "margin-end", 0, w, "mm", 1, &end, err) ||
            check_number(t, v, "body-size", MIN_TYPE_SIZE, MAX_TYPE_SIZE, "pt", 0, NULL, err) ||
            check_number(t, v, "max-pages", 1, MAX_PAGES, "pages", 0, NULL, err) ||
            check_number(t, v, "type-scale", 0.5, 3, "(times the template's sizes)", 0, NULL, err))
            return err->code;
        if (top + bottom > h - MIN_BODY_MM || start + end > w - MIN_BODY_MM)
            return vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <print>: the margins leave %.0f x %.0f mm of the %.0f x "
                                 "%.0f mm page; at least %.0f mm are needed each way", t->path, line_of(v),
                                 w - start - end, h - top - bottom, w, h, MIN_BODY_MM);
    }
    return VIP_OK;
}

/* <table columns>: relative widths, whole numbers, none too narrow to hold a word, as many as the widest row. */
static int check_table(const vip_template *t, const xmlNode *n, vip_error *err)
{
    char *cols = prop(n, "columns");
    long widths[MAX_COLUMNS];
    size_t count = 0;
    long sum = 0;
    int rc = VIP_OK;
    for (char *p = cols, *end; p && *p && !rc; p = end) {
        errno = 0;
        long w = strtol(p, &end, 10);
        if (end == p)
            break;
        if (count == MAX_COLUMNS)
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <table columns>: more than %d columns", t->path,
                               line_of(n), MAX_COLUMNS);
        else if (errno == ERANGE || w < 1 || w > MAX_COLUMN_WIDTH)
            rc = vip_error_set(err, VIP_ERR_INPUT,
                               "%s:%d: <table columns=\"%.80s\">: each width must be a whole number from 1 to %d",
                               t->path, line_of(n), cols, MAX_COLUMN_WIDTH);
        else
            sum += widths[count++] = w;
    }
    for (size_t i = 0; i < count && !rc; i++)
        if (widths[i] < MIN_COLUMN_SHARE * sum)
            rc = vip_error_set(err, VIP_ERR_INPUT,
                               "%s:%d: <table columns=\"%.80s\">: column %zu is %ld of %ld, narrower than %.0f %% of "
                               "the table",
                               t->path, line_of(n), cols, i + 1, widths[i], sum, 100 * MIN_COLUMN_SHARE);
    xmlFree(cols);
    for (const xmlNode *r = n->children; r && !rc; r = r->next) {
        const xmlNode *tr = is_el(r, "thead") ? r->children : r;
        while (tr && !is_el(tr, "tr"))
            tr = tr->next;
        if (!is_el(tr, "tr"))
            continue;
        size_t cells = 0;
        for (const xmlNode *td = tr->children; td; td = td->next)
            cells += is_el(td, "td");
        if (cells > count)
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: the row has %zu cells but the table %zu columns", t->path,
                               line_of(tr), cells, count);
    }
    return rc;
}

/* Every element under n, with the checks its kind needs. */
static int check_tree(vip_template *t, const xmlNode *n, int in_footer, vip_error *err)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        int rc = VIP_OK;
        if (is_el(n, "page")) {
            rc = check_page(t, n, err);
        } else if (is_el(n, "p")) {
            rc = check_number(t, n, "size", MIN_TYPE_SIZE, MAX_TYPE_SIZE, "pt", 0, NULL, err);
        } else if (is_el(n, "space")) {
            rc = check_number(t, n, "height", 0, PAGE_HEIGHT_MM, "mm", 1, NULL, err);
        } else if (is_el(n, "table")) {
            rc = check_table(t, n, err);
        } else if (is_el(n, "image")) {
            char *src = prop(n, "src");
            rc = check_number(t, n, "width", 1, PAGE_WIDTH_MM, "mm", 1, NULL, err);
            if (!rc)
                rc = src ? check_image_src(t, n, src, err) : vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            /* Checked at load time, so a batch fails before its first letter rather than on every row. */
            char *path = !rc ? image_path(t, src) : NULL;
            unsigned w, h;
            if (!rc)
                rc = path ? png_size(path, &w, &h, err) : vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            if (rc && path)
                vip_error_prefix(err, "%s:%d: ", t->path, line_of(n));
            xmlFree(src);
            free(path);
        } else if (is_el(n, "field")) {
            char *name = prop(n, "name");
            if (name && !field_known(t, name, in_footer))
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <field name=\"%.100s\">: no such %s", t->path,
                                   line_of(n), name,
                                   strcmp(t->kind, "letter") == 0 ? "case column or parameter"
                                                                  : "parameter (a booklet has no case columns)");
            xmlFree(name);
        } else if (is_el(n, "if")) {
            char *field = prop(n, "field");
            if (field && find_field(field) < 0 && !field_known(t, field, 0))
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <if field=\"%.100s\">: no such case column or "
                                   "parameter", t->path, line_of(n), field);
            xmlFree(field);
        }
        if (!rc && n->children)
            rc = check_tree(t, n->children, in_footer || is_el(n, "footer"), err);
        if (rc)
            return rc;
    }
    return VIP_OK;
}

/* Case columns, `days` and the params are a merge's arguments: too many params could only fail at merge. */
/* The numbered headings with an id, in document order: each id is an argument, its section's number. */
static size_t numbered_headings(const xmlNode *parent, const xmlNode **out, size_t max, size_t count)
{
    for (const xmlNode *n = parent ? parent->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(n, "h1")) {
            char *num = prop(n, "number");
            int numbered = num && (strcmp(num, "true") == 0 || strcmp(num, "1") == 0);
            xmlFree(num);
            if (numbered && count < max)
                out[count++] = n;
        } else if (is_el(n, "body") || is_el(n, "if")) {
            count = numbered_headings(n, out, max, count);
        }
    }
    return count;
}

static int check_params(const vip_template *t, vip_error *err)
{
    const xmlNode *sections[MAX_ARGS];
    size_t count = VIP_CASE_FIELD_COUNT + 1 + numbered_headings(t->root, sections, MAX_ARGS, 0);
    for (const xmlNode *n = t->root->children; n; n = n->next)
        if (is_el(n, "param") && ++count > MAX_ARGS)
            return vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <param>: more than %d parameters and numbered sections",
                                 t->path, line_of(n), MAX_ARGS - VIP_CASE_FIELD_COUNT - 1);
    return VIP_OK;
}

vip_template *vip_template_load(const char *path, const char *schema_path, vip_error *err)
{
    vip_template *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path)) || !(t->dir = strdup(path))) {
        vip_template_destroy(t);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char *slash = strrchr(t->dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(t->dir, ".");
    if (!(t->xml = vip_xml_read_file(path, err)) || validate(t->xml, path, schema_path, err)) {
        vip_template_destroy(t);
        return NULL;
    }
    t->root = xmlDocGetRootElement(t->xml);
    char *kind = prop(t->root, "kind");
    snprintf(t->kind, sizeof t->kind, "%s", kind ? kind : "");
    xmlFree(kind);
    if (check_params(t, err) || check_tree(t, t->root->children, 0, err)) {
        vip_template_destroy(t);
        return NULL;
    }
    return t;
}

int vip_template_set_param(vip_template *t, const char *name, const char *value, vip_error *err)
{
    if (!field_known(t, name, 0) || find_field(name) >= 0)
        return VIP_OK; /* not a param of this template: nothing of it is printed */
    size_t i = 0;
    while (i < t->param_count && strcmp(t->param_name[i], name) != 0)
        i++;
    if (i == MAX_ARGS)
        return vip_error_set(err, VIP_ERR_INPUT, "%s: too many parameters set", t->path);
    char *v = strdup(value), *n = i == t->param_count ? strdup(name) : NULL;
    if (!v || (i == t->param_count && !n)) {
        free(v);
        free(n);
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    }
    if (i == t->param_count) {
        t->param_name[t->param_count++] = n;
    } else {
        free(t->param_value[i]);
    }
    t->param_value[i] = v;
    return VIP_OK;
}

int vip_template_replace_image(vip_template *t, const char *src, const char *file, vip_error *err)
{
    unsigned w, h;
    if (png_size(file, &w, &h, err))
        return err->code;
    if (t->image_count == MAX_ARGS)
        return vip_error_set(err, VIP_ERR_INPUT, "%s: too many images replaced", t->path);
    char *s = strdup(src), *f = strdup(file);
    if (!s || !f) {
        free(s);
        free(f);
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    }
    t->image_src[t->image_count] = s;
    t->image_file[t->image_count++] = f;
    return VIP_OK;
}

void vip_template_record_units(vip_template *t, int on)
{
    t->record = on;
}

const char *vip_template_kind(const vip_template *t)
{
    return t->kind;
}

/* Reports a unit that fell back to English, once per language and unit for the template's lifetime. */
static void report_fallback(vip_template *t, vip_catalog *cat, const char *id, const vip_warn_sink *warn)
{
    char key[256];
    snprintf(key, sizeof key, "%s/%s", vip_catalog_lang(cat), id);
    for (size_t i = 0; i < t->reported_count; i++)
        if (strcmp(t->reported[i], key) == 0)
            return;
    if (t->reported_count < MAX_REPORTED_UNITS && (t->reported[t->reported_count] = strdup(key)))
        t->reported_count++;
    vip_warn(warn, "%s: unit %s has no %s translation; the English text is used", vip_catalog_path(cat), id,
             vip_catalog_lang(cat));
}

/* ---- phone numbers in message text ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_ascii_alnum(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The end of a phone number starting at s + i, or i when none does: two or more groups of ASCII digits
 * separated by single spaces, each of at least 2 digits and 6 in all, not part of a longer word. The whole run
 * of groups is judged, so "12 rights" or "1 April 2021" never count, nor does part of "1 23 45 67". */
static size_t phone_end(const char *s, size_t i, size_t n)
{
    if (!is_digit(s[i]) || (i > 0 && is_ascii_alnum(s[i - 1])) || (i > 1 && s[i - 1] == ' ' && is_digit(s[i - 2])))
        return i; /* not the start of a run of groups */
    size_t j = i, groups = 0, digits = 0;
    int short_group = 0;
    for (;;) {
        size_t start = j;
        while (j < n && is_digit(s[j]))
            j++;
        groups++;
        digits += j - start;
        short_group |= j - start < 2;
        if (j + 1 < n && s[j] == ' ' && is_digit(s[j + 1]))
            j++;
        else
            break;
    }
    if (groups < 2 || short_group || digits < 6 || (j < n && is_ascii_alnum(s[j])))
        return i;
    return j;
}

/* Message text with each phone number ("08 08 16 89 111") joined by no-break spaces, so that no line breaks
 * inside it, and in RTL documents isolated left to right: otherwise the bidi algorithm makes each group its own
 * run and the reader sees the groups in reverse order. Text inside isolates is left alone: case values are
 * printed as given, and numbers already isolated (a coded value in a message) are done. NULL: out of memory. */
static char *glue_phone_numbers(const char *s, int rtl)
{
    size_t n = strlen(s), o = 0;
    /* A number of L bytes with k spaces grows by k (+ 6 for LRI and PDI), never more than L: 2n bounds it. */
    char *out = malloc(2 * n + 1);
    if (!out)
        return NULL;
    int depth = 0; /* isolates open at i */
    for (size_t i = 0; i < n;) {
        size_t end = depth ? i : phone_end(s, i, n);
        if (end > i) {
            if (rtl) {
                memcpy(out + o, LRI, 3);
                o += 3;
            }
            for (; i < end; i++) {
                if (s[i] == ' ') {
                    memcpy(out + o, NBSP, 2);
                    o += 2;
                } else {
                    out[o++] = s[i];
                }
            }
            if (rtl) {
                memcpy(out + o, PDI, 3);
                o += 3;
            }
            continue;
        }
        /* LRI, RLI and FSI (U+2066..U+2068) open an isolate, PDI (U+2069) closes one. */
        if (n - i >= 3 && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x81) {
            unsigned char c = (unsigned char)s[i + 2];
            if (c >= 0xA6 && c <= 0xA8)
                depth++;
            else if (c == 0xA9 && depth > 0)
                depth--;
        }
        out[o++] = s[i++];
    }
    out[o] = '\0';
    return out;
}

/* Previews: unit id (the catalogue's own copy, which outlives the document) is printed where record_to points. */
static const char *kept_unit_id(const vip_catalog *cat, const char *id)
{
    for (size_t i = 0; i < vip_catalog_unit_count(cat); i++)
        if (strcmp(vip_catalog_unit_id(cat, i), id) == 0)
            return vip_catalog_unit_id(cat, i);
    return NULL;
}

static int record_unit(vip_template *t, vip_catalog *cat, const char *id, vip_error *err)
{
    if (!t->record_to)
        return VIP_OK;
    const char *kept = kept_unit_id(cat, id);
    for (size_t i = 0; kept && i < *t->record_count; i++)
        if (t->record_to[i] == kept)
            return VIP_OK;
    if (!kept)
        return VIP_OK;
    if (*t->record_count == VIP_DOC_MAX_UNITS)
        return vip_error_set(err, VIP_ERR_INTERNAL, "a block prints more than %d catalogue units", VIP_DOC_MAX_UNITS);
    t->record_to[(*t->record_count)++] = kept;
    return VIP_OK;
}

/* Previews: the unit an argument's string is the text of, or NULL. */
static const char *arg_unit(const vip_template *t, const char *string)
{
    for (size_t i = 0; string && i < t->arg_unit_count; i++)
        if (t->arg_string[i] == string)
            return t->arg_unit[i];
    return NULL;
}

static void note_arg_unit(vip_template *t, vip_catalog *cat, const char *string, const char *id)
{
    if (t->record && t->arg_unit_count < MAX_ARGS && (id = kept_unit_id(cat, id))) {
        t->arg_string[t->arg_unit_count] = string;
        t->arg_unit[t->arg_unit_count++] = id;
    }
}

/* A catalogue message, formatted, with its phone numbers kept whole and in order; *english (when not NULL) is
 * set when it is the English source, the unit having no translation. */
static char *format_msg_english(vip_template *t, vip_catalog *cat, const char *id, const vip_arg *args, size_t n,
                                const vip_warn_sink *warn, int *english, vip_error *err)
{
    int fell_back = 0;
    char *s = vip_catalog_format(cat, id, args, n, &fell_back, err);
    if (!s)
        return NULL;
    if (english)
        *english = fell_back;
    if (fell_back)
        report_fallback(t, cat, id, warn);
    /* Previews: the message, and the units its arguments' text came from where that text is in it. */
    int rc = record_unit(t, cat, id, err);
    for (size_t i = 0; !rc && t->record_to && i < n; i++) {
        const char *unit = args[i].type == VIP_ARG_STRING ? arg_unit(t, args[i].string) : NULL;
        if (unit && *args[i].string && strstr(s, args[i].string))
            rc = record_unit(t, cat, unit, err);
    }
    if (rc) {
        free(s);
        return NULL;
    }
    const vip_lang *lang = vip_lang_find(vip_catalog_lang(cat), NULL);
    char *glued = glue_phone_numbers(s, lang && lang->rtl);
    free(s);
    if (!glued)
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    return glued;
}

static char *format_msg(vip_template *t, vip_catalog *cat, const char *id, const vip_arg *args, size_t n,
                        const vip_warn_sink *warn, vip_error *err)
{
    return format_msg_english(t, cat, id, args, n, warn, NULL, err);
}

/* ---- arguments from the case row ---- */

static const char *code_prefix(vip_case_field f)
{
    switch (f) {
    case VIP_CASE_OFFENCE: return "offence";
    case VIP_CASE_NEEDS_ASSESSMENT: return "needs";
    case VIP_CASE_REFERRAL: return "referral";
    case VIP_CASE_ENHANCED_REASON: return "enhanced";
    default: return NULL;
    }
}

static int find_field(const char *name)
{
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
        if (strcmp(vip_case_field_name((vip_case_field)f), name) == 0)
            return f;
    return -1;
}

/* A case value as it goes into text: isolated, so that its direction does not leak into the message around it.
 * With glue, a word joiner follows each '/': a crime reference (NC/2024/012345) never breaks across lines, though
 * UAX #14 allows a break after "NC/". HarfBuzz drops the joiner, so it is neither drawn nor extracted. */
static char *isolate(const char *value, int glue)
{
    size_t slashes = 0;
    for (const char *p = value; glue && *p; p++)
        slashes += *p == '/';
    size_t n = strlen(value) + 7 + 3 * slashes;
    char *s = malloc(n);
    if (!s)
        return NULL;
    char *o = s;
    memcpy(o, FSI, 3);
    o += 3;
    for (const char *p = value; *p; p++) {
        *o++ = *p;
        if (glue && *p == '/') {
            memcpy(o, "\xE2\x81\xA0", 3); /* U+2060 WORD JOINER */
            o += 3;
        }
    }
    memcpy(o, PDI, 4);
    return s;
}

static int add_arg(vip_arg *args, size_t *count, char **owned, size_t *owned_count, vip_arg a, char *own)
{
    if (*count == MAX_ARGS || (own && *owned_count == MAX_ARGS)) {
        free(own);
        return -1;
    }
    if (own)
        owned[(*owned_count)++] = own;
    args[(*count)++] = a;
    return 0;
}

/* Every case column is an argument by its name: dates as dates, coded values as their translated text, the
 * rest as isolated strings; `days` is when the next update is due (1 working day with enhanced rights, else 5). */
static int case_args(vip_template *t, vip_catalog *cat, const vip_case_row *row, const vip_warn_sink *warn,
                     vip_arg *args, size_t *count, char **owned, size_t *owned_count, vip_error *err)
{
    if (!row)
        return VIP_OK;
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++) {
        const char *name = vip_case_field_name((vip_case_field)f);
        const char *value = row->value[f] ? row->value[f] : "";
        vip_arg a = {.name = name, .type = VIP_ARG_STRING};
        char *own = NULL;
        const int *date = f == VIP_CASE_OFFENCE_DATE    ? row->offence_date
                          : f == VIP_CASE_REPORTED_DATE ? row->reported_date
                          : f == VIP_CASE_LETTER_DATE   ? row->letter_date
                                                        : NULL;
        if (date) {
            a.type = VIP_ARG_DATE;
            a.year = date[0];
            a.month = date[1];
            a.day = date[2];
        } else if (code_prefix((vip_case_field)f) && *value) {
            char id[128];
            snprintf(id, sizeof id, "%s.%s", code_prefix((vip_case_field)f), value);
            int english = 0;
            if (!(own = format_msg_english(t, cat, id, NULL, 0, warn, &english, err)))
                return err->code;
            if (english && t->english_arg_count < MAX_ARGS)
                t->english_arg[t->english_arg_count++] = own;
            a.string = own;
            note_arg_unit(t, cat, own, id);
        } else {
            if (!(own = isolate(value, f == VIP_CASE_CRIME_REF)))
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            a.string = own;
        }
        if (add_arg(args, count, owned, owned_count, a, own))
            return vip_error_set(err, VIP_ERR_INTERNAL, "too many message arguments");
    }
    vip_arg days = {.name = "days", .type = VIP_ARG_NUMBER, .number = row->enhanced ? 1 : 5};
    if (add_arg(args, count, owned, owned_count, days, NULL))
        return vip_error_set(err, VIP_ERR_INTERNAL, "too many message arguments");
    return VIP_OK;
}

/* <param name value|msg>: fixed arguments of the template, e.g. the force's name. */
static int param_args(vip_template *t, vip_catalog *cat, const vip_warn_sink *warn, vip_arg *args, size_t *count,
                      char **owned, size_t *owned_count, vip_error *err)
{
    for (xmlNodePtr n = t->root->children; n; n = n->next) {
        if (!is_el(n, "param"))
            continue;
        char *name = prop(n, "name"), *value = prop(n, "value"), *msg = prop(n, "msg");
        char *own = NULL;
        int rc = VIP_OK;
        const char *given = NULL;
        for (size_t i = 0; name && i < t->param_count; i++)
            if (strcmp(t->param_name[i], name) == 0)
                given = t->param_value[i];
        if (given) {
            own = strdup(given);
        } else if (msg) {
            int english = 0;
            own = format_msg_english(t, cat, msg, args, *count, warn, &english, err);
            if (own)
                note_arg_unit(t, cat, own, msg);
            if (own && english && t->english_arg_count < MAX_ARGS)
                t->english_arg[t->english_arg_count++] = own;
        } else {
            own = strdup(value ? value : "");
        }
        /* The name lives in the template's tree, which outlives every merge. */
        if (!own)
            rc = err->code ? err->code : vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        else if (add_arg(args, count, owned, owned_count,
                         (vip_arg){.name = (const char *)xmlHasProp(n, (const xmlChar *)"name")->children->content,
                                   .type = VIP_ARG_STRING, .string = own},
                         own))
            rc = vip_error_set(err, VIP_ERR_INTERNAL, "too many message arguments");
        xmlFree(name);
        xmlFree(value);
        xmlFree(msg);
        if (rc)
            return vip_error_prefix(err, "%s:%d: ", t->path, line_of(n));
    }
    return VIP_OK;
}

/* ---- inline content ---- */

typedef struct inline_ctx {
    vip_template *t;
    vip_catalog *cat;
    const vip_case_row *row;
    const vip_warn_sink *warn;
    const vip_arg *args;
    size_t arg_count;
    vip_error *err;
} inline_ctx;

/* Text [start, end) of out is the English source of a unit the catalogue has not translated: in another
 * language's document it is marked as English (a span of its own language, for screen readers and hyphenation). */
static int mark_english(inline_ctx *c, vip_rich *out, size_t start, size_t end)
{
    const char *lang = vip_catalog_lang(c->cat);
    if (!lang || (strncmp(lang, "en", 2) == 0 && (!lang[2] || lang[2] == '-')) || start >= end)
        return VIP_OK;
    return vip_rich_add_span(out, start, end, "en", VIP_WEIGHT_KEEP, c->err);
}

/* The English arguments (see english_arg) in the text from start to the end of out, marked as English. */
static int mark_english_args(inline_ctx *c, vip_rich *out, size_t start)
{
    for (size_t a = 0; a < c->t->english_arg_count; a++) {
        const char *arg = c->t->english_arg[a];
        size_t n = strlen(arg);
        for (const char *p = n ? strstr(out->text + start, arg) : NULL; p; p = strstr(p + n, arg)) {
            size_t at = (size_t)(p - out->text);
            int rc = mark_english(c, out, at, at + n);
            if (rc)
                return rc;
        }
    }
    return VIP_OK;
}

static int field_text(inline_ctx *c, const xmlNode *n, vip_rich *out)
{
    char *name = prop(n, "name"), *format = prop(n, "format"), *fallback = prop(n, "fallback");
    int rc = VIP_OK;
    const vip_arg *arg = NULL;
    int f = name ? find_field(name) : -1;
    for (size_t i = 0; name && i < c->arg_count; i++)
        if (strcmp(c->args[i].name, name) == 0)
            arg = &c->args[i];
    if (!arg) {
        rc = vip_error_set(c->err, VIP_ERR_INPUT, "%s:%d: <field name=\"%s\">: no such case column or parameter",
                           c->t->path, line_of(n), name ? name : "");
    } else if (fallback && f >= 0 && c->row && (!c->row->value[f] || !*c->row->value[f])) {
        int english = 0;
        size_t start = out->length;
        char *s = format_msg_english(c->t, c->cat, fallback, c->args, c->arg_count, c->warn, &english, c->err);
        rc = s ? vip_rich_append(out, s, strlen(s), c->err) : vip_error_prefix(c->err, "%s:%d: ", c->t->path, line_of(n));
        if (!rc)
            rc = english ? mark_english(c, out, start, out->length) : mark_english_args(c, out, start);
        free(s);
    } else if (arg->type == VIP_ARG_DATE || (format && strcmp(format, "date") == 0)) {
        /* A date on its own goes through the catalogue's date message, in the language's form and digits. */
        vip_arg d = *arg;
        d.name = "date";
        char *s = format_msg(c->t, c->cat, "common.date", &d, 1, c->warn, c->err);
        rc = s ? vip_rich_append(out, s, strlen(s), c->err) : c->err->code;
        free(s);
    } else {
        /* Isolated (or translated, for coded columns): "12 Acacia Avenue" stays in its order in an RTL letter. */
        const char *unit = arg_unit(c->t, arg->string);
        rc = unit ? record_unit(c->t, c->cat, unit, c->err) : VIP_OK;
        size_t start = out->length;
        if (!rc)
            rc = vip_rich_append(out, arg->string, strlen(arg->string), c->err);
        if (!rc)
            rc = mark_english_args(c, out, start);
    }
    xmlFree(name);
    xmlFree(format);
    xmlFree(fallback);
    return rc;
}

/* Appends the inline content of node n to out: messages, fields, emphasis, links, breaks. */
static int inline_content(inline_ctx *c, const xmlNode *parent, vip_rich *out)
{
    for (const xmlNode *n = parent->children; n; n = n->next) {
        int rc = VIP_OK;
        if (is_el(n, "msg")) {
            char *id = prop(n, "id");
            int english = 0;
            size_t start = out->length;
            char *s = id ? format_msg_english(c->t, c->cat, id, c->args, c->arg_count, c->warn, &english, c->err)
                         : NULL;
            if (!s)
                rc = vip_error_prefix(c->err, "%s:%d: ", c->t->path, line_of(n));
            else if (!(rc = vip_rich_append(out, s, strlen(s), c->err)))
                rc = english ? mark_english(c, out, start, out->length) : mark_english_args(c, out, start);
            free(s);
            xmlFree(id);
        } else if (is_el(n, "field")) {
            rc = field_text(c, n, out);
        } else if (is_el(n, "em")) {
            size_t start = out->length;
            if (!(rc = inline_content(c, n, out)))
                rc = vip_rich_add_span(out, start, out->length, NULL, VIP_WEIGHT_BOLD, c->err);
        } else if (is_el(n, "link")) {
            size_t start = out->length;
            char *href = prop(n, "href");
            if (!(rc = inline_content(c, n, out)))
                rc = vip_rich_add_link(out, start, out->length, href ? href : "", c->err);
            xmlFree(href);
        } else if (is_el(n, "br")) {
            rc = vip_rich_append(out, LINE_SEPARATOR, 3, c->err);
        } else if (is_el(n, "sp")) {
            rc = vip_rich_append(out, " ", 1, c->err);
        }
        if (rc)
            return rc;
    }
    if (!out->text)
        return vip_rich_append(out, "", 0, c->err);
    return VIP_OK;
}

/* ---- blocks ---- */

static vip_align align_of(const xmlNode *n)
{
    char *a = prop(n, "align");
    vip_align r = VIP_ALIGN_START;
    if (a && strcmp(a, "end") == 0)
        r = VIP_ALIGN_END;
    else if (a && strcmp(a, "center") == 0)
        r = VIP_ALIGN_CENTER;
    else if (a && strcmp(a, "justify") == 0)
        r = VIP_ALIGN_JUSTIFY;
    xmlFree(a);
    return r;
}

/* Whether every character of r but spaces lies in a span marked English (the source text of units the catalogue
 * has not translated, see mark_english). */
static int all_english(const vip_rich *r)
{
    int any = 0;
    for (size_t i = 0; i < r->length; i++) {
        if (r->text[i] == ' ')
            continue;
        int in = 0;
        for (size_t k = 0; k < r->span_count && !in; k++)
            in = r->spans[k].lang && strcmp(r->spans[k].lang, "en") == 0 && r->spans[k].start <= i &&
                 i < r->spans[k].end;
        if (!in)
            return 0;
        any = 1;
    }
    return any;
}

static vip_block *add(merge *m, inline_ctx *c, vip_block_kind kind, const xmlNode *n, const xmlNode *content)
{
    char where[600];
    snprintf(where, sizeof where, "%s:%d", m->t->path, line_of(n));
    vip_block *b = vip_doc_add_block(m->doc, kind, 0, NULL, 0, align_of(n), where, m->err);
    if (!b)
        return NULL;
    b->region = m->region;
    char *lines = prop(n, "lines"); /* the schema allows a positive whole number */
    b->max_lines = lines ? atoi(lines) : 0;
    xmlFree(lines);
    if (m->t->record) {
        m->t->record_to = b->units;
        m->t->record_count = &b->unit_count;
    }
    if (content) {
        vip_rich_free(&b->content);
        if (inline_content(c, content, &b->content) || vip_rich_find_links(&b->content, m->err))
            return NULL;
        /* All English fallback in a right-to-left document: it reads left to right (its full stop at its end). */
        if (m->doc->dir == VIP_DIR_RTL && all_english(&b->content))
            b->dir = VIP_DIR_LTR;
    }
    return b;
}

static int blocks(merge *m, inline_ctx *c, const xmlNode *parent);

/* Nothing to show: empty, or only white space and the isolates around an empty case value. */
static int is_blank(const vip_rich *r)
{
    for (size_t i = 0; i < r->length;) {
        if (r->length - i >= 3 && (memcmp(r->text + i, FSI, 3) == 0 || memcmp(r->text + i, PDI, 3) == 0)) {
            i += 3;
            continue;
        }
        if (r->text[i] != ' ')
            return 0;
        i++;
    }
    return 1;
}

static char *list_marker(merge *m, int ordered, int number)
{
    if (!ordered)
        return strdup("\xE2\x80\xA2");
    char *digits = vip_message_format_number(number, vip_catalog_lang(m->cat), m->err);
    if (!digits)
        return NULL;
    size_t n = strlen(digits) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s.", digits);
    free(digits);
    return s;
}

static int table(merge *m, inline_ctx *c, const xmlNode *n)
{
    char *cols = prop(n, "columns");
    double widths[32];
    size_t nw = 0;
    for (char *p = cols, *end; p && *p && nw < 32; p = end) {
        widths[nw++] = strtod(p, &end);
        if (end == p)
            break;
    }
    xmlFree(cols);
    char *rh = prop(n, "row-headers");
    int row_headers = rh && (strcmp(rh, "true") == 0 || strcmp(rh, "1") == 0);
    xmlFree(rh);
    for (const xmlNode *r = n->children; r; r = r->next) {
        int header = is_el(r, "thead");
        const xmlNode *tr = header ? r->children : r;
        while (tr && !is_el(tr, "tr"))
            tr = tr->next;
        if (!is_el(r, "tr") && !header)
            continue;
        vip_block *b = add(m, c, VIP_BLOCK_TABLE_ROW, tr, NULL);
        if (!b)
            return m->err->code;
        b->header = header;
        b->row_header = row_headers;
        size_t cells = 0;
        for (const xmlNode *td = tr->children; td; td = td->next)
            cells += is_el(td, "td");
        if (cells > nw)
            return vip_error_set(m->err, VIP_ERR_INPUT, "%s:%d: the row has %zu cells but the table %zu columns",
                                 m->t->path, line_of(tr), cells, nw);
        if (!(b->cells = calloc(cells ? cells : 1, sizeof *b->cells)) ||
            !(b->columns = calloc(cells ? cells : 1, sizeof *b->columns)) ||
            !(b->cell_lines = calloc(cells ? cells : 1, sizeof *b->cell_lines)))
            return vip_error_set(m->err, VIP_ERR_NOMEM, "out of memory");
        for (const xmlNode *td = tr->children; td; td = td->next) {
            if (!is_el(td, "td"))
                continue;
            b->columns[b->cell_count] = widths[b->cell_count];
            char *lines = prop(td, "lines");
            b->cell_lines[b->cell_count] = lines ? atoi(lines) : 0;
            xmlFree(lines);
            size_t recorded = b->unit_count;
            if (inline_content(c, td, &b->cells[b->cell_count]) ||
                vip_rich_find_links(&b->cells[b->cell_count], m->err))
                return m->err->code;
            /* Previews and vipgen check: which cell's text a unit is, for what does not fit there. */
            for (size_t k = recorded; k < b->unit_count; k++)
                b->unit_cell[k] = (unsigned char)b->cell_count;
            b->cell_count++;
        }
    }
    return VIP_OK;
}

/* A numbered section's heading, "7. Victims' Right to Review", as the language writes it (common.section_heading),
 * so that the contents and bookmarks carry the number the text's cross-references ({s7}) give. */
static int number_heading(merge *m, inline_ctx *c, vip_block *b)
{
    vip_arg args[2] = {{.name = "number", .type = VIP_ARG_NUMBER, .number = ++m->section},
                       {.name = "title", .type = VIP_ARG_STRING, .string = b->content.text ? b->content.text : ""}};
    char *s = format_msg(m->t, c->cat, "common.section_heading", args, 2, c->warn, m->err);
    if (!s)
        return vip_error_prefix(m->err, "%s: ", b->where ? b->where : m->t->path);
    vip_rich_free(&b->content);
    int rc = vip_rich_append(&b->content, s, strlen(s), m->err);
    free(s);
    return rc;
}

static int block(merge *m, inline_ctx *c, const xmlNode *n)
{
    vip_block *b;
    const char *name = (const char *)n->name;
    if (name[0] == 'h' && name[1] >= '1' && name[1] <= '3' && !name[2]) {
        if (!(b = add(m, c, VIP_BLOCK_HEADING, n, n)))
            return m->err->code;
        b->level = name[1] - '0';
        char *bm = prop(n, "bookmark");
        b->bookmark = bm && (strcmp(bm, "true") == 0 || strcmp(bm, "1") == 0);
        xmlFree(bm);
        char *num = prop(n, "number");
        int numbered = b->level == 1 && num && (strcmp(num, "true") == 0 || strcmp(num, "1") == 0);
        xmlFree(num);
        if (numbered && number_heading(m, c, b))
            return m->err->code;
        b->section = numbered;
    } else if (is_el(n, "p")) {
        if (!(b = add(m, c, VIP_BLOCK_PARAGRAPH, n, n)))
            return m->err->code;
        char *size = prop(n, "size"), *weight = prop(n, "weight");
        b->size = size ? strtod(size, NULL) : 0;
        b->weight = weight && strcmp(weight, "bold") == 0 ? VIP_WEIGHT_BOLD : VIP_WEIGHT_REGULAR;
        xmlFree(size);
        xmlFree(weight);
    } else if (is_el(n, "ul") || is_el(n, "ol")) {
        char *cols = prop(n, "columns");
        int columns = cols && strcmp(cols, "2") == 0 ? 2 : 0; /* the schema allows 1 and 2 */
        xmlFree(cols);
        int number = 0;
        for (const xmlNode *li = n->children; li; li = li->next) {
            if (!is_el(li, "li"))
                continue;
            if (!(b = add(m, c, VIP_BLOCK_LIST_ITEM, li, li)))
                return m->err->code;
            b->list_first = number == 0;
            b->list_columns = columns;
            if (!(b->marker = list_marker(m, is_el(n, "ol"), ++number)))
                return m->err->code ? m->err->code : vip_error_set(m->err, VIP_ERR_NOMEM, "out of memory");
        }
    } else if (is_el(n, "table")) {
        return table(m, c, n);
    } else if (is_el(n, "box")) {
        if (!(b = add(m, c, VIP_BLOCK_BOX_BEGIN, n, NULL)))
            return m->err->code;
        char *tone = prop(n, "tone");
        b->tone = tone && strcmp(tone, "important") == 0;
        xmlFree(tone);
        if (blocks(m, c, n) || !add(m, c, VIP_BLOCK_BOX_END, n, NULL))
            return m->err->code;
    } else if (is_el(n, "image")) {
        /* Its content is its alternative text, from <alt>. */
        const xmlNode *alt = n->children;
        while (alt && !is_el(alt, "alt"))
            alt = alt->next;
        if (!(b = add(m, c, VIP_BLOCK_IMAGE, n, alt)))
            return m->err->code;
        char *src = prop(n, "src");
        unsigned w = 1, h = 1;
        b->image_path = src ? image_path(m->t, src) : NULL;
        xmlFree(src);
        if (!b->image_path)
            return vip_error_set(m->err, VIP_ERR_NOMEM, "out of memory");
        if (png_size(b->image_path, &w, &h, m->err))
            return m->err->code;
        b->width = length_of(n, "width", 20 * MM);
        b->height = b->width * h / (w ? w : 1);
    } else if (is_el(n, "space")) {
        if (!(b = add(m, c, VIP_BLOCK_SPACE, n, NULL)))
            return m->err->code;
        b->height = length_of(n, "height", 0);
    } else if (is_el(n, "page-break")) {
        if (!add(m, c, VIP_BLOCK_PAGE_BREAK, n, NULL))
            return m->err->code;
    } else if (is_el(n, "contents")) {
        if (!(b = add(m, c, VIP_BLOCK_CONTENTS, n, NULL)))
            return m->err->code;
        char *levels = prop(n, "levels"); /* the heading levels listed: 1, or 2 (the default) */
        b->level = levels && strcmp(levels, "1") == 0 ? 1 : 2;
        xmlFree(levels);
    } else if (is_el(n, "line")) {
        if (!(b = add(m, c, VIP_BLOCK_PARAGRAPH, n, n)))
            return m->err->code;
        if (is_blank(&b->content)) {
            /* An empty case value (no address_2) leaves no blank line in the address. */
            vip_rich_free(&b->content);
            free(b->lang);
            free(b->where);
            m->doc->block_count--;
        }
    } else if (is_el(n, "if")) {
        char *field = prop(n, "field"), *equals = prop(n, "equals"), *empty = prop(n, "empty");
        int f = field ? find_field(field) : -1;
        const char *value = f >= 0 && m->row && m->row->value[f] ? m->row->value[f] : "";
        int unknown = f < 0;
        for (size_t i = 0; unknown && field && i < m->arg_count; i++)
            if (m->args[i].type == VIP_ARG_STRING && strcmp(m->args[i].name, field) == 0) {
                value = m->args[i].string ? m->args[i].string : "";
                unknown = 0;
            }
        int holds = equals ? strcmp(value, equals) == 0
                           : (*value == '\0') == (empty && (strcmp(empty, "true") == 0 || strcmp(empty, "1") == 0));
        xmlFree(field);
        xmlFree(equals);
        xmlFree(empty);
        if (unknown)
            return vip_error_set(m->err, VIP_ERR_INPUT, "%s:%d: <if field>: no such case column or parameter",
                                 m->t->path, line_of(n));
        if (holds)
            return blocks(m, c, n);
    }
    return VIP_OK;
}

static int blocks(merge *m, inline_ctx *c, const xmlNode *parent)
{
    for (const xmlNode *n = parent->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE && block(m, c, n))
            return m->err->code;
    return VIP_OK;
}

static void footer_free(void *user)
{
    footer_ctx *fc = user;
    if (!fc)
        return;
    for (size_t i = 0; i < fc->owned_count; i++)
        free(fc->owned[i]);
    free(fc);
}

/* The footer for one page: its inline content with `page` and `pages` among the arguments. */
static char *footer_text(void *user, int page, int pages, vip_error *err)
{
    footer_ctx *fc = user;
    vip_arg args[MAX_ARGS + 2];
    memcpy(args, fc->args, fc->arg_count * sizeof *args);
    args[fc->arg_count] = (vip_arg){.name = "page", .type = VIP_ARG_NUMBER, .number = page};
    args[fc->arg_count + 1] = (vip_arg){.name = "pages", .type = VIP_ARG_NUMBER, .number = pages};
    inline_ctx c = {fc->t, fc->cat, NULL, fc->warn, args, fc->arg_count + 2, err};
    vip_rich r = {0};
    if (inline_content(&c, fc->node, &r)) {
        vip_rich_free(&r);
        return NULL;
    }
    char *s = r.text;
    r.text = NULL;
    vip_rich_free(&r);
    return s;
}

static char *page_number(void *user, int number, vip_error *err)
{
    footer_ctx *fc = user;
    return vip_message_format_number(number, vip_catalog_lang(fc->cat), err);
}

/* <page><lang tag leading>: settings for the document's language, e.g. less leading for Nastaliq, whose line
 * pitch already holds its tall ink. */
static int page_lang(merge *m, const xmlNode *page, const vip_lang *doc_lang)
{
    for (const xmlNode *n = page->children; n; n = n->next) {
        if (!is_el(n, "lang"))
            continue;
        char *tag = prop(n, "tag"), *leading = prop(n, "leading");
        const vip_lang *l = tag && leading ? vip_lang_find(tag, m->err) : NULL;
        if (l == doc_lang)
            m->doc->leading = strtod(leading, NULL);
        int rc = l ? VIP_OK
                 : tag && leading ? vip_error_prefix(m->err, "%s:%d: <lang tag>: ", m->t->path, line_of(n))
                                  : vip_error_set(m->err, VIP_ERR_NOMEM, "out of memory");
        xmlFree(tag);
        xmlFree(leading);
        if (rc)
            return rc;
    }
    return VIP_OK;
}

/* Previews: what is formatted next is printed in the title, header or footer. */
static void record_furniture(merge *m)
{
    if (m->t->record) {
        m->t->record_to = m->doc->furniture_units;
        m->t->record_count = &m->doc->furniture_unit_count;
    }
}

/* Every numbered section with an id is an argument of that name, its number: "see section {s7}" in a message is the
 * number the heading gets, whatever comes before it. */
static int section_args(const vip_template *t, vip_arg *args, size_t *count, vip_error *err)
{
    const xmlNode *sections[MAX_ARGS];
    size_t n = numbered_headings(t->root, sections, MAX_ARGS, 0);
    for (size_t i = 0; i < n; i++) {
        /* The id lives in the template's tree, which outlives every merge. */
        xmlAttrPtr id = xmlHasProp((xmlNodePtr)sections[i], (const xmlChar *)"id");
        if (!id || !id->children)
            continue;
        if (*count == MAX_ARGS)
            return vip_error_set(err, VIP_ERR_INTERNAL, "too many message arguments");
        args[(*count)++] = (vip_arg){.name = (const char *)id->children->content, .type = VIP_ARG_NUMBER,
                                     .number = (double)(i + 1)};
    }
    return VIP_OK;
}

/* The chosen print variants over the page's own settings (all checked at load). */
static void apply_print(const vip_template *t, const xmlNode *page, vip_doc *doc)
{
    for (size_t k = 0; k < t->print_count; k++)
        for (const xmlNode *v = page->children; v; v = v->next) {
            char *name = is_el(v, "print") ? prop(v, "name") : NULL;
            int chosen = name && strcmp(name, t->print[k]) == 0;
            xmlFree(name);
            if (!chosen)
                continue;
            char *size = prop(v, "size"), *body = prop(v, "body-size"), *pages = prop(v, "max-pages");
            char *scale = prop(v, "type-scale");
            if (size) {
                double w, h;
                paper_mm(size, &w, &h);
                doc->page_width = w * MM;
                doc->page_height = h * MM;
            }
            doc->margin_top = length_of(v, "margin-top", doc->margin_top);
            doc->margin_bottom = length_of(v, "margin-bottom", doc->margin_bottom);
            doc->margin_start = length_of(v, "margin-start", doc->margin_start);
            doc->margin_end = length_of(v, "margin-end", doc->margin_end);
            if (body)
                doc->body_size = strtod(body, NULL);
            if (pages)
                doc->max_pages = (int)strtol(pages, NULL, 10);
            if (scale)
                doc->type_scale = strtod(scale, NULL) * (doc->type_scale > 0 ? doc->type_scale : 1);
            xmlFree(size);
            xmlFree(body);
            xmlFree(pages);
            xmlFree(scale);
        }
}

int vip_template_set_print(vip_template *t, const char *name, vip_error *err)
{
    char names[300] = "";
    for (const xmlNode *n = t->root->children; n; n = n->next) {
        if (!is_el(n, "page"))
            continue;
        for (const xmlNode *v = n->children; v; v = v->next) {
            char *p = is_el(v, "print") ? prop(v, "name") : NULL;
            if (!p)
                continue;
            int same = strcmp(p, name) == 0;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", p);
            xmlFree(p);
            if (!same)
                continue;
            if (t->print_count == sizeof t->print / sizeof t->print[0])
                return vip_error_set(err, VIP_ERR_INPUT, "%s: too many print variants chosen", t->path);
            if (!(t->print[t->print_count] = strdup(name)))
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            t->print_count++;
            return VIP_OK;
        }
    }
    return vip_error_set(err, VIP_ERR_INPUT, "%s has no print variant \"%s\"%s%s", t->path, name,
                         names[0] ? "; it has: " : "", names);
}

vip_doc *vip_template_merge(vip_template *t, vip_catalog *cat, const vip_case_row *row, const vip_warn_sink *warn,
                            vip_error *err)
{
    const vip_lang *lang = vip_lang_find(vip_catalog_lang(cat), err);
    merge m = {.t = t, .cat = cat, .row = row, .warn = warn, .err = err};
    footer_ctx *fc = NULL;
    if (!lang || !(m.doc = vip_doc_create(NULL, lang->tag, err)))
        return NULL;
    m.doc->dir = lang->rtl ? VIP_DIR_RTL : VIP_DIR_LTR;
    t->arg_unit_count = 0;
    t->english_arg_count = 0;
    t->record_to = NULL;
    if (case_args(t, cat, row, warn, m.args, &m.arg_count, m.owned, &m.owned_count, err) ||
        param_args(t, cat, warn, m.args, &m.arg_count, m.owned, &m.owned_count, err) ||
        section_args(t, m.args, &m.arg_count, err))
        goto fail;
    inline_ctx c = {t, cat, row, warn, m.args, m.arg_count, err};
    for (xmlNodePtr n = t->root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(n, "page")) {
            m.doc->margin_top = length_of(n, "margin-top", 0);
            m.doc->margin_bottom = length_of(n, "margin-bottom", 0);
            m.doc->margin_start = length_of(n, "margin-start", 0);
            m.doc->margin_end = length_of(n, "margin-end", 0);
            char *size = prop(n, "body-size"), *max_pages = prop(n, "max-pages");
            m.doc->body_size = size ? strtod(size, NULL) : 0;
            m.doc->max_pages = max_pages ? (int)strtol(max_pages, NULL, 10) : 0; /* in range: checked at load */
            xmlFree(size);
            xmlFree(max_pages);
            apply_print(t, n, m.doc);
            if (page_lang(&m, n, lang))
                goto fail;
        } else if (is_el(n, "title")) {
            vip_rich r = {0};
            record_furniture(&m);
            if (inline_content(&c, n, &r)) {
                vip_rich_free(&r);
                goto fail;
            }
            m.doc->title = r.text;
            r.text = NULL;
            vip_rich_free(&r);
        } else if (is_el(n, "letterhead") || is_el(n, "address-window") || is_el(n, "reference") ||
                   is_el(n, "body")) {
            m.region = is_el(n, "letterhead")       ? VIP_REGION_LETTERHEAD
                       : is_el(n, "address-window") ? VIP_REGION_ADDRESS
                       : is_el(n, "reference")      ? VIP_REGION_REFERENCE
                                                    : VIP_REGION_BODY;
            if (blocks(&m, &c, n))
                goto fail;
        } else if (is_el(n, "header")) {
            record_furniture(&m);
            if (inline_content(&c, n, &m.doc->header))
                goto fail;
        } else if (is_el(n, "footer")) {
            if (!(fc = calloc(1, sizeof *fc))) {
                vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
                goto fail;
            }
            /* The footer keeps its own copies of the arguments: the merge's go away when it returns. */
            *fc = (footer_ctx){.t = t, .cat = cat, .node = n, .warn = warn};
            for (size_t i = 0; i < m.arg_count; i++) {
                vip_arg a = m.args[i];
                char *own = NULL;
                if (a.type == VIP_ARG_STRING && !(own = strdup(a.string ? a.string : ""))) {
                    footer_free(fc);
                    vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
                    goto fail;
                }
                if (own)
                    a.string = own;
                add_arg(fc->args, &fc->arg_count, fc->owned, &fc->owned_count, a, own);
            }
            m.doc->footer = footer_text;
            m.doc->number = page_number;
            m.doc->user = fc;
            m.doc->user_free = footer_free;
            if (t->record) {
                /* Previews: the footer is formatted during layout; its units are recorded from a first page. */
                record_furniture(&m);
                char *first = footer_text(fc, 1, 1, err);
                if (!first)
                    goto fail;
                free(first);
            }
        }
    }
    if (!m.doc->title && !(m.doc->title = strdup(""))) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < m.owned_count; i++)
        free(m.owned[i]);
    t->record_to = NULL;
    t->arg_unit_count = 0;
    t->english_arg_count = 0;
    return m.doc;
fail:
    for (size_t i = 0; i < m.owned_count; i++)
        free(m.owned[i]);
    t->record_to = NULL;
    t->arg_unit_count = 0;
    t->english_arg_count = 0;
    vip_doc_destroy(m.doc);
    return NULL;
}
