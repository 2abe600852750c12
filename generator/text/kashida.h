/* vip_kashida: where a justified Arabic or Farsi line may be lengthened with kashida (tatweel, U+0640) instead of
 * opening its word gaps wide. One place per word, chosen by the traditional priorities of Arabic typesetting:
 *   1. after a letter of the seen class (seen, sheen, sad, dad);
 *   2. before a final teh marbuta, heh or dal;
 *   3. before a final alef, tah, lam, kaf or gaf (never between lam and alef);
 *   4. before a medial beh-like letter (beh, teh, noon, yeh) that is followed by a final reh or yeh;
 *   5. before a final waw, ain, qaf or feh;
 *   6. before any other final letter that joins the one before it.
 * The text engine says which joins are eligible at all (HarfBuzz's safe-to-insert-tatweel, no mark on either
 * letter, one font); this module only chooses among them. */
#ifndef VIP_KASHIDA_H
#define VIP_KASHIDA_H

#include <stddef.h>
#include <stdint.h>

#define VIP_KASHIDA_PRIORITIES 6

/* Whether text in a language is justified with kashida: Arabic and Farsi (set in Naskh). Not Urdu: Nastaliq is
 * not stretched with tatweel. lang is a canonical BCP 47 tag ("ar", "fa", "ur", ...). */
int vip_kashida_language(const char *lang);

/* For n code points where eligible[i] is nonzero if a kashida may join character i - 1 to character i, sets
 * place[i] to the priority (1 best, up to VIP_KASHIDA_PRIORITIES) of the one join chosen in each word (the last
 * of the best priority), 0 at every other character. A word is a stretch of Arabic letters and marks. */
void vip_kashida_places(const uint32_t *cp, size_t n, const uint8_t *eligible, uint8_t *place);

#endif
