/* Running an outside program from a unit test (an oracle: Python's email parser, openssl, qpdf): argv[0] a full
 * path, stdout and stderr captured together. Included by a test's one source file. */
#ifndef VIP_TEST_RUN_H
#define VIP_TEST_RUN_H

#include <glib.h>
#include <sys/wait.h>

/* Runs argv and returns its exit status (-1 if it could not run or was killed); *out gets stdout+stderr (g_free). */
__attribute__((unused)) static int run(char **argv, char **out)
{
    char *o = NULL, *e = NULL;
    int status = 0;
    GError *gerr = NULL;
    *out = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e, &status, &gerr)) {
        *out = g_strdup(gerr->message);
        g_error_free(gerr);
        return -1;
    }
    *out = g_strconcat(o ? o : "", e ? e : "", NULL);
    g_free(o);
    g_free(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
