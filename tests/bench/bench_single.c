/* make bench, single documents: what one `vipgen` process costs for one document, per language: a letter
 * (`letter --ref`), the booklet and a `render` of the language's sample text; then, to compare, a batch of letters
 * (`vipgen letter` over 500 rows, one worker and one per core). Each is run several times; the median wall clock,
 * processor time (user + system, from wait4, workers included) and minor page faults are printed, with the
 * processor time per page (pages from pdfinfo) or per letter. The wall clock also counts waiting for a core on a
 * busy machine; the processor time and the faults are the figures to compare.
 *
 * Minor page faults per document (median of 5) before and after vipgen kept large allocations and the heap's free
 * top in the heap (mallopt in main.c); on the 2-core test machine a fault costs 10-40 us, and processor time
 * varies by a quarter from run to run there, so the faults are the steady figure:
 *   en       letter 3263 -> 3154   booklet 5437 -> 5322   render 2475 -> 2484
 *   pl       letter 3026 -> 2835   booklet 5534 -> 5332   render 2052 -> 1986
 *   ro       letter 2923 -> 2804   booklet 5676 -> 5502   render 2052 -> 1983
 *   ar       letter 2868 -> 2739   booklet 5075 -> 4951   render 1835 -> 1776
 *   fa       letter 2882 -> 2754   booklet 5253 -> 5140   render 1840 -> 1782
 *   ur       letter 3054 -> 2925   booklet 6090 -> 5964   render 1992 -> 1812
 *   pa       letter 2795 -> 2646   booklet 5531 -> 5375   render 1942 -> 1775
 *   zh-Hans  letter 4380 -> 3591   booklet 6116 -> 5329   render 3482 -> 2755
 *   batch of 500, faults per letter: 42.3 -> 40.8 (one worker), 69.5 -> 68.1 (two)
 * zlib's state (deflateInit per stream) was already reused by malloc between streams; kept across streams instead,
 * it added 20-50 faults a document, so it is not kept. */
#define _DEFAULT_SOURCE /* wait4 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_RUNS = 15, BATCH_ROWS = 500 };

typedef struct run_cost {
    double wall_ms, cpu_ms;
    long faults;
} run_cost;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv with stdout and stderr to /dev/null; its cost from wait4's rusage. */
static int run_once(char *const argv[], run_cost *cost)
{
    fflush(stdout);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    cost->wall_ms = (now() - t0) * 1e3;
    cost->cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    cost->faults = ru.ru_minflt;
    return 0;
}

static double median(double *v, int n);

/* Runs argv `runs` times; the medians of its cost. */
static int measure(char *const argv[], int runs, run_cost *mid)
{
    double wall[MAX_RUNS], cpu[MAX_RUNS], faults[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        run_cost cost;
        if (run_once(argv, &cost))
            return -1;
        wall[r] = cost.wall_ms;
        cpu[r] = cost.cpu_ms;
        faults[r] = cost.faults;
    }
    mid->wall_ms = median(wall, runs);
    mid->cpu_ms = median(cpu, runs);
    mid->faults = (long)median(faults, runs);
    return 0;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The page count pdfinfo reads from path, or 0. */
static int pdf_pages(const char *path)
{
    char cmd[700], line[256];
    snprintf(cmd, sizeof cmd, "pdfinfo '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    int pages = 0;
    while (p && fgets(line, sizeof line, p))
        if (sscanf(line, "Pages: %d", &pages) == 1)
            break;
    if (p)
        pclose(p);
    return pages;
}

/* The one PDF a `letter --ref` run wrote into dir. */
static int find_pdf(const char *dir, char *path, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d)))
        if (strlen(e->d_name) > 4 && !strcmp(e->d_name + strlen(e->d_name) - 4, ".pdf"))
            found = snprintf(path, size, "%s/%s", dir, e->d_name) < (int)size;
    if (d)
        closedir(d);
    return found ? 0 : -1;
}

/* Writes `rows` rows cycling through the example cases, each with its own crime reference. */
static int make_cases(const char *path, int rows)
{
    FILE *in = fopen("examples/cases.csv", "r"), *out = fopen(path, "w");
    static char header[4096], lines[64][4096];
    int n = 0;
    if (!in || !out || !fgets(header, sizeof header, in)) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    while (n < 64 && fgets(lines[n], sizeof lines[n], in))
        n++;
    fclose(in);
    fputs(header, out);
    for (int i = 0; i < rows && n > 0; i++) {
        const char *rest = strchr(lines[i % n], ',');
        fprintf(out, "BN/2025/%06d%s", i, rest ? rest : "\n");
    }
    return fclose(out) || n == 0 ? -1 : 0;
}

/* The first crime reference of lang in the example cases. */
static int crime_ref_for(const char *lang, char *ref, size_t size)
{
    FILE *f = fopen("examples/cases.csv", "r");
    char line[4096];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        char *comma = strchr(line, ','), *next = comma ? strchr(comma + 1, ',') : NULL;
        if (next && (size_t)(next - comma - 1) == strlen(lang) && !strncmp(comma + 1, lang, strlen(lang)) &&
            (size_t)(comma - line) < size) {
            memcpy(ref, line, comma - line);
            ref[comma - line] = '\0';
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const char *langs[] = {"en", "pl", "ro", "ar", "fa", "ur", "pa", "zh-Hans"};
    static const char *whats[] = {"letter", "booklet", "render"};
    char *vipgen = argc > 1 ? argv[1] : "build/vipgen";
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > MAX_RUNS)
        runs = 5;
    char tmp[] = "/tmp/vipgen-bench-XXXXXX";
    if (!mkdtemp(tmp)) {
        perror("bench_single: mkdtemp");
        return 1;
    }
    printf("single documents, one vipgen process each (median of %d runs):\n", runs);
    printf("%-8s %-8s %9s %9s %8s %6s %11s\n", "lang", "document", "wall ms", "CPU ms", "faults", "pages",
           "CPU ms/page");
    int rc = 0;
    for (size_t l = 0; l < sizeof langs / sizeof langs[0]; l++) {
        for (size_t w = 0; w < sizeof whats / sizeof whats[0]; w++) {
            char out[300], sample[300], ref[64], pdf[600];
            char *args[12] = {vipgen, (char *)whats[w]};
            if (w == 0) {
                snprintf(out, sizeof out, "%s/letter-%s", tmp, langs[l]);
                if (crime_ref_for(langs[l], ref, sizeof ref)) {
                    fprintf(stderr, "bench_single: no %s row in examples/cases.csv\n", langs[l]);
                    return 1;
                }
                char *rest[] = {"examples/cases.csv", "-o", out, "--ref", ref, "--quiet", NULL};
                memcpy(args + 2, rest, sizeof rest);
            } else {
                snprintf(out, sizeof out, "%s/%s-%s.pdf", tmp, whats[w], langs[l]);
                snprintf(sample, sizeof sample, "examples/samples/%s.txt", langs[l]);
                char *booklet[] = {"--lang", (char *)langs[l], "-o", out, NULL};
                char *render[] = {sample, "--lang", (char *)langs[l], "-o", out, NULL};
                if (w == 1)
                    memcpy(args + 2, booklet, sizeof booklet);
                else
                    memcpy(args + 2, render, sizeof render);
            }
            run_cost mid;
            if (measure(args, runs, &mid)) {
                fprintf(stderr, "bench_single: %s %s failed\n", whats[w], langs[l]);
                return 1;
            }
            int pages = pdf_pages(w == 0 && !find_pdf(out, pdf, sizeof pdf) ? pdf : out);
            printf("%-8s %-8s %9.1f %9.1f %8ld %6d %11.1f\n", langs[l], whats[w], mid.wall_ms, mid.cpu_ms,
                   mid.faults, pages, pages ? mid.cpu_ms / pages : 0.0);
            rc |= pages == 0;
        }
    }
    char cases[300], out[300], jobs[24];
    snprintf(cases, sizeof cases, "%s/cases.csv", tmp);
    snprintf(out, sizeof out, "%s/batch", tmp);
    if (make_cases(cases, BATCH_ROWS)) {
        fprintf(stderr, "bench_single: cannot write %s\n", cases);
        return 1;
    }
    printf("a batch for comparison, %d mixed-language rows (median of %d runs):\n", BATCH_ROWS, runs);
    printf("%-6s %9s %9s %8s %13s %15s\n", "jobs", "wall ms", "CPU ms", "faults", "CPU ms/letter", "faults/letter");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (long j = 1; j <= (cpus > 1 ? cpus : 1); j += cpus > 1 ? cpus - 1 : 1) {
        snprintf(jobs, sizeof jobs, "%ld", j);
        char *args[] = {vipgen, "letter", cases, "-o", out, "--quiet", "--jobs", jobs, NULL};
        run_cost mid;
        if (measure(args, runs, &mid)) {
            fprintf(stderr, "bench_single: the batch failed\n");
            return 1;
        }
        printf("%-6ld %9.1f %9.1f %8ld %13.2f %15.1f\n", j, mid.wall_ms, mid.cpu_ms, mid.faults,
               mid.cpu_ms / BATCH_ROWS, (double)mid.faults / BATCH_ROWS);
    }
    char cmd[100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd))
        rc = 1;
    return rc;
}
