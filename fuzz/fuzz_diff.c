/* fuzz_diff: the unified diff that plan shows and apply records
 * (agent/diff.c), checked by applying it.
 *
 * The input is two texts separated by the first 0xff byte (both cut at
 * a NUL: configuration files are text); its first byte's low bits say
 * whether each side exists. Promises checked: equal texts give no diff;
 * otherwise the diff has the "--- a<path>"/"+++ b<path>" headers and
 * patching the old text with it, as patch(1) would, gives exactly the new
 * text (newline at end of file included); every hunk header's line counts
 * match its body.
 */
#include "diff.h"
#include "fuzz.h"

/* Line k (0-based) of t: start and length including its '\n' if any. */
static size_t
nth_line(const char *t, size_t k, const char **start)
{
	const char *p = t;

	while (k-- && *p) {
		const char *nl = strchr(p, '\n');

		p = nl ? nl + 1 : p + strlen(p);
	}
	*start = p;
	if (!*p)
		return 0;
	return (size_t)((strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) - p);
}

static size_t
count_lines(const char *t)
{
	size_t n = 0;

	for (const char *p = t; *p; n++) {
		const char *nl = strchr(p, '\n');

		p = nl ? nl + 1 : p + strlen(p);
	}
	return n;
}

/* Apply diff to old into out; aborts on a malformed or mismatching diff. */
static void
patch(const char *old, const char *diff, struct strbuf *out)
{
	const char *p = diff, *s;
	size_t oline = 0, oldn = count_lines(old), len;
	bool last_was_minus = false;

	FUZZ_ASSERT(strncmp(p, "--- ", 4) == 0);
	p = strchr(p, '\n') + 1;
	FUZZ_ASSERT(strncmp(p, "+++ ", 4) == 0);
	p = strchr(p, '\n') + 1;
	while (*p) {
		unsigned long os, ol = 1, ns, nl = 1, oc = 0, nc = 0;
		char *e;

		FUZZ_ASSERT(strncmp(p, "@@ -", 4) == 0);
		os = strtoul(p + 4, &e, 10);
		if (*e == ',')
			ol = strtoul(e + 1, &e, 10);
		FUZZ_ASSERT(strncmp(e, " +", 2) == 0);
		ns = strtoul(e + 2, &e, 10);
		if (*e == ',')
			nl = strtoul(e + 1, &e, 10);
		FUZZ_ASSERT(strncmp(e, " @@\n", 4) == 0);
		p = e + 4;
		(void)ns;
		/* Unchanged lines before the hunk (os is 1-based; with ol 0 it
		 * names the line after which the hunk goes). */
		for (size_t stop = ol ? os - 1 : os; oline < stop; oline++) {
			len = nth_line(old, oline, &s);
			strbuf_add(out, s, len);
		}
		while (*p && *p != '@') {
			const char *eol = strchr(p, '\n');
			size_t l = (size_t)(eol - p);

			FUZZ_ASSERT(eol != NULL);
			if (*p == '\\') {
				/* "\ No newline at end of file": the line before
				 * had none. */
				FUZZ_ASSERT(strncmp(p, "\\ No newline at end of file\n",
						    28) == 0);
				if (!last_was_minus) {
					FUZZ_ASSERT(out->len && out->buf[out->len - 1] == '\n');
					strbuf_setlen(out, out->len - 1);
				}
			} else if (*p == ' ' || *p == '-') {
				len = nth_line(old, oline, &s);
				FUZZ_ASSERT(oline < oldn);
				/* The old line's text must match (its newline may
				 * be the one the marker removes). */
				FUZZ_ASSERT(len >= l - 1 && memcmp(s, p + 1, l - 1) == 0);
				if (*p == ' ') {
					strbuf_add(out, p + 1, l - 1);
					strbuf_addch(out, '\n');
				}
				oline++;
				oc++;
				nc += *p == ' ';
			} else {
				FUZZ_ASSERT(*p == '+');
				strbuf_add(out, p + 1, l - 1);
				strbuf_addch(out, '\n');
				nc++;
			}
			last_was_minus = *p == '-';
			p = eol + 1;
		}
		FUZZ_ASSERT(oc == ol && nc == nl);
	}
	for (; oline < oldn; oline++) {
		len = nth_line(old, oline, &s);
		strbuf_add(out, s, len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, d = STRBUF_INIT;
	struct strbuf got = STRBUF_INIT;
	bool ae, be, any;

	if (!size)
		return 0;
	ae = !(data[0] & 1);
	be = !(data[0] & 2);
	fuzz_split(data + 1, size - 1, 0xff, &a, &b);
	strbuf_setlen(&a, strlen(a.buf));
	strbuf_setlen(&b, strlen(b.buf));
	if (!ae)
		strbuf_reset(&a);
	if (!be)
		strbuf_reset(&b);
	any = diff_unified("/etc/x", a.buf, a.len, ae, b.buf, b.len, be, &d);
	if (ae == be && a.len == b.len && !memcmp(a.buf, b.buf, a.len)) {
		FUZZ_ASSERT(!any && d.len == 0);
		goto out;
	}
	FUZZ_ASSERT(any);
	FUZZ_ASSERT(strncmp(d.buf, ae ? "--- a/etc/x\n" : "--- /dev/null\n",
			    ae ? 12 : 14) == 0);
	patch(a.buf, d.buf, &got);
	if (got.len != b.len || memcmp(got.buf, b.buf, b.len) != 0) {
		fprintf(stderr, "patched old != new\n--- diff\n%s--- got\n%s\n",
			d.buf, got.buf);
		abort();
	}
out:
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&d);
	strbuf_release(&got);
	return 0;
}
