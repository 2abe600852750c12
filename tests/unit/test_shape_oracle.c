/* The glyphs vipgen places must be the glyphs HarfBuzz's own hb-shape gives for the same font, text, script,
 * direction, language and context. For each sample sentence, vipgen lays the paragraph out on one wide line;
 * every run is then shaped again by the hb-shape program (an oracle nobody here wrote), with the paragraph
 * around the run as context, and the two glyph strings (IDs, clusters, offsets, advances) must be equal.
 * The positions vipgen hands on (points) must follow from the same advances and offsets. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fonts.h"
#include "text.h"

static const struct {
    const char *lang, *text;
} samples[] = {
    {"en", "Your crime reference is NC/2024/012345; call PC Daniel Okafor on 0800 555 0123 (office hours)."},
    {"pl", "Zażółć gęślą jaźń — Pani Agnieszka Wiśniewska, sprawa NC/2024/012345."},
    {"ro", "Vă mulțumim, doamnă Ioana Popescu; numărul cazului: NC/2024/012345."},
    {"ar", "الرقم المرجعي لبلاغك هو NC/2024/012345. يُرجى ذكره كلما تواصلتِ معنا (شكرًا)."},
    {"fa", "شماره مرجع پرونده شما NC/2024/012345 است. ظرف ۵ روز کاری می‌گیرید."},
    {"ar", "السيدة \u2068Amira Haddad\u2069، المرجع \u2068NC/2024/012345\u2069."},
    {"ur", "آپ کے کیس کا حوالہ نمبر NC/2024/012345 ہے۔ پولیس افسر Daniel Okafor سے 0800 555 0123 پر رابطہ کریں۔"},
    {"pa", "ਤੁਹਾਡੇ ਕੇਸ ਦਾ ਹਵਾਲਾ ਨੰਬਰ NC/2024/012345 ਹੈ। ਕਿਰਪਾ ਕਰਕੇ ਪ੍ਰਾਪਤੀ ਦੀ ਪੁਸ਼ਟੀ ਕਰੋ।"},
    {"zh-Hans", "您的案件编号是 NC/2024/012345。每次与我们联系时，请提供此编号（谢谢）！"},
};

/* Runs argv, captures its standard output into buf; returns the exit status or -1. */
static int capture(char *const argv[], char *buf, size_t size)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        /* hb-shape echoes --text-before on stderr; its exit status tells failure. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd[0], buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* vipgen's glyphs of a run in hb-shape's text format, clusters relative to the run's start. */
static void format_run(const vip_text_run *r, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    if (r->glyph_count == 0)
        return; /* hb-shape prints nothing for an empty buffer (a run of removed default ignorables) */
    n += (size_t)snprintf(out + n, size - n, "[");
    for (size_t g = 0; g < r->glyph_count && n < size; g++) {
        const vip_text_glyph *gl = &r->glyphs[g];
        n += (size_t)snprintf(out + n, size - n, "%s%u=%u", g ? "|" : "", gl->gid, gl->cluster - r->start);
        if (gl->x_offset || gl->y_offset)
            n += (size_t)snprintf(out + n, size - n, "@%d,%d", gl->x_offset, gl->y_offset);
        n += (size_t)snprintf(out + n, size - n, "+%d", gl->x_advance);
    }
    if (n < size)
        snprintf(out + n, size - n, "]");
}

int main(void)
{
    vip_error err = {0};
    vip_fontset *fonts = vip_fontset_load("fonts/manifest", &err);
    if (!fonts) {
        printf("FAIL fonts: %s\n", err.message);
        return 1;
    }
    vip_text *text = vip_text_create(fonts, &err);
    int runs_checked = 0;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        const char *t = samples[s].text;
        size_t len = strlen(t);
        vip_text_style style = {.lang = samples[s].lang, .size = 12, .align = VIP_ALIGN_START};
        vip_paragraph *p = vip_text_layout_paragraph(text, t, len, &style, NULL, 0, 1e6, samples[s].lang, &err);
        char name[64];
        snprintf(name, sizeof name, "shape.%s.layout", samples[s].lang);
        CHECK(name, p && p->line_count == 1, "%s", p ? "more than one line" : err.message);
        if (!p)
            continue;
        int all_equal = 1, positions_ok = 1, scripts_seen = 0;
        for (size_t r = 0; r < p->lines[0].run_count; r++) {
            const vip_text_run *run = &p->lines[0].runs[r];
            /* hb-shape gets the run's text, the paragraph before and after it as context, and BOT/EOT as vipgen
             * sets them. */
            char *item = strndup(t + run->start, run->end - run->start);
            char *before = strndup(t, run->start);
            char *after = strdup(t + run->end);
            char font_arg[600], face_arg[32], dir_arg[32], script_arg[32], lang_arg[64];
            char *before_arg = malloc(strlen(before) + 20), *after_arg = malloc(strlen(after) + 20);
            if (!item || !before || !after || !before_arg || !after_arg)
                return 2;
            snprintf(font_arg, sizeof font_arg, "--font-file=%s", vip_font_path(run->font));
            snprintf(face_arg, sizeof face_arg, "--face-index=%u", vip_font_face_index(run->font));
            snprintf(dir_arg, sizeof dir_arg, "--direction=%s", run->rtl ? "rtl" : "ltr");
            snprintf(script_arg, sizeof script_arg, "--script=%s", run->script);
            snprintf(lang_arg, sizeof lang_arg, "--language=%s", run->lang);
            sprintf(before_arg, "--text-before=%s", before);
            sprintf(after_arg, "--text-after=%s", after);
            char *argv[16];
            int a = 0;
            argv[a++] = "hb-shape";
            argv[a++] = font_arg;
            argv[a++] = face_arg;
            argv[a++] = dir_arg;
            argv[a++] = script_arg;
            argv[a++] = lang_arg;
            argv[a++] = "--no-glyph-names";
            argv[a++] = "--utf8-clusters";
            argv[a++] = "--remove-default-ignorables";
            if (run->start == 0)
                argv[a++] = "--bot";
            else
                argv[a++] = before_arg;
            if (run->end == len)
                argv[a++] = "--eot";
            else
                argv[a++] = after_arg;
            argv[a++] = "--";
            argv[a++] = item;
            argv[a] = NULL;
            static char oracle[65536], mine[65536];
            int rc = capture(argv, oracle, sizeof oracle);
            format_run(run, mine, sizeof mine);
            if (rc != 0 || strcmp(oracle, mine) != 0) {
                all_equal = 0;
                printf("INFO %s run %zu (%s %s %s) \"%s\"\n  hb-shape: %s\n  vipgen:   %s\n", samples[s].lang, r,
                       vip_font_name(run->font), run->script, run->rtl ? "rtl" : "ltr", item, oracle, mine);
            }
            runs_checked++;
            scripts_seen++;
            /* Positions in points follow from HarfBuzz's advances and offsets. */
            double scale = run->size / vip_font_get_metrics(run->font)->upem, pen = 0;
            for (size_t g = 0; g < run->glyph_count; g++) {
                const vip_text_glyph *gl = &run->glyphs[g];
                if (fabs(gl->x - (pen + gl->x_offset * scale)) > 1e-9 || fabs(gl->y - gl->y_offset * scale) > 1e-9)
                    positions_ok = 0;
                pen += gl->x_advance * scale;
            }
            if (fabs(pen - run->width) > 1e-9)
                positions_ok = 0;
            free(item);
            free(before);
            free(after);
            free(before_arg);
            free(after_arg);
        }
        snprintf(name, sizeof name, "shape.%s.glyphs_equal_hb_shape", samples[s].lang);
        CHECK(name, all_equal && scripts_seen > 0, "glyphs differ from hb-shape (see INFO lines)");
        snprintf(name, sizeof name, "shape.%s.positions", samples[s].lang);
        CHECK(name, positions_ok, "positions do not follow the shaped advances and offsets");
        vip_paragraph_destroy(p);
    }
    printf("INFO %d runs compared with hb-shape\n", runs_checked);
    vip_text_destroy(text);
    vip_fontset_destroy(fonts);
    return CHECK_DONE();
}
