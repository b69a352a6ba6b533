/* ini: Ansible's INI inventory format (plugins/inventory/ini.py).
 *
 * One pass over the lines, as Ansible makes it: hosts before any section
 * belong to `ungrouped`; `[g]` lists hosts, `[g:vars]` key=value pairs,
 * `[g:children]` group names. A child may be named before its own section;
 * a child that never gets one, or a `[g:vars]` for a group never declared,
 * is an error at the end (Ansible: "includes undefined group"), which
 * catches typos in group names. Host lines are split like Python's
 * shlex.split(line, comments=True). Values stay strings (see inventory.h).
 */
#include "inventory.h"
#include "inv-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

enum inv_ini_state { INI_HOSTS, INI_VARS, INI_CHILDREN };

/* A group named in [x:children] or [x:vars] before it was declared. */
struct inv_pending {
	char *name;
	size_t line;
	enum inv_ini_state state;	/* INI_CHILDREN or INI_VARS */
	struct inv_group **parents;	/* for INI_CHILDREN */
	size_t nr_parents, alloc_parents;
};

struct inv_ini {
	struct inv *inv;
	const char *file;
	size_t line;
	struct strbuf *err;
	struct inv_pending *pend;
	size_t nr_pend, alloc_pend;
};

static int
inv_ini_error(struct inv_ini *p, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
inv_ini_error(struct inv_ini *p, int r, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(p->err, "%s:%zu: ", p->file, p->line);
	va_start(ap, fmt);
	strbuf_vaddf(p->err, fmt, ap);
	va_end(ap);
	return r;
}

static struct inv_pending *
inv_ini_pending(struct inv_ini *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nr_pend; i++)
		if (p->pend[i].name && !strcmp(p->pend[i].name, name))
			return &p->pend[i];
	return NULL;
}

static void
inv_ini_pending_drop(struct inv_pending *pd)
{
	free(pd->name);
	free(pd->parents);
	pd->name = NULL;
	pd->parents = NULL;
	pd->nr_parents = pd->alloc_parents = 0;
}

/* ---- tokenising --------------------------------------------------------- */

/*
 * Python's shlex.split(s, comments=True) (posix mode, whitespace_split):
 * quotes group and are removed, a backslash escapes the next character
 * (inside "..." only \\ and \"), '#' outside quotes ends the line.
 * Returns 0 or -EINVAL with a reason.
 */
static int
inv_shlex(const char *s, struct inv_names *out, const char **reason)
{
	struct strbuf tok = STRBUF_INIT;
	char state = ' ', escaped = ' ';
	bool quoted = false;

	for (;; s++) {
		char c = *s;

		if (state == ' ' || state == 'a') {
			if (!c || isspace((unsigned char)c) || c == '#') {
				if (tok.len || quoted) {
					XGROW(out->v, out->alloc, out->nr + 1);
					out->v[out->nr++] =
						strbuf_detach(&tok, NULL);
				}
				quoted = false;
				state = ' ';
				if (!c || c == '#')
					break;
			} else if (c == '\\') {
				escaped = 'a';
				state = '\\';
			} else if (c == '"' || c == '\'') {
				state = c;
			} else {
				strbuf_addch(&tok, c);
				state = 'a';
			}
		} else if (state == '"' || state == '\'') {
			quoted = true;
			if (!c) {
				*reason = "No closing quotation";
				goto fail;
			}
			if (c == state) {
				state = 'a';
			} else if (c == '\\' && state == '"') {
				escaped = state;
				state = '\\';
			} else {
				strbuf_addch(&tok, c);
			}
		} else {	/* after a backslash */
			if (!c) {
				*reason = "No escaped character";
				goto fail;
			}
			if (escaped == '"' && c != '\\' && c != '"')
				strbuf_addch(&tok, '\\');
			strbuf_addch(&tok, c);
			state = escaped;
		}
	}
	strbuf_release(&tok);
	return 0;
fail:
	strbuf_release(&tok);
	return -EINVAL;
}

/* If s[0..] starts a Python string literal '...' or "...", return the
 * offset just past its closing quote, else 0. */
static size_t
inv_py_string_end(const char *s, size_t len)
{
	size_t i;

	if (!len || (s[0] != '"' && s[0] != '\''))
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == s[0])
			return i + 1;
	}
	return 0;
}

/* Append the body of the Python string literal s (quotes included). */
static void
inv_py_unescape(const char *s, size_t len, struct strbuf *out)
{
	size_t i;

	for (i = 1; i + 1 < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 2 < len) {
			c = s[++i];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '\\': case '\'': case '"': break;
			default:
				strbuf_addch(out, '\\');
				break;
			}
		}
		strbuf_addch(out, c);
	}
}

/* A Python literal that ast.literal_eval takes as a scalar: a number,
 * True/False/None or a whole string literal. */
static bool
inv_py_scalar(const char *s, size_t len)
{
	size_t i = 0;
	bool digit = false;

	if (inv_py_string_end(s, len) == len && len >= 2)
		return true;
	if ((len == 4 && !memcmp(s, "True", 4)) ||
	    (len == 5 && !memcmp(s, "False", 5)) ||
	    (len == 4 && !memcmp(s, "None", 4)))
		return true;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && (isdigit((unsigned char)s[i]) || s[i] == '.'); i++)
		digit |= isdigit((unsigned char)s[i]) != 0;
	return digit && i == len;
}

/*
 * Turn an INI value into the string vfleet stores. Ansible passes it to
 * ast.literal_eval and keeps the raw text when that fails; vfleet keeps
 * strings but mirrors what that means for them: a quoted literal loses its
 * quotes (and escapes), and a `# comment` after a literal is dropped (Python
 * would ignore it), while after plain text it stays part of the value.
 */
static void
inv_ini_value(const char *v, struct strbuf *out)
{
	size_t len = strlen(v), lit = len, i;
	size_t send = inv_py_string_end(v, len);

	strbuf_reset(out);
	/* Where would Python's tokenizer see a comment? */
	if (send) {
		for (i = send; i < len && isspace((unsigned char)v[i]); i++)
			;
		if (i == len || v[i] == '#')
			lit = send;
	} else {
		const char *h = strchr(v, '#');

		if (h) {
			lit = (size_t)(h - v);
			while (lit && isspace((unsigned char)v[lit - 1]))
				lit--;
			if (!inv_py_scalar(v, lit))
				lit = len;
		}
	}
	if (inv_py_string_end(v, lit) == lit && lit >= 2)
		inv_py_unescape(v, lit, out);
	else
		strbuf_add(out, v, lit);
}

/* ---- sections ----------------------------------------------------------- */

static bool
inv_is_word(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * Ansible's section regex: ^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$
 * Fills name and tag (empty when absent) and returns true on a match.
 */
static bool
inv_ini_section(const char *line, struct strbuf *name, struct strbuf *tag)
{
	const char *p = line + 1, *q;

	strbuf_reset(name);
	strbuf_reset(tag);
	if (line[0] != '[')
		return false;
	for (q = p; *q && *q != ':' && *q != ']' && !isspace((unsigned char)*q);
	     q++)
		;
	if (q == p)
		return false;
	strbuf_add(name, p, (size_t)(q - p));
	if (*q == ':') {
		p = ++q;
		while (inv_is_word((unsigned char)*q))
			q++;
		if (q == p)
			return false;
		strbuf_add(tag, p, (size_t)(q - p));
	}
	if (*q++ != ']')
		return false;
	while (isspace((unsigned char)*q))
		q++;
	return !*q || *q == '#';
}

/* Ansible's groupname regex for [x:children] lines. */
static bool
inv_ini_group_name(const char *line, struct strbuf *name)
{
	const char *q;

	strbuf_reset(name);
	for (q = line; *q && *q != ':' && *q != ']' &&
	     !isspace((unsigned char)*q); q++)
		;
	if (q == line)
		return false;
	strbuf_add(name, line, (size_t)(q - line));
	while (isspace((unsigned char)*q))
		q++;
	return !*q || *q == '#';
}

static int
inv_ini_add_child(struct inv_ini *p, struct inv_group *parent,
		  struct inv_group *child)
{
	int r;

	if (parent == child)
		return inv_ini_error(p, -ELOOP, "group '%s' cannot be a child "
				     "of itself", child->name);
	r = inv_group_add_child(p->inv, parent, child, p->err);
	if (r < 0)
		inv_err_prefix(p->err, "%s:%zu: ", p->file, p->line);
	return r;
}

static int
inv_ini_header(struct inv_ini *p, const char *gname, const char *tag,
	       enum inv_ini_state *state, struct inv_group **group)
{
	struct inv_pending *pd;
	size_t i;
	int r;

	if (!*tag || !strcmp(tag, "hosts"))
		*state = INI_HOSTS;
	else if (!strcmp(tag, "vars"))
		*state = INI_VARS;
	else if (!strcmp(tag, "children"))
		*state = INI_CHILDREN;
	else
		return inv_ini_error(p, -EINVAL, "Section [%s:%s] has unknown "
				     "type: %s (expected hosts, vars or "
				     "children)", gname, tag, tag);
	pd = inv_ini_pending(p, gname);
	if (!inv_group_find(p->inv, gname) && *state == INI_VARS && !pd) {
		/* [g:vars] alone does not declare g. */
		XGROW(p->pend, p->alloc_pend, p->nr_pend + 1);
		pd = &p->pend[p->nr_pend++];
		memset(pd, 0, sizeof(*pd));
		pd->name = xstrdup(gname);
		pd->line = p->line;
		pd->state = INI_VARS;
	}
	*group = inv_group_add(p->inv, gname);
	if (pd && *state != INI_VARS) {
		if (pd->state == INI_CHILDREN) {
			for (i = 0; i < pd->nr_parents; i++) {
				r = inv_ini_add_child(p, pd->parents[i],
						      *group);
				if (r < 0)
					return r;
			}
		}
		inv_ini_pending_drop(pd);
	}
	return 0;
}

/* ---- lines -------------------------------------------------------------- */

static int
inv_ini_hosts_line(struct inv_ini *p, const char *line, struct inv_group *g)
{
	struct inv_names tok = INV_NAMES_INIT, names = INV_NAMES_INIT;
	struct strbuf host = STRBUF_INIT, port = STRBUF_INIT;
	struct strbuf val = STRBUF_INIT;
	const char *reason = NULL;
	size_t i, j, plen;
	int r;

	r = inv_shlex(line, &tok, &reason);
	if (r < 0) {
		inv_ini_error(p, r, "Error parsing host definition '%s': %s",
			      line, reason);
		goto out;
	}
	if (!tok.nr)
		goto out;	/* only a comment after a quote-less '\' etc. */
	for (i = 1; i < tok.nr; i++) {
		char *eq = strchr(tok.v[i], '=');

		if (!eq || eq == tok.v[i]) {
			r = inv_ini_error(p, -EINVAL, "Expected key=value host "
					  "variable assignment, got: %s",
					  tok.v[i]);
			goto out;
		}
	}
	plen = strlen(tok.v[0]);
	if (!strcmp(tok.v[0], "---")) {
		r = inv_ini_error(p, -EINVAL, "Invalid host pattern '---' "
				  "supplied, '---' is normally a sign this is "
				  "a YAML file (vfleet reads INI and JSON "
				  "inventories)");
		goto out;
	}
	inv_split_host_port(tok.v[0], &host, &port);
	if (plen && tok.v[0][plen - 1] == ':' && !port.len) {
		r = inv_ini_error(p, -EINVAL, "Invalid host pattern '%s' "
				  "supplied, ending in ':' is not allowed, "
				  "this character is reserved to provide a "
				  "port.", tok.v[0]);
		goto out;
	}
	/* port holds digits only (inv_split_host_port), at most 5 here. */
	if (port.len && (port.len > 5 || strtoul(port.buf, NULL, 10) < 1 ||
			 strtoul(port.buf, NULL, 10) > 65535)) {
		r = inv_ini_error(p, -EINVAL, "invalid port in \"%s\": "
				  "expected 1 to 65535", tok.v[0]);
		goto out;
	}
	r = inv_range_expand(host.buf, INV_MAX_HOSTS, &names, p->err);
	if (r < 0) {
		inv_err_prefix(p->err, "%s:%zu: ", p->file, p->line);
		goto out;
	}
	for (i = 0; i < names.nr; i++) {
		struct inv_host *h;

		r = inv_host_add(p->inv, names.v[i], g,
				 port.len ? port.buf : NULL, &h, p->err);
		if (r < 0) {
			inv_err_prefix(p->err, "%s:%zu: ", p->file, p->line);
			goto out;
		}
		for (j = 1; j < tok.nr; j++) {
			char *eq = strchr(tok.v[j], '=');

			*eq = '\0';
			inv_ini_value(eq + 1, &val);
			inv_host_set_var(h, tok.v[j], val.buf, false);
			*eq = '=';
		}
	}
out:
	inv_names_release(&tok);
	inv_names_release(&names);
	strbuf_release(&host);
	strbuf_release(&port);
	strbuf_release(&val);
	return r;
}

static int
inv_ini_vars_line(struct inv_ini *p, const char *line, struct inv_group *g)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	const char *eq = strchr(line, '=');
	const char *v;
	size_t kl;
	int r = 0;

	kl = eq ? (size_t)(eq - line) : 0;
	while (kl && isspace((unsigned char)line[kl - 1]))
		kl--;
	if (!eq || !kl) {
		r = inv_ini_error(p, -EINVAL, "Expected key=value, got: %s",
				  line);
		goto out;
	}
	strbuf_add(&key, line, kl);
	for (v = eq + 1; isspace((unsigned char)*v); v++)
		;
	inv_ini_value(v, &val);
	r = inv_group_set_var(g, key.buf, val.buf, false, p->err);
	if (r < 0)
		inv_err_prefix(p->err, "%s:%zu: ", p->file, p->line);
out:
	strbuf_release(&key);
	strbuf_release(&val);
	return r;
}

static int
inv_ini_children_line(struct inv_ini *p, const char *line,
		      struct inv_group *g)
{
	struct strbuf name = STRBUF_INIT;
	struct inv_group *child;
	struct inv_pending *pd;
	int r = 0;

	if (!inv_ini_group_name(line, &name)) {
		r = inv_ini_error(p, -EINVAL, "Expected group name, got: %s",
				  line);
		goto out;
	}
	child = inv_group_find(p->inv, name.buf);
	if (child) {
		r = inv_ini_add_child(p, g, child);
		goto out;
	}
	pd = inv_ini_pending(p, name.buf);
	if (!pd) {
		XGROW(p->pend, p->alloc_pend, p->nr_pend + 1);
		pd = &p->pend[p->nr_pend++];
		memset(pd, 0, sizeof(*pd));
		pd->name = strbuf_detach(&name, NULL);
		pd->line = p->line;
		pd->state = INI_CHILDREN;
	}
	XGROW(pd->parents, pd->alloc_parents, pd->nr_parents + 1);
	pd->parents[pd->nr_parents++] = g;
out:
	strbuf_release(&name);
	return r;
}

static int
inv_ini_line(struct inv_ini *p, const char *line, enum inv_ini_state *state,
	     struct inv_group **group)
{
	struct strbuf name = STRBUF_INIT, tag = STRBUF_INIT;
	size_t len = strlen(line);
	int r;

	if (inv_ini_section(line, &name, &tag)) {
		r = inv_ini_header(p, name.buf, tag.buf, state, group);
	} else if (line[0] == '[' && line[len - 1] == ']') {
		r = inv_ini_error(p, -EINVAL, "Invalid section entry: '%s'. "
				  "Please make sure that there are no spaces "
				  "in the section entry, and that there are no "
				  "other invalid characters", line);
	} else if (*state == INI_HOSTS) {
		r = inv_ini_hosts_line(p, line, *group);
	} else if (*state == INI_VARS) {
		r = inv_ini_vars_line(p, line, *group);
	} else {
		r = inv_ini_children_line(p, line, *group);
	}
	strbuf_release(&name);
	strbuf_release(&tag);
	return r;
}

int
inv_load_ini(struct inv *inv, const char *name, const char *buf, size_t len,
	     struct strbuf *err)
{
	struct inv_ini p = { .inv = inv, .file = name, .err = err };
	enum inv_ini_state state = INI_HOSTS;
	struct inv_group *group = inv->groups[1];	/* ungrouped */
	struct strbuf line = STRBUF_INIT;
	size_t pos = 0, i;
	int r = 0;

	/* A UTF-8 byte order mark is not part of the first line. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		size_t end = pos, b, e;

		while (end < len && buf[end] != '\n' && buf[end] != '\r')
			end++;
		p.line++;
		b = pos;
		e = end;
		pos = end;
		if (pos < len)
			pos += (buf[pos] == '\r' && pos + 1 < len &&
				buf[pos + 1] == '\n') ? 2 : 1;
		while (b < e && isspace((unsigned char)buf[b]))
			b++;
		while (e > b && isspace((unsigned char)buf[e - 1]))
			e--;
		if (b == e || buf[b] == '#' || buf[b] == ';')
			continue;
		if (memchr(buf + b, '\0', e - b)) {
			r = inv_ini_error(&p, -EINVAL, "NUL byte in line");
			goto out;
		}
		strbuf_reset(&line);
		strbuf_add(&line, buf + b, e - b);
		r = inv_ini_line(&p, line.buf, &state, &group);
		if (r < 0)
			goto out;
	}
	/* Declarations still waiting: report the first, as Ansible does. */
	for (i = 0; i < p.nr_pend; i++) {
		struct inv_pending *pd = &p.pend[i];

		if (!pd->name)
			continue;
		p.line = pd->line;
		if (pd->state == INI_VARS)
			r = inv_ini_error(&p, -EINVAL, "Section [%s:vars] not "
					  "valid for undefined group: %s",
					  pd->name, pd->name);
		else
			r = inv_ini_error(&p, -EINVAL, "Section [%s:children] "
					  "includes undefined group: %s",
					  pd->parents[pd->nr_parents - 1]->name,
					  pd->name);
		goto out;
	}
out:
	for (i = 0; i < p.nr_pend; i++)
		inv_ini_pending_drop(&p.pend[i]);
	free(p.pend);
	strbuf_release(&line);
	return r;
}
