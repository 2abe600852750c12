/* Files for the unit tests: a scratch folder (root, made by the test) and paths in it, and a whole file read into
 * memory. Included by a test's one source file (static functions, as args.h and unicode_data.h). */
#ifndef VIP_TEST_FILES_H
#define VIP_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* The test's scratch folder, e.g. made with mkdtemp. */
__attribute__((unused)) static char root[64];

/* A path in root; the last eight stay valid. */
__attribute__((unused)) static char *in_root(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", root, name);
    return p;
}

/* The whole file, NUL-terminated (len, when given, gets its size); NULL when it cannot be read whole. */
__attribute__((unused)) static char *slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

#endif
