/* vip_records: DIR/records.csv, one line per delivery event for the force's records system. Append-only across runs:
 * the file is opened with O_APPEND and never truncated or rewritten; its header is written only when the file is
 * new or empty; each line goes out whole in one write() (under an exclusive flock, so lines from concurrent
 * processes never interleave within a line, and a line cut short by a full disk is taken back), and lines are
 * flushed to disk (fdatasync) every VIP_RECORDS_SYNC_EVERY lines and at vip_records_sync/close. RFC 4180 CSV: every
 * field quoted through libcsv, lines ended by CRLF, UTF-8. A file whose first line is not this header is someone
 * else's and is refused. */
#ifndef VIP_RECORDS_H
#define VIP_RECORDS_H

#include "error.h"

#define VIP_RECORDS_HEADER                                                                                        \
    "crime_ref,victim_id,language,channel,status,timestamp,file,sha256,message_id,template_version,"              \
    "catalogue_version,reason"
#define VIP_RECORDS_SYNC_EVERY 64

/* One delivery event. NULL fields are written empty, except timestamp: NULL means now (UTC ISO 8601,
 * "2024-03-05T09:30:00Z"). channel: email, post or none; status: e.g. sent, posted, failed, withheld, uncertain. */
typedef struct vip_records_line {
    const char *crime_ref, *victim_id, *language, *channel, *status, *timestamp, *file, *sha256, *message_id,
        *template_version, *catalogue_version, *reason;
} vip_records_line;

typedef struct vip_records vip_records;

/* Opens path for appending, creating it (mode vip_outfile_mode(), with the header) when it does not exist, and
 * writing the header when it exists empty. Refused, with the reason, and left as it is: a file whose first line is
 * not VIP_RECORDS_HEADER, one that does not end with a complete line, a symlink, anything not a regular file. */
vip_records *vip_records_open(const char *path, vip_error *err);

/* Appends one line (written at once; on disk by the next sync). An error names the file; nothing of the line stays
 * in the file then. */
int vip_records_append(vip_records *records, const vip_records_line *line, vip_error *err);

/* Flushes the lines appended so far to disk. */
int vip_records_sync(vip_records *records, vip_error *err);

/* Syncs, closes and frees (NULL is fine); an error if the final sync failed. */
int vip_records_close(vip_records *records, vip_error *err);

#endif
