/* vip_smtp: sending finished messages with libcurl's SMTP, a batch at a time, each message's outcome reported as
 * it happens.
 *
 * Servers: "smtps://host[:port]" (TLS from the start) or "smtp://host[:port]" with STARTTLS required. Plain-text
 * smtp:// (no STARTTLS at all) only when the caller asks for it and only to a loopback host (127.0.0.0/8, ::1,
 * localhost): a local relay or a test server. A URL without a scheme, with another scheme or with credentials in
 * it is refused. The user name and password are the caller's; they are never logged, never in an error message,
 * and curl's verbose output stays off.
 *
 * Outcomes: SENT (the server's 2xx reply after the final dot), PERMANENT (a 5xx reply: recorded, not retried),
 * TEMPORARY (a 4xx reply, no connection, or the connection lost before the whole message was handed over: retried
 * with doubling delays, and reported as TEMPORARY once the tries are used up) and UNCERTAIN (the whole message
 * went out and no reply came: the server may have accepted it, so it is never retried).
 *
 * libcurl is initialised once per process on first use; vip_smtp_global_cleanup releases it at exit. */
#ifndef VIP_SMTP_H
#define VIP_SMTP_H

#include <stddef.h>

#include "error.h"

typedef struct vip_smtp_options {
    const char *url;          /* smtps://host[:port] or smtp://host[:port] (an optional /path is curl's EHLO name) */
    const char *username;     /* AUTH user name, or NULL for no AUTH */
    const char *password;     /* AUTH password (copied, wiped on destroy) */
    int starttls_optional;    /* 1: smtp:// in plain text, no STARTTLS; refused unless the host is loopback */
    const char *ca_file;      /* PEM CA bundle to verify the server with (tests: their self-signed certificate);
                                 NULL: the system's */
    unsigned connections;     /* messages in flight at once, each on its own connection; 0: 4 */
    unsigned tries;           /* attempts per message for temporary failures; 0: 5 */
    unsigned first_delay_ms;  /* wait before the second attempt, doubled for each further one; 0: 2000 */
    unsigned timeout_ms;      /* the longest one attempt may take, connecting included; 0: 120000 */
} vip_smtp_options;

typedef struct vip_smtp vip_smtp;

/* Checks the options (URL, scheme, loopback rule) and copies them. Nothing is sent. */
vip_smtp *vip_smtp_create(const vip_smtp_options *options, vip_error *err);
/* Closes the connections (QUIT) and wipes the password. NULL is fine. */
void vip_smtp_destroy(vip_smtp *smtp);

/* Connects, EHLO, STARTTLS, AUTH, NOOP and QUIT, sending no mail: an unreachable server, a missing STARTTLS, a
 * certificate that does not verify or wrong credentials is one error naming the server (never the password). */
int vip_smtp_check(vip_smtp *smtp, vip_error *err);

/* One message: envelope addresses (bare, e.g. "jane@example.org"; see vip_mail_address_check) and the whole
 * message as built by vip_mail_build (CRLF line ends; curl adds the dot-stuffing and the final dot). */
typedef struct vip_smtp_message {
    const char *from;
    const char *to;
    const char *data;
    size_t len;
} vip_smtp_message;

typedef enum {
    VIP_SMTP_SENT = 0,
    VIP_SMTP_PERMANENT,
    VIP_SMTP_TEMPORARY,
    VIP_SMTP_UNCERTAIN
} vip_smtp_status;

typedef struct vip_smtp_outcome {
    vip_smtp_status status;
    long code;          /* the server's last reply code, 0 if none came */
    const char *reply;  /* the server's last reply, e.g. "250 OK queued as 1234" ("" if none came) */
    const char *detail; /* what happened in words ("" when SENT), e.g. "Connection refused" */
    unsigned tries;     /* attempts made */
} vip_smtp_outcome;

typedef struct vip_smtp_callbacks {
    /* Called with the message's index (into the batch) just before the last bytes of its DATA are handed to
     * curl: from then on the server may accept it at any moment, so a crash after this call leaves the message
     * "maybe sent". Called once per attempt that gets this far. May be NULL. */
    void (*data_going_out)(void *user, size_t index);
    /* Called once per message with its final outcome; the strings live until the callback returns. */
    void (*outcome)(void *user, size_t index, const vip_smtp_outcome *outcome);
    void *user;
} vip_smtp_callbacks;

/* Sends count messages over up to options.connections connections, reused from message to message. Returns
 * non-zero only for a failure of the whole batch (bad envelope address, out of memory, curl failing); outcomes
 * of messages, failures included, go to callbacks->outcome. Each message gets exactly one outcome unless an error
 * is returned. */
int vip_smtp_send(vip_smtp *smtp, const vip_smtp_message *messages, size_t count, const vip_smtp_callbacks *callbacks,
                  vip_error *err);

/* The status as a word: "sent", "permanent", "temporary", "uncertain". */
const char *vip_smtp_status_name(vip_smtp_status status);

/* Releases libcurl's global state; no vip_smtp call may follow. For tests and program exit. */
void vip_smtp_global_cleanup(void);

#endif
