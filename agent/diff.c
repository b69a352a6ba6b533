/* diff.c: unified diff (diff.h). */
#include "diff.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct diff_lines {
	const char **s;		/* start of each line */
	size_t *len;		/* its length, newline excluded */
	bool last_nl;		/* the last line ends with '\n' */
	size_t n;
};

static void
diff_split(const char *t, size_t len, struct diff_lines *l)
{
	size_t alloc = 0, alloc2 = 0, pos = 0;

	memset(l, 0, sizeof(*l));
	l->last_nl = true;
	while (pos < len) {
		const char *nl = memchr(t + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (t + pos)) : len - pos;

		XGROW(l->s, alloc, l->n + 1);
		XGROW(l->len, alloc2, l->n + 1);
		l->s[l->n] = t + pos;
		l->len[l->n] = ll;
		l->n++;
		if (!nl)
			l->last_nl = false;
		pos += ll + (nl ? 1 : 0);
	}
}

static bool
diff_eq(const struct diff_lines *a, size_t i, const struct diff_lines *b,
	size_t j)
{
	/* The line without a newline differs from the same text with one. */
	bool an = i + 1 < a->n || a->last_nl, bn = j + 1 < b->n || b->last_nl;

	return a->len[i] == b->len[j] && an == bn &&
	       memcmp(a->s[i], b->s[j], a->len[i]) == 0;
}

/* One edit script entry: ' ' keep, '-' old line, '+' new line. */
struct diff_op {
	char op;
	size_t i, j;	/* line index in old (for ' ' and '-'), new (' ', '+') */
};

static void
diff_push(struct diff_op **ops, size_t *n, size_t *alloc, char op, size_t i,
	  size_t j)
{
	XGROW(*ops, *alloc, *n + 1);
	(*ops)[*n].op = op;
	(*ops)[*n].i = i;
	(*ops)[*n].j = j;
	(*n)++;
}

/* The edit script between a and b (LCS over the middle part). */
static struct diff_op *
diff_script(const struct diff_lines *a, const struct diff_lines *b, size_t *nops)
{
	struct diff_op *ops = NULL;
	size_t n = 0, alloc = 0, pre = 0, suf = 0, m1, m2;

	while (pre < a->n && pre < b->n && diff_eq(a, pre, b, pre))
		pre++;
	while (suf < a->n - pre && suf < b->n - pre &&
	       diff_eq(a, a->n - 1 - suf, b, b->n - 1 - suf))
		suf++;
	m1 = a->n - pre - suf;
	m2 = b->n - pre - suf;
	for (size_t k = 0; k < pre; k++)
		diff_push(&ops, &n, &alloc, ' ', k, k);
	if (m1 && m2 && (m1 + 1) * (m2 + 1) <= DIFF_CELLS_MAX) {
		/* lcs[x][y]: LCS length of a[pre+x..] and b[pre+y..]. */
		uint32_t *lcs = xcalloc((m1 + 1) * (m2 + 1), sizeof(*lcs));
		size_t x = 0, y = 0;

#define L(x, y) lcs[(x) * (m2 + 1) + (y)]
		for (size_t i = m1; i-- > 0;)
			for (size_t j = m2; j-- > 0;)
				L(i, j) = diff_eq(a, pre + i, b, pre + j) ?
					L(i + 1, j + 1) + 1 :
					(L(i + 1, j) >= L(i, j + 1) ?
					 L(i + 1, j) : L(i, j + 1));
		while (x < m1 || y < m2) {
			if (x < m1 && y < m2 && diff_eq(a, pre + x, b, pre + y)) {
				diff_push(&ops, &n, &alloc, ' ', pre + x, pre + y);
				x++;
				y++;
			} else if (y >= m2 || (x < m1 && L(x + 1, y) >= L(x, y + 1))) {
				diff_push(&ops, &n, &alloc, '-', pre + x, pre + y);
				x++;
			} else {
				diff_push(&ops, &n, &alloc, '+', pre + x, pre + y);
				y++;
			}
		}
#undef L
		free(lcs);
	} else {
		for (size_t k = 0; k < m1; k++)
			diff_push(&ops, &n, &alloc, '-', pre + k, pre);
		for (size_t k = 0; k < m2; k++)
			diff_push(&ops, &n, &alloc, '+', pre + m1, pre + k);
	}
	for (size_t k = 0; k < suf; k++)
		diff_push(&ops, &n, &alloc, ' ', a->n - suf + k, b->n - suf + k);
	*nops = n;
	return ops;
}

static void
diff_line(struct strbuf *out, char op, const struct diff_lines *l, size_t i)
{
	strbuf_addch(out, op);
	/* diff_script() names only lines of its two inputs (i < l->n); the
	 * analyzer does not follow that through ops[] and sees an empty side. */
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	strbuf_add(out, l->s[i], l->len[i]);
	strbuf_addch(out, '\n');
	if (i + 1 == l->n && !l->last_nl)
		strbuf_addstr(out, "\\ No newline at end of file\n");
}

/* "@@ -start,count" in diff -u's convention (start 0 for an empty side). */
static void
diff_range(struct strbuf *out, char sign, size_t start, size_t count)
{
	if (count == 1)
		strbuf_addf(out, "%c%zu", sign, start + 1);
	else
		strbuf_addf(out, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

bool
diff_unified(const char *path, const char *old, size_t old_len, bool old_exists,
	     const char *new_, size_t new_len, bool new_exists,
	     struct strbuf *out)
{
	struct diff_lines a, b;
	struct diff_op *ops;
	size_t nops, k = 0;
	bool any = false;

	if (old_exists == new_exists && old_len == new_len &&
	    memcmp(old, new_, old_len) == 0)
		return false;
	diff_split(old_exists ? old : "", old_exists ? old_len : 0, &a);
	diff_split(new_exists ? new_ : "", new_exists ? new_len : 0, &b);
	ops = diff_script(&a, &b, &nops);
	if (old_exists)
		strbuf_addf(out, "--- a%s\n", path);
	else
		strbuf_addstr(out, "--- /dev/null\n");
	if (new_exists)
		strbuf_addf(out, "+++ b%s\n", path);
	else
		strbuf_addstr(out, "+++ /dev/null\n");
	while (k < nops) {
		size_t first, last, end, oi, ni, oc = 0, nc = 0;

		while (k < nops && ops[k].op == ' ')
			k++;
		if (k == nops)
			break;
		/* Grow the hunk while changes are within 2*context lines. */
		first = k >= DIFF_CONTEXT ? k - DIFF_CONTEXT : 0;
		last = k;
		for (size_t q = k; q < nops; q++) {
			if (ops[q].op != ' ') {
				last = q;
			} else if (q - last > 2 * (size_t)DIFF_CONTEXT) {
				break;
			}
		}
		end = last + DIFF_CONTEXT + 1 < nops ? last + DIFF_CONTEXT + 1 : nops;
		oi = ops[first].i;
		ni = ops[first].j;
		for (size_t q = first; q < end; q++) {
			oc += ops[q].op != '+';
			nc += ops[q].op != '-';
		}
		strbuf_addstr(out, "@@ ");
		diff_range(out, '-', oi, oc);
		strbuf_addch(out, ' ');
		diff_range(out, '+', ni, nc);
		strbuf_addstr(out, " @@\n");
		for (size_t q = first; q < end; q++) {
			if (ops[q].op == '+')
				diff_line(out, '+', &b, ops[q].j);
			else
				diff_line(out, ops[q].op, &a, ops[q].i);
		}
		any = true;
		k = end;
	}
	if (!any) {
		/* Only the existence differs (an empty file created or removed). */
		any = true;
	}
	free(ops);
	free(a.s);
	free(a.len);
	free(b.s);
	free(b.len);
	return any;
}
