/* vipgen command line: parses arguments and runs the pipeline stages; all work happens in the modules. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "case.h"
#include "config.h"
#include "doc.h"
#include "fonts.h"
#include "lang.h"
#include "layout.h"
#include "outfile.h"
#include "paths.h"
#include "pdf.h"
#include "preview.h"
#include "produce.h"
#include "serve.h"
#include "text.h"
#include "version.h"

/* Exit codes (documented in README.md). */
enum {
    EXIT_OK = 0,
    EXIT_INPUT = 1,    /* bad input: file content, language tag, UTF-8 */
    EXIT_USAGE = 2,    /* bad command line */
    EXIT_FONT = 3,     /* a font is missing */
    EXIT_IO = 4,       /* a file could not be read or written */
    EXIT_INTERNAL = 5, /* out of memory or a library failure */
    EXIT_ROWS = 6,     /* letters: the batch ran, but some rows produced no letter (see the report) */
    EXIT_DELIVERY = 7  /* letters: every letter was made, but some could not be delivered (failed, uncertain) */
};

static int exit_code(int vip_code)
{
    switch (vip_code) {
    case VIP_OK: return EXIT_OK;
    case VIP_ERR_INPUT: return EXIT_INPUT;
    case VIP_ERR_FONT: return EXIT_FONT;
    case VIP_ERR_IO: return EXIT_IO;
    default: return EXIT_INTERNAL;
    }
}

static const char usage[] =
    "usage: vipgen COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  letter CASES.csv -o DIR [--ref CRIME_REF]   one acknowledgement letter per case row, in its language\n"
    "  booklet --lang TAG -o FILE.pdf             the victim information booklet in one language\n"
    "  render FILE --lang TAG -o OUT.pdf          typeset a plain-text document into an A4 PDF\n"
    "  check CATALOG.xlf... [--format json]      check translation catalogues for translators\n"
    "  preview --lang TAG -o DIR                  every unit of a catalogue in place, marked (HTML, PNG, PDF)\n"
    "  serve --lang TAG [--port N]                the preview in a browser, made again when the catalogue changes\n"
    "  languages                                  list the supported language tags\n"
    "\n"
    "options (every command):\n"
    "  --config FILE      read FILE after /etc/vipgen/vipgen.conf and ~/.config/vipgen/vipgen.conf\n"
    "  --templates DIR, --translations DIR, --fonts MANIFEST\n"
    "                     where the data is (default: $VIPGEN_TEMPLATES, $VIPGEN_TRANSLATIONS, $VIPGEN_FONTS,\n"
    "                     [paths] in vipgen.conf, the installed share/vipgen, or the source tree)\n"
    "  -h, --help         this help; 'vipgen COMMAND --help' for a command's\n"
    "  --version          the version, and where the data is looked for\n"
    "See vipgen(1) for the configuration file and the case data's columns.\n"
    "\n"
    "exit codes: 0 done, 1 bad input, 2 bad command line, 3 missing font, 4 file error, 5 internal error,\n"
    "            6 some letters failed (the others were written; see DIR/report.csv),\n"
    "            7 some letters could not be delivered (failed or uncertain; see DIR/report.csv)\n";

static const char letter_usage[] =
    "usage: vipgen letter CASES.csv -o DIR [--ref CRIME_REF] [--jobs N] [--config FILE] [--quiet]\n"
    "                     [--deliver | --smtp URL | --eml DIR] [--journal FILE] [--resend CRIME_REF]...\n"
    "       vipgen letter CASES.csv --check [--config FILE]\n"
    "                     [--templates DIR] [--translations DIR] [--fonts MANIFEST]\n"
    "\n"
    "Writes one acknowledgement letter per valid row of CASES.csv into DIR, named from the crime reference and\n"
    "language (NC/2024/012345 in Urdu: NC-2024-012345_ur.pdf). Rows that fail are reported on stderr with their\n"
    "row, line and column, and every row is listed in DIR/report.csv (row, line, crime_ref, language, status,\n"
    "file, pages, column, message, channel, delivery, message_id); the other rows are still produced.\n"
    "  --ref CRIME_REF   produce only the row with this crime reference\n"
    "  --jobs N          worker processes (default: one per CPU)\n"
    "  --check           check every row, report every problem and the Victims' Code flags; produce nothing\n"
    "  --quiet           no progress on a terminal and no summary\n"
    "Delivery (the letter to its victim; a journal, DIR/journal.sqlite, makes reruns send nothing twice):\n"
    "  --deliver         email (to the configured [mail] smtp_url) or post (DIR/to-post.pdf) each letter\n"
    "  --smtp URL        email through this server (smtp://host:port with STARTTLS, or smtps://)\n"
    "  --eml DIR         write each email to DIR as a .eml file (a mail server's pickup folder)\n"
    "  --journal FILE    the journal (default DIR/journal.sqlite)\n"
    "  --resend REF      send the letter of crime reference REF again (sent, uncertain or changed since)\n"
    "Letters about a sensitive offence are sent or posted only with safe_to_contact=yes. Every delivery is\n"
    "appended to DIR/records.csv for the records system. SMTP credentials: the configuration's credentials_file,\n"
    "or $VIPGEN_SMTP_USER and $VIPGEN_SMTP_PASSWORD.\n"
    "Exit code 6 when any row failed, 7 when letters could not be delivered; see 'vipgen --help' for the others.\n";

static const char booklet_usage[] =
    "usage: vipgen booklet --lang TAG -o FILE.pdf [--ref CRIME_REF] [--officer NAME] [--phone NUMBER] [--email ADDR]\n"
    "                      [--print a4|a5-booklet] [--large-print]\n"
    "                      [--config FILE] [--templates DIR] [--translations DIR] [--fonts MANIFEST]\n"
    "\n"
    "Writes the victim information booklet in language TAG (en pl ro ar fa ur pa zh-Hans) to FILE.pdf, with an even\n"
    "number of pages for two-sided printing. The cover's \"your case\" panel shows the crime reference, the officer\n"
    "and how to reach them when given (checked as in case data); without them, its boxes are left to write in.\n"
    "  --print a5-booklet  A5 pages imposed two to a landscape A4 sheet in saddle-stitch order, padded to a multiple\n"
    "                      of four: print duplex, flip on short edge, fold and staple\n"
    "  --large-print       16 pt type (RNIB's clear-print guidance), in any language\n";

static const char render_usage[] =
    "usage: vipgen render FILE --lang TAG -o OUT.pdf [--config FILE] [--fonts MANIFEST]\n"
    "\n"
    "Typesets FILE (UTF-8 plain text) in language TAG into OUT.pdf.\n"
    "  '# ', '## ', '### ' start headings; blank lines separate paragraphs;\n"
    "  a paragraph may start with {center}, {end}, {justify} or {start} to set its alignment;\n"
    "  [[tag:text]] marks text in another language (e.g. [[en:Jane Smith]] in an Urdu paragraph).\n"
    "The PDF is written to a temporary file and renamed: OUT.pdf is never left half-written.\n";

static const char check_usage[] =
    "usage: vipgen check CATALOG.xlf... [--format text|json] [--english en.xlf] [--glossary FILE] [--cases FILE]\n"
    "                    [--no-widths] [--templates DIR] [--fonts FILE] [--config FILE]\n"
    "\n"
    "Checks translation catalogues and lists every problem with its file, line, unit id and what to do:\n"
    "XLIFF structure, srcLang/trgLang, units against the English catalogue (missing, extra, duplicate), ICU\n"
    "syntax and arguments, plural and select cases against the language's plural rules, untranslated and stale\n"
    "units, length limits (slr:sizeRestriction), script and orthography, typography, and the glossary's terms.\n"
    "Each unit is also set by the layout engine where it is printed, in every letter variant and the booklet:\n"
    "a unit wider than its table cell, title line, box or column is reported in millimetres (kind width), and a\n"
    "document longer than its page limit at full type size (kind pages).\n"
    "  --format json     one JSON document for tools (errors, warnings, problems: file, line, unit, severity,\n"
    "                    kind, message)\n"
    "  --english FILE    the English catalogue (default: en.xlf beside each catalogue)\n"
    "  --glossary FILE   the glossary (default: glossary.tsv beside each catalogue, if there is one)\n"
    "  --cases FILE      case data whose first row the letters are made from (default: examples/cases.csv)\n"
    "  --no-widths       do not lay the documents out (no width and page checks)\n"
    "Exit code 0 when there are no errors (warnings only), 1 when there are errors; see translations/README.md.\n";

static const char preview_usage[] =
    "usage: vipgen preview --lang TAG -o DIR [--catalog FILE] [--baseline FILE] [--cases FILE]\n"
    "                      [--config FILE] [--templates DIR] [--translations DIR] [--fonts MANIFEST]\n"
    "\n"
    "Writes a translator's preview of the catalogue of language TAG into DIR: the letter in every variant needed\n"
    "to print every unit (each offence, needs assessment, referral, enhanced rights and reason, with and without\n"
    "a place and an officer's email; made from the first row of examples/cases.csv) and the booklet, as PDFs and\n"
    "PNG pages with each unit marked and its id in the margin, and DIR/index.html listing every unit, its status,\n"
    "its problems (as vipgen check finds them) and links to where it is printed; units printed nowhere are listed\n"
    "as unused. Colours: orange English fallback, blue changed since the baseline, red a check problem, purple\n"
    "too long for its place.\n"
    "  --catalog FILE    the catalogue (default: TAG.xlf in the translations folder)\n"
    "  --baseline FILE   the catalogue as it was; units that differ from it are marked as changed\n"
    "  --cases FILE      case data whose first row the letters are made from (default: examples/cases.csv)\n"
    "  --scale N         pixels per point of the page pictures (default 1.5)\n";

static const char serve_usage[] =
    "usage: vipgen serve --lang TAG [--catalog FILE] [--baseline FILE] [--port N] [--bind ADDR] [--dir DIR]\n"
    "                    [--config FILE] [--templates DIR] [--translations DIR] [--fonts MANIFEST]\n"
    "\n"
    "Serves the preview (see vipgen preview --help) on http://127.0.0.1:PORT/ and makes it again within a second\n"
    "whenever the catalogue file is saved; open pages reload themselves. Stops on Ctrl-C. At /station, an officer\n"
    "picks a victim's language, types the case details and gets the booklet to print (A4, A5 booklet, large print).\n"
    "  --port N          the port (default 8470; 0: any free port, printed on start)\n"
    "  --bind ADDR       the address to listen on (default 127.0.0.1: this computer only)\n"
    "  --dir DIR         where the rendered pages are kept (default: a new folder in $TMPDIR, removed on exit)\n";

static int fail(const vip_error *err)
{
    fprintf(stderr, "vipgen: %s\n", err->message);
    return exit_code(err->code);
}

/* What every command shares: the configuration and where the data is. */
typedef struct setup {
    const char *config_path;     /* --config */
    vip_paths_given given;       /* --templates, --translations, --fonts */
    vip_config *config;
    vip_paths paths;
} setup;

/* Options every command takes; returns the number of argv entries used (0: not one of them). */
static int setup_option(int argc, char **argv, int i, setup *s)
{
    if (i + 1 >= argc)
        return 0;
    if (!strcmp(argv[i], "--templates"))
        s->given.templates = argv[i + 1];
    else if (!strcmp(argv[i], "--translations"))
        s->given.translations = argv[i + 1];
    else if (!strcmp(argv[i], "--fonts"))
        s->given.fonts = argv[i + 1];
    else if (!strcmp(argv[i], "--config"))
        s->config_path = argv[i + 1];
    else
        return 0;
    return 2;
}

/* Reads the configuration (refused before anything is produced when it is wrong) and finds the data; on failure
 * nothing is left to free. */
static int setup_load(setup *s)
{
    vip_error err = {0};
    if (!(s->config = vip_config_load(s->config_path, &err)))
        return fail(&err);
    const vip_settings *cfg = vip_config_settings(s->config);
    vip_paths_given from_config = {cfg->templates, cfg->translations, cfg->fonts};
    if (vip_paths_find(&s->given, &from_config, &s->paths, &err)) {
        vip_config_destroy(s->config);
        s->config = NULL;
        return fail(&err);
    }
    vip_outfile_set_mode((mode_t)cfg->file_mode);
    return EXIT_OK;
}

static vip_produce_paths produce_paths(const setup *s)
{
    vip_produce_paths p = {s->paths.fonts, s->paths.templates, s->paths.translations, vip_config_settings(s->config)};
    return p;
}

static int cmd_render(int argc, char **argv)
{
    const char *input = NULL, *lang_tag = NULL, *output = NULL;
    setup s = {0};
    for (int i = 0; i < argc; i++) {
        int used = setup_option(argc, argv, i, &s);
        if (used) {
            i += used - 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(render_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--lang") && i + 1 < argc) {
            lang_tag = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            output = argv[++i];
        } else if (argv[i][0] == '-' || input) {
            fprintf(stderr, "vipgen render: unexpected argument '%s'\n%s", argv[i], render_usage);
            return EXIT_USAGE;
        } else {
            input = argv[i];
        }
    }
    if (!input || !lang_tag || !output) {
        fprintf(stderr, "vipgen render: FILE, --lang and -o are required\n%s", render_usage);
        return EXIT_USAGE;
    }
    vip_error err = {0};
    const vip_lang *lang = vip_lang_find(lang_tag, &err);
    if (!lang)
        return fail(&err);
    int rc = setup_load(&s);
    if (rc)
        return rc;
    vip_fontset *fonts = NULL;
    vip_text *text = NULL;
    vip_doc *doc = NULL;
    vip_page_doc *pages = NULL;
    vip_layout_options options;
    vip_layout_default_options(&options);
    if (!(fonts = vip_fontset_load(s.paths.fonts, &err)) || !(text = vip_text_create(fonts, &err)) ||
        !(doc = vip_doc_read_text(input, lang->tag, &err)) ||
        !(pages = vip_layout_document(text, doc, &options, &err)) || vip_pdf_write(pages, output, &err)) {
        rc = fail(&err);
    } else {
        rc = EXIT_OK;
    }
    vip_page_doc_destroy(pages);
    vip_doc_destroy(doc);
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
    vip_config_destroy(s.config);
    return rc;
}

static int cmd_letter(int argc, char **argv)
{
    setup s = {0};
    const char *cases = NULL, *out = NULL;
    const char *resend[64];
    vip_letters_options opt = {.resend = resend};
    for (int i = 0; i < argc; i++) {
        int used = setup_option(argc, argv, i, &s);
        if (used) {
            i += used - 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(letter_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--ref") && i + 1 < argc) {
            opt.only_ref = argv[++i];
        } else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 64) {
                fprintf(stderr, "vipgen letter: --jobs takes a number from 1 to 64\n");
                return EXIT_USAGE;
            }
            opt.jobs = (int)n;
        } else if (!strcmp(argv[i], "--check")) {
            opt.check_only = 1;
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            opt.quiet = 1;
        } else if (!strcmp(argv[i], "--deliver")) {
            opt.deliver = 1;
        } else if (!strcmp(argv[i], "--eml") && i + 1 < argc) {
            opt.eml_dir = argv[++i];
            opt.deliver = 1;
        } else if (!strcmp(argv[i], "--smtp") && i + 1 < argc) {
            opt.smtp_url = argv[++i];
            opt.deliver = 1;
        } else if (!strcmp(argv[i], "--journal") && i + 1 < argc) {
            opt.journal_path = argv[++i];
        } else if (!strcmp(argv[i], "--resend") && i + 1 < argc) {
            if (opt.resend_count == sizeof resend / sizeof resend[0]) {
                fprintf(stderr, "vipgen letter: --resend at most %zu times\n", sizeof resend / sizeof resend[0]);
                return EXIT_USAGE;
            }
            resend[opt.resend_count++] = argv[++i];
        } else if (argv[i][0] == '-' || cases) {
            fprintf(stderr, "vipgen letter: unexpected argument '%s'\n%s", argv[i], letter_usage);
            return EXIT_USAGE;
        } else {
            cases = argv[i];
        }
    }
    if (!cases || (!out && !opt.check_only)) {
        fprintf(stderr, "vipgen letter: CASES.csv and -o DIR are required\n%s", letter_usage);
        return EXIT_USAGE;
    }
    if (opt.eml_dir && opt.smtp_url) {
        fprintf(stderr, "vipgen letter: --eml and --smtp both given; choose one way out for the emails\n");
        return EXIT_USAGE;
    }
    if ((opt.journal_path || opt.resend_count) && !opt.deliver) {
        fprintf(stderr, "vipgen letter: --journal and --resend are for delivery: add --deliver, --smtp URL or "
                "--eml DIR\n");
        return EXIT_USAGE;
    }
    int rc = setup_load(&s);
    if (rc)
        return rc;
    const vip_settings *cfg = vip_config_settings(s.config);
    if (opt.deliver && !opt.eml_dir && !opt.smtp_url)
        opt.smtp_url = cfg->smtp_url; /* --deliver: the configured server, if any */
    vip_error err = {0};
    vip_letters_result result;
    vip_produce_paths paths = produce_paths(&s);
    rc = vip_produce_letters(&paths, cases, out ? out : ".", &opt, &result, &err);
    vip_config_destroy(s.config);
    if (rc)
        return fail(&err);
    if (opt.check_only)
        return result.failed ? EXIT_ROWS : EXIT_OK;
    fprintf(stderr, "vipgen: %zu letter%s written, %zu row%s failed", result.written, result.written == 1 ? "" : "s",
            result.failed, result.failed == 1 ? "" : "s");
    if (opt.deliver)
        fprintf(stderr, "; %zu sent, %zu queued, %zu posted, %zu for an officer, %zu not delivered, %zu uncertain",
                result.sent, result.queued, result.posted, result.withheld, result.undelivered, result.uncertain);
    fprintf(stderr, "; report: %s\n", result.report);
    return result.failed ? EXIT_ROWS : result.undelivered || result.uncertain ? EXIT_DELIVERY : EXIT_OK;
}

static int cmd_booklet(int argc, char **argv)
{
    setup s = {0};
    const char *lang = NULL, *out = NULL;
    vip_booklet_options bo = {0};
    /* The case panel's values, checked as the case data's columns are. */
    static const struct {
        const char *option;
        vip_case_field field;
    } values[] = {{"--ref", VIP_CASE_CRIME_REF}, {"--officer", VIP_CASE_OFFICER_NAME},
                  {"--phone", VIP_CASE_OFFICER_PHONE}, {"--email", VIP_CASE_OFFICER_EMAIL}};
    const char **slot[] = {&bo.crime_ref, &bo.officer, &bo.phone, &bo.email};
    for (int i = 0; i < argc; i++) {
        int used = setup_option(argc, argv, i, &s), value = -1;
        for (int k = 0; k < 4 && !used; k++)
            if (!strcmp(argv[i], values[k].option) && i + 1 < argc)
                value = k;
        if (used) {
            i += used - 1;
        } else if (value >= 0) {
            char why[600];
            if (vip_case_check_value(values[value].field, argv[i + 1], why, sizeof why)) {
                fprintf(stderr, "vipgen booklet: %s: the value %s\n", values[value].option, why);
                return EXIT_USAGE;
            }
            *slot[value] = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(booklet_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--lang") && i + 1 < argc) {
            lang = argv[++i];
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--print") && i + 1 < argc) {
            const char *how = argv[++i];
            if (!strcmp(how, "a5-booklet")) {
                bo.a5_booklet = 1;
            } else if (strcmp(how, "a4")) {
                fprintf(stderr, "vipgen booklet: --print: \"%s\" is not a way to print; use a4 (the default) or "
                        "a5-booklet\n", how);
                return EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--large-print")) {
            bo.large_print = 1;
        } else {
            fprintf(stderr, "vipgen booklet: unexpected argument '%s'\n%s", argv[i], booklet_usage);
            return EXIT_USAGE;
        }
    }
    if (!lang || !out) {
        fprintf(stderr, "vipgen booklet: --lang and -o are required\n%s", booklet_usage);
        return EXIT_USAGE;
    }
    int rc = setup_load(&s);
    if (rc)
        return rc;
    vip_error err = {0};
    vip_produce_paths paths = produce_paths(&s);
    rc = vip_produce_booklet(&paths, lang, out, &bo, &err);
    vip_config_destroy(s.config);
    return rc ? fail(&err) : EXIT_OK;
}

static int cmd_check(int argc, char **argv)
{
    vip_check_options opt = {0};
    setup s = {0};
    int json = 0, widths = 1;
    int first = -1, files = 0;
    for (int i = 0; i < argc; i++) {
        int used = setup_option(argc, argv, i, &s);
        if (!used && !strcmp(argv[i], "--cases") && i + 1 < argc) {
            opt.cases = argv[i + 1];
            used = 2;
        }
        if (used) {
            i += used - 1;
        } else if (!strcmp(argv[i], "--no-widths")) {
            widths = 0;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(check_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "json") && strcmp(f, "text")) {
                fprintf(stderr, "vipgen check: --format is text or json, not '%s'\n", f);
                return EXIT_USAGE;
            }
            json = !strcmp(f, "json");
        } else if (!strcmp(argv[i], "--english") && i + 1 < argc) {
            opt.english = argv[++i];
        } else if (!strcmp(argv[i], "--glossary") && i + 1 < argc) {
            opt.glossary = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "vipgen check: unexpected argument '%s'\n%s", argv[i], check_usage);
            return EXIT_USAGE;
        } else {
            if (first < 0)
                first = i;
            files++;
        }
    }
    if (!files) {
        fprintf(stderr, "vipgen check: name at least one catalogue\n%s", check_usage);
        return EXIT_USAGE;
    }
    vip_error err = {0};
    vip_fit *fit = NULL;
    if (widths) {
        int rc = setup_load(&s);
        if (rc)
            return rc;
        vip_produce_paths paths = produce_paths(&s);
        if (!(opt.fit = fit = vip_fit_create(&paths, &err))) {
            vip_config_destroy(s.config);
            return fail(&err);
        }
    }
    vip_check *check = vip_check_create(&opt, &err);
    int rc = check ? EXIT_OK : fail(&err);
    for (int i = first; i < argc && rc == EXIT_OK; i++) {
        if (argv[i][0] == '-') {
            /* the options, read above; those with a value skip it */
            i += strcmp(argv[i], "--no-widths") != 0;
            continue;
        }
        if (vip_check_file(check, argv[i], &err))
            rc = fail(&err);
    }
    if (rc == EXIT_OK) {
        int wr = json ? vip_check_write_json(check, stdout) : vip_check_write_text(check, stdout);
        if (fflush(stdout) || wr)
            rc = EXIT_IO;
        else
            rc = vip_check_errors(check) ? EXIT_INPUT : EXIT_OK;
    }
    vip_check_destroy(check);
    vip_fit_destroy(fit);
    vip_config_destroy(s.config);
    return rc;
}

/* Options shared by preview and serve; returns the number of argv entries used (0: not one of them). */
static int preview_option(int argc, char **argv, int i, vip_preview_options *opt)
{
    if (i + 1 >= argc)
        return 0;
    if (!strcmp(argv[i], "--lang"))
        opt->lang = argv[i + 1];
    else if (!strcmp(argv[i], "--catalog"))
        opt->catalog = argv[i + 1];
    else if (!strcmp(argv[i], "--baseline"))
        opt->baseline = argv[i + 1];
    else if (!strcmp(argv[i], "--cases"))
        opt->cases = argv[i + 1];
    else if (!strcmp(argv[i], "--scale")) {
        char *end;
        opt->scale = strtod(argv[i + 1], &end);
        if (*end || opt->scale < 0.25 || opt->scale > 6)
            opt->scale = -1; /* refused by the caller */
    } else
        return 0;
    return 2;
}

static int cmd_preview(int argc, char **argv)
{
    setup s = {0};
    vip_preview_options opt = {0};
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        int used = setup_option(argc, argv, i, &s);
        if (!used)
            used = preview_option(argc, argv, i, &opt);
        if (used) {
            i += used - 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(preview_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else {
            fprintf(stderr, "vipgen preview: unexpected argument '%s'\n%s", argv[i], preview_usage);
            return EXIT_USAGE;
        }
    }
    if (!opt.lang || !out || opt.scale < 0) {
        fprintf(stderr, "vipgen preview: %s\n%s", opt.scale < 0 ? "--scale takes a number from 0.25 to 6"
                                                                : "--lang and -o are required", preview_usage);
        return EXIT_USAGE;
    }
    int rc = setup_load(&s);
    if (rc)
        return rc;
    vip_error err = {0};
    vip_produce_paths paths = produce_paths(&s);
    vip_preview *preview = vip_preview_create(&paths, &err);
    vip_preview_result res;
    if (!preview || vip_preview_render(preview, &opt, out, &res, &err)) {
        rc = fail(&err);
    } else {
        printf("%s/index.html: %zu documents, %zu pages; %zu units, %zu unused; %zu English fallback, %zu changed, "
               "%zu with problems, %zu too long; check: %zu errors, %zu warnings (%.0f ms, %.0f ms of processor)\n",
               out, res.documents, res.pages, res.units, res.unused, res.fallback, res.changed, res.with_problems,
               res.overflow, res.errors, res.warnings, res.total_ms, res.cpu_ms);
        rc = EXIT_OK;
    }
    vip_preview_destroy(preview);
    vip_config_destroy(s.config);
    return rc;
}

static int cmd_serve(int argc, char **argv)
{
    setup s = {0};
    vip_serve_options opt = {.bind = "127.0.0.1", .port = 8470};
    for (int i = 0; i < argc; i++) {
        int used = setup_option(argc, argv, i, &s);
        if (!used)
            used = preview_option(argc, argv, i, &opt.preview);
        if (used) {
            i += used - 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(serve_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 65535) {
                fprintf(stderr, "vipgen serve: --port takes a number from 0 to 65535\n");
                return EXIT_USAGE;
            }
            opt.port = (int)n;
        } else if (!strcmp(argv[i], "--bind") && i + 1 < argc) {
            opt.bind = argv[++i];
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            opt.dir = argv[++i];
        } else {
            fprintf(stderr, "vipgen serve: unexpected argument '%s'\n%s", argv[i], serve_usage);
            return EXIT_USAGE;
        }
    }
    if (!opt.preview.lang || opt.preview.scale < 0) {
        fprintf(stderr, "vipgen serve: %s\n%s", opt.preview.scale < 0 ? "--scale takes a number from 0.25 to 6"
                                                                      : "--lang is required", serve_usage);
        return EXIT_USAGE;
    }
    int rc = setup_load(&s);
    if (rc)
        return rc;
    vip_error err = {0};
    vip_produce_paths paths = produce_paths(&s);
    rc = vip_serve_run(&paths, &opt, &err) ? fail(&err) : EXIT_OK;
    vip_config_destroy(s.config);
    return rc;
}

static int cmd_languages(void)
{
    size_t n;
    const vip_lang *all = vip_lang_all(&n);
    for (size_t i = 0; i < n; i++)
        printf("%-8s %s%s\n", all[i].tag, all[i].name, all[i].rtl ? " (right to left)" : "");
    return EXIT_OK;
}

static int cmd_version(void)
{
    printf("vipgen %s\n", VIP_VERSION);
    char dirs[4][VIP_PATH_MAX];
    int n = vip_paths_data_dirs(dirs, 4);
    printf("data looked for in:");
    for (int i = 0; i < n; i++)
        printf(" %s", dirs[i]);
    printf("\nconfiguration read from: %s/vipgen.conf, $XDG_CONFIG_HOME/vipgen/vipgen.conf, --config FILE\n",
           getenv("VIPGEN_SYSCONFDIR") && *getenv("VIPGEN_SYSCONFDIR") ? getenv("VIPGEN_SYSCONFDIR") : "/etc/vipgen");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* A document is made by one short process, and every page of memory it touches for the first time costs a page
     * fault. By default glibc gives allocations over 128 KB mappings of their own, unmapped again when freed, and
     * hands the heap's free top back to the kernel: the same memory is faulted in again and again. Kept in the heap
     * and reused instead, a document takes up to 9 % fewer faults, a Chinese one 13-21 % fewer (make bench);
     * worker processes of a batch inherit this. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "letter"))
        return cmd_letter(argc - 2, argv + 2);
    if (!strcmp(argv[1], "booklet"))
        return cmd_booklet(argc - 2, argv + 2);
    if (!strcmp(argv[1], "render"))
        return cmd_render(argc - 2, argv + 2);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 2, argv + 2);
    if (!strcmp(argv[1], "preview"))
        return cmd_preview(argc - 2, argv + 2);
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(argc - 2, argv + 2);
    if (!strcmp(argv[1], "languages"))
        return cmd_languages();
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
        return cmd_version();
    fprintf(stderr, "vipgen: unknown command '%s'\n%s", argv[1], usage);
    return EXIT_USAGE;
}
