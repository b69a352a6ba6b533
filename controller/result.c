#include "result.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
result_init(struct result *r, const char *host)
{
	memset(r, 0, sizeof(*r));
	r->host = xstrdup(host);
	proto_response_init(&r->resp, PROTO_OP_FACTS);
}

void
result_release(struct result *r)
{
	free(r->host);
	free(r->error);
	proto_response_release(&r->resp);
	memset(r, 0, sizeof(*r));
}

void
result_fail(struct result *r, enum result_status st, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* A failed host always shows a reason, even when a lower layer
	 * gave none. */
	if (!sb.len && st != RESULT_OK && st != RESULT_SKIPPED)
		strbuf_addstr(&sb, "failed without a reason (please report "
			      "this as a vfleet bug)");
	free(r->error);
	r->error = strbuf_detach(&sb, NULL);
	r->status = st;
}

bool
result_failed(const struct result *r)
{
	if (r->status == RESULT_SKIPPED)
		return false;
	return r->status != RESULT_OK || (r->have_resp && !r->resp.ok);
}

const char *
result_status_name(enum result_status st)
{
	switch (st) {
	case RESULT_PENDING:     return "pending";
	case RESULT_OK:          return "ok";
	case RESULT_FAILED:      return "failed";
	case RESULT_UNREACHABLE: return "unreachable";
	case RESULT_SKIPPED:     return "skipped";
	}
	return "?";
}

/* Last line of s (at most 200 bytes) for messages; s may be NULL. */
static void
result_tail(struct strbuf *out, const char *s)
{
	size_t n;
	const char *end, *start;

	if (!s || !*s)
		return;
	n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	end = s + n;
	start = end;
	while (start > s && start[-1] != '\n' && end - start < 200)
		start--;
	strbuf_addstr(out, ": ");
	for (; start < end; start++)	/* keep control bytes off the terminal */
		strbuf_addch(out, (unsigned char)*start < 0x20 ? '?' : *start);
}

int
result_take_answer(struct result *r, const char *out, size_t len,
		   int exit_code, const char *err_tail)
{
	struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
	int rc;

	proto_response_release(&r->resp);
	r->have_resp = false;
	rc = proto_response_decode(out, len, &r->resp, &err);
	if (rc < 0) {
		if (len == 0)
			strbuf_addf(&why, "agent exited with status %d and no answer",
				    exit_code);
		else
			strbuf_addf(&why, "agent answer rejected (%s)", err.buf);
		result_tail(&why, err_tail);
		result_fail(r, RESULT_FAILED, "%s", why.buf);
		rc = -EPROTO;
		goto out;
	}
	r->have_resp = true;
	r->status = RESULT_OK;
	/* The decoder refuses ok: false without errors, so there is always
	 * an error to name (its code when its message is empty); the
	 * fallback only keeps that true on its own. */
	if (!r->resp.ok) {
		const struct proto_error *e = r->resp.nerrors ?
					      &r->resp.errors[0] : NULL;

		result_fail(r, RESULT_OK, "%s", !e ? "the agent failed without "
			    "saying why" : *e->message ? e->message : e->code);
	}
	rc = 0;
out:
	strbuf_release(&err);
	strbuf_release(&why);
	return rc;
}
