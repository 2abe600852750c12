/* vip_error: how every stage reports failure — a code and a message, never exit(). */
#ifndef VIP_ERROR_H
#define VIP_ERROR_H

#include <stddef.h>

enum {
    VIP_OK = 0,
    VIP_ERR_INPUT = 1,    /* bad input: invalid UTF-8, unknown language, malformed file */
    VIP_ERR_FONT = 2,     /* a font is missing or unusable */
    VIP_ERR_NOMEM = 3,    /* an allocation failed */
    VIP_ERR_IO = 4,       /* reading or writing a file failed */
    VIP_ERR_INTERNAL = 5  /* a library call failed unexpectedly */
};

typedef struct vip_error {
    int code;
    char message[1024];
} vip_error;

/* Sets code and a printf-style message; returns code so callers can `return vip_error_set(...)`.
 * err may be NULL. */
int vip_error_set(vip_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context ("file.txt: "), keeping the code. */
int vip_error_prefix(vip_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Warnings do not stop the pipeline; they go to a sink the caller chooses (stderr by default). */
typedef void (*vip_warn_fn)(void *user, const char *message);
typedef struct vip_warn_sink {
    vip_warn_fn fn;
    void *user;
} vip_warn_sink;

void vip_warn(const vip_warn_sink *sink, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
