#include "smtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

enum { REPLY_MAX = 1024 };

/* One transfer in flight: the easy handle (kept, with its options, from message to message so that the multi
 * handle's connections are reused) and what the callbacks need to know about the message it carries. */
typedef struct slot {
    CURL *easy;
    int busy;
    size_t index;
    const vip_smtp_message *message;
    size_t handed_out; /* bytes of the message the read callback has given curl */
    int hook_called;
    const vip_smtp_callbacks *callbacks;
    struct curl_slist *rcpt;
    char *mail_from;
    char reply[REPLY_MAX]; /* the server's latest reply, its lines joined by spaces */
    size_t reply_len;
    int reply_complete; /* the latest line was the reply's last: the next one starts a new reply */
    long reply_code;
    char errbuf[CURL_ERROR_SIZE];
} slot;

struct vip_smtp {
    char *url;
    char *username;
    char *password;
    char *ca_file;
    int plain;
    unsigned connections, tries, first_delay_ms, timeout_ms;
    CURLM *multi;
    slot *slots;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void vip_smtp_global_cleanup(void)
{
    if (curl_init_result == CURLE_OK)
        curl_global_cleanup();
}

const char *vip_smtp_status_name(vip_smtp_status status)
{
    switch (status) {
    case VIP_SMTP_SENT: return "sent";
    case VIP_SMTP_PERMANENT: return "permanent";
    case VIP_SMTP_TEMPORARY: return "temporary";
    case VIP_SMTP_UNCERTAIN: return "uncertain";
    }
    return "unknown";
}

static void wipe(char *s)
{
    if (!s)
        return;
    volatile char *p = s; /* volatile, so the stores are not optimised away before free */
    while (*p)
        *p++ = '\0';
}

static int is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        char inner[64];
        if (n - 2 >= sizeof inner)
            return 0;
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, inner, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

/* Checks the URL; on success sets *loopback to whether the host is a loopback address. The URL is echoed in
 * errors only once it is known to hold no credentials. */
static int check_url(const char *url, int *loopback, vip_error *err)
{
    if (!url || !*url)
        return vip_error_set(err, VIP_ERR_INPUT, "SMTP: no server URL given (smtp://HOST:PORT or smtps://HOST:PORT)");
    const char *sep = strstr(url, "://");
    if (sep) {
        const char *authority = sep + 3;
        size_t len = strcspn(authority, "/?#");
        if (memchr(authority, '@', len))
            return vip_error_set(err, VIP_ERR_INPUT,
                                 "SMTP: the server URL must not contain a user name or password (give them as the "
                                 "SMTP credentials instead)");
    }
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return vip_error_set(err, VIP_ERR_INPUT, "SMTP: the server URL contains spaces or control characters");
    if (!sep)
        return vip_error_set(err, VIP_ERR_INPUT,
                             "SMTP: '%s' has no scheme: write smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT (TLS)",
                             url);
    size_t scheme_len = (size_t)(sep - url);
    if (!((scheme_len == 4 && strncasecmp(url, "smtp", 4) == 0) || (scheme_len == 5 && strncasecmp(url, "smtps", 5) == 0)))
        return vip_error_set(err, VIP_ERR_INPUT,
                             "SMTP: '%s': the scheme '%.*s' is not supported: use smtp:// (STARTTLS) or smtps:// (TLS)",
                             url, (int)scheme_len, url);
    CURLU *u = curl_url();
    if (!u)
        return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    char *host = NULL, *query = NULL, *fragment = NULL;
    int result = VIP_OK;
    if (rc != CURLUE_OK) {
        result = vip_error_set(err, VIP_ERR_INPUT, "SMTP: '%s' is not a valid URL: %s", url, curl_url_strerror(rc));
    } else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        result = vip_error_set(err, VIP_ERR_INPUT, "SMTP: '%s' names no server", url);
    } else if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
               curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK) {
        result = vip_error_set(err, VIP_ERR_INPUT, "SMTP: '%s': a query or fragment is not allowed", url);
    } else {
        *loopback = is_loopback(host);
    }
    curl_free(host);
    curl_free(query);
    curl_free(fragment);
    curl_url_cleanup(u);
    return result;
}

void vip_smtp_destroy(vip_smtp *smtp)
{
    if (!smtp)
        return;
    if (smtp->slots) {
        for (unsigned i = 0; i < smtp->connections; i++) {
            slot *s = &smtp->slots[i];
            if (s->easy) {
                if (s->busy)
                    curl_multi_remove_handle(smtp->multi, s->easy);
                curl_easy_cleanup(s->easy);
            }
            curl_slist_free_all(s->rcpt);
            free(s->mail_from);
        }
        free(smtp->slots);
    }
    /* Closes the cached connections, each with QUIT. */
    if (smtp->multi)
        curl_multi_cleanup(smtp->multi);
    wipe(smtp->password);
    free(smtp->password);
    free(smtp->username);
    free(smtp->url);
    free(smtp->ca_file);
    free(smtp);
}

static char *dup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *failed = 1;
    return d;
}

vip_smtp *vip_smtp_create(const vip_smtp_options *options, vip_error *err)
{
    int loopback = 0;
    if (check_url(options->url, &loopback, err))
        return NULL;
    int smtps = strncasecmp(options->url, "smtps", 5) == 0;
    if (options->starttls_optional && !smtps && !loopback) {
        vip_error_set(err, VIP_ERR_INPUT,
                      "SMTP: %s: plain smtp:// without STARTTLS is allowed only to a loopback address (127.0.0.1, ::1, "
                      "localhost); require STARTTLS or use smtps://",
                      options->url);
        return NULL;
    }
    if ((options->username == NULL) != (options->password == NULL)) {
        vip_error_set(err, VIP_ERR_INPUT, "SMTP: %s: AUTH needs both a user name and a password", options->url);
        return NULL;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK) {
        vip_error_set(err, VIP_ERR_INTERNAL, "SMTP: libcurl could not be initialised: %s",
                      curl_easy_strerror(curl_init_result));
        return NULL;
    }
    vip_smtp *smtp = calloc(1, sizeof *smtp);
    if (!smtp) {
        vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
        return NULL;
    }
    int failed = 0;
    smtp->url = dup_or_null(options->url, &failed);
    smtp->username = dup_or_null(options->username, &failed);
    smtp->password = dup_or_null(options->password, &failed);
    smtp->ca_file = dup_or_null(options->ca_file, &failed);
    smtp->plain = options->starttls_optional && !smtps;
    smtp->connections = options->connections ? options->connections : 4;
    smtp->tries = options->tries ? options->tries : 5;
    smtp->first_delay_ms = options->first_delay_ms ? options->first_delay_ms : 2000;
    smtp->timeout_ms = options->timeout_ms ? options->timeout_ms : 120000;
    if (failed) {
        vip_smtp_destroy(smtp);
        vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
        return NULL;
    }
    return smtp;
}

/* Every server reply line comes here (curl hands SMTP replies to the header callback); the latest complete reply
 * is kept for the outcome. Replies carry no credentials: the client's AUTH data is never echoed. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *user)
{
    slot *s = user;
    size_t n = size * nitems, len = n;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (s->reply_complete) {
        s->reply_len = 0;
        s->reply[0] = '\0';
        s->reply_complete = 0;
    }
    size_t room = sizeof s->reply - 1 - s->reply_len;
    if (s->reply_len && room) {
        s->reply[s->reply_len++] = ' ';
        room--;
    }
    size_t take = len < room ? len : room;
    memcpy(s->reply + s->reply_len, buf, take);
    s->reply_len += take;
    s->reply[s->reply_len] = '\0';
    /* "250-..." continues a reply, "250 ..." or "250" ends it. */
    if (len < 4 || buf[3] == ' ')
        s->reply_complete = 1;
    return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *user)
{
    slot *s = user;
    size_t room = size * nitems, left = s->message->len - s->handed_out;
    size_t n = left < room ? left : room;
    if (n && n == left && !s->hook_called) {
        /* The final bytes: once curl has them the message can be complete at the server at any moment. */
        s->hook_called = 1;
        if (s->callbacks && s->callbacks->data_going_out)
            s->callbacks->data_going_out(s->callbacks->user, s->index);
    }
    memcpy(buf, s->message->data + s->handed_out, n);
    s->handed_out += n;
    return n;
}

static size_t discard_cb(char *buf, size_t size, size_t nitems, void *user)
{
    (void)buf;
    (void)user;
    return size * nitems;
}

/* The options every transfer shares. Verbose stays off: curl would print the AUTH exchange. */
static int setup_easy(vip_smtp *smtp, slot *s)
{
    CURL *e = s->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, smtp->url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_VERBOSE, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USE_SSL, smtp->plain ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    if (smtp->ca_file)
        bad |= curl_easy_setopt(e, CURLOPT_CAINFO, smtp->ca_file) != CURLE_OK;
    if (smtp->username) {
        bad |= curl_easy_setopt(e, CURLOPT_USERNAME, smtp->username) != CURLE_OK;
        bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, smtp->password) != CURLE_OK;
    }
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(smtp->timeout_ms < 30000 ? smtp->timeout_ms : 30000)) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)smtp->timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, s) != CURLE_OK;
    return bad;
}

static void reset_reply(slot *s)
{
    s->reply[0] = '\0';
    s->reply_len = 0;
    s->reply_complete = 0;
    s->errbuf[0] = '\0';
}

/* What went wrong, in words: curl's detailed message when it has one. */
static const char *failure_detail(slot *s, CURLcode rc)
{
    return s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
}

int vip_smtp_check(vip_smtp *smtp, vip_error *err)
{
    slot s;
    memset(&s, 0, sizeof s);
    s.easy = curl_easy_init();
    if (!s.easy)
        return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: %s: curl could not start", smtp->url);
    int result = VIP_OK;
    if (setup_easy(smtp, &s) || curl_easy_setopt(s.easy, CURLOPT_CUSTOMREQUEST, "NOOP") != CURLE_OK) {
        result = vip_error_set(err, VIP_ERR_INTERNAL, "SMTP: %s: curl refused an option", smtp->url);
    } else {
        reset_reply(&s);
        CURLcode rc = curl_easy_perform(s.easy);
        const char *detail = failure_detail(&s, rc);
        switch (rc) {
        case CURLE_OK:
            break;
        case CURLE_LOGIN_DENIED:
            result = vip_error_set(err, VIP_ERR_INPUT, "SMTP: %s: the server refused the user name or password (%s)",
                                   smtp->url, s.reply[0] ? s.reply : detail);
            break;
        case CURLE_USE_SSL_FAILED:
            result = vip_error_set(err, VIP_ERR_IO, "SMTP: %s: the server does not offer STARTTLS, which is required (%s)",
                                   smtp->url, detail);
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
            result = vip_error_set(err, VIP_ERR_IO, "SMTP: %s: cannot reach the server (%s)", smtp->url, detail);
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
            result = vip_error_set(err, VIP_ERR_IO, "SMTP: %s: TLS failed: %s", smtp->url, detail);
            break;
        default:
            result = vip_error_set(err, VIP_ERR_IO, "SMTP: %s: %s%s%s", smtp->url, detail, s.reply[0] ? "; the server said: " : "",
                                   s.reply);
            break;
        }
    }
    curl_easy_cleanup(s.easy); /* QUIT */
    return result;
}

/* Envelope addresses are written into SMTP commands: nothing that could end or extend one. */
static int envelope_ok(const char *a)
{
    if (!a || !*a || !strchr(a, '@'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
            return 0;
    return 1;
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int start_transfer(vip_smtp *smtp, slot *s, const vip_smtp_message *messages, size_t index, int fresh,
                          const vip_smtp_callbacks *callbacks, vip_error *err)
{
    const vip_smtp_message *m = &messages[index];
    curl_slist_free_all(s->rcpt);
    s->rcpt = NULL;
    free(s->mail_from);
    size_t from_len = strlen(m->from) + 3, to_len = strlen(m->to) + 3;
    s->mail_from = malloc(from_len);
    char *to = malloc(to_len);
    if (!s->mail_from || !to) {
        free(to);
        return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
    }
    snprintf(s->mail_from, from_len, "<%s>", m->from);
    snprintf(to, to_len, "<%s>", m->to);
    s->rcpt = curl_slist_append(NULL, to);
    free(to);
    if (!s->rcpt)
        return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
    s->index = index;
    s->message = m;
    s->handed_out = 0;
    s->hook_called = 0;
    s->callbacks = callbacks;
    reset_reply(s);
    CURL *e = s->easy;
    if (curl_easy_setopt(e, CURLOPT_MAIL_FROM, s->mail_from) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, s->rcpt) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_READDATA, s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len) != CURLE_OK)
        return vip_error_set(err, VIP_ERR_INTERNAL, "SMTP: curl refused an option");
    CURLMcode mc = curl_multi_add_handle(smtp->multi, e);
    if (mc != CURLM_OK)
        return vip_error_set(err, VIP_ERR_INTERNAL, "SMTP: curl: %s", curl_multi_strerror(mc));
    s->busy = 1;
    return VIP_OK;
}

/* A finished attempt's status: the server's reply decides when there is one; without a reply, what matters is
 * whether the whole message (and so, possibly, the final dot) had gone to curl. */
static vip_smtp_status classify(CURLcode rc, long code, int all_out)
{
    if (rc == CURLE_OK)
        return VIP_SMTP_SENT;
    if (code >= 500 && code <= 599)
        return VIP_SMTP_PERMANENT;
    if (code >= 400 && code <= 499)
        return VIP_SMTP_TEMPORARY;
    return all_out ? VIP_SMTP_UNCERTAIN : VIP_SMTP_TEMPORARY;
}

static int ensure_slots(vip_smtp *smtp, vip_error *err)
{
    if (smtp->multi)
        return VIP_OK;
    smtp->multi = curl_multi_init();
    smtp->slots = calloc(smtp->connections, sizeof *smtp->slots);
    if (!smtp->multi || !smtp->slots)
        return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
    curl_multi_setopt(smtp->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)smtp->connections);
    curl_multi_setopt(smtp->multi, CURLMOPT_MAXCONNECTS, (long)smtp->connections);
    for (unsigned i = 0; i < smtp->connections; i++) {
        slot *s = &smtp->slots[i];
        s->easy = curl_easy_init();
        if (!s->easy)
            return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
        if (setup_easy(smtp, s))
            return vip_error_set(err, VIP_ERR_INTERNAL, "SMTP: curl refused an option");
    }
    return VIP_OK;
}

typedef struct retry {
    size_t index;
    uint64_t ready_at;
} retry;

int vip_smtp_send(vip_smtp *smtp, const vip_smtp_message *messages, size_t count, const vip_smtp_callbacks *callbacks,
                  vip_error *err)
{
    for (size_t i = 0; i < count; i++)
        if (!envelope_ok(messages[i].from) || !envelope_ok(messages[i].to) || !messages[i].data || !messages[i].len)
            return vip_error_set(err, VIP_ERR_INPUT, "SMTP: message %zu: the envelope address or the message is not "
                                 "usable (a bare address like name@example.org is needed)", i + 1);
    if (count == 0)
        return VIP_OK;
    int result = ensure_slots(smtp, err);
    if (result)
        return result;
    unsigned *tries = calloc(count, sizeof *tries);
    unsigned char *fresh = calloc(count, 1);
    retry *retries = malloc(count * sizeof *retries);
    if (!tries || !fresh || !retries) {
        free(tries);
        free(fresh);
        free(retries);
        return vip_error_set(err, VIP_ERR_NOMEM, "SMTP: out of memory");
    }
    size_t next_fresh = 0, done = 0, n_retries = 0;
    unsigned active = 0;
    while (done < count && result == VIP_OK) {
        uint64_t now = now_ms();
        /* Fill idle connections: retries whose time has come first, then messages not yet tried. */
        for (unsigned i = 0; i < smtp->connections && result == VIP_OK; i++) {
            slot *s = &smtp->slots[i];
            if (s->busy)
                continue;
            size_t pick = (size_t)-1;
            for (size_t r = 0; r < n_retries; r++)
                if (retries[r].ready_at <= now) {
                    pick = retries[r].index;
                    retries[r] = retries[--n_retries];
                    break;
                }
            if (pick == (size_t)-1 && next_fresh < count)
                pick = next_fresh++;
            if (pick == (size_t)-1)
                break;
            result = start_transfer(smtp, s, messages, pick, fresh[pick], callbacks, err);
            if (result == VIP_OK)
                active++;
        }
        if (result)
            break;
        int running = 0;
        CURLMcode mc = curl_multi_perform(smtp->multi, &running);
        if (mc != CURLM_OK) {
            result = vip_error_set(err, VIP_ERR_INTERNAL, "SMTP: curl: %s", curl_multi_strerror(mc));
            break;
        }
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(smtp->multi, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            CURLcode rc = msg->data.result;
            long code = 0;
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
            curl_multi_remove_handle(smtp->multi, s->easy);
            s->busy = 0;
            active--;
            size_t index = s->index;
            long new_connections = 0;
            curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &new_connections);
            if (rc != CURLE_OK && new_connections == 0 && s->handed_out == 0 && code == 0 && !fresh[index]) {
                /* A cached connection the server had closed (curl does not always notice before reusing it):
                 * nothing reached the server, so this was no attempt. Again at once, on a new connection. */
                fresh[index] = 1;
                retries[n_retries].index = index;
                retries[n_retries].ready_at = 0;
                n_retries++;
                continue;
            }
            fresh[index] = 0;
            tries[index]++;
            vip_smtp_status status = classify(rc, code, s->handed_out == s->message->len);
            if (status == VIP_SMTP_TEMPORARY && tries[index] < smtp->tries) {
                uint64_t delay = (uint64_t)smtp->first_delay_ms << (tries[index] - 1 < 16 ? tries[index] - 1 : 16);
                retries[n_retries].index = index;
                retries[n_retries].ready_at = now_ms() + delay;
                n_retries++;
                continue;
            }
            vip_smtp_outcome outcome = {
                .status = status,
                .code = code,
                .reply = s->reply_complete ? s->reply : "",
                .detail = status == VIP_SMTP_SENT ? "" : failure_detail(s, rc),
                .tries = tries[index],
            };
            if (status == VIP_SMTP_UNCERTAIN) {
                /* The latest reply was the 354 go-ahead: none came to the message itself. */
                outcome.code = 0;
                outcome.reply = "";
            }
            if (callbacks && callbacks->outcome)
                callbacks->outcome(callbacks->user, index, &outcome);
            done++;
        }
        if (done >= count)
            break;
        /* Wait for network activity, or until the next retry is due when nothing is in flight; not at all when
         * a connection is idle and a message is waiting for it. */
        int timeout = 200;
        if (active < smtp->connections) {
            int waiting = next_fresh < count;
            uint64_t t = now_ms();
            for (size_t r = 0; r < n_retries && !waiting; r++)
                waiting = retries[r].ready_at <= t;
            if (waiting)
                continue;
        }
        if (active == 0 && n_retries) {
            uint64_t soonest = UINT64_MAX, t = now_ms();
            for (size_t r = 0; r < n_retries; r++)
                if (retries[r].ready_at < soonest)
                    soonest = retries[r].ready_at;
            timeout = soonest <= t ? 0 : (int)(soonest - t < 1000 ? soonest - t : 1000);
        }
        if (running || timeout > 0)
            curl_multi_poll(smtp->multi, NULL, 0, timeout, NULL);
    }
    if (result) {
        /* A batch that stopped: nothing is left attached to the multi handle. */
        for (unsigned i = 0; i < smtp->connections; i++)
            if (smtp->slots[i].busy) {
                curl_multi_remove_handle(smtp->multi, smtp->slots[i].easy);
                smtp->slots[i].busy = 0;
            }
    }
    free(tries);
    free(fresh);
    free(retries);
    return result;
}
