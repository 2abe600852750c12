/* vip_journal: the batch's memory of what happened to every row, so that nothing is sent twice or lost, even after
 * a crash. One SQLite database per output directory (WAL mode; every state change is its own transaction, which
 * survives kill -9 of the process once the call has returned). The journal records the output directory it belongs
 * to and is refused for any other, as is a file that is not a vipgen journal or fails SQLite's quick_check; a
 * refused file is never written to. One process at a time: vip_journal_open takes an exclusive lock that a second
 * batch on the same journal does not get. Use a journal from the process and thread that opened it (never across
 * fork). */
#ifndef VIP_JOURNAL_H
#define VIP_JOURNAL_H

#include <stddef.h>

#include "error.h"

/* Hex SHA-256 (64 characters) plus its NUL. */
#define VIP_JOURNAL_HASH_SIZE 65

typedef enum vip_journal_state {
    VIP_JOURNAL_NOT_FOUND = 0, /* lookups only: no such row */
    VIP_JOURNAL_PRODUCED,      /* its PDF is written; not sent or posted */
    VIP_JOURNAL_SENDING,       /* a message is being handed to SMTP; the final dot has not gone */
    VIP_JOURNAL_DATA_SENT,     /* the final bytes of DATA are going or gone; no reply yet */
    VIP_JOURNAL_SENT,          /* the server accepted the message */
    VIP_JOURNAL_POSTED,        /* the letter is in the post pile */
    VIP_JOURNAL_FAILED,        /* producing or sending failed; retried on the next run */
    VIP_JOURNAL_WITHHELD,      /* not to be sent or posted (contact rules); the reason says why */
    VIP_JOURNAL_UNCERTAIN      /* DATA went out with no reply: it may have been delivered; resent only on request */
} vip_journal_state;

typedef enum vip_journal_channel {
    VIP_JOURNAL_CHANNEL_NONE = 0,
    VIP_JOURNAL_CHANNEL_EMAIL,
    VIP_JOURNAL_CHANNEL_POST
} vip_journal_channel;

/* "produced", "sending", ..., "uncertain" ("not found" for VIP_JOURNAL_NOT_FOUND); "email", "post", "none". */
const char *vip_journal_state_name(vip_journal_state state);
const char *vip_journal_channel_name(vip_journal_channel channel);

/* SHA-256 of a row's values, in order, each length-prefixed so that no two different rows hash alike. */
void vip_journal_content_hash(const char *const *values, size_t count, char out[VIP_JOURNAL_HASH_SIZE]);
/* SHA-256 of a file's bytes (for the PDF); an error names the file. */
int vip_journal_file_sha256(const char *path, char out[VIP_JOURNAL_HASH_SIZE], vip_error *err);
/* A row's identity: "CRIME_REF#id:VICTIM_ID" with a victim_id (non-empty), else "CRIME_REF#content:HASH" (the
 * content hash of the row, so a row without victim_id that changes is a new row). Newly allocated; NULL when out
 * of memory. */
char *vip_journal_identity(const char *crime_ref, const char *victim_id, const char *content_hash);

/* A row as the journal holds it. Strings are owned by the row (free with vip_journal_row_clear); absent ones are
 * "". Timestamps are UTC ISO 8601 ("2024-03-05T09:30:00Z"). */
typedef struct vip_journal_row {
    char *identity, *crime_ref, *victim_id, *language;
    vip_journal_channel channel;
    vip_journal_state state;
    char *content_hash;   /* the row's content when last recorded */
    char *delivered_hash; /* its content when it was last sent or posted ("" if never) */
    char *first_seen, *last_change;
    char *file, *file_sha256; /* the PDF's file name and SHA-256 */
    char *message_id;
    char *reply; /* the server's reply, or the reason (withheld, failed, uncertain) */
    int attempts; /* how many times it was handed to SMTP */
} vip_journal_row;

void vip_journal_row_clear(vip_journal_row *row);

/* What a row's state means for the run about to handle it. */
typedef enum vip_journal_decision {
    VIP_JOURNAL_GO = 1,         /* new, produced, withheld before, or failed (a retry): produce and send or post */
    VIP_JOURNAL_ALREADY_DONE,   /* sent or posted with this content: report "already sent", do nothing */
    VIP_JOURNAL_CHANGED,        /* sent or posted, and its content changed since: report, do not resend */
    VIP_JOURNAL_HELD_UNCERTAIN, /* may have been delivered (uncertain): list it, do not resend */
    VIP_JOURNAL_IN_PROGRESS     /* being sent in this run (the same identity twice in one batch): do nothing */
} vip_journal_decision;

typedef struct vip_journal vip_journal;

/* Opens path, the journal of output_dir (an existing directory), creating it (mode vip_outfile_mode(), created
 * whole under a temporary name and linked into place) if it does not exist. Refused, with the reason, and left as
 * it is: a file that is not a vipgen journal, one of a newer schema, one that fails quick_check, one that belongs
 * to another output directory, or one another process has open. */
vip_journal *vip_journal_open(const char *path, const char *output_dir, vip_error *err);
void vip_journal_close(vip_journal *journal);
const char *vip_journal_path(const vip_journal *journal);

/* At the start of a run: rows left in data_sent become uncertain (the message may have been delivered), rows left in
 * sending go back to produced (the server accepts a message only after the final dot). Counts may be NULL. */
int vip_journal_recover(vip_journal *journal, size_t *made_uncertain, size_t *made_produced, vip_error *err);

/* Fills *row (row->state is VIP_JOURNAL_NOT_FOUND, and its strings NULL, when there is none). */
int vip_journal_lookup(vip_journal *journal, const char *identity, vip_journal_row *row, vip_error *err);

/* Whether to produce and send or post the row now, given its current content hash. resend: the caller was asked to
 * resend this crime reference (--resend), which turns ALREADY_DONE, CHANGED and HELD_UNCERTAIN into GO. */
int vip_journal_decide(vip_journal *journal, const char *identity, const char *content_hash, int resend,
                       vip_journal_decision *decision, vip_error *err);

/* The row being recorded. identity, crime_ref and content_hash are required; the others may be NULL (kept as they
 * were, or "" for a new row). resend: the caller was asked to resend it, which allows recording a row that was sent,
 * posted or uncertain as produced, withheld or failed again (otherwise refused, VIP_ERR_INTERNAL). */
typedef struct vip_journal_entry {
    const char *identity, *crime_ref, *victim_id, *language;
    vip_journal_channel channel;
    const char *content_hash;
    const char *file, *file_sha256;
    int resend;
} vip_journal_entry;

/* Each call below is one transaction. A state change the row's state does not allow (sending a withheld row, sent
 * before sending, produced while sending...) is refused with VIP_ERR_INTERNAL and changes nothing; a full disk or
 * any write failure is VIP_ERR_IO and changes nothing. */

/* The PDF is written; a new row, or one that was produced, failed or withheld before. */
int vip_journal_produced(vip_journal *journal, const vip_journal_entry *entry, vip_error *err);
/* Not to be sent or posted, with the reason. */
int vip_journal_withheld(vip_journal *journal, const vip_journal_entry *entry, const char *reason, vip_error *err);
/* Producing failed, or sending failed for good (a 5xx reply, retries exhausted), with the reason or reply. Allowed
 * from any state but sent, posted and uncertain (those need entry->resend). */
int vip_journal_failed(vip_journal *journal, const vip_journal_entry *entry, const char *reason, vip_error *err);

/* Before the message is handed to SMTP (from produced, failed or sending: a retry); counts an attempt. */
int vip_journal_sending(vip_journal *journal, const char *identity, const char *message_id, vip_error *err);
/* Just before the final bytes of DATA go (from sending). */
int vip_journal_data_sent(vip_journal *journal, const char *identity, vip_error *err);
/* The server's reply: accepted (from sending or data_sent). */
int vip_journal_sent(vip_journal *journal, const char *identity, const char *reply, vip_error *err);
/* No reply after DATA: may have been delivered (from sending or data_sent). */
int vip_journal_uncertain(vip_journal *journal, const char *identity, const char *reason, vip_error *err);
/* The letter went into the post pile (from produced or failed). */
int vip_journal_posted(vip_journal *journal, const char *identity, vip_error *err);

/* The rows in a state, oldest first (by first seen, then identity): *rows is a new array of *count rows (NULL when
 * none); free with vip_journal_rows_free. */
int vip_journal_list(vip_journal *journal, vip_journal_state state, vip_journal_row **rows, size_t *count,
                     vip_error *err);
void vip_journal_rows_free(vip_journal_row *rows, size_t count);
/* How many rows are in a state (VIP_JOURNAL_NOT_FOUND: all rows). */
int vip_journal_count(vip_journal *journal, vip_journal_state state, size_t *count, vip_error *err);

#endif
