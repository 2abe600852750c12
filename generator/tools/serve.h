/* vip_serve: the translator's preview (vip_preview) on a small local web server (libmicrohttpd), made again
 * within a second whenever the catalogue file is saved — by any tool, in place or by rename — while open pages
 * reload themselves (live.js polls status.json). Bound to 127.0.0.1 unless told otherwise; answers only GET and
 * HEAD for the files of the current preview by plain name (no paths), so it reads nothing outside its folder;
 * bodies, unknown names, odd hosts and methods get 4xx, and connections are limited in number, size and time. */
#ifndef VIP_SERVE_H
#define VIP_SERVE_H

#include "error.h"
#include "preview.h"
#include "produce.h"

typedef struct vip_serve_options {
    vip_preview_options preview; /* what to preview (lang, catalog, baseline, cases, scale) */
    const char *bind;            /* address to listen on (NULL: 127.0.0.1); IPv4 or IPv6 */
    int port;                    /* 0: any free port */
    const char *dir;             /* where previews are rendered (NULL: a new folder in $TMPDIR, removed at exit) */
} vip_serve_options;

/* Renders the preview, prints "vipgen serve: http://ADDR:PORT/" on stdout, serves until SIGINT or SIGTERM and
 * re-renders on every change of the catalogue. Fails when the preview cannot be set up or the address bound; a
 * catalogue that fails to load is shown on the page, not fatal. */
int vip_serve_run(const vip_produce_paths *paths, const vip_serve_options *options, vip_error *err);

#endif
