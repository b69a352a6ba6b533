#include "sysroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees than this are refused rather than walked without end. */
#define SYSROOT_DEPTH_MAX 32

static void
sysroot_prefix(struct strbuf *out, const char *root)
{
	size_t n;

	strbuf_reset(out);
	if (!root || !*root)
		return;
	n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;	/* "/" and "dir/" both join cleanly with "/etc" */
	strbuf_add(out, root, n);
}

void
sysroot_path(struct strbuf *out, const char *root, const char *path)
{
	sysroot_prefix(out, root);
	strbuf_addstr(out, path);
}

void
sysroot_pathf(struct strbuf *out, const char *root, const char *fmt, ...)
{
	va_list ap;

	sysroot_prefix(out, root);
	va_start(ap, fmt);
	strbuf_vaddf(out, fmt, ap);
	va_end(ap);
}

bool
sysroot_is_host(const char *root)
{
	return !root || !*root || strcmp(root, "/") == 0;
}

bool
sysroot_is_under(const char *root, const char *real)
{
	struct strbuf p = STRBUF_INIT;
	bool under;

	sysroot_prefix(&p, root);
	under = strncmp(real, p.buf, p.len) == 0 &&
		(real[p.len] == '/' || real[p.len] == '\0');
	strbuf_release(&p);
	return under;
}

/* --- safe paths --- */

void
sysroot_trust_init(struct sysroot_trust *t)
{
	const char *s = getenv("SUDO_UID");
	uid_t e = geteuid();

	t->n = 0;
	t->uid[t->n++] = 0;
	if (e != 0)
		t->uid[t->n++] = e;
	/* Only sudo sets SUDO_UID for a root process, and sudo's caller
	 * could run anything as root anyway. */
	if (e == 0 && getuid() == 0 && s && *s >= '1' && *s <= '9' &&
	    strspn(s, "0123456789") == strlen(s) && strlen(s) <= 9)
		t->uid[t->n++] = (uid_t)strtoul(s, NULL, 10);
}

/* One check in progress: whom to trust, and the root it protects. */
struct sr_walk {
	const struct sysroot_trust *t;
	struct strbuf root;	/* as given, without trailing '/' */
	char *root_real;	/* realpath() of the root, or NULL */
	struct strbuf *err;
};

static void
sr_init(struct sr_walk *w, const struct sysroot_trust *t, const char *root,
	struct strbuf *err)
{
	w->t = t;
	strbuf_init(&w->root, 0);
	sysroot_prefix(&w->root, root);
	w->root_real = realpath(root, NULL);
	w->err = err;
}

static void
sr_release(struct sr_walk *w)
{
	strbuf_release(&w->root);
	free(w->root_real);
}

static bool
sr_trusted(const struct sysroot_trust *t, uid_t uid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->uid[i] == uid)
			return true;
	return false;
}

/* dir is a strict ancestor of of ("/" of every other absolute path). */
static bool
sr_ancestor(const char *dir, const char *of)
{
	size_t n = strlen(dir);

	if (!of)
		return false;
	if (strcmp(dir, "/") == 0)
		return of[0] == '/' && of[1] != '\0';
	return strncmp(of, dir, n) == 0 && of[n] == '/';
}

static int
sr_errno(struct sr_walk *w, const char *path, int r)
{
	strbuf_reset(w->err);
	strbuf_addf(w->err, "%s: cannot examine it: %s", path, strerror(-r));
	return r;
}

/* Judge one component; -EPERM with the reason in w->err. */
static int
sr_judge(struct sr_walk *w, const char *path, const struct stat *st)
{
	mode_t m = st->st_mode;
	const char *why = NULL;

	if (!sr_trusted(w->t, st->st_uid))
		why = "is owned by another user";
	else if (S_ISLNK(m))
		return 0;	/* a symlink's own mode means nothing */
	else if (m & (S_IWGRP | S_IWOTH)) {
		if (S_ISDIR(m) && (m & S_ISVTX) &&
		    (sr_ancestor(path, w->root.buf) ||
		     sr_ancestor(path, w->root_real)))
			return 0;	/* /tmp above the root: see sysroot.h */
		why = m & S_IWOTH ? "is writable by every user" :
		      "is writable by its group";
	}
	if (!why)
		return 0;
	strbuf_reset(w->err);
	strbuf_addf(w->err, "%s%s %s (owner uid %lu, mode %04o)",
		    path, S_ISLNK(m) ? " (a symlink)" : "", why,
		    (unsigned long)st->st_uid, (unsigned)(m & 07777));
	return -EPERM;
}

static int sr_walk(struct sr_walk *w, const char *path, size_t from,
		   bool *missing);

/* A symlink's target: resolved from "/", every component judged. */
static int
sr_check_target(struct sr_walk *w, const char *path)
{
	char *real = realpath(path, NULL);
	int r;

	if (!real) {
		r = -errno;
		strbuf_reset(w->err);
		strbuf_addf(w->err, "%s is a symlink that cannot be resolved: %s",
			    path, strerror(-r));
		return r == -ENOENT ? -EPERM : r;
	}
	r = sr_walk(w, real, 0, NULL);	/* no symlinks left in real */
	free(real);
	return r;
}

/*
 * Judge the components of the absolute path after its first `from` bytes
 * (0: "/" and everything after it), with lstat: a symlink is judged, then
 * its target. With missing, a missing component ends the walk: *missing
 * is set and 0 returned; without, it is an error.
 */
static int
sr_walk(struct sr_walk *w, const char *path, size_t from, bool *missing)
{
	struct strbuf p = STRBUF_INIT;
	const char *s = path + from;
	struct stat st;
	int r = 0;

	if (missing)
		*missing = false;
	strbuf_add(&p, path, from);
	if (from == 0) {
		if (lstat("/", &st) < 0)
			r = sr_errno(w, "/", -errno);
		else
			r = sr_judge(w, "/", &st);
	}
	while (!r) {
		size_t n;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		n = strcspn(s, "/");
		strbuf_addch(&p, '/');
		strbuf_add(&p, s, n);
		s += n;
		if (lstat(p.buf, &st) < 0) {
			if (errno == ENOENT && missing) {
				*missing = true;
				break;
			}
			r = sr_errno(w, p.buf, -errno);
			break;
		}
		r = sr_judge(w, p.buf, &st);
		if (!r && S_ISLNK(st.st_mode))
			r = sr_check_target(w, p.buf);
	}
	strbuf_release(&p);
	return r;
}

int
sysroot_check_root(const struct sysroot_trust *t, const char *root,
		   struct strbuf *err)
{
	struct sr_walk w;
	struct stat st;
	int r;

	sr_init(&w, t, root, err);
	r = sr_walk(&w, w.root.buf, 0, NULL);
	if (r == 0 && stat(w.root.buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
		strbuf_reset(err);
		strbuf_addf(err, "%s is not a directory", w.root.buf);
		r = -ENOTDIR;
	}
	sr_release(&w);
	return r;
}

/* Walk ROOT/dir into *real; *missing when some part does not exist. */
static int
sr_under(struct sr_walk *w, const char *dir, struct strbuf *real,
	 bool *missing)
{
	strbuf_reset(real);
	strbuf_add(real, w->root.buf, w->root.len);
	strbuf_addstr(real, dir);
	return sr_walk(w, real->buf, w->root.len, missing);
}

/* Every directory below path (its components judged already). */
static int
sr_tree(struct sr_walk *w, struct strbuf *path, int depth)
{
	size_t len = path->len;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > SYSROOT_DEPTH_MAX) {
		strbuf_reset(w->err);
		strbuf_addf(w->err, "%s is nested more than %d directories deep",
			    path->buf, SYSROOT_DEPTH_MAX);
		return -ELOOP;
	}
	d = opendir(path->buf);
	if (!d)
		return sr_errno(w, path->buf, -errno);
	while (!r && (de = readdir(d))) {
		struct stat st, target;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_setlen(path, len);
		strbuf_addch(path, '/');
		strbuf_addstr(path, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)	/* else: gone meanwhile */
				r = sr_errno(w, path->buf, -errno);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			r = sr_judge(w, path->buf, &st);
			if (!r)
				r = sr_tree(w, path, depth + 1);
		} else if (S_ISLNK(st.st_mode) && stat(path->buf, &target) == 0 &&
			   S_ISDIR(target.st_mode)) {
			/* A path through it may be written: check, don't descend. */
			r = sr_judge(w, path->buf, &st);
			if (!r)
				r = sr_check_target(w, path->buf);
		}
	}
	closedir(d);
	strbuf_setlen(path, len);
	return r;
}

int
sysroot_check_tree(const struct sysroot_trust *t, const char *root,
		   const char *dir, struct strbuf *err)
{
	struct strbuf real = STRBUF_INIT;
	struct sr_walk w;
	bool missing;
	int r;

	sr_init(&w, t, root, err);
	r = sr_under(&w, dir, &real, &missing);
	if (r == 0 && !missing)
		r = sr_tree(&w, &real, 0);
	sr_release(&w);
	strbuf_release(&real);
	return r;
}

int
sysroot_check_programs(const struct sysroot_trust *t, const char *root,
		       const char *dir, struct strbuf *err)
{
	struct strbuf real = STRBUF_INIT;
	struct dirent *de;
	struct sr_walk w;
	DIR *d = NULL;
	bool missing;
	size_t len;
	int r;

	sr_init(&w, t, root, err);
	r = sr_under(&w, dir, &real, &missing);
	if (r < 0 || missing)
		goto out;
	d = opendir(real.buf);
	if (!d) {
		r = errno == ENOTDIR ? 0 : sr_errno(&w, real.buf, -errno);
		goto out;
	}
	len = real.len;
	while (!r && (de = readdir(d))) {
		struct stat st, target;

		strbuf_setlen(&real, len);
		strbuf_addch(&real, '/');
		strbuf_addstr(&real, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile */
		if (S_ISREG(st.st_mode)) {
			r = sr_judge(&w, real.buf, &st);
		} else if (S_ISLNK(st.st_mode) && stat(real.buf, &target) == 0 &&
			   S_ISREG(target.st_mode)) {
			r = sr_judge(&w, real.buf, &st);
			if (!r)
				r = sr_check_target(&w, real.buf);
		}
	}
out:
	if (d)
		closedir(d);
	sr_release(&w);
	strbuf_release(&real);
	return r;
}

int
sysroot_check_file(const struct sysroot_trust *t, const char *root,
		   const char *real, struct strbuf *err)
{
	struct sr_walk w;
	bool missing;
	int r;

	sr_init(&w, t, root, err);
	if (!sysroot_is_under(root, real)) {
		strbuf_reset(err);
		strbuf_addf(err, "%s is not under the root %s", real, w.root.buf);
		r = -EINVAL;
	} else {
		r = sr_walk(&w, real, w.root.len, &missing);
		if (r == 0 && missing) {
			strbuf_reset(err);
			strbuf_addf(err, "%s does not exist", real);
			r = -ENOENT;
		}
	}
	sr_release(&w);
	return r;
}
