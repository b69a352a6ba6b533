/* pattern: Ansible host patterns, as used by --limit
 * (inventory/manager.py split_host_pattern, order_patterns,
 * _match_one_pattern, _enumerate_matches, _apply_subscript). */
#include "inventory.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* A limit file (@file) is a list of host names: 1 MiB is plenty. */
#define INV_LIMIT_FILE_MAX (1u << 20)

static void
inv_names_add(struct inv_names *n, const char *s, size_t len)
{
	XGROW(n->v, n->alloc, n->nr + 1);
	n->v[n->nr++] = xstrndup(s, len);
}

static bool
inv_hostname_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Would Ansible's parse_address() accept s as one address (host:port,
 * [addr]:port or a bare IPv6 address)? Then ':' is no separator. */
static bool
inv_pattern_is_address(const char *s)
{
	const char *colon = strrchr(s, ':'), *p;
	size_t colons = 0;

	if (!colon)
		return false;
	if (colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		bool ok = colon > s;

		if (s[0] == '[' && colon > s + 1 && colon[-1] == ']')
			return true;
		for (p = s; ok && p < colon; p++) {
			if (*p == '[') {
				const char *e = strchr(p, ']');

				if (!e || e > colon)
					ok = false;
				else
					p = e;
			} else if (!inv_hostname_char(*p)) {
				ok = false;
			}
		}
		if (ok)
			return true;
	}
	for (p = s; *p; p++) {
		if (*p == ':')
			colons++;
		else if (!isxdigit((unsigned char)*p) && *p != '.')
			return false;
	}
	return colons >= 2;
}

/* split_host_pattern(): ',' separates; without one, ':' does unless the
 * whole thing is an address; [...] groups are never split. */
static void
inv_pattern_split(const char *pattern, struct inv_names *out)
{
	const char *p = pattern, *b, *e;

	if (strchr(pattern, ',')) {
		for (;;) {
			const char *c = strchr(p, ',');
			size_t len = c ? (size_t)(c - p) : strlen(p);

			b = p;
			e = p + len;
			while (b < e && isspace((unsigned char)*b))
				b++;
			while (e > b && isspace((unsigned char)e[-1]))
				e--;
			if (e > b)
				inv_names_add(out, b, (size_t)(e - b));
			if (!c)
				break;
			p = c + 1;
		}
		return;
	}
	b = pattern;
	while (isspace((unsigned char)*b))
		b++;
	e = b + strlen(b);
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (e == b)
		return;
	if (inv_pattern_is_address(b)) {
		inv_names_add(out, b, (size_t)(e - b));
		return;
	}
	/* re.findall(r'(?:[^\s:\[\]]|\[[^\]]*\])+') */
	p = pattern;
	while (*p) {
		const char *start = p;

		for (;;) {
			if (*p == '[') {
				const char *c = strchr(p, ']');

				if (!c)
					break;
				p = c + 1;
			} else if (*p && *p != ':' && *p != ']' &&
				   !isspace((unsigned char)*p)) {
				p++;
			} else {
				break;
			}
		}
		if (p > start)
			inv_names_add(out, start, (size_t)(p - start));
		else
			p++;
	}
}

/* Append the non-empty lines of an @file limit. */
static int
inv_pattern_file(const char *path, struct inv_names *out, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	char *line, *save = NULL;
	int r;

	r = strbuf_read_file(&buf, path, INV_LIMIT_FILE_MAX);
	if (r < 0) {
		strbuf_addf(err, "Unable to read limit file %s: %s", path,
			    r == -EFBIG ? "too large" : strerror(-r));
		goto out;
	}
	for (line = strtok_r(buf.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *e = line + strlen(line);

		while (isspace((unsigned char)*line))
			line++;
		while (e > line && isspace((unsigned char)e[-1]))
			e--;
		if (e > line)
			inv_names_add(out, line, (size_t)(e - line));
	}
out:
	strbuf_release(&buf);
	return r;
}

/*
 * glibc's regcomp() copies the subexpression of every repetition (x+ is
 * compiled as xx*, x{m,n} as n copies of x) and computes epsilon closures
 * over the copies, so short patterns cost gigabytes or minutes (found by
 * fuzz/fuzz_inv_select): "~.+++...+" doubles its tree at every '+',
 * "~..*++++++++++" and "~((((((((a*)+)+)+)+)+)+)+)+" take seconds to
 * compile. Refuse, before regcomp() sees them: adjacent repetition
 * operators (undefined in POSIX EREs anyway), repetitions nested more than
 * INV_REGEX_NEST deep, and an estimated compiled size (copies counted as
 * regcomp makes them, saturating) over INV_REGEX_BUDGET. A --limit regex
 * for host names is far below all three. Returns NULL or the reason.
 */
#define INV_REGEX_BUDGET 500u
#define INV_REGEX_NEST 4u

static size_t
inv_regex_mul(size_t a, size_t b)
{
	return b && a > (INV_REGEX_BUDGET + 1) / b ? INV_REGEX_BUDGET + 1 : a * b;
}

static size_t
inv_regex_add(size_t a, size_t b)
{
	return a + b > INV_REGEX_BUDGET ? INV_REGEX_BUDGET + 1 : a + b;
}

static const char *
inv_regex_too_costly(const char *re)
{
	/* Per open group: its size so far and its deepest repetition. */
	struct { size_t size, nest; } stack[32];
	size_t depth = 0, cur = 0, cur_nest = 0;
	size_t last = 0, last_nest = 0;	/* the last atom or group */
	bool after_rep = false;

	for (const char *p = re; *p; p++) {
		size_t f = 0;
		bool rep = false;

		switch (*p) {
		case '\\':
			if (p[1])
				p++;
			last = 1;
			last_nest = 0;
			cur = inv_regex_add(cur, 1);
			break;
		case '[':
			/* A bracket expression is one node: skip to its ']'
			 * ("[]a]", "[^]a]" and "[[:alpha:]]" included). */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (p[0] == '[' && p[1] && strchr(":.=", p[1])) {
					const char *e = strchr(p + 2, p[1]);

					p = e && e[1] == ']' ? e + 1 : p + 1;
				}
				if (*p)
					p++;
			}
			if (!*p)
				p--;
			last = 1;
			last_nest = 0;
			cur = inv_regex_add(cur, 1);
			break;
		case '(':
			if (depth == sizeof(stack) / sizeof(*stack))
				return "groups nested too deep";
			stack[depth].size = cur;
			stack[depth++].nest = cur_nest;
			cur = 0;
			cur_nest = 0;
			last = 0;
			break;
		case ')':
			if (!depth) {
				last = 1;
				last_nest = 0;
				cur = inv_regex_add(cur, 1);
				break;
			}
			last = cur ? cur : 1;
			last_nest = cur_nest;
			depth--;
			cur = inv_regex_add(stack[depth].size, last);
			cur_nest = stack[depth].nest > last_nest ?
				stack[depth].nest : last_nest;
			break;
		case '+':
			rep = true;
			f = 2;
			break;
		case '*': case '?':
			rep = true;
			f = 1;
			break;
		case '{': {
			char *e;
			unsigned long m = strtoul(p + 1, &e, 10), n = m;

			if (e == p + 1 || (*e != ',' && *e != '}')) {
				last = 1;
				last_nest = 0;
				cur = inv_regex_add(cur, 1);
				break;
			}
			if (*e == ',')
				n = e[1] == '}' ? m + 1 : strtoul(e + 1, &e, 10);
			if (*e != '}')
				e = strchr(p, '}');
			if (!e)
				return NULL;	/* regcomp() refuses it */
			p = e;
			rep = true;
			f = n > m ? n : m;
			if (f > INV_REGEX_BUDGET)
				return "repetition count too large";
			break;
		}
		case '|':
			last = 0;
			break;
		default:
			last = 1;
			last_nest = 0;
			cur = inv_regex_add(cur, 1);
			break;
		}
		if (rep && last) {
			if (after_rep)
				return "adjacent repetition operators";
			if (++last_nest > INV_REGEX_NEST)
				return "repetitions nested too deep";
			if (last_nest > cur_nest)
				cur_nest = last_nest;
			if (f > 1) {
				cur = inv_regex_add(cur, inv_regex_mul(last, f - 1));
				last = inv_regex_mul(last, f);
			} else {
				cur = inv_regex_add(cur, 1);	/* the loop node */
				last = inv_regex_add(last, 1);
			}
		}
		after_rep = rep;
		if (cur > INV_REGEX_BUDGET)
			return "too large once compiled";
	}
	return NULL;
}

/* A compiled glob or ~regex. */
struct inv_matcher {
	bool regex;
	regex_t re;
	const char *glob;
};

static int
inv_matcher_init(struct inv_matcher *m, const char *pat, struct strbuf *err)
{
	const char *why;

	memset(m, 0, sizeof(*m));
	if (pat[0] != '~') {
		m->glob = pat;
		return 0;
	}
	why = inv_regex_too_costly(pat + 1);
	if (why) {
		strbuf_addf(err, "Invalid host list pattern: %s: regular "
			    "expression too complex (%s)", pat, why);
		return -EINVAL;
	}
	if (regcomp(&m->re, pat + 1, REG_EXTENDED)) {
		strbuf_addf(err, "Invalid host list pattern: %s", pat);
		return -EINVAL;
	}
	m->regex = true;
	return 0;
}

static bool
inv_matcher_match(const struct inv_matcher *m, const char *s)
{
	regmatch_t pm;

	if (!m->regex)
		return fnmatch(m->glob, s, FNM_NOESCAPE) == 0;
	/* Python's re.match: the match must start at the beginning. POSIX
	 * finds the leftmost match, so one at 0 exists iff rm_so is 0. */
	return regexec(&m->re, s, 1, &pm, 0) == 0 && pm.rm_so == 0;
}

static void
inv_matcher_release(struct inv_matcher *m)
{
	if (m->regex)
		regfree(&m->re);
}

/* Append g.get_hosts() as Ansible orders it: g's own hosts, then those
 * of its descendants breadth first (Ansible walks deeper levels in Python
 * set order; here they follow the order children were added). */
static void
inv_group_hosts(const struct inv *inv, const struct inv_group *g,
		struct inv_hostlist *out)
{
	const struct inv_group **order = NULL;
	bool *gseen = xcalloc(inv->nr_groups, sizeof(*gseen));
	bool *hseen = xcalloc(inv->nr_hosts + 1, sizeof(*hseen));
	size_t nr = 0, alloc = 0, i, j;

	XGROW(order, alloc, 1);
	order[nr++] = g;
	gseen[g->index] = true;
	for (i = 0; i < nr; i++)
		for (j = 0; j < order[i]->nr_children; j++) {
			const struct inv_group *c = order[i]->children[j];

			if (gseen[c->index])
				continue;
			gseen[c->index] = true;
			XGROW(order, alloc, nr + 1);
			order[nr++] = c;
		}
	for (i = 0; i < nr; i++)
		for (j = 0; j < order[i]->nr_hosts; j++) {
			struct inv_host *h = order[i]->hosts[j];

			if (hseen[h->index])
				continue;
			hseen[h->index] = true;
			XGROW(out->v, out->alloc, out->nr + 1);
			out->v[out->nr++] = h;
		}
	free(order);
	free(gseen);
	free(hseen);
}

/* _split_subscript(): "expr[3]", "expr[-1]", "expr[1:4]", "expr[2:]". */
static bool
inv_subscript(char *pat, long *start, long *end, bool *range)
{
	size_t len = strlen(pat);
	char *open, *p, *q;

	if (pat[0] == '~' || len < 4 || pat[len - 1] != ']')
		return false;
	open = strrchr(pat, '[');
	if (!open || open == pat)
		return false;
	p = open + 1;
	q = p;
	if (*q == '-')
		q++;
	if (isdigit((unsigned char)*q)) {
		while (isdigit((unsigned char)*q))
			q++;
		if (q == pat + len - 1) {
			*start = strtol(p, NULL, 10);
			*range = false;
			*open = '\0';
			return true;
		}
	}
	q = p;
	if (!isdigit((unsigned char)*q))
		return false;
	while (isdigit((unsigned char)*q))
		q++;
	if (*q != ':' && *q != '-')
		return false;
	*start = strtol(p, NULL, 10);
	p = ++q;
	while (isdigit((unsigned char)*q))
		q++;
	if (q != pat + len - 1)
		return false;
	*end = q > p ? strtol(p, NULL, 10) : -1;
	*range = true;
	*open = '\0';
	return true;
}

/*
 * Mark in m[] the hosts one pattern (without its &/! prefix) selects, as
 * _enumerate_matches() + _apply_subscript() do: hosts of every matching
 * group (in group order, duplicates kept), then matching host names, and
 * the subscript indexes that list. Returns 0, -ENOENT when neither a group
 * nor a host matched, or -EINVAL.
 */
static int
inv_match_one(const struct inv *inv, const char *pattern, bool *m,
	      struct strbuf *err)
{
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct inv_matcher mt;
	char *expr = xstrdup(pattern);
	bool range = false, sub, any_group = false;
	long start = 0, end = 0, s, e;
	size_t i;
	int r;

	sub = inv_subscript(expr, &start, &end, &range);
	r = inv_matcher_init(&mt, expr, err);
	if (r < 0)
		goto out;
	for (i = 0; i < inv->nr_groups; i++)
		if (inv_matcher_match(&mt, inv->groups[i]->name)) {
			any_group = true;
			inv_group_hosts(inv, inv->groups[i], &l);
		}
	if (!any_group || mt.regex || strpbrk(expr, ".?*["))
		for (i = 0; i < inv->nr_hosts; i++)
			if (inv_matcher_match(&mt, inv->hosts[i]->name)) {
				XGROW(l.v, l.alloc, l.nr + 1);
				l.v[l.nr++] = inv->hosts[i];
			}
	if (!l.nr && !any_group) {
		strbuf_addf(err, "Could not match supplied host pattern: %s",
			    pattern);
		r = -ENOENT;
		goto out;
	}
	if (!sub || !l.nr) {
		for (i = 0; i < l.nr; i++)
			m[l.v[i]->index] = true;
		goto out;
	}
	s = start;
	e = end;
	if (!range || e == 0) {
		/* Python's hosts[start] (negative counts from the end);
		 * Ansible reads [x:0] the same way. */
		if (s < 0)
			s += (long)l.nr;
		if (s < 0 || (size_t)s >= l.nr) {
			strbuf_addf(err, "No hosts matched the subscripted "
				    "pattern '%s'", pattern);
			r = -ENOENT;
			goto out;
		}
		m[l.v[s]->index] = true;
	} else {
		if (e == -1)
			e = (long)l.nr - 1;
		for (i = (size_t)s; i < l.nr && (long)i <= e; i++)
			m[l.v[i]->index] = true;
	}
out:
	inv_hostlist_release(&l);
	inv_matcher_release(&mt);
	free(expr);
	return r;
}

int
inv_select(const struct inv *inv, const char *pattern,
	   struct inv_hostlist *out, struct strbuf *err)
{
	struct inv_names raw = INV_NAMES_INIT, pats = INV_NAMES_INIT;
	struct inv_names ordered = INV_NAMES_INIT;
	bool *sel = xcalloc(inv->nr_hosts + 1, sizeof(*sel));
	bool *m = xcalloc(inv->nr_hosts + 1, sizeof(*m));
	size_t i, pass;
	int r = 0;

	out->nr = 0;
	inv_pattern_split(pattern, &raw);
	for (i = 0; i < raw.nr; i++) {
		if (raw.v[i][0] == '@') {
			r = inv_pattern_file(raw.v[i] + 1, &pats, err);
			if (r < 0)
				goto out;
		} else {
			inv_names_add(&pats, raw.v[i], strlen(raw.v[i]));
		}
	}
	/* order_patterns(): plain ones, then &, then !; with no plain
	 * pattern at all, start from `all`. */
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < pats.nr; i++) {
			char c = pats.v[i][0];
			size_t kind = c == '&' ? 1 : c == '!' ? 2 : 0;

			if (kind == pass)
				inv_names_add(&ordered, pats.v[i],
					      strlen(pats.v[i]));
			if (pass == 0 && i + 1 == pats.nr && !ordered.nr)
				inv_names_add(&ordered, "all", 3);
		}
	if (!pats.nr)
		inv_names_add(&ordered, "all", 3);

	for (i = 0; i < ordered.nr; i++) {
		const char *p = ordered.v[i];
		char kind = (p[0] == '&' || p[0] == '!') ? p[0] : 0;
		const struct inv_host *h;
		size_t j;

		if (kind)
			p++;
		if (!*p) {
			strbuf_addf(err, "empty host pattern after '%c'", kind);
			r = -EINVAL;
			goto out;
		}
		/* A plain pattern that is a host name is that host. */
		if (!kind && (h = inv_host_find(inv, p))) {
			sel[h->index] = true;
			continue;
		}
		memset(m, 0, inv->nr_hosts * sizeof(*m));
		r = inv_match_one(inv, p, m, err);
		if (r < 0)
			goto out;
		for (j = 0; j < inv->nr_hosts; j++) {
			if (!kind)
				sel[j] |= m[j];
			else if (kind == '&')
				sel[j] &= m[j];
			else
				sel[j] &= !m[j];
		}
	}
	for (i = 0; i < inv->nr_hosts; i++)
		if (sel[i]) {
			XGROW(out->v, out->alloc, out->nr + 1);
			out->v[out->nr++] = inv->hosts[i];
		}
	if (!out->nr) {
		strbuf_addf(err, "host pattern \"%s\" leaves no hosts to "
			    "target", pattern);
		r = -ENOENT;
	}
out:
	inv_names_release(&raw);
	inv_names_release(&pats);
	inv_names_release(&ordered);
	free(sel);
	free(m);
	return r;
}
