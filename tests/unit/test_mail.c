/* vip_mail against real parts: messages built with GMime from the real catalogues (every language), written out
 * and parsed by Python's `email` package (tests/check_eml.py, run with /usr/bin/python3): headers, RFC 2047
 * subjects, language and direction of the HTML, the text part, the attachment's bytes and RFC 2231 file name.
 * Also: the same inputs give the same bytes, the Message-ID follows its inputs, malformed addresses and header
 * injection are refused. The PDF attached is a real one made by qpdf, and a binary one with every byte value. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <libxml/parser.h>
#include <unicode/uclean.h>

#include "catalog.h"
#include "check.h"
#include "run.h"
#include "lang.h"
#include "mail.h"

static char tmpdir[] = "/tmp/vipgen-test-mail-XXXXXX";

static char *tmp_path(const char *name)
{
    return g_strdup_printf("%s/%s", tmpdir, name);
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void test_body(void)
{
    vip_error err = {0};
    vip_mail_body body;
    const char *paras[] = {"Dear Seán O'Brien <b>&amp; {0}\",", "Line one\nLine two"};
    int rc = vip_mail_body_make("en", "Title <x>", paras, 2, &body, &err);
    CHECK("body en builds", rc == 0, "%s", err.message);
    if (!rc) {
        CHECK("body text: paragraphs as given, blank line between",
              strcmp(body.text, "Dear Seán O'Brien <b>&amp; {0}\",\n\nLine one\nLine two\n") == 0, "%s", body.text);
        CHECK("body html: escaped", strstr(body.html, "<p>Dear Seán O&apos;Brien &lt;b&gt;&amp;amp; {0}&quot;,</p>") &&
                                        strstr(body.html, "<title>Title &lt;x&gt;</title>") &&
                                        strstr(body.html, "Line one<br>\nLine two"),
              "%s", body.html);
        CHECK("body html: en is ltr, left", strstr(body.html, "<html lang=\"en\" dir=\"ltr\">") &&
                                                 strstr(body.html, "text-align: left"),
              "%s", body.html);
        vip_mail_body_free(&body);
    }
    size_t n;
    const vip_lang *langs = vip_lang_all(&n);
    for (size_t i = 0; i < n; i++) {
        char label[64];
        snprintf(label, sizeof label, "body %s direction", langs[i].tag);
        rc = vip_mail_body_make(langs[i].tag, "t", paras, 1, &body, &err);
        int rtl = !strcmp(langs[i].tag, "ar") || !strcmp(langs[i].tag, "fa") || !strcmp(langs[i].tag, "ur");
        char want[64];
        snprintf(want, sizeof want, "<html lang=\"%s\" dir=\"%s\">", langs[i].tag, rtl ? "rtl" : "ltr");
        CHECK(label, rc == 0 && strstr(body.html, want) && strstr(body.html, rtl ? "text-align: right" : "text-align: left"),
              "%s", rc ? err.message : body.html);
        vip_mail_body_free(&body);
    }
    const char *bad[] = {"ok", "bad \xff utf-8"};
    rc = vip_mail_body_make("en", "t", bad, 2, &body, &err);
    CHECK("body: invalid UTF-8 refused naming the paragraph", rc && strstr(err.message, "paragraph 2"), "%s", err.message);
    rc = vip_mail_body_make("xx", "t", paras, 1, &body, &err);
    CHECK("body: unknown language refused", rc != 0, "accepted");
}

static void test_message_id(void)
{
    vip_error err = {0};
    const unsigned char pdf[] = "%PDF-1.7 fake";
    char *a = vip_mail_message_id("NC/2024/012345", "V1", pdf, sizeof pdf - 1, "northshire.police.uk", &err);
    char *b = vip_mail_message_id("NC/2024/012345", "V1", pdf, sizeof pdf - 1, "northshire.police.uk", &err);
    char *c = vip_mail_message_id("NC/2024/012345", "V2", pdf, sizeof pdf - 1, "northshire.police.uk", &err);
    char *d = vip_mail_message_id("NC/2024/012346", "V1", pdf, sizeof pdf - 1, "northshire.police.uk", &err);
    char *e = vip_mail_message_id("NC/2024/012345", "V1", pdf, sizeof pdf - 2, "northshire.police.uk", &err);
    char *f = vip_mail_message_id("NC/2024/01234", "5V1", pdf, sizeof pdf - 1, "northshire.police.uk", &err);
    CHECK("message-id: deterministic", a && b && !strcmp(a, b), "%s / %s", a, b);
    CHECK("message-id: form", a && strlen(a) == 64 + 1 + strlen("northshire.police.uk") && a[64] == '@' &&
                                  strspn(a, "0123456789abcdef") == 64,
          "%s", a);
    CHECK("message-id: victim, reference and PDF each count", a && c && d && e && strcmp(a, c) && strcmp(a, d) && strcmp(a, e),
          "%s %s %s %s", a, c, d, e);
    CHECK("message-id: fields do not run together", a && f && strcmp(a, f), "%s %s", a, f);
    free(a), free(b), free(c), free(d), free(e), free(f);
    char *g = vip_mail_message_id("NC/1", NULL, pdf, 3, "not a domain", &err);
    CHECK("message-id: bad domain refused", !g && strstr(err.message, "not a domain"), "%s", err.message);
    free(g);
}

static void test_addresses(void)
{
    const char *good[][2] = {
        {"Northshire Police <no-reply@northshire.police.uk>", "no-reply@northshire.police.uk"},
        {"\"Police, Northshire\" <bureau@northshire.police.uk>", "bureau@northshire.police.uk"},
        {"a@example.org", "a@example.org"},
        {"Seán Ó Briain <sean@example.ie>", "sean@example.ie"},
        {"  jane.smith+case@mail.example.co.uk  ", "jane.smith+case@mail.example.co.uk"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        vip_error err = {0};
        char *spec = NULL;
        int rc = vip_mail_address_check(good[i][0], "From", &spec, &err);
        char label[128];
        snprintf(label, sizeof label, "address accepted: %s", good[i][0]);
        CHECK(label, rc == 0 && spec && !strcmp(spec, good[i][1]), "%s %s", rc ? err.message : "", spec ? spec : "");
        free(spec);
    }
    const char *bad[] = {"foo", "foo@", "@example.org", "a@b@example.org", "a@example.org, b@example.org",
                         "Name a@example.org", "group: a@example.org;", "a@example.org\r\nBcc: x@example.org",
                         "<a@example.org", "a@localhost", "", "a@-b.example.org", "a@[192.0.2.1]",
                         "Name <a@example.org> trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vip_error err = {0};
        char *spec = NULL;
        int rc = vip_mail_address_check(bad[i], "Reply-To", &spec, &err);
        char label[128];
        snprintf(label, sizeof label, "address refused: '%s'", bad[i]);
        for (char *p = label; *p; p++)
            if (*p == '\r' || *p == '\n')
                *p = ' ';
        CHECK(label, rc != 0 && !spec && strstr(err.message, "Reply-To") && err.code == VIP_ERR_INPUT, "%s",
              rc ? err.message : "accepted");
        free(spec);
    }
}

/* Every catalogue's email units: translated (no English fallback), formatted with awkward case values, built
 * into a message and checked by Python. Returns the number of languages checked. */
static const char from[] = "Northshire Police <no-reply@northshire.police.uk>";
static const char reply_to[] = "Northshire Crime Bureau <crime.bureau@northshire.police.uk>";

typedef struct letter_texts {
    char *subject;
    char *paras[8];
    size_t n;
} letter_texts;

static void texts_free(letter_texts *t)
{
    free(t->subject);
    for (size_t i = 0; i < t->n; i++)
        free(t->paras[i]);
}

static int format_texts(vip_catalog *cat, letter_texts *t, char *why, size_t why_len)
{
    vip_arg args[] = {
        {.name = "crime_ref", .type = VIP_ARG_STRING, .string = "NC/2024/012345"},
        {.name = "victim_name", .type = VIP_ARG_STRING, .string = "Seán O'Brien <b>&{0}"},
        {.name = "officer_name", .type = VIP_ARG_STRING, .string = "DC Imran Siddiqui"},
        {.name = "officer_phone", .type = VIP_ARG_STRING, .string = "0300 555 0152"},
        {.name = "reply_to", .type = VIP_ARG_STRING, .string = "crime.bureau@northshire.police.uk"},
        {.name = "force_name", .type = VIP_ARG_STRING, .string = "Northshire Police"},
    };
    static const char *ids[] = {"email.greeting", "email.body.attached", "email.body.open", "email.body.officer",
                                "email.body.emergency", "email.body.no_reply", "email.signature"};
    memset(t, 0, sizeof *t);
    vip_error err = {0};
    int fb = 0;
    t->subject = vip_catalog_format(cat, "email.subject", args, sizeof args / sizeof args[0], &fb, &err);
    if (!t->subject || fb) {
        snprintf(why, why_len, "email.subject: %s", t->subject ? "fell back to English" : err.message);
        return -1;
    }
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        t->paras[i] = vip_catalog_format(cat, ids[i], args, sizeof args / sizeof args[0], &fb, &err);
        if (!t->paras[i] || fb) {
            snprintf(why, why_len, "%s: %s", ids[i], t->paras[i] ? "fell back to English" : err.message);
            t->n = i + (t->paras[i] != NULL);
            return -1;
        }
        t->n = i + 1;
    }
    return 0;
}

/* No offence.* text of the catalogue appears in the subject or the body. */
static const char *names_offence(vip_catalog *cat, const letter_texts *t)
{
    for (size_t u = 0; u < vip_catalog_unit_count(cat); u++) {
        const char *id = vip_catalog_unit_id(cat, u);
        if (strncmp(id, "offence.", 8) != 0)
            continue;
        const char *text = vip_catalog_unit_text(cat, u);
        if (strstr(t->subject, text))
            return id;
        for (size_t i = 0; i < t->n; i++)
            if (strstr(t->paras[i], text))
                return id;
    }
    return NULL;
}

static int check_eml(const char *eml, const letter_texts *t, const char *lang, int rtl, const char *message_id,
                     const char *pdf_path, const char *filename, char **out)
{
    char *argv[64];
    int n = 0;
    char date[32];
    snprintf(date, sizeof date, "%d", 1709629200);
    argv[n++] = "/usr/bin/python3";
    argv[n++] = "tests/check_eml.py";
    argv[n++] = (char *)eml;
    argv[n++] = "--from", argv[n++] = "Northshire Police", argv[n++] = "no-reply@northshire.police.uk";
    argv[n++] = "--reply-to", argv[n++] = "Northshire Crime Bureau", argv[n++] = "crime.bureau@northshire.police.uk";
    argv[n++] = "--to", argv[n++] = "Seán O'Brien <b>&{0}", argv[n++] = "sean@example.org";
    argv[n++] = "--subject", argv[n++] = t->subject;
    argv[n++] = "--date", argv[n++] = date;
    argv[n++] = "--message-id", argv[n++] = (char *)message_id;
    argv[n++] = "--lang", argv[n++] = (char *)lang;
    argv[n++] = "--dir", argv[n++] = rtl ? "rtl" : "ltr";
    argv[n++] = "--pdf", argv[n++] = (char *)pdf_path;
    argv[n++] = "--filename", argv[n++] = (char *)filename;
    for (size_t i = 0; i < t->n; i++)
        argv[n++] = "--text", argv[n++] = t->paras[i];
    argv[n] = NULL;
    return run(argv, out);
}

static int build(const letter_texts *t, const char *lang, const char *message_id, const unsigned char *pdf,
                 size_t pdf_len, const char *filename, char **data, size_t *len, vip_error *err)
{
    vip_mail_body body;
    int rc = vip_mail_body_make(lang, t->subject, (const char *const *)t->paras, t->n, &body, err);
    if (rc)
        return rc;
    vip_mail_letter letter = {
        .from = from,
        .reply_to = reply_to,
        .to = "sean@example.org",
        .to_name = "Seán O'Brien <b>&{0}",
        .subject = t->subject,
        .date = 1709629200,
        .message_id = message_id,
        .lang = lang,
        .body = &body,
        .pdf_name = filename,
        .pdf = pdf,
        .pdf_len = pdf_len,
    };
    rc = vip_mail_build(&letter, data, len, err);
    vip_mail_body_free(&body);
    return rc;
}

static void test_catalogues(const unsigned char *pdf, size_t pdf_len, const char *pdf_path)
{
    DIR *dir = opendir("translations");
    CHECK("translations/ readable", dir != NULL, "cannot open translations/");
    if (!dir)
        return;
    size_t checked = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || strcmp(de->d_name + nl - 4, ".xlf") != 0)
            continue;
        char *path = g_strdup_printf("translations/%s", de->d_name);
        vip_error err = {0};
        vip_catalog *cat = vip_catalog_load(path, &err);
        char label[128];
        snprintf(label, sizeof label, "%s loads", path);
        CHECK(label, cat != NULL, "%s", err.message);
        if (!cat) {
            g_free(path);
            continue;
        }
        const char *lang = vip_catalog_lang(cat);
        const vip_lang *l = vip_lang_find(lang, NULL);
        letter_texts t;
        char why[1200] = "";
        int rc = format_texts(cat, &t, why, sizeof why);
        snprintf(label, sizeof label, "%s: email units translated and formatted", lang);
        CHECK(label, rc == 0, "%s", why);
        if (rc == 0) {
            const char *offence = names_offence(cat, &t);
            snprintf(label, sizeof label, "%s: subject and body name no offence", lang);
            CHECK(label, offence == NULL, "contains the text of %s", offence);

            char *id = vip_mail_message_id("NC/2024/012345", lang, pdf, pdf_len, "northshire.police.uk", &err);
            char *filename = g_strdup_printf("NC-2024-012345_%s.pdf", lang);
            char *data = NULL;
            size_t len = 0;
            rc = id ? build(&t, lang, id, pdf, pdf_len, filename, &data, &len, &err) : -1;
            snprintf(label, sizeof label, "%s: message builds", lang);
            CHECK(label, rc == 0, "%s", err.message);
            if (rc == 0) {
                char *name = g_strdup_printf("%s.eml", lang);
                char *eml = tmp_path(name);
                char *out = NULL;
                int st = write_file(eml, data, len) == 0 ? check_eml(eml, &t, lang, l && l->rtl, id, pdf_path, filename, &out) : -1;
                snprintf(label, sizeof label, "%s: Python's email parser agrees", lang);
                CHECK(label, st == 0, "%s", out ? out : "not written");
                if (st == 0)
                    checked++;
                g_free(out);
                g_free(eml);
                g_free(name);
            }
            free(data);
            free(id);
            g_free(filename);
        }
        texts_free(&t);
        vip_catalog_destroy(cat);
        g_free(path);
    }
    closedir(dir);
    CHECK("all eight catalogues checked", checked == 8, "%zu", checked);
}

/* English texts for the remaining tests. */
static int english(letter_texts *t)
{
    vip_error err = {0};
    vip_catalog *cat = vip_catalog_load("translations/en.xlf", &err);
    char why[1200];
    int rc = cat ? format_texts(cat, t, why, sizeof why) : -1;
    vip_catalog_destroy(cat);
    return rc;
}

static void test_build(const unsigned char *pdf, size_t pdf_len)
{
    letter_texts t;
    if (english(&t)) {
        CHECK("english texts", 0, "could not format en.xlf's email units");
        texts_free(&t);
        return;
    }
    vip_error err = {0};
    char *id = vip_mail_message_id("NC/2024/012345", "V1", pdf, pdf_len, "northshire.police.uk", &err);
    char *a = NULL, *b = NULL, *c = NULL;
    size_t alen = 0, blen = 0, clen = 0;
    build(&t, "en", id, pdf, pdf_len, "NC-2024-012345_en.pdf", &a, &alen, &err);
    build(&t, "en", id, pdf, pdf_len, "NC-2024-012345_en.pdf", &b, &blen, &err);
    CHECK("same inputs, same bytes", a && b && alen == blen && memcmp(a, b, alen) == 0, "differ");
    char *other = vip_mail_message_id("NC/2024/012345", "V2", pdf, pdf_len, "northshire.police.uk", &err);
    build(&t, "en", other, pdf, pdf_len, "NC-2024-012345_en.pdf", &c, &clen, &err);
    char *bound_a = a ? strstr(a, "boundary=") : NULL, *bound_c = c ? strstr(c, "boundary=") : NULL;
    CHECK("boundaries follow the Message-ID", bound_a && bound_c && strncmp(bound_a, bound_c, 60) != 0, "same");
    free(a), free(b), free(c), free(other);

    /* A binary attachment with every byte value, lone dots and CRLF.CRLF, and a non-ASCII (RFC 2231) name. */
    unsigned char bin[4096];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (unsigned char)(i * 7 + i / 256);
    memcpy(bin + 100, "\r\n.\r\n", 5);
    memcpy(bin + 200, "\n.\n", 3);
    char *bin_path = tmp_path("binary.pdf");
    char *data = NULL;
    size_t len = 0;
    const char *fname = "list do Pana – zażółć.pdf";
    int rc = write_file(bin_path, bin, sizeof bin) == 0 ? build(&t, "en", id, bin, sizeof bin, fname, &data, &len, &err) : -1;
    CHECK("binary attachment builds", rc == 0, "%s", err.message);
    if (rc == 0) {
        char *eml = tmp_path("binary.eml");
        char *out = NULL;
        int st = write_file(eml, data, len) == 0 ? check_eml(eml, &t, "en", 0, id, bin_path, fname, &out) : -1;
        CHECK("binary attachment and RFC 2231 name: Python agrees", st == 0, "%s", out ? out : "not written");
        CHECK("RFC 2231 parameter written", strstr(data, "filename*=") != NULL, "none");
        g_free(out);
        g_free(eml);
    }
    free(data);
    g_free(bin_path);

    /* Refused: malformed addresses and anything that could add a header line. */
    vip_mail_body body;
    vip_mail_body_make("en", t.subject, (const char *const *)t.paras, t.n, &body, &err);
    vip_mail_letter good = {.from = from, .reply_to = reply_to, .to = "sean@example.org", .subject = t.subject,
                            .date = 1, .message_id = id, .lang = "en", .body = &body, .pdf_name = "x.pdf",
                            .pdf = pdf, .pdf_len = pdf_len};
    struct {
        const char *label, *want;
        vip_mail_letter letter;
    } cases[] = {
        {"malformed From refused", "From: 'Northshire Police no-reply@northshire.police.uk' is refused", good},
        {"malformed Reply-To refused", "Reply-To: 'bureau@' is refused", good},
        {"malformed To refused", "To: 'sean@example.org, eve@example.org' is refused", good},
        {"subject with a line break refused", "Subject: control characters", good},
        {"To name with a line break refused", "To name: control characters", good},
        {"Message-ID with brackets refused", "Message-ID: '<x@y.org>' must be", good},
    };
    cases[0].letter.from = "Northshire Police no-reply@northshire.police.uk";
    cases[1].letter.reply_to = "bureau@";
    cases[2].letter.to = "sean@example.org, eve@example.org";
    cases[3].letter.subject = "Hello\r\nBcc: eve@example.org";
    cases[4].letter.to_name = "Sean\nBcc: eve@example.org";
    cases[5].letter.message_id = "<x@y.org>";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *d = NULL;
        size_t l = 0;
        err.message[0] = '\0';
        rc = vip_mail_build(&cases[i].letter, &d, &l, &err);
        CHECK(cases[i].label, rc == VIP_ERR_INPUT && !d && strstr(err.message, cases[i].want), "rc %d: %s", rc,
              err.message);
        free(d);
    }
    char *d = NULL;
    size_t l = 0;
    rc = vip_mail_build(&good, &d, &l, &err);
    CHECK("the same letter with good fields builds", rc == 0 && d && l > 0, "%s", err.message);
    free(d);
    vip_mail_body_free(&body);
    free(id);
    texts_free(&t);
}

static void remove_tmpdir(void)
{
    DIR *dir = opendir(tmpdir);
    if (!dir)
        return;
    struct dirent *de;
    while ((de = readdir(dir)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            char *p = tmp_path(de->d_name);
            unlink(p);
            g_free(p);
        }
    closedir(dir);
    rmdir(tmpdir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        CHECK("temporary directory", 0, "mkdtemp failed");
        return 1;
    }
    test_body();
    test_message_id();
    test_addresses();

    /* A real PDF, made by qpdf. */
    char *pdf_path = tmp_path("letter.pdf");
    char *argv[] = {"/usr/bin/qpdf", "--empty", "--static-id", pdf_path, NULL};
    char *out = NULL;
    int st = run(argv, &out);
    gchar *pdf = NULL;
    gsize pdf_len = 0;
    int ok = st == 0 && g_file_get_contents(pdf_path, &pdf, &pdf_len, NULL) && pdf_len > 0;
    CHECK("qpdf makes a PDF to attach", ok, "%s", out ? out : "");
    g_free(out);
    if (ok) {
        test_catalogues((const unsigned char *)pdf, pdf_len, pdf_path);
        test_build((const unsigned char *)pdf, pdf_len);
    }
    g_free(pdf);
    g_free(pdf_path);
    remove_tmpdir();
    vip_mail_global_cleanup();
    xmlCleanupParser();
    u_cleanup();
    return CHECK_DONE();
}
