/* vip_catalog and vip_xml against real libxml2 and ICU, with the XLIFF fixtures in tests/data/catalog/:
 * lookups and formatting per language, fallbacks and their status, load-time checks reported together, and
 * XML that must be refused (DOCTYPEs, external entities, entity expansion, malformed input). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <unicode/uclean.h>

#include "catalog.h"
#include "args.h"
#include "check.h"
#include "xml.h"

#define DATA "tests/data/catalog/"

/* Until catalog.h declares them (its comment describes them; catalog.c defines them). */
const char *vip_catalog_unit_note(const vip_catalog *catalog, size_t i);
const char *vip_catalog_unit_source(const vip_catalog *catalog, size_t i);
const char *vip_catalog_unit_text(const vip_catalog *catalog, size_t i);

static size_t index_of(const vip_catalog *c, const char *id)
{
    for (size_t i = 0; i < vip_catalog_unit_count(c); i++)
        if (strcmp(vip_catalog_unit_id(c, i), id) == 0)
            return i;
    return (size_t)-1;
}

/* Formats id with args and compares with want (and the fallback flag with want_fb). */
static void check_format(vip_catalog *c, const char *label, const char *id, const vip_arg *args, size_t n,
                         const char *want, int want_fb)
{
    vip_error err = {0};
    int fb = -1;
    char *got = vip_catalog_format(c, id, args, n, &fb, &err);
    CHECK(label, got && strcmp(got, want) == 0 && fb == want_fb, "got '%s' (fell_back %d) want '%s' (%d) %s",
          got ? got : "(null)", fb, want, want_fb, got ? "" : err.message);
    free(got);
}

/* Loads a fixture that must fail and checks the message contains each of the NULL-terminated strings. */
static void check_refused(const char *label, const char *file, const char *const *wants)
{
    vip_error err = {0};
    vip_catalog *c = vip_catalog_load(file, &err);
    int ok = !c && err.code != 0;
    const char *missing = NULL;
    for (size_t i = 0; ok && wants[i]; i++)
        if (!strstr(err.message, wants[i])) {
            ok = 0;
            missing = wants[i];
        }
    CHECK(label, ok, "%s; message lacks '%s': %s", c ? "loaded" : "refused", missing ? missing : "", err.message);
    /* Each refused file's message once, on one line (tests/run.sh shows INFO lines). */
    static char shown[256];
    if (strcmp(shown, file) != 0) {
        snprintf(shown, sizeof shown, "%s", file);
        printf("INFO refused %s: ", file);
        for (const char *p = err.message; *p; p++)
            if (*p == '\n')
                fputs(" | ", stdout);
            else
                putchar(*p);
        putchar('\n');
    }
    vip_catalog_destroy(c);
}

static void test_polish(void)
{
    vip_error err = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vip_catalog *c = vip_catalog_load(DATA "pl.xlf", &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("INFO loading pl.xlf (10 units, every pattern compiled and checked): %.2f ms\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    CHECK("pl loads", c != NULL, "%s", err.message);
    if (!c)
        return;
    CHECK("pl lang canonical", strcmp(vip_catalog_lang(c), "pl") == 0, "got %s", vip_catalog_lang(c));
    CHECK("pl path", strcmp(vip_catalog_path(c), DATA "pl.xlf") == 0, "got %s", vip_catalog_path(c));
    CHECK("pl unit count", vip_catalog_unit_count(c) == 10, "got %zu", vip_catalog_unit_count(c));
    CHECK("pl file order", vip_catalog_unit_count(c) == 10 && !strcmp(vip_catalog_unit_id(c, 0), "letter.greeting") &&
                               !strcmp(vip_catalog_unit_id(c, 1), "letter.days") &&
                               !strcmp(vip_catalog_unit_id(c, 9), "letter.page"),
          "first %s", vip_catalog_unit_id(c, 0));
    CHECK("pl unit line", vip_catalog_unit_line(c, 0) == 8, "got %d", vip_catalog_unit_line(c, 0));
    CHECK("pl out of range", vip_catalog_unit_id(c, 99) == NULL && vip_catalog_unit_line(c, 99) == 0, "not NULL");
    const char *note = vip_catalog_unit_note(c, 0);
    CHECK("pl translator note", note && strstr(note, "victim_name is the person"), "got %s", note ? note : "(null)");
    CHECK("pl has", vip_catalog_has(c, "letter.weeks") && !vip_catalog_has(c, "letter.nope"), "wrong");

    vip_arg name = str("victim_name", "Seán O'Brien {0}");
    check_format(c, "pl greeting, value as is", "letter.greeting", &name, 1,
                 "Szanowna Pani / Szanowny Panie Seán O'Brien {0},", 0);
    CHECK("pl greeting status", vip_catalog_unit_status(c, 0) == VIP_UNIT_TRANSLATED, "status %d",
          vip_catalog_unit_status(c, 0));

    static const struct {
        double n;
        const char *days, *weeks;
    } pl[] = {{1, "w ciągu 1 dnia", "1 tydzień"},  {2, "w ciągu 2 dni", "2 tygodnie"},
              {5, "w ciągu 5 dni", "5 tygodni"},   {22, "w ciągu 22 dni", "22 tygodnie"},
              {25, "w ciągu 25 dni", "25 tygodni"}};
    for (size_t i = 0; i < sizeof pl / sizeof pl[0]; i++) {
        char label[64];
        vip_arg d = num("days", pl[i].n), w = num("weeks", pl[i].n);
        snprintf(label, sizeof label, "pl days %g", pl[i].n);
        check_format(c, label, "letter.days", &d, 1, pl[i].days, 0);
        snprintf(label, sizeof label, "pl weeks %g", pl[i].n);
        check_format(c, label, "letter.weeks", &w, 1, pl[i].weeks, 0);
    }

    vip_arg reported = date("reported", 2024, 3, 5);
    check_format(c, "pl date", "letter.reported", &reported, 1, "Przestępstwo zgłoszono 5 marca 2024.", 0);
    vip_arg yes = str("enhanced", "yes"), no = str("enhanced", "no");
    check_format(c, "pl select yes", "letter.enhanced", &yes, 1, "Przysługuje Pani/Panu wzmocnione wsparcie.", 0);
    check_format(c, "pl select other", "letter.enhanced", &no, 1, "Przysługuje Pani/Panu wsparcie.", 0);
    vip_arg officer = str("officer", "PC 123");
    check_format(c, "pl escapes and CDATA", "letter.officer", &officer, 1,
                 "Funkcjonariusz PC 123 & zespół <CID> — jednostka O'Briena", 0);
    const char *src = vip_catalog_unit_source(c, index_of(c, "letter.officer"));
    CHECK("pl source unescaped", src && strcmp(src, "Officer {officer} & team <CID> — O'Brien's unit") == 0, "got %s",
          src ? src : "(null)");

    /* Fallbacks: English source, status says why, fell_back set. */
    vip_arg phone = str("phone", "101");
    size_t i_missing = index_of(c, "letter.missing"), i_empty = index_of(c, "letter.empty"),
           i_initial = index_of(c, "letter.initial");
    check_format(c, "pl missing target falls back", "letter.missing", &phone, 1, "Call 101 for help.", 1);
    CHECK("pl missing target status", vip_catalog_unit_status(c, i_missing) == VIP_UNIT_FALLBACK, "status %d",
          vip_catalog_unit_status(c, i_missing));
    vip_arg two = num("days", 2);
    /* In English 2 is "other"; the fallback is formatted with English plural rules. */
    check_format(c, "pl empty target falls back", "letter.empty", &two, 1, "2 days left", 1);
    CHECK("pl empty target status", vip_catalog_unit_status(c, i_empty) == VIP_UNIT_FALLBACK, "status %d",
          vip_catalog_unit_status(c, i_empty));
    vip_arg ref = str("crime_ref", "42/1234/24");
    check_format(c, "pl initial uses source", "letter.initial", &ref, 1, "Your crime reference is 42/1234/24.", 1);
    CHECK("pl initial status", vip_catalog_unit_status(c, i_initial) == VIP_UNIT_INITIAL, "status %d",
          vip_catalog_unit_status(c, i_initial));
    const char *text = vip_catalog_unit_text(c, i_initial);
    CHECK("pl initial effective text is source", text && strcmp(text, "Your crime reference is {crime_ref}.") == 0,
          "got %s", text ? text : "(null)");

    /* Errors. */
    char *s = vip_catalog_format(c, "letter.nope", NULL, 0, NULL, &err);
    CHECK("pl unknown id", !s && strstr(err.message, "'letter.nope'") && strstr(err.message, "pl.xlf"), "%s",
          err.message);
    free(s);
    s = vip_catalog_format(c, "letter.greeting", NULL, 0, NULL, &err);
    CHECK("pl missing argument names unit and argument",
          !s && strstr(err.message, "letter.greeting") && strstr(err.message, "{victim_name}") &&
              strstr(err.message, "pl.xlf:8"),
          "%s", err.message);
    free(s);

    /* A batch: ~50 messages per letter at 300 letters a second needs 15,000 formats a second. */
    vip_arg args[] = {name, num("days", 3), num("weeks", 2), reported, yes, officer, phone, ref,
                      num("page", 1), num("pages", 3)};
    static const char *ids[] = {"letter.greeting", "letter.days", "letter.weeks", "letter.reported",
                                "letter.enhanced", "letter.officer", "letter.missing", "letter.initial",
                                "letter.page", "letter.empty"};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int failures = 0;
    const int letters = 300;
    for (int l = 0; l < letters; l++)
        for (int k = 0; k < 50; k++) {
            char *out = vip_catalog_format(c, ids[k % 10], args, sizeof args / sizeof args[0], NULL, &err);
            failures += !out;
            free(out);
        }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("INFO catalogue formatting: %d messages in %.3f s (%.0f messages/s, %.0f letters of 50/s)\n",
           letters * 50, secs, letters * 50 / secs, letters / secs);
    CHECK("pl batch formats", failures == 0, "%d failures: %s", failures, err.message);
    /* Valgrind slows everything fifty-fold; the bound means nothing there. */
    const char *preload = getenv("LD_PRELOAD");
    if (!preload || !strstr(preload, "vgpreload"))
        CHECK("pl batch fast enough", letters / secs >= 300, "%.0f letters/s", letters / secs);
    vip_catalog_destroy(c);
}

static void test_other_languages(void)
{
    vip_error err = {0};
    vip_catalog *ar = vip_catalog_load(DATA "ar.xlf", &err);
    CHECK("ar loads", ar != NULL, "%s", err.message);
    if (ar) {
        static const struct {
            double n;
            const char *want;
        } cases[] = {{0, "لا أيام"}, {1, "يوم واحد"}, {2, "يومان"}, {3, "3 أيام"}, {11, "11 يومًا"}, {100, "100 يوم"}};
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char label[64];
            vip_arg d = num("days", cases[i].n);
            snprintf(label, sizeof label, "ar days %g", cases[i].n);
            check_format(ar, label, "letter.days", &d, 1, cases[i].want, 0);
        }
        vip_arg d = date("reported", 2024, 3, 5);
        char *s = vip_catalog_format(ar, "letter.reported", &d, 1, NULL, &err);
        CHECK("ar date", s && strstr(s, "مارس"), "got %s", s ? s : err.message);
        printf("INFO ar catalogue date: %s\n", s ? s : "?");
        free(s);
    }
    vip_catalog_destroy(ar);

    vip_catalog *ro = vip_catalog_load(DATA "ro.xlf", &err);
    CHECK("ro loads", ro != NULL, "%s", err.message);
    if (ro) {
        vip_arg d1 = num("days", 1), d2 = num("days", 2), d20 = num("days", 20);
        check_format(ro, "ro days 1", "letter.days", &d1, 1, "1 zi", 0);
        check_format(ro, "ro days 2", "letter.days", &d2, 1, "2 zile", 0);
        check_format(ro, "ro days 20", "letter.days", &d20, 1, "20 de zile", 0);
    }
    vip_catalog_destroy(ro);

    vip_catalog *fa = vip_catalog_load(DATA "fa.xlf", &err);
    CHECK("fa loads, fa-IR canonicalised", fa && strcmp(vip_catalog_lang(fa), "fa") == 0, "%s", err.message);
    if (fa) {
        vip_arg d = date("reported", 2024, 3, 5);
        check_format(fa, "fa date Gregorian, European digits", "letter.reported", &d, 1, "گزارش شده در 5 مارس 2024.", 0);
        vip_arg n = num("days", 2);
        check_format(fa, "fa plural European digits", "letter.days", &n, 1, "2 روز", 0);
        /* The fallback is English text: English locale, so Latin digits and English plural rules. */
        check_format(fa, "fa fallback formatted in English", "letter.fallback", &n, 1, "2 days remaining", 1);
        vip_arg one = num("days", 1);
        check_format(fa, "fa fallback English plural", "letter.fallback", &one, 1, "1 day remaining", 1);
        check_format(fa, "fa no state means initial", "letter.nostate", NULL, 0, "Thank you.", 1);
        size_t i = index_of(fa, "letter.nostate");
        CHECK("fa no state status initial", vip_catalog_unit_status(fa, i) == VIP_UNIT_INITIAL, "status %d",
              vip_catalog_unit_status(fa, i));
    }
    vip_catalog_destroy(fa);

    vip_catalog *zh = vip_catalog_load(DATA "zh.xlf", &err);
    CHECK("zh loads, zh-CN canonicalised to zh-Hans", zh && strcmp(vip_catalog_lang(zh), "zh-Hans") == 0, "%s",
          zh ? vip_catalog_lang(zh) : err.message);
    if (zh) {
        vip_arg one = num("days", 1), three = num("days", 3);
        check_format(zh, "zh days 1", "letter.days", &one, 1, "1天", 0);
        check_format(zh, "zh days 3", "letter.days", &three, 1, "3天", 0);
        vip_arg d = date("reported", 2024, 3, 5);
        check_format(zh, "zh date", "letter.reported", &d, 1, "报案日期：2024年3月5日。", 0);
    }
    vip_catalog_destroy(zh);

    vip_catalog *en = vip_catalog_load(DATA "en.xlf", &err);
    CHECK("en loads", en && strcmp(vip_catalog_lang(en), "en") == 0, "%s", err.message);
    if (en) {
        vip_arg one = num("days", 1), five = num("days", 5);
        check_format(en, "en days 1", "letter.days", &one, 1, "1 day", 0);
        check_format(en, "en days 5", "letter.days", &five, 1, "5 days", 0);
    }
    vip_catalog_destroy(en);
}

static void test_refused(void)
{
    check_refused("mismatch: lacks argument", DATA "mismatch.xlf",
                  (const char *const[]){DATA "mismatch.xlf:7: unit letter.greeting: target lacks argument {victim_name}",
                                        NULL});
    check_refused("mismatch: extra argument", DATA "mismatch.xlf",
                  (const char *const[]){"mismatch.xlf:13: unit letter.extra: target has argument {officer} not in the source",
                                        NULL});
    check_refused("mismatch: initial target checked too", DATA "mismatch.xlf",
                  (const char *const[]){"mismatch.xlf:19: unit letter.swapped: target lacks argument {b} and has argument {c}",
                                        NULL});
    check_refused("mismatch: target does not compile", DATA "mismatch.xlf",
                  (const char *const[]){"mismatch.xlf:25: unit letter.broken: target does not compile", "U_", NULL});
    check_refused("mismatch: numbered argument", DATA "mismatch.xlf",
                  (const char *const[]){"mismatch.xlf:30: unit letter.numbered: source does not compile",
                                        "uses numbered argument {0}; use names", NULL});
    check_refused("duplicate id names both lines", DATA "dup.xlf",
                  (const char *const[]){DATA "dup.xlf:8: duplicate unit id 'letter.thanks' (first at line 4)", NULL});
    check_refused("unsupported trgLang lists supported", DATA "badlang.xlf",
                  (const char *const[]){DATA "badlang.xlf:2:", "'de'", "en, pl, ro, ar, fa, ur, pa, zh-Hans", NULL});
    check_refused("malformed XML names file and line", DATA "malformed.xlf",
                  (const char *const[]){DATA "malformed.xlf:7: ", "target", NULL});
    check_refused("external entity refused", DATA "xxe.xlf",
                  (const char *const[]){DATA "xxe.xlf:2: a DOCTYPE is not allowed (entities are refused)", NULL});
    check_refused("external DTD refused", DATA "external_dtd.xlf",
                  (const char *const[]){DATA "external_dtd.xlf:2: a DOCTYPE is not allowed", NULL});
    check_refused("inline element refused", DATA "inline.xlf",
                  (const char *const[]){DATA "inline.xlf:7: unit letter.thanks: inline element <ph>", NULL});
    check_refused("XLIFF 1.2 refused", DATA "version.xlf",
                  (const char *const[]){DATA "version.xlf:2: not an XLIFF 2.0 catalogue", NULL});
    check_refused("version 1.2 refused", DATA "version2.xlf",
                  (const char *const[]){DATA "version2.xlf:2: XLIFF version '1.2' is not supported", NULL});
    check_refused("many problems counted", DATA "many.xlf",
                  (const char *const[]){DATA "many.xlf:5: unit u01: target lacks argument {name}", "more", NULL});
    check_refused("missing file", DATA "nonexistent.xlf",
                  (const char *const[]){DATA "nonexistent.xlf: cannot open", NULL});

    /* Entity expansion: refused at once, without expanding anything (a generous time bound shows that). */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check_refused("billion laughs refused", DATA "laughs.xlf",
                  (const char *const[]){DATA "laughs.xlf:2: a DOCTYPE is not allowed (entities are refused)", NULL});
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK("billion laughs refused quickly", ms < 1000, "%.0f ms", ms);

    /* The message for many problems is whole lines and a count, within vip_error's buffer. */
    vip_error err = {0};
    vip_catalog *c = vip_catalog_load(DATA "many.xlf", &err);
    size_t lines = 1;
    for (const char *p = err.message; *p; p++)
        lines += *p == '\n';
    const char *last = strrchr(err.message, '\n');
    int more = 0;
    CHECK("many problems: listed and counted", !c && last && sscanf(last, "\nand %d more", &more) == 1 &&
                                                   (size_t)more + lines - 1 == 25,
          "%zu lines, %d more: %s", lines, more, err.message);
    vip_catalog_destroy(c);
}

static void test_xml(void)
{
    vip_error err = {0};
    const char ok[] = "<?xml version=\"1.0\"?>\n<a x=\"1\">t &amp; <![CDATA[<c>]]></a>\n";
    xmlDocPtr doc = vip_xml_read_memory(ok, sizeof ok - 1, "ok.xml", &err);
    CHECK("xml memory reads", doc != NULL, "%s", err.message);
    if (doc) {
        xmlChar *text = xmlNodeGetContent(xmlDocGetRootElement(doc));
        CHECK("xml text unescaped, CDATA merged", text && strcmp((const char *)text, "t & <c>") == 0, "got %s",
              text ? (const char *)text : "(null)");
        xmlFree(text);
        xmlFreeDoc(doc);
    }
    const char undef[] = "<a>\n<b>&nope;</b>\n</a>";
    doc = vip_xml_read_memory(undef, sizeof undef - 1, "undef.xml", &err);
    CHECK("xml undefined entity refused with line", !doc && strstr(err.message, "undef.xml:2: ") &&
                                                        strstr(err.message, "nope"),
          "%s", err.message);
    xmlFreeDoc(doc);
    const char dtd[] = "<?xml version=\"1.0\"?>\n\n<!DOCTYPE a [<!ENTITY e SYSTEM \"http://127.0.0.1:9/x\">]>\n<a>&e;</a>";
    doc = vip_xml_read_memory(dtd, sizeof dtd - 1, "dtd.xml", &err);
    CHECK("xml DOCTYPE in memory refused", !doc && strstr(err.message, "dtd.xml:3: a DOCTYPE is not allowed"), "%s",
          err.message);
    xmlFreeDoc(doc);
    const char bad[] = "<a><b></a>";
    doc = vip_xml_read_memory(bad, sizeof bad - 1, "bad.xml", &err);
    CHECK("xml mismatched tag", !doc && strstr(err.message, "bad.xml:1: ") && err.code == VIP_ERR_INPUT, "%s",
          err.message);
    xmlFreeDoc(doc);
    doc = vip_xml_read_memory("", 0, "empty.xml", &err);
    CHECK("xml empty refused", !doc && strstr(err.message, "empty.xml"), "%s", err.message);
    xmlFreeDoc(doc);
    /* The parser context's handler collected those errors: nothing went to libxml2's global handler. */
}

int main(void)
{
    test_polish();
    test_other_languages();
    test_refused();
    test_xml();
    xmlCleanupParser(); /* so valgrind sees libxml2's and ICU's caches freed */
    u_cleanup();
    return CHECK_DONE();
}
