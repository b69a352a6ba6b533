#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fileio_read_attr(const char *path, struct strbuf *out)
{
	int r;

	strbuf_reset(out);
	r = strbuf_read_file(out, path, FILEIO_ATTR_MAX);
	if (r < 0)
		return r;
	strbuf_rtrim(out);
	return 0;
}

bool
fileio_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
fileio_link_basename(const char *path, struct strbuf *out)
{
	char target[PATH_MAX];
	ssize_t n;
	const char *base;

	strbuf_reset(out);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	strbuf_addstr(out, base ? base + 1 : target);
	return 0;
}

int
fileio_fsync_dir_of(const char *path)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd = -1, r = 0;

	if (!slash)
		strbuf_addstr(&dir, ".");
	else if (slash == path)
		strbuf_addstr(&dir, "/");
	else
		strbuf_add(&dir, path, (size_t)(slash - path));
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fsync(fd) < 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&dir);
	return r;
}

static int
fileio_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode)
{
	return fileio_write_atomic_steps(path, data, len, mode, NULL);
}

int
fileio_write_atomic_steps(const char *path, const void *data, size_t len,
			  mode_t mode, fileio_step_fn step)
{
	struct strbuf tmp = STRBUF_INIT;
	struct stat st;
	size_t half = len / 2;
	int fd = -1, r;
	bool have_old = stat(path, &st) == 0;

	strbuf_addf(&tmp, "%s" FILEIO_TMP_SUFFIX "XXXXXX", path);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		strbuf_reset(&tmp);	/* nothing to unlink */
		goto out;
	}
	/* In two halves, so that a step can land with the temp file half
	 * written. */
	r = fileio_write_all(fd, data, half);
	if (r < 0)
		goto out;
	if (step)
		step("write-half");
	r = fileio_write_all(fd, (const char *)data + half, len - half);
	if (r < 0)
		goto out;
	/* Keep the old file's permissions and owner: configs like
	 * /etc/default/grub may be 0600 or owned by a config tool. */
	if (fchmod(fd, have_old ? (st.st_mode & 07777) : mode) < 0) {
		r = -errno;
		goto out;
	}
	if (have_old && fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM) {
		r = -errno;
		goto out;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	if (step)
		step("before-rename");
	if (rename(tmp.buf, path) < 0) {
		r = -errno;
		goto out;
	}
	strbuf_reset(&tmp);	/* renamed: nothing left to clean up */
	r = fileio_fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return r;
}
