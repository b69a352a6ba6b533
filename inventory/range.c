/* range: Ansible host ranges (plugins/inventory/__init__.py
 * expand_hostname_range). The whole name is parsed and the number of
 * resulting hosts computed before a single name is built, so `h[0:99999999]`
 * costs nothing but an error message. */
#include "inventory.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* string.ascii_letters: the order alphabetic ranges walk. */
static const char inv_letters[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

struct inv_seg {
	const char *lit;	/* literal text before the range */
	size_t lit_len;
	bool alpha;
	uint64_t beg, end, step;
	int width;		/* zero padding, 0 for none */
	uint64_t count;		/* values in the range; 0 for the last
				 * (literal-only) segment */
};

static bool
inv_digits(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Parse n digits; false on overflow. */
static bool
inv_parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int
inv_letter(const char *s, size_t n)
{
	const char *p;

	if (n != 1 || !s[0])
		return -1;
	p = strchr(inv_letters, s[0]);
	return p ? (int)(p - inv_letters) : -1;
}

/* Parse "beg:end[:step]" (len bytes at r) into seg; reason on error. */
static const char *
inv_parse_bounds(const char *r, size_t len, struct inv_seg *seg)
{
	const char *c1 = memchr(r, ':', len), *c2;
	const char *b, *e, *st = NULL;
	size_t bl, el, sl = 0;
	int ib, ie;

	if (!c1)
		return "expected [begin:end] or [begin:end:step]";
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - r));
	if (c2 && memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - r)))
		return "expected [begin:end] or [begin:end:step]";
	b = r;
	bl = (size_t)(c1 - r);
	e = c1 + 1;
	el = c2 ? (size_t)(c2 - e) : len - (size_t)(e - r);
	if (c2) {
		st = c2 + 1;
		sl = len - (size_t)(st - r);
	}
	if (!bl) {
		b = "0";	/* Ansible: an empty begin means 0 */
		bl = 1;
	}
	if (!el)
		return "end value missing";
	seg->step = 1;
	if (st && (!inv_digits(st, sl) || !inv_parse_u64(st, sl, &seg->step) ||
		   seg->step == 0))
		return "step must be a positive number";
	seg->width = 0;
	if (b[0] == '0' && bl > 1) {
		if (el != bl)
			return "zero-padded begin and end must have the same "
			       "width";
		seg->width = (int)bl;
	}
	ib = inv_letter(b, bl);
	ie = inv_letter(e, el);
	if (ib >= 0 && ie >= 0) {
		seg->alpha = true;
		seg->beg = (uint64_t)ib;
		seg->end = (uint64_t)ie;
	} else if (inv_digits(b, bl) && inv_digits(e, el)) {
		seg->alpha = false;
		if (!inv_parse_u64(b, bl, &seg->beg) ||
		    !inv_parse_u64(e, el, &seg->end))
			return "number too large";
	} else {
		return "begin and end must both be numbers or both be "
		       "single letters";
	}
	/* Ansible expands a reversed numeric range to nothing; a silently
	 * empty group is never what the operator meant. */
	if (seg->end < seg->beg)
		return "end before start";
	/* [0:18446744073709551615] has 2^64 values: saturate, never wrap to
	 * 0 (found by fuzz/fuzz_inv_range; the caller divides by count). */
	seg->count = (seg->end - seg->beg) / seg->step;
	seg->count += seg->count < UINT64_MAX;
	return NULL;
}

int
inv_range_expand(const char *pattern, size_t max, struct inv_names *out,
		 struct strbuf *err)
{
	struct inv_seg *segs = NULL;
	size_t nr = 0, alloc = 0, i;
	uint64_t total = 1, *idx = NULL;
	const char *p = pattern, *reason = NULL;
	struct strbuf name = STRBUF_INIT;
	bool overflow = false;
	int r = 0;

	for (;;) {
		const char *open = strchr(p, '['), *close = strchr(p, ']');
		struct inv_seg *s;

		XGROW(segs, alloc, nr + 1);
		s = &segs[nr++];
		memset(s, 0, sizeof(*s));
		s->lit = p;
		if (!open) {
			if (close)
				reason = "unbalanced brackets";
			s->lit_len = strlen(p);
			break;
		}
		if (!close || close < open) {
			reason = "unbalanced brackets";
			break;
		}
		s->lit_len = (size_t)(open - p);
		reason = inv_parse_bounds(open + 1, (size_t)(close - open - 1),
					  s);
		if (reason)
			break;
		if (total > UINT64_MAX / s->count)
			overflow = true;
		else
			total *= s->count;
		p = close + 1;
	}
	if (reason) {
		strbuf_addf(err, "invalid host range \"%s\": %s", pattern,
			    reason);
		r = -EINVAL;
		goto out;
	}
	if (overflow || total > max) {
		strbuf_addf(err, "invalid host range \"%s\": expands to ",
			    pattern);
		if (overflow)
			strbuf_addstr(err, "too many hosts");
		else
			strbuf_addf(err, "%llu hosts",
				    (unsigned long long)total);
		strbuf_addf(err, ", more than the limit of %zu", max);
		r = -E2BIG;
		goto out;
	}

	/* Odometer over the ranges, the first one varying slowest as in
	 * Ansible's recursive expansion. */
	XGROW(out->v, out->alloc, out->nr + (size_t)total);
	idx = xcalloc(nr, sizeof(*idx));
	for (;;) {
		strbuf_reset(&name);
		for (i = 0; i < nr; i++) {
			const struct inv_seg *s = &segs[i];
			uint64_t v = s->beg + idx[i] * s->step;

			strbuf_add(&name, s->lit, s->lit_len);
			if (!s->count)
				continue;
			if (s->alpha)
				strbuf_addch(&name, inv_letters[v]);
			else
				strbuf_addf(&name, "%0*llu", s->width,
					    (unsigned long long)v);
		}
		out->v[out->nr++] = strbuf_detach(&name, NULL);
		for (i = nr; i-- > 0;) {
			if (!segs[i].count)
				continue;
			if (++idx[i] < segs[i].count)
				break;
			idx[i] = 0;
		}
		if (i == SIZE_MAX)
			break;
	}
out:
	strbuf_release(&name);
	free(idx);
	free(segs);
	return r;
}
