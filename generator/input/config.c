/* vip_config: vipgen.conf, read with GLib's key-file parser. GLib reads the values; a scan of the text beside it
 * finds the line of each group and key, so that every refusal names file, line and key, and catches what GLib
 * would pass over silently (a key set twice, a group written twice). */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct vip_config {
    vip_settings s;
    char **owned;                         /* every string the settings point to */
    size_t owned_count, owned_cap;
    vip_case_code_alias *aliases;
    size_t alias_count, alias_cap;
    vip_case_column_alias *columns;
    size_t column_count, column_cap;
};

static const char *const default_sensitive[] = {"domestic_abuse", "sexual_offence", "harassment"};

enum key_type { KEY_TEXT, KEY_PATH, KEY_CHOICE, KEY_COUNT, KEY_MODE, KEY_OFFENCES };

/* Every key of the fixed groups. choices lists a KEY_CHOICE's words separated by '|'. */
static const struct key_spec {
    const char *group, *key;
    enum key_type type;
    const char *choices;
    long min, max;                        /* a KEY_COUNT's range */
} key_specs[] = {
    {"force", "name", KEY_TEXT, NULL, 0, 0},         {"force", "address", KEY_TEXT, NULL, 0, 0},
    {"force", "website", KEY_TEXT, NULL, 0, 0},      {"force", "phone", KEY_TEXT, NULL, 0, 0},
    {"force", "email", KEY_TEXT, NULL, 0, 0},        {"force", "logo", KEY_PATH, NULL, 0, 0},
    {"paths", "templates", KEY_PATH, NULL, 0, 0},    {"paths", "translations", KEY_PATH, NULL, 0, 0},
    {"paths", "fonts", KEY_PATH, NULL, 0, 0},
    {"import", "date_order", KEY_CHOICE, "iso|day-first", 0, 0},
    {"import", "separator", KEY_CHOICE, ",|;", 0, 0},
    {"delivery", "sensitive_offences", KEY_OFFENCES, NULL, 0, 0},
    {"mail", "from", KEY_TEXT, NULL, 0, 0},          {"mail", "reply_to", KEY_TEXT, NULL, 0, 0},
    {"mail", "signature", KEY_TEXT, NULL, 0, 0},     {"mail", "smtp_url", KEY_TEXT, NULL, 0, 0},
    {"mail", "starttls", KEY_CHOICE, "required|optional", 0, 0},
    {"mail", "credentials_file", KEY_PATH, NULL, 0, 0},
    {"mail", "ca_file", KEY_PATH, NULL, 0, 0},
    {"mail", "connections", KEY_COUNT, NULL, 1, 16},
    {"mail", "tries", KEY_COUNT, NULL, 1, 10},
    {"mail", "retry_delay_ms", KEY_COUNT, NULL, 1, 600000},
    {"output", "file_mode", KEY_MODE, NULL, 0, 0},
};

/* Groups that map the force's own words to vipgen's: [columns] to column names, the others to codes. */
static const struct {
    const char *group;
    int field;                            /* -1 for [columns] */
} map_groups[] = {
    {"columns", -1},
    {"offence", VIP_CASE_OFFENCE},
    {"needs_assessment", VIP_CASE_NEEDS_ASSESSMENT},
    {"referral", VIP_CASE_REFERRAL},
    {"enhanced_reason", VIP_CASE_ENHANCED_REASON},
};

/* ---- storage ---- */

static const char *keep(vip_config *c, char *s, vip_error *err)
{
    if (!s) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (c->owned_count == c->owned_cap) {
        size_t cap = c->owned_cap ? c->owned_cap * 2 : 32;
        char **p = realloc(c->owned, cap * sizeof *p);
        if (!p) {
            free(s);
            vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        c->owned = p;
        c->owned_cap = cap;
    }
    c->owned[c->owned_count++] = s;
    return s;
}

vip_config *vip_config_create(vip_error *err)
{
    vip_config *c = calloc(1, sizeof *c);
    if (!c) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < sizeof default_sensitive / sizeof default_sensitive[0]; i++)
        c->s.sensitive[c->s.sensitive_count++] = default_sensitive[i];
    c->s.smtp_require_starttls = 1;
    c->s.smtp_connections = 4;
    c->s.smtp_tries = 5;
    c->s.smtp_retry_delay_ms = 2000;
    c->s.file_mode = 0600;
    c->s.force_name = c->s.force_address = c->s.force_website = c->s.force_phone = c->s.force_email = "";
    return c;
}

void vip_config_destroy(vip_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->owned_count; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->aliases);
    free(c->columns);
    free(c);
}

const vip_settings *vip_config_settings(const vip_config *c)
{
    return &c->s;
}

int vip_config_offence_sensitive(const vip_config *c, const char *code)
{
    for (size_t i = 0; i < c->s.sensitive_count; i++)
        if (strcmp(c->s.sensitive[i], code) == 0)
            return 1;
    return 0;
}

/* ---- the text beside GLib: lines of groups and keys ---- */

typedef struct line_map {
    const char *path;
    const char *text;
} line_map;

static void trim(const char **s, const char **end)
{
    while (*s < *end && (**s == ' ' || **s == '\t' || **s == '\r'))
        (*s)++;
    while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
}

/* The line of key in group (key NULL: of the group's header); 0 when not found. */
static int line_of(const line_map *m, const char *group, const char *key)
{
    const char *p = m->text;
    int line = 0, in_group = 0;
    while (*p) {
        line++;
        const char *eol = strchr(p, '\n'), *end = eol ? eol : p + strlen(p), *s = p;
        trim(&s, &end);
        if (s < end && *s == '[') {
            const char *close = memchr(s, ']', (size_t)(end - s));
            size_t n = close ? (size_t)(close - s - 1) : 0;
            in_group = close && strlen(group) == n && strncmp(s + 1, group, n) == 0;
            if (in_group && !key)
                return line;
        } else if (in_group && key && s < end && *s != '#') {
            const char *eq = memchr(s, '=', (size_t)(end - s)), *kend = eq ? eq : end;
            trim(&s, &kend);
            if (strlen(key) == (size_t)(kend - s) && strncmp(s, key, (size_t)(kend - s)) == 0)
                return line;
        }
        p = eol ? eol + 1 : end;
    }
    return 0;
}

/* What GLib would accept silently but a person would not mean: keys before any group, a group written twice, a
 * key set twice in one group, and lines that are none of comment, group or key = value. */
static int scan_lines(const line_map *m, vip_error *err)
{
    enum { MAX_SEEN = 512 };
    struct seen {
        const char *group, *key; /* into the text, not terminated */
        size_t group_len, key_len;
        int line;
    } *seen = calloc(MAX_SEEN, sizeof *seen);
    if (!seen)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    size_t count = 0;
    const char *p = m->text, *group = NULL;
    size_t group_len = 0;
    int line = 0, rc = VIP_OK;
    while (*p && !rc) {
        line++;
        const char *eol = strchr(p, '\n'), *end = eol ? eol : p + strlen(p), *s = p;
        trim(&s, &end);
        if (s == end || *s == '#') {
            /* blank or comment */
        } else if (*s == '[') {
            if (end[-1] != ']' || end - s < 3) {
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: a group is written [name]", m->path, line);
                break;
            }
            group = s + 1;
            group_len = (size_t)(end - s - 2);
            for (size_t i = 0; i < count && !rc; i++)
                if (!seen[i].key && seen[i].group_len == group_len && !strncmp(seen[i].group, group, group_len))
                    rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: the group [%.*s] is written twice (also on line "
                                       "%d); keep its keys in one place", m->path, line, (int)group_len, group,
                                       seen[i].line);
            if (!rc && count < MAX_SEEN)
                seen[count++] = (struct seen){group, NULL, group_len, 0, line};
        } else {
            const char *eq = memchr(s, '=', (size_t)(end - s)), *kend = eq ? eq : end;
            if (!eq) {
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: \"%.*s\" is not a key = value line, a [group] or a # "
                                   "comment", m->path, line, (int)(end - s > 60 ? 60 : end - s), s);
                break;
            }
            if (!group) {
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: a key before any [group]", m->path, line);
                break;
            }
            trim(&s, &kend);
            size_t key_len = (size_t)(kend - s);
            for (size_t i = 0; i < count && !rc; i++)
                if (seen[i].key && seen[i].group == group && seen[i].key_len == key_len &&
                    !strncmp(seen[i].key, s, key_len))
                    rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%.*s] %.*s is set twice (also on line %d)",
                                       m->path, line, (int)group_len, group, (int)key_len, s, seen[i].line);
            if (!rc && count < MAX_SEEN)
                seen[count++] = (struct seen){group, s, group_len, key_len, line};
        }
        p = eol ? eol + 1 : end;
    }
    free(seen);
    return rc;
}

/* ---- values ---- */

static char *resolve_path(const char *dir, const char *value)
{
    if (value[0] == '/' || !dir[0])
        return strdup(value);
    size_t n = strlen(dir) + strlen(value) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, value);
    return p;
}

static int choice_index(const char *choices, const char *value)
{
    int i = 0;
    for (const char *p = choices;; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (strlen(value) == n && strncmp(p, value, n) == 0)
            return i;
        if (!bar)
            return -1;
        p = bar + 1;
    }
}

static int set_key(vip_config *c, const line_map *m, const char *dir, GKeyFile *kf, const struct key_spec *spec,
                   vip_error *err)
{
    int line = line_of(m, spec->group, spec->key);
    GError *gerr = NULL;
    gchar *raw = g_key_file_get_string(kf, spec->group, spec->key, &gerr);
    if (!raw) {
        int rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s: %s", m->path, line, spec->group, spec->key,
                               gerr ? gerr->message : "cannot be read");
        g_clear_error(&gerr);
        return rc;
    }
    char *value = strdup(raw);
    g_free(raw);
    if (!value)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    const vip_settings *s = &c->s;
    const char **text_slot = NULL;
    int rc = VIP_OK;
    switch (spec->type) {
    case KEY_TEXT:
    case KEY_PATH: {
        if (!strcmp(spec->group, "force"))
            text_slot = !strcmp(spec->key, "name")      ? &c->s.force_name
                        : !strcmp(spec->key, "address") ? &c->s.force_address
                        : !strcmp(spec->key, "website") ? &c->s.force_website
                        : !strcmp(spec->key, "phone")   ? &c->s.force_phone
                        : !strcmp(spec->key, "email")   ? &c->s.force_email
                                                        : &c->s.force_logo;
        else if (!strcmp(spec->group, "paths"))
            text_slot = !strcmp(spec->key, "templates") ? &c->s.templates
                        : !strcmp(spec->key, "translations") ? &c->s.translations
                                                             : &c->s.fonts;
        else
            text_slot = !strcmp(spec->key, "from")        ? &c->s.mail_from
                        : !strcmp(spec->key, "reply_to")  ? &c->s.mail_reply_to
                        : !strcmp(spec->key, "signature") ? &c->s.mail_signature
                        : !strcmp(spec->key, "smtp_url")  ? &c->s.smtp_url
                        : !strcmp(spec->key, "ca_file")   ? &c->s.smtp_ca_file
                                                          : &c->s.smtp_credentials_file;
        if (spec->type == KEY_PATH) {
            if (!value[0]) {
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s is empty; give a path, or leave the key out",
                                   m->path, line, spec->group, spec->key);
                break;
            }
            char *path = resolve_path(dir, value);
            free(value);
            value = path;
            if (!value)
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        }
        const char *kept = keep(c, value, err);
        value = NULL;
        if (!kept)
            return err->code;
        *text_slot = kept;
        break;
    }
    case KEY_CHOICE: {
        int i = choice_index(spec->choices, value);
        if (i < 0) {
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = \"%.60s\": expected one of %s", m->path, line,
                               spec->group, spec->key, value, spec->choices);
            break;
        }
        if (!strcmp(spec->key, "date_order"))
            c->s.import.day_first = i == 1;
        else if (!strcmp(spec->key, "separator"))
            c->s.import.separator = i == 1 ? ';' : ',';
        else
            c->s.smtp_require_starttls = i == 0;
        break;
    }
    case KEY_COUNT: {
        char *end;
        long n = strtol(value, &end, 10);
        if (!value[0] || *end || n < spec->min || n > spec->max)
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = \"%.60s\": expected a whole number from %ld to "
                               "%ld", m->path, line, spec->group, spec->key, value, spec->min, spec->max);
        else if (!strcmp(spec->key, "connections"))
            c->s.smtp_connections = (int)n;
        else if (!strcmp(spec->key, "tries"))
            c->s.smtp_tries = (int)n;
        else
            c->s.smtp_retry_delay_ms = (int)n;
        break;
    }
    case KEY_MODE: {
        char *end;
        unsigned long mode = strtoul(value, &end, 8);
        if (!value[0] || *end || mode > 0777)
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = \"%.60s\": expected an octal file mode such as "
                               "0600 or 0640", m->path, line, spec->group, spec->key, value);
        else if (mode & 0007)
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = %s would let every user of the machine read or "
                               "change victims' letters; use 0600 or 0640 (and a group for the bureau)", m->path,
                               line, spec->group, spec->key, value);
        else if (!(mode & 0600))
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = %s: vipgen must be able to read and write its "
                               "own files (0600 at least)", m->path, line, spec->group, spec->key, value);
        else
            c->s.file_mode = (unsigned)mode;
        break;
    }
    case KEY_OFFENCES: {
        gchar **list = g_key_file_get_string_list(kf, spec->group, spec->key, NULL, NULL);
        c->s.sensitive_count = 0;
        for (size_t i = 0; list && list[i] && !rc; i++) {
            const char *item = list[i];
            while (*item == ' ')
                item++;
            if (!*item)
                continue;
            const char *code = vip_case_code_find(VIP_CASE_OFFENCE, item);
            if (!code)
                rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s: \"%.60s\" is not an offence code; expected "
                                   "codes from: burglary_dwelling theft theft_from_vehicle criminal_damage assault "
                                   "robbery fraud harassment hate_crime domestic_abuse sexual_offence vehicle_theft, "
                                   "separated by ';'", m->path, line, spec->group, spec->key, item);
            else if (c->s.sensitive_count < VIP_CONFIG_MAX_SENSITIVE)
                c->s.sensitive[c->s.sensitive_count++] = code;
        }
        g_strfreev(list);
        break;
    }
    }
    (void)s;
    free(value);
    return rc;
}

static int add_alias(vip_config *c, const line_map *m, int line, const char *group, int field, const char *wording,
                     const char *target, vip_error *err)
{
    const char *w = keep(c, strdup(wording), err);
    if (!w)
        return err->code;
    if (field < 0) {
        int f = vip_case_field_find(target);
        if (f < 0)
            return vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = \"%.60s\": vipgen has no column of that name "
                                 "(see vipgen(1) for the columns)", m->path, line, group, wording, target);
        for (size_t i = 0; i < c->column_count; i++)
            if (!strcmp(c->columns[i].header, wording)) {
                c->columns[i].field = (vip_case_field)f;
                return VIP_OK;
            }
        if (c->column_count == c->column_cap) {
            size_t cap = c->column_cap ? c->column_cap * 2 : 16;
            vip_case_column_alias *p = realloc(c->columns, cap * sizeof *p);
            if (!p)
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            c->columns = p;
            c->column_cap = cap;
        }
        c->columns[c->column_count++] = (vip_case_column_alias){w, (vip_case_field)f};
        return VIP_OK;
    }
    const char *code = vip_case_code_find((vip_case_field)field, target);
    if (!code) {
        char list[240] = "";
        const char *const *codes = vip_case_codes((vip_case_field)field);
        for (size_t i = 0; codes[i]; i++) {
            strncat(list, i ? " " : "", sizeof list - strlen(list) - 1);
            strncat(list, codes[i], sizeof list - strlen(list) - 1);
        }
        return vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s = \"%.60s\": not one of vipgen's %s codes; expected one of: %s",
                             m->path, line, group, wording, target, group, list);
    }
    for (size_t i = 0; i < c->alias_count; i++)
        if (c->aliases[i].field == (vip_case_field)field && !strcmp(c->aliases[i].wording, wording)) {
            c->aliases[i].code = code;
            return VIP_OK;
        }
    if (c->alias_count == c->alias_cap) {
        size_t cap = c->alias_cap ? c->alias_cap * 2 : 32;
        vip_case_code_alias *p = realloc(c->aliases, cap * sizeof *p);
        if (!p)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        c->aliases = p;
        c->alias_cap = cap;
    }
    c->aliases[c->alias_count++] = (vip_case_code_alias){(vip_case_field)field, w, code};
    return VIP_OK;
}

static int read_group(vip_config *c, const line_map *m, const char *dir, GKeyFile *kf, const char *group,
                      vip_error *err)
{
    gsize n = 0;
    gchar **keys = g_key_file_get_keys(kf, group, &n, NULL);
    int rc = VIP_OK;
    int map = -2;
    for (size_t g = 0; g < sizeof map_groups / sizeof map_groups[0]; g++)
        if (!strcmp(group, map_groups[g].group))
            map = map_groups[g].field;
    int fixed = 0;
    for (size_t k = 0; k < sizeof key_specs / sizeof key_specs[0]; k++)
        fixed |= !strcmp(key_specs[k].group, group);
    if (map == -2 && !fixed)
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: unknown group [%s]; the groups are [force] [paths] [import] "
                           "[columns] [offence] [needs_assessment] [referral] [enhanced_reason] [delivery] [mail] "
                           "[output]", m->path, line_of(m, group, NULL), group);
    for (gsize i = 0; keys && i < n && !rc; i++) {
        int line = line_of(m, group, keys[i]);
        if (map != -2) {
            gchar *target = g_key_file_get_string(kf, group, keys[i], NULL);
            rc = target ? add_alias(c, m, line, group, map, keys[i], target, err)
                        : vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] %s cannot be read", m->path, line, group,
                                        keys[i]);
            g_free(target);
            continue;
        }
        const struct key_spec *spec = NULL;
        for (size_t k = 0; k < sizeof key_specs / sizeof key_specs[0]; k++)
            if (!strcmp(key_specs[k].group, group) && !strcmp(key_specs[k].key, keys[i]))
                spec = &key_specs[k];
        if (!spec) {
            char known[300] = "";
            for (size_t k = 0; k < sizeof key_specs / sizeof key_specs[0]; k++)
                if (!strcmp(key_specs[k].group, group)) {
                    strncat(known, known[0] ? ", " : "", sizeof known - strlen(known) - 1);
                    strncat(known, key_specs[k].key, sizeof known - strlen(known) - 1);
                }
            rc = vip_error_set(err, VIP_ERR_INPUT, "%s:%d: [%s] has no key \"%s\"; its keys are %s", m->path, line,
                               group, keys[i], known);
            break;
        }
        rc = set_key(c, m, dir, kf, spec, err);
    }
    g_strfreev(keys);
    return rc;
}

int vip_config_read_file(vip_config *c, const char *path, vip_error *err)
{
    gchar *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        int rc = vip_error_set(err, VIP_ERR_IO, "%s: cannot read: %s", path, gerr ? gerr->message : "unknown error");
        g_clear_error(&gerr);
        return rc;
    }
    line_map m = {path, text};
    int rc = VIP_OK;
    if (memchr(text, '\0', len) || !g_utf8_validate(text, (gssize)len, NULL))
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: not UTF-8 text; save it as UTF-8", path);
    if (!rc)
        rc = scan_lines(&m, err);
    GKeyFile *kf = g_key_file_new();
    if (!rc && !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &gerr)) {
        rc = vip_error_set(err, VIP_ERR_INPUT, "%s: %s", path, gerr ? gerr->message : "not a key file");
        g_clear_error(&gerr);
    }
    char *dir = NULL;
    if (!rc) {
        const char *slash = strrchr(path, '/');
        dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup("");
        if (!dir)
            rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    }
    gsize ngroups = 0;
    gchar **groups = rc ? NULL : g_key_file_get_groups(kf, &ngroups);
    for (gsize i = 0; groups && i < ngroups && !rc; i++)
        rc = read_group(c, &m, dir, kf, groups[i], err);
    g_strfreev(groups);
    g_key_file_free(kf);
    free(dir);
    g_free(text);
    if (!rc) {
        const char *kept = keep(c, strdup(path), err);
        if (!kept)
            return err->code;
        if (c->s.file_count < VIP_CONFIG_MAX_FILES)
            c->s.files[c->s.file_count++] = kept;
    }
    c->s.import.code_aliases = c->aliases;
    c->s.import.code_alias_count = c->alias_count;
    c->s.import.column_aliases = c->columns;
    c->s.import.column_alias_count = c->column_count;
    return rc;
}

/* Reads path when it exists; a file that is there but cannot be read is an error. */
static int read_if_present(vip_config *c, const char *path, vip_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? VIP_OK
                                                  : vip_error_set(err, VIP_ERR_IO, "%s: %s", path, strerror(errno));
    return vip_config_read_file(c, path, err);
}

vip_config *vip_config_load(const char *explicit_path, vip_error *err)
{
    vip_config *c = vip_config_create(err);
    if (!c)
        return NULL;
    char path[4096];
    const char *sys = getenv("VIPGEN_SYSCONFDIR");
    snprintf(path, sizeof path, "%s/vipgen.conf", sys && *sys ? sys : "/etc/vipgen");
    int rc = read_if_present(c, path, err);
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (!rc && xdg && xdg[0] == '/') {
        snprintf(path, sizeof path, "%s/vipgen/vipgen.conf", xdg);
        rc = read_if_present(c, path, err);
    } else if (!rc && home && *home) {
        snprintf(path, sizeof path, "%s/.config/vipgen/vipgen.conf", home);
        rc = read_if_present(c, path, err);
    }
    if (!rc && explicit_path)
        rc = vip_config_read_file(c, explicit_path, err);
    if (rc) {
        vip_config_destroy(c);
        return NULL;
    }
    return c;
}
