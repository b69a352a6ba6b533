/* grub.c: kernel command line editors for GRUB, BLS, kernelstub (grub.h). */
#include "grub.h"
#include "cfgfile.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool
grub_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the name part of a parameter token. */
static size_t
grub_name_len(const char *t, size_t len)
{
	const char *eq = memchr(t, '=', len);

	return eq ? (size_t)(eq - t) : len;
}

static bool
grub_names_equal(const char *a, size_t al, const char *b, size_t bl)
{
	if (al != bl)
		return false;
	for (size_t i = 0; i < al; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

bool
grub_param_same_name(const char *a, const char *b)
{
	return grub_names_equal(a, grub_name_len(a, strlen(a)),
				b, grub_name_len(b, strlen(b)));
}

/* --- plain command lines --- */

/* A command line as pieces: blanks before each token, then the tail. */
struct grub_piece {
	char *ws;	/* blanks before tok */
	char *tok;
};

struct grub_line {
	struct grub_piece *p;
	size_t n, alloc;
	char *tail;	/* blanks after the last token */
};

static void
grub_line_parse(struct grub_line *l, const char *s)
{
	memset(l, 0, sizeof(*l));
	for (;;) {
		size_t ws = strspn(s, " \t\r\n"), tl;

		if (!s[ws]) {
			l->tail = xstrdup(s);
			return;
		}
		tl = strcspn(s + ws, " \t\r\n");
		XGROW(l->p, l->alloc, l->n + 1);
		l->p[l->n].ws = xstrndup(s, ws);
		l->p[l->n].tok = xstrndup(s + ws, tl);
		l->n++;
		s += ws + tl;
	}
}

static void
grub_line_release(struct grub_line *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->p[i].ws);
		free(l->p[i].tok);
	}
	free(l->p);
	free(l->tail);
}

static void
grub_line_delete(struct grub_line *l, size_t k)
{
	free(l->p[k].tok);
	if (k == 0 && l->n > 1) {
		/* Keep the leading blanks; drop the ones after the token. */
		free(l->p[1].ws);
		l->p[1].ws = l->p[0].ws;
	} else {
		free(l->p[k].ws);
	}
	memmove(&l->p[k], &l->p[k + 1], (l->n - k - 1) * sizeof(*l->p));
	l->n--;
}

bool
grub_cmdline_get(const char *cmdline, const char *param, struct strbuf *value)
{
	struct grub_line l;
	bool found = false;

	if (value)
		strbuf_reset(value);
	grub_line_parse(&l, cmdline ? cmdline : "");
	for (size_t i = l.n; i-- > 0;) {
		if (grub_param_same_name(l.p[i].tok, param)) {
			const char *eq = strchr(l.p[i].tok, '=');

			if (value && eq)
				strbuf_addstr(value, eq + 1);
			found = true;
			break;
		}
	}
	grub_line_release(&l);
	return found;
}

bool
grub_cmdline_edit(const char *in, const char *const *set, size_t nset,
		  const char *const *remove, size_t nremove, struct strbuf *out)
{
	struct grub_line l;

	grub_line_parse(&l, in);
	for (size_t r = 0; r < nremove; r++)
		for (size_t i = l.n; i-- > 0;)
			if (strcmp(l.p[i].tok, remove[r]) == 0)
				grub_line_delete(&l, i);
	for (size_t s = 0; s < nset; s++) {
		size_t i;

		for (i = l.n; i-- > 0;)
			if (grub_param_same_name(l.p[i].tok, set[s]))
				break;
		if (i != (size_t)-1) {
			free(l.p[i].tok);
			l.p[i].tok = xstrdup(set[s]);
			continue;
		}
		XGROW(l.p, l.alloc, l.n + 1);
		l.p[l.n].ws = xstrdup(l.n ? " " : "");
		l.p[l.n].tok = xstrdup(set[s]);
		l.n++;
	}
	strbuf_reset(out);
	for (size_t i = 0; i < l.n; i++) {
		strbuf_addstr(out, l.p[i].ws);
		strbuf_addstr(out, l.p[i].tok);
	}
	strbuf_addstr(out, l.tail);
	grub_line_release(&l);
	return strcmp(out->buf, in) != 0;
}

/* --- /etc/default/grub --- */

enum grub_quote { GQ_NONE, GQ_DOUBLE, GQ_SINGLE };

/* Where the value of an assignment line sits. */
struct grub_assign {
	size_t vstart, vend;	/* value as written, quotes included */
	enum grub_quote q;
	char *inner;		/* the value without its quotes */
};

/* Does line assign var? Sets *vstart to the byte after '='. */
static bool
grub_is_assignment(const char *line, size_t len, const char *var,
		   size_t *vstart)
{
	size_t i = 0, vl = strlen(var);

	while (i < len && grub_is_blank(line[i]))
		i++;
	if (len - i > 7 && strncmp(line + i, "export", 6) == 0 &&
	    grub_is_blank(line[i + 6])) {
		i += 6;
		while (i < len && grub_is_blank(line[i]))
			i++;
	}
	if (len - i <= vl || strncmp(line + i, var, vl) != 0 ||
	    line[i + vl] != '=')
		return false;
	*vstart = i + vl + 1;
	return true;
}

/* Parse the value of an assignment; false (reason in why) when it is not
 * one of the forms vfleet edits. */
static bool
grub_parse_value(const char *line, size_t len, size_t v, struct grub_assign *a,
		 const char **why)
{
	size_t i = v;

	a->vstart = v;
	if (i < len && (line[i] == '"' || line[i] == '\'')) {
		char q = line[i];

		for (i++; i < len && line[i] != q; i++) {
			if (q == '"' && (line[i] == '\\' || line[i] == '`' ||
					 (line[i] == '$' && i + 1 < len &&
					  line[i + 1] == '('))) {
				*why = "the value uses backslashes or command "
				       "substitution";
				return false;
			}
		}
		if (i >= len) {
			*why = "the quoted value continues on the next line";
			return false;
		}
		a->q = q == '"' ? GQ_DOUBLE : GQ_SINGLE;
		a->inner = xstrndup(line + v + 1, i - v - 1);
		i++;
	} else {
		for (; i < len && !grub_is_blank(line[i]) && line[i] != '\r'; i++) {
			if (strchr("\"'\\$`();&|<>", line[i])) {
				*why = "the unquoted value holds shell syntax";
				return false;
			}
		}
		a->q = GQ_NONE;
		a->inner = xstrndup(line + v, i - v);
	}
	a->vend = i;
	if (i < len && !grub_is_blank(line[i]) && line[i] != '\r' &&
	    line[i] != ';') {
		free(a->inner);
		a->inner = NULL;
		*why = "the value is made of several quoted parts";
		return false;
	}
	return true;
}

/* Can token t be written inside quoting q? */
static bool
grub_token_ok(const char *t, enum grub_quote q)
{
	if (!*t || strpbrk(t, " \t\r\n"))
		return false;
	if (q == GQ_SINGLE)
		return !strchr(t, '\'');
	return !strpbrk(t, "\"\\$`'");
}

int
grub_default_edit(const char *text, size_t len, const char *var,
		  const char *const *set, size_t nset,
		  const char *const *remove, size_t nremove,
		  struct strbuf *out, struct strbuf *err)
{
	struct strbuf val = STRBUF_INIT;
	struct grub_assign a = { 0 };
	const char *why = NULL;
	size_t pos = 0, lstart = 0, llen = 0, vstart = 0;
	unsigned lineno = 0, found_line = 0;
	int r = 0;

	strbuf_reset(out);
	for (size_t i = 0; i < nset; i++) {
		if (!grub_token_ok(set[i], GQ_DOUBLE)) {
			if (err)
				strbuf_addf(err, "parameter '%s' cannot be written "
					    "into %s", set[i], var);
			return -EINVAL;
		}
	}
	/* The last assignment wins when the shell sources the file. */
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		size_t v;

		lineno++;
		if (grub_is_assignment(text + pos, l, var, &v)) {
			lstart = pos;
			llen = l;
			vstart = v;
			found_line = lineno;
		}
		pos += l + (nl ? 1 : 0);
	}
	if (!found_line) {
		strbuf_add(out, text, len);
		if (!nset)
			goto out;
		if (len && text[len - 1] != '\n')
			strbuf_addch(out, '\n');
		strbuf_addf(out, "%s=\"", var);
		for (size_t i = 0; i < nset; i++)
			strbuf_addf(out, "%s%s", i ? " " : "", set[i]);
		strbuf_addstr(out, "\"\n");
		r = 1;
		goto out;
	}
	if (!grub_parse_value(text + lstart, llen, vstart, &a, &why)) {
		if (err)
			strbuf_addf(err, "line %u: %s: %s; edit it by hand",
				    found_line, var, why);
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < nset; i++) {
		if (a.q == GQ_SINGLE && !grub_token_ok(set[i], GQ_SINGLE)) {
			if (err)
				strbuf_addf(err, "line %u: parameter '%s' cannot be "
					    "written in single quotes", found_line,
					    set[i]);
			r = -EINVAL;
			goto out;
		}
	}
	if (!grub_cmdline_edit(a.inner, set, nset, remove, nremove, &val)) {
		strbuf_add(out, text, len);
		goto out;
	}
	strbuf_add(out, text, lstart + a.vstart);
	switch (a.q) {
	case GQ_SINGLE:
		strbuf_addf(out, "'%s'", val.buf);
		break;
	case GQ_NONE:
		if (a.inner[0] && val.len && !strpbrk(val.buf, " \t")) {
			strbuf_addstr(out, val.buf);
			break;
		}
		/* blanks (or an empty value) need quotes */
		/* fall through */
	case GQ_DOUBLE:
		strbuf_addf(out, "\"%s\"", val.buf);
		break;
	}
	strbuf_add(out, text + lstart + a.vend, len - lstart - a.vend);
	r = 1;
out:
	free(a.inner);
	strbuf_release(&val);
	return r;
}

/* --- BLS entries --- */

/* Is line (length l) an "options" line? Sets *v to the start of its value. */
static bool
grub_is_options(const char *line, size_t l, size_t *v)
{
	size_t i = 0;

	while (i < l && grub_is_blank(line[i]))
		i++;
	if (l - i < 8 || strncmp(line + i, "options", 7) != 0 ||
	    !grub_is_blank(line[i + 7]))
		return false;
	i += 7;
	while (i < l && grub_is_blank(line[i]))
		i++;
	*v = i;
	return true;
}

int
grub_bls_edit(const char *text, size_t len, const char *const *set,
	      size_t nset, const char *const *remove, size_t nremove,
	      struct strbuf *out)
{
	struct strbuf val = STRBUF_INIT, cur = STRBUF_INIT;
	size_t pos = 0;
	bool any = false;

	strbuf_reset(out);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos, v;

		if (grub_is_options(text + pos, l, &v)) {
			any = true;
			strbuf_reset(&cur);
			strbuf_add(&cur, text + pos + v, l - v);
			grub_cmdline_edit(cur.buf, set, nset, remove, nremove, &val);
			strbuf_add(out, text + pos, v);
			strbuf_add(out, val.buf, val.len);
		} else {
			strbuf_add(out, text + pos, l);
		}
		if (nl)
			strbuf_addch(out, '\n');
		pos += l + (nl ? 1 : 0);
	}
	if (!any && nset) {
		if (out->len && out->buf[out->len - 1] != '\n')
			strbuf_addch(out, '\n');
		strbuf_addstr(out, "options");
		for (size_t i = 0; i < nset; i++)
			strbuf_addf(out, " %s", set[i]);
		strbuf_addch(out, '\n');
	}
	strbuf_release(&val);
	strbuf_release(&cur);
	return out->len != len || memcmp(out->buf, text, len) != 0;
}

bool
grub_bls_options(const char *text, size_t len, struct strbuf *out)
{
	size_t pos = 0;
	bool any = false;

	strbuf_reset(out);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos, v;

		if (grub_is_options(text + pos, l, &v)) {
			if (any)
				strbuf_addch(out, ' ');
			strbuf_add(out, text + pos + v, l - v);
			strbuf_rtrim(out);
			any = true;
		}
		pos += l + (nl ? 1 : 0);
	}
	return any;
}

/* --- kernelstub --- */

/* Skip blanks; return the position of the next non-blank. */
static const char *
grub_json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

int
grub_kernelstub_options(const char *json, struct strbuf *out)
{
	const char *p = strstr(json, "\"user\"");

	strbuf_reset(out);
	if (!p || !(p = strstr(p, "\"kernel_options\"")))
		return -ENOENT;
	p = grub_json_ws(p + strlen("\"kernel_options\""));
	if (*p != ':')
		return -ENOENT;
	p = grub_json_ws(p + 1);
	if (*p != '[')
		return -ENOENT;
	p++;
	for (;;) {
		p = grub_json_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ']')
			return 0;
		if (*p != '"')
			return -ENOENT;
		if (out->len)
			strbuf_addch(out, ' ');
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			strbuf_addch(out, *p);
		}
		if (*p != '"')
			return -ENOENT;
		p++;
	}
}

/* --- which file, which output --- */

struct grub_target_ctx {
	const char *var;
	bool found;
};

static int
grub_target_line(const char *line, unsigned lineno, void *vctx)
{
	struct grub_target_ctx *c = vctx;
	size_t v;

	(void)lineno;
	if (grub_is_assignment(line, strlen(line), c->var, &v))
		c->found = true;
	return 0;
}

int
grub_default_target(const char *root, const char *var, struct strbuf *path)
{
	struct strbuf p = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	int r;

	strbuf_reset(path);
	strbuf_addstr(path, "/etc/default/grub");
	r = cfgfile_list(root, "/etc/default/grub.d", ".cfg", &names, &n);
	if (r == -ENOENT || r == -ENOTDIR)
		r = 0;
	if (r < 0)
		goto out;
	r = 0;
	for (size_t i = 0; i < n; i++) {
		struct grub_target_ctx c = { var, false };

		strbuf_reset(&p);
		strbuf_addf(&p, "/etc/default/grub.d/%s", names[i]);
		cfgfile_foreach_line(root, p.buf, grub_target_line, &c);
		if (c.found) {
			strbuf_reset(path);
			strbuf_addstr(path, p.buf);
		}
	}
out:
	cfgfile_names_free(names, n);
	strbuf_release(&p);
	return r;
}

void
grub_mkconfig_output(const char *root, struct strbuf *out)
{
	struct strbuf p = STRBUF_INIT, real = STRBUF_INIT, body = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;

	strbuf_reset(out);
	if (cfgfile_list(root, "/boot/efi/EFI", NULL, &names, &n) > 0) {
		for (size_t i = 0; i < n && !out->len; i++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "/boot/efi/EFI/%s/grub.cfg", names[i]);
			sysroot_path(&real, root, p.buf);
			strbuf_reset(&body);
			if (strbuf_read_file(&body, real.buf, CFGFILE_MAX) == 0 &&
			    !strstr(body.buf, "configfile"))
				strbuf_addstr(out, p.buf);
		}
	}
	if (!out->len) {
		sysroot_path(&real, root, "/boot/grub2");
		strbuf_addstr(out, access(real.buf, F_OK) == 0 ?
			      "/boot/grub2/grub.cfg" : "/boot/grub/grub.cfg");
	}
	cfgfile_names_free(names, n);
	strbuf_release(&p);
	strbuf_release(&real);
	strbuf_release(&body);
}

/* --- fuzzing --- */

static size_t
grub_count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n + (len && s[len - 1] != '\n');
}

int
grub_fuzz_one(const uint8_t *data, size_t size)
{
	static const char *const set[] = {
		"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1c03,10de:10f1",
	};
	const char *var = "GRUB_CMDLINE_LINUX_DEFAULT";
	struct strbuf text = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t la, lt, same = 0;
	int r;

	/* Configuration files are text: the editor need not keep NULs. */
	strbuf_add(&text, data, size);
	strbuf_setlen(&text, strlen(text.buf));
	r = grub_default_edit(text.buf, text.len, var, set, 3, NULL, 0, &a, &err);
	if (r < 0)
		goto out;
	if ((r == 0) != (a.len == text.len && !memcmp(a.buf, text.buf, a.len)))
		abort();
	/* Idempotent: the edited text needs no further edit. */
	if (grub_default_edit(a.buf, a.len, var, set, 3, NULL, 0, &b, &err) != 0 ||
	    b.len != a.len || memcmp(a.buf, b.buf, a.len) != 0)
		abort();
	/* Every other line kept: at most one line differs, or one is added. */
	la = grub_count_lines(a.buf, a.len);
	lt = grub_count_lines(text.buf, text.len);
	if (la != lt && la != lt + 1)
		abort();
	for (const char *p = a.buf, *q = text.buf; *p && *q;) {
		size_t pl = strcspn(p, "\n"), ql = strcspn(q, "\n");

		if (pl == ql && !memcmp(p, q, pl))
			same++;
		p += pl + (p[pl] ? 1 : 0);
		q += ql + (q[ql] ? 1 : 0);
	}
	if (same + 1 < lt)
		abort();
	/* Never the word None, never an empty assignment with parameters. */
	if (strstr(a.buf, "None") && !strstr(text.buf, "None"))
		abort();
out:
	strbuf_release(&text);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
	return 0;
}
