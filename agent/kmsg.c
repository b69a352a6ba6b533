/* kmsg.c: read and parse the kernel log (see kmsg.h for the format). */
#include "kmsg.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One read() on /dev/kmsg returns one whole record; the kernel's largest
 * (CONSOLE_EXT_LOG_MAX) is 8 KiB, and a smaller buffer gets EINVAL. */
#define KMSG_CHUNK 16384

void
kmsg_log_release(struct kmsg_log *log)
{
	for (size_t i = 0; i < log->nrecs; i++) {
		free(log->recs[i].text);
		free(log->recs[i].device);
	}
	free(log->recs);
	memset(log, 0, sizeof(*log));
}

static int
kmsg_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A byte kmsg_unescape() copies as it is. */
static bool
kmsg_plain(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '\\';
}

/*
 * Append the escaped text [p, e) to sb, decoding \xNN. Control bytes
 * (escaped newlines of multi-line printks, stray NULs) become spaces so each
 * record stays one line in evidence strings. Stops at KMSG_TEXT_MAX and
 * returns true when it had to clip. Runs of plain bytes go in with one
 * copy: a byte at a time was most of the agent's time in the kernel log.
 */
static bool
kmsg_unescape(struct strbuf *sb, const char *p, const char *e)
{
	while (p < e) {
		const char *run = p;
		unsigned char c;
		size_t room;

		if (sb->len >= KMSG_TEXT_MAX)
			return true;
		room = KMSG_TEXT_MAX - sb->len;
		while (p < e && (size_t)(p - run) < room &&
		       kmsg_plain((unsigned char)*p))
			p++;
		if (p > run) {
			strbuf_add(sb, run, (size_t)(p - run));
			continue;
		}
		c = (unsigned char)*p++;
		if (c == '\\' && e - p >= 3 && p[0] == 'x' &&
		    kmsg_hexval(p[1]) >= 0 && kmsg_hexval(p[2]) >= 0) {
			c = (unsigned char)(kmsg_hexval(p[1]) << 4 | kmsg_hexval(p[2]));
			p += 3;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		strbuf_addch(sb, c);
	}
	return false;
}

/* Parse a decimal number at *pp (below limit); advance *pp. */
static bool
kmsg_parse_num(const char **pp, const char *e, uint64_t limit, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p >= e || *p < '0' || *p > '9')
		return false;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return true;
}

/* "prio,seq,usec,flags[,...];" -> fills r, returns the text start or NULL. */
static const char *
kmsg_parse_header(const char *p, const char *e, struct kmsg_record *r)
{
	uint64_t prio, seq, usec;
	const char *semi;

	if (!kmsg_parse_num(&p, e, 0x7fffffff, &prio) || p >= e || *p++ != ',')
		return NULL;
	if (!kmsg_parse_num(&p, e, INT64_MAX, &seq) || p >= e || *p++ != ',')
		return NULL;
	if (!kmsg_parse_num(&p, e, UINT64_MAX, &usec) || p >= e)
		return NULL;
	if (*p != ',' && *p != ';')
		return NULL;
	semi = memchr(p, ';', (size_t)(e - p));
	if (!semi)
		return NULL;
	r->level = (int)(prio & 7);
	r->facility = (int)(prio >> 3);
	r->seq = (int64_t)seq;
	r->usec = usec;
	return semi + 1;
}

/* dmesg line: optional "<prio>", then "[ secs.frac] text". */
static const char *
kmsg_parse_dmesg(const char *p, const char *e, struct kmsg_record *r)
{
	uint64_t prio = 0, secs = 0, frac = 0;
	bool have_prio = false;
	const char *f;

	if (p < e && *p == '<') {
		p++;
		if (!kmsg_parse_num(&p, e, 0x7fffffff, &prio) || p >= e || *p++ != '>')
			return NULL;
		have_prio = true;
	}
	if (p >= e || *p++ != '[')
		return NULL;
	while (p < e && *p == ' ')
		p++;
	if (!kmsg_parse_num(&p, e, UINT64_MAX / 1000000 - 1, &secs))
		return NULL;
	if (p < e && *p == '.') {
		int digits = 0;

		p++;
		f = p;
		if (!kmsg_parse_num(&p, e, UINT64_MAX, &frac))
			return NULL;
		digits = (int)(p - f);
		/* Scale the fraction to microseconds. */
		for (; digits < 6; digits++)
			frac *= 10;
		for (; digits > 6; digits--)
			frac /= 10;
	}
	if (p >= e || *p++ != ']')
		return NULL;
	if (p < e && *p == ' ')
		p++;
	r->level = have_prio ? (int)(prio & 7) : -1;
	r->facility = have_prio ? (int)(prio >> 3) : -1;
	r->seq = -1;
	r->usec = secs * 1000000 + frac;
	return p;
}

/* A continuation line " KEY=value" (dictionary) or more text. */
static void
kmsg_continuation(struct kmsg_record *r, const char *p, const char *e)
{
	const char *k = p, *eq;
	struct strbuf sb = STRBUF_INIT;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= e)
		return;
	k = p;
	for (eq = p; eq < e && ((*eq >= 'A' && *eq <= 'Z') ||
				(*eq >= '0' && *eq <= '9') || *eq == '_'); eq++)
		;
	if (eq > k && eq < e && *eq == '=') {
		if (eq - k == 6 && memcmp(k, "DEVICE", 6) == 0 && !r->device) {
			kmsg_unescape(&sb, eq + 1, e);
			r->device = strbuf_detach(&sb, NULL);
		}
		return;
	}
	/* Not a dictionary entry: a hand-written multi-line message. */
	strbuf_addstr(&sb, r->text);
	if (sb.len < KMSG_TEXT_MAX)
		strbuf_addch(&sb, ' ');
	if (kmsg_unescape(&sb, p, e))
		r->clipped = true;
	free(r->text);
	r->text = strbuf_detach(&sb, NULL);
}

static void
kmsg_parse_line(struct kmsg_log *log, const char *p, const char *e,
		unsigned lineno)
{
	struct kmsg_record r = { .level = -1, .facility = -1, .seq = -1 };
	struct strbuf sb = STRBUF_INIT;
	const char *text;

	if (e > p && e[-1] == '\r')
		e--;
	if (p == e)
		return;
	if (*p == ' ' || *p == '\t') {
		if (log->nrecs)
			kmsg_continuation(&log->recs[log->nrecs - 1], p, e);
		else
			log->nskipped++;
		return;
	}
	text = kmsg_parse_header(p, e, &r);
	if (!text)
		text = kmsg_parse_dmesg(p, e, &r);
	if (!text) {
		log->nskipped++;
		return;
	}
	r.clipped = kmsg_unescape(&sb, text, e);
	r.text = strbuf_detach(&sb, NULL);
	r.lineno = lineno;
	XGROW(log->recs, log->alloc, log->nrecs + 1);
	log->recs[log->nrecs++] = r;
}

void
kmsg_parse(struct kmsg_log *log, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		kmsg_parse_line(log, p, e, ++lineno);
		p = nl ? nl + 1 : end;
	}
}

int
kmsg_read(const char *path, struct strbuf *out, size_t cap, bool *truncated)
{
	size_t start = out->len, got = 0;
	bool trunc = false;
	int fd, r = 0;

	if (!cap)
		cap = KMSG_READ_MAX;
	/* O_NONBLOCK: on the device, EAGAIN means "no more records". */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		strbuf_grow(out, KMSG_CHUNK);
		n = read(fd, out->buf + out->len, KMSG_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			/* EPIPE: records we had not read yet were overwritten;
			 * the next read continues with the oldest one left. */
			if (errno == EPIPE)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > cap - got) {
			n = (ssize_t)(cap - got);
			trunc = true;
		}
		strbuf_setlen(out, out->len + (size_t)n);
		got += (size_t)n;
		if (trunc || got == cap) {
			char c;

			/* Exactly at the cap: only truncated if more follows. */
			if (!trunc) {
				ssize_t m;

				do {
					m = read(fd, &c, 1);
				} while (m < 0 && errno == EINTR);
				trunc = m > 0 || (m < 0 && errno == EINVAL);
			}
			break;
		}
	}
	close(fd);
	if (r < 0) {
		strbuf_setlen(out, start);
		return r;
	}
	if (trunc) {
		/* Drop the partial last line. */
		size_t n = out->len;

		while (n > start && out->buf[n - 1] != '\n')
			n--;
		strbuf_setlen(out, n);
	}
	if (truncated)
		*truncated = trunc;
	return 0;
}

int
kmsg_load(struct kmsg_log *log, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	bool trunc = false;
	int r;

	r = kmsg_read(path, &sb, KMSG_READ_MAX, &trunc);
	if (r < 0)
		goto out;
	kmsg_parse(log, sb.buf, sb.len);
	log->truncated = log->truncated || trunc;
out:
	strbuf_release(&sb);
	return r;
}

const struct kmsg_record *
kmsg_find(const struct kmsg_log *log, size_t *pos, const char *needle)
{
	for (size_t i = *pos; i < log->nrecs; i++) {
		if (strstr(log->recs[i].text, needle)) {
			*pos = i + 1;
			return &log->recs[i];
		}
	}
	*pos = log->nrecs;
	return NULL;
}
