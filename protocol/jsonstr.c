#include "jsonstr.h"

void
jsonstr_quote(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		strbuf_addstr(out, "null");
		return;
	}
	strbuf_addch(out, '"');
	for (; *p; p++) {
		switch (*p) {
		case '"':  strbuf_addstr(out, "\\\""); break;
		case '\\': strbuf_addstr(out, "\\\\"); break;
		case '\n': strbuf_addstr(out, "\\n"); break;
		case '\r': strbuf_addstr(out, "\\r"); break;
		case '\t': strbuf_addstr(out, "\\t"); break;
		default:
			if (*p < 0x20)
				strbuf_addf(out, "\\u%04x", *p);
			else
				strbuf_addch(out, *p);
		}
	}
	strbuf_addch(out, '"');
}
