#include "fonts.h"

#include <errno.h>
#include <hb-ot.h>
#include <hb-subset.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FONT_ROOT "/usr/share/fonts"

struct vip_font {
    uint64_t serial;
    char *name, *path, *package, *psname;
    char **scripts, **langs; /* NULL-terminated lists from the manifest */
    unsigned index;
    vip_weight weight;
    int any_lang, cff;
    hb_blob_t *blob;
    hb_face_t *face;
    hb_font_t *font;
    hb_face_t *prepared;            /* the whole face after hb_subset_preprocess, for a batch */
    hb_subset_plan_t *reduced_plan; /* CFF fonts in a batch: how the reduced face was cut (its glyph mapping) */
    hb_face_t *reduced;             /* ... and that face, preprocessed */
    vip_font_metrics metrics;
    double size_adjust;             /* see vip_font_size_adjust */
};

struct vip_fontset {
    vip_font **fonts;
    size_t count;
};

static void free_list(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

static void font_destroy(vip_font *f)
{
    if (!f)
        return;
    hb_font_destroy(f->font);
    hb_face_destroy(f->face);
    hb_face_destroy(f->prepared);
    hb_face_destroy(f->reduced);
    hb_subset_plan_destroy(f->reduced_plan);
    hb_blob_destroy(f->blob);
    free(f->name);
    free(f->path);
    free(f->package);
    free(f->psname);
    free_list(f->scripts);
    free_list(f->langs);
    free(f);
}

void vip_fontset_destroy(vip_fontset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        font_destroy(set->fonts[i]);
    free(set->fonts);
    free(set);
}

/* Splits "a,b,c" into a NULL-terminated list; "*" in a language list means "any language". */
static char **split_list(const char *s)
{
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    char **list = calloc(n + 1, sizeof *list);
    if (!list)
        return NULL;
    size_t i = 0;
    const char *start = s;
    for (;;) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        if (!(list[i++] = strndup(start, len))) {
            free_list(list);
            return NULL;
        }
        if (!end)
            break;
        start = end + 1;
    }
    return list;
}

static int list_has(char *const *list, const char *item)
{
    for (char *const *p = list; p && *p; p++)
        if (strcasecmp(*p, item) == 0)
            return 1;
    return 0;
}

static uint16_t be16(const char *p)
{
    return (uint16_t)(((unsigned char)p[0] << 8) | (unsigned char)p[1]);
}

static void read_metrics(vip_font *f)
{
    vip_font_metrics *m = &f->metrics;
    m->upem = hb_face_get_upem(f->face);
    hb_position_t v;
    if (hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_HORIZONTAL_ASCENDER, &v))
        m->ascender = v;
    if (hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_HORIZONTAL_DESCENDER, &v))
        m->descender = v;
    if (hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_HORIZONTAL_LINE_GAP, &v))
        m->line_gap = v;
    if (hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_CAP_HEIGHT, &v))
        m->cap_height = v;
    else
        m->cap_height = m->ascender;
    /* head: xMin, yMin, xMax, yMax are int16 at offsets 36..43. */
    hb_blob_t *head = hb_face_reference_table(f->face, HB_TAG('h', 'e', 'a', 'd'));
    unsigned len = 0;
    const char *d = hb_blob_get_data(head, &len);
    if (d && len >= 44)
        for (int i = 0; i < 4; i++)
            m->bbox[i] = (int16_t)be16(d + 36 + 2 * i);
    hb_blob_destroy(head);
    hb_blob_t *post = hb_face_reference_table(f->face, HB_TAG('p', 'o', 's', 't'));
    d = hb_blob_get_data(post, &len);
    if (d && len >= 8)
        m->italic_angle = (int16_t)be16(d + 4); /* integer part of the 16.16 angle */
    hb_blob_destroy(post);
    /* The x-height from the outlines, not OS/2's sxHeight: Arabic fonts leave it 0 or copy a Latin font's. Latin:
     * the top of x. Arabic script: how high the bodies of letters with neither ascender nor dots reach (heh, waw,
     * meem, seen, sad, each shaped on its own as text would be: Nastaliq's cmap glyphs are not the forms it draws,
     * and its isolated seen and sad stand taller than its heh). */
    static const char *const arabic_bodies[] = {"\xD9\x87", "\xD9\x88", "\xD9\x85", "\xD8\xB3", "\xD8\xB5"};
    int arabic = f->scripts && list_has(f->scripts, "Arab");
    size_t samples = arabic ? sizeof arabic_bodies / sizeof arabic_bodies[0] : 1;
    hb_buffer_t *b = hb_buffer_create();
    for (size_t i = 0; i < samples; i++) {
        hb_buffer_clear_contents(b);
        hb_buffer_add_utf8(b, arabic ? arabic_bodies[i] : "x", -1, 0, -1);
        hb_buffer_set_direction(b, arabic ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
        hb_buffer_set_script(b, arabic ? HB_SCRIPT_ARABIC : HB_SCRIPT_LATIN);
        hb_shape(f->font, b, NULL, 0);
        unsigned n = 0;
        const hb_glyph_info_t *info = hb_buffer_get_glyph_infos(b, &n);
        const hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(b, &n);
        hb_glyph_extents_t ext;
        if (n == 1 && info[0].codepoint != 0 && hb_font_get_glyph_extents(f->font, info[0].codepoint, &ext) &&
            ext.y_bearing + pos[0].y_offset > m->x_height)
            m->x_height = ext.y_bearing + pos[0].y_offset;
    }
    hb_buffer_destroy(b);
    if (m->x_height <= 0 && hb_ot_metrics_get_position(f->font, HB_OT_METRICS_TAG_X_HEIGHT, &v))
        m->x_height = v;
}

/* A PDF font name may not hold spaces or delimiters; fall back to the manifest name when the font has none. */
static char *postscript_name(hb_face_t *face, const char *fallback)
{
    char buf[128];
    unsigned len = sizeof buf;
    if (hb_ot_name_get_utf8(face, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID, &len, buf) == 0)
        snprintf(buf, sizeof buf, "%s", fallback);
    for (char *p = buf; *p; p++)
        if (*p <= ' ' || *p > '~' || strchr("()<>[]{}/%#", *p))
            *p = '-';
    return strdup(buf);
}

static int load_font(vip_font *f, const char *manifest, int line, vip_error *err)
{
    FILE *probe = fopen(f->path, "rb");
    if (!probe)
        return vip_error_set(err, VIP_ERR_FONT,
                             "%s:%d: font '%s': cannot open %s (%s); it is provided by the Debian package %s "
                             "(apt-get install %s)",
                             manifest, line, f->name, f->path, strerror(errno), f->package, f->package);
    fclose(probe);
    f->blob = hb_blob_create_from_file_or_fail(f->path);
    if (!f->blob)
        return vip_error_set(err, VIP_ERR_FONT, "%s:%d: font '%s': cannot read %s", manifest, line, f->name,
                             f->path);
    if (f->index >= hb_face_count(f->blob))
        return vip_error_set(err, VIP_ERR_FONT, "%s:%d: font '%s': %s has no face %u", manifest, line, f->name,
                             f->path, f->index);
    f->face = hb_face_create(f->blob, f->index);
    f->font = hb_font_create(f->face);
    if (!f->face || !f->font || hb_face_get_glyph_count(f->face) == 0)
        return vip_error_set(err, VIP_ERR_FONT, "%s:%d: font '%s': %s face %u is not a usable font", manifest,
                             line, f->name, f->path, f->index);
    hb_face_make_immutable(f->face);
    hb_blob_t *cff = hb_face_reference_table(f->face, HB_TAG('C', 'F', 'F', ' '));
    f->cff = hb_blob_get_length(cff) > 0;
    hb_blob_destroy(cff);
    if (!(f->psname = postscript_name(f->face, f->name)))
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    read_metrics(f);
    return VIP_OK;
}

/* Parses one manifest line: name weight file face package scripts languages. */
static vip_font *parse_line(char *line, const char *manifest, int lineno, vip_error *err)
{
    char *field[7];
    int n = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok && n < 7; tok = strtok(NULL, " \t\r\n"))
        field[n++] = tok;
    if (n != 7 || strtok(NULL, " \t\r\n")) {
        vip_error_set(err, VIP_ERR_INPUT,
                      "%s:%d: expected 7 fields (name weight file face package scripts languages)", manifest,
                      lineno);
        return NULL;
    }
    static uint64_t serials; /* fonts are loaded by one thread, before any document */
    vip_font *f = calloc(1, sizeof *f);
    if (!f) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->serial = ++serials;
    char *end;
    long face = strtol(field[3], &end, 10);
    if (strcmp(field[1], "regular") && strcmp(field[1], "bold")) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: weight must be 'regular' or 'bold', not '%s'", manifest, lineno,
                      field[1]);
        goto fail;
    }
    if (*end || face < 0 || face > 255) {
        vip_error_set(err, VIP_ERR_INPUT, "%s:%d: face index '%s' is not a number from 0 to 255", manifest,
                      lineno, field[3]);
        goto fail;
    }
    f->weight = strcmp(field[1], "bold") == 0 ? VIP_WEIGHT_BOLD : VIP_WEIGHT_REGULAR;
    f->index = (unsigned)face;
    size_t plen = strlen(FONT_ROOT) + strlen(field[2]) + 2;
    f->path = malloc(plen);
    f->name = strdup(field[0]);
    f->package = strdup(field[4]);
    f->scripts = split_list(field[5]);
    f->langs = split_list(field[6]);
    if (!f->path || !f->name || !f->package || !f->scripts || !f->langs) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (field[2][0] == '/')
        snprintf(f->path, plen, "%s", field[2]);
    else
        snprintf(f->path, plen, "%s/%s", FONT_ROOT, field[2]);
    f->any_lang = list_has(f->langs, "*");
    if (load_font(f, manifest, lineno, err))
        goto fail;
    return f;
fail:
    font_destroy(f);
    return NULL;
}

static int same_list(char *const *a, char *const *b)
{
    for (; *a && *b; a++, b++)
        if (strcasecmp(*a, *b))
            return 0;
    return !*a && !*b;
}

/* See vip_font_size_adjust. A font's family is the regular font listed for the same scripts and languages. */
static void set_size_adjust(vip_fontset *set)
{
    const vip_font *latin = NULL;
    for (size_t i = 0; i < set->count && !latin; i++)
        if (set->fonts[i]->weight == VIP_WEIGHT_REGULAR && list_has(set->fonts[i]->scripts, "Latn") &&
            set->fonts[i]->metrics.x_height > 0)
            latin = set->fonts[i];
    for (size_t i = 0; i < set->count; i++) {
        vip_font *f = set->fonts[i];
        f->size_adjust = 1;
        if (!latin || !list_has(f->scripts, "Arab"))
            continue;
        const vip_font *regular = f;
        for (size_t k = 0; k < set->count; k++)
            if (set->fonts[k]->weight == VIP_WEIGHT_REGULAR && same_list(set->fonts[k]->scripts, f->scripts) &&
                same_list(set->fonts[k]->langs, f->langs)) {
                regular = set->fonts[k];
                break;
            }
        if (regular->metrics.x_height <= 0)
            continue;
        double want = (double)latin->metrics.x_height / latin->metrics.upem;
        double have = (double)regular->metrics.x_height / regular->metrics.upem;
        f->size_adjust = want / have < 1 ? 1 : want / have > 1.5 ? 1.5 : want / have;
    }
}

vip_fontset *vip_fontset_load(const char *manifest_path, vip_error *err)
{
    FILE *in = fopen(manifest_path, "r");
    if (!in) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot open font manifest: %s", manifest_path, strerror(errno));
        return NULL;
    }
    vip_fontset *set = calloc(1, sizeof *set);
    if (!set) {
        fclose(in);
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char line[1024];
    int lineno = 0;
    size_t cap = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        if (set->count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            vip_font **nf = realloc(set->fonts, ncap * sizeof *nf);
            if (!nf) {
                vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
                goto fail;
            }
            set->fonts = nf;
            cap = ncap;
        }
        vip_font *f = parse_line(p, manifest_path, lineno, err);
        if (!f)
            goto fail;
        set->fonts[set->count++] = f;
    }
    fclose(in);
    if (set->count == 0) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: names no fonts", manifest_path);
        vip_fontset_destroy(set);
        return NULL;
    }
    set_size_adjust(set);
    return set;
fail:
    fclose(in);
    vip_fontset_destroy(set);
    return NULL;
}

/* The fallback order of vip_fontset_pick, one pass per level of preference. */
static const vip_font *pick(const vip_fontset *set, const char *script, const char *lang, vip_weight weight,
                            int check_cp, uint32_t cp)
{
    for (int pass = 0; pass < 8; pass++) {
        vip_weight want = pass < 4 ? weight : (vip_weight)!weight;
        for (size_t i = 0; i < set->count; i++) {
            const vip_font *f = set->fonts[i];
            if (f->weight != want)
                continue;
            int ok;
            switch (pass % 4) {
            case 0: ok = list_has(f->scripts, script) && list_has(f->langs, lang); break;
            case 1: ok = list_has(f->scripts, script) && f->any_lang; break;
            case 2: ok = list_has(f->scripts, script); break;
            default: ok = 1; break;
            }
            hb_codepoint_t g;
            if (ok && (!check_cp || hb_font_get_nominal_glyph(f->font, cp, &g)))
                return f;
        }
    }
    return NULL;
}

const vip_font *vip_fontset_pick(const vip_fontset *set, const char *script, const char *lang, vip_weight weight,
                                 uint32_t cp)
{
    return pick(set, script, lang, weight, 1, cp);
}

const vip_font *vip_fontset_primary(const vip_fontset *set, const char *script, const char *lang,
                                    vip_weight weight)
{
    return pick(set, script, lang, weight, 0, 0);
}

uint64_t vip_font_serial(const vip_font *font) { return font->serial; }
const char *vip_font_name(const vip_font *font) { return font->name; }
const char *vip_font_path(const vip_font *font) { return font->path; }
unsigned vip_font_face_index(const vip_font *font) { return font->index; }
const char *vip_font_postscript_name(const vip_font *font) { return font->psname; }
int vip_font_is_cff(const vip_font *font) { return font->cff; }
const vip_font_metrics *vip_font_get_metrics(const vip_font *font) { return &font->metrics; }
double vip_font_size_adjust(const vip_font *font) { return font->size_adjust; }
hb_face_t *vip_font_hb_face(const vip_font *font) { return font->face; }
hb_font_t *vip_font_hb_font(const vip_font *font) { return font->font; }

/* Cuts a CFF font down to the glyphs that the characters of repertoire map and substitute to (the GSUB closure,
 * so contextual and localised forms come along), keeping the subsets' own flags so that cutting twice gives the
 * bytes that cutting once would. The reduced face is then preprocessed: tens of milliseconds, not a second. */
static void reduce_for_batch(vip_font *f, const uint32_t *repertoire, size_t n)
{
    hb_subset_input_t *in = hb_subset_input_create_or_fail();
    if (!in)
        return;
    hb_set_t *unicodes = hb_subset_input_set(in, HB_SUBSET_SETS_UNICODE);
    for (size_t i = 0; i < n; i++)
        hb_set_add(unicodes, repertoire[i]);
    hb_set_add(hb_subset_input_set(in, HB_SUBSET_SETS_GLYPH_INDEX), 0);
    /* GSUB stays for the closure; what only positions glyphs goes. */
    static const char drop[][5] = {"GPOS", "BASE", "JSTF", "MATH", "kern", "DSIG", "hdmx", "LTSH", "VDMX"};
    hb_set_t *tables = hb_subset_input_set(in, HB_SUBSET_SETS_DROP_TABLE_TAG);
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        hb_set_add(tables, hb_tag_from_string(drop[i], 4));
    hb_subset_input_set_flags(in, VIP_FONT_SUBSET_FLAGS);
    hb_subset_plan_t *plan = NULL;
    hb_face_t *cut = NULL;
    if (hb_set_allocation_successful(unicodes) && hb_set_allocation_successful(tables) &&
        (plan = hb_subset_plan_create_or_fail(f->face, in)))
        cut = hb_subset_plan_execute_or_fail(plan);
    hb_subset_input_destroy(in);
    hb_face_t *prepared = cut ? hb_subset_preprocess(cut) : NULL;
    hb_face_destroy(cut);
    if (prepared && prepared != hb_face_get_empty()) {
        f->reduced = prepared;
        f->reduced_plan = plan;
    } else {
        /* Not an error: subsets are then cut from the whole font, only more slowly. */
        hb_face_destroy(prepared);
        hb_subset_plan_destroy(plan);
    }
}

static void prepare_for_batch(vip_font *f, const uint32_t *repertoire, size_t n)
{
    if (f->cff) {
        if (!f->reduced)
            reduce_for_batch(f, repertoire, n);
    } else if (!f->prepared) {
        f->prepared = hb_subset_preprocess(f->face);
    }
}

void vip_fontset_prepare_subsetting(const vip_fontset *set, const char *script, const char *lang,
                                    const uint32_t *repertoire, size_t n)
{
    for (int w = VIP_WEIGHT_REGULAR; w <= VIP_WEIGHT_BOLD; w++) {
        const vip_font *f = vip_fontset_primary(set, script, lang, (vip_weight)w);
        if (f)
            prepare_for_batch((vip_font *)f, repertoire, n); /* preparation is a cache: logically const */
    }
}

hb_face_t *vip_font_subset_source(const vip_font *font, const uint32_t *gids, size_t n, uint32_t *source_gids)
{
    if (font->reduced) {
        const hb_map_t *map = hb_subset_plan_old_to_new_glyph_mapping(font->reduced_plan);
        size_t i = 0;
        for (; i < n; i++) {
            hb_codepoint_t to = hb_map_get(map, gids[i]);
            if (to == HB_MAP_VALUE_INVALID)
                break;
            source_gids[i] = to;
        }
        if (i == n)
            return font->reduced;
    }
    memcpy(source_gids, gids, n * sizeof *gids);
    return font->prepared ? font->prepared : font->face;
}

int vip_font_glyph_advance(const vip_font *font, uint32_t gid)
{
    return hb_font_get_glyph_h_advance(font->font, gid);
}

uint32_t vip_font_nominal_glyph(const vip_font *font, uint32_t cp)
{
    hb_codepoint_t g = 0;
    return hb_font_get_nominal_glyph(font->font, cp, &g) ? g : 0;
}
