#include "check.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "lang.h"
#include "message.h"
#include "xml.h"

#define XLIFF_NS "urn:oasis:names:tc:xliff:document:2.0"
#define SLR_NS "urn:oasis:names:tc:xliff:sizerestriction:2.0"
#define MAX_TEXT_BYTES 65536 /* as catalog.c: the longest source or target vipgen accepts */

/* Limits are "about N characters": over N is a warning, over half as much again will not fit where it is
 * printed and is an error. */
#define HARD_LIMIT(n) ((n) + ((n) + 1) / 2)

static const char quoting_rule[] =
    " In ICU MessageFormat an ASCII apostrophe ' directly before {, } or # starts quoted text: the braces and what "
    "follows print literally and the argument is lost ('' prints one apostrophe). Write the typographic "
    "apostrophe \xE2\x80\x99 (U+2019) instead, as en.xlf does.";

typedef struct stored_problem {
    vip_check_problem p;
    size_t file_seq, seq;
} stored_problem;

/* One unit as read for checking. */
typedef struct cunit {
    char *id;
    int line, source_line, target_line;
    char *source, *target; /* target NULL when missing */
    char *state;           /* NULL: none given (XLIFF's default, initial) */
    long size_limit;       /* slr:sizeRestriction, or -1 */
    long storage_limit;    /* slr:storageRestriction (UTF-8 bytes), or -1 */
    int usable;            /* read completely (segment, source) */
} cunit;

typedef struct ccat {
    char *path;
    int file_line;
    cunit *units;
    size_t count, cap;
    cunit **by_id;
} ccat;

typedef struct gloss {
    char *lang, *english, **renderings;
    size_t nrend;
    int line;
} gloss;

struct vip_check {
    const char *english_opt, *glossary_opt, *cases_opt;
    vip_fit *fit;
    stored_problem *problems;
    size_t count, cap, errors, warnings, files;
    /* The English catalogue and the glossary, read once per path (usually one of each). */
    char *english_path;
    ccat *english;
    char *glossary_path;
    gloss *glossary;
    size_t nglossary;
    int nomem;
};

/* ---- problems ---- */

static void add(vip_check *ck, vip_check_severity sev, const char *file, int line, const char *unit,
                const char *kind, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void add(vip_check *ck, vip_check_severity sev, const char *file, int line, const char *unit,
                const char *kind, const char *fmt, ...)
{
    if (ck->count == ck->cap) {
        size_t cap = ck->cap ? ck->cap * 2 : 64;
        stored_problem *bigger = realloc(ck->problems, cap * sizeof *bigger);
        if (!bigger) {
            ck->nomem = 1;
            return;
        }
        ck->problems = bigger;
        ck->cap = cap;
    }
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    stored_problem *s = &ck->problems[ck->count];
    memset(s, 0, sizeof *s);
    s->p.severity = sev;
    s->p.line = line;
    s->file_seq = ck->files;
    s->seq = ck->count;
    s->p.file = strdup(file);
    s->p.unit = unit ? strdup(unit) : NULL;
    s->p.kind = kind;
    s->p.message = strdup(text);
    if (!s->p.file || (unit && !s->p.unit) || !s->p.message) {
        free((char *)s->p.file);
        free((char *)s->p.unit);
        free((char *)s->p.message);
        ck->nomem = 1;
        return;
    }
    ck->count++;
    if (sev == VIP_CHECK_ERROR)
        ck->errors++;
    else
        ck->warnings++;
}

#define ERROR(ck, file, line, unit, kind, ...) add(ck, VIP_CHECK_ERROR, file, line, unit, kind, __VA_ARGS__)
#define WARN(ck, file, line, unit, kind, ...) add(ck, VIP_CHECK_WARNING, file, line, unit, kind, __VA_ARGS__)

/* ---- reading a catalogue ---- */

static int is_xliff(const xmlNode *n, const char *name)
{
    return vip_xml_is_element(n, XLIFF_NS, name);
}


static char *attr(vip_check *ck, const xmlNode *n, const char *name, const char *ns)
{
    return vip_xml_attr(n, ns, name, &ck->nomem);
}

/* The text of <source> or <target>; inline elements are reported (vipgen's messages are plain text). */
static char *plain_text(vip_check *ck, ccat *cat, int report, const xmlNode *n, const char *id)
{
    size_t len = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            len += c->content ? strlen((const char *)c->content) : 0;
        } else if (c->type == XML_ELEMENT_NODE) {
            if (report)
                ERROR(ck, cat->path, vip_xml_line(c), id, "structure",
                      "inline element <%s> in <%s>: vipgen's messages are plain text; write the text only",
                      (const char *)c->name, (const char *)n->name);
            return NULL;
        }
    }
    if (len > MAX_TEXT_BYTES) {
        if (report)
            ERROR(ck, cat->path, vip_xml_line(n), id, "structure",
                  "<%s> is %zu bytes, more than the %d a message may have; split the text over several units",
                  (const char *)n->name, len, MAX_TEXT_BYTES);
        return NULL;
    }
    char *s = vip_xml_text(n);
    if (!s)
        ck->nomem = 1;
    return s;
}

static long limit_attr(vip_check *ck, ccat *cat, int report, const xmlNode *n, const char *name, const char *id)
{
    char *v = attr(ck, n, name, SLR_NS);
    if (!v)
        return -1;
    char *end;
    long l = strtol(v, &end, 10);
    if (*end || end == v || l < 1 || l > MAX_TEXT_BYTES) {
        if (report)
            ERROR(ck, cat->path, vip_xml_line(n), id, "length-attribute",
                  "slr:%s=\"%s\" is not a whole number from 1 to %d; write the limit from the English catalogue",
                  name, v, MAX_TEXT_BYTES);
        l = -1;
    }
    free(v);
    return l;
}

static void read_unit(vip_check *ck, ccat *cat, int report, const xmlNode *n)
{
    if (cat->count == cat->cap) {
        size_t cap = cat->cap ? cat->cap * 2 : 512;
        cunit *bigger = realloc(cat->units, cap * sizeof *bigger);
        if (!bigger) {
            ck->nomem = 1;
            return;
        }
        cat->units = bigger;
        cat->cap = cap;
    }
    cunit u = {0};
    u.line = vip_xml_line(n);
    u.size_limit = u.storage_limit = -1;
    u.id = attr(ck, n, "id", NULL);
    if (!u.id || !*u.id) {
        if (report && !ck->nomem)
            ERROR(ck, cat->path, u.line, NULL, "structure", "<unit> has no id; give it the id of its English unit");
        free(u.id);
        return;
    }
    u.size_limit = limit_attr(ck, cat, report, n, "sizeRestriction", u.id);
    u.storage_limit = limit_attr(ck, cat, report, n, "storageRestriction", u.id);
    const xmlNode *segment = NULL;
    size_t segments = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_xliff(c, NULL))
            continue;
        if (strcmp((const char *)c->name, "segment") == 0) {
            if (!segments++)
                segment = c;
        } else if (strcmp((const char *)c->name, "notes") != 0 && strcmp((const char *)c->name, "originalData") != 0) {
            if (report)
                ERROR(ck, cat->path, vip_xml_line(c), u.id, "structure",
                      "unexpected element <%s> in <unit>: a unit holds <notes> and one <segment>",
                      (const char *)c->name);
        }
    }
    if (segments != 1) {
        if (report)
            ERROR(ck, cat->path, u.line, u.id, "structure",
                  segments ? "has %zu <segment>s: vipgen reads one per unit; merge them into one"
                           : "has no <segment>%.0zu: copy the segment from the English unit",
                  segments);
        cat->units[cat->count++] = u;
        return;
    }
    const xmlNode *source = NULL, *target = NULL;
    for (const xmlNode *c = segment->children; c; c = c->next) {
        if (!is_xliff(c, NULL))
            continue;
        const xmlNode **slot = strcmp((const char *)c->name, "source") == 0   ? &source
                               : strcmp((const char *)c->name, "target") == 0 ? &target
                                                                               : NULL;
        if (!slot) {
            if (report)
                ERROR(ck, cat->path, vip_xml_line(c), u.id, "structure",
                      "unexpected element <%s> in <segment>: a segment holds one <source> and one <target>",
                      (const char *)c->name);
        } else if (*slot) {
            if (report)
                ERROR(ck, cat->path, vip_xml_line(c), u.id, "structure", "a second <%s> in the segment; keep one",
                      (const char *)c->name);
        } else {
            *slot = c;
        }
    }
    u.state = attr(ck, segment, "state", NULL);
    if (!source) {
        if (report)
            ERROR(ck, cat->path, vip_xml_line(segment), u.id, "structure",
                  "<segment> has no <source>: copy it from the English unit");
        cat->units[cat->count++] = u;
        return;
    }
    u.source_line = vip_xml_line(source);
    u.source = plain_text(ck, cat, report, source, u.id);
    if (target) {
        u.target_line = vip_xml_line(target);
        u.target = plain_text(ck, cat, report, target, u.id);
    } else {
        u.target_line = vip_xml_line(segment);
    }
    u.usable = u.source && (!target || u.target);
    cat->units[cat->count++] = u;
}

static void read_container(vip_check *ck, ccat *cat, int report, const xmlNode *n)
{
    for (const xmlNode *c = n->children; c && !ck->nomem; c = c->next) {
        if (!is_xliff(c, NULL))
            continue; /* other modules' elements (slr:profiles) */
        const char *name = (const char *)c->name;
        if (strcmp(name, "unit") == 0)
            read_unit(ck, cat, report, c);
        else if (strcmp(name, "group") == 0)
            read_container(ck, cat, report, c);
        else if (strcmp(name, "notes") != 0 && strcmp(name, "skeleton") != 0 && report)
            ERROR(ck, cat->path, vip_xml_line(c), NULL, "structure", "unexpected element <%s> in <%s>", name,
                  (const char *)n->name);
    }
}

static void ccat_destroy(ccat *cat)
{
    if (!cat)
        return;
    for (size_t i = 0; i < cat->count; i++) {
        free(cat->units[i].id);
        free(cat->units[i].source);
        free(cat->units[i].target);
        free(cat->units[i].state);
    }
    free(cat->units);
    free(cat->by_id);
    free(cat->path);
    free(cat);
}

static int by_id(const void *a, const void *b)
{
    const cunit *ua = *(const cunit *const *)a, *ub = *(const cunit *const *)b;
    int c = strcmp(ua->id, ub->id);
    return c ? c : (ua->line > ub->line) - (ua->line < ub->line);
}

static const cunit *find(const ccat *cat, const char *id)
{
    size_t lo = 0, hi = cat->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, cat->by_id[mid]->id);
        if (c == 0) {
            while (mid > 0 && strcmp(id, cat->by_id[mid - 1]->id) == 0)
                mid--;
            return cat->by_id[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The problem a vip_error from vip_xml becomes: "path:line: what" keeps its line. */
static void xml_problem(vip_check *ck, const char *path, const vip_error *e)
{
    const char *msg = e->message;
    int line = 0;
    size_t plen = strlen(path);
    if (strncmp(msg, path, plen) == 0 && msg[plen] == ':') {
        msg += plen + 1;
        char *end;
        long l = strtol(msg, &end, 10);
        if (end != msg && *end == ':') {
            line = (int)l;
            msg = end + 1;
        }
        while (*msg == ' ')
            msg++;
    }
    if (e->code == VIP_ERR_INPUT)
        ERROR(ck, path, line, NULL, "xml", "%s; the file must be well-formed XML in UTF-8", msg);
    else
        ERROR(ck, path, line, NULL, "io", "%s", msg);
}

/* Reads the units of a catalogue's <file>s. The root is checked by the caller. */
static ccat *read_units(vip_check *ck, const char *path, const xmlNode *root, int report)
{
    ccat *cat = calloc(1, sizeof *cat);
    if (!cat || !(cat->path = strdup(path))) {
        free(cat);
        ck->nomem = 1;
        return NULL;
    }
    size_t files = 0;
    for (const xmlNode *c = root->children; c && !ck->nomem; c = c->next) {
        if (!is_xliff(c, NULL))
            continue;
        if (strcmp((const char *)c->name, "file") == 0) {
            if (!files++)
                cat->file_line = vip_xml_line(c);
            read_container(ck, cat, report, c);
        } else if (report) {
            ERROR(ck, path, vip_xml_line(c), NULL, "structure", "unexpected element <%s> in <xliff>",
                  (const char *)c->name);
        }
    }
    if (!files && report)
        ERROR(ck, path, vip_xml_line(root), NULL, "structure", "<xliff> has no <file>: copy the structure of en.xlf");
    if (!cat->file_line)
        cat->file_line = vip_xml_line(root);
    if (cat->count && !ck->nomem) {
        if (!(cat->by_id = malloc(cat->count * sizeof *cat->by_id))) {
            ck->nomem = 1;
        } else {
            for (size_t i = 0; i < cat->count; i++)
                cat->by_id[i] = &cat->units[i];
            qsort(cat->by_id, cat->count, sizeof *cat->by_id, by_id);
        }
    }
    if (ck->nomem) {
        ccat_destroy(cat);
        return NULL;
    }
    return cat;
}

static const vip_lang *file_lang(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len <= 4 || strcmp(base + len - 4, ".xlf") != 0 || len - 4 >= 32)
        return NULL;
    char tag[32];
    snprintf(tag, sizeof tag, "%.*s", (int)(len - 4), base);
    return vip_lang_find(tag, NULL);
}

/* A file beside `path` (its folder, or the current one). */
static char *sibling(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path + 1) : 0;
    char *s = malloc(dir + strlen(name) + 1);
    if (s) {
        memcpy(s, path, dir);
        strcpy(s + dir, name);
    }
    return s;
}

/* ---- the English catalogue and the glossary ---- */

static int load_english(vip_check *ck, const char *path, vip_error *err)
{
    if (ck->english_path && strcmp(ck->english_path, path) == 0)
        return VIP_OK;
    ccat_destroy(ck->english);
    ck->english = NULL;
    free(ck->english_path);
    if (!(ck->english_path = strdup(path)))
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    vip_error e = {0};
    xmlDocPtr doc = vip_xml_read_file(path, &e);
    if (!doc)
        return vip_error_set(err, e.code, "the English catalogue: %s", e.message);
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_xliff(root, "xliff")) {
        xmlFreeDoc(doc);
        return vip_error_set(err, VIP_ERR_INPUT, "%s: the English catalogue is not XLIFF 2.0", path);
    }
    ck->english = read_units(ck, path, root, 0);
    xmlFreeDoc(doc);
    if (!ck->english)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory reading %s", path);
    return VIP_OK;
}

static void glossary_free(vip_check *ck)
{
    for (size_t i = 0; i < ck->nglossary; i++) {
        free(ck->glossary[i].lang);
        free(ck->glossary[i].english);
        for (size_t k = 0; k < ck->glossary[i].nrend; k++)
            free(ck->glossary[i].renderings[k]);
        free(ck->glossary[i].renderings);
    }
    free(ck->glossary);
    ck->glossary = NULL;
    ck->nglossary = 0;
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* translations/glossary.tsv: "lang TAB English term TAB rendering[|another form...] [TAB comment]" per line;
 * '#' starts a comment line. A line that is not of that shape is an error in the glossary itself. */
static int load_glossary(vip_check *ck, const char *path, int required, vip_error *err)
{
    if (ck->glossary_path && strcmp(ck->glossary_path, path) == 0)
        return VIP_OK;
    glossary_free(ck);
    free(ck->glossary_path);
    if (!(ck->glossary_path = strdup(path)))
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!required)
            return VIP_OK; /* no glossary beside the catalogue: nothing to check against */
        return vip_error_set(err, VIP_ERR_IO, "%s: cannot open the glossary", path);
    }
    char buf[4096];
    int line = 0;
    size_t cap = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strcspn(buf, "\r\n");
        buf[len] = '\0';
        if (!len || buf[0] == '#')
            continue;
        char *f1 = buf, *t1 = strchr(f1, '\t');
        char *f2 = t1 ? t1 + 1 : NULL, *t2 = f2 ? strchr(f2, '\t') : NULL;
        char *f3 = t2 ? t2 + 1 : NULL;
        if (!f3) {
            ERROR(ck, path, line, NULL, "glossary",
                  "expected: language TAB English term TAB rendering (forms separated by |)");
            continue;
        }
        *t1 = *t2 = '\0';
        char *t3 = strchr(f3, '\t');
        if (t3)
            *t3 = '\0';
        if (!vip_lang_find(f1, NULL) || !*f2 || !*f3) {
            ERROR(ck, path, line, NULL, "glossary", "'%s' is not a supported language, or a field is empty", f1);
            continue;
        }
        if (ck->nglossary == cap) {
            cap = cap ? cap * 2 : 64;
            gloss *bigger = realloc(ck->glossary, cap * sizeof *bigger);
            if (!bigger) {
                fclose(f);
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory reading %s", path);
            }
            ck->glossary = bigger;
        }
        gloss *g = &ck->glossary[ck->nglossary];
        memset(g, 0, sizeof *g);
        g->line = line;
        g->lang = strdup(vip_lang_find(f1, NULL)->tag);
        g->english = strdup(f2);
        size_t forms = 1;
        for (const char *p = f3; *p; p++)
            forms += *p == '|';
        g->renderings = calloc(forms, sizeof *g->renderings);
        int ok = g->lang && g->english && g->renderings;
        for (const char *p = f3; ok && g->nrend < forms;) {
            size_t n = strcspn(p, "|");
            if (n && !(g->renderings[g->nrend++] = dup_range(p, n)))
                ok = 0;
            p += n + (p[n] == '|');
        }
        ck->nglossary++;
        if (!ok) {
            fclose(f);
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory reading %s", path);
        }
    }
    fclose(f);
    return VIP_OK;
}

/* ---- text helpers ---- */

/* Decodes one UTF-8 code point (the catalogue was read by libxml2, so it is valid). */
static uint32_t next_cp(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    uint32_t c = s[0];
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n == 2)
        c &= 0x1F;
    else if (n == 3)
        c &= 0x0F;
    else if (n == 4)
        c &= 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p += i;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *p += n;
    return c;
}

static void put_cp(uint32_t c, char out[5])
{
    if (c < 0x80) {
        out[0] = (char)c;
        out[1] = 0;
    } else if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        out[2] = 0;
    } else if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        out[3] = 0;
    } else {
        out[0] = (char)(0xF0 | (c >> 18));
        out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[3] = (char)(0x80 | (c & 0x3F));
        out[4] = 0;
    }
}

static int has_ascii_apostrophe(const char *s)
{
    return strchr(s, '\'') != NULL;
}

/* An apostrophe that ICU reads as the start of quoting: before {, }, # or |. */
static int quoting_apostrophe(const char *s)
{
    for (const char *p = strchr(s, '\''); p; p = strchr(p + 1, '\''))
        if (p[1] == '{' || p[1] == '}' || p[1] == '#' || p[1] == '|')
            return 1;
    return 0;
}

static int str_in(const char *s, char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 30 || lb > 30)
        return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* ---- the checks of one unit ---- */

typedef struct context {
    vip_check *ck;
    const char *path;
    const vip_lang *lang;
    char **cardinal, **ordinal; /* the language's plural categories */
    size_t ncardinal, nordinal;
} context;

static void list_names(char **names, size_t n, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", names[i]);
}

static void check_arguments(context *cx, const cunit *u, const char *english)
{
    char **sn = NULL, **tn = NULL;
    size_t ns = 0, nt = 0;
    vip_error e = {0};
    if (vip_message_arg_names(english, &sn, &ns, &e) || vip_message_arg_names(u->target, &tn, &nt, &e)) {
        if (e.code == VIP_ERR_NOMEM)
            cx->ck->nomem = 1;
    } else {
        for (size_t i = 0; i < ns; i++)
            if (!str_in(sn[i], tn, nt))
                ERROR(cx->ck, cx->path, u->target_line, u->id, "argument-missing",
                      "the translation lacks the argument {%s} that the English has; put {%s} where its value "
                      "belongs in the sentence (argument names are never translated).%s",
                      sn[i], sn[i], quoting_apostrophe(u->target) ? quoting_rule : "");
        for (size_t i = 0; i < nt; i++)
            if (!str_in(tn[i], sn, ns))
                ERROR(cx->ck, cx->path, u->target_line, u->id, "argument-unknown",
                      "the translation uses the argument {%s}, which the English does not have: the program "
                      "has no value for it; use the English unit's arguments only",
                      tn[i]);
    }
    vip_message_free_names(sn, ns);
    vip_message_free_names(tn, nt);
}

static const char *const cldr_categories[] = {"zero", "one", "two", "few", "many", "other"};

static int is_cldr(const char *key)
{
    for (size_t i = 0; i < sizeof cldr_categories / sizeof *cldr_categories; i++)
        if (strcmp(key, cldr_categories[i]) == 0)
            return 1;
    return 0;
}

/* Plural cases against the language's categories; select cases against the English's. */
static void check_cases(context *cx, const cunit *u, const char *english)
{
    vip_message_case *tc = NULL, *sc = NULL;
    size_t nt = 0, ns = 0;
    vip_error e = {0};
    if (vip_message_cases(u->target, &tc, &nt, &e) || vip_message_cases(english, &sc, &ns, &e)) {
        if (e.code == VIP_ERR_NOMEM)
            cx->ck->nomem = 1;
        vip_message_free_cases(tc, nt);
        return;
    }
    char have[256];
    for (size_t i = 0; i < nt;) {
        size_t end = i;
        while (end < nt && tc[end].choice == tc[i].choice)
            end++;
        const vip_message_case *c = &tc[i];
        if (c->kind == VIP_CHOICE_SELECT) {
            /* Every case of the English's select on the same argument. */
            for (size_t k = 0; k < ns; k++) {
                if (sc[k].kind != VIP_CHOICE_SELECT || strcmp(sc[k].arg, c->arg) != 0)
                    continue;
                int found = 0;
                for (size_t j = i; j < end && !found; j++)
                    found = strcmp(tc[j].key, sc[k].key) == 0;
                if (!found)
                    ERROR(cx->ck, cx->path, u->target_line, u->id, "select-missing",
                          "the select on {%s} has no case '%s', which the English has: add %s {…} with its "
                          "translation, or the 'other' text is printed for it",
                          c->arg, sc[k].key, sc[k].key);
            }
            for (size_t j = i; j < end; j++) {
                int known = 0;
                for (size_t k = 0; k < ns && !known; k++)
                    known = sc[k].kind == VIP_CHOICE_SELECT && strcmp(sc[k].arg, c->arg) == 0 &&
                            strcmp(sc[k].key, tc[j].key) == 0;
                if (!known && strcmp(tc[j].key, "other") != 0)
                    WARN(cx->ck, cx->path, u->target_line, u->id, "select-unknown",
                         "the select on {%s} has a case '%s' that the English does not have: it is never printed; "
                         "remove it, or check its spelling",
                         c->arg, tc[j].key);
            }
        } else {
            char **cats = c->kind == VIP_CHOICE_PLURAL ? cx->cardinal : cx->ordinal;
            size_t ncats = c->kind == VIP_CHOICE_PLURAL ? cx->ncardinal : cx->nordinal;
            list_names(cats, ncats, have, sizeof have);
            const char *what = c->kind == VIP_CHOICE_PLURAL ? "plural" : "selectordinal";
            for (size_t j = i; j < end; j++) {
                const char *key = tc[j].key;
                if (key[0] == '=')
                    continue; /* an explicit value */
                if (!is_cldr(key)) {
                    const char *near = NULL;
                    for (size_t k = 0; k < sizeof cldr_categories / sizeof *cldr_categories && !near; k++)
                        if (edit_distance(key, cldr_categories[k]) <= 2)
                            near = cldr_categories[k];
                    char hint[64] = "";
                    if (near)
                        snprintf(hint, sizeof hint, " Did you mean '%s'?", near);
                    ERROR(cx->ck, cx->path, u->target_line, u->id, "plural-keyword",
                          "the %s on {%s} has a case '%s', which is not a plural category: it is never chosen.%s "
                          "The categories of %s are: %s (or =N for an exact number)",
                          what, c->arg, key, hint, cx->lang->name, have);
                } else if (!str_in(key, cats, ncats)) {
                    WARN(cx->ck, cx->path, u->target_line, u->id, "plural-unused",
                         "the %s on {%s} has a case '%s', a category %s does not have, so it is never chosen: "
                         "remove it (the categories of %s are: %s)",
                         what, c->arg, key, cx->lang->name, cx->lang->name, have);
                }
            }
            for (size_t k = 0; k < ncats; k++) {
                int found = 0;
                for (size_t j = i; j < end && !found; j++)
                    found = strcmp(tc[j].key, cats[k]) == 0;
                if (!found)
                    ERROR(cx->ck, cx->path, u->target_line, u->id, "plural-missing",
                          "the %s on {%s} has no '%s' case, which %s needs (its categories: %s): add %s {…} with "
                          "the form for that category",
                          what, c->arg, cats[k], cx->lang->name, have, cats[k]);
            }
        }
        i = end;
    }
    vip_message_free_cases(tc, nt);
    vip_message_free_cases(sc, ns);
}

/* Characters that belong to another language's orthography (the same script, but the wrong letters). */
typedef struct wrong_char {
    const char *lang;
    uint32_t from, to; /* a range */
    const char *why;
} wrong_char;

static const wrong_char wrong_chars[] = {
    {"fa", 0x064A, 0x064A, "Arabic yeh; Farsi writes \xDB\x8C (U+06CC FARSI YEH)"},
    {"fa", 0x0643, 0x0643, "Arabic kaf; Farsi writes \xDA\xA9 (U+06A9 KEHEH)"},
    {"fa", 0x0649, 0x0649, "Arabic alef maksura; Farsi writes \xDB\x8C (U+06CC FARSI YEH)"},
    {"fa", 0x0660, 0x0669, "an Arabic-Indic digit; Farsi uses the Persian digits \xDB\xB0-\xDB\xB9 (U+06F0-U+06F9)"},
    {"fa", 0x0679, 0x0679, "an Urdu letter (tteh), not used in Farsi"},
    {"fa", 0x0688, 0x0688, "an Urdu letter (ddal), not used in Farsi"},
    {"fa", 0x0691, 0x0691, "an Urdu letter (rreh), not used in Farsi"},
    {"fa", 0x06BA, 0x06BA, "an Urdu letter (noon ghunna), not used in Farsi"},
    {"fa", 0x06C1, 0x06C1, "an Urdu letter (heh goal); Farsi writes \xD9\x87 (U+0647 HEH)"},
    {"fa", 0x06D2, 0x06D2, "an Urdu letter (yeh barree), not used in Farsi"},
    {"ar", 0x06CC, 0x06CC, "the Farsi yeh; Arabic writes \xD9\x8A (U+064A) or \xD9\x89 (U+0649)"},
    {"ar", 0x06A9, 0x06A9, "the Farsi keheh; Arabic writes \xD9\x83 (U+0643 KAF)"},
    {"ar", 0x067E, 0x067E, "a Farsi letter (peh), not an Arabic one"},
    {"ar", 0x0686, 0x0686, "a Farsi letter (tcheh), not an Arabic one"},
    {"ar", 0x0698, 0x0698, "a Farsi letter (jeh), not an Arabic one"},
    {"ar", 0x06AF, 0x06AF, "a Farsi letter (gaf), not an Arabic one"},
    {"ar", 0x06F0, 0x06F9, "a Persian digit; Arabic uses \xD9\xA0-\xD9\xA9 (U+0660-U+0669) or ASCII digits"},
    {"ar", 0x0679, 0x0679, "an Urdu letter (tteh), not an Arabic one"},
    {"ar", 0x0688, 0x0688, "an Urdu letter (ddal), not an Arabic one"},
    {"ar", 0x0691, 0x0691, "an Urdu letter (rreh), not an Arabic one"},
    {"ar", 0x06BA, 0x06BA, "an Urdu letter (noon ghunna), not an Arabic one"},
    {"ar", 0x06BE, 0x06BE, "an Urdu letter (heh doachashmee), not an Arabic one"},
    {"ar", 0x06C1, 0x06C1, "an Urdu letter (heh goal); Arabic writes \xD9\x87 (U+0647 HEH)"},
    {"ar", 0x06D2, 0x06D2, "an Urdu letter (yeh barree), not an Arabic one"},
    {"ur", 0x064A, 0x064A, "Arabic yeh; Urdu writes \xDB\x8C (U+06CC FARSI YEH) or \xDB\x92 (U+06D2)"},
    {"ur", 0x0643, 0x0643, "Arabic kaf; Urdu writes \xDA\xA9 (U+06A9 KEHEH)"},
    {"ur", 0x0647, 0x0647, "Arabic heh; Urdu writes \xDB\x81 (U+06C1 HEH GOAL) or \xDA\xBE (U+06BE)"},
    {"ur", 0x0649, 0x0649, "Arabic alef maksura; Urdu writes \xDB\x8C (U+06CC FARSI YEH)"},
    {"ur", 0x0660, 0x0669, "an Arabic-Indic digit; Urdu uses \xDB\xB0-\xDB\xB9 (U+06F0-U+06F9) or ASCII digits"},
    {"ro", 0x015E, 0x015F, "s with cedilla; Romanian writes \xC8\x98/\xC8\x99 (U+0218/U+0219, s with comma below)"},
    {"ro", 0x0162, 0x0163, "t with cedilla; Romanian writes \xC8\x9A/\xC8\x9B (U+021A/U+021B, t with comma below)"},
};

static UScriptCode lang_script(const vip_lang *l)
{
    if (strcmp(l->script, "Arab") == 0)
        return USCRIPT_ARABIC;
    if (strcmp(l->script, "Guru") == 0)
        return USCRIPT_GURMUKHI;
    if (strcmp(l->script, "Hans") == 0)
        return USCRIPT_HAN;
    return USCRIPT_LATIN;
}

#define MAX_SEEN 32

typedef struct seen_char {
    uint32_t c;
    size_t count;
    const char *why;
    char simplified[32];
} seen_char;

static seen_char *remember(seen_char *seen, size_t *n, uint32_t c, const char *why)
{
    for (size_t i = 0; i < *n; i++)
        if (seen[i].c == c) {
            seen[i].count++;
            return &seen[i];
        }
    if (*n == MAX_SEEN)
        return NULL;
    seen[*n] = (seen_char){.c = c, .count = 1, .why = why};
    return &seen[(*n)++];
}

/* Characters outside the language's script, and letters of a neighbouring language's orthography. Latin is
 * always allowed: English names and abbreviations stay in English. */
static void check_script(context *cx, const cunit *u)
{
    seen_char seen[MAX_SEEN];
    size_t nseen = 0;
    UScriptCode own = lang_script(cx->lang);
    int chinese = strcmp(cx->lang->tag, "zh-Hans") == 0;
    char *simplified = NULL;
    if (chinese) {
        vip_error e = {0};
        simplified = vip_message_transliterate(u->target, "Hant-Hans", &e);
        if (!simplified && e.code == VIP_ERR_NOMEM)
            cx->ck->nomem = 1;
        if (simplified && strcmp(simplified, u->target) == 0) {
            free(simplified); /* the usual case: nothing is Traditional */
            simplified = NULL;
        }
    }
    for (const char *p = u->target; *p;) {
        uint32_t c = next_cp(&p);
        const char *why = NULL;
        for (size_t i = 0; i < sizeof wrong_chars / sizeof *wrong_chars && !why; i++)
            if (c >= wrong_chars[i].from && c <= wrong_chars[i].to && strcmp(wrong_chars[i].lang, cx->lang->tag) == 0)
                why = wrong_chars[i].why;
        if (why) {
            remember(seen, &nseen, c, why);
            continue;
        }
        UErrorCode st = U_ZERO_ERROR;
        UScriptCode sc = uscript_getScript((UChar32)c, &st);
        if (U_FAILURE(st) || sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED || sc == USCRIPT_LATIN || sc == own)
        {
            if (simplified && sc == USCRIPT_HAN) {
                char one[5], *s;
                put_cp(c, one);
                vip_error e = {0};
                if ((s = vip_message_transliterate(one, "Hant-Hans", &e)) && strcmp(s, one) != 0) {
                    seen_char *k = remember(seen, &nseen, c, "a Traditional character");
                    if (k)
                        snprintf(k->simplified, sizeof k->simplified, "%s", s);
                }
                free(s);
            }
            continue;
        }
        if (own == USCRIPT_GURMUKHI && sc == USCRIPT_ARABIC)
            why = "Shahmukhi (Arabic script); this catalogue is Punjabi in Gurmukhi";
        else if (own == USCRIPT_GURMUKHI && sc == USCRIPT_DEVANAGARI)
            why = "Devanagari; this catalogue is Punjabi in Gurmukhi";
        else
            why = uscript_getName(sc);
        remember(seen, &nseen, c, why);
    }
    free(simplified);
    for (size_t i = 0; i < nseen; i++) {
        char ch[5];
        put_cp(seen[i].c, ch);
        char name[96] = "";
        UErrorCode st = U_ZERO_ERROR;
        u_charName((UChar32)seen[i].c, U_UNICODE_CHAR_NAME, name, sizeof name, &st);
        if (seen[i].simplified[0])
            ERROR(cx->ck, cx->path, u->target_line, u->id, "script",
                  "contains the Traditional character %s (U+%04X) %zu time%s: this catalogue is Simplified Chinese; "
                  "write %s",
                  ch, (unsigned)seen[i].c, seen[i].count, seen[i].count > 1 ? "s" : "", seen[i].simplified);
        else
            ERROR(cx->ck, cx->path, u->target_line, u->id, "script",
                  "contains %s (U+%04X %s) %zu time%s: %s; replace it", ch, (unsigned)seen[i].c, name,
                  seen[i].count, seen[i].count > 1 ? "s" : "", seen[i].why);
    }
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The code point that ends just before p (p > start). */
static uint32_t cp_before(const char *start, const char *p)
{
    const char *q = p - 1;
    while (q > start && (*(const unsigned char *)q & 0xC0) == 0x80)
        q--;
    return next_cp(&q);
}

/* ASCII apostrophes, doubled spaces and arguments glued to a word. */
static void check_typography(context *cx, const cunit *u)
{
    const char *t = u->target;
    if (has_ascii_apostrophe(t)) {
        if (quoting_apostrophe(t))
            ERROR(cx->ck, cx->path, u->target_line, u->id, "apostrophe-quoting",
                  "an ASCII apostrophe ' stands before {, }, # or |.%s", quoting_rule);
        else
            WARN(cx->ck, cx->path, u->target_line, u->id, "apostrophe",
                 "uses the ASCII apostrophe ': translations/README.md asks for the typographic \xE2\x80\x99 "
                 "(U+2019); replace it (an ASCII one before a brace would also start ICU quoting)");
    }
    if (strstr(t, "  "))
        WARN(cx->ck, cx->path, u->target_line, u->id, "double-space",
             "has two spaces in a row; use one (the layout spaces the text itself)");
    size_t tl = strlen(t);
    if (tl && (t[0] == ' ' || t[tl - 1] == ' ') && u->source && u->source[0] != ' ' &&
        u->source[strlen(u->source) - 1] != ' ')
        WARN(cx->ck, cx->path, u->target_line, u->id, "whitespace",
             "begins or ends with a space that the English does not have; remove it");
    if (strcmp(cx->lang->tag, "zh-Hans") == 0)
        return; /* Chinese writes no spaces between words: an argument next to a character is normal */
    /* A simple argument, {name} or {name, date, long}: the characters on either side. */
    for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
        const char *q = p + 1;
        while (is_name_char(*q))
            q++;
        if (q == p + 1 || (*q != '}' && *q != ','))
            continue;
        const char *close = strpbrk(q, "{}");
        if (!close || *close != '}')
            continue; /* a plural or select: its cases hold text of their own */
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
        uint32_t before = p > t ? cp_before(t, p) : ' ';
        const char *after_p = close + 1;
        uint32_t after = *after_p ? next_cp(&after_p) : ' ';
        if (u_isalpha((UChar32)before) || u_isalpha((UChar32)after))
            WARN(cx->ck, cx->path, u->target_line, u->id, "glued",
                 "the argument {%s} touches a letter: its value would run into the word; put a space (or "
                 "punctuation) between them",
                 name);
    }
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return 1;
    return 0;
}

static void check_terms(context *cx, const cunit *u, const char *english)
{
    vip_check *ck = cx->ck;
    for (size_t i = 0; i < ck->nglossary; i++) {
        const gloss *g = &ck->glossary[i];
        if (strcmp(g->lang, cx->lang->tag) != 0 || !contains_ci(english, g->english))
            continue;
        int found = 0;
        for (size_t k = 0; k < g->nrend && !found; k++)
            found = contains_ci(u->target, g->renderings[k]); /* "Numer" at the start of a sentence too */
        if (!found)
            WARN(ck, cx->path, u->target_line, u->id, "terminology",
                 "the English says \"%s\", but the translation does not use the glossary's rendering \"%s\" "
                 "(%s line %d): use it, or add this form of it to the glossary",
                 g->english, g->renderings[0], ck->glossary_path, g->line);
    }
}

static void check_length(context *cx, const cunit *u, long limit, const char *text)
{
    size_t n = 0;
    vip_error e = {0};
    if (vip_message_text_length(text, &n, &e)) {
        if (e.code == VIP_ERR_NOMEM)
            cx->ck->nomem = 1;
        return;
    }
    if (limit > 0 && n > (size_t)limit) {
        if (n > (size_t)HARD_LIMIT(limit))
            ERROR(cx->ck, cx->path, u->target_line, u->id, "length",
                  "is %zu characters long (its longest form, without argument values); the limit is %ld "
                  "(slr:sizeRestriction) and more than %ld will not fit where it is printed: shorten it",
                  n, limit, (long)HARD_LIMIT(limit));
        else
            WARN(cx->ck, cx->path, u->target_line, u->id, "length",
                 "is %zu characters long (its longest form, without argument values), over its limit of about "
                 "%ld (slr:sizeRestriction): shorten it if you can",
                 n, limit);
    }
    if (u->storage_limit > 0 && strlen(text) > (size_t)u->storage_limit)
        ERROR(cx->ck, cx->path, u->target_line, u->id, "length",
              "is %zu bytes in UTF-8, over its slr:storageRestriction of %ld: shorten it", strlen(text),
              u->storage_limit);
}

static int has_letters_outside_arguments(const char *s)
{
    int depth = 0;
    for (const char *p = s; *p;) {
        if (*p == '{') {
            depth++;
            p++;
        } else if (*p == '}') {
            depth--;
            p++;
        } else {
            uint32_t c = next_cp(&p);
            if (depth == 0 && u_isalpha((UChar32)c))
                return 1;
        }
    }
    return 0;
}

static void check_unit(context *cx, const cunit *u, const cunit *en, int is_english)
{
    vip_check *ck = cx->ck;
    const char *english = en && en->source ? en->source : u->source;
    if (u->state && strcmp(u->state, "initial") != 0 && strcmp(u->state, "translated") != 0 &&
        strcmp(u->state, "reviewed") != 0 && strcmp(u->state, "final") != 0)
        ERROR(ck, cx->path, u->target_line, u->id, "state",
              "unknown state '%s' on the segment: use initial, translated, reviewed or final", u->state);
    if (en && en->source && strcmp(u->source, en->source) != 0)
        ERROR(ck, cx->path, u->source_line, u->id, "stale",
              "the English has changed since this was translated (<source> differs from %s line %d): update the "
              "translation to the new English, then copy the new source into <source>",
              ck->english_path, en->source_line);
    int blank = !u->target || !u->target[strspn(u->target, " \t\r\n")];
    if (blank) {
        if (!is_english)
            WARN(ck, cx->path, u->target_line, u->id, "fallback",
                 "has no translation: the English is printed instead; write the translation in <target> and "
                 "set state=\"translated\"");
        return;
    }
    int initial = !u->state || strcmp(u->state, "initial") == 0;
    if (initial && !is_english)
        WARN(ck, cx->path, u->target_line, u->id, "untranslated",
             "state is %s: the English is printed until the segment says state=\"translated\"; translate it and "
             "set the state",
             u->state ? "\"initial\"" : "not given (XLIFF's default, initial)");
    if (!is_english && strcmp(u->target, english) == 0 && has_letters_outside_arguments(english))
        WARN(ck, cx->path, u->target_line, u->id, "untranslated",
             "the translation is the English text; translate it (or, for a name that stays in English, ignore "
             "this)");
    vip_error e = {0};
    vip_message *m = vip_message_compile(u->target, cx->lang->tag, &e);
    if (!m) {
        if (e.code == VIP_ERR_NOMEM) {
            ck->nomem = 1;
            return;
        }
        ERROR(ck, cx->path, u->target_line, u->id, "syntax", "the ICU message does not compile: %s.%s", e.message,
              quoting_apostrophe(u->target) ? quoting_rule
                                            : " Check that every { has its }, and that plural and select cases "
                                              "are written as keyword {text}.");
        return;
    }
    vip_message_destroy(m);
    if (!is_english) {
        check_arguments(cx, u, english);
        check_cases(cx, u, english);
    } else {
        check_cases(cx, u, u->target);
    }
    long limit = u->size_limit > 0 ? u->size_limit : en ? en->size_limit : -1;
    if (!is_english && en && en->size_limit > 0 && u->size_limit < 0)
        WARN(ck, cx->path, u->line, u->id, "length-attribute",
             "the English unit has slr:sizeRestriction=\"%ld\" and this one has none: copy the attribute so "
             "translation tools show the limit",
             en->size_limit);
    check_length(cx, u, limit, u->target);
    check_script(cx, u);
    check_typography(cx, u);
    if (!is_english)
        check_terms(cx, u, english);
}

/* ---- a whole file ---- */

static int problem_order(const void *a, const void *b)
{
    const stored_problem *x = a, *y = b;
    if (x->file_seq != y->file_seq)
        return x->file_seq < y->file_seq ? -1 : 1;
    if (x->p.line != y->p.line)
        return x->p.line < y->p.line ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ---- shaped widths ---- */

typedef struct fit_context {
    vip_check *ck;
    const char *path;
    const ccat *cat;
} fit_context;

static void fit_problem(void *user, const vip_fit_finding *f)
{
    fit_context *fc = user;
    const cunit *u = f->unit ? find(fc->cat, f->unit) : NULL;
    int line = u ? (u->target_line ? u->target_line : u->line) : fc->cat->file_line;
    size_t before = fc->ck->count;
    add(fc->ck, f->error ? VIP_CHECK_ERROR : VIP_CHECK_WARNING, fc->path, line, f->unit, f->kind, "%s", f->message);
    if (fc->ck->count > before)
        fc->ck->problems[before].p.excess_mm = f->excess_mm;
}

/* Each unit set by the layout engine where it is printed, as the program loads the catalogue. A catalogue it would
 * refuse (its problems are reported above) cannot be laid out. */
static int check_widths(vip_check *ck, const char *path, const ccat *cat, const vip_lang *lang, vip_error *err)
{
    vip_error e = {0};
    vip_catalog *loaded = vip_catalog_load(path, &e);
    if (!loaded) {
        if (e.code == VIP_ERR_NOMEM)
            return vip_error_set(err, VIP_ERR_NOMEM, "%s", e.message);
        WARN(ck, path, cat->file_line, NULL, "width",
             "the shaped widths were not checked, as vipgen cannot load the catalogue: %s", e.message);
        return VIP_OK;
    }
    int rc = VIP_OK;
    if (strcmp(vip_catalog_lang(loaded), lang->tag) == 0) { /* else reported above, and laid out in no language */
        fit_context fc = {ck, path, cat};
        if (vip_fit_catalog(ck->fit, loaded, ck->cases_opt, fit_problem, &fc, &e)) {
            if (e.code == VIP_ERR_NOMEM)
                rc = vip_error_set(err, VIP_ERR_NOMEM, "%s", e.message);
            else
                WARN(ck, path, cat->file_line, NULL, "width", "the shaped widths were not checked: %s", e.message);
        }
    }
    vip_catalog_destroy(loaded);
    return rc;
}

static int check_doc(vip_check *ck, const char *path, xmlDocPtr doc, vip_error *err)
{
    const xmlNode *root = xmlDocGetRootElement(doc);
    int root_line = vip_xml_line(root);
    if (!is_xliff(root, "xliff")) {
        ERROR(ck, path, root_line, NULL, "structure",
              "not an XLIFF 2.0 catalogue: the root is <%s>%s%s; it must be <xliff> in %s (copy the start of "
              "en.xlf)",
              (const char *)root->name, root->ns ? " in " : " without a namespace",
              root->ns && root->ns->href ? (const char *)root->ns->href : "", XLIFF_NS);
        return VIP_OK;
    }
    char *version = attr(ck, root, "version", NULL), *src = attr(ck, root, "srcLang", NULL),
         *trg = attr(ck, root, "trgLang", NULL);
    const vip_lang *named = file_lang(path), *lang = NULL;
    if (!version || strcmp(version, "2.0") != 0)
        ERROR(ck, path, root_line, NULL, "structure", "XLIFF version is '%s': vipgen reads version=\"2.0\"",
              version ? version : "(none)");
    const vip_lang *sl = src ? vip_lang_find(src, NULL) : NULL;
    if (!sl || strcmp(sl->tag, "en") != 0)
        ERROR(ck, path, root_line, NULL, "language",
              "srcLang is '%s': catalogues translate from English; write srcLang=\"en\"", src ? src : "(none)");
    if (!trg) {
        ERROR(ck, path, root_line, NULL, "language", "<xliff> has no trgLang: add trgLang=\"%s\"",
              named ? named->tag : "TAG");
    } else if (!(lang = vip_lang_find(trg, NULL))) {
        size_t n;
        const vip_lang *all = vip_lang_all(&n);
        char list[128] = "";
        for (size_t i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", all[i].tag);
        ERROR(ck, path, root_line, NULL, "language", "trgLang '%s' is not a language vipgen supports (%s)", trg,
              list);
    } else if (named && named != lang) {
        ERROR(ck, path, root_line, NULL, "language",
              "trgLang is '%s' (%s) but the file is named for %s (%s): the program would print %s dates, plurals "
              "and script for %s readers; write trgLang=\"%s\"",
              trg, lang->name, named->tag, named->name, lang->name, named->name, named->tag);
    } else if (!named) {
        WARN(ck, path, root_line, NULL, "language",
             "the file name is not a supported language tag: vipgen finds a catalogue as translations/%s.xlf",
             lang->tag);
    }
    if (named)
        lang = named; /* what the file is for decides the rules it is checked by */
    free(version);
    free(src);
    free(trg);

    ccat *cat = read_units(ck, path, root, 1);
    if (!cat)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory checking %s", path);
    int is_english = lang && strcmp(lang->tag, "en") == 0;
    const ccat *en = ck->english && !is_english ? ck->english : NULL;

    for (size_t i = 1; i < cat->count; i++)
        if (strcmp(cat->by_id[i - 1]->id, cat->by_id[i]->id) == 0)
            ERROR(ck, path, cat->by_id[i]->line, cat->by_id[i]->id, "duplicate",
                  "a second unit with this id (the first is at line %d): the program would use one of them; "
                  "remove the one that is not wanted",
                  cat->by_id[i - 1]->line);
    if (en) {
        for (size_t i = 0; i < en->count; i++) {
            const cunit *e = &en->units[i];
            if (!find(cat, e->id))
                ERROR(ck, path, cat->file_line, e->id, "missing",
                      "the English unit %s (%s line %d) is missing from this catalogue: letters that need it "
                      "cannot be made; copy the unit from en.xlf and translate it",
                      e->id, en->path, e->line);
        }
        for (size_t i = 0; i < cat->count; i++)
            if (!find(en, cat->units[i].id))
                WARN(ck, path, cat->units[i].line, cat->units[i].id, "extra",
                     "no unit of the English catalogue has this id: it is never printed; remove it, or correct "
                     "the id if it was mistyped");
    }

    context cx = {.ck = ck, .path = path, .lang = lang};
    if (lang) {
        vip_error e = {0};
        if (vip_message_plural_categories(lang->tag, 0, &cx.cardinal, &cx.ncardinal, &e) ||
            vip_message_plural_categories(lang->tag, 1, &cx.ordinal, &cx.nordinal, &e)) {
            vip_message_free_names(cx.cardinal, cx.ncardinal);
            ccat_destroy(cat);
            *err = e;
            return e.code;
        }
        for (size_t i = 0; i < cat->count && !ck->nomem; i++) {
            const cunit *u = &cat->units[i];
            if (!u->usable)
                continue;
            const cunit *eu = en ? find(en, u->id) : NULL;
            if (en && !eu)
                continue; /* extra: reported above */
            check_unit(&cx, u, eu, is_english);
        }
    }
    int rc = ck->fit && lang && !ck->nomem ? check_widths(ck, path, cat, lang, err) : VIP_OK;
    vip_message_free_names(cx.cardinal, cx.ncardinal);
    vip_message_free_names(cx.ordinal, cx.nordinal);
    ccat_destroy(cat);
    if (rc)
        return rc;
    return ck->nomem ? vip_error_set(err, VIP_ERR_NOMEM, "out of memory checking %s", path) : VIP_OK;
}

vip_check *vip_check_create(const vip_check_options *options, vip_error *err)
{
    vip_check *ck = calloc(1, sizeof *ck);
    if (!ck) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (options) {
        ck->english_opt = options->english;
        ck->glossary_opt = options->glossary;
        ck->fit = options->fit;
        ck->cases_opt = options->cases;
    }
    return ck;
}

void vip_check_destroy(vip_check *ck)
{
    if (!ck)
        return;
    for (size_t i = 0; i < ck->count; i++) {
        free((char *)ck->problems[i].p.file);
        free((char *)ck->problems[i].p.unit);
        free((char *)ck->problems[i].p.message);
    }
    free(ck->problems);
    ccat_destroy(ck->english);
    free(ck->english_path);
    glossary_free(ck);
    free(ck->glossary_path);
    free(ck);
}

int vip_check_file(vip_check *ck, const char *path, vip_error *err)
{
    if (!ck || !path)
        return vip_error_set(err, VIP_ERR_INTERNAL, "vip_check_file: no check or file");
    ck->files++;
    size_t before = ck->count;
    char *en_path = ck->english_opt ? strdup(ck->english_opt) : sibling(path, "en.xlf");
    char *gl_path = ck->glossary_opt ? strdup(ck->glossary_opt) : sibling(path, "glossary.tsv");
    int rc = VIP_OK;
    if (!en_path || !gl_path) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    vip_error e = {0};
    xmlDocPtr doc = vip_xml_read_file(path, &e);
    if (!doc) {
        if (e.code == VIP_ERR_NOMEM)
            rc = vip_error_set(err, VIP_ERR_NOMEM, "%s", e.message);
        else
            xml_problem(ck, path, &e);
        goto done;
    }
    if ((rc = load_english(ck, en_path, err)) || (rc = load_glossary(ck, gl_path, ck->glossary_opt != NULL, err))) {
        xmlFreeDoc(doc);
        goto done;
    }
    rc = check_doc(ck, path, doc, err);
    xmlFreeDoc(doc);
done:
    free(en_path);
    free(gl_path);
    if (!rc && ck->nomem)
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory checking %s", path);
    if (ck->count > before)
        qsort(ck->problems + before, ck->count - before, sizeof *ck->problems, problem_order);
    return rc;
}

size_t vip_check_count(const vip_check *ck)
{
    return ck ? ck->count : 0;
}

const vip_check_problem *vip_check_problem_at(const vip_check *ck, size_t i)
{
    return ck && i < ck->count ? &ck->problems[i].p : NULL;
}

size_t vip_check_errors(const vip_check *ck)
{
    return ck ? ck->errors : 0;
}

size_t vip_check_warnings(const vip_check *ck)
{
    return ck ? ck->warnings : 0;
}

int vip_check_write_text(const vip_check *ck, FILE *out)
{
    for (size_t i = 0; i < ck->count; i++) {
        const vip_check_problem *p = &ck->problems[i].p;
        fprintf(out, "%s:%d: %s: ", p->file, p->line, p->severity == VIP_CHECK_ERROR ? "error" : "warning");
        if (p->unit)
            fprintf(out, "unit %s: ", p->unit);
        fprintf(out, "%s [%s]\n", p->message, p->kind);
    }
    fprintf(out, "%zu error%s, %zu warning%s\n", ck->errors, ck->errors == 1 ? "" : "s", ck->warnings,
            ck->warnings == 1 ? "" : "s");
    return ferror(out) ? VIP_ERR_IO : VIP_OK;
}

static void json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20 || *p == 0x7F)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

int vip_check_write_json(const vip_check *ck, FILE *out)
{
    fprintf(out, "{\"errors\": %zu, \"warnings\": %zu, \"problems\": [", ck->errors, ck->warnings);
    for (size_t i = 0; i < ck->count; i++) {
        const vip_check_problem *p = &ck->problems[i].p;
        fputs(i ? ",\n  {" : "\n  {", out);
        fputs("\"file\": ", out);
        json_string(out, p->file);
        fprintf(out, ", \"line\": %d, \"unit\": ", p->line);
        json_string(out, p->unit);
        fprintf(out, ", \"severity\": \"%s\", \"kind\": ", p->severity == VIP_CHECK_ERROR ? "error" : "warning");
        json_string(out, p->kind);
        fputs(", \"message\": ", out);
        json_string(out, p->message);
        if (p->excess_mm > 0)
            fprintf(out, ", \"excess_mm\": %.1f", p->excess_mm);
        fputc('}', out);
    }
    fputs(ck->count ? "\n]}\n" : "]}\n", out);
    return ferror(out) ? VIP_ERR_IO : VIP_OK;
}
