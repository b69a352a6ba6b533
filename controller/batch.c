#include "batch.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct batch_item {
	unsigned long value;
	bool pct;
};

static int
batch_parse_item(const char *s, size_t len, struct batch_item *it,
		 struct strbuf *err)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf)) {
		strbuf_addf(err, "--serial: expected a number or a percentage, got '%.*s'",
			    (int)len, s);
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	it->pct = buf[len - 1] == '%';
	if (it->pct)
		buf[len - 1] = '\0';
	errno = 0;
	it->value = strtoul(buf, &end, 10);
	if (buf[0] < '0' || buf[0] > '9' || *end || errno ||
	    (it->pct && it->value > 100)) {
		strbuf_addf(err, "--serial: expected a number or a percentage "
			    "(0-100%%), got '%.*s'", (int)len, s);
		return -EINVAL;
	}
	return 0;
}

/* Ansible's pct_to_int: floor of the percentage of total, at least 1. */
static size_t
batch_item_size(const struct batch_item *it, size_t total)
{
	size_t n;

	if (!it->pct)
		return it->value;
	n = (size_t)((unsigned long long)it->value * total / 100);
	return n ? n : 1;
}

int
batch_plan_make(const char *serial, size_t total, struct batch_plan *out,
		struct strbuf *err)
{
	struct batch_item items[BATCH_SERIAL_MAX];
	size_t nitems = 0, left = total, i = 0, alloc = 0;
	const char *p = serial;

	memset(out, 0, sizeof(*out));
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (nitems == BATCH_SERIAL_MAX) {
			strbuf_addf(err, "--serial: at most %d items", BATCH_SERIAL_MAX);
			return -EINVAL;
		}
		if (batch_parse_item(p, len, &items[nitems++], err) < 0)
			return -EINVAL;
		p = comma ? comma + 1 : NULL;
	}
	while (left) {
		size_t sz = nitems ? batch_item_size(&items[i < nitems ? i : nitems - 1],
						     total) : 0;

		/* serial 0 (or absent) means all hosts in one batch */
		if (sz == 0 || sz > left)
			sz = left;
		XGROW(out->size, alloc, out->n + 1);
		out->size[out->n++] = sz;
		left -= sz;
		i++;
	}
	return 0;
}

void
batch_plan_release(struct batch_plan *p)
{
	free(p->size);
	memset(p, 0, sizeof(*p));
}

int
batch_parse_max_fail(const char *s, int *out, struct strbuf *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0) {
		strbuf_addf(err, "--max-fail-percentage: expected a whole number "
			    "0-100, got '%s'", s);
		return -EINVAL;
	}
	*out = v > 100 ? 101 : (int)v;
	return 0;
}

bool
batch_should_stop(size_t batch_size, size_t failed, size_t unreachable,
		  int max_fail_pct, bool any_errors_fatal)
{
	if (batch_size == 0)
		return false;
	if (failed + unreachable >= batch_size)
		return true;
	if (any_errors_fatal && failed + unreachable > 0)
		return true;
	/* failed/size > pct/100, in integers: failed*100 > pct*size */
	return max_fail_pct >= 0 &&
	       (unsigned long long)failed * 100 >
	       (unsigned long long)max_fail_pct * batch_size;
}
