/* vip_template: a document template (XML, validated against templates/template.rng) merged with a catalogue and,
 * for letters, one case row into a document tree. Templates carry structure only: the words come from the
 * catalogue (<msg id>), the case values from the row (<field name>), and case values are always arguments or
 * plain text, never patterns. */
#ifndef VIP_TEMPLATE_H
#define VIP_TEMPLATE_H

#include "case.h"
#include "catalog.h"
#include "doc.h"
#include "error.h"

typedef struct vip_template vip_template;

/* Loads and validates a template; errors name the file and line. Images it names are checked here. */
vip_template *vip_template_load(const char *path, const char *schema_path, vip_error *err);
void vip_template_destroy(vip_template *tmpl);

/* Sets the value of a <param> the template declares (the force's name, address, website, phone and email from
 * its configuration), for every document merged from now on; a name the template does not declare is ignored. */
int vip_template_set_param(vip_template *tmpl, const char *name, const char *value, vip_error *err);

/* Draws the PNG file in place of the template's image src (the force's logo in place of logo.png); the file is
 * checked here. */
int vip_template_replace_image(vip_template *tmpl, const char *src, const char *file, vip_error *err);

/* Previews: with on set, every document merged from now on records, per block, the catalogue units it prints
 * (vip_block's units; the title, header and footer's in vip_doc's furniture_units). Off by default. */
void vip_template_record_units(vip_template *tmpl, int on);

/* Chooses a print variant the template offers (<page><print name="a5-booklet">: another paper, margins, type),
 * applied to every document merged from now on; several may be chosen, applied in order. An unknown name is an
 * error listing the template's variants. */
int vip_template_set_print(vip_template *tmpl, const char *name, vip_error *err);

/* "letter" or "booklet". */
const char *vip_template_kind(const vip_template *tmpl);

/* Builds the document for one case row (NULL for a booklet) in the catalogue's language. The catalogue must
 * outlive the document (its footer formats page numbers during layout). Units that fell back to English are
 * reported through warn, once per unit and catalogue per template. */
vip_doc *vip_template_merge(vip_template *tmpl, vip_catalog *catalog, const vip_case_row *row,
                            const vip_warn_sink *warn, vip_error *err);

#endif
