/* vip_smtp against a real SMTP server: tests/smtp_server.py (Debian's aiosmtpd), started here on a free port of
 * 127.0.0.1 with STARTTLS on a certificate made by openssl and AUTH, and stopped here; every wait is bounded.
 * Covers: a send over STARTTLS + AUTH arriving byte for byte; wrong password, server down and missing TLS as one
 * clear error from vip_smtp_check; 421 then 250 retried and sent; 550 recorded with the reply and not retried; a
 * connection dropped after DATA uncertain and not retried; a server that is down temporary after the tries, and
 * sent once it comes up; the URL rules; 200 messages over 4 connections arriving exactly once, and the rate. */
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <valgrind/valgrind.h>

#include "check.h"
#include "run.h"
#include "mail.h"
#include "smtp.h"

static char tmpdir[] = "/tmp/vipgen-test-smtp-XXXXXX";
static const char user[] = "bureau-sender";
static const char password[] = "S3cret pa55:word";

static char *tmp_path(const char *name)
{
    return g_strdup_printf("%s/%s", tmpdir, name);
}

static void usleep_ms(long ms)
{
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000}, NULL);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of this process (the sender and curl; the server is another process). */
static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct server {
    GPid pid;
    int port;
    char *mailbox;
    char *events;
} server;

/* Starts tests/smtp_server.py with extra arguments (NULL-terminated) and waits, at most 15 s, for its port. */
static int server_start(server *s, const char *name, const char *const *extra)
{
    memset(s, 0, sizeof *s);
    s->mailbox = tmp_path(name);
    s->events = g_strdup_printf("%s.events", s->mailbox);
    char *argv[48];
    int n = 0;
    argv[n++] = "/usr/bin/python3";
    argv[n++] = "tests/smtp_server.py";
    argv[n++] = "--mailbox", argv[n++] = s->mailbox;
    argv[n++] = "--events", argv[n++] = s->events;
    argv[n++] = "--time-limit", argv[n++] = "90";
    for (size_t i = 0; extra && extra[i] && n < 46; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    int out_fd = -1;
    GError *gerr = NULL;
    if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &s->pid, NULL, &out_fd,
                                  NULL, &gerr)) {
        printf("INFO cannot start the SMTP server: %s\n", gerr->message);
        g_error_free(gerr);
        return -1;
    }
    char buf[128];
    size_t len = 0;
    double deadline = now_s() + 15;
    while (now_s() < deadline && len < sizeof buf - 1) {
        struct pollfd p = {.fd = out_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = read(out_fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (strchr(buf, '\n'))
            break;
    }
    close(out_fd);
    buf[len] = '\0';
    if (sscanf(buf, "PORT %d", &s->port) != 1 || s->port <= 0) {
        printf("INFO the SMTP server printed no port: '%s'\n", buf);
        return -1;
    }
    return 0;
}

/* SIGTERM, then at most 5 s for it to go, then SIGKILL. */
static void server_stop(server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status;
        double deadline = now_s() + 5;
        while (waitpid(s->pid, &status, WNOHANG) == 0) {
            if (now_s() > deadline) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, &status, 0);
                break;
            }
            usleep_ms(20);
        }
        g_spawn_close_pid(s->pid);
    }
    g_free(s->mailbox);
    g_free(s->events);
    memset(s, 0, sizeof *s);
}

static char *url_for(const server *s, const char *scheme)
{
    return g_strdup_printf("%s://127.0.0.1:%d", scheme, s->port);
}

/* Lines of the server's event log that start with prefix. */
static int count_events(const server *s, const char *prefix)
{
    gchar *text = NULL;
    if (!g_file_get_contents(s->events, &text, NULL, NULL))
        return 0;
    int n = 0;
    size_t plen = strlen(prefix);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, prefix, plen) == 0)
            n++;
        line = nl ? nl + 1 : NULL;
    }
    g_free(text);
    return n;
}

/* The messages in a mailbox: their contents, in a hash table name -> bytes (GBytes). */
static GHashTable *mailbox_read(const server *s)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
    DIR *dir = opendir(s->mailbox);
    if (!dir)
        return t;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 5 || strcmp(de->d_name + n - 4, ".eml"))
            continue;
        char *path = g_strdup_printf("%s/%s", s->mailbox, de->d_name);
        gchar *data = NULL;
        gsize len = 0;
        if (g_file_get_contents(path, &data, &len, NULL))
            g_hash_table_insert(t, g_strdup(de->d_name), g_bytes_new_take(data, len));
        g_free(path);
    }
    closedir(dir);
    return t;
}

/* What the callbacks saw, per message. */
typedef struct record {
    int hooks;
    int outcomes;
    int hook_before_outcome;
    vip_smtp_status status;
    long code;
    char reply[512];
    char detail[512];
    unsigned tries;
} record;

typedef struct recorder {
    record *r;
    size_t n;
} recorder;

static void on_data(void *user, size_t index)
{
    recorder *rec = user;
    if (index < rec->n)
        rec->r[index].hooks++;
}

static void on_outcome(void *user, size_t index, const vip_smtp_outcome *o)
{
    recorder *rec = user;
    if (index >= rec->n)
        return;
    record *r = &rec->r[index];
    r->outcomes++;
    r->hook_before_outcome = r->hooks > 0;
    r->status = o->status;
    r->code = o->code;
    r->tries = o->tries;
    snprintf(r->reply, sizeof r->reply, "%s", o->reply);
    snprintf(r->detail, sizeof r->detail, "%s", o->detail);
}

static int send_batch(vip_smtp *smtp, const vip_smtp_message *m, size_t n, recorder *rec, vip_error *err)
{
    rec->r = calloc(n, sizeof *rec->r);
    rec->n = n;
    vip_smtp_callbacks cb = {.data_going_out = on_data, .outcome = on_outcome, .user = rec};
    return vip_smtp_send(smtp, m, n, &cb, err);
}

/* A small raw message whose lines test dot-stuffing both ways. */
static char *raw_message(const char *to, const char *id)
{
    return g_strdup_printf("From: a@northshire.police.uk\r\nTo: %s\r\nSubject: test\r\nMessage-ID: <%s>\r\n"
                           "MIME-Version: 1.0\r\n\r\n.a line starting with a dot\r\n..two dots\r\n.\r\nend\r\n",
                           to, id);
}

static vip_smtp *make(const char *url, const char *ca, const char *pw, unsigned tries, unsigned delay_ms,
                      vip_error *err)
{
    vip_smtp_options o = {.url = url, .username = user, .password = pw, .ca_file = ca, .connections = 4,
                          .tries = tries, .first_delay_ms = delay_ms, .timeout_ms = 20000};
    return vip_smtp_create(&o, err);
}

static void test_urls(void)
{
    struct {
        const char *url;
        int optional;
        const char *want; /* NULL: accepted */
    } cases[] = {
        {"127.0.0.1:2525", 0, "has no scheme"},
        {"mail.example.org", 0, "has no scheme"},
        {"http://127.0.0.1:2525", 0, "scheme 'http' is not supported"},
        {"smtp://192.0.2.10:25", 1, "plain smtp:// without STARTTLS is allowed only to a loopback address"},
        {"smtp://mail.example.org", 1, "only to a loopback address"},
        {"smtp://127.0.0.1.example.org:25", 1, "only to a loopback address"},
        {"smtp://sender:hunter2@127.0.0.1:25", 0, "must not contain a user name or password"},
        {"smtp://127.0.0.1:99999", 0, "is not a valid URL"},
        {"smtp://127.0.0.1:25?x=1", 0, "query or fragment"},
        {"", 0, "no server URL"},
        {"smtp://192.0.2.10:587", 0, NULL},
        {"smtps://mail.example.org", 0, NULL},
        {"smtp://127.0.0.1:2525", 1, NULL},
        {"smtp://127.8.9.10:2525", 1, NULL},
        {"smtp://localhost:2525", 1, NULL},
        {"smtp://[::1]:2525", 1, NULL},
        {"SMTP://LOCALHOST:2525", 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vip_error err = {0};
        vip_smtp_options o = {.url = cases[i].url, .starttls_optional = cases[i].optional};
        vip_smtp *s = vip_smtp_create(&o, &err);
        char label[160];
        snprintf(label, sizeof label, "url %s '%s'%s", cases[i].want ? "refused" : "accepted", cases[i].url,
                 cases[i].optional ? " without STARTTLS" : "");
        if (cases[i].want)
            CHECK(label, !s && strstr(err.message, cases[i].want) && !strstr(err.message, "hunter2"), "%s",
                  s ? "accepted" : err.message);
        else
            CHECK(label, s != NULL, "%s", err.message);
        vip_smtp_destroy(s);
    }
}

/* A port nothing listens on: bound to find a free one, then closed. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_down(const char *ca)
{
    int port = free_port();
    char *url = g_strdup_printf("smtp://127.0.0.1:%d", port);
    vip_error err = {0};
    vip_smtp *smtp = make(url, ca, password, 3, 50, &err);
    int rc = smtp ? vip_smtp_check(smtp, &err) : -1;
    CHECK("server down: one clear error from check", rc != 0 && strstr(err.message, url) &&
                                                         strstr(err.message, "cannot reach the server"),
          "%s", err.message);
    char *raw = raw_message("victim@example.org", "down@test");
    vip_smtp_message m = {.from = "a@northshire.police.uk", .to = "victim@example.org", .data = raw, .len = strlen(raw)};
    recorder rec = {0};
    double t0 = now_s();
    rc = smtp ? send_batch(smtp, &m, 1, &rec, &err) : -1;
    double took = now_s() - t0;
    CHECK("server down: temporary after the tries, with backoff",
          rc == 0 && rec.r && rec.r[0].outcomes == 1 && rec.r[0].status == VIP_SMTP_TEMPORARY && rec.r[0].tries == 3 &&
              rec.r[0].hooks == 0 && took >= 0.15 && strstr(rec.r[0].detail, "onnect"),
          "rc %d status %s tries %u hooks %d took %.2f s: %s", rc, rec.r ? vip_smtp_status_name(rec.r[0].status) : "-",
          rec.r ? rec.r[0].tries : 0, rec.r ? rec.r[0].hooks : 0, took, rec.r ? rec.r[0].detail : err.message);
    free(rec.r);
    vip_smtp_destroy(smtp);
    g_free(url);

    /* A server without STARTTLS: refused when STARTTLS is required. */
    server s;
    if (server_start(&s, "plain", NULL) == 0) {
        url = url_for(&s, "smtp");
        smtp = make(url, ca, password, 3, 50, &err);
        rc = smtp ? vip_smtp_check(smtp, &err) : -1;
        CHECK("check: a server without STARTTLS is refused when it is required",
              rc != 0 && strstr(err.message, "does not offer STARTTLS") && strstr(err.message, url), "%s", err.message);
        vip_smtp_destroy(smtp);
        g_free(url);
    } else {
        CHECK("plain server starts", 0, "it did not");
    }
    server_stop(&s);

    /* A server that is down for a moment: the retries reach it once it is up. */
    const char *args[] = {"--down", "0.6", NULL};
    if (server_start(&s, "down-then-up", args) == 0) {
        url = url_for(&s, "smtp");
        vip_smtp_options o = {.url = url, .starttls_optional = 1, .tries = 6, .first_delay_ms = 100};
        smtp = vip_smtp_create(&o, &err);
        recorder rec2 = {0};
        rc = smtp ? send_batch(smtp, &m, 1, &rec2, &err) : -1;
        CHECK("server down, then up: retried and sent", rc == 0 && rec2.r && rec2.r[0].status == VIP_SMTP_SENT &&
                                                            rec2.r[0].tries > 1,
              "rc %d %s tries %u: %s %s", rc, rec2.r ? vip_smtp_status_name(rec2.r[0].status) : "-",
              rec2.r ? rec2.r[0].tries : 0, rec2.r ? rec2.r[0].detail : err.message, rec2.r ? rec2.r[0].reply : "");
        GHashTable *box = mailbox_read(&s);
        CHECK("server down, then up: one message in the mailbox", g_hash_table_size(box) == 1, "%u",
              g_hash_table_size(box));
        g_hash_table_destroy(box);
        free(rec2.r);
        vip_smtp_destroy(smtp);
        g_free(url);
    } else {
        CHECK("server down, then up: server starts", 0, "it did not");
    }
    server_stop(&s);
    g_free(raw);
}

/* ~37 KB of PDF-like bytes per message, so each message is ~50 KB once base64-encoded. */
static void test_many(const char *url, const char *ca, const server *s)
{
    enum { N = 200 };
    vip_error err = {0};
    vip_mail_body body;
    const char *paras[] = {"Dear Jane Smith,", "Our letter to you about your report is attached to this email."};
    int rc = vip_mail_body_make("en", "Your crime report", paras, 2, &body, &err);
    char *data[N] = {0};
    size_t len[N] = {0};
    char *ids[N] = {0};
    vip_smtp_message m[N];
    GRand *rand = g_rand_new_with_seed(8);
    size_t pdf_len = 37000;
    unsigned char *pdf = malloc(pdf_len);
    size_t total = 0;
    for (int i = 0; i < N && rc == 0; i++) {
        for (size_t k = 0; k < pdf_len; k++)
            pdf[k] = (unsigned char)g_rand_int_range(rand, 0, 256);
        char ref[32], victim[32];
        snprintf(ref, sizeof ref, "NC/2024/%06d", i);
        snprintf(victim, sizeof victim, "V%d", i);
        ids[i] = vip_mail_message_id(ref, victim, pdf, pdf_len, "northshire.police.uk", &err);
        vip_mail_letter l = {.from = "Northshire Police <no-reply@northshire.police.uk>", .to = "victim@example.org",
                             .subject = "Your crime report", .date = 1709629200, .message_id = ids[i], .lang = "en",
                             .body = &body, .pdf_name = "letter.pdf", .pdf = pdf, .pdf_len = pdf_len};
        rc = ids[i] ? vip_mail_build(&l, &data[i], &len[i], &err) : -1;
        m[i] = (vip_smtp_message){.from = "no-reply@northshire.police.uk", .to = "victim@example.org", .data = data[i],
                                  .len = len[i]};
        total += len[i];
    }
    free(pdf);
    g_rand_free(rand);
    vip_mail_body_free(&body);
    CHECK("200 messages built", rc == 0, "%s", err.message);
    if (rc == 0) {
        int connects_before = count_events(s, "connect");
        GHashTable *before = mailbox_read(s);
        vip_smtp *smtp = make(url, ca, password, 3, 50, &err);
        recorder rec = {0};
        double t0 = now_s(), cpu0 = cpu_s();
        rc = smtp ? send_batch(smtp, m, N, &rec, &err) : -1;
        double took = now_s() - t0, cpu = cpu_s() - cpu0;
        vip_smtp_destroy(smtp);
        int sent = 0, once = 1;
        for (int i = 0; rec.r && i < N; i++) {
            sent += rec.r[i].status == VIP_SMTP_SENT;
            once &= rec.r[i].outcomes == 1 && rec.r[i].hooks == 1 && rec.r[i].hook_before_outcome;
        }
        CHECK("200 messages: all sent, one outcome each, the hook before it", rc == 0 && sent == N && once,
              "rc %d sent %d %s", rc, sent, err.message);
        /* Every Message-ID exactly once in the mailbox, and nothing else new. */
        GHashTable *after = mailbox_read(s), *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTableIter it;
        gpointer key, value;
        int fresh = 0, dup = 0, unknown = 0;
        g_hash_table_iter_init(&it, after);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            if (g_hash_table_contains(before, key))
                continue;
            fresh++;
            gsize n = 0;
            const char *bytes = g_bytes_get_data(value, &n);
            const char *p = g_strstr_len(bytes, (gssize)n, "\r\nMessage-Id: <");
            const char *end = p ? memchr(p + 15, '>', n - (size_t)(p + 15 - bytes)) : NULL;
            char *id = end ? g_strndup(p + 15, (gsize)(end - p - 15)) : NULL;
            int known = 0;
            for (int i = 0; id && i < N; i++)
                known |= strcmp(ids[i], id) == 0 && n == len[i] && memcmp(bytes, data[i], n) == 0;
            if (!known)
                unknown++;
            if (id && g_hash_table_contains(seen, id))
                dup++;
            if (id)
                g_hash_table_add(seen, id);
        }
        CHECK("200 messages: each arrived exactly once, byte for byte",
              fresh == N && dup == 0 && unknown == 0 && g_hash_table_size(seen) == N, "%d new, %d duplicates, %d unknown",
              fresh, dup, unknown);
        int connects = count_events(s, "connect") - connects_before;
        CHECK("200 messages: connections reused (at most 4, and 1 for nothing)", connects >= 1 && connects <= 5, "%d",
              connects);
        printf("INFO %d messages of %.0f KB on average over 4 connections (STARTTLS, AUTH) to a local aiosmtpd: "
               "%.2f s, %.0f messages/s; the sender's CPU %.2f ms per message\n",
               N, total / 1024.0 / N, took, N / took, cpu * 1000 / N);
        /* The wall-clock rate is bounded by the Python test server and by whatever else the machine is doing, so
         * what is checked is the sender's own cost: at most 5 ms of CPU a message is 200 a second on one core. */
#if defined(__SANITIZE_ADDRESS__)
        printf("INFO the sender's cost is not checked under the sanitizers\n");
#else
        if (RUNNING_ON_VALGRIND)
            printf("INFO the sender's cost is not checked under valgrind\n");
        else
            CHECK("200 messages: the sender's CPU at most 5 ms a message", cpu * 1000 / N <= 5, "%.2f ms",
                  cpu * 1000 / N);
#endif
        g_hash_table_destroy(seen);
        g_hash_table_destroy(after);
        g_hash_table_destroy(before);
        free(rec.r);
    }
    for (int i = 0; i < N; i++) {
        free(data[i]);
        free(ids[i]);
    }
}

static void test_server(const char *cert, const char *key, const char *auth)
{
    server s;
    const char *args[] = {"--tls-cert", cert, "--tls-key", key, "--auth-file", auth,
                          "--fault", "busy@example.org=421-once", "--fault", "refused@example.org=550",
                          "--fault", "dropped@example.org=drop-in-data", NULL};
    if (server_start(&s, "main", args) != 0) {
        CHECK("SMTP server starts", 0, "it did not");
        server_stop(&s);
        return;
    }
    char *url = url_for(&s, "smtp");
    vip_error err = {0};

    /* Check first: right and wrong credentials, and no CA for the self-signed certificate. */
    vip_smtp *smtp = make(url, cert, password, 3, 50, &err);
    int rc = smtp ? vip_smtp_check(smtp, &err) : -1;
    CHECK("check: STARTTLS and AUTH accepted", rc == 0, "%s", err.message);
    vip_smtp_destroy(smtp);
    smtp = make(url, cert, "Wr0ng pa55", 3, 50, &err);
    rc = smtp ? vip_smtp_check(smtp, &err) : -1;
    CHECK("check: wrong password is one clear error naming the server, never the password",
          rc != 0 && strstr(err.message, url) && strstr(err.message, "refused the user name or password") &&
              strstr(err.message, "535") && !strstr(err.message, "Wr0ng") && !strstr(err.message, "pa55"),
          "%s", err.message);
    vip_smtp_destroy(smtp);
    smtp = make(url, NULL, password, 3, 50, &err);
    rc = smtp ? vip_smtp_check(smtp, &err) : -1;
    CHECK("check: a certificate that does not verify is refused", rc != 0 && strstr(err.message, "TLS"), "%s",
          err.message);
    vip_smtp_destroy(smtp);
    int auth_ok = count_events(&s, "auth PLAIN ok") + count_events(&s, "auth LOGIN ok");
    CHECK("check: AUTH happened over the wire", auth_ok >= 1, "%d", auth_ok);

    /* One batch with every outcome. */
    const char *to[] = {"victim@example.org", "busy@example.org", "refused@example.org", "dropped@example.org",
                        "second@example.org"};
    enum { M = 5 };
    char *raw[M];
    vip_smtp_message m[M];
    for (int i = 0; i < M; i++) {
        char id[64];
        snprintf(id, sizeof id, "batch-%d@test", i);
        raw[i] = raw_message(to[i], id);
        m[i] = (vip_smtp_message){.from = "no-reply@northshire.police.uk", .to = to[i], .data = raw[i],
                                  .len = strlen(raw[i])};
    }
    smtp = make(url, cert, password, 4, 50, &err);
    recorder rec = {0};
    rc = smtp ? send_batch(smtp, m, M, &rec, &err) : -1;
    vip_smtp_destroy(smtp);
    CHECK("batch returns", rc == 0 && rec.r, "%s", err.message);
    if (rc == 0 && rec.r) {
        record *r = rec.r;
        int one_each = 1;
        for (int i = 0; i < M; i++)
            one_each &= r[i].outcomes == 1;
        CHECK("batch: one outcome per message", one_each, "no");
        CHECK("STARTTLS + AUTH send: sent with the server's reply",
              r[0].status == VIP_SMTP_SENT && r[0].code == 250 && strstr(r[0].reply, "250 2.0.0 OK queued as") &&
                  r[0].tries == 1 && r[0].hooks == 1 && r[0].hook_before_outcome,
              "%s %ld '%s' tries %u hooks %d", vip_smtp_status_name(r[0].status), r[0].code, r[0].reply, r[0].tries,
              r[0].hooks);
        CHECK("421 then 250: retried and sent", r[1].status == VIP_SMTP_SENT && r[1].tries == 2 && r[1].hooks == 2 &&
                                                    count_events(&s, "fault 421 busy@example.org") == 1,
              "%s tries %u hooks %d: %s %s", vip_smtp_status_name(r[1].status), r[1].tries, r[1].hooks, r[1].reply,
              r[1].detail);
        CHECK("550: permanent, with the reply, not retried",
              r[2].status == VIP_SMTP_PERMANENT && r[2].code == 550 &&
                  !strcmp(r[2].reply, "550 5.7.1 Message refused by the test server") && r[2].tries == 1 &&
                  count_events(&s, "fault 550 refused@example.org") == 1,
              "%s %ld '%s' tries %u", vip_smtp_status_name(r[2].status), r[2].code, r[2].reply, r[2].tries);
        CHECK("drop in DATA: uncertain, not retried",
              r[3].status == VIP_SMTP_UNCERTAIN && r[3].tries == 1 && r[3].hooks == 1 && r[3].code == 0 &&
                  !r[3].reply[0] && count_events(&s, "fault drop dropped@example.org") == 1,
              "%s %ld '%s' '%s' tries %u", vip_smtp_status_name(r[3].status), r[3].code, r[3].reply, r[3].detail,
              r[3].tries);
        CHECK("after a dropped connection the next message is sent", r[4].status == VIP_SMTP_SENT, "%s: %s",
              vip_smtp_status_name(r[4].status), r[4].detail);
        /* The mailbox holds exactly the three accepted messages, byte for byte (dot-stuffing undone). */
        GHashTable *box = mailbox_read(&s);
        int matched[M] = {0};
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, box);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            gsize n = 0;
            const char *b = g_bytes_get_data(value, &n);
            for (int i = 0; i < M; i++)
                if (n == m[i].len && memcmp(b, m[i].data, n) == 0)
                    matched[i]++;
        }
        CHECK("mailbox: the sent messages, each once and byte for byte",
              g_hash_table_size(box) == 3 && matched[0] == 1 && matched[1] == 1 && matched[4] == 1 && !matched[2] &&
                  !matched[3],
              "%u files; matched %d %d %d %d %d", g_hash_table_size(box), matched[0], matched[1], matched[2],
              matched[3], matched[4]);
        g_hash_table_destroy(box);
    }
    free(rec.r);
    for (int i = 0; i < M; i++)
        g_free(raw[i]);

    /* A bad envelope address stops the batch before anything is sent. */
    char *raw1 = raw_message("x@example.org", "env@test");
    vip_smtp_message bad = {.from = "no-reply@northshire.police.uk", .to = "x@example.org>\r\nRCPT TO:<y@example.org",
                            .data = raw1, .len = strlen(raw1)};
    smtp = make(url, cert, password, 3, 50, &err);
    recorder rec3 = {0};
    rc = smtp ? send_batch(smtp, &bad, 1, &rec3, &err) : -1;
    CHECK("envelope address with a line break refused before sending", rc == VIP_ERR_INPUT && rec3.r &&
                                                                          rec3.r[0].outcomes == 0,
          "rc %d", rc);
    free(rec3.r);
    vip_smtp_destroy(smtp);
    g_free(raw1);

    test_many(url, cert, &s);
    g_free(url);
    server_stop(&s);
}

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                char *p = g_strdup_printf("%s/%s", path, de->d_name);
                remove_tree(p);
                g_free(p);
            }
        closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        CHECK("temporary directory", 0, "mkdtemp failed");
        return 1;
    }
    test_urls();

    char *cert = tmp_path("cert.pem"), *key = tmp_path("key.pem"), *auth = tmp_path("auth");
    char *argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL};
    char *out = NULL;
    int rc = run(argv, &out);
    CHECK("openssl makes a self-signed certificate", rc == 0, "%s", out);
    g_free(out);
    char *auth_text = g_strdup_printf("%s\n%s\n", user, password);
    int ok = rc == 0 && g_file_set_contents(auth, auth_text, -1, NULL);
    g_free(auth_text);
    if (ok) {
        test_server(cert, key, auth);
        test_down(cert);
    }
    g_free(cert);
    g_free(key);
    g_free(auth);
    remove_tree(tmpdir);
    vip_smtp_global_cleanup();
    vip_mail_global_cleanup();
    return CHECK_DONE();
}
