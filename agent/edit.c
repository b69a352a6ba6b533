/* edit.c: atomic, backed-up, recorded file edits (see edit.h). */
#include "edit.h"
#include "fileio.h"
#include "log.h"
#include "sha256.h"
#include "sysroot.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- test hook --- */

static long edit_kill_at = -2;	/* -2: environment not read yet */
static long edit_points;

void
edit_test_reset(void)
{
	edit_kill_at = -2;
	edit_points = 0;
}

void
edit_test_point(const char *what)
{
	if (edit_kill_at == -2) {
		const char *e = getenv("VFLEET_TEST_KILL_AT");

		edit_kill_at = e && *e ? strtol(e, NULL, 10) : -1;
	}
	edit_points++;
	if (getenv("VFLEET_TEST_POINTS"))
		fprintf(stderr, "vfleet-test-point %ld %s\n", edit_points, what);
	if (edit_kill_at > 0 && edit_points == edit_kill_at) {
		fprintf(stderr, "vfleet-agent: VFLEET_TEST_KILL_AT=%ld: SIGKILL "
			"at %s\n", edit_kill_at, what);
		raise(SIGKILL);
	}
}

/* --- low level --- */

int
edit_mkdir_p(const char *path, mode_t mode)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;
	int r = 0;

	strbuf_addstr(&p, path);
	for (size_t i = 1; i <= p.len; i++) {
		if (i < p.len && p.buf[i] != '/')
			continue;
		p.buf[i] = '\0';
		if (mkdir(p.buf, mode) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
		if (i < p.len)
			p.buf[i] = '/';
	}
	if (stat(path, &st) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
out:
	strbuf_release(&p);
	return r;
}

static void edit_clean_temps(const char *path);

/* fileio's atomic write with the test points inside: the fault-injection
 * test stops the agent halfway through the temp file and between fsync
 * and rename, which only the writer's own steps can reach. */
int
edit_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	/* What an earlier, interrupted write of this file left behind. */
	edit_clean_temps(path);
	return fileio_write_atomic_steps(path, data, len, mode, edit_test_point);
}

/* Read a real path, refusing what vfleet must not replace. */
static int
edit_read_real(const char *path, struct strbuf *out)
{
	struct stat st;
	int r;

	strbuf_reset(out);
	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	r = strbuf_read_file(out, path, EDIT_FILE_MAX);
	return r;
}

int
edit_read(const char *root, const char *path, struct strbuf *out)
{
	struct strbuf p = STRBUF_INIT;
	int r;

	sysroot_path(&p, root, path);
	r = edit_read_real(p.buf, out);
	strbuf_release(&p);
	return r;
}

static void
edit_hex(const void *data, size_t len, char **out)
{
	struct strbuf h = STRBUF_INIT;

	sha256_hex(data, len, &h);
	free(*out);
	*out = strbuf_detach(&h, NULL);
}

static const char *
edit_strerror(int r)
{
	switch (r) {
	case -ELOOP:
		return "is a symbolic link; vfleet edits regular files only";
	case -EINVAL:
		return "is not a regular file";
	case -EFBIG:
		return "is larger than 4 MiB";
	default:
		return strerror(-r);
	}
}

static void
edit_fail(struct edit_ctx *c, const char *path, const char *what, int r)
{
	if (!c->err)
		return;
	strbuf_reset(c->err);
	strbuf_addf(c->err, "%s: %s%s%s", path, what ? what : "",
		    what ? ": " : "", edit_strerror(r));
}

/* Remove "<base>.vfleet-tmp.*" next to the real path (crashed writers). */
static void
edit_clean_temps(const char *path)
{
	struct strbuf dir = STRBUF_INIT, p = STRBUF_INIT, pre = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	struct dirent *de;
	DIR *d;

	if (!slash)
		return;
	strbuf_add(&dir, path, (size_t)(slash - path));
	strbuf_addf(&pre, "%s" FILEIO_TMP_SUFFIX, slash + 1);
	d = opendir(dir.len ? dir.buf : "/");
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, pre.buf, pre.len) != 0)
			continue;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir.buf, de->d_name);
		if (unlink(p.buf) == 0)
			log_info("removed %s, left by an interrupted write", p.buf);
	}
	closedir(d);
out:
	strbuf_release(&dir);
	strbuf_release(&p);
	strbuf_release(&pre);
}

static bool
edit_strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Record the missing parent directories of host path, parents first. */
static void
edit_note_dirs(struct edit_ctx *c, const char *path)
{
	struct strbuf host = STRBUF_INIT, real = STRBUF_INIT;
	const char *s;

	for (s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		strbuf_reset(&host);
		strbuf_add(&host, path, (size_t)(s - path));
		sysroot_path(&real, c->root, host.buf);
		if (fileio_exists(real.buf) ||
		    edit_strv_has(c->st->dirs_created, c->st->ndirs_created,
				  host.buf))
			continue;
		c->st->dirs_created = xrealloc(c->st->dirs_created,
			(c->st->ndirs_created + 1) * sizeof(char *));
		c->st->dirs_created[c->st->ndirs_created++] = xstrdup(host.buf);
	}
	strbuf_release(&host);
	strbuf_release(&real);
}

/* --- recorded edits --- */

int
edit_prepare(struct edit_ctx *c, const char *path, const void *data,
	     size_t len)
{
	struct strbuf real = STRBUF_INIT, cur = STRBUF_INIT;
	struct strbuf bak = STRBUF_INIT, bakreal = STRBUF_INIT;
	struct state_file *f = state_find_file(c->st, path);
	bool exists;
	int r;

	sysroot_path(&real, c->root, path);
	r = edit_read_real(real.buf, &cur);
	if (r < 0 && r != -ENOENT) {
		edit_fail(c, path, NULL, r);
		goto out;
	}
	exists = r == 0;
	r = 0;
	if (!f) {
		f = state_add_file(c->st);
		f->path = xstrdup(path);
		f->run_id = xstrdup(c->run_id);
		f->created = !exists;
		if (exists) {
			edit_hex(cur.buf, cur.len, &f->sha256_before);
			strbuf_addf(&bak, STATE_BACKUP_DIR "/%s%s", c->run_id, path);
			sysroot_path(&bakreal, c->root, bak.buf);
			*strrchr(bakreal.buf, '/') = '\0';
			r = edit_mkdir_p(bakreal.buf, 0700);
			if (r < 0) {
				edit_fail(c, bak.buf, "cannot create the backup "
					  "directory", r);
				goto out;
			}
			sysroot_path(&bakreal, c->root, bak.buf);
			r = edit_write_atomic(bakreal.buf, cur.buf, cur.len, 0600);
			if (r < 0) {
				edit_fail(c, bak.buf, "cannot write the backup", r);
				goto out;
			}
			f->backup = strbuf_detach(&bak, NULL);
			edit_test_point("backup-written");
		}
	}
	/* The hash it will have: rollback recognises vfleet's content even
	 * when a crash came between the rename and the "done" record. */
	edit_hex(data, len, &f->sha256_after);
	f->status = STATE_STEP_PENDING;
	if (!exists)
		edit_note_dirs(c, path);
out:
	strbuf_release(&real);
	strbuf_release(&cur);
	strbuf_release(&bak);
	strbuf_release(&bakreal);
	return r;
}

/* Create the recorded parent directories of host path that are missing. */
static int
edit_make_dirs(struct edit_ctx *c, const char *path)
{
	struct strbuf real = STRBUF_INIT;
	int r = 0;

	for (size_t i = 0; i < c->st->ndirs_created; i++) {
		const char *d = c->st->dirs_created[i];
		size_t dl = strlen(d);

		if (strncmp(path, d, dl) != 0 || path[dl] != '/')
			continue;
		sysroot_path(&real, c->root, d);
		if (mkdir(real.buf, 0755) < 0 && errno != EEXIST) {
			r = -errno;
			edit_fail(c, d, "cannot create the directory", r);
			break;
		}
		fileio_fsync_dir_of(real.buf);
	}
	strbuf_release(&real);
	return r;
}

int
edit_commit(struct edit_ctx *c, const char *path, const void *data,
	    size_t len, mode_t mode)
{
	struct strbuf real = STRBUF_INIT, cur = STRBUF_INIT;
	struct state_file *f = state_find_file(c->st, path);
	int r;

	if (!f) {
		r = -EINVAL;
		edit_fail(c, path, "edit not prepared", r);
		goto out;
	}
	sysroot_path(&real, c->root, path);
	r = edit_read_real(real.buf, &cur);
	if (r < 0 && r != -ENOENT) {
		edit_fail(c, path, NULL, r);
		goto out;
	}
	if (r == 0 && cur.len == len && memcmp(cur.buf, data, len) == 0) {
		/* Already there: an earlier run got as far as the rename. */
		r = 0;
	} else {
		r = edit_make_dirs(c, path);
		if (r < 0)
			goto out;
		r = edit_write_atomic(real.buf, data, len, mode);
		if (r < 0) {
			edit_fail(c, path, "cannot write", r);
			goto out;
		}
		r = 1;
	}
	f = state_find_file(c->st, path);
	f->status = STATE_STEP_DONE;
	edit_hex(data, len, &f->sha256_after);
	{
		int s = state_save(c->root, c->st, c->err);

		if (s < 0) {
			r = s;
			goto out;
		}
	}
	edit_test_point("file-done");
out:
	strbuf_release(&real);
	strbuf_release(&cur);
	return r;
}

int
edit_restore(struct edit_ctx *c, struct state_file *f)
{
	struct strbuf real = STRBUF_INIT, cur = STRBUF_INIT;
	struct strbuf bak = STRBUF_INIT, hex = STRBUF_INIT;
	bool exists;
	int r;

	sysroot_path(&real, c->root, f->path);
	r = edit_read_real(real.buf, &cur);
	if (r < 0 && r != -ENOENT) {
		edit_fail(c, f->path, NULL, r);
		goto out;
	}
	exists = r == 0;
	if (exists)
		sha256_hex(cur.buf, cur.len, &hex);
	edit_clean_temps(real.buf);
	if (f->created) {
		r = 0;
		if (!exists)
			goto done;
		if (!f->sha256_after || strcmp(hex.buf, f->sha256_after) != 0) {
			r = -ESTALE;
			edit_fail(c, f->path, "vfleet created it, but it was "
				  "changed since; not removed", r);
			goto out;
		}
		if (unlink(real.buf) < 0) {
			r = -errno;
			edit_fail(c, f->path, "cannot remove", r);
			goto out;
		}
		fileio_fsync_dir_of(real.buf);
		r = 1;
		goto done;
	}
	if (exists && strcmp(hex.buf, f->sha256_before) == 0) {
		r = 0;
		goto done;
	}
	if (!exists || !f->sha256_after || strcmp(hex.buf, f->sha256_after) != 0) {
		r = -ESTALE;
		edit_fail(c, f->path, exists ? "changed since vfleet wrote it; "
			  "not restored (the original is in the backup)" :
			  "removed since vfleet wrote it; not restored", r);
		goto out;
	}
	r = edit_read(c->root, f->backup, &bak);
	if (r < 0) {
		edit_fail(c, f->backup, "cannot read the backup", r);
		goto out;
	}
	sha256_hex(bak.buf, bak.len, &hex);
	if (strcmp(hex.buf, f->sha256_before) != 0) {
		r = -EIO;
		edit_fail(c, f->backup, "backup does not match the recorded "
			  "sha256; not used", r);
		goto out;
	}
	r = edit_write_atomic(real.buf, bak.buf, bak.len, 0644);
	if (r < 0) {
		edit_fail(c, f->path, "cannot restore", r);
		goto out;
	}
	r = 1;
done:
	f->status = STATE_STEP_RESTORED;
out:
	strbuf_release(&real);
	strbuf_release(&cur);
	strbuf_release(&bak);
	strbuf_release(&hex);
	return r;
}

int
edit_remove_dirs(struct edit_ctx *c)
{
	struct strbuf real = STRBUF_INIT;
	int n = 0;

	for (size_t i = c->st->ndirs_created; i-- > 0;) {
		sysroot_path(&real, c->root, c->st->dirs_created[i]);
		if (rmdir(real.buf) == 0) {
			fileio_fsync_dir_of(real.buf);
			n++;
		}
	}
	strbuf_release(&real);
	return n;
}
