/* vip_config: a force's configuration, vipgen.conf — a GLib key file read from /etc/vipgen/, then
 * $XDG_CONFIG_HOME/vipgen/ (~/.config/vipgen/), then the file given with --config, each overriding what the one
 * before it set. It holds the force's name, logo, addresses and numbers for the documents, where the data lives,
 * how the force's exports are written (date order, separator, its own column names and wording for vipgen's
 * codes), which offences are sensitive, and the sender and mail settings. Every key is checked when loaded: an
 * unknown group or key, a value of the wrong type or a mapping to a code that does not exist is refused with the
 * file, line and key, before anything is produced. Documented in etc/vipgen.conf.example and vipgen(1). */
#ifndef VIP_CONFIG_H
#define VIP_CONFIG_H

#include <stddef.h>

#include "case.h"
#include "error.h"

#define VIP_CONFIG_MAX_FILES 4
#define VIP_CONFIG_MAX_SENSITIVE 16

typedef struct vip_settings {
    /* [force]: printed on the documents; empty when not set */
    const char *force_name, *force_address, *force_website, *force_phone, *force_email;
    const char *force_logo;               /* a PNG, as an absolute path or relative to the working directory */
    /* [paths]: where the data lives (NULL: not set) */
    const char *templates, *translations, *fonts;
    /* [import] and the mapping groups, as vip_case_read_with takes them */
    vip_case_options import;
    /* [delivery] */
    const char *sensitive[VIP_CONFIG_MAX_SENSITIVE]; /* offence codes sent or posted only when safe_to_contact=yes */
    size_t sensitive_count;
    /* [mail] */
    const char *mail_from, *mail_reply_to, *mail_signature, *smtp_url, *smtp_credentials_file;
    const char *smtp_ca_file;             /* certificates to trust for the mail server (NULL: the system's) */
    int smtp_require_starttls;            /* 1 unless starttls = optional */
    int smtp_connections;                 /* parallel SMTP connections, 1–16 */
    int smtp_tries;                       /* tries for a temporary failure, 1–10 (default 5) */
    int smtp_retry_delay_ms;              /* the first wait before a retry, doubled each time (default 2000) */
    /* [output] */
    unsigned file_mode;                   /* mode of letters, reports and journals (default 0600) */
    /* the files read, in order */
    const char *files[VIP_CONFIG_MAX_FILES];
    size_t file_count;
} vip_settings;

typedef struct vip_config vip_config;

/* A configuration with the defaults only (no file read). */
vip_config *vip_config_create(vip_error *err);

/* Reads one file over what is set already. Relative paths in it are taken from the file's own directory. */
int vip_config_read_file(vip_config *config, const char *path, vip_error *err);

/* The defaults, then /etc/vipgen/vipgen.conf ($VIPGEN_SYSCONFDIR/vipgen.conf when set), then
 * $XDG_CONFIG_HOME/vipgen/vipgen.conf (default ~/.config), where they exist, then explicit_path (which must
 * exist) when given. */
vip_config *vip_config_load(const char *explicit_path, vip_error *err);
void vip_config_destroy(vip_config *config);

const vip_settings *vip_config_settings(const vip_config *config);

/* Whether an offence code is sensitive. */
int vip_config_offence_sensitive(const vip_config *config, const char *code);

#endif
