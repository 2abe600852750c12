/* Reading Unicode's test data (BidiCharacterTest.txt, LineBreakTest.txt): the next test line of a file, and the
 * UTF-8 encoding of the code points the lines give in hex. */
#ifndef VIP_TEST_UNICODE_DATA_H
#define VIP_TEST_UNICODE_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The next line holding a test case: comments and blank lines are passed over, counting lines in *lineno; a
 * comment naming `version` (the data file's own name and Unicode version) sets *version_ok. Returns 0 at the end. */
static int next_test_line(FILE *f, char **line, size_t *cap, long *lineno, const char *version, int *version_ok)
{
    while (getline(line, cap, f) != -1) {
        (*lineno)++;
        if ((*line)[0] == '#') {
            if (strstr(*line, version))
                *version_ok = 1;
            continue;
        }
        if (strspn(*line, " \t\r\n") == strlen(*line))
            continue;
        return 1;
    }
    return 0;
}

/* Writes c as UTF-8 to out (room for 4 bytes) and returns the number of bytes. */
static size_t put_utf8(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

#endif
