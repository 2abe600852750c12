/* vip_xml: the one way vipgen reads XML (templates, catalogues): no network, no DTD loading, no entity
 * substitution, and a document that declares a DOCTYPE is refused outright, so neither external entities nor
 * entity expansion ("billion laughs") can reach the parser's output. Errors give file and line. */
#ifndef VIP_XML_H
#define VIP_XML_H

#include <libxml/tree.h>

#include "error.h"

xmlDocPtr vip_xml_read_file(const char *path, vip_error *err);
/* name labels the buffer in messages. */
xmlDocPtr vip_xml_read_memory(const char *data, size_t len, const char *name, vip_error *err);

/* A libxml2 error (its code and message) on one line, in words a user can act on: its size and depth limits
 * say what is too big or too deep (not "use XML_PARSE_HUGE"), an encoding error names the bytes. */
void vip_xml_describe_error(int code, const char *message, char *out, size_t size);

/* n's line in its file (0 when libxml2 does not know it). */
int vip_xml_line(const xmlNode *n);

/* Whether n is an element in namespace ns named name (name NULL: any name). */
int vip_xml_is_element(const xmlNode *n, const char *ns, const char *name);

/* The text and CDATA children of n joined (entities already decoded), malloc'd; NULL when out of memory. Other
 * children (elements, comments) are the caller's to check and are left out. */
char *vip_xml_text(const xmlNode *n);

/* n's attribute name in namespace ns (NULL: no namespace) as a malloc'd string (libxml2's allocator is not ours to
 * mix), or NULL when n has none; *nomem is set when the copy cannot be made. */
char *vip_xml_attr(const xmlNode *n, const char *ns, const char *name, int *nomem);

#endif
