// vip_message: ICU MessageFormat behind a C interface. Every entry point catches C++ exceptions (ICU itself
// reports failure through UErrorCode and NULL from its own operator new; the standard library may throw
// std::bad_alloc), so nothing but error codes crosses into C.
extern "C" {
#include "message.h"

#include "lang.h"
}

#include <unicode/fmtable.h>
#include <unicode/locid.h>
#include <unicode/messagepattern.h>
#include <unicode/msgfmt.h>
#include <unicode/normalizer2.h>
#include <unicode/numfmt.h>
#include <unicode/parseerr.h>
#include <unicode/translit.h>
#include <unicode/uenum.h>
#include <unicode/unistr.h>
#include <unicode/upluralrules.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace {

// What a pattern requires of an argument's value.
enum need : unsigned { NEED_ANY = 0, NEED_NUMBER = 1, NEED_STRING = 2, NEED_DATE = 4 };

struct arg_use {
    std::string name;         // UTF-8, for messages and matching the C arguments
    icu::UnicodeString uname; // as passed to MessageFormat::format
    unsigned need;
    const char *why; // how the pattern uses it, for messages ("plural", "select", "date", ...)
};

// Sets err from an exception escaping an entry point.
void set_exception_error(vip_error *err)
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory in message formatting");
    } catch (const std::exception &e) {
        vip_error_set(err, VIP_ERR_INTERNAL, "message formatting failed: %s", e.what());
    } catch (...) {
        vip_error_set(err, VIP_ERR_INTERNAL, "message formatting failed");
    }
}

int icu_code(UErrorCode st)
{
    return st == U_MEMORY_ALLOCATION_ERROR ? VIP_ERR_NOMEM : VIP_ERR_INTERNAL;
}

// Strict UTF-8 to UTF-16: invalid input is an error rather than silently becoming U+FFFD.
bool from_utf8(const char *s, icu::UnicodeString &out, const char *what, vip_error *err)
{
    size_t len = std::strlen(s);
    if (len > (size_t)INT32_MAX) {
        vip_error_set(err, VIP_ERR_INPUT, "%s is too long", what);
        return false;
    }
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0;
    u_strFromUTF8(nullptr, 0, &n, s, (int32_t)len, &st);
    if (st == U_INVALID_CHAR_FOUND) {
        vip_error_set(err, VIP_ERR_INPUT, "%s is not valid UTF-8", what);
        return false;
    }
    if (U_FAILURE(st) && st != U_BUFFER_OVERFLOW_ERROR) {
        vip_error_set(err, icu_code(st), "%s: cannot convert from UTF-8 (%s)", what, u_errorName(st));
        return false;
    }
    char16_t *buf = out.getBuffer(n + 1);
    if (!buf) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory converting %s", what);
        return false;
    }
    st = U_ZERO_ERROR;
    u_strFromUTF8(buf, n + 1, &n, s, (int32_t)len, &st);
    out.releaseBuffer(U_SUCCESS(st) ? n : 0);
    if (U_FAILURE(st)) {
        vip_error_set(err, icu_code(st), "%s: cannot convert from UTF-8 (%s)", what, u_errorName(st));
        return false;
    }
    return true;
}

// Returns a malloc'd UTF-8 copy, or NULL with err set.
char *to_utf8(const icu::UnicodeString &s, vip_error *err)
{
    if (s.isBogus()) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory formatting a message");
        return nullptr;
    }
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0;
    u_strToUTF8(nullptr, 0, &n, s.getBuffer(), s.length(), &st);
    if (U_FAILURE(st) && st != U_BUFFER_OVERFLOW_ERROR) {
        vip_error_set(err, VIP_ERR_INTERNAL, "cannot convert a formatted message to UTF-8 (%s)", u_errorName(st));
        return nullptr;
    }
    char *out = static_cast<char *>(std::malloc((size_t)n + 1));
    if (!out) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory formatting a message");
        return nullptr;
    }
    st = U_ZERO_ERROR;
    u_strToUTF8(out, n + 1, &n, s.getBuffer(), s.length(), &st);
    if (U_FAILURE(st)) {
        std::free(out);
        vip_error_set(err, VIP_ERR_INTERNAL, "cannot convert a formatted message to UTF-8 (%s)", u_errorName(st));
        return nullptr;
    }
    out[n] = '\0';
    return out;
}

std::string utf8(const icu::UnicodeString &s)
{
    std::string out;
    s.toUTF8String(out);
    return out;
}

const char *describe(UErrorCode st)
{
    switch (st) {
    case U_UNMATCHED_BRACES: return "unmatched braces";
    case U_PATTERN_SYNTAX_ERROR: return "syntax error";
    case U_DEFAULT_KEYWORD_MISSING: return "a plural or select has no 'other' case";
    case U_DUPLICATE_KEYWORD: return "a plural or select case appears twice";
    case U_ARGUMENT_TYPE_MISMATCH: return "an argument is used with two different types";
    case U_ILLEGAL_ARGUMENT_ERROR: return "invalid argument type or style";
    case U_INDEX_OUTOFBOUNDS_ERROR: return "pattern too long or too deeply nested";
    case U_MEMORY_ALLOCATION_ERROR: return "out of memory";
    default: return "cannot compile";
    }
}

// e.g. "unmatched braces (U_UNMATCHED_BRACES) at offset 17, after "{n, plural, one {""
void set_syntax_error(vip_error *err, UErrorCode st, const UParseError &pe)
{
    if (st == U_MEMORY_ALLOCATION_ERROR) {
        vip_error_set(err, VIP_ERR_NOMEM, "out of memory compiling a message");
        return;
    }
    std::string text = std::string(describe(st)) + " (" + u_errorName(st) + ")";
    if (pe.offset >= 0)
        text += " at offset " + std::to_string(pe.offset);
    std::string pre = utf8(icu::UnicodeString(pe.preContext));
    std::string post = utf8(icu::UnicodeString(pe.postContext));
    if (!pre.empty())
        text += ", after \"" + pre + "\"";
    if (!post.empty())
        text += (pre.empty() ? ", before \"" : " and before \"") + post + "\"";
    vip_error_set(err, VIP_ERR_INPUT, "%s", text.c_str());
}

// Lists the named arguments a pattern uses and what each needs; numbered arguments are refused because a
// translator reordering {0} and {1} silently swaps values, while names cannot be confused.
bool collect_uses(const icu::UnicodeString &pattern, std::vector<arg_use> &uses, vip_error *err)
{
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    std::memset(&pe, 0, sizeof pe);
    icu::MessagePattern mp(st);
    mp.parse(pattern, &pe, st);
    if (U_FAILURE(st)) {
        set_syntax_error(err, st, pe);
        return false;
    }
    int32_t parts = mp.countParts();
    for (int32_t i = 0; i + 1 < parts; i++) {
        const icu::MessagePattern::Part &start = mp.getPart(i);
        if (start.getType() != UMSGPAT_PART_TYPE_ARG_START)
            continue;
        const icu::MessagePattern::Part &id = mp.getPart(i + 1);
        if (id.getType() == UMSGPAT_PART_TYPE_ARG_NUMBER) {
            vip_error_set(err, VIP_ERR_INPUT, "uses numbered argument {%d}; use names", (int)id.getValue());
            return false;
        }
        if (id.getType() != UMSGPAT_PART_TYPE_ARG_NAME)
            continue;
        icu::UnicodeString uname = mp.getSubstring(id);
        unsigned need = NEED_ANY;
        const char *why = "text";
        switch (start.getArgType()) {
        case UMSGPAT_ARG_TYPE_PLURAL: need = NEED_NUMBER; why = "plural"; break;
        case UMSGPAT_ARG_TYPE_SELECTORDINAL: need = NEED_NUMBER; why = "selectordinal"; break;
        case UMSGPAT_ARG_TYPE_CHOICE: need = NEED_NUMBER; why = "choice"; break;
        case UMSGPAT_ARG_TYPE_SELECT: need = NEED_STRING; why = "select"; break;
        case UMSGPAT_ARG_TYPE_SIMPLE:
            if (i + 2 < parts && mp.getPart(i + 2).getType() == UMSGPAT_PART_TYPE_ARG_TYPE) {
                icu::UnicodeString type = mp.getSubstring(mp.getPart(i + 2));
                if (type == u"date" || type == u"time") {
                    need = NEED_DATE;
                    why = type == u"date" ? "date" : "time";
                } else if (type == u"number" || type == u"spellout" || type == u"ordinal" || type == u"duration") {
                    need = NEED_NUMBER;
                    why = "number";
                }
            }
            break;
        default: break;
        }
        auto same = std::find_if(uses.begin(), uses.end(), [&](const arg_use &u) { return u.uname == uname; });
        if (same == uses.end()) {
            uses.push_back(arg_use{utf8(uname), uname, need, why});
        } else if (need != NEED_ANY) {
            if (same->need != NEED_ANY && same->need != need) {
                vip_error_set(err, VIP_ERR_INPUT, "argument {%s} is used both as %s and as %s",
                              same->name.c_str(), same->why, why);
                return false;
            }
            same->need = need;
            same->why = why;
        }
    }
    return true;
}

// The language's ICU locale with the Gregorian calendar forced (fa and others would otherwise get their own
// calendar) and dates shown in UTC: a calendar date is passed as 12:00 UTC, so with every date format in UTC
// (nested ones in plurals and selects too, which MessageFormat::setFormat cannot reach) the day never shifts
// with the machine's time zone. ICU reads the timezone keyword when it creates each calendar. Numbers are European
// digits in every language (translations/README.md, "Digits"): the case values a victim acts on (references, phone
// numbers) are ASCII, and one document has one digit system.
bool make_locale(const char *lang, icu::Locale &out, vip_error *err)
{
    const vip_lang *l = vip_lang_find(lang, err);
    if (!l)
        return false;
    std::string id = std::string(l->icu_locale) + "@calendar=gregorian;numbers=latn;timezone=Etc/UTC";
    out = icu::Locale::createFromName(id.c_str());
    if (out.isBogus()) {
        vip_error_set(err, VIP_ERR_INTERNAL, "ICU does not accept locale '%s'", id.c_str());
        return false;
    }
    return true;
}

bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool make_date(const vip_arg &a, UDate &out, vip_error *err)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (a.year < 1 || a.year > 9999 || a.month < 1 || a.month > 12 || a.day < 1 ||
        a.day > mdays[a.month - 1] + (a.month == 2 && leap(a.year))) {
        vip_error_set(err, VIP_ERR_INPUT, "argument {%s} is not a valid date (%04d-%02d-%02d)", a.name, a.year,
                      a.month, a.day);
        return false;
    }
    out = (double)days_from_civil(a.year, a.month, a.day) * 86400000.0 + 12.0 * 3600000.0;
    return true;
}

const char *type_name(vip_arg_type t)
{
    switch (t) {
    case VIP_ARG_STRING: return "a string";
    case VIP_ARG_NUMBER: return "a number";
    case VIP_ARG_DATE: return "a date";
    }
    return "of unknown type";
}

} // namespace

struct vip_message {
    icu::MessageFormat *format = nullptr;
    std::vector<arg_use> uses;
    std::vector<icu::UnicodeString> names; // uses[k].uname, laid out as MessageFormat::format wants them
    // A message without arguments always says the same: formatted once, then copied (a batch asks for each
    // such message in every letter).
    mutable std::string fixed;
    mutable bool has_fixed = false;
    ~vip_message() { delete format; }
};

extern "C" vip_message *vip_message_compile(const char *pattern, const char *lang, vip_error *err)
{
    try {
        if (!pattern) {
            vip_error_set(err, VIP_ERR_INTERNAL, "no message pattern given");
            return nullptr;
        }
        icu::Locale locale;
        if (!make_locale(lang, locale, err))
            return nullptr;
        icu::UnicodeString upattern;
        if (!from_utf8(pattern, upattern, "the message pattern", err))
            return nullptr;
        std::unique_ptr<vip_message> m(new vip_message);
        if (!collect_uses(upattern, m->uses, err))
            return nullptr;
        for (const arg_use &u : m->uses)
            m->names.push_back(u.uname);
        UErrorCode st = U_ZERO_ERROR;
        UParseError pe;
        std::memset(&pe, 0, sizeof pe);
        m->format = new icu::MessageFormat(upattern, locale, pe, st); // ICU's operator new returns NULL
        if (!m->format) {
            vip_error_set(err, VIP_ERR_NOMEM, "out of memory compiling a message");
            return nullptr;
        }
        if (U_FAILURE(st)) {
            set_syntax_error(err, st, pe);
            return nullptr;
        }
        return m.release();
    } catch (...) {
        set_exception_error(err);
        return nullptr;
    }
}

extern "C" void vip_message_destroy(vip_message *message)
{
    delete message;
}

extern "C" char *vip_message_format(const vip_message *message, const vip_arg *args, size_t count, vip_error *err)
{
    try {
        if (!message || (count && !args)) {
            vip_error_set(err, VIP_ERR_INTERNAL, "vip_message_format: no message or arguments");
            return nullptr;
        }
        size_t n = message->uses.size();
        if (n == 0 && message->has_fixed) {
            char *copy = static_cast<char *>(std::malloc(message->fixed.size() + 1));
            if (!copy) {
                vip_error_set(err, VIP_ERR_NOMEM, "out of memory");
                return nullptr;
            }
            std::memcpy(copy, message->fixed.c_str(), message->fixed.size() + 1);
            return copy;
        }
        std::vector<icu::Formattable> values(n);
        std::string missing;
        size_t nmissing = 0;
        for (size_t k = 0; k < n; k++) {
            const arg_use &use = message->uses[k];
            const vip_arg *a = nullptr;
            for (size_t i = 0; i < count && !a; i++)
                if (args[i].name && use.name == args[i].name)
                    a = &args[i];
            if (!a) {
                missing += (nmissing++ ? ", {" : "{") + use.name + "}";
                continue;
            }
            unsigned have = a->type == VIP_ARG_NUMBER ? NEED_NUMBER : a->type == VIP_ARG_DATE ? NEED_DATE : NEED_STRING;
            if (use.need != NEED_ANY && use.need != have) {
                const char *want = use.need == NEED_NUMBER ? "a number" : use.need == NEED_DATE ? "a date" : "a string";
                vip_error_set(err, VIP_ERR_INPUT, "argument {%s} must be %s (the message uses it in a %s), not %s",
                              use.name.c_str(), want, use.why, type_name(a->type));
                return nullptr;
            }
            switch (a->type) {
            case VIP_ARG_STRING: {
                // A value is only ever an argument, never part of a pattern, so braces and apostrophes in it
                // print as they are.
                icu::UnicodeString s;
                std::string what = "argument {" + use.name + "}";
                if (!a->string) {
                    vip_error_set(err, VIP_ERR_INPUT, "%s has no string value", what.c_str());
                    return nullptr;
                }
                if (!from_utf8(a->string, s, what.c_str(), err))
                    return nullptr;
                values[k].setString(s);
                break;
            }
            case VIP_ARG_NUMBER:
                if (!std::isfinite(a->number)) {
                    vip_error_set(err, VIP_ERR_INPUT, "argument {%s} is not a finite number", use.name.c_str());
                    return nullptr;
                }
                values[k].setDouble(a->number);
                break;
            case VIP_ARG_DATE: {
                UDate d;
                if (!make_date(*a, d, err))
                    return nullptr;
                values[k].setDate(d);
                break;
            }
            default:
                vip_error_set(err, VIP_ERR_INTERNAL, "argument {%s} has an unknown type", use.name.c_str());
                return nullptr;
            }
        }
        if (nmissing) {
            vip_error_set(err, VIP_ERR_INPUT, "the message needs argument%s %s, not given", nmissing > 1 ? "s" : "",
                          missing.c_str());
            return nullptr;
        }
        UErrorCode st = U_ZERO_ERROR;
        icu::UnicodeString out;
        message->format->format(message->names.data(), values.data(), (int32_t)n, out, st);
        if (U_FAILURE(st)) {
            vip_error_set(err, icu_code(st), "formatting the message failed (%s)", u_errorName(st));
            return nullptr;
        }
        char *text = to_utf8(out, err);
        if (text && n == 0) {
            try {
                message->fixed = text;
                message->has_fixed = true;
            } catch (...) {
                // Not kept: formatted again next time.
            }
        }
        return text;
    } catch (...) {
        set_exception_error(err);
        return nullptr;
    }
}

extern "C" int vip_message_arg_names(const char *pattern, char ***names, size_t *count, vip_error *err)
{
    if (!names || !count)
        return vip_error_set(err, VIP_ERR_INTERNAL, "vip_message_arg_names: nowhere to put the names");
    *names = nullptr;
    *count = 0;
    try {
        if (!pattern)
            return vip_error_set(err, VIP_ERR_INTERNAL, "no message pattern given");
        icu::UnicodeString upattern;
        if (!from_utf8(pattern, upattern, "the message pattern", err))
            return err ? err->code : VIP_ERR_INPUT;
        std::vector<arg_use> uses;
        if (!collect_uses(upattern, uses, err))
            return err ? err->code : VIP_ERR_INPUT;
        std::vector<std::string> sorted;
        sorted.reserve(uses.size());
        for (const arg_use &u : uses)
            sorted.push_back(u.name);
        std::sort(sorted.begin(), sorted.end()); // byte order of UTF-8 is code point order
        if (sorted.empty())
            return VIP_OK;
        char **out = static_cast<char **>(std::calloc(sorted.size(), sizeof *out));
        if (!out)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory listing argument names");
        for (size_t i = 0; i < sorted.size(); i++) {
            out[i] = strdup(sorted[i].c_str());
            if (!out[i]) {
                vip_message_free_names(out, i);
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory listing argument names");
            }
        }
        *names = out;
        *count = sorted.size();
        return VIP_OK;
    } catch (...) {
        set_exception_error(err);
        return err ? err->code : VIP_ERR_NOMEM;
    }
}

extern "C" void vip_message_free_names(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        std::free(names[i]);
    std::free(names);
}

extern "C" char *vip_message_format_number(double number, const char *lang, vip_error *err)
{
    try {
        icu::Locale locale;
        if (!make_locale(lang, locale, err))
            return nullptr;
        if (!std::isfinite(number)) {
            vip_error_set(err, VIP_ERR_INPUT, "cannot format a number that is not finite");
            return nullptr;
        }
        // One number format per language, made on first use and kept for the process: a batch numbers the
        // lists and pages of every letter, and making a format costs far more than using it.
        static std::vector<std::pair<std::string, std::unique_ptr<icu::NumberFormat>>> formats;
        icu::NumberFormat *nf = nullptr;
        for (auto &f : formats)
            if (f.first == lang)
                nf = f.second.get();
        if (!nf) {
            UErrorCode st = U_ZERO_ERROR;
            std::unique_ptr<icu::NumberFormat> made(icu::NumberFormat::createInstance(locale, st));
            if (U_FAILURE(st) || !made) {
                vip_error_set(err, icu_code(U_FAILURE(st) ? st : U_MEMORY_ALLOCATION_ERROR),
                              "cannot create a number format for '%s' (%s)", lang, u_errorName(st));
                return nullptr;
            }
            nf = made.get();
            formats.emplace_back(lang, std::move(made));
        }
        icu::UnicodeString out;
        nf->format(number, out);
        return to_utf8(out, err);
    } catch (...) {
        set_exception_error(err);
        return nullptr;
    }
}

namespace {

// Parses a pattern for the checking functions below, with the same errors as vip_message_compile.
bool parse_pattern(const char *pattern, icu::UnicodeString &upattern, icu::MessagePattern &mp, vip_error *err)
{
    if (!pattern) {
        vip_error_set(err, VIP_ERR_INTERNAL, "no message pattern given");
        return false;
    }
    if (!from_utf8(pattern, upattern, "the message pattern", err))
        return false;
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    std::memset(&pe, 0, sizeof pe);
    mp.parse(upattern, &pe, st);
    if (U_FAILURE(st)) {
        set_syntax_error(err, st, pe);
        return false;
    }
    return true;
}

bool is_choice(UMessagePatternArgType t)
{
    return t == UMSGPAT_ARG_TYPE_PLURAL || t == UMSGPAT_ARG_TYPE_SELECTORDINAL || t == UMSGPAT_ARG_TYPE_SELECT;
}

// Code points of pattern[from, to) after NFC.
size_t nfc_length(const icu::UnicodeString &pattern, int32_t from, int32_t to)
{
    if (to <= from)
        return 0;
    UErrorCode st = U_ZERO_ERROR;
    const icu::Normalizer2 *nfc = icu::Normalizer2::getNFCInstance(st);
    icu::UnicodeString piece(pattern, from, to - from);
    if (U_SUCCESS(st)) {
        icu::UnicodeString normal = nfc->normalize(piece, st);
        if (U_SUCCESS(st))
            return (size_t)normal.countChar32();
    }
    return (size_t)piece.countChar32();
}

// The longest text the message starting at part `start` (a MSG_START) prints, besides argument values.
size_t message_length(const icu::MessagePattern &mp, const icu::UnicodeString &pattern, int32_t start, int depth)
{
    if (depth > 64)
        return 0; // ICU limits nesting far below this; a guard, not a rule
    size_t len = 0;
    int32_t prev = mp.getPart(start).getLimit();
    for (int32_t i = start + 1; i < mp.countParts(); i++) {
        const icu::MessagePattern::Part &part = mp.getPart(i);
        UMessagePatternPartType type = part.getType();
        len += nfc_length(pattern, prev, part.getIndex());
        if (type == UMSGPAT_PART_TYPE_MSG_LIMIT)
            return len;
        prev = part.getLimit();
        if (type == UMSGPAT_PART_TYPE_INSERT_CHAR || type == UMSGPAT_PART_TYPE_REPLACE_NUMBER) {
            len += 1;
        } else if (type == UMSGPAT_PART_TYPE_ARG_START) {
            int32_t limit = mp.getLimitPartIndex(i);
            size_t longest = 0;
            if (part.getArgType() != UMSGPAT_ARG_TYPE_NONE && part.getArgType() != UMSGPAT_ARG_TYPE_SIMPLE) {
                for (int32_t j = i + 1; j < limit; j++) {
                    if (mp.getPart(j).getType() != UMSGPAT_PART_TYPE_MSG_START)
                        continue;
                    longest = std::max(longest, message_length(mp, pattern, j, depth + 1));
                    j = mp.getLimitPartIndex(j);
                }
            }
            len += longest;
            i = limit;
            prev = mp.getPart(limit).getLimit();
        }
    }
    return len;
}

} // namespace

extern "C" int vip_message_cases(const char *pattern, vip_message_case **cases, size_t *count, vip_error *err)
{
    if (!cases || !count)
        return vip_error_set(err, VIP_ERR_INTERNAL, "vip_message_cases: nowhere to put the cases");
    *cases = nullptr;
    *count = 0;
    try {
        icu::UnicodeString upattern;
        UErrorCode st = U_ZERO_ERROR;
        icu::MessagePattern mp(st);
        if (U_FAILURE(st))
            return vip_error_set(err, icu_code(st), "cannot parse a message (%s)", u_errorName(st));
        if (!parse_pattern(pattern, upattern, mp, err))
            return err ? err->code : VIP_ERR_INPUT;
        struct found { std::string arg, key; vip_choice_kind kind; int choice; };
        std::vector<found> all;
        int choices = 0;
        for (int32_t i = 0; i + 1 < mp.countParts(); i++) {
            const icu::MessagePattern::Part &start = mp.getPart(i);
            if (start.getType() != UMSGPAT_PART_TYPE_ARG_START || !is_choice(start.getArgType()))
                continue;
            vip_choice_kind kind = start.getArgType() == UMSGPAT_ARG_TYPE_PLURAL  ? VIP_CHOICE_PLURAL
                                   : start.getArgType() == UMSGPAT_ARG_TYPE_SELECT ? VIP_CHOICE_SELECT
                                                                                    : VIP_CHOICE_SELECTORDINAL;
            std::string arg = utf8(mp.getSubstring(mp.getPart(i + 1)));
            int choice = choices++;
            int32_t limit = mp.getLimitPartIndex(i);
            for (int32_t j = i + 2; j < limit; j++) {
                const icu::MessagePattern::Part &p = mp.getPart(j);
                if (p.getType() == UMSGPAT_PART_TYPE_ARG_SELECTOR)
                    all.push_back(found{arg, utf8(mp.getSubstring(p)), kind, choice});
                else if (p.getType() == UMSGPAT_PART_TYPE_MSG_START)
                    j = mp.getLimitPartIndex(j); // nested arguments are listed in their own turn
            }
        }
        if (all.empty())
            return VIP_OK;
        vip_message_case *out = static_cast<vip_message_case *>(std::calloc(all.size(), sizeof *out));
        if (!out)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory listing plural and select cases");
        for (size_t k = 0; k < all.size(); k++) {
            out[k].kind = all[k].kind;
            out[k].choice = all[k].choice;
            out[k].arg = strdup(all[k].arg.c_str());
            out[k].key = strdup(all[k].key.c_str());
            if (!out[k].arg || !out[k].key) {
                vip_message_free_cases(out, k + 1);
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory listing plural and select cases");
            }
        }
        *cases = out;
        *count = all.size();
        return VIP_OK;
    } catch (...) {
        set_exception_error(err);
        return err ? err->code : VIP_ERR_NOMEM;
    }
}

extern "C" void vip_message_free_cases(vip_message_case *cases, size_t count)
{
    if (!cases)
        return;
    for (size_t i = 0; i < count; i++) {
        std::free(cases[i].arg);
        std::free(cases[i].key);
    }
    std::free(cases);
}

extern "C" int vip_message_plural_categories(const char *lang, int ordinal, char ***names, size_t *count,
                                             vip_error *err)
{
    if (!names || !count)
        return vip_error_set(err, VIP_ERR_INTERNAL, "vip_message_plural_categories: nowhere to put the names");
    *names = nullptr;
    *count = 0;
    try {
        const vip_lang *l = vip_lang_find(lang, err);
        if (!l)
            return err ? err->code : VIP_ERR_INPUT;
        UErrorCode st = U_ZERO_ERROR;
        UPluralRules *rules = uplrules_openForType(l->icu_locale, ordinal ? UPLURAL_TYPE_ORDINAL : UPLURAL_TYPE_CARDINAL,
                                                   &st);
        if (U_FAILURE(st) || !rules)
            return vip_error_set(err, icu_code(st), "no plural rules for '%s' (%s)", lang, u_errorName(st));
        UEnumeration *keywords = uplrules_getKeywords(rules, &st);
        std::vector<std::string> sorted;
        const char *k;
        int32_t klen;
        while (U_SUCCESS(st) && keywords && (k = uenum_next(keywords, &klen, &st)) != nullptr)
            sorted.emplace_back(k, (size_t)klen);
        uenum_close(keywords);
        uplrules_close(rules);
        if (U_FAILURE(st))
            return vip_error_set(err, icu_code(st), "cannot list the plural categories of '%s' (%s)", lang,
                                 u_errorName(st));
        std::sort(sorted.begin(), sorted.end());
        char **out = static_cast<char **>(std::calloc(sorted.size() ? sorted.size() : 1, sizeof *out));
        if (!out)
            return vip_error_set(err, VIP_ERR_NOMEM, "out of memory listing plural categories");
        for (size_t i = 0; i < sorted.size(); i++) {
            if (!(out[i] = strdup(sorted[i].c_str()))) {
                vip_message_free_names(out, i);
                return vip_error_set(err, VIP_ERR_NOMEM, "out of memory listing plural categories");
            }
        }
        *names = out;
        *count = sorted.size();
        return VIP_OK;
    } catch (...) {
        set_exception_error(err);
        return err ? err->code : VIP_ERR_NOMEM;
    }
}

extern "C" int vip_message_text_length(const char *pattern, size_t *codepoints, vip_error *err)
{
    if (!codepoints)
        return vip_error_set(err, VIP_ERR_INTERNAL, "vip_message_text_length: nowhere to put the length");
    *codepoints = 0;
    try {
        icu::UnicodeString upattern;
        UErrorCode st = U_ZERO_ERROR;
        icu::MessagePattern mp(st);
        if (U_FAILURE(st))
            return vip_error_set(err, icu_code(st), "cannot parse a message (%s)", u_errorName(st));
        if (!parse_pattern(pattern, upattern, mp, err))
            return err ? err->code : VIP_ERR_INPUT;
        *codepoints = message_length(mp, upattern, 0, 0);
        return VIP_OK;
    } catch (...) {
        set_exception_error(err);
        return err ? err->code : VIP_ERR_NOMEM;
    }
}

extern "C" char *vip_message_transliterate(const char *text, const char *id, vip_error *err)
{
    try {
        if (!text || !id) {
            vip_error_set(err, VIP_ERR_INTERNAL, "vip_message_transliterate: no text or transliterator");
            return nullptr;
        }
        static std::vector<std::pair<std::string, std::unique_ptr<icu::Transliterator>>> made;
        icu::Transliterator *tr = nullptr;
        for (auto &m : made)
            if (m.first == id)
                tr = m.second.get();
        if (!tr) {
            UErrorCode st = U_ZERO_ERROR;
            UParseError pe;
            std::unique_ptr<icu::Transliterator> t(
                icu::Transliterator::createInstance(icu::UnicodeString::fromUTF8(id), UTRANS_FORWARD, pe, st));
            if (U_FAILURE(st) || !t) {
                vip_error_set(err, icu_code(U_FAILURE(st) ? st : U_MEMORY_ALLOCATION_ERROR),
                              "ICU has no transliterator '%s' (%s)", id, u_errorName(st));
                return nullptr;
            }
            tr = t.get();
            made.emplace_back(id, std::move(t));
        }
        icu::UnicodeString s;
        if (!from_utf8(text, s, "the text", err))
            return nullptr;
        tr->transliterate(s);
        return to_utf8(s, err);
    } catch (...) {
        set_exception_error(err);
        return nullptr;
    }
}
