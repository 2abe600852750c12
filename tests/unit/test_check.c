/* vip_check against copies of the real catalogues with one seeded problem each: every problem is reported with the
 * line and unit id found independently in the seeded file's text, and the JSON report is read back by Python's
 * json module. The real catalogues themselves have no errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../generator/tools/check.h" /* tests/unit/check.h is the test harness */
#include "check.h"
#include "files.h"

static int spit(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen(s);
    int ok = fwrite(s, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Replaces the first `old` after `<unit id="ID"` (within that unit) with `new`; aborts the test if absent, so a
 * seed that did not take cannot pass unnoticed. */
/* Replaces the first `old` after `from` (within the unit) and before the `to` that follows it: a seed that did
 * not take ends the test. */
static char *seed_in(char *buf, const char *id, const char *from, const char *to, const char *old, const char *new,
                     const char *who)
{
    char start[256];
    snprintf(start, sizeof start, "<unit id=\"%s\"", id);
    char *u = strstr(buf, start);
    char *f = u && from ? strstr(u, from) : u;
    char *end = f ? strstr(f, to) : NULL;
    char *at = f ? strstr(f, old) : NULL;
    if (!at || at > end) {
        printf("FAIL %s %s: '%s' not found\n", who, id, old);
        exit(1);
    }
    size_t pre = (size_t)(at - buf), ol = strlen(old), nl = strlen(new), rest = strlen(at + ol);
    char *out = malloc(pre + nl + rest + 1);
    if (!out)
        exit(1);
    memcpy(out, buf, pre);
    memcpy(out + pre, new, nl);
    memcpy(out + pre + nl, at + ol, rest + 1);
    free(buf);
    return out;
}

static char *seed(char *buf, const char *id, const char *old, const char *new)
{
    return seed_in(buf, id, NULL, "</unit>", old, new, "seed");
}

/* As seed, but within the unit's target (a note may hold the same text). */
static char *seed_target(char *buf, const char *id, const char *old, const char *new)
{
    return seed_in(buf, id, "<target>", "</target>", old, new, "seed_target");
}

/* Replaces the unit's whole target text. */
static char *set_target(char *buf, const char *id, const char *text)
{
    char start[256];
    snprintf(start, sizeof start, "<unit id=\"%s\"", id);
    char *u = strstr(buf, start);
    char *t = u ? strstr(u, "<target>") : NULL;
    char *e = t ? strstr(t, "</target>") : NULL;
    if (!e) {
        printf("FAIL set_target %s: no target\n", id);
        exit(1);
    }
    size_t len = (size_t)(e - (t + 8));
    char *old = malloc(len + 9);
    memcpy(old, t, len + 8);
    old[len + 8] = '\0';
    char repl[4096];
    snprintf(repl, sizeof repl, "<target>%s", text);
    buf = seed(buf, id, old, repl);
    free(old);
    return buf;
}

/* The line (from 1) of the place at in buf; -1 when at is NULL. */
static int line_at(const char *buf, const char *at)
{
    if (!at)
        return -1;
    int line = 1;
    for (const char *p = buf; p < at; p++)
        line += *p == '\n';
    return line;
}

/* The line of the nth (from 1) `what` after `<unit id="ID"`, counted in the file's text. */
static int line_in_unit(const char *buf, const char *id, const char *what, int nth)
{
    char start[256];
    snprintf(start, sizeof start, "<unit id=\"%s\"", id);
    const char *u = buf;
    for (int k = 0; k < nth; k++) {
        u = strstr(k ? u + 1 : u, start);
        if (!u)
            return -1;
    }
    return line_at(buf, what ? strstr(u, what) : u);
}

/* The line of the catalogue's <file>, where a missing unit is reported. */
static int file_line(const char *buf)
{
    return line_at(buf, strstr(buf, "<file "));
}

static const vip_check_problem *find(const vip_check *ck, const char *file_end, const char *unit, const char *kind,
                                     const char *text)
{
    for (size_t i = 0; i < vip_check_count(ck); i++) {
        const vip_check_problem *p = vip_check_problem_at(ck, i);
        size_t fl = strlen(p->file), el = strlen(file_end);
        if (fl < el || strcmp(p->file + fl - el, file_end) != 0 || strcmp(p->kind, kind) != 0)
            continue;
        if ((unit == NULL) != (p->unit == NULL) || (unit && strcmp(unit, p->unit) != 0))
            continue;
        if (text && !strstr(p->message, text))
            continue;
        return p;
    }
    return NULL;
}

/* Expects a problem of `kind` on unit at `line`, of the given severity, whose message contains text. */
static void expect(const vip_check *ck, const char *name, const char *file, const char *unit, const char *kind,
                   vip_check_severity sev, int line, const char *text)
{
    const vip_check_problem *p = find(ck, file, unit, kind, text);
    CHECK(name, p && p->line == line && p->severity == sev, "%s %s %s: %s (line %d, expected %d; severity %d)",
          file, unit ? unit : "-", kind, p ? p->message : "not reported", p ? p->line : 0, line,
          p ? (int)p->severity : -1);
}

static char *must_slurp(const char *path)
{
    char *s = slurp(path, NULL);
    if (!s) {
        printf("FAIL read %s\n", path);
        exit(1);
    }
    return s;
}

static void must_spit(const char *path, const char *s)
{
    if (spit(path, s)) {
        printf("FAIL write %s\n", path);
        exit(1);
    }
}

int main(void)
{
    char dir[] = "/tmp/vipgen-test-check-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char en_path[512], gl_path[512], fa_path[512], zh_path[512], pa_path[512], sub[512], ur_path[512],
        bad_path[512], json_path[512];
    snprintf(en_path, sizeof en_path, "%s/en.xlf", dir);
    snprintf(gl_path, sizeof gl_path, "%s/glossary.tsv", dir);
    snprintf(fa_path, sizeof fa_path, "%s/fa.xlf", dir);
    snprintf(zh_path, sizeof zh_path, "%s/zh-Hans.xlf", dir);
    snprintf(pa_path, sizeof pa_path, "%s/pa.xlf", dir);
    snprintf(sub, sizeof sub, "%s/other", dir);
    snprintf(ur_path, sizeof ur_path, "%s/other/fa.xlf", dir);
    snprintf(bad_path, sizeof bad_path, "%s/other/ar.xlf", dir);
    snprintf(json_path, sizeof json_path, "%s/report.json", dir);
    if (mkdir(sub, 0700)) {
        perror("mkdir");
        return 1;
    }

    /* The real catalogues first: no errors, so every error below comes from a seed. */
    {
        static const char *const all[] = {"en", "pl", "ro", "ar", "fa", "ur", "pa", "zh-Hans"};
        vip_error err = {0};
        vip_check *ck = vip_check_create(NULL, &err);
        int rc = 0;
        for (size_t i = 0; i < sizeof all / sizeof *all && !rc; i++) {
            char p[128];
            snprintf(p, sizeof p, "translations/%s.xlf", all[i]);
            rc = vip_check_file(ck, p, &err);
        }
        CHECK("real catalogues: checked", rc == 0, "%s", err.message);
        CHECK("real catalogues: no errors", vip_check_errors(ck) == 0, "%zu errors, first: %s",
              vip_check_errors(ck), vip_check_count(ck) ? vip_check_problem_at(ck, 0)->message : "");
        vip_check_destroy(ck);
    }

    /* The English changed since fa was translated (letter.thanks). */
    char *en = must_slurp("translations/en.xlf");
    en = seed(en, "letter.thanks", "</source>", " Please keep this letter.</source>");
    must_spit(en_path, en);
    char *gl = must_slurp("translations/glossary.tsv");
    must_spit(gl_path, gl);
    free(gl);

    char *fa = must_slurp("translations/fa.xlf");
    fa = seed_target(fa, "letter.updates.when", "one {", "onee {");                      /* misspelt keyword */
    fa = seed_target(fa, "letter.glance.next_update_value", "one {", "few {");           /* no one; few unused */
    fa = set_target(fa, "letter.glance.crime_ref", "شمارهٔ مرجع جرم که پلیس هنگام ثبت گزارش به شما داده است"); /* 3x */
    fa = set_target(fa, "letter.title",
                    "تأیید کتبی گزارش جرم شما از سوی پلیس و توضیح کامل حقوق شما طبق آیین‌نامهٔ قربانیان و "
                    "کمک‌هایی که می‌توانید دریافت کنید و کارهایی که باید انجام دهید"); /* twice its limit */
    fa = set_target(fa, "letter.greeting", "'{victim_name}' عزیز،");             /* ASCII apostrophes quote */
    fa = set_target(fa, "common.contents", "فهرست مطالب كلي");                   /* Arabic kaf and yeh */
    fa = seed(fa, "common.date_label", "<unit id=\"common.date_label\"", "<unit id=\"common.contents\"");
    fa = seed(fa, "common.reference_label", "<unit id=\"common.reference_label\"",
              "<unit id=\"common.reference_labl\"");
    fa = set_target(fa, "letter.confidential", "محرمانه  است");                  /* two spaces */
    fa = set_target(fa, "letter.ref_line", "شمارهٔ مرجع جرم{crime_ref}");         /* glued */
    fa = set_target(fa, "booklet.s1.sub2", "حقوق بیشتر");                        /* not the glossary's */
    fa = set_target(fa, "common.not_given", "");                                 /* fallback */
    fa = seed(fa, "letter.closing", "state=\"translated\"", "state=\"initial\"");
    fa = seed(fa, "letter.signature.on_behalf", "state=\"translated\"", "state=\"done\"");
    fa = seed_target(fa, "letter.date_line", "</target>", " {</target>");               /* unmatched brace */
    must_spit(fa_path, fa);

    char *zh = must_slurp("translations/zh-Hans.xlf");
    zh = set_target(zh, "common.contents", "目錄");
    must_spit(zh_path, zh);
    char *pa = must_slurp("translations/pa.xlf");
    pa = set_target(pa, "common.contents", "فہرست");
    must_spit(pa_path, pa);
    char *ur = must_slurp("translations/fa.xlf");
    ur = seed(ur, "common.page_of", "", ""); /* unchanged units */
    char *x = strstr(ur, "trgLang=\"fa\"");
    if (!x) {
        printf("FAIL seed trgLang\n");
        return 1;
    }
    memcpy(x, "trgLang=\"ur\"", 12);
    must_spit(ur_path, ur);
    must_spit(bad_path, "<?xml version=\"1.0\"?>\n<xliff>\n  <file>\n</xliff>\n");

    vip_error err = {0};
    vip_check_options opt = {.english = en_path, .glossary = gl_path};
    vip_check *ck = vip_check_create(&opt, &err);
    int rc = vip_check_file(ck, fa_path, &err);
    rc = rc ? rc : vip_check_file(ck, zh_path, &err);
    rc = rc ? rc : vip_check_file(ck, pa_path, &err);
    rc = rc ? rc : vip_check_file(ck, ur_path, &err);
    rc = rc ? rc : vip_check_file(ck, bad_path, &err);
    CHECK("seeded: checked", rc == 0, "%s", err.message);

    const vip_check_severity E = VIP_CHECK_ERROR, W = VIP_CHECK_WARNING;
    int tl;
    tl = line_in_unit(fa, "letter.updates.when", "<target>", 1);
    expect(ck, "onee: unknown keyword, with a suggestion", "/fa.xlf", "letter.updates.when", "plural-keyword", E, tl,
           "'onee', which is not a plural category: it is never chosen. Did you mean 'one'?");
    expect(ck, "onee: the one case is then missing", "/fa.xlf", "letter.updates.when", "plural-missing", E, tl,
           "no 'one' case");
    tl = line_in_unit(fa, "letter.glance.next_update_value", "<target>", 1);
    expect(ck, "missing one", "/fa.xlf", "letter.glance.next_update_value", "plural-missing", E, tl,
           "no 'one' case, which Farsi needs (its categories: one, other)");
    expect(ck, "few: a category Farsi does not have", "/fa.xlf", "letter.glance.next_update_value", "plural-unused",
           W, tl, "'few'");
    expect(ck, "stale: the English changed", "/fa.xlf", "letter.thanks", "stale", E,
           line_in_unit(fa, "letter.thanks", "<source>", 1), "<source> differs");
    expect(ck, "3x over its limit: an error", "/fa.xlf", "letter.glance.crime_ref", "length", E,
           line_in_unit(fa, "letter.glance.crime_ref", "<target>", 1), "the limit is 20");
    expect(ck, "a title twice its limit: an error", "/fa.xlf", "letter.title", "length", E,
           line_in_unit(fa, "letter.title", "<target>", 1), "the limit is 60");
    tl = line_in_unit(fa, "letter.greeting", "<target>", 1);
    expect(ck, "apostrophe around a placeholder: the quoting rule", "/fa.xlf", "letter.greeting",
           "apostrophe-quoting", E, tl, "starts quoted text");
    expect(ck, "apostrophe around a placeholder: the argument is lost, with the rule", "/fa.xlf", "letter.greeting",
           "argument-missing", E, tl, "{victim_name}");
    expect(ck, "apostrophe: the lost argument's message explains quoting", "/fa.xlf", "letter.greeting",
           "argument-missing", E, tl, "U+2019");
    tl = line_in_unit(fa, "common.contents", "<target>", 2); /* the original unit: the first is the renamed one */
    expect(ck, "Arabic yeh in Farsi", "/fa.xlf", "common.contents", "script", E, tl, "U+064A");
    expect(ck, "Arabic kaf in Farsi", "/fa.xlf", "common.contents", "script", E, tl, "U+06A9");
    expect(ck, "duplicate unit", "/fa.xlf", "common.contents", "duplicate", E,
           line_in_unit(fa, "common.contents", NULL, 2), "the first is at line");
    expect(ck, "missing unit at the <file>", "/fa.xlf", "common.date_label", "missing", E,
           file_line(fa), "is missing");
    expect(ck, "extra unit", "/fa.xlf", "common.reference_labl", "extra", W,
           line_in_unit(fa, "common.reference_labl", NULL, 1), "no unit of the English");
    expect(ck, "two spaces", "/fa.xlf", "letter.confidential", "double-space", W,
           line_in_unit(fa, "letter.confidential", "<target>", 1), "two spaces");
    expect(ck, "placeholder glued to a letter", "/fa.xlf", "letter.ref_line", "glued", W,
           line_in_unit(fa, "letter.ref_line", "<target>", 1), "{crime_ref}");
    expect(ck, "glossary rendering not used", "/fa.xlf", "booklet.s1.sub2", "terminology", W,
           line_in_unit(fa, "booklet.s1.sub2", "<target>", 1), "\"حقوق ویژه\"");
    expect(ck, "empty target: fallback", "/fa.xlf", "common.not_given", "fallback", W,
           line_in_unit(fa, "common.not_given", "<target>", 1), "English is printed");
    expect(ck, "state initial", "/fa.xlf", "letter.closing", "untranslated", W,
           line_in_unit(fa, "letter.closing", "<target>", 1), "\"initial\"");
    expect(ck, "unknown state", "/fa.xlf", "letter.signature.on_behalf", "state", E,
           line_in_unit(fa, "letter.signature.on_behalf", "<target>", 1), "'done'");
    expect(ck, "ICU syntax error", "/fa.xlf", "letter.date_line", "syntax", E,
           line_in_unit(fa, "letter.date_line", "<target>", 1), "does not compile");
    expect(ck, "Traditional Chinese character", "/zh-Hans.xlf", "common.contents", "script", E,
           line_in_unit(zh, "common.contents", "<target>", 1), "Traditional character 錄 (U+9304)");
    expect(ck, "Traditional: the Simplified one named", "/zh-Hans.xlf", "common.contents", "script", E,
           line_in_unit(zh, "common.contents", "<target>", 1), "write 录");
    expect(ck, "Shahmukhi in Punjabi", "/pa.xlf", "common.contents", "script", E,
           line_in_unit(pa, "common.contents", "<target>", 1), "Shahmukhi");
    expect(ck, "trgLang ur in fa.xlf", "/other/fa.xlf", NULL, "language", E, 5, "trgLang is 'ur' (Urdu)");
    expect(ck, "not XLIFF: line of the XML error", "/other/ar.xlf", NULL, "xml", E, 4, "");
    CHECK("seeded: the unchanged units of a Farsi file have no error", !find(ck, "/other/fa.xlf", "letter.title",
                                                                              "length", NULL), "reported");

    /* JSON read back by Python's json module: the same problems, in the same order. */
    FILE *jf = fopen(json_path, "w");
    CHECK("json: written", jf && vip_check_write_json(ck, jf) == 0 && fclose(jf) == 0, "cannot write");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding=\"utf-8\")); "
             "p=d[\"problems\"]; assert d[\"errors\"]==sum(x[\"severity\"]==\"error\" for x in p); "
             "o=[x for x in p if x[\"kind\"]==\"plural-keyword\"][0]; "
             "print(len(p), d[\"errors\"], d[\"warnings\"], o[\"line\"], o[\"unit\"], o[\"file\"].endswith(\"/fa.xlf\"))' %s",
             json_path);
    FILE *py = popen(cmd, "r");
    char out[256] = "";
    if (py) {
        if (!fgets(out, sizeof out, py))
            out[0] = '\0';
        pclose(py);
    }
    char want[256];
    snprintf(want, sizeof want, "%zu %zu %zu %d letter.updates.when True\n", vip_check_count(ck),
             vip_check_errors(ck), vip_check_warnings(ck), line_in_unit(fa, "letter.updates.when", "<target>", 1));
    CHECK("json: parsed by Python's json module, same counts and the onee problem", strcmp(out, want) == 0,
          "python said '%s', expected '%s'", out, want);
    vip_check_destroy(ck);

    free(en);
    free(fa);
    free(zh);
    free(pa);
    free(ur);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        printf("note: could not remove %s\n", dir);
    return CHECK_DONE();
}
