/* vip_mail: one email per letter, built with GMime (never by hand): From, Reply-To, To, Subject (RFC 2047),
 * Date, Message-ID, MIME-Version, then multipart/mixed holding multipart/alternative (text/plain and text/html,
 * UTF-8, quoted-printable) and the letter as an application/pdf attachment (base64, RFC 2231 file name). Lines end
 * in CRLF. The same inputs always give the same bytes: MIME boundaries are derived from the Message-ID, and the
 * Message-ID from the crime reference, the victim and the PDF.
 *
 * The subject and the body are the caller's content. They must never name the offence (a letter about domestic
 * abuse may be seen by someone else at the victim's address): take them from the email.* catalogue units, which
 * name only the crime reference, the victim, the officer and the force.
 *
 * GMime is initialised once per process on first use (thread-safe); vip_mail_global_cleanup releases it at exit. */
#ifndef VIP_MAIL_H
#define VIP_MAIL_H

#include <stddef.h>
#include <time.h>

#include "error.h"

/* The two alternative bodies of a message: plain text and a small complete HTML document. */
typedef struct vip_mail_body {
    char *text; /* UTF-8, paragraphs separated by blank lines, LF line ends (GMime writes CRLF) */
    char *html; /* UTF-8: <!DOCTYPE html><html lang="TAG" dir="rtl|ltr">..., every text escaped, no remote resources */
} vip_mail_body;

/* Builds both bodies from paragraphs (UTF-8 strings; a '\n' inside one is a line break). lang is a supported
 * BCP 47 tag: it gives the HTML's lang and dir (rtl and right-aligned for Arabic, Farsi and Urdu). title (the
 * subject, usually) is the HTML <title>. Invalid UTF-8 is refused naming the paragraph. Free with vip_mail_body_free. */
int vip_mail_body_make(const char *lang, const char *title, const char *const *paragraphs, size_t count,
                       vip_mail_body *body, vip_error *err);
void vip_mail_body_free(vip_mail_body *body);

/* A deterministic Message-ID, without angle brackets: "<64 hex digits>@domain", the hex being the SHA-256 of the
 * crime reference, the victim id (may be NULL or "": the row's identity is then the crime reference alone) and the
 * PDF's bytes, each length-prefixed so that no two different inputs run together. domain is a host name
 * (e.g. the sender's domain). malloc'd; NULL with an error when domain is not a host name. */
char *vip_mail_message_id(const char *crime_ref, const char *victim_id, const unsigned char *pdf, size_t pdf_len,
                          const char *domain, vip_error *err);

/* Checks one RFC 5322 address ("Northshire Police <no-reply@northshire.police.uk>" or "a@example.org") as GMime
 * parses it: exactly one mailbox, nothing dropped, a host-name domain with a dot, no control characters. When
 * addr_spec is not NULL it receives the bare address (malloc'd), e.g. for the SMTP envelope. what names the
 * address in the error ("From", "Reply-To", ...). */
int vip_mail_address_check(const char *address, const char *what, char **addr_spec, vip_error *err);

/* One letter's email. Strings are UTF-8. */
typedef struct vip_mail_letter {
    const char *from;       /* RFC 5322 address, display name allowed (from the configuration) */
    const char *reply_to;   /* RFC 5322 address, or NULL for none */
    const char *to;         /* the victim's bare address, e.g. "jane@example.org" */
    const char *to_name;    /* the victim's name as the To display name, or NULL (encoded by GMime) */
    const char *subject;    /* encoded per RFC 2047 where it is not ASCII */
    time_t date;            /* the Date header, written in UTC */
    const char *message_id; /* from vip_mail_message_id (without angle brackets) */
    const char *lang;       /* the letter's language: Content-Language */
    const vip_mail_body *body;
    const char *pdf_name;   /* the attachment's file name (RFC 2231 encoded where it is not ASCII) */
    const unsigned char *pdf;
    size_t pdf_len;
} vip_mail_letter;

/* Builds the message: *data (malloc'd, CRLF line ends, no NUL added to the count) and *len. An address that does
 * not parse, a missing field or text that is not UTF-8 is refused with an error naming the header. */
int vip_mail_build(const vip_mail_letter *letter, char **data, size_t *len, vip_error *err);

/* Releases GMime's global state; no vip_mail call may follow. For tests and program exit. */
void vip_mail_global_cleanup(void);

#endif
