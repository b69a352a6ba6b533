/* jsonstr: JSON string quoting for documents assembled around encoded
 * protocol messages (the fleet report wraps per-host responses). libc only. */
#ifndef VF_JSONSTR_H
#define VF_JSONSTR_H

#include "strbuf.h"

/* Append s as a quoted JSON string (NULL becomes null). */
void jsonstr_quote(struct strbuf *out, const char *s);

#endif
