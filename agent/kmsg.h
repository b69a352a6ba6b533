/* kmsg: the kernel log, read from ROOT/dev/kmsg and parsed into records.
 *
 * /dev/kmsg hands out one record per read(), in the format documented in
 * Documentation/ABI/testing/dev-kmsg:
 *
 *	prio,seq,usec,flags[,more];message text\n
 *	 KEY=value\n			(dictionary lines, leading space)
 *
 * The text has every byte < 0x20, >= 0x7f and '\\' escaped as \xNN. On a
 * fixture tree ROOT/dev/kmsg is a plain file with the same content, so both
 * a character device (read non-blocking until EAGAIN) and a regular file are
 * handled. The parser also accepts dmesg lines ("[    0.7605] text", with an
 * optional "<6>" prefix) so a pasted dmesg works as a fixture; anything else
 * is counted in nskipped and ignored.
 */
#ifndef VF_KMSG_H
#define VF_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* How much of the log is read at most (boot messages come first). */
#define KMSG_READ_MAX (4u << 20)
/* Longest text kept per record; the kernel's own limit is ~1 KiB. */
#define KMSG_TEXT_MAX 4096

struct kmsg_record {
	int level;		/* 0 (emerg) .. 7 (debug), -1 unknown */
	int facility;		/* 0 kernel, 3 daemon ...; -1 unknown */
	int64_t seq;		/* -1 for dmesg-format lines */
	uint64_t usec;		/* timestamp since boot */
	char *text;		/* unescaped, one line, never NULL */
	char *device;		/* DEVICE= dictionary value ("+pci:0000:0e:00.0"), or NULL */
	unsigned lineno;	/* 1-based line of the header in the input */
	bool clipped;		/* text was longer than KMSG_TEXT_MAX */
};

struct kmsg_log {
	struct kmsg_record *recs;
	size_t nrecs;
	size_t alloc;
	size_t nskipped;	/* lines that were neither records nor continuations */
	bool truncated;		/* the input hit KMSG_READ_MAX */
};

#define KMSG_LOG_INIT { NULL, 0, 0, 0, false }

/*
 * Parse len bytes of kmsg text and append the records to log (which owns
 * them). Never fails: malformed lines are counted in log->nskipped. A final
 * line without '\n' is parsed too.
 */
void kmsg_parse(struct kmsg_log *log, const char *buf, size_t len);

/*
 * Append the raw log at path to out, at most cap bytes (0: KMSG_READ_MAX).
 * A character device is read record by record with O_NONBLOCK until EAGAIN;
 * a regular file is read to EOF. *truncated (may be NULL) is set when cap
 * was reached; then out ends at the last complete line. Returns 0 or -errno.
 */
int kmsg_read(const char *path, struct strbuf *out, size_t cap,
	      bool *truncated);

/* kmsg_read() + kmsg_parse() into log. Returns 0 or -errno. */
int kmsg_load(struct kmsg_log *log, const char *path);

/* Free every record; log is reset to KMSG_LOG_INIT. */
void kmsg_log_release(struct kmsg_log *log);

/*
 * Next record at or after *pos whose text contains needle (case-sensitive),
 * or NULL. *pos is left just past the match, so a loop finds them all.
 * Borrowed pointer, valid until the log is released.
 */
const struct kmsg_record *kmsg_find(const struct kmsg_log *log, size_t *pos,
				    const char *needle);

#endif
