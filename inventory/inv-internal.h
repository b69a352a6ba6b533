/* Internal to inventory/ and protocol/inventory_json.c: helpers the
 * parsers share. Not part of the inventory API. */
#ifndef VF_INV_INTERNAL_H
#define VF_INV_INTERNAL_H

#include <stdbool.h>

#include "inventory.h"
#include "strbuf.h"

/* Prepend printf-style text to the message already in sb. */
void inv_err_prefix(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Split "name:port" / "[addr]:port" as Ansible's parse_address() does. */
void inv_split_host_port(const char *s, struct strbuf *host,
			 struct strbuf *port);
bool inv_host_in_group(const struct inv_host *h, const struct inv_group *g);
/* Add h to g's direct hosts (no-op when already there). */
void inv_group_add_host(struct inv_group *g, struct inv_host *h);

#endif
