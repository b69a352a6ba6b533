/* cfgfile.c: line reader, directory listing, shell and cmdline parsing. */
#include "cfgfile.h"
#include "sysroot.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
cfgfile_foreach_line(const char *root, const char *path,
		     cfgfile_line_fn fn, void *ctx)
{
	struct strbuf full = STRBUF_INIT, body = STRBUF_INIT;
	struct strbuf line = STRBUF_INIT;
	const char *p, *end;
	unsigned lineno = 0;
	int r;

	sysroot_path(&full, root, path);
	r = strbuf_read_file(&body, full.buf, CFGFILE_MAX);
	if (r == -EFBIG)
		r = 0;	/* a config this large is odd; use what was read */
	if (r < 0)
		goto out;
	p = body.buf;
	end = body.buf + body.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		strbuf_reset(&line);
		strbuf_add(&line, p, n);
		if (line.len && line.buf[line.len - 1] == '\r')
			strbuf_setlen(&line, line.len - 1);
		r = fn(line.buf, ++lineno, ctx);
		if (r)
			goto out;
		p = nl ? nl + 1 : end;
	}
out:
	strbuf_release(&full);
	strbuf_release(&body);
	strbuf_release(&line);
	return r;
}

static int
cfgfile_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cfgfile_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
cfgfile_list(const char *root, const char *dir, const char *suffix,
	     char ***names, size_t *n)
{
	struct strbuf full = STRBUF_INIT;
	size_t alloc = 0, slen = suffix ? strlen(suffix) : 0;
	struct dirent *de;
	DIR *d = NULL;
	int r = 0;

	*names = NULL;
	*n = 0;
	sysroot_path(&full, root, dir);
	d = opendir(full.buf);
	if (!d) {
		r = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;	/* ".", "..", ".gitkeep", editor files */
		if (slen && (len < slen ||
			     strcmp(de->d_name + len - slen, suffix) != 0))
			continue;
		XGROW(*names, alloc, *n + 1);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	if (*n)
		qsort(*names, *n, sizeof(**names), cfgfile_cmp);
	r = (int)*n;
out:
	if (d)
		closedir(d);
	strbuf_release(&full);
	return r;
}

bool
cfgfile_is_comment(const char *line)
{
	line += strspn(line, " \t");
	return *line == '\0' || *line == '#';
}

/* Unquote a shell word list starting at p into value (sh semantics, no
 * expansion). Stops at an unquoted blank, ';' or '#' after a blank. */
static void
cfgfile_unquote(const char *p, struct strbuf *value)
{
	if (*p == '(') {
		/* bash array (mkinitcpio.conf): keep "(a b c)" as written. */
		const char *q = strchr(p, ')');

		strbuf_add(value, p, q ? (size_t)(q - p + 1) : strlen(p));
		return;
	}
	while (*p && *p != ' ' && *p != '\t' && *p != ';') {
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');

			if (!q)
				q = p + strlen(p);	/* unterminated: take the rest */
			strbuf_add(value, p + 1, (size_t)(q - p - 1));
			p = *q ? q + 1 : q;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				strbuf_addch(value, *p);
			}
			if (*p == '"')
				p++;
		} else if (*p == '\\' && p[1]) {
			strbuf_addch(value, p[1]);
			p += 2;
		} else {
			strbuf_addch(value, *p++);
		}
	}
}

bool
cfgfile_assignment(const char *line, struct strbuf *name,
		   struct strbuf *value, bool *appends)
{
	const char *p = line + strspn(line, " \t"), *s;

	strbuf_reset(name);
	strbuf_reset(value);
	if (appends)
		*appends = false;
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
		p += 6 + strspn(p + 6, " \t");
	s = p;
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
		return false;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	       (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	strbuf_add(name, s, (size_t)(p - s));
	if (*p == '+' && p[1] == '=') {
		if (appends)
			*appends = true;
		p++;
	}
	if (*p != '=') {
		strbuf_reset(name);
		return false;
	}
	cfgfile_unquote(p + 1, value);
	return true;
}

static bool
cfgfile_delim(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '"' || c == '\'' ||
	       c == '(' || c == ')' || c == ',' || c == '=';
}

bool
cfgfile_has_word(const char *s, const char *word)
{
	size_t wl = strlen(word);

	if (!wl)
		return false;
	for (const char *p = s; (p = strstr(p, word)); p++) {
		if ((p == s || cfgfile_delim(p[-1])) && cfgfile_delim(p[wl]) &&
		    p[wl] != '=')
			return true;
	}
	return false;
}

/* Kernel parameter names compare with '-' == '_' (kernel/params.c). */
static bool
cfgfile_param_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/*
 * Walk the parameters of a kernel command line as next_arg() in
 * lib/cmdline.c does: blank-separated, double quotes group blanks.
 * Calls fn(name, namelen, value-or-NULL, valuelen, ctx) for each.
 */
typedef bool (*cfgfile_param_fn)(const char *name, size_t nlen,
				 const char *val, size_t vlen, void *ctx);

static void
cfgfile_cmdline_walk(const char *s, cfgfile_param_fn fn, void *ctx)
{
	struct strbuf tok = STRBUF_INIT;

	if (!s)
		return;
	while (*s) {
		bool quoted = false;
		const char *eq;

		s += strspn(s, " \t\n");
		if (!*s)
			break;
		strbuf_reset(&tok);
		for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
			if (*s == '"') {
				quoted = !quoted;
				continue;
			}
			strbuf_addch(&tok, *s);
		}
		if (strcmp(tok.buf, "--") == 0)
			break;	/* the rest belongs to init */
		eq = strchr(tok.buf, '=');
		if (fn(tok.buf, eq ? (size_t)(eq - tok.buf) : tok.len,
		       eq ? eq + 1 : NULL, eq ? strlen(eq + 1) : 0, ctx))
			break;
	}
	strbuf_release(&tok);
}

struct cfgfile_param_ctx {
	const char *name;
	const char *want;	/* cfgfile_cmdline_has: the value sought */
	struct strbuf *value;
	bool found;
};

static bool
cfgfile_param_last(const char *n, size_t nl, const char *v, size_t vl,
		   void *vctx)
{
	struct cfgfile_param_ctx *c = vctx;

	if (!cfgfile_param_eq(n, nl, c->name))
		return false;
	c->found = true;
	if (c->value) {
		strbuf_reset(c->value);
		if (v)
			strbuf_add(c->value, v, vl);
	}
	return false;
}

bool
cfgfile_cmdline_param(const char *cmdline, const char *name,
		      struct strbuf *value)
{
	struct cfgfile_param_ctx c = { .name = name, .value = value };

	if (value)
		strbuf_reset(value);
	cfgfile_cmdline_walk(cmdline, cfgfile_param_last, &c);
	return c.found;
}

static bool
cfgfile_param_has(const char *n, size_t nl, const char *v, size_t vl,
		  void *vctx)
{
	struct cfgfile_param_ctx *c = vctx;
	size_t wl = strlen(c->want);
	const char *p, *e;

	/* A bare flag (v NULL) has no value to match; no arithmetic on NULL. */
	if (!v || !cfgfile_param_eq(n, nl, c->name))
		return false;
	p = v;
	e = v + vl;
	while (p <= e) {
		const char *comma = memchr(p, ',', (size_t)(e - p));
		const char *q = comma ? comma : e;

		if ((size_t)(q - p) == wl && memcmp(p, c->want, wl) == 0) {
			c->found = true;
			return true;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

bool
cfgfile_cmdline_has(const char *cmdline, const char *name, const char *value)
{
	struct cfgfile_param_ctx c = { .name = name, .want = value };

	cfgfile_cmdline_walk(cmdline, cfgfile_param_has, &c);
	return c.found;
}

bool
cfgfile_kernel_version(const char *release, int *major, int *minor)
{
	char *end;
	long ma, mi;

	if (!release || *release < '0' || *release > '9')
		return false;
	ma = strtol(release, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	mi = strtol(end + 1, &end, 10);
	if (ma > 1000 || mi > 1000)
		return false;
	*major = (int)ma;
	*minor = (int)mi;
	return true;
}

bool
cfgfile_kernel_at_least(const char *release, int major, int minor)
{
	int ma, mi;

	if (!cfgfile_kernel_version(release, &ma, &mi))
		return false;
	return ma > major || (ma == major && mi >= minor);
}
