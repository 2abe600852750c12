/* A minimal test harness: each check prints "PASS name" or "FAIL name: why"; tests/run.sh counts them. */
#ifndef VIP_CHECK_H
#define VIP_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(name, cond, ...)                                                                                   \
    do {                                                                                                         \
        if (cond) {                                                                                              \
            printf("PASS %s\n", name);                                                                           \
        } else {                                                                                                 \
            check_failures++;                                                                                    \
            printf("FAIL %s: ", name);                                                                           \
            printf(__VA_ARGS__);                                                                                 \
            printf(" (%s:%d)\n", __FILE__, __LINE__);                                                            \
        }                                                                                                        \
        fflush(stdout);                                                                                          \
    } while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif
