#include "mail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "lang.h"

static void mail_init_once(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        g_mime_init();
        g_once_init_leave(&done, 1);
    }
}

void vip_mail_global_cleanup(void)
{
    g_mime_shutdown();
}

void vip_mail_body_free(vip_mail_body *body)
{
    if (!body)
        return;
    g_free(body->text);
    g_free(body->html);
    body->text = body->html = NULL;
}

/* Appends s escaped for HTML text, '\n' becoming a line break. */
static void html_append_text(GString *out, const char *s)
{
    const char *line = s;
    for (;;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char *esc = g_markup_escape_text(line, (gssize)n);
        g_string_append(out, esc);
        g_free(esc);
        if (!nl)
            break;
        g_string_append(out, "<br>\n");
        line = nl + 1;
    }
}

int vip_mail_body_make(const char *lang, const char *title, const char *const *paragraphs, size_t count,
                       vip_mail_body *body, vip_error *err)
{
    body->text = body->html = NULL;
    const vip_lang *l = vip_lang_find(lang ? lang : "", err);
    if (!l)
        return err ? err->code : VIP_ERR_INPUT;
    if (!title || !g_utf8_validate(title, -1, NULL))
        return vip_error_set(err, VIP_ERR_INPUT, "email body: the title is missing or not valid UTF-8");
    for (size_t i = 0; i < count; i++)
        if (!paragraphs[i] || !g_utf8_validate(paragraphs[i], -1, NULL))
            return vip_error_set(err, VIP_ERR_INPUT, "email body: paragraph %zu is missing or not valid UTF-8", i + 1);

    /* GString aborts on allocation failure (GLib's policy), so these need no checks. */
    GString *text = g_string_new(NULL);
    for (size_t i = 0; i < count; i++) {
        if (i)
            g_string_append(text, "\n");
        g_string_append(text, paragraphs[i]);
        g_string_append(text, "\n");
    }

    /* A complete small document: no scripts, images, fonts or style sheets from anywhere, so nothing is fetched
     * when it is opened. Alignment is given explicitly as well as by dir, for mail readers that drop dir. */
    GString *html = g_string_new("<!DOCTYPE html>\n");
    g_string_append_printf(html, "<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>", l->tag,
                           l->rtl ? "rtl" : "ltr");
    html_append_text(html, title);
    g_string_append_printf(html, "</title>\n</head>\n<body style=\"text-align: %s;\">\n", l->rtl ? "right" : "left");
    for (size_t i = 0; i < count; i++) {
        g_string_append(html, "<p>");
        html_append_text(html, paragraphs[i]);
        g_string_append(html, "</p>\n");
    }
    g_string_append(html, "</body>\n</html>\n");

    body->text = g_string_free(text, FALSE);
    body->html = g_string_free(html, FALSE);
    return VIP_OK;
}

/* A host name: dot-separated labels of letters, digits and hyphens (not at either end of a label), at least two
 * labels, at most 253 characters. */
static int is_host_name(const char *s)
{
    size_t n = strlen(s), labels = 0, len = 0;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (len == 0 || len > 63 || s[i - 1] == '-')
                return 0;
            labels++;
            len = 0;
        } else if (g_ascii_isalnum(c) || (c == '-' && len > 0)) {
            len++;
        } else {
            return 0;
        }
    }
    return labels >= 2;
}

/* Writes a length-prefixed field into the checksum, so that ("ab", "c") and ("a", "bc") differ. */
static void checksum_field(GChecksum *sum, const void *data, size_t len)
{
    unsigned char prefix[8];
    uint64_t n = len;
    for (int i = 7; i >= 0; i--, n >>= 8)
        prefix[i] = (unsigned char)(n & 0xff);
    g_checksum_update(sum, prefix, sizeof prefix);
    if (len)
        g_checksum_update(sum, data, len);
}

char *vip_mail_message_id(const char *crime_ref, const char *victim_id, const unsigned char *pdf, size_t pdf_len,
                          const char *domain, vip_error *err)
{
    if (!crime_ref || !*crime_ref) {
        vip_error_set(err, VIP_ERR_INPUT, "Message-ID: the crime reference is empty");
        return NULL;
    }
    if (!domain || !is_host_name(domain)) {
        vip_error_set(err, VIP_ERR_INPUT, "Message-ID: '%s' is not a host name (like police.example.org)",
                      domain ? domain : "");
        return NULL;
    }
    if (!pdf && pdf_len) {
        vip_error_set(err, VIP_ERR_INPUT, "Message-ID: no PDF bytes");
        return NULL;
    }
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    static const char scheme[] = "vipgen message-id 1"; /* changes if the inputs ever change */
    checksum_field(sum, scheme, sizeof scheme - 1);
    checksum_field(sum, crime_ref, strlen(crime_ref));
    checksum_field(sum, victim_id ? victim_id : "", victim_id ? strlen(victim_id) : 0);
    checksum_field(sum, pdf, pdf_len);
    char *id = g_strdup_printf("%s@%s", g_checksum_get_string(sum), domain);
    g_checksum_free(sum);
    char *out = strdup(id);
    g_free(id);
    if (!out)
        vip_error_set(err, VIP_ERR_NOMEM, "Message-ID: out of memory");
    return out;
}

static int has_control_chars(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}

/* Parses address with GMime (strict mode) into exactly one mailbox; NULL with an error otherwise. GMime skips
 * what it cannot read ("a@b@c" gives "a@b"), so the address it found must be exactly the one written. */
static InternetAddressMailbox *parse_mailbox(const char *address, const char *what, vip_error *err)
{
    if (!address || !*address) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: no address given", what);
        return NULL;
    }
    if (!g_utf8_validate(address, -1, NULL) || has_control_chars(address)) {
        vip_error_set(err, VIP_ERR_INPUT, "%s: the address has control characters or is not valid UTF-8", what);
        return NULL;
    }
    mail_init_once();
    GMimeParserOptions *options = g_mime_parser_options_new();
    g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_STRICT);
    InternetAddressList *list = internet_address_list_parse(options, address);
    g_mime_parser_options_free(options);
    InternetAddressMailbox *mailbox = NULL;
    const char *why = NULL;
    if (!list || internet_address_list_length(list) != 1) {
        why = "it is not one RFC 5322 address (like Name <name@example.org>)";
    } else {
        InternetAddress *a = internet_address_list_get_address(list, 0);
        if (!INTERNET_ADDRESS_IS_MAILBOX(a)) {
            why = "a group is not allowed";
        } else {
            mailbox = INTERNET_ADDRESS_MAILBOX(a);
            /* The written addr-spec: between the last '<' and a final '>', or the whole text. */
            const char *lt = strrchr(address, '<');
            char *written;
            if (lt) {
                const char *gt = strchr(lt, '>');
                const char *rest = gt ? gt + 1 : lt;
                while (*rest == ' ' || *rest == '\t')
                    rest++;
                written = gt && !*rest ? g_strndup(lt + 1, (gsize)(gt - lt - 1)) : NULL;
            } else {
                written = g_strstrip(g_strdup(address));
            }
            const char *addr = internet_address_mailbox_get_addr(mailbox);
            const char *idn = internet_address_mailbox_get_idn_addr(mailbox);
            const char *at = addr ? strchr(addr, '@') : NULL;
            const char *idn_at = idn ? strrchr(idn, '@') : NULL;
            if (!written || !addr || strcmp(written, addr) != 0)
                why = "it is not one RFC 5322 address (like Name <name@example.org>)";
            else if (!at || at == addr || strchr(at + 1, '@') || !idn_at || !is_host_name(idn_at + 1))
                why = "the address needs a name, one '@' and a domain (like name@example.org)";
            g_free(written);
            if (!why)
                g_object_ref(mailbox);
            else
                mailbox = NULL;
        }
    }
    if (list)
        g_object_unref(list);
    if (why)
        vip_error_set(err, VIP_ERR_INPUT, "%s: '%s' is refused: %s", what, address, why);
    return mailbox;
}

int vip_mail_address_check(const char *address, const char *what, char **addr_spec, vip_error *err)
{
    InternetAddressMailbox *mailbox = parse_mailbox(address, what, err);
    if (!mailbox)
        return err ? err->code : VIP_ERR_INPUT;
    int rc = VIP_OK;
    if (addr_spec) {
        /* The IDN (ASCII) form: what an SMTP server without SMTPUTF8 accepts in the envelope. */
        *addr_spec = strdup(internet_address_mailbox_get_idn_addr(mailbox));
        if (!*addr_spec)
            rc = vip_error_set(err, VIP_ERR_NOMEM, "%s: out of memory", what);
    }
    g_object_unref(mailbox);
    return rc;
}

/* A boundary derived from the Message-ID, so the output is the same each time. It starts with "=_", which never
 * occurs in quoted-printable or base64 text (a literal '=' is always encoded there), the only encodings used. */
static char *boundary_for(const char *message_id, const char *which)
{
    char *hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, message_id, -1);
    char *b = g_strdup_printf("=_vipgen_%s_%.32s", which, hex);
    g_free(hex);
    return b;
}

static GMimePart *text_part(const char *subtype, const char *text)
{
    /* The UTF-8 bytes go in as they are: g_mime_text_part_set_text would convert them to the "best" charset
     * (ISO-8859-1 for "Seán"), and the brief for every part is utf-8. */
    GMimePart *part = g_mime_part_new_with_type("text", subtype);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeDataWrapper *wrapper = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, wrapper);
    g_object_unref(wrapper);
    g_object_unref(stream);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return part;
}

static int check_text(const char *s, const char *what, int single_line, vip_error *err)
{
    if (!s || !*s)
        return vip_error_set(err, VIP_ERR_INPUT, "%s: missing", what);
    if (!g_utf8_validate(s, -1, NULL))
        return vip_error_set(err, VIP_ERR_INPUT, "%s: not valid UTF-8", what);
    if (single_line && has_control_chars(s))
        return vip_error_set(err, VIP_ERR_INPUT, "%s: control characters (such as line breaks) are not allowed", what);
    return VIP_OK;
}

int vip_mail_build(const vip_mail_letter *letter, char **data, size_t *len, vip_error *err)
{
    *data = NULL;
    *len = 0;
    int rc;
    if ((rc = check_text(letter->subject, "Subject", 1, err)) || (rc = check_text(letter->message_id, "Message-ID", 1, err)) ||
        (rc = check_text(letter->pdf_name, "attachment file name", 1, err)) ||
        (rc = check_text(letter->lang, "language", 1, err)))
        return rc;
    if (letter->to_name && (rc = check_text(letter->to_name, "To name", 1, err)))
        return rc;
    if (!letter->body || !letter->body->text || !letter->body->html)
        return vip_error_set(err, VIP_ERR_INPUT, "email body: missing");
    if (!letter->pdf || !letter->pdf_len)
        return vip_error_set(err, VIP_ERR_INPUT, "attachment: no PDF bytes");
    if (strchr(letter->message_id, '<') || strchr(letter->message_id, '>') || !strchr(letter->message_id, '@'))
        return vip_error_set(err, VIP_ERR_INPUT, "Message-ID: '%s' must be id@domain, without angle brackets",
                             letter->message_id);

    InternetAddressMailbox *from = parse_mailbox(letter->from, "From", err);
    if (!from)
        return err ? err->code : VIP_ERR_INPUT;
    InternetAddressMailbox *reply_to = NULL, *to = NULL;
    if (letter->reply_to && !(reply_to = parse_mailbox(letter->reply_to, "Reply-To", err))) {
        g_object_unref(from);
        return err ? err->code : VIP_ERR_INPUT;
    }
    if (!(to = parse_mailbox(letter->to, "To", err))) {
        g_object_unref(from);
        if (reply_to)
            g_object_unref(reply_to);
        return err ? err->code : VIP_ERR_INPUT;
    }
    /* The victim's name comes from case data: set as a display name object, never pasted into header text. */
    if (letter->to_name)
        internet_address_set_name(INTERNET_ADDRESS(to), letter->to_name);

    GMimeMessage *message = g_mime_message_new(FALSE);
    GMimeObject *mobj = GMIME_OBJECT(message);
    internet_address_list_add(g_mime_message_get_from(message), INTERNET_ADDRESS(from));
    if (reply_to)
        internet_address_list_add(g_mime_message_get_reply_to(message), INTERNET_ADDRESS(reply_to));
    internet_address_list_add(g_mime_message_get_to(message), INTERNET_ADDRESS(to));
    g_object_unref(from);
    if (reply_to)
        g_object_unref(reply_to);
    g_object_unref(to);
    g_mime_message_set_subject(message, letter->subject, "utf-8");
    GDateTime *date = g_date_time_new_from_unix_utc((gint64)letter->date);
    g_mime_message_set_date(message, date);
    g_date_time_unref(date);
    g_mime_message_set_message_id(message, letter->message_id);
    g_mime_object_set_header(mobj, "MIME-Version", "1.0", NULL);
    g_mime_object_set_header(mobj, "Content-Language", letter->lang, NULL);

    GMimeMultipart *alternative = g_mime_multipart_new_with_subtype("alternative");
    char *b = boundary_for(letter->message_id, "alt");
    g_mime_multipart_set_boundary(alternative, b);
    g_free(b);
    GMimePart *plain = text_part("plain", letter->body->text), *html = text_part("html", letter->body->html);
    g_mime_multipart_add(alternative, GMIME_OBJECT(plain));
    g_mime_multipart_add(alternative, GMIME_OBJECT(html));
    g_object_unref(plain);
    g_object_unref(html);

    GMimePart *pdf = g_mime_part_new_with_type("application", "pdf");
    GMimeStream *pdf_stream = g_mime_stream_mem_new_with_buffer((const char *)letter->pdf, letter->pdf_len);
    GMimeDataWrapper *wrapper = g_mime_data_wrapper_new_with_stream(pdf_stream, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(pdf, wrapper);
    g_object_unref(wrapper);
    g_object_unref(pdf_stream);
    g_mime_object_set_disposition(GMIME_OBJECT(pdf), GMIME_DISPOSITION_ATTACHMENT);
    g_mime_part_set_filename(pdf, letter->pdf_name);
    g_mime_part_set_content_encoding(pdf, GMIME_CONTENT_ENCODING_BASE64);

    GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
    b = boundary_for(letter->message_id, "mixed");
    g_mime_multipart_set_boundary(mixed, b);
    g_free(b);
    g_mime_multipart_add(mixed, GMIME_OBJECT(alternative));
    g_mime_multipart_add(mixed, GMIME_OBJECT(pdf));
    g_object_unref(alternative);
    g_object_unref(pdf);
    g_mime_message_set_mime_part(message, GMIME_OBJECT(mixed));
    g_object_unref(mixed);

    GMimeFormatOptions *format = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_format_options_set_param_encoding_method(format, GMIME_PARAM_ENCODING_METHOD_RFC2231);
    GMimeStream *out = g_mime_stream_mem_new();
    ssize_t written = g_mime_object_write_to_stream(mobj, format, out);
    g_mime_format_options_free(format);
    g_object_unref(message);
    if (written < 0) {
        g_object_unref(out);
        return vip_error_set(err, VIP_ERR_INTERNAL, "email: GMime could not write the message");
    }
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
    *data = malloc(bytes->len + 1);
    if (!*data) {
        g_object_unref(out);
        return vip_error_set(err, VIP_ERR_NOMEM, "email: out of memory");
    }
    memcpy(*data, bytes->data, bytes->len);
    (*data)[bytes->len] = '\0';
    *len = bytes->len;
    g_object_unref(out);
    return VIP_OK;
}
