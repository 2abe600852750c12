/* Message arguments for tests: a number, a string or a calendar date by name. */
#ifndef VIP_TEST_ARGS_H
#define VIP_TEST_ARGS_H

#include "message.h"

static vip_arg num(const char *name, double v)
{
    vip_arg a = {.name = name, .type = VIP_ARG_NUMBER, .number = v};
    return a;
}

static vip_arg str(const char *name, const char *v)
{
    vip_arg a = {.name = name, .type = VIP_ARG_STRING, .string = v};
    return a;
}

static vip_arg date(const char *name, int y, int m, int d)
{
    vip_arg a = {.name = name, .type = VIP_ARG_DATE, .year = y, .month = m, .day = d};
    return a;
}

#endif
