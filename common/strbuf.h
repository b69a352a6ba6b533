/* strbuf: the one length-tracked string buffer of vfleet.
 *
 * Rules (as git's strbuf): `buf` is never NULL and always NUL-terminated,
 * so it can be passed to any libc function; `len` excludes the NUL; `alloc`
 * is private. Initialise with STRBUF_INIT, free with strbuf_release(), or
 * take the storage with strbuf_detach(). Every path, command line and file
 * body is built in one of these; never sprintf into a fixed array.
 */
#ifndef VF_STRBUF_H
#define VF_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the storage and reset sb to STRBUF_INIT. Safe to call twice. */
void strbuf_release(struct strbuf *sb);
/* Return the storage (caller owns it, never NULL); sb is reset to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Strip trailing whitespace (newlines from sysfs attributes). */
void strbuf_rtrim(struct strbuf *sb);
bool strbuf_starts_with(const struct strbuf *sb, const char *prefix);

/*
 * Append up to `cap` bytes read from fd until EOF. Returns 0, -EFBIG when
 * the input is longer than cap (what was read stays in sb), or -errno.
 */
int strbuf_read_fd(struct strbuf *sb, int fd, size_t cap);
/* Append the file at path (at most cap bytes). Returns 0 or -errno/-EFBIG. */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t cap);

#endif
