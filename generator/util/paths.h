/* vip_paths: where vipgen's data is — the templates folder, the translations folder and the font manifest — so
 * that the program works from any directory. Each is looked up in this order: the command-line option, the
 * environment ($VIPGEN_TEMPLATES, $VIPGEN_TRANSLATIONS, $VIPGEN_FONTS), the configuration's [paths], the installed
 * share directory (../share/vipgen beside the program's bin/, then the one it was built for), and the source tree
 * when the program is run from it (the build folder's parent, or the working directory). */
#ifndef VIP_PATHS_H
#define VIP_PATHS_H

#include "error.h"

#define VIP_PATH_MAX 4096

typedef struct vip_paths {
    char templates[VIP_PATH_MAX];     /* folder holding letter.xml, booklet.xml, template.rng */
    char translations[VIP_PATH_MAX];  /* folder holding <tag>.xlf */
    char fonts[VIP_PATH_MAX];         /* the font manifest */
} vip_paths;

/* The values given on the command line and in the configuration (each may be NULL). */
typedef struct vip_paths_given {
    const char *templates, *translations, *fonts;
} vip_paths_given;

/* Resolves the three; fails (VIP_ERR_IO) naming the places it looked when one cannot be found. */
int vip_paths_find(const vip_paths_given *option, const vip_paths_given *config, vip_paths *out, vip_error *err);

/* The installed data directories looked in, for messages and --version: writes up to n of them to dirs. */
int vip_paths_data_dirs(char dirs[][VIP_PATH_MAX], int n);

#endif
