/* vip_paths: finds the data from where the program is, so an installed (or moved) tree works from any directory
 * and a build in the source tree uses that tree. */
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VIPGEN_DATADIR
#define VIPGEN_DATADIR "/usr/local/share/vipgen"
#endif

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether dir holds vipgen's data: templates/template.rng, translations/en.xlf and fonts/manifest. */
static int holds_data(const char *dir)
{
    char p[VIP_PATH_MAX + 64];
    snprintf(p, sizeof p, "%.4000s/templates/template.rng", dir);
    if (!is_file(p))
        return 0;
    snprintf(p, sizeof p, "%.4000s/translations/en.xlf", dir);
    if (!is_file(p))
        return 0;
    snprintf(p, sizeof p, "%.4000s/fonts/manifest", dir);
    return is_file(p);
}

/* The folder the running program is in (resolved through symlinks), or "" when it cannot be told. */
static void program_dir(char out[VIP_PATH_MAX])
{
    out[0] = '\0';
    char exe[VIP_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    snprintf(out, VIP_PATH_MAX, "%s", exe[0] ? exe : "/");
}

int vip_paths_data_dirs(char dirs[][VIP_PATH_MAX], int n)
{
    int count = 0;
    char bin[VIP_PATH_MAX];
    program_dir(bin);
    if (bin[0] && count < n)
        snprintf(dirs[count++], VIP_PATH_MAX, "%.4000s/../share/vipgen", bin);
    /* A build inside the source tree (build/vipgen) uses that tree rather than an older installed copy. */
    if (bin[0] && count < n)
        snprintf(dirs[count++], VIP_PATH_MAX, "%.4000s/..", bin);
    if (count < n)
        snprintf(dirs[count++], VIP_PATH_MAX, "%s", VIPGEN_DATADIR);
    if (count < n)
        snprintf(dirs[count++], VIP_PATH_MAX, ".");
    return count;
}

/* One resource: option, environment, configuration, then the first data directory that holds the data. */
static int find_one(const char *option, const char *env_name, const char *config, const char *data_dir,
                    const char *relative, char *out, const char *what, const char *looked, vip_error *err)
{
    const char *env = getenv(env_name);
    const char *given = option ? option : env && *env ? env : config;
    if (given) {
        snprintf(out, VIP_PATH_MAX, "%s", given);
        return VIP_OK;
    }
    if (!data_dir)
        return vip_error_set(err, VIP_ERR_IO, "cannot find vipgen's %s: none of %s holds vipgen's data (templates/, "
                             "translations/ and fonts/manifest); install vipgen with 'make install', or give --%s "
                             "or $%s, or [paths] %s in vipgen.conf",
                             what, looked, what, env_name, what);
    snprintf(out, VIP_PATH_MAX, "%.4000s/%s", data_dir, relative);
    return VIP_OK;
}

int vip_paths_find(const vip_paths_given *option, const vip_paths_given *config, vip_paths *out, vip_error *err)
{
    static const vip_paths_given none = {0};
    if (!option)
        option = &none;
    if (!config)
        config = &none;
    char dirs[4][VIP_PATH_MAX];
    int n = vip_paths_data_dirs(dirs, 4);
    const char *data_dir = NULL;
    char looked[1024] = "";
    for (int i = 0; i < n && !data_dir; i++) {
        if (holds_data(dirs[i]))
            data_dir = dirs[i];
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%.200s", i ? ", " : "", dirs[i]);
    }
    int rc = find_one(option->templates, "VIPGEN_TEMPLATES", config->templates, data_dir, "templates",
                      out->templates, "templates", looked, err);
    if (!rc)
        rc = find_one(option->translations, "VIPGEN_TRANSLATIONS", config->translations, data_dir, "translations",
                      out->translations, "translations", looked, err);
    if (!rc)
        rc = find_one(option->fonts, "VIPGEN_FONTS", config->fonts, data_dir, "fonts/manifest", out->fonts, "fonts",
                      looked, err);
    return rc;
}
