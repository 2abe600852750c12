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

#endif
