#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Shared empty string so that an initialised strbuf owns nothing. */
char strbuf_slopbuf[1];

void
strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void
strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *
strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;

	strbuf_grow(sb, 0);
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return res;
}

void
strbuf_grow(struct strbuf *sb, size_t extra)
{
	bool fresh = !sb->alloc;
	size_t need = sb->len + extra + 1;

	if (need < sb->len)
		abort();	/* size_t overflow: a caller bug */
	if (fresh)
		sb->buf = NULL;
	/* fresh: always allocate (need >= 1 > alloc == 0; said for the
	 * static analyzer, which loses that fact). */
	if (fresh || need > sb->alloc) {
		size_t n = sb->alloc ? sb->alloc : 64;

		while (n < need)
			n = n * 3 / 2 + 16;
		sb->buf = xrealloc(sb->buf, n);
		sb->alloc = n;
	}
	if (fresh)
		sb->buf[0] = '\0';
}

void
strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc) {
		return;	/* empty slopbuf stays empty */
	}
	sb->len = len < sb->alloc ? len : sb->alloc - 1;
	sb->buf[sb->len] = '\0';
}

void
strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void
strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;

	strbuf_add(sb, &ch, 1);
}

void
strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		abort();	/* invalid format: a caller bug */
	if ((size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
}

void
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void
strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && (sb->buf[sb->len - 1] == '\n' ||
			   sb->buf[sb->len - 1] == ' ' ||
			   sb->buf[sb->len - 1] == '\t' ||
			   sb->buf[sb->len - 1] == '\r'))
		sb->len--;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
}

bool
strbuf_starts_with(const struct strbuf *sb, const char *prefix)
{
	size_t n = strlen(prefix);

	return sb->len >= n && memcmp(sb->buf, prefix, n) == 0;
}

int
strbuf_read_fd(struct strbuf *sb, int fd, size_t cap)
{
	size_t got = 0;

	for (;;) {
		size_t want = 8192;
		ssize_t n;

		if (got >= cap) {
			/* Probe for one more byte to tell "exactly cap" from "more". */
			char c;

			do {
				n = read(fd, &c, 1);
			} while (n < 0 && errno == EINTR);
			if (n < 0)
				return -errno;
			return n == 0 ? 0 : -EFBIG;
		}
		if (want > cap - got)
			want = cap - got;
		strbuf_grow(sb, want);
		n = read(fd, sb->buf + sb->len, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		got += (size_t)n;
	}
}

int
strbuf_read_file(struct strbuf *sb, const char *path, size_t cap)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = strbuf_read_fd(sb, fd, cap);
	close(fd);
	return r;
}
