/* vip_deliver: the delivery stage. After a batch's letters are produced, each goes to its victim — by email where
 * there is a usable address (a MIME message into a pickup folder, or sent over SMTP), on paper otherwise (one
 * print-ready DIR/to-post.pdf sorted by postcode) — unless it is not safe: a letter about a sensitive offence goes
 * only where the row says safe_to_contact=yes, and never where it says no; such a letter keeps its PDF for an
 * officer to hand over and is listed as withheld, with the reason. No subject, no file name and no line seen on an
 * envelope names the offence.
 *
 * A journal (SQLite, DIR/journal.sqlite) remembers every row, so that a rerun — after a crash at any moment — sends
 * nothing twice: a sent row is reported as already sent, a failed one is tried again, a row changed since it was
 * sent is reported and not resent unless asked, and a message that may have gone out (DATA sent, no reply) is
 * listed as uncertain and resent only on request. Every delivery event is appended to DIR/records.csv for the
 * force's records system. Delivery reads finished documents and case rows; it never reaches into layout. */
#ifndef VIP_DELIVER_H
#define VIP_DELIVER_H

#include <stddef.h>

#include "case.h"
#include "catalog.h"
#include "config.h"
#include "error.h"

typedef struct vip_deliver_options {
    const char *out_dir;          /* where the letters are */
    const char *journal_path;     /* NULL: out_dir/journal.sqlite */
    const char *eml_dir;          /* write each email as NAME.eml there (a mail server's pickup folder); NULL: no */
    const char *smtp_url;         /* send over SMTP (smtp:// with STARTTLS, smtps://); NULL: no */
    const char *const *resend;    /* crime references to send again although the journal says sent or uncertain */
    size_t resend_count;
    const vip_settings *settings; /* sender, mail settings, sensitive offences; required */
    const char *template_path;    /* the letter template, whose digest goes into records.csv */
} vip_deliver_options;

/* What became of one row. */
typedef enum vip_deliver_status {
    VIP_DELIVER_NOT_SENT = 0,     /* produced; an email with nowhere to go (neither --smtp nor --eml) */
    VIP_DELIVER_SENT,             /* accepted by the mail server */
    VIP_DELIVER_QUEUED,           /* written to the pickup folder */
    VIP_DELIVER_POSTED,           /* in to-post.pdf */
    VIP_DELIVER_WITHHELD,         /* not safe to send or post: for an officer to hand over */
    VIP_DELIVER_NO_ROUTE,         /* contact is none: for an officer */
    VIP_DELIVER_FAILED,           /* refused by the server, or it could not be reached: tried again on a rerun */
    VIP_DELIVER_UNCERTAIN,        /* sent, no reply: may have been delivered; resent only with --resend */
    VIP_DELIVER_ALREADY_DONE,     /* sent or posted by an earlier run */
    VIP_DELIVER_CHANGED           /* sent earlier, and its data changed since: not resent without --resend */
} vip_deliver_status;

const char *vip_deliver_status_name(vip_deliver_status status);

/* One row of the batch: its case row and letter in, what became of it out. */
typedef struct vip_deliver_item {
    const vip_case_row *row;
    const char *pdf_path;         /* the letter (NULL: not produced in this run, for a row decided before) */
    vip_deliver_status status;
    char channel[8];              /* email, post or none */
    char message_id[160];
    char reason[600];
    /* the stage's own: the row's identity in the journal and the digest of its data */
    char identity[256];
    char content_hash[65];
} vip_deliver_item;

typedef struct vip_deliver vip_deliver;

/* Opens the journal and records and, when sending, checks the sender's addresses and the mail server (connect,
 * STARTTLS, AUTH with the configured credentials): a server without a scheme, one that cannot be reached or wrong
 * credentials are one error before anything is produced or sent. Credentials come from the configuration's
 * credentials_file (user, then password, one line each; it must not be readable by other users) or from
 * $VIPGEN_SMTP_USER and $VIPGEN_SMTP_PASSWORD, never from the command line, and appear in no message. */
vip_deliver *vip_deliver_open(const vip_deliver_options *options, vip_error *err);
void vip_deliver_close(vip_deliver *deliver);

/* Before producing: whether the row needs its letter now. 0 when the journal says it is done (already sent or
 * posted, changed since, or uncertain): item->status and reason say which, and it is not produced again. */
int vip_deliver_wanted(vip_deliver *deliver, vip_deliver_item *item, vip_error *err);

/* Delivers the produced letters (items with pdf_path), each in its language: catalog_for gives the catalogue of a
 * language tag, for the email's subject and body (email.* units). Fills every item's status; fails only when the
 * journal or records cannot be written (the disk is full), which stops the batch with the journal consistent. */
int vip_deliver_run(vip_deliver *deliver, vip_deliver_item *items, size_t count,
                    vip_catalog *(*catalog_for)(void *user, const char *lang), void *user, vip_error *err);

#endif
