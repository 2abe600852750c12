/* vip_message against real ICU: plurals by CLDR category per language, dates in the Gregorian calendar and
 * UTC whatever the process's time zone, the language's digits, select, values never read as patterns, and
 * the errors for missing and numbered arguments. */
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/uclean.h>
#include <unicode/ustring.h>

#include "args.h"
#include "check.h"
#include "message.h"

/* Compiles and formats in one go; returns malloc'd text or NULL, leaving the error in *err. */
static char *fmt(const char *pattern, const char *lang, const vip_arg *args, size_t n, vip_error *err)
{
    vip_message *m = vip_message_compile(pattern, lang, err);
    if (!m)
        return NULL;
    char *s = vip_message_format(m, args, n, err);
    vip_message_destroy(m);
    return s;
}

/* Formats pattern with one number n and compares with want. */
static void check_number(const char *label, const char *pattern, const char *lang, double n, const char *want)
{
    vip_error err = {0};
    vip_arg a = num("n", n);
    char *got = fmt(pattern, lang, &a, 1, &err);
    char name[128];
    snprintf(name, sizeof name, "%s %g", label, n);
    CHECK(name, got && strcmp(got, want) == 0, "got '%s' want '%s' (%s)", got ? got : "(null)", want,
          got ? "" : err.message);
    free(got);
}

static void test_plurals(void)
{
    const char *en = "{n, plural, one {# day} other {# days}}";
    check_number("plural en", en, "en", 1, "1 day");
    check_number("plural en", en, "en", 5, "5 days");
    check_number("plural en", en, "en", 0, "0 days");

    /* Polish: one 1; few 2-4, 22-24...; many 0, 5-21, 25...; other for fractions. */
    const char *pl_cat = "{n, plural, one {one} few {few} many {many} other {other}}";
    check_number("plural pl category", pl_cat, "pl", 1, "one");
    check_number("plural pl category", pl_cat, "pl", 2, "few");
    check_number("plural pl category", pl_cat, "pl", 5, "many");
    check_number("plural pl category", pl_cat, "pl", 22, "few");
    check_number("plural pl category", pl_cat, "pl", 25, "many");
    check_number("plural pl category", pl_cat, "pl", 1.5, "other");
    const char *pl = "{n, plural, one {# dzień} few {# dni} many {# dni} other {# dnia}}";
    check_number("plural pl days", pl, "pl", 1, "1 dzień");
    check_number("plural pl days", pl, "pl", 2, "2 dni");
    check_number("plural pl days", pl, "pl", 5, "5 dni");
    check_number("plural pl days", pl, "pl", 22, "22 dni");
    check_number("plural pl days", pl, "pl", 25, "25 dni");

    /* Arabic: zero, one, two, few 3-10, many 11-99, other 100-102. */
    const char *ar = "{n, plural, zero {zero} one {one} two {two} few {few} many {many} other {other}}";
    check_number("plural ar category", ar, "ar", 0, "zero");
    check_number("plural ar category", ar, "ar", 1, "one");
    check_number("plural ar category", ar, "ar", 2, "two");
    check_number("plural ar category", ar, "ar", 3, "few");
    check_number("plural ar category", ar, "ar", 11, "many");
    check_number("plural ar category", ar, "ar", 100, "other");

    /* Romanian: one 1; few 0, 2-19, 102-119; other 20-101. */
    const char *ro = "{n, plural, one {# zi} few {# zile} other {# de zile}}";
    check_number("plural ro", ro, "ro", 1, "1 zi");
    check_number("plural ro", ro, "ro", 2, "2 zile");
    check_number("plural ro", ro, "ro", 20, "20 de zile");

    /* Chinese has only "other". */
    const char *zh = "{n, plural, one {one} other {#天}}";
    check_number("plural zh", zh, "zh-Hans", 1, "1天");
    check_number("plural zh", zh, "zh-Hans", 3, "3天");

    /* Farsi counts in Persian digits. */
    check_number("plural fa digits", "{n, plural, one {# روز} other {# روز}}", "fa", 12, "12 روز");
}

static void test_dates(void)
{
    static const struct {
        const char *lang, *want; /* want NULL: only shown */
    } cases[] = {
        {"en", "5 March 2024"}, {"pl", "5 marca 2024"}, {"ro", "5 martie 2024"}, {"ar", NULL},
        {"fa", NULL},           {"ur", NULL},           {"pa", NULL},          {"zh-Hans", "2024年3月5日"},
    };
    vip_arg d = date("d", 2024, 3, 5);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vip_error err = {0};
        char *got = fmt("{d, date, long}", cases[i].lang, &d, 1, &err);
        char name[64];
        snprintf(name, sizeof name, "date long %s", cases[i].lang);
        if (cases[i].want)
            CHECK(name, got && strcmp(got, cases[i].want) == 0, "got '%s' want '%s' %s", got ? got : "(null)",
                  cases[i].want, err.message);
        else
            CHECK(name, got != NULL, "%s", err.message);
        char *med = fmt("{d, date, medium}", cases[i].lang, &d, 1, &err);
        char *sht = fmt("{d, date, short}", cases[i].lang, &d, 1, &err);
        printf("INFO date %s 2024-03-05: long '%s', medium '%s', short '%s'\n", cases[i].lang, got ? got : "?",
               med ? med : "?", sht ? sht : "?");
        free(got);
        free(med);
        free(sht);
    }
    /* Farsi: Gregorian month name and Persian digits, not the Persian calendar (which would say 1402). */
    vip_error err = {0};
    char *fa = fmt("{d, date, long}", "fa", &d, 1, &err);
    CHECK("date fa European digits", fa && strstr(fa, "2024") && strstr(fa, "5") && !strstr(fa, "۲"), "got '%s'", fa ? fa : err.message);
    CHECK("date fa Gregorian month", fa && strstr(fa, "مارس") && !strstr(fa, "۱۴۰۲"), "got '%s'",
          fa ? fa : err.message);
    free(fa);
    char *ar = fmt("{d, date, long}", "ar", &d, 1, &err);
    CHECK("date ar Gregorian", ar && strstr(ar, "مارس"), "got '%s'", ar ? ar : err.message);
    free(ar);

    /* A leap day and the first and last days ICU is asked about. */
    vip_arg leap = date("d", 2024, 2, 29);
    char *s = fmt("{d, date, long}", "en", &leap, 1, &err);
    CHECK("date leap day", s && strcmp(s, "29 February 2024") == 0, "got '%s'", s ? s : err.message);
    free(s);
    vip_arg bad = date("d", 2023, 2, 29);
    s = fmt("{d, date, long}", "en", &bad, 1, &err);
    CHECK("date invalid refused", !s && strstr(err.message, "{d}") && strstr(err.message, "2023-02-29"), "got '%s' / %s",
          s ? s : "", err.message);
    free(s);
}

/* Dates are passed as 12:00 UTC and rendered in UTC: the day never shifts, whatever ICU's default zone, and a
 * time shown is 12:00. Zones as far from UTC as there are (+14, -12) would move noon UTC to another day. */
static void test_time_zones(void)
{
    vip_error err = {0};
    /* Compiled before the default zone changes, to show compiled messages do not depend on it either. */
    vip_message *early = vip_message_compile("{d, date, long}", "en", &err);
    static const char *zones[] = {"America/Los_Angeles", "Asia/Tokyo", "Pacific/Kiritimati", "Etc/GMT+12",
                                  "Pacific/Pago_Pago"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        UErrorCode st = U_ZERO_ERROR;
        UChar zone[64];
        u_uastrcpy(zone, zones[z]);
        ucal_setDefaultTimeZone(zone, &st);
        char name[128];
        static const struct {
            int y, m, d;
            const char *want;
        } days[] = {{2024, 3, 5, "5 March 2024"}, {2024, 12, 31, "31 December 2024"}, {2025, 1, 1, "1 January 2025"}};
        for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
            vip_arg d = date("d", days[i].y, days[i].m, days[i].d);
            char *s = fmt("{d, date, long}", "en", &d, 1, &err);
            snprintf(name, sizeof name, "date in TZ %s %s", zones[z], days[i].want);
            CHECK(name, s && strcmp(s, days[i].want) == 0, "got '%s'", s ? s : err.message);
            free(s);
            /* Nested in a plural and a select, where MessageFormat::setFormat does not reach. */
            vip_arg two[] = {num("n", 2), d, str("k", "yes")};
            s = fmt("{k, select, yes {{n, plural, one {x} other {on {d, date, long}}}} other {no}}", "en", two, 3, &err);
            char want[64];
            snprintf(want, sizeof want, "on %s", days[i].want);
            snprintf(name, sizeof name, "nested date in TZ %s %s", zones[z], days[i].want);
            CHECK(name, s && strcmp(s, want) == 0, "got '%s'", s ? s : err.message);
            free(s);
        }
        vip_arg d = date("d", 2024, 3, 5);
        char *s = fmt("{d, time, ::HHmm}", "en", &d, 1, &err);
        snprintf(name, sizeof name, "time in TZ %s is 12:00 UTC", zones[z]);
        CHECK(name, s && strcmp(s, "12:00") == 0, "got '%s'", s ? s : err.message);
        free(s);
        s = early ? vip_message_format(early, &d, 1, &err) : NULL;
        snprintf(name, sizeof name, "date compiled earlier, TZ %s", zones[z]);
        CHECK(name, s && strcmp(s, "5 March 2024") == 0, "got '%s'", s ? s : err.message);
        free(s);
        /* Farsi and Arabic through the same zones: still Gregorian, still the 5th. */
        s = fmt("{d, date, ::yMd}", "fa", &d, 1, &err);
        snprintf(name, sizeof name, "date fa in TZ %s", zones[z]);
        CHECK(name, s && strcmp(s, "2024/3/5") == 0, "got '%s'", s ? s : err.message);
        free(s);
    }
    UErrorCode st = U_ZERO_ERROR;
    UChar utc[8];
    u_uastrcpy(utc, "UTC");
    ucal_setDefaultTimeZone(utc, &st);
    vip_message_destroy(early);
}

static void test_digits(void)
{
    static const struct {
        const char *lang, *want;
    } cases[] = {{"en", "12"}, {"pl", "12"}, {"ro", "12"}, {"ar", "12"}, {"fa", "12"}, {"ur", "12"}, {"pa", "12"},
                 {"zh-Hans", "12"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vip_error err = {0};
        char *s = vip_message_format_number(12, cases[i].lang, &err);
        char *big = vip_message_format_number(1234567, cases[i].lang, &err);
        char name[64];
        snprintf(name, sizeof name, "page number digits %s", cases[i].lang);
        CHECK(name, s && strcmp(s, cases[i].want) == 0, "got '%s' want '%s'", s ? s : err.message, cases[i].want);
        vip_arg pages[] = {num("page", 3), num("pages", 12)};
        char *line = fmt("{page, number} / {pages, number}", cases[i].lang, pages, 2, &err);
        printf("INFO digits %s: 12 -> '%s', 1234567 -> '%s', page 3 of 12 -> '%s'\n", cases[i].lang, s ? s : "?",
               big ? big : "?", line ? line : "?");
        free(s);
        free(big);
        free(line);
    }
    vip_error err = {0};
    char *s = vip_message_format_number(7, "de", &err);
    CHECK("page number unknown language", !s && strstr(err.message, "'de'") && strstr(err.message, "zh-Hans"), "%s",
          err.message);
    free(s);
}

static void test_select_and_values(void)
{
    const char *p = "{enhanced, select, yes {You are entitled to enhanced support.} other {You are entitled to support.}}";
    vip_error err = {0};
    vip_arg yes = str("enhanced", "yes"), no = str("enhanced", "no");
    char *s = fmt(p, "en", &yes, 1, &err);
    CHECK("select yes", s && strcmp(s, "You are entitled to enhanced support.") == 0, "got '%s'", s ? s : err.message);
    free(s);
    s = fmt(p, "en", &no, 1, &err);
    CHECK("select other", s && strcmp(s, "You are entitled to support.") == 0, "got '%s'", s ? s : err.message);
    free(s);

    /* A value is never a pattern: braces, apostrophes and # print as given. */
    vip_arg name = str("victim_name", "Seán O'Brien {0}");
    s = fmt("Dear {victim_name},", "en", &name, 1, &err);
    CHECK("value printed as is", s && strcmp(s, "Dear Seán O'Brien {0},") == 0, "got '%s'", s ? s : err.message);
    free(s);
    vip_arg odd = str("victim_name", "'{victim_name}' # {x, plural, other {y}}");
    s = fmt("Dear {victim_name},", "pl", &odd, 1, &err);
    CHECK("value with pattern syntax printed as is", s && strcmp(s, "Dear '{victim_name}' # {x, plural, other {y}},") == 0,
          "got '%s'", s ? s : err.message);
    free(s);
    /* Apostrophes in a pattern itself: a lone one is literal (ICU's DOUBLE_OPTIONAL mode). */
    s = fmt("O'Brien's case, {victim_name}", "en", &name, 1, &err);
    CHECK("apostrophe in pattern", s && strcmp(s, "O'Brien's case, Seán O'Brien {0}") == 0, "got '%s'", s ? s : err.message);
    free(s);
    /* Extra arguments the pattern does not use are allowed (a letter passes all its fields). */
    vip_arg several[] = {str("unused", "x"), name, num("n", 3)};
    s = fmt("Dear {victim_name},", "en", several, 3, &err);
    CHECK("extra arguments ignored", s && strcmp(s, "Dear Seán O'Brien {0},") == 0, "got '%s'", s ? s : err.message);
    free(s);
    vip_arg bad_utf8 = str("victim_name", "Se\xe1n");
    s = fmt("Dear {victim_name},", "en", &bad_utf8, 1, &err);
    CHECK("invalid UTF-8 value refused", !s && strstr(err.message, "{victim_name}") && strstr(err.message, "UTF-8"),
          "got '%s' / %s", s ? s : "", err.message);
    free(s);
}

static void test_errors(void)
{
    vip_error err = {0};
    vip_arg some = str("officer", "PC Jones");
    char *s = fmt("Dear {victim_name}, your officer is {officer}.", "en", &some, 1, &err);
    CHECK("missing argument named", !s && strstr(err.message, "{victim_name}") && !strstr(err.message, "{officer}"),
          "got '%s' / %s", s ? s : "", err.message);
    free(s);
    s = fmt("{a} {b, plural, other {{c}}}", "en", NULL, 0, &err);
    CHECK("missing arguments all named",
          !s && strstr(err.message, "{a}") && strstr(err.message, "{b}") && strstr(err.message, "{c}"), "%s",
          err.message);
    free(s);

    vip_message *m = vip_message_compile("Dear {0},", "en", &err);
    CHECK("numbered argument refused", !m && strstr(err.message, "uses numbered argument {0}; use names"), "%s",
          err.message);
    vip_message_destroy(m);
    char **names = NULL;
    size_t count = 0;
    int rc = vip_message_arg_names("{a} {1}", &names, &count, &err);
    CHECK("arg_names refuses numbered", rc != 0 && strstr(err.message, "{1}") && !names, "%s", err.message);

    m = vip_message_compile("{n, plural, one {# day} other {# days}", "en", &err);
    CHECK("syntax error reported", !m && err.code == VIP_ERR_INPUT && strstr(err.message, "U_"), "%s", err.message);
    printf("INFO syntax error message: %s\n", err.message);
    vip_message_destroy(m);
    m = vip_message_compile("{n, plural, one {# day}}", "en", &err);
    CHECK("plural without other refused", !m && strstr(err.message, "other"), "%s", err.message);
    vip_message_destroy(m);
    m = vip_message_compile("Hello", "xx", &err);
    CHECK("unknown language refused", !m && strstr(err.message, "'xx'") && strstr(err.message, "pl"), "%s", err.message);
    vip_message_destroy(m);
    m = vip_message_compile("{n, plural, other {#}} {n, select, other {x}}", "en", &err);
    CHECK("argument as number and string refused", !m && strstr(err.message, "{n}"), "%s", err.message);
    vip_message_destroy(m);

    vip_arg wrong = str("n", "three");
    s = fmt("{n, plural, one {# day} other {# days}}", "en", &wrong, 1, &err);
    CHECK("string for plural refused", !s && strstr(err.message, "{n}") && strstr(err.message, "number"), "%s",
          err.message);
    free(s);
    vip_arg wrong2 = num("d", 3);
    s = fmt("{d, date, long}", "en", &wrong2, 1, &err);
    CHECK("number for date refused", !s && strstr(err.message, "{d}") && strstr(err.message, "date"), "%s", err.message);
    free(s);

    rc = vip_message_arg_names("{b} {a} {n, plural, one {{a} #} other {{c}}} {b, select, other {{z}}}", &names,
                               &count, &err);
    CHECK("arg_names sorted and distinct",
          rc == 0 && count == 5 && !strcmp(names[0], "a") && !strcmp(names[1], "b") && !strcmp(names[2], "c") &&
              !strcmp(names[3], "n") && !strcmp(names[4], "z"),
          "rc %d count %zu (%s)", rc, count, err.message);
    vip_message_free_names(names, count);
    rc = vip_message_arg_names("No arguments, O'Brien.", &names, &count, &err);
    CHECK("arg_names none", rc == 0 && count == 0, "rc %d count %zu", rc, count);
    vip_message_free_names(names, count);
}

int main(void)
{
    test_plurals();
    test_dates();
    test_time_zones();
    test_digits();
    test_select_and_values();
    test_errors();
    u_cleanup(); /* so valgrind sees ICU's caches freed */
    return CHECK_DONE();
}
