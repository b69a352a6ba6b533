/* modprobe.c: modprobe.d directives and module lists (modprobe.h). */
#include "modprobe.h"
#include "cfgfile.h"
#include "sysroot.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const modprobe_dirs[] = {
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d", "/lib/modprobe.d", NULL,
};

bool
modprobe_name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a;
		char y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
	}
	return !*a && !*b;
}

/*
 * Logical lines as kmod's getline_wrapped() reads them: a backslash takes
 * the byte after it literally and is dropped, and when that byte is the
 * newline the two physical lines are one logical line. So "\\<nl>" ends
 * a line (an escaped backslash) while "\<nl>" and "\\\<nl>" continue
 * it. The readers and the editors below walk the text only through
 * modprobe_logical_end(), so an edit never lands where kmod would read it
 * as part of another directive.
 */

/* The end of the logical line starting at p: its unescaped newline, or the
 * NUL. *joined (may be NULL) is set when it spans several physical lines. */
static const char *
modprobe_logical_end(const char *p, bool *joined)
{
	bool j = false;

	for (; *p && *p != '\n'; p++) {
		if (*p == '\\' && p[1]) {
			j |= p[1] == '\n';
			p++;
		}
	}
	if (joined)
		*joined = j;
	return p;
}

/* Words of one logical line (continuations joined, comment lines empty). */
struct modprobe_words {
	char **w;
	size_t n, alloc;
};

static void
modprobe_words_release(struct modprobe_words *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->w[i]);
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}

/*
 * Split the logical line [s, s + len) into words as kmod does: unescape
 * first (drop each backslash, keep the byte after it, join continued
 * lines), then split at blanks ('\r' too, so a CRLF file reads as
 * intended). A backslash with nothing after it (the file's last byte)
 * stays in its word: kmod reads garbage there, not a name.
 */
static void
modprobe_split(const char *s, size_t len, struct modprobe_words *ws)
{
	struct strbuf line = STRBUF_INIT;
	size_t i;

	modprobe_words_release(ws);
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			if (s[++i] != '\n')
				strbuf_addch(&line, s[i]);
			continue;
		}
		strbuf_addch(&line, s[i]);
	}
	i = strspn(line.buf, " \t");
	if (line.buf[i] == '#')
		goto out;
	while (line.buf[i]) {
		size_t l;

		i += strspn(line.buf + i, " \t\r\n");
		l = strcspn(line.buf + i, " \t\r\n");
		if (l) {
			XGROW(ws->w, ws->alloc, ws->n + 1);
			ws->w[ws->n++] = xstrndup(line.buf + i, l);
		}
		i += l;
	}
out:
	strbuf_release(&line);
}

/* Call fn for each logical line of text; stops when fn returns true. */
typedef bool (*modprobe_line_fn)(const struct modprobe_words *ws,
				 const void *arg);

static bool
modprobe_any_line(const char *text, modprobe_line_fn fn, const void *arg)
{
	struct modprobe_words ws = { 0 };
	const char *p = text;
	bool hit = false;

	while (*p && !hit) {
		const char *e = modprobe_logical_end(p, NULL);

		modprobe_split(p, (size_t)(e - p), &ws);
		if (ws.n)
			hit = fn(&ws, arg);
		p = *e ? e + 1 : e;
	}
	modprobe_words_release(&ws);
	return hit;
}

struct modprobe_q {
	const char *kw, *mod, *a, *b;
	bool *other;
};

static bool
modprobe_is(const struct modprobe_words *ws, const char *kw, const char *mod)
{
	return ws->n >= 2 && strcmp(ws->w[0], kw) == 0 &&
	       modprobe_name_eq(ws->w[1], mod);
}

static bool
modprobe_match_blacklist(const struct modprobe_words *ws, const void *arg)
{
	const struct modprobe_q *q = arg;

	return ws->n == 2 && modprobe_is(ws, "blacklist", q->mod);
}

static bool
modprobe_match_option(const struct modprobe_words *ws, const void *arg)
{
	const struct modprobe_q *q = arg;
	size_t pl = strlen(q->a);

	if (!modprobe_is(ws, "options", q->mod))
		return false;
	for (size_t i = 2; i < ws->n; i++)
		if (strncmp(ws->w[i], q->a, pl) == 0 && ws->w[i][pl] == '=' &&
		    (!q->b || strcmp(ws->w[i] + pl + 1, q->b) == 0))
			return true;
	return false;
}

static bool
modprobe_match_softdep(const struct modprobe_words *ws, const void *arg)
{
	const struct modprobe_q *q = arg;
	bool pre = false;

	if (!modprobe_is(ws, "softdep", q->mod))
		return false;
	for (size_t i = 2; i < ws->n; i++) {
		if (strcmp(ws->w[i], "pre:") == 0)
			pre = true;
		else if (strcmp(ws->w[i], "post:") == 0)
			pre = false;
		else if (pre && modprobe_name_eq(ws->w[i], q->a))
			return true;
	}
	return false;
}

static bool
modprobe_match_install(const struct modprobe_words *ws, const void *arg)
{
	const struct modprobe_q *q = arg;

	if (!modprobe_is(ws, "install", q->mod) || ws->n < 3)
		return false;
	if (!q->a || strcmp(ws->w[2], q->a) == 0)
		return true;
	if (q->other)
		*q->other = true;
	return false;
}

bool
modprobe_text_has_blacklist(const char *text, const char *mod)
{
	struct modprobe_q q = { .mod = mod };

	return modprobe_any_line(text, modprobe_match_blacklist, &q);
}

bool
modprobe_text_has_option(const char *text, const char *mod, const char *param,
			 const char *value)
{
	struct modprobe_q q = { .mod = mod, .a = param, .b = value };

	return modprobe_any_line(text, modprobe_match_option, &q);
}

bool
modprobe_text_has_softdep(const char *text, const char *mod, const char *pre)
{
	struct modprobe_q q = { .mod = mod, .a = pre };

	return modprobe_any_line(text, modprobe_match_softdep, &q);
}

bool
modprobe_text_has_install(const char *text, const char *mod, const char *cmd,
			  bool *other)
{
	struct modprobe_q q = { .mod = mod, .a = cmd, .other = other };

	if (other)
		*other = false;
	return modprobe_any_line(text, modprobe_match_install, &q);
}

/* --- edits --- */

/* A one-physical-line directive in text: [start, end) without the newline. */
struct modprobe_span {
	size_t start, end;
};

/* The last logical line whose words satisfy fn and that is one physical
 * line (the editors rewrite such a line in place, never a continued one). */
static bool
modprobe_last_line(const char *text, modprobe_line_fn fn, const void *arg,
		   struct modprobe_span *span)
{
	struct modprobe_words ws = { 0 };
	const char *p = text;
	bool found = false;

	while (*p) {
		bool joined;
		const char *e = modprobe_logical_end(p, &joined);

		modprobe_split(p, (size_t)(e - p), &ws);
		if (ws.n && !joined && fn(&ws, arg)) {
			span->start = (size_t)(p - text);
			span->end = (size_t)(e - text);
			found = true;
		}
		p = *e ? e + 1 : e;
	}
	modprobe_words_release(&ws);
	return found;
}

/* Replace [span) of text with repl. */
static void
modprobe_replace(struct strbuf *text, const struct modprobe_span *span,
		 const char *repl)
{
	struct strbuf out = STRBUF_INIT;

	strbuf_add(&out, text->buf, span->start);
	strbuf_addstr(&out, repl);
	strbuf_addstr(&out, text->buf + span->end);
	strbuf_release(text);
	*text = out;
}

/*
 * Append line as a logical line of its own. An unterminated last line gets
 * its newline; when that newline (or the one already there) is escaped, the
 * last line continues, and an empty line ends it first: kmod would
 * otherwise read line as part of it. Every byte already there stays.
 */
static void
modprobe_append_line(struct strbuf *text, const char *line)
{
	bool open = false;

	if (text->len && text->buf[text->len - 1] != '\n')
		strbuf_addch(text, '\n');
	for (const char *p = text->buf, *e; *p; p = *e ? e + 1 : e) {
		e = modprobe_logical_end(p, NULL);
		open = !*e;
	}
	if (open)
		strbuf_addch(text, '\n');
	strbuf_addf(text, "%s\n", line);
}

bool
modprobe_ensure_line(struct strbuf *text, const char *line)
{
	size_t ll = strlen(line);

	for (const char *p = text->buf; *p;) {
		const char *e = modprobe_logical_end(p, NULL);
		size_t a = 0, b = (size_t)(e - p);

		/* A continued line holds an escaped newline, so it never
		 * equals line: only a directive of its own counts. */
		while (a < b && strchr(" \t", p[a]))
			a++;
		while (b > a && strchr(" \t\r", p[b - 1]))
			b--;
		if (b - a == ll && memcmp(p + a, line, ll) == 0)
			return false;
		p = *e ? e + 1 : e;
	}
	modprobe_append_line(text, line);
	return true;
}

static bool
modprobe_match_options_of(const struct modprobe_words *ws, const void *arg)
{
	return modprobe_is(ws, "options", arg);
}

static bool
modprobe_match_softdep_of(const struct modprobe_words *ws, const void *arg)
{
	return modprobe_is(ws, "softdep", arg);
}

bool
modprobe_merge_option_list(struct strbuf *text, const char *mod,
			   const char *param, char *const *vals, size_t n)
{
	struct modprobe_q q = { .mod = mod, .a = param };
	struct modprobe_span sp;
	struct strbuf line = STRBUF_INIT, list = STRBUF_INIT;
	size_t pl = strlen(param);
	bool changed = false;

	if (modprobe_last_line(text->buf, modprobe_match_option, &q, &sp)) {
		/* Rebuild the one token param=...; the rest of the line stays. */
		const char *s = text->buf + sp.start, *e = text->buf + sp.end;
		const char *t = s;

		for (;;) {
			t += strspn(t, " \t");
			if (t >= e)
				break;
			if ((size_t)(e - t) > pl && strncmp(t, param, pl) == 0 &&
			    t[pl] == '=' && (t == s || strchr(" \t", t[-1])))
				break;
			t += strcspn(t, " \t\n");
		}
		if (t < e) {
			const char *v = t + pl + 1;
			size_t vl = strcspn(v, " \t\r\n");

			strbuf_add(&list, v, vl);
			for (size_t i = 0; i < n; i++) {
				bool have = false;

				for (const char *p = list.buf; *p;) {
					size_t l = strcspn(p, ",");

					if (l == strlen(vals[i]) &&
					    strncasecmp(p, vals[i], l) == 0)
						have = true;
					p += l + (p[l] ? 1 : 0);
				}
				if (!have) {
					strbuf_addf(&list, "%s%s", list.len ? "," : "",
						    vals[i]);
					changed = true;
				}
			}
			if (changed) {
				strbuf_add(&line, s, (size_t)(v - s));
				strbuf_addstr(&line, list.buf);
				strbuf_add(&line, v + vl, (size_t)(e - (v + vl)));
				modprobe_replace(text, &sp, line.buf);
			}
			goto out;
		}
	}
	strbuf_addf(&list, "%s=", param);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&list, "%s%s", i ? "," : "", vals[i]);
	if (modprobe_last_line(text->buf, modprobe_match_options_of, mod, &sp)) {
		const char *s = text->buf + sp.start;
		size_t l = sp.end - sp.start;

		while (l && strchr(" \t\r", s[l - 1]))
			l--;
		strbuf_add(&line, s, l);
		strbuf_addf(&line, " %s", list.buf);
		strbuf_add(&line, s + l, sp.end - sp.start - l);
		modprobe_replace(text, &sp, line.buf);
	} else {
		strbuf_addf(&line, "options %s %s", mod, list.buf);
		modprobe_append_line(text, line.buf);
	}
	changed = true;
out:
	strbuf_release(&line);
	strbuf_release(&list);
	return changed;
}

/*
 * The first blank-separated token of [s, e) equal to tok, after the first
 * skip tokens, or NULL. Whole tokens only, as kmod splits a softdep line:
 * "xpost:" is a module name, not the keyword.
 */
static const char *
modprobe_find_token(const char *s, const char *e, size_t skip, const char *tok)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; s < e; i++) {
		size_t l;

		s += strspn(s, " \t\r");
		if (s >= e)
			break;
		l = strcspn(s, " \t\r\n");
		if ((size_t)(e - s) < l)
			l = (size_t)(e - s);
		if (i >= skip && l == tl && memcmp(s, tok, tl) == 0)
			return s;
		s += l;
	}
	return NULL;
}

bool
modprobe_ensure_softdep(struct strbuf *text, const char *mod, const char *pre)
{
	struct modprobe_span sp;
	struct strbuf line = STRBUF_INIT;
	bool changed = true;

	if (modprobe_text_has_softdep(text->buf, mod, pre)) {
		changed = false;
	} else if (modprobe_last_line(text->buf, modprobe_match_softdep_of, mod,
				      &sp)) {
		/* "softdep <mod> ...": the keywords come after those two. */
		const char *s = text->buf + sp.start;
		const char *e = text->buf + sp.end;
		const char *p = modprobe_find_token(s, e, 2, "pre:");
		const char *post = modprobe_find_token(s, e, 2, "post:");

		if (p) {
			p += 4;
			strbuf_add(&line, s, (size_t)(p - s));
			strbuf_addf(&line, " %s", pre);
			strbuf_add(&line, p, (size_t)(e - p));
		} else if (post) {
			strbuf_add(&line, s, (size_t)(post - s));
			strbuf_addf(&line, "pre: %s ", pre);
			strbuf_add(&line, post, (size_t)(e - post));
		} else {
			size_t l = sp.end - sp.start;

			while (l && strchr(" \t\r", s[l - 1]))
				l--;
			strbuf_add(&line, s, l);
			strbuf_addf(&line, " pre: %s", pre);
			strbuf_add(&line, s + l, sp.end - sp.start - l);
		}
		modprobe_replace(text, &sp, line.buf);
	} else {
		strbuf_addf(&line, "softdep %s pre: %s", mod, pre);
		modprobe_append_line(text, line.buf);
	}
	strbuf_release(&line);
	return changed;
}

/* --- module lists --- */

static bool
modprobe_list_line_is(const char *s, size_t l, const char *mod)
{
	struct strbuf w = STRBUF_INIT;
	size_t a = strspn(s, " \t"), wl;
	bool r;

	if (a >= l || s[a] == '#' || s[a] == ';')
		return false;
	wl = strcspn(s + a, " \t\r\n");
	if (wl > l - a)
		wl = l - a;
	strbuf_add(&w, s + a, wl);
	r = modprobe_name_eq(w.buf, mod);
	strbuf_release(&w);
	return r;
}

bool
modprobe_list_has(const char *text, const char *mod)
{
	for (const char *p = text; *p;) {
		size_t l = strcspn(p, "\n");

		if (modprobe_list_line_is(p, l, mod))
			return true;
		p += l + (p[l] ? 1 : 0);
	}
	return false;
}

bool
modprobe_list_add(struct strbuf *text, const char *mod)
{
	if (modprobe_list_has(text->buf, mod))
		return false;
	modprobe_append_line(text, mod);
	return true;
}

bool
modprobe_list_remove(struct strbuf *text, const char *mod)
{
	struct strbuf out = STRBUF_INIT;
	bool changed = false;

	for (const char *p = text->buf; *p;) {
		size_t l = strcspn(p, "\n");

		if (modprobe_list_line_is(p, l, mod))
			changed = true;
		else
			strbuf_add(&out, p, l + (p[l] ? 1 : 0));
		p += l + (p[l] ? 1 : 0);
	}
	if (changed) {
		strbuf_release(text);
		*text = out;
	} else {
		strbuf_release(&out);
	}
	return changed;
}

/* --- the host --- */

static bool
modprobe_host_any(const char *root, const char *skip, modprobe_line_fn fn,
		  const void *arg, struct strbuf *where)
{
	struct strbuf host = STRBUF_INIT, real = STRBUF_INIT, body = STRBUF_INIT;
	bool hit = false;

	for (const char *const *d = modprobe_dirs; *d && !hit; d++) {
		char **names = NULL;
		size_t n = 0;

		if (cfgfile_list(root, *d, ".conf", &names, &n) <= 0) {
			cfgfile_names_free(names, n);
			continue;
		}
		for (size_t i = 0; i < n && !hit; i++) {
			strbuf_reset(&host);
			strbuf_addf(&host, "%s/%s", *d, names[i]);
			if (skip && strcmp(skip, host.buf) == 0)
				continue;
			sysroot_path(&real, root, host.buf);
			strbuf_reset(&body);
			if (strbuf_read_file(&body, real.buf, CFGFILE_MAX) < 0)
				continue;
			hit = modprobe_any_line(body.buf, fn, arg);
			if (hit && where) {
				strbuf_reset(where);
				strbuf_addstr(where, host.buf);
			}
		}
		cfgfile_names_free(names, n);
	}
	strbuf_release(&host);
	strbuf_release(&real);
	strbuf_release(&body);
	return hit;
}

bool
modprobe_host_has_blacklist(const char *root, const char *skip,
			    const char *mod, struct strbuf *where)
{
	struct modprobe_q q = { .mod = mod };

	return modprobe_host_any(root, skip, modprobe_match_blacklist, &q, where);
}

bool
modprobe_host_has_option(const char *root, const char *skip, const char *mod,
			 const char *param, const char *value,
			 struct strbuf *where)
{
	struct modprobe_q q = { .mod = mod, .a = param, .b = value };

	return modprobe_host_any(root, skip, modprobe_match_option, &q, where);
}

bool
modprobe_host_has_softdep(const char *root, const char *skip, const char *mod,
			  const char *pre, struct strbuf *where)
{
	struct modprobe_q q = { .mod = mod, .a = pre };

	return modprobe_host_any(root, skip, modprobe_match_softdep, &q, where);
}

bool
modprobe_host_has_install(const char *root, const char *skip, const char *mod,
			  const char *cmd, bool *other, struct strbuf *where)
{
	struct modprobe_q q = { .mod = mod, .a = cmd, .other = other };
	struct modprobe_q any = { .mod = mod, .a = NULL };

	*other = false;
	if (modprobe_host_any(root, skip, modprobe_match_install, &q, where))
		return true;
	/* Not ours: tell which file runs something else. */
	if (*other)
		modprobe_host_any(root, skip, modprobe_match_install, &any, where);
	return false;
}

/* Search dir (a real path) for "<mod>.ko*", a few levels deep. */
static bool
modprobe_find_ko(const char *dir, const char *mod, int depth)
{
	struct strbuf p = STRBUF_INIT;
	struct dirent *de;
	size_t ml = strlen(mod);
	bool hit = false;
	DIR *d;

	if (depth > 6 || !(d = opendir(dir)))
		return false;
	while (!hit && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) > ml + 3 &&
		    strncmp(de->d_name + ml, ".ko", 3) == 0) {
			char *base = xstrndup(de->d_name, ml);

			hit = modprobe_name_eq(base, mod);
			free(base);
			if (hit)
				break;
		}
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, de->d_name);
		if (lstat(p.buf, &st) == 0 && S_ISDIR(st.st_mode))
			hit = modprobe_find_ko(p.buf, mod, depth + 1);
	}
	closedir(d);
	strbuf_release(&p);
	return hit;
}

struct modprobe_proc_ctx {
	const char *mod;
	bool hit;
};

static int
modprobe_proc_line(const char *line, unsigned lineno, void *vctx)
{
	struct modprobe_proc_ctx *c = vctx;
	size_t l = strcspn(line, " ");
	char *name = xstrndup(line, l);

	(void)lineno;
	if (modprobe_name_eq(name, c->mod))
		c->hit = true;
	free(name);
	return 0;
}

bool
modprobe_module_installed(const char *root, const char *release,
			  const char *mod)
{
	struct modprobe_proc_ctx c = { mod, false };
	struct strbuf p = STRBUF_INIT;
	bool hit = false;

	cfgfile_foreach_line(root, "/proc/modules", modprobe_proc_line, &c);
	if (c.hit)
		return true;
	if (release) {
		sysroot_pathf(&p, root, "/lib/modules/%s", release);
		hit = modprobe_find_ko(p.buf, mod, 0);
		if (!hit) {
			sysroot_pathf(&p, root, "/usr/lib/modules/%s", release);
			hit = modprobe_find_ko(p.buf, mod, 0);
		}
	}
	strbuf_release(&p);
	return hit;
}
