/* make bench, letters: a batch of mixed-language rows (the example cases repeated under new crime references)
 * through vip_produce_letters with its worker processes; letters per second, and peak memory of the parent and
 * of the largest worker for two batch sizes, to show memory stays flat as the batch grows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "produce.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes `rows` rows cycling through the example cases, each with its own crime reference. */
static int make_cases(const char *path, int rows)
{
    FILE *in = fopen("examples/cases.csv", "r"), *out = fopen(path, "w");
    if (!in || !out)
        return -1;
    static char header[4096], lines[64][4096];
    int n = 0;
    if (!fgets(header, sizeof header, in))
        return -1;
    while (n < 64 && fgets(lines[n], sizeof lines[n], in))
        n++;
    fclose(in);
    fputs(header, out);
    for (int i = 0; i < rows; i++) {
        const char *rest = strchr(lines[i % n], ',');
        fprintf(out, "BN/2025/%06d%s", i, rest);
    }
    return fclose(out);
}

/* Runs one batch in a child process, so that its peak memory is measured on its own. */
static int run(int rows, int jobs)
{
    char cases[256], dir[256];
    snprintf(cases, sizeof cases, "build/bench/cases-%d.csv", rows);
    snprintf(dir, sizeof dir, "build/bench/letters-%d", rows);
    if (make_cases(cases, rows)) {
        fprintf(stderr, "bench: cannot write %s\n", cases);
        return 1;
    }
    fflush(stdout); /* or the child prints what the parent had buffered */
    pid_t pid = fork();
    if (pid == 0) {
        vip_produce_paths paths = {"fonts/manifest", "templates", "translations", NULL};
        vip_letters_result res;
        vip_error err = {0};
        if (!freopen("/dev/null", "w", stderr))
            _exit(2);
        double t0 = now();
        if (vip_produce_letters(&paths, cases, dir, &(vip_letters_options){.jobs = jobs, .quiet = 1}, &res, &err)) {
            printf("bench: %s\n", err.message);
            _exit(1);
        }
        double t = now() - t0;
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        printf("%5d rows  %2d jobs  %5zu letters  %6.2f s  %7.1f letters/s  peak memory: parent %.1f MB, "
               "largest worker %.1f MB\n",
               rows, jobs, res.written, t, res.written / t, self.ru_maxrss / 1024.0, kids.ru_maxrss / 1024.0);
        fflush(stdout);
        _exit(res.failed ? 1 : 0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = cpus > 0 ? (int)cpus : 1;
    printf("letters (target: 300 letters/s on 2 cores; memory flat as the batch grows: a worker's caches are\n"
           "bounded, so its peak stops growing once they are full):\n");
    int rc = run(250, jobs);
    rc |= run(1000, jobs);
    rc |= run(3000, jobs);
    rc |= run(1000, 1);
    return rc;
}
