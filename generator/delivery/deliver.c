/* vip_deliver: contact rules, the journal, email (GMime, then a pickup folder or libcurl's SMTP), the post pile
 * (qpdf) and the records, for the letters a batch has produced. */
#include "deliver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "journal.h"
#include "lang.h"
#include "mail.h"
#include "outfile.h"
#include "postpile.h"
#include "records.h"
#include "smtp.h"

/* Emails are built and sent in chunks, so that a batch of thousands holds a chunk's messages in memory at once. */
#define CHUNK 200

struct vip_deliver {
    vip_deliver_options o;
    vip_journal *journal;
    vip_records *records;
    vip_smtp *smtp;
    char *from_spec;              /* the envelope sender */
    char *domain;                 /* the sender's domain, for Message-IDs */
    char template_version[20];
    struct {
        const vip_catalog *cat;
        char version[20];
    } catalogs[16];
    size_t catalog_count;
    int failed_io;                /* the journal could not be written during sending */
    vip_error io_error;
};

const char *vip_deliver_status_name(vip_deliver_status s)
{
    static const char *const names[] = {"not_sent", "sent",      "queued",       "posted", "withheld",
                                        "no_route", "failed",    "uncertain",    "already_done", "changed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void wipe(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

/* user and password from the configured file (two lines) or the environment; never from the command line. */
static int read_credentials(const vip_settings *s, char **user, char **password, vip_error *err)
{
    *user = *password = NULL;
    if (s->smtp_credentials_file) {
        const char *path = s->smtp_credentials_file;
        struct stat st;
        if (stat(path, &st) != 0)
            return vip_error_set(err, VIP_ERR_IO, "%s (vipgen.conf [mail] credentials_file): %s", path,
                                 strerror(errno));
        if (st.st_mode & 0077)
            return vip_error_set(err, VIP_ERR_INPUT, "%s (vipgen.conf [mail] credentials_file) can be read by other "
                                 "users (mode %03o); make it private: chmod 600 %s", path,
                                 (unsigned)(st.st_mode & 0777), path);
        FILE *fp = fopen(path, "r");
        if (!fp)
            return vip_error_set(err, VIP_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        char line[2][512] = {"", ""};
        for (int i = 0; i < 2 && fgets(line[i], sizeof line[i], fp); i++)
            line[i][strcspn(line[i], "\r\n")] = '\0';
        fclose(fp);
        if (!line[0][0] || !line[1][0]) {
            memset(line, 0, sizeof line);
            return vip_error_set(err, VIP_ERR_INPUT, "%s: expected the user name on the first line and the password "
                                 "on the second", path);
        }
        *user = strdup(line[0]);
        *password = strdup(line[1]);
        memset(line, 0, sizeof line);
    } else {
        const char *u = getenv("VIPGEN_SMTP_USER"), *p = getenv("VIPGEN_SMTP_PASSWORD");
        if (!u || !*u)
            return VIP_OK; /* no AUTH */
        *user = strdup(u);
        *password = strdup(p ? p : "");
    }
    if (!*user || !*password) {
        free(*user);
        wipe(*password);
        *user = *password = NULL;
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    }
    return VIP_OK;
}

/* A file's digest, short: what version of a template or catalogue a letter was made from. */
static void version_of(const char *path, char out[20])
{
    char full[VIP_JOURNAL_HASH_SIZE];
    vip_error e = {0};
    if (path && vip_journal_file_sha256(path, full, &e) == VIP_OK)
        snprintf(out, 20, "sha256:%.12s", full);
    else
        snprintf(out, 20, "unknown");
}

static const char *catalogue_version(vip_deliver *d, const vip_catalog *cat)
{
    for (size_t i = 0; i < d->catalog_count; i++)
        if (d->catalogs[i].cat == cat)
            return d->catalogs[i].version;
    if (d->catalog_count == sizeof d->catalogs / sizeof d->catalogs[0])
        return "unknown";
    d->catalogs[d->catalog_count].cat = cat;
    version_of(vip_catalog_path(cat), d->catalogs[d->catalog_count].version);
    return d->catalogs[d->catalog_count++].version;
}

vip_deliver *vip_deliver_open(const vip_deliver_options *o, vip_error *err)
{
    vip_deliver *d = calloc(1, sizeof *d);
    if (!d) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->o = *o;
    const vip_settings *s = o->settings;
    char path[4096];
    char *user = NULL, *password = NULL;
    version_of(o->template_path, d->template_version);
    if (o->eml_dir || o->smtp_url) {
        if (!s->mail_from) {
            vip_error_set(err, VIP_ERR_INPUT, "emails need a sender: set from = Name <address> in the [mail] group of "
                          "vipgen.conf");
            goto fail;
        }
        if (vip_mail_address_check(s->mail_from, "the sender (vipgen.conf [mail] from)", &d->from_spec, err) ||
            (s->mail_reply_to && vip_mail_address_check(s->mail_reply_to, "the reply address (vipgen.conf [mail] "
                                                        "reply_to)", NULL, err)))
            goto fail;
        const char *at = strrchr(d->from_spec, '@');
        if (!(d->domain = strdup(at ? at + 1 : "localhost"))) {
            vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if (o->eml_dir && mkdir(o->eml_dir, 0700) != 0 && errno != EEXIST) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot create the pickup folder: %s", o->eml_dir, strerror(errno));
        goto fail;
    }
    if (o->smtp_url) {
        if (read_credentials(s, &user, &password, err))
            goto fail;
        vip_smtp_options so = {.url = o->smtp_url,
                               .username = user,
                               .password = password,
                               .starttls_optional = !s->smtp_require_starttls,
                               .ca_file = s->smtp_ca_file,
                               .connections = (unsigned)s->smtp_connections,
                               .tries = (unsigned)s->smtp_tries,
                               .first_delay_ms = (unsigned)s->smtp_retry_delay_ms};
        d->smtp = vip_smtp_create(&so, err);
        free(user);
        wipe(password);
        user = password = NULL;
        if (!d->smtp || vip_smtp_check(d->smtp, err))
            goto fail;
    }
    snprintf(path, sizeof path, "%s/journal.sqlite", o->out_dir);
    if (!(d->journal = vip_journal_open(o->journal_path ? o->journal_path : path, o->out_dir, err)))
        goto fail;
    size_t uncertain = 0, back = 0;
    if (vip_journal_recover(d->journal, &uncertain, &back, err))
        goto fail;
    if (uncertain)
        fprintf(stderr, "vipgen: %zu message%s of an earlier run that stopped while sending may have been delivered: "
                "listed as uncertain, not sent again (--resend CRIME_REF sends one again)\n", uncertain,
                uncertain == 1 ? "" : "s");
    snprintf(path, sizeof path, "%s/records.csv", o->out_dir);
    if (!(d->records = vip_records_open(path, err)))
        goto fail;
    return d;
fail:
    free(user);
    wipe(password);
    vip_deliver_close(d);
    return NULL;
}

void vip_deliver_close(vip_deliver *d)
{
    if (!d)
        return;
    vip_records_close(d->records, NULL);
    vip_journal_close(d->journal);
    vip_smtp_destroy(d->smtp);
    free(d->from_spec);
    free(d->domain);
    free(d);
}

static int resend_asked(const vip_deliver *d, const char *ref)
{
    for (size_t i = 0; i < d->o.resend_count; i++)
        if (strcmp(d->o.resend[i], ref) == 0)
            return 1;
    return 0;
}

/* The row's identity and the digest of its data: a letter date that was today's (not given) is left out, so a
 * rerun on another day is the same row. */
static int identify(vip_deliver_item *it, vip_error *err)
{
    const vip_case_row *row = it->row;
    const char *values[VIP_CASE_FIELD_COUNT];
    for (int f = 0; f < VIP_CASE_FIELD_COUNT; f++)
        values[f] = f == VIP_CASE_LETTER_DATE && !row->letter_date_given ? "" : row->value[f] ? row->value[f] : "";
    vip_journal_content_hash(values, VIP_CASE_FIELD_COUNT, it->content_hash);
    char *id = vip_journal_identity(row->value[VIP_CASE_CRIME_REF], row->value[VIP_CASE_VICTIM_ID],
                                    it->content_hash);
    if (!id)
        return vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
    snprintf(it->identity, sizeof it->identity, "%s", id);
    free(id);
    return VIP_OK;
}

int vip_deliver_wanted(vip_deliver *d, vip_deliver_item *it, vip_error *err)
{
    if (identify(it, err))
        return -1;
    const char *ref = it->row->value[VIP_CASE_CRIME_REF];
    vip_journal_decision decision;
    if (vip_journal_decide(d->journal, it->identity, it->content_hash, resend_asked(d, ref), &decision, err))
        return -1;
    if (decision == VIP_JOURNAL_GO)
        return 1;
    vip_journal_row jr = {0};
    if (vip_journal_lookup(d->journal, it->identity, &jr, err))
        return -1;
    snprintf(it->channel, sizeof it->channel, "%s", vip_journal_channel_name(jr.channel));
    snprintf(it->message_id, sizeof it->message_id, "%s", jr.message_id ? jr.message_id : "");
    const char *when = jr.last_change ? jr.last_change : "an earlier run";
    switch (decision) {
    case VIP_JOURNAL_ALREADY_DONE:
        it->status = VIP_DELIVER_ALREADY_DONE;
        snprintf(it->reason, sizeof it->reason, "already %s on %s; not sent again",
                 jr.state == VIP_JOURNAL_POSTED ? "posted" : "sent", when);
        break;
    case VIP_JOURNAL_CHANGED:
        it->status = VIP_DELIVER_CHANGED;
        snprintf(it->reason, sizeof it->reason, "the row changed after its letter was %s on %s; not sent again: "
                 "check it, and run with --resend %s to send the new letter", jr.state == VIP_JOURNAL_POSTED ? "posted"
                 : "sent", when, ref);
        break;
    case VIP_JOURNAL_HELD_UNCERTAIN:
        it->status = VIP_DELIVER_UNCERTAIN;
        snprintf(it->reason, sizeof it->reason, "may have been delivered on %s (the message went out and no reply "
                 "came); not sent again: check with the victim, and run with --resend %s to send it again", when, ref);
        break;
    default:
        it->status = VIP_DELIVER_ALREADY_DONE;
        snprintf(it->reason, sizeof it->reason, "the same victim as an earlier row of this batch; sent once");
        break;
    }
    vip_journal_row_clear(&jr);
    return 0;
}

/* ---- one batch ---- */

typedef struct run {
    vip_deliver *d;
    vip_deliver_item *items;
    vip_catalog *(*catalog_for)(void *, const char *);
    void *user;
    vip_error *err;
} run;

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static vip_journal_entry entry_of(const run *r, const vip_deliver_item *it, const char *sha256)
{
    const vip_case_row *row = it->row;
    vip_journal_channel ch = !strcmp(it->channel, "email") ? VIP_JOURNAL_CHANNEL_EMAIL
                             : !strcmp(it->channel, "post") ? VIP_JOURNAL_CHANNEL_POST
                                                            : VIP_JOURNAL_CHANNEL_NONE;
    return (vip_journal_entry){.identity = it->identity,
                               .crime_ref = row->value[VIP_CASE_CRIME_REF],
                               .victim_id = row->value[VIP_CASE_VICTIM_ID],
                               .language = row->lang,
                               .channel = ch,
                               .content_hash = it->content_hash,
                               .file = it->pdf_path ? basename_of(it->pdf_path) : NULL,
                               .file_sha256 = sha256,
                               .resend = resend_asked(r->d, row->value[VIP_CASE_CRIME_REF])};
}

/* One line in records.csv for what became of a row. */
static int record(run *r, vip_deliver_item *it, const char *sha256)
{
    vip_catalog *cat = r->catalog_for(r->user, it->row->lang);
    vip_records_line line = {.crime_ref = it->row->value[VIP_CASE_CRIME_REF],
                             .victim_id = it->row->value[VIP_CASE_VICTIM_ID],
                             .language = it->row->lang,
                             .channel = it->channel,
                             .status = vip_deliver_status_name(it->status),
                             .file = it->pdf_path ? basename_of(it->pdf_path) : "",
                             .sha256 = sha256 ? sha256 : "",
                             .message_id = it->message_id,
                             .template_version = r->d->template_version,
                             .catalogue_version = cat ? catalogue_version(r->d, cat) : "",
                             .reason = it->reason};
    return vip_records_append(r->d->records, &line, r->err);
}

/* Where the letter goes, or why it does not. Returns the status it ends in when it does not go. */
static vip_deliver_status route(const vip_deliver *d, vip_deliver_item *it)
{
    const vip_case_row *row = it->row;
    const char *contact = row->value[VIP_CASE_CONTACT] ? row->value[VIP_CASE_CONTACT] : "";
    const char *email = row->value[VIP_CASE_EMAIL] ? row->value[VIP_CASE_EMAIL] : "";
    const char *safe = row->value[VIP_CASE_SAFE_TO_CONTACT] && *row->value[VIP_CASE_SAFE_TO_CONTACT]
                           ? row->value[VIP_CASE_SAFE_TO_CONTACT]
                           : "unknown";
    int usable = *email && !row->email_problem[0];
    if (!strcmp(contact, "none"))
        snprintf(it->channel, sizeof it->channel, "none");
    else if (!strcmp(contact, "post") || !usable)
        snprintf(it->channel, sizeof it->channel, "post");
    else
        snprintf(it->channel, sizeof it->channel, "email");
    if (*email && row->email_problem[0] && strcmp(contact, "post") && strcmp(contact, "none"))
        snprintf(it->reason, sizeof it->reason, "the email address %s: posted instead", row->email_problem);
    /* Safety first: a "no" is never sent; a sensitive offence goes only with a "yes". */
    if (!strcmp(safe, "no")) {
        snprintf(it->reason, sizeof it->reason, "safe_to_contact is no: not sent or posted; the letter is for an "
                 "officer to hand over");
        return VIP_DELIVER_WITHHELD;
    }
    const char *offence = row->value[VIP_CASE_OFFENCE];
    int sensitive = 0;
    for (size_t i = 0; i < d->o.settings->sensitive_count; i++)
        sensitive |= !strcmp(d->o.settings->sensitive[i], offence);
    if (sensitive && strcmp(safe, "yes")) {
        snprintf(it->reason, sizeof it->reason, "a sensitive offence and safe_to_contact is %s, not yes: not sent or "
                 "posted; the letter is for an officer to hand over", safe);
        return VIP_DELIVER_WITHHELD;
    }
    if (!strcmp(it->channel, "none")) {
        snprintf(it->reason, sizeof it->reason, "contact is none: no letter is sent or posted; an officer should "
                 "contact the victim");
        return VIP_DELIVER_NO_ROUTE;
    }
    return VIP_DELIVER_NOT_SENT; /* it goes */
}

static char *read_whole(const char *path, size_t *len, vip_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        vip_error_set(err, VIP_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            char *p = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!p) {
                free(buf);
                fclose(fp);
                vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
                return NULL;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
    } while (got);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        vip_error_set(err, VIP_ERR_IO, "%s: read failed", path);
        return NULL;
    }
    *len = n;
    return buf;
}

/* The now of the Date header: $SOURCE_DATE_EPOCH when set, so that a pickup folder can be made again exactly. */
static time_t mail_date(void)
{
    const char *epoch = getenv("SOURCE_DATE_EPOCH");
    if (epoch && *epoch) {
        char *end;
        long long v = strtoll(epoch, &end, 10);
        if (!*end && v >= 0)
            return (time_t)v;
    }
    return time(NULL);
}

/* The email of one letter, in its language. */
static int build_email(run *r, vip_deliver_item *it, const unsigned char *pdf, size_t pdf_len, char **data,
                       size_t *len)
{
    vip_deliver *d = r->d;
    const vip_case_row *row = it->row;
    vip_catalog *cat = r->catalog_for(r->user, row->lang);
    if (!cat)
        return r->err->code ? r->err->code : vip_error_set(r->err, VIP_ERR_INPUT, "no catalogue for %s", row->lang);
    const vip_settings *s = d->o.settings;
    const char *force = s->force_name && *s->force_name ? s->force_name : "";
    vip_arg args[] = {
        {.name = "crime_ref", .type = VIP_ARG_STRING, .string = row->value[VIP_CASE_CRIME_REF]},
        {.name = "victim_name", .type = VIP_ARG_STRING, .string = row->value[VIP_CASE_VICTIM_NAME]},
        {.name = "officer_name", .type = VIP_ARG_STRING, .string = row->value[VIP_CASE_OFFICER_NAME]},
        {.name = "officer_phone", .type = VIP_ARG_STRING, .string = row->value[VIP_CASE_OFFICER_PHONE]},
        {.name = "force_name", .type = VIP_ARG_STRING, .string = force},
        {.name = "reply_to", .type = VIP_ARG_STRING, .string = s->mail_reply_to ? s->mail_reply_to : d->from_spec},
    };
    static const char *const ids[] = {"email.greeting", "email.body.attached", "email.body.open", "email.body.officer",
                                      "email.body.emergency", "email.body.no_reply", "email.signature"};
    enum { PARAS = sizeof ids / sizeof ids[0] };
    char *para[PARAS] = {0}, *subject = NULL, *id = NULL;
    vip_mail_body body = {0};
    int rc = VIP_OK;
    size_t nargs = sizeof args / sizeof args[0];
    if (!(subject = vip_catalog_format(cat, "email.subject", args, nargs, NULL, r->err)))
        rc = r->err->code;
    for (size_t i = 0; !rc && i < PARAS; i++) {
        /* The signature is the configuration's ([mail] signature) where it sets one, else the catalogue's. */
        if (!strcmp(ids[i], "email.signature") && s->mail_signature && *s->mail_signature)
            para[i] = strdup(s->mail_signature);
        else
            para[i] = vip_catalog_format(cat, ids[i], args, nargs, NULL, r->err);
        if (!para[i])
            rc = r->err->code ? r->err->code : vip_error_set(r->err, VIP_ERR_NOMEM, "out of memory");
    }
    if (!rc)
        rc = vip_mail_body_make(row->lang, subject, (const char *const *)para, PARAS, &body, r->err);
    if (!rc && !(id = vip_mail_message_id(row->value[VIP_CASE_CRIME_REF], row->value[VIP_CASE_VICTIM_ID], pdf,
                                          pdf_len, d->domain, r->err)))
        rc = r->err->code;
    if (!rc) {
        snprintf(it->message_id, sizeof it->message_id, "%s", id);
        vip_mail_letter letter = {.from = s->mail_from,
                                  .reply_to = s->mail_reply_to,
                                  .to = row->value[VIP_CASE_EMAIL],
                                  .to_name = row->value[VIP_CASE_VICTIM_NAME],
                                  .subject = subject,
                                  .date = mail_date(),
                                  .message_id = id,
                                  .lang = row->lang,
                                  .body = &body,
                                  .pdf_name = basename_of(it->pdf_path),
                                  .pdf = pdf,
                                  .pdf_len = pdf_len};
        rc = vip_mail_build(&letter, data, len, r->err);
    }
    for (size_t i = 0; i < PARAS; i++)
        free(para[i]);
    free(subject);
    free(id);
    vip_mail_body_free(&body);
    return rc;
}

/* The SMTP batch's callbacks: the journal follows each message. */
typedef struct sending {
    run *r;
    vip_deliver_item **items;
    char (*sha)[VIP_JOURNAL_HASH_SIZE];
} sending;

static void on_data_going_out(void *user, size_t i)
{
    sending *s = user;
    vip_deliver *d = s->r->d;
    vip_error e = {0};
    /* A second attempt after a 4xx finds the row at data_sent already: it stays there (maybe sent) until the
     * reply; only a journal that cannot be written stops the batch. */
    if (!d->failed_io && vip_journal_data_sent(d->journal, s->items[i]->identity, &e) && e.code == VIP_ERR_IO) {
        d->failed_io = 1;
        d->io_error = e;
    }
}

static void on_outcome(void *user, size_t i, const vip_smtp_outcome *oc)
{
    sending *s = user;
    run *r = s->r;
    vip_deliver *d = r->d;
    vip_deliver_item *it = s->items[i];
    vip_journal_entry e = entry_of(r, it, s->sha[i]);
    int rc = VIP_OK;
    switch (oc->status) {
    case VIP_SMTP_SENT:
        it->status = VIP_DELIVER_SENT;
        snprintf(it->reason, sizeof it->reason, "%s", oc->reply);
        if (!d->failed_io)
            rc = vip_journal_sent(d->journal, it->identity, oc->reply, &d->io_error);
        break;
    case VIP_SMTP_UNCERTAIN:
        it->status = VIP_DELIVER_UNCERTAIN;
        snprintf(it->reason, sizeof it->reason, "the message went out and no reply came (%s): it may have been "
                 "delivered; not sent again without --resend %s", oc->detail, it->row->value[VIP_CASE_CRIME_REF]);
        if (!d->failed_io)
            rc = vip_journal_uncertain(d->journal, it->identity, it->reason, &d->io_error);
        break;
    case VIP_SMTP_PERMANENT:
        it->status = VIP_DELIVER_FAILED;
        snprintf(it->reason, sizeof it->reason, "refused by the mail server: %s", oc->reply[0] ? oc->reply : oc->detail);
        if (!d->failed_io)
            rc = vip_journal_failed(d->journal, &e, it->reason, &d->io_error);
        break;
    case VIP_SMTP_TEMPORARY:
        it->status = VIP_DELIVER_FAILED;
        snprintf(it->reason, sizeof it->reason, "not sent after %u tries (%s%s%s); tried again on the next run",
                 oc->tries, oc->reply[0] ? oc->reply : "", oc->reply[0] && oc->detail[0] ? "; " : "", oc->detail);
        if (!d->failed_io)
            rc = vip_journal_failed(d->journal, &e, it->reason, &d->io_error);
        break;
    }
    if (rc)
        d->failed_io = 1;
    else if (!d->failed_io && record(r, it, s->sha[i]))
        d->failed_io = 1, d->io_error = *r->err;
}

/* Emails of a chunk of items: built, then written to the pickup folder or sent. */
static int email_chunk(run *r, vip_deliver_item **chunk, size_t n)
{
    vip_deliver *d = r->d;
    char **data = calloc(n, sizeof *data);
    size_t *len = calloc(n, sizeof *len);
    char (*sha)[VIP_JOURNAL_HASH_SIZE] = calloc(n, sizeof *sha);
    vip_smtp_message *msgs = calloc(n, sizeof *msgs);
    vip_deliver_item **sent = calloc(n, sizeof *sent);
    int rc = VIP_OK;
    size_t count = 0;
    if (!data || !len || !sha || !msgs || !sent) {
        rc = vip_error_set(r->err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < n && !rc; k++) {
        vip_deliver_item *it = chunk[k];
        size_t pdf_len = 0;
        vip_error e = {0};
        char *pdf = read_whole(it->pdf_path, &pdf_len, &e);
        if (pdf && vip_journal_file_sha256(it->pdf_path, sha[count], &e) == VIP_OK &&
            build_email(r, it, (const unsigned char *)pdf, pdf_len, &data[count], &len[count]) == VIP_OK) {
            vip_journal_entry entry = entry_of(r, it, sha[count]);
            rc = vip_journal_produced(d->journal, &entry, r->err);
            if (!rc && d->o.eml_dir) {
                /* A pickup folder: the message is handed over once its file is whole. */
                char path[4096], name[512];
                snprintf(name, sizeof name, "%s", basename_of(it->pdf_path));
                char *dot = strrchr(name, '.');
                if (dot)
                    *dot = '\0';
                snprintf(path, sizeof path, "%s/%s.eml", d->o.eml_dir, name);
                if (!(rc = vip_journal_sending(d->journal, it->identity, it->message_id, r->err))) {
                    vip_error we = {0};
                    if (vip_outfile_write_whole(path, data[count], len[count], &we)) {
                        it->status = VIP_DELIVER_FAILED;
                        snprintf(it->reason, sizeof it->reason, "%.500s", we.message);
                        rc = vip_journal_failed(d->journal, &entry, it->reason, r->err);
                    } else {
                        it->status = VIP_DELIVER_QUEUED;
                        snprintf(it->reason, sizeof it->reason, "written to the pickup folder as %s.eml", name);
                        rc = vip_journal_sent(d->journal, it->identity, it->reason, r->err);
                    }
                    if (!rc)
                        rc = record(r, it, sha[count]);
                }
                free(data[count]);
                data[count] = NULL;
            } else if (!rc && d->smtp) {
                if (!(rc = vip_journal_sending(d->journal, it->identity, it->message_id, r->err))) {
                    msgs[count] = (vip_smtp_message){d->from_spec, it->row->value[VIP_CASE_EMAIL], data[count],
                                                     len[count]};
                    sent[count++] = it;
                }
            } else if (!rc) {
                it->status = VIP_DELIVER_NOT_SENT;
                snprintf(it->reason, sizeof it->reason, "to email, but no mail server (--smtp URL, or smtp_url in "
                         "vipgen.conf [mail]) or pickup folder (--eml DIR) was given; sent on a later run");
                free(data[count]);
                data[count] = NULL;
            }
        } else {
            it->status = VIP_DELIVER_FAILED;
            snprintf(it->reason, sizeof it->reason, "the email could not be made: %.500s",
                     e.code ? e.message : r->err->message);
            vip_journal_entry entry = entry_of(r, it, NULL);
            rc = vip_journal_failed(d->journal, &entry, it->reason, r->err);
            if (!rc)
                rc = record(r, it, NULL);
        }
        free(pdf);
    }
    if (!rc && count) {
        sending s = {r, sent, sha};
        vip_smtp_callbacks cb = {on_data_going_out, on_outcome, &s};
        rc = vip_smtp_send(d->smtp, msgs, count, &cb, r->err);
        if (!rc && d->failed_io)
            rc = (*r->err = d->io_error).code;
    }
done:
    for (size_t k = 0; data && k < n; k++)
        free(data[k]);
    free(data);
    free(len);
    free(sha);
    free(msgs);
    free(sent);
    return rc;
}

int vip_deliver_run(vip_deliver *d, vip_deliver_item *items, size_t count,
                    vip_catalog *(*catalog_for)(void *user, const char *lang), void *user, vip_error *err)
{
    run r = {d, items, catalog_for, user, err};
    vip_deliver_item **email = calloc(count + 1, sizeof *email);
    vip_postpile_letter *post = calloc(count + 1, sizeof *post);
    vip_deliver_item **posted = calloc(count + 1, sizeof *posted);
    size_t emails = 0, posts = 0;
    int rc = VIP_OK;
    if (!email || !post || !posted) {
        rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < count && !rc; i++) {
        vip_deliver_item *it = &items[i];
        if (!it->pdf_path)
            continue; /* decided before producing: already sent, changed, uncertain */
        if (!it->identity[0] && identify(it, err)) {
            rc = err->code;
            break;
        }
        vip_deliver_status held = route(d, it);
        if (held == VIP_DELIVER_WITHHELD || held == VIP_DELIVER_NO_ROUTE) {
            it->status = held;
            char sha[VIP_JOURNAL_HASH_SIZE] = "";
            vip_error e = {0};
            vip_journal_file_sha256(it->pdf_path, sha, &e);
            vip_journal_entry entry = entry_of(&r, it, sha[0] ? sha : NULL);
            /* Held again for the same reasons: one event in the records, not one per run. */
            vip_journal_row before = {0};
            int again = vip_journal_lookup(d->journal, it->identity, &before, err) == VIP_OK &&
                        before.state == VIP_JOURNAL_WITHHELD && before.reply && !strcmp(before.reply, it->reason);
            vip_journal_row_clear(&before);
            if (!(rc = vip_journal_withheld(d->journal, &entry, it->reason, err)) && !again)
                rc = record(&r, it, sha[0] ? sha : NULL);
            continue;
        }
        if (!strcmp(it->channel, "email")) {
            email[emails++] = it;
        } else {
            post[posts] = (vip_postpile_letter){it->pdf_path, it->row->value[VIP_CASE_POSTCODE],
                                                it->row->value[VIP_CASE_CRIME_REF]};
            posted[posts++] = it;
        }
    }
    for (size_t k = 0; !rc && k < emails; k += CHUNK)
        rc = email_chunk(&r, email + k, emails - k < CHUNK ? emails - k : CHUNK);
    if (!rc && posts) {
        /* The journal says produced before the pile exists, posted once it does: a crash between the two posts the
         * letter again on the rerun rather than never. */
        char (*sha)[VIP_JOURNAL_HASH_SIZE] = calloc(posts, sizeof *sha);
        if (!sha)
            rc = vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
        for (size_t k = 0; !rc && k < posts; k++) {
            vip_error e = {0};
            vip_journal_file_sha256(posted[k]->pdf_path, sha[k], &e);
            vip_journal_entry entry = entry_of(&r, posted[k], sha[k][0] ? sha[k] : NULL);
            rc = vip_journal_produced(d->journal, &entry, err);
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/to-post.pdf", d->o.out_dir);
        vip_error pe = {0};
        int pile = rc ? rc : vip_postpile_write(path, post, posts, NULL, NULL, &pe);
        for (size_t k = 0; !rc && k < posts; k++) {
            vip_deliver_item *it = posted[k];
            if (pile) {
                it->status = VIP_DELIVER_FAILED;
                snprintf(it->reason, sizeof it->reason, "the post pile could not be written: %.500s", pe.message);
                vip_journal_entry entry = entry_of(&r, it, sha[k][0] ? sha[k] : NULL);
                rc = vip_journal_failed(d->journal, &entry, it->reason, err);
            } else {
                it->status = VIP_DELIVER_POSTED;
                if (!it->reason[0])
                    snprintf(it->reason, sizeof it->reason, "in to-post.pdf");
                rc = vip_journal_posted(d->journal, it->identity, err);
            }
            if (!rc)
                rc = record(&r, it, sha[k][0] ? sha[k] : NULL);
        }
        free(sha);
    }
    if (!rc)
        rc = vip_records_sync(d->records, err);
done:
    free(email);
    free(post);
    free(posted);
    return rc;
}
