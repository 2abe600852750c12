#include "catalog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "lang.h"
#include "xml.h"

#define XLIFF_NS "urn:oasis:names:tc:xliff:document:2.0"
#define MAX_REPORTED 20 /* problems listed in a failed load's message; the rest are counted */
/* The longest source or target text: a letter's longest paragraph is about 1 KiB, and a message of megabytes
 * (a slip of a translation tool, or hostile) would only make every letter of the language slow to set. */
#define MAX_MESSAGE_BYTES 65536

typedef struct unit {
    char *id;
    char *note;   /* translator note, or NULL */
    char *source; /* English */
    char *target; /* NULL when missing */
    int line;
    vip_unit_status status;
    vip_message *message; /* the effective pattern (target, or source in English), compiled */
} unit;

struct vip_catalog {
    char *path;
    const vip_lang *lang;
    unit *units; /* file order */
    size_t count, cap;
    unit **by_id; /* the units sorted by id, for binary search */
};

/* Problems found while loading, kept so that one run reports them all rather than one per attempt. */
typedef struct loader {
    vip_catalog *cat;
    const char *path;
    char *lines[MAX_REPORTED];
    size_t problems;
    int nomem;
} loader;

static void problem(loader *ld, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(loader *ld, int line, const char *fmt, ...)
{
    size_t k = ld->problems++;
    if (k >= MAX_REPORTED)
        return;
    char text[1024];
    int n = snprintf(text, sizeof text, "%s:%d: ", ld->path, line);
    if (n < 0 || (size_t)n >= sizeof text)
        n = 0; /* a path too long to show: keep the problem itself */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
    va_end(ap);
    ld->lines[k] = strdup(text);
    if (!ld->lines[k])
        ld->nomem = 1;
}

/* Puts the problems in err as whole lines, as many as fit, then "and N more". */
static void report(loader *ld, vip_error *err)
{
    if (ld->nomem) {
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory loading the catalogue", ld->path);
        return;
    }
    char buf[sizeof err->message];
    size_t len = 0, shown = 0;
    const size_t reserve = 40; /* room for "\nand N more" */
    for (size_t i = 0; i < ld->problems && i < MAX_REPORTED; i++) {
        size_t n = strlen(ld->lines[i]);
        if (len + (len ? 1 : 0) + n + reserve >= sizeof buf && shown > 0)
            break;
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "\n" : "", ld->lines[i]);
        if (len >= sizeof buf)
            len = sizeof buf - 1;
        shown++;
    }
    if (shown < ld->problems && len < sizeof buf)
        snprintf(buf + len, sizeof buf - len, "\nand %zu more", ld->problems - shown);
    vip_error_set(err, VIP_ERR_INPUT, "%s", buf);
}

static void loader_free(loader *ld)
{
    for (size_t i = 0; i < ld->problems && i < MAX_REPORTED; i++)
        free(ld->lines[i]);
}

static int is_xliff(const xmlNode *n, const char *name)
{
    return vip_xml_is_element(n, XLIFF_NS, name);
}


/* An attribute without namespace as a malloc'd string, or NULL. */
static char *attr(loader *ld, const xmlNode *n, const char *name)
{
    return vip_xml_attr(n, NULL, name, &ld->nomem);
}

/* The text of <source>, <target> or <note>: the entity-decoded text of its children. Only plain text is
 * supported, so an element inside (inline markup such as <ph/>) is reported and NULL returned. */
static char *plain_text(loader *ld, const xmlNode *n, const char *unit_id)
{
    size_t len = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            len += c->content ? strlen((const char *)c->content) : 0;
            if (len > MAX_MESSAGE_BYTES) {
                problem(ld, vip_xml_line(n), "unit %s: <%s> is longer than %d bytes (%d KiB), the most a message may be",
                        unit_id, (const char *)n->name, MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES / 1024);
                return NULL;
            }
        } else if (c->type == XML_ELEMENT_NODE) {
            problem(ld, vip_xml_line(c), "unit %s: inline element <%s> in <%s> is not supported (plain text only)",
                    unit_id, (const char *)c->name, (const char *)n->name);
            return NULL;
        } else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE) {
            problem(ld, vip_xml_line(n), "unit %s: unexpected content in <%s>", unit_id, (const char *)n->name);
            return NULL;
        }
    }
    char *s = vip_xml_text(n);
    if (!s)
        ld->nomem = 1;
    return s;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

static void unit_free(unit *u)
{
    free(u->id);
    free(u->note);
    free(u->source);
    free(u->target);
    vip_message_destroy(u->message);
}

/* Appends "{a}, {b}" for names in a but not in b (both sorted) to out; returns how many. */
static size_t difference(char **a, size_t na, char **b, size_t nb, char *out, size_t size)
{
    size_t i = 0, j = 0, found = 0, len = strlen(out);
    while (i < na) {
        int c = j < nb ? strcmp(a[i], b[j]) : -1;
        if (c == 0) {
            i++;
            j++;
        } else if (c > 0) {
            j++;
        } else {
            if (len < size)
                len += (size_t)snprintf(out + len, size - len, "%s{%s}", found ? ", " : "", a[i]);
            found++;
            i++;
        }
    }
    return found;
}

/* Both patterns compile; their arguments must be the same set, or a value would be dropped or printed raw. */
static void compare_arguments(loader *ld, const unit *u, int target_line)
{
    char **sn = NULL, **tn = NULL;
    size_t ns = 0, nt = 0;
    vip_error e = {0};
    if (vip_message_arg_names(u->source, &sn, &ns, &e) || vip_message_arg_names(u->target, &tn, &nt, &e)) {
        if (e.code == VIP_ERR_NOMEM)
            ld->nomem = 1;
        else
            problem(ld, target_line, "unit %s: %s", u->id, e.message);
    } else {
        char lacks[512] = "", extra[512] = "";
        size_t nl = difference(sn, ns, tn, nt, lacks, sizeof lacks);
        size_t ne = difference(tn, nt, sn, ns, extra, sizeof extra);
        if (nl && ne)
            problem(ld, target_line, "unit %s: target lacks argument%s %s and has argument%s %s not in the source",
                    u->id, nl > 1 ? "s" : "", lacks, ne > 1 ? "s" : "", extra);
        else if (nl)
            problem(ld, target_line, "unit %s: target lacks argument%s %s", u->id, nl > 1 ? "s" : "", lacks);
        else if (ne)
            problem(ld, target_line, "unit %s: target has argument%s %s not in the source", u->id,
                    ne > 1 ? "s" : "", extra);
    }
    vip_message_free_names(sn, ns);
    vip_message_free_names(tn, nt);
}

static void read_unit(loader *ld, const xmlNode *n)
{
    vip_catalog *cat = ld->cat;
    int line = vip_xml_line(n);
    unit u = {0};
    u.line = line;
    u.id = attr(ld, n, "id");
    if (!u.id || !*u.id) {
        if (!ld->nomem)
            problem(ld, line, "<unit> has no id");
        unit_free(&u);
        return;
    }
    const xmlNode *segment = NULL;
    size_t segments = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!is_xliff(c, NULL))
            continue; /* text between elements, comments, and other namespaces' modules */
        if (strcmp((const char *)c->name, "segment") == 0) {
            if (!segments++)
                segment = c;
        } else if (strcmp((const char *)c->name, "notes") == 0) {
            /* The translator's note; an uncategorised one if there is no translator note. */
            for (const xmlNode *note = c->children; note; note = note->next) {
                if (!is_xliff(note, "note"))
                    continue;
                char *category = attr(ld, note, "category");
                int translator = category && strcmp(category, "translator") == 0;
                if (translator || (!category && !u.note)) {
                    char *text = plain_text(ld, note, u.id);
                    if (text) {
                        free(u.note);
                        u.note = text;
                    }
                }
                free(category);
                if (translator)
                    break;
            }
        } else if (strcmp((const char *)c->name, "ignorable") == 0) {
            problem(ld, vip_xml_line(c), "unit %s: <ignorable> is not supported (one <segment> per unit)", u.id);
        } else if (strcmp((const char *)c->name, "originalData") != 0) {
            problem(ld, vip_xml_line(c), "unit %s: unexpected element <%s>", u.id, (const char *)c->name);
        }
    }
    if (segments != 1) {
        if (segments)
            problem(ld, line, "unit %s: has %zu segments; one expected", u.id, segments);
        else
            problem(ld, line, "unit %s: has no <segment>", u.id);
        unit_free(&u);
        return;
    }

    const xmlNode *source = NULL, *target = NULL;
    int ok = 1;
    for (const xmlNode *c = segment->children; c; c = c->next) {
        if (!is_xliff(c, NULL))
            continue;
        const xmlNode **slot = strcmp((const char *)c->name, "source") == 0   ? &source
                               : strcmp((const char *)c->name, "target") == 0 ? &target
                                                                               : NULL;
        if (!slot) {
            problem(ld, vip_xml_line(c), "unit %s: unexpected element <%s> in <segment>", u.id, (const char *)c->name);
            ok = 0;
        } else if (*slot) {
            problem(ld, vip_xml_line(c), "unit %s: more than one <%s>", u.id, (const char *)c->name);
            ok = 0;
        } else {
            *slot = c;
        }
    }
    if (!source) {
        problem(ld, vip_xml_line(segment), "unit %s: <segment> has no <source>", u.id);
        ok = 0;
    }
    /* XLIFF 2.0 gives state the default "initial": a segment nobody has marked translated is not used. */
    char *state = attr(ld, segment, "state");
    int initial = !state || strcmp(state, "initial") == 0;
    if (state && !initial && strcmp(state, "translated") != 0 && strcmp(state, "reviewed") != 0 &&
        strcmp(state, "final") != 0) {
        problem(ld, vip_xml_line(segment), "unit %s: unknown state '%s' (initial, translated, reviewed or final)", u.id,
                state);
        ok = 0;
    }
    free(state);
    if (!ok) {
        unit_free(&u);
        return;
    }
    u.source = plain_text(ld, source, u.id);
    if (target)
        u.target = plain_text(ld, target, u.id);
    if (!u.source || (target && !u.target)) {
        unit_free(&u);
        return;
    }
    int source_line = vip_xml_line(source), target_line = target ? vip_xml_line(target) : line;
    int has_target = u.target && !blank(u.target);
    u.status = !has_target ? VIP_UNIT_FALLBACK : initial ? VIP_UNIT_INITIAL : VIP_UNIT_TRANSLATED;

    /* Every pattern must compile, even those not used yet (an initial target), so a bad one is caught here
     * rather than when a letter needs it. A fallback is compiled for English so plural rules match its text. */
    vip_error e = {0};
    vip_message *src = vip_message_compile(u.source, "en", &e);
    if (!src) {
        if (e.code == VIP_ERR_NOMEM)
            ld->nomem = 1;
        else
            problem(ld, source_line, "unit %s: source does not compile: %s", u.id, e.message);
    }
    vip_message *tgt = NULL;
    if (has_target) {
        tgt = vip_message_compile(u.target, cat->lang->tag, &e);
        if (!tgt) {
            if (e.code == VIP_ERR_NOMEM)
                ld->nomem = 1;
            else
                problem(ld, target_line, "unit %s: target does not compile: %s", u.id, e.message);
        }
    }
    if (src && tgt)
        compare_arguments(ld, &u, target_line);
    if (u.status == VIP_UNIT_TRANSLATED) {
        u.message = tgt;
        vip_message_destroy(src);
    } else {
        u.message = src;
        vip_message_destroy(tgt);
    }
    if (!u.message) {
        unit_free(&u);
        return;
    }

    if (cat->count == cat->cap) {
        size_t cap = cat->cap ? cat->cap * 2 : 64;
        unit *bigger = realloc(cat->units, cap * sizeof *bigger);
        if (!bigger) {
            ld->nomem = 1;
            unit_free(&u);
            return;
        }
        cat->units = bigger;
        cat->cap = cap;
    }
    cat->units[cat->count++] = u;
}

/* <file> and <group> hold units and groups (nested to any depth), and notes. */
static void read_container(loader *ld, const xmlNode *n)
{
    for (const xmlNode *c = n->children; c && !ld->nomem; c = c->next) {
        if (!is_xliff(c, NULL))
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "unit") == 0)
            read_unit(ld, c);
        else if (strcmp(name, "group") == 0)
            read_container(ld, c);
        else if (strcmp(name, "notes") != 0 && strcmp(name, "skeleton") != 0)
            problem(ld, vip_xml_line(c), "unexpected element <%s> in <%s>", name, (const char *)n->name);
    }
}

/* Sorts by id, and equal ids by line, so a duplicate is reported against the first occurrence. */
static int by_id_then_line(const void *a, const void *b)
{
    const unit *ua = *(const unit *const *)a, *ub = *(const unit *const *)b;
    int c = strcmp(ua->id, ub->id);
    return c ? c : (ua->line > ub->line) - (ua->line < ub->line);
}

/* Builds the sorted index for lookups and reports duplicate ids, naming both lines. */
static void index_units(loader *ld)
{
    vip_catalog *cat = ld->cat;
    if (!cat->count)
        return;
    cat->by_id = malloc(cat->count * sizeof *cat->by_id);
    if (!cat->by_id) {
        ld->nomem = 1;
        return;
    }
    for (size_t i = 0; i < cat->count; i++)
        cat->by_id[i] = &cat->units[i];
    qsort(cat->by_id, cat->count, sizeof *cat->by_id, by_id_then_line);
    for (size_t i = 1; i < cat->count; i++)
        if (strcmp(cat->by_id[i - 1]->id, cat->by_id[i]->id) == 0)
            problem(ld, cat->by_id[i]->line, "duplicate unit id '%s' (first at line %d)", cat->by_id[i]->id,
                    cat->by_id[i - 1]->line);
}

/* The supported language a catalogue's file name stands for ("translations/zh-Hans.xlf": Chinese), or NULL when
 * its name is not a supported language tag. */
static const vip_lang *file_lang(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    const char *ext = ".xlf";
    if (len <= strlen(ext) || strcmp(base + len - strlen(ext), ext) != 0 || len - strlen(ext) >= 32)
        return NULL;
    char tag[32];
    snprintf(tag, sizeof tag, "%.*s", (int)(len - strlen(ext)), base);
    return vip_lang_find(tag, NULL);
}

vip_catalog *vip_catalog_load(const char *path, vip_error *err)
{
    if (!path) {
        vip_error_set(err, VIP_ERR_INTERNAL, "no catalogue named");
        return NULL;
    }
    xmlDocPtr doc = vip_xml_read_file(path, err);
    if (!doc)
        return NULL;
    vip_catalog *cat = calloc(1, sizeof *cat);
    if (!cat || !(cat->path = strdup(path))) {
        free(cat);
        xmlFreeDoc(doc);
        vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory loading the catalogue", path);
        return NULL;
    }
    loader ld = {.cat = cat, .path = cat->path};
    const xmlNode *root = xmlDocGetRootElement(doc);
    int root_line = vip_xml_line(root);
    char *version = NULL, *src_lang = NULL, *trg_lang = NULL;
    const vip_lang *src = NULL;
    vip_error e = {0};

    if (!is_xliff(root, "xliff")) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: not an XLIFF 2.0 catalogue (root <%s>%s%s; expected <xliff> in %s)",
                      path, root_line, (const char *)root->name, root->ns ? " in " : " without a namespace",
                      root->ns && root->ns->href ? (const char *)root->ns->href : "", XLIFF_NS);
        goto fail;
    }
    version = attr(&ld, root, "version");
    src_lang = attr(&ld, root, "srcLang");
    trg_lang = attr(&ld, root, "trgLang");
    if (ld.nomem) {
        report(&ld, err);
        goto fail;
    }
    if (!version || strcmp(version, "2.0") != 0) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: XLIFF version '%s' is not supported (expected 2.0)", path,
                      root_line, version ? version : "(none)");
        goto fail;
    }
    if (!src_lang || !(src = vip_lang_find(src_lang, NULL)) || strcmp(src->tag, "en") != 0) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: srcLang is '%s'; catalogues translate from English (en)", path,
                      root_line, src_lang ? src_lang : "(none)");
        goto fail;
    }
    if (!trg_lang) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: <xliff> has no trgLang", path, root_line);
        goto fail;
    }
    if (!(cat->lang = vip_lang_find(trg_lang, &e))) {
        vip_error_set(err, e.code, "%s:%d: trgLang: %s", path, root_line, e.message);
        goto fail;
    }
    /* Catalogues are found by name (translations/pl.xlf for Polish): one whose trgLang says otherwise would
     * give that language's readers another language's dates, plurals and document language. */
    const vip_lang *named = file_lang(path);
    if (named && named != cat->lang) {
        vip_error_set(err, VIP_ERR_INPUT,
                      "%s:%d: trgLang is '%s' (%s), but the file is named for '%s' (%s); a catalogue's trgLang must "
                      "be the language its file is named for",
                      path, root_line, trg_lang, cat->lang->name, named->tag, named->name);
        goto fail;
    }

    size_t files = 0;
    for (const xmlNode *c = root->children; c && !ld.nomem; c = c->next) {
        if (!is_xliff(c, NULL))
            continue;
        if (strcmp((const char *)c->name, "file") == 0) {
            files++;
            read_container(&ld, c);
        } else {
            problem(&ld, vip_xml_line(c), "unexpected element <%s> in <xliff>", (const char *)c->name);
        }
    }
    if (!files && !ld.problems)
        problem(&ld, root_line, "<xliff> has no <file>");
    if (!ld.nomem)
        index_units(&ld);
    if (ld.problems || ld.nomem) {
        report(&ld, err);
        goto fail;
    }
    loader_free(&ld);
    free(version);
    free(src_lang);
    free(trg_lang);
    xmlFreeDoc(doc);
    return cat;

fail:
    loader_free(&ld);
    free(version);
    free(src_lang);
    free(trg_lang);
    xmlFreeDoc(doc);
    vip_catalog_destroy(cat);
    return NULL;
}

void vip_catalog_destroy(vip_catalog *catalog)
{
    if (!catalog)
        return;
    for (size_t i = 0; i < catalog->count; i++)
        unit_free(&catalog->units[i]);
    free(catalog->units);
    free(catalog->by_id);
    free(catalog->path);
    free(catalog);
}

const char *vip_catalog_lang(const vip_catalog *catalog)
{
    return catalog && catalog->lang ? catalog->lang->tag : NULL;
}

const char *vip_catalog_path(const vip_catalog *catalog)
{
    return catalog ? catalog->path : NULL;
}

size_t vip_catalog_unit_count(const vip_catalog *catalog)
{
    return catalog ? catalog->count : 0;
}

static const unit *unit_at(const vip_catalog *catalog, size_t i)
{
    return catalog && i < catalog->count ? &catalog->units[i] : NULL;
}

const char *vip_catalog_unit_id(const vip_catalog *catalog, size_t i)
{
    const unit *u = unit_at(catalog, i);
    return u ? u->id : NULL;
}

vip_unit_status vip_catalog_unit_status(const vip_catalog *catalog, size_t i)
{
    const unit *u = unit_at(catalog, i);
    return u ? u->status : VIP_UNIT_FALLBACK;
}

int vip_catalog_unit_line(const vip_catalog *catalog, size_t i)
{
    const unit *u = unit_at(catalog, i);
    return u ? u->line : 0;
}

/* Not yet declared in catalog.h (its comment promises them): note, source and effective text of unit i. */
const char *vip_catalog_unit_note(const vip_catalog *catalog, size_t i);
const char *vip_catalog_unit_source(const vip_catalog *catalog, size_t i);
const char *vip_catalog_unit_text(const vip_catalog *catalog, size_t i);

const char *vip_catalog_unit_note(const vip_catalog *catalog, size_t i)
{
    const unit *u = unit_at(catalog, i);
    return u ? u->note : NULL;
}

const char *vip_catalog_unit_source(const vip_catalog *catalog, size_t i)
{
    const unit *u = unit_at(catalog, i);
    return u ? u->source : NULL;
}

const char *vip_catalog_unit_text(const vip_catalog *catalog, size_t i)
{
    const unit *u = unit_at(catalog, i);
    return u ? (u->status == VIP_UNIT_TRANSLATED ? u->target : u->source) : NULL;
}

static const unit *find(const vip_catalog *catalog, const char *id)
{
    size_t lo = 0, hi = catalog->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const unit *u = catalog->by_id[mid];
        int c = strcmp(id, u->id);
        if (c == 0)
            return u;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int vip_catalog_has(const vip_catalog *catalog, const char *id)
{
    return catalog && id && find(catalog, id) != NULL;
}

char *vip_catalog_format(vip_catalog *catalog, const char *id, const vip_arg *args, size_t count, int *fell_back,
                         vip_error *err)
{
    if (fell_back)
        *fell_back = 0;
    if (!catalog || !id) {
        vip_error_set(err, VIP_ERR_INTERNAL, "vip_catalog_format: no catalogue or id");
        return NULL;
    }
    const unit *u = find(catalog, id);
    if (!u) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: no unit with id '%s'", catalog->path, id);
        return NULL;
    }
    if (fell_back)
        *fell_back = u->status != VIP_UNIT_TRANSLATED;
    char *text = vip_message_format(u->message, args, count, err);
    if (!text)
        vip_error_prefix(err, "%s:%d: unit %s: ", catalog->path, u->line, u->id);
    return text;
}
