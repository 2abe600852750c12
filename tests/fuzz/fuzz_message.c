/* fuzz_message: ICU MessageFormat through generator/input/message.h. The input is
 *   byte 0       the language (index into vip_lang_all)
 *   byte 1       the argument types: two bits per argument, in turn (string, number, date, string)
 *   bytes 2-5    a number and a date for the arguments (the date kept to a calendar date, as the case reader does)
 *   the rest     the pattern, then, after a NUL if there is one, a string value for the arguments.
 * The pattern is compiled and formatted with no arguments and with every argument it names; its argument names are
 * listed; the value is formatted as a number. Checks: what compiles has its names listed, sorted and distinct; a
 * message that names arguments does not format without them; formatting twice gives the same text; every failure
 * carries a message. */
#include <math.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t lang_count;
    const vip_lang *langs = vip_lang_all(&lang_count);
    static int checked;
    for (size_t i = 0; !checked && i < lang_count; i++) { /* a real message compiles in every language */
        vip_error err = {0};
        vip_message *m = vip_message_compile("{days, plural, one {# day} other {# days}}", langs[i].tag, &err);
        fuzz_setup_or_die(m != NULL, langs[i].tag, &err);
        vip_message_destroy(m);
    }
    checked = 1;
    if (size < 6)
        return 0;
    const char *lang = langs[data[0] % lang_count].tag;
    unsigned types = data[1];
    double number = (double)(int16_t)(data[2] | data[3] << 8) / (data[4] & 1 ? 100.0 : 1.0);
    int year = 1900 + data[4] % 200, month = 1 + data[5] % 12, day = 1 + data[5] / 12 % 28;

    /* pattern and value as C strings */
    char *buf = malloc(size - 6 + 2);
    FUZZ_REQUIRE(buf != NULL, "out of memory");
    memcpy(buf, data + 6, size - 6);
    buf[size - 6] = buf[size - 5] = '\0';
    const char *pattern = buf;
    const char *value = buf + strlen(buf) + (strlen(buf) < size - 6 ? 1 : 0);

    vip_error err = {0};
    char **names = NULL;
    size_t name_count = 0;
    int names_rc = vip_message_arg_names(pattern, &names, &name_count, &err);
    if (names_rc != VIP_OK) {
        FUZZ_REQUIRE_ERROR(err, "vip_message_arg_names");
        FUZZ_REQUIRE(names == NULL && name_count == 0, "names returned with an error");
    }
    for (size_t i = 1; i < name_count; i++)
        FUZZ_REQUIRE(strcmp(names[i - 1], names[i]) < 0, "names not sorted and distinct: %s, %s", names[i - 1],
                     names[i]);

    err = (vip_error){0};
    vip_message *message = vip_message_compile(pattern, lang, &err);
    if (!message) {
        FUZZ_REQUIRE_ERROR(err, "vip_message_compile");
    } else {
        FUZZ_REQUIRE(names_rc == VIP_OK, "compiled, yet its argument names could not be listed");
        err = (vip_error){0};
        char *bare = vip_message_format(message, NULL, 0, &err);
        FUZZ_REQUIRE(bare == NULL || name_count == 0, "formatted without the %zu arguments it names", name_count);
        if (!bare)
            FUZZ_REQUIRE_ERROR(err, "vip_message_format without arguments");
        free(bare);

        vip_arg *args = calloc(name_count + 1, sizeof *args);
        FUZZ_REQUIRE(args != NULL, "out of memory");
        for (size_t i = 0; i < name_count; i++) {
            args[i].name = names[i];
            switch (types >> (2 * (i % 4)) & 3) {
            case 1: args[i].type = VIP_ARG_NUMBER; args[i].number = number; break;
            case 2: args[i].type = VIP_ARG_DATE; args[i].year = year; args[i].month = month; args[i].day = day; break;
            default: args[i].type = VIP_ARG_STRING; args[i].string = value; break;
            }
        }
        char *first = NULL;
        for (int pass = 0; pass < 2; pass++) {
            err = (vip_error){0};
            char *out = vip_message_format(message, args, name_count, &err);
            if (!out) {
                FUZZ_REQUIRE_ERROR(err, "vip_message_format");
                FUZZ_REQUIRE(pass == 0 || first == NULL, "formatted once, then failed");
                continue;
            }
            if (pass == 0)
                first = out;
            else {
                FUZZ_REQUIRE(first && strcmp(first, out) == 0, "two formattings differ: \"%s\" and \"%s\"",
                             first ? first : "(failed)", out);
                free(out);
            }
        }
        free(first);
        free(args);
        vip_message_destroy(message);
    }
    vip_message_free_names(names, name_count);

    err = (vip_error){0};
    char *end = NULL;
    double parsed = strtod(value, &end);
    char *digits = vip_message_format_number(end != value ? parsed : number, lang, &err);
    if (!digits)
        FUZZ_REQUIRE_ERROR(err, "vip_message_format_number");
    else
        FUZZ_REQUIRE(digits[0], "a number formatted as nothing");
    free(digits);
    free(buf);
    return 0;
}
