#define _GNU_SOURCE /* O_NOFOLLOW, O_CLOEXEC, mkdtemp, nanosleep */
#include "serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "lang.h"

#define PATH_SIZE 4096
#define KEEP_GENERATIONS 2 /* the current preview and the one before (pages being loaded while it is replaced) */

typedef struct server {
    pthread_mutex_t lock;
    char base[PATH_SIZE];      /* holds g1, g2, ...: one folder per render */
    int base_made;             /* made here (removed at exit) */
    unsigned generation;       /* current folder's number; 0 before the first render */
    int dir_fd;                /* the current folder, open */
    char status[2048];         /* status.json of the current render */
    int port;
    int loopback;              /* bound to a loopback address: the Host header must name one */
    const vip_produce_paths *paths;
    pthread_mutex_t render;    /* one document at a time in this process (the PDF backend's caches are not shared) */
    unsigned booklets;         /* booklets made for the station page, for their temporary names */
} server;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- HTTP ---- */

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *const types[][2] = {{".html", "text/html; charset=utf-8"}, {".png", "image/png"},
                                           {".css", "text/css; charset=utf-8"},
                                           {".js", "text/javascript; charset=utf-8"},
                                           {".json", "application/json"},        {".pdf", "application/pdf"}};
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

/* A file of the preview by its plain name: letters, digits, '-', '_' and one '.' before a known extension; never a
 * path, a hidden file (the temporaries) or "..". */
static int plain_name(const char *name)
{
    size_t n = strlen(name), dots = 0;
    if (n == 0 || n > 100 || name[0] == '.' || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '.')
            dots++;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_'))
            return 0;
    }
    return dots == 1 && content_type(name) != NULL;
}

static void add_headers(struct MHD_Response *resp, const char *type)
{
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* Everything the pages use comes from here: no CDN, nothing from elsewhere. */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    add_headers(resp, "text/plain; charset=utf-8");
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* With a loopback address, a request must name one as its host: a web page elsewhere cannot reach the preview
 * through a name that resolves to 127.0.0.1 (DNS rebinding). */
static int host_allowed(const server *s, const char *host)
{
    if (!s->loopback)
        return 1;
    if (!host)
        return 0;
    const char *names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(host, names[i], n) == 0 && (host[n] == '\0' || (host[n] == ':' && atoi(host + n + 1) == s->port)))
            return 1;
    }
    return 0;
}

/* ---- the station page: an officer prints the booklet for the victim in front of them ---- */

static void html_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static enum MHD_Result respond_buffer(struct MHD_Connection *c, unsigned status, const char *type, char *data,
                                      size_t len, const char *disposition)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    add_headers(resp, type);
    if (disposition)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* The form: the language, the case details (optional), how to print. Plain HTML, no script, no network. */
static enum MHD_Result station_page(struct MHD_Connection *c, const char *problem)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return MHD_NO;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Victim information booklet</title>\n"
          "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.4}label{display:block;"
          "margin:.8em 0 .2em;font-weight:bold}input,select{font-size:1em;padding:.3em;width:100%;box-sizing:border-box}"
          "fieldset{margin-top:1em}.problem{border:2px solid #b00;padding:.5em;color:#b00}"
          "button{font-size:1.1em;margin-top:1.2em;padding:.5em 1.2em}</style></head>\n<body>\n"
          "<h1>Victim information booklet</h1>\n"
          "<p>Choose the victim&#8217;s language. The case details are optional: without them the booklet has boxes "
          "to write them in.</p>\n", out);
    if (problem) {
        fputs("<p class=\"problem\" role=\"alert\">", out);
        html_escape(out, problem);
        fputs("</p>\n", out);
    }
    fputs("<form method=\"get\" action=\"/station/booklet.pdf\">\n<label for=\"lang\">Language</label>\n"
          "<select id=\"lang\" name=\"lang\" required>\n", out);
    size_t n;
    const vip_lang *all = vip_lang_all(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "<option value=\"%s\">%s (%s)</option>\n", all[i].tag, all[i].name, all[i].tag);
    fputs("</select>\n"
          "<label for=\"ref\">Crime reference</label><input id=\"ref\" name=\"ref\" autocomplete=\"off\">\n"
          "<label for=\"officer\">Officer</label><input id=\"officer\" name=\"officer\" autocomplete=\"off\">\n"
          "<label for=\"phone\">Officer&#8217;s phone</label><input id=\"phone\" name=\"phone\" autocomplete=\"off\">\n"
          "<label for=\"email\">Officer&#8217;s email</label><input id=\"email\" name=\"email\" type=\"email\" "
          "autocomplete=\"off\">\n"
          "<fieldset><legend>Printing</legend>\n"
          "<label><input type=\"radio\" name=\"print\" value=\"a4\" checked style=\"width:auto\"> A4 pages</label>\n"
          "<label><input type=\"radio\" name=\"print\" value=\"a5-booklet\" style=\"width:auto\"> A5 booklet: print "
          "two-sided, flip on the short edge, fold and staple</label>\n"
          "<label><input type=\"checkbox\" name=\"large\" value=\"1\" style=\"width:auto\"> Large print (16 pt)</label>\n"
          "</fieldset>\n<button type=\"submit\">Make the booklet</button>\n</form>\n</body></html>\n", out);
    if (fclose(out) != 0) {
        free(buf);
        return MHD_NO;
    }
    return respond_buffer(c, problem ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_OK, "text/html; charset=utf-8", buf, len, NULL);
}

/* A form value, decoded ('+' is a space, %XX by libmicrohttpd's own decoder), or NULL when empty or absent. */
static char *form_value(struct MHD_Connection *c, const char *key)
{
    const char *raw = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    if (!raw || !*raw)
        return NULL;
    char *v = strdup(raw);
    if (!v)
        return NULL;
    for (char *p = v; *p; p++)
        if (*p == '+')
            *p = ' ';
    MHD_http_unescape(v);
    if (!*v) {
        free(v);
        return NULL;
    }
    return v;
}

static enum MHD_Result station_booklet(server *s, struct MHD_Connection *c)
{
    static const char *const keys[] = {"lang", "ref", "officer", "phone", "email", "print", "large"};
    enum { LANG, REF, OFFICER, PHONE, EMAIL, PRINT, LARGE, KEYS };
    char *v[KEYS];
    for (int i = 0; i < KEYS; i++)
        v[i] = form_value(c, keys[i]);
    char problem[800] = "";
    const vip_lang *lang = v[LANG] ? vip_lang_find(v[LANG], NULL) : NULL;
    static const struct {
        int key;
        vip_case_field field;
        const char *label;
    } checks[] = {{REF, VIP_CASE_CRIME_REF, "Crime reference"}, {OFFICER, VIP_CASE_OFFICER_NAME, "Officer"},
                  {PHONE, VIP_CASE_OFFICER_PHONE, "Officer's phone"}, {EMAIL, VIP_CASE_OFFICER_EMAIL, "Officer's email"}};
    if (!lang)
        snprintf(problem, sizeof problem, "Choose one of the languages in the list.");
    for (size_t i = 0; !problem[0] && i < sizeof checks / sizeof checks[0]; i++) {
        char why[600];
        if (v[checks[i].key] && vip_case_check_value(checks[i].field, v[checks[i].key], why, sizeof why))
            snprintf(problem, sizeof problem, "%s: the value %s.", checks[i].label, why);
    }
    int a5 = 0;
    if (!problem[0] && v[PRINT] && strcmp(v[PRINT], "a4") != 0) {
        if (strcmp(v[PRINT], "a5-booklet") == 0)
            a5 = 1;
        else
            snprintf(problem, sizeof problem, "Printing: choose A4 pages or an A5 booklet.");
    }
    enum MHD_Result result;
    if (problem[0]) {
        result = station_page(c, problem);
    } else {
        vip_booklet_options bo = {.crime_ref = v[REF], .officer = v[OFFICER], .phone = v[PHONE], .email = v[EMAIL],
                                  .a5_booklet = a5, .large_print = v[LARGE] != NULL};
        char path[PATH_SIZE + 64];
        vip_error e = {0};
        pthread_mutex_lock(&s->render);
        snprintf(path, sizeof path, "%s/station-%u.pdf", s->base, ++s->booklets);
        int rc = vip_produce_booklet(s->paths, lang->tag, path, &bo, &e);
        pthread_mutex_unlock(&s->render);
        char *data = NULL;
        size_t len = 0;
        FILE *in = rc ? NULL : fopen(path, "rb");
        if (in) {
            struct stat st;
            if (fstat(fileno(in), &st) == 0 && (data = malloc((size_t)st.st_size + 1)) &&
                fread(data, 1, (size_t)st.st_size, in) == (size_t)st.st_size)
                len = (size_t)st.st_size;
            fclose(in);
        }
        unlink(path); /* it may hold a victim's case details: kept no longer than the answer needs */
        if (len) {
            char disposition[160];
            snprintf(disposition, sizeof disposition, "inline; filename=\"booklet-%s%s%s.pdf\"", lang->tag,
                     a5 ? "-a5" : "", v[LARGE] ? "-large" : "");
            result = respond_buffer(c, MHD_HTTP_OK, "application/pdf", data, len, disposition);
        } else {
            free(data);
            result = respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, rc ? e.message : "the booklet could not be read\n");
        }
    }
    for (int i = 0; i < KEYS; i++)
        free(v[i]);
    return result;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    server *s = cls;
    /* Answered at once, body or not: a body is never read (the connection is closed after the answer). */
    (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if ((upload_data_size && *upload_data_size) || (length && strcmp(length, "0") != 0) ||
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return respond_text(c, MHD_HTTP_CONTENT_TOO_LARGE, "no request bodies here\n");
    if (!host_allowed(s, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
        return respond_text(c, MHD_HTTP_MISDIRECTED_REQUEST, "this server answers to 127.0.0.1 and localhost\n");
    if (url[0] != '/')
        return respond_text(c, MHD_HTTP_BAD_REQUEST, "bad request\n");
    const char *name = url[1] ? url + 1 : "index.html";
    if (strcmp(name, "station") == 0 || strcmp(name, "station/") == 0)
        return station_page(c, NULL);
    if (strcmp(name, "station/booklet.pdf") == 0)
        return station_booklet(s, c);
    if (strcmp(name, "status.json") == 0) {
        pthread_mutex_lock(&s->lock);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(strlen(s->status), s->status, MHD_RESPMEM_MUST_COPY);
        pthread_mutex_unlock(&s->lock);
        if (!resp)
            return MHD_NO;
        add_headers(resp, "application/json");
        enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return r;
    }
    if (!plain_name(name))
        return respond_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    pthread_mutex_lock(&s->lock);
    int fd = s->dir_fd >= 0 ? openat(s->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    pthread_mutex_unlock(&s->lock);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return respond_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* closes fd */
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    add_headers(resp, content_type(name));
    enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

/* URLs are taken as they come, never %-decoded: the preview's names need no escapes, and a decoded "%2e%2e" or
 * "%00" cannot then make one name look like another. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- rendering ---- */

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_SIZE + 300];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

static void json_text(char *out, size_t size, const char *s)
{
    size_t o = 0;
    for (; *s && o + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Renders into the next folder and makes it the current one; the one before the last goes. */
static int render_next(server *s, vip_preview *preview, const vip_preview_options *o, vip_error *err)
{
    unsigned gen = s->generation + 1;
    char dir[PATH_SIZE + 32];
    snprintf(dir, sizeof dir, "%s/g%u", s->base, gen);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return vip_error_set(err, VIP_ERR_IO, "%s: %s", dir, strerror(errno));
    vip_preview_result res;
    vip_error perr = {0};
    double t0 = now_ms();
    int rc = vip_preview_render(preview, o, dir, &res, &perr);
    double ms = now_ms() - t0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return vip_error_set(err, VIP_ERR_IO, "%s: %s", dir, strerror(errno));
    char message[2100];
    json_text(message, sizeof message, rc ? perr.message : "");
    pthread_mutex_lock(&s->lock);
    int old = s->dir_fd;
    s->dir_fd = fd;
    s->generation = gen;
    snprintf(s->status, sizeof s->status,
             "{\"generation\":%u,\"ok\":%s,\"error\":\"%.1500s\",\"units\":%zu,\"unused\":%zu,\"errors\":%zu,"
             "\"warnings\":%zu,\"pages\":%zu,\"drawn\":%zu,\"check_ms\":%.1f,\"letters_ms\":%.1f,\"booklet_ms\":%.1f,"
             "\"total_ms\":%.1f,\"cpu_ms\":%.1f}\n",
             gen, rc ? "false" : "true", message, res.units, res.unused, res.errors, res.warnings, res.pages, res.drawn,
             res.check_ms, res.letters_ms, res.booklet_ms, ms, res.cpu_ms);
    pthread_mutex_unlock(&s->lock);
    if (old >= 0)
        close(old);
    if (gen > KEEP_GENERATIONS) {
        snprintf(dir, sizeof dir, "%s/g%u", s->base, gen - KEEP_GENERATIONS);
        remove_tree(dir);
    }
    if (rc)
        fprintf(stderr, "vipgen serve: preview %u: %s\n", gen, perr.message);
    else
        fprintf(stderr, "vipgen serve: preview %u made in %.0f ms, %.0f ms of processor (check %.0f, letters %.0f, booklet "
                "%.0f; %zu pages drawn); %zu errors, %zu warnings\n", gen, ms, res.cpu_ms, res.check_ms, res.letters_ms, res.booklet_ms, res.drawn, res.errors,
                res.warnings);
    return VIP_OK;
}

/* What identifies a saved version of the file: editors write in place or rename a new file over it. */
typedef struct file_id {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id;

static file_id identify(const char *path)
{
    file_id id = {0};
    struct stat st;
    if (stat(path, &st) == 0) {
        id = (file_id){1, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    return id;
}

static int same_file(const file_id *a, const file_id *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static int bind_address(const char *bind, int port, struct sockaddr_storage *addr, int *ipv6, int *loopback,
                        vip_error *err)
{
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *ipv6 = 0;
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return VIP_OK;
    }
    if (inet_pton(AF_INET6, bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *ipv6 = 1;
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return VIP_OK;
    }
    return vip_error_set(err, VIP_ERR_INPUT, "--bind %s: not an IPv4 or IPv6 address", bind);
}

int vip_serve_run(const vip_produce_paths *paths, const vip_serve_options *o, vip_error *err)
{
    const vip_lang *lang = vip_lang_find(o->preview.lang, err);
    if (!lang)
        return err->code;
    char watched[PATH_SIZE];
    if (o->preview.catalog)
        snprintf(watched, sizeof watched, "%s", o->preview.catalog);
    else
        snprintf(watched, sizeof watched, "%s/%s.xlf", paths->translations, lang->tag);
    struct sockaddr_storage addr;
    int ipv6 = 0;
    server s = {.dir_fd = -1, .port = o->port, .paths = paths};
    if (bind_address(o->bind ? o->bind : "127.0.0.1", o->port, &addr, &ipv6, &s.loopback, err))
        return err->code;
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_init(&s.render, NULL);
    if (o->dir) {
        snprintf(s.base, sizeof s.base, "%s", o->dir);
        if (mkdir(s.base, 0700) != 0 && errno != EEXIST)
            return vip_error_set(err, VIP_ERR_IO, "%s: %s", s.base, strerror(errno));
    } else {
        const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(s.base, sizeof s.base, "%s/vipgen-serve-XXXXXX", tmp);
        if (!mkdtemp(s.base))
            return vip_error_set(err, VIP_ERR_IO, "%s: %s", s.base, strerror(errno));
        s.base_made = 1;
    }
    vip_preview *preview = vip_preview_create(paths, err);
    struct MHD_Daemon *daemon = NULL;
    int rc = preview ? VIP_OK : err->code;
    file_id seen = identify(watched);
    if (!rc)
        rc = render_next(&s, preview, &o->preview, err);
    if (!rc) {
        unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | (ipv6 ? MHD_USE_IPv6 : 0);
        daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, &s,
                                  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)48,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                                  MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL,
                                  MHD_OPTION_END);
        if (!daemon)
            rc = vip_error_set(err, VIP_ERR_IO, "cannot listen on %s port %d (in use, or not an address of this "
                               "computer)", o->bind ? o->bind : "127.0.0.1", o->port);
    }
    if (!rc) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
        s.port = info ? info->port : o->port;
        printf("vipgen serve: http://%s%s%s:%d/ (watching %s; Ctrl-C to stop)\n", ipv6 ? "[" : "",
               o->bind ? o->bind : "127.0.0.1", ipv6 ? "]" : "", s.port, watched);
        fflush(stdout);
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
    }
    /* Polls the file (every 100 ms): a save is seen whatever the tool or file system, a rename included. */
    while (!rc && !stopping) {
        sleep_ms(100);
        file_id now = identify(watched);
        if (same_file(&now, &seen))
            continue;
        /* Settled: unchanged for 50 ms, so that a file still being written is not read half-way. */
        sleep_ms(50);
        file_id again = identify(watched);
        if (!same_file(&now, &again))
            continue;
        seen = again;
        pthread_mutex_lock(&s.render);
        rc = render_next(&s, preview, &o->preview, err);
        pthread_mutex_unlock(&s.render);
    }
    if (daemon)
        MHD_stop_daemon(daemon);
    if (s.dir_fd >= 0)
        close(s.dir_fd);
    if (s.base_made) {
        char dir[PATH_SIZE + 32];
        for (unsigned g = s.generation > KEEP_GENERATIONS ? s.generation - KEEP_GENERATIONS : 1; g <= s.generation;
             g++) {
            snprintf(dir, sizeof dir, "%s/g%u", s.base, g);
            remove_tree(dir);
        }
        rmdir(s.base);
    }
    vip_preview_destroy(preview);
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&s.render);
    return rc;
}
