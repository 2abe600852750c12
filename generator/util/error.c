#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int vip_error_set(vip_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int vip_error_prefix(vip_error *err, const char *fmt, ...)
{
    if (!err)
        return VIP_ERR_INTERNAL;
    char prefix[512], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Truncation is acceptable here: the message is for people and stays NUL-terminated. */
    size_t n = strlen(prefix);
    if (n >= sizeof err->message)
        n = sizeof err->message - 1;
    memcpy(err->message, prefix, n);
    size_t room = sizeof err->message - 1 - n, m = strlen(old);
    memcpy(err->message + n, old, m < room ? m : room);
    err->message[n + (m < room ? m : room)] = '\0';
    return err->code;
}

void vip_warn(const vip_warn_sink *sink, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sink && sink->fn)
        sink->fn(sink->user, msg);
    else
        fprintf(stderr, "vipgen: warning: %s\n", msg);
}
