/* fuzz_pciids: the pci.ids checker and cutter (agent/pciids.c) on hostile
 * text, against the host's libpci.
 *
 * pci.ids is the host's file, and a scan worker hands libpci only the cut
 * pciids makes of it, so a wrong "safe" would change the names a host
 * reports (or hide the error libpci gives for a broken file). Promises
 * checked:
 *
 *  - the text is lent, not changed, and indexing it again gives the same
 *    answer and blocks;
 *  - a file with a NUL, a CR, the gzip magic or a line of 1000 bytes or
 *    more is never called safe (pciids.h leaves those to libpci);
 *  - the blocks are in file order, each ends where the next starts, the
 *    last at the end of the file; each starts at a line start with the
 *    top-level line its kind and id say, and every top-level line of the
 *    file starts a block;
 *  - the cut for a vendor set is exactly the wanted blocks (every class,
 *    those vendors' V and S blocks), whole and in order, each ending in a
 *    newline, or the first non-U block when none is wanted; so it is made
 *    of whole lines of the input. pciids calls the cut safe too, and
 *    cutting it again for the same set gives it back;
 *  - the key one: when pciids calls the file safe, the host's libpci loads
 *    it without an error, loads the cut without one, and gives the same
 *    name from both for every id the file lists under the wanted vendors
 *    (vendor, device, subsystem, generic subsystem) and for every class,
 *    subclass and prog-if, with the lookup flags the agent uses.
 *
 * libpci reads both texts from two memfds made once, through their
 * /proc/self/fd paths (no fork, no file per input). The vendor set is
 * drawn from a hash of the input, plus the subsystem vendors of the
 * wanted devices, as a scan worker adds them.
 */
#include "fuzz.h"
#include "pciids.h"

#include <pci/pci.h>

#include <stdarg.h>
#include <sys/mman.h>
#include <unistd.h>

/* The agent's lookup flags (agent/pci.c). */
#define LOOKUP_FLAGS (PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB)

struct side {
	int fd;
	char path[64];
	struct pci_access *pacc;
};

static struct side full_side, cut_side;

/* Which text libpci is loading, for the report. */
static const char *loading;

static void __attribute__((noreturn, format(printf, 1, 2)))
lp_error(char *msg, ...)
{
	va_list ap;

	fprintf(stderr, "broken promise: pciids calls the file safe, but "
		"libpci refuses the %s: ", loading);
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	abort();
}

static void __attribute__((format(printf, 1, 2)))
lp_quiet(char *msg, ...)
{
	(void)msg;
}

static void
side_open(struct side *s, const char *name)
{
	s->fd = memfd_create(name, MFD_CLOEXEC);
	if (s->fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(s->path, sizeof(s->path), "/proc/self/fd/%d", s->fd);
	s->pacc = pci_alloc();
	s->pacc->error = lp_error;
	s->pacc->warning = lp_quiet;
	s->pacc->debug = lp_quiet;
	pci_set_name_list_path(s->pacc, s->path, 0);
}

static void
sides_close(void)
{
	pci_cleanup(full_side.pacc);
	pci_cleanup(cut_side.pacc);
	close(full_side.fd);
	close(cut_side.fd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	side_open(&full_side, "pci.ids");
	side_open(&cut_side, "pci.ids.cut");
	atexit(sides_close);
	return 0;
}

/* Give libpci this text: it loads it now (lp_error aborts on an error). */
static void
side_load(struct side *s, const char *what, const char *buf, size_t len)
{
	size_t off = 0;

	FUZZ_ASSERT(ftruncate(s->fd, 0) == 0);
	while (off < len) {
		ssize_t n = pwrite(s->fd, buf + off, len - off, (off_t)off);

		FUZZ_ASSERT(n > 0);
		off += (size_t)n;
	}
	loading = what;
	pci_free_name_list(s->pacc);
	FUZZ_ASSERT(pci_load_name_list(s->pacc) == 1);
}

/* --- the input's own view of its lines, independent of pciids.c --- */

static int
hexn(const char *p, const char *lim, int n)
{
	int x = 0;

	if (lim - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		int c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		x = x << 4 | d;
	}
	return x;
}

/* The line at p: its end (the '\n' or lim). */
static const char *
line_end(const char *p, const char *lim)
{
	const char *nl = memchr(p, '\n', (size_t)(lim - p));

	return nl ? nl : lim;
}

/* The line after the one ending at end. */
static const char *
line_next(const char *end, const char *lim)
{
	return end < lim ? end + 1 : lim;
}

/* Blank or a comment: libpci skips it. */
static bool
line_skipped(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p == end || *p == '#';
}

/* What the first line of a block must be. */
static void
check_block_head(const char *buf, size_t len, const struct pciids_block *b)
{
	const char *p = buf + b->start, *end = line_end(p, buf + len);

	FUZZ_ASSERT(b->start == 0 || buf[b->start - 1] == '\n');
	FUZZ_ASSERT(end - p >= 2 && !line_skipped(p, end));
	switch (b->kind) {
	case 'C':
		FUZZ_ASSERT(p[0] == 'C' && p[1] == ' ');
		FUZZ_ASSERT(hexn(p + 2, end, 2) == b->id);
		break;
	case 'S':
		FUZZ_ASSERT(p[0] == 'S' && p[1] == ' ');
		FUZZ_ASSERT(hexn(p + 2, end, 4) == b->id);
		break;
	case 'U':
		FUZZ_ASSERT(p[0] >= 'A' && p[0] <= 'Z' && p[1] == ' ');
		FUZZ_ASSERT(p[0] != 'C' && p[0] != 'S');
		break;
	case 'V':
		FUZZ_ASSERT(hexn(p, end, 4) == b->id);
		break;
	default:
		FUZZ_ASSERT(!"a block kind pciids.h does not name");
	}
}

static void
check_blocks(const char *buf, size_t len, const struct pciids_index *ix)
{
	size_t next = 0;	/* index of the next block to start */
	const char *lim = buf + len;

	for (size_t i = 0; i < ix->nblocks; i++) {
		const struct pciids_block *b = &ix->blocks[i];

		FUZZ_ASSERT(b->start < b->end && b->end <= len);
		if (i)
			FUZZ_ASSERT(b->start == ix->blocks[i - 1].end);
		check_block_head(buf, len, b);
	}
	if (ix->nblocks)
		FUZZ_ASSERT(ix->blocks[ix->nblocks - 1].end == len);
	/* Every top-level line (not blank, not a comment, not nested)
	 * starts the next block; nothing else does. */
	for (const char *p = buf; p < lim;) {
		const char *end = line_end(p, lim);
		size_t off = (size_t)(p - buf);

		if (!line_skipped(p, end) && *p != '\t') {
			FUZZ_ASSERT(next < ix->nblocks);
			FUZZ_ASSERT(ix->blocks[next].start == off);
			next++;
		} else if (next < ix->nblocks) {
			FUZZ_ASSERT(ix->blocks[next].start != off);
		}
		p = line_next(end, lim);
	}
	FUZZ_ASSERT(next == ix->nblocks);
}

/* pciids.h's promise for the cut, spelled out. */
static void
expected_cut(const char *buf, const struct pciids_index *ix,
	     const struct pciids_vendors *want, struct strbuf *out)
{
	strbuf_reset(out);
	for (size_t i = 0; i < ix->nblocks; i++) {
		const struct pciids_block *b = &ix->blocks[i];

		if (b->kind == 'C' || ((b->kind == 'V' || b->kind == 'S') &&
				       pciids_vendors_has(want, b->id))) {
			strbuf_add(out, buf + b->start, b->end - b->start);
			if (buf[b->end - 1] != '\n')
				strbuf_addch(out, '\n');
		}
	}
	for (size_t i = 0; !out->len && i < ix->nblocks; i++) {
		const struct pciids_block *b = &ix->blocks[i];

		if (b->kind == 'U')
			continue;
		strbuf_add(out, buf + b->start, b->end - b->start);
		if (buf[b->end - 1] != '\n')
			strbuf_addch(out, '\n');
	}
}

/* Cut for want, check it against the promise, re-index and re-cut it. */
static void
check_cut(const char *buf, const struct pciids_index *ix,
	  const struct pciids_vendors *want, struct strbuf *cut)
{
	struct pciids_index ix2 = PCIIDS_INDEX_INIT;
	struct strbuf exp = STRBUF_INIT, again = STRBUF_INIT;

	/* pciids_filter() appends: what is there stays. */
	strbuf_reset(cut);
	strbuf_addch(cut, 'x');
	pciids_filter(buf, ix, want, cut);
	FUZZ_ASSERT(cut->len >= 1 && cut->buf[0] == 'x');
	memmove(cut->buf, cut->buf + 1, cut->len - 1);
	strbuf_setlen(cut, cut->len - 1);
	expected_cut(buf, ix, want, &exp);
	FUZZ_ASSERT(cut->len == exp.len && !memcmp(cut->buf, exp.buf, exp.len));
	FUZZ_ASSERT(!cut->len || cut->buf[cut->len - 1] == '\n');

	FUZZ_ASSERT(pciids_index(cut->buf, cut->len, &ix2));
	check_blocks(cut->buf, cut->len, &ix2);
	pciids_filter(cut->buf, &ix2, want, &again);
	FUZZ_ASSERT(again.len == cut->len &&
		    !memcmp(again.buf, cut->buf, cut->len));

	pciids_index_release(&ix2);
	strbuf_release(&exp);
	strbuf_release(&again);
}

/* --- names: libpci on the whole file and on the cut --- */

static void
same_name(int flags, int a1, int a2, int a3, int a4)
{
	char b1[256], b2[256];
	const char *n1, *n2;

	n1 = pci_lookup_name(full_side.pacc, b1, sizeof(b1),
			     LOOKUP_FLAGS | flags, a1, a2, a3, a4);
	n2 = pci_lookup_name(cut_side.pacc, b2, sizeof(b2),
			     LOOKUP_FLAGS | flags, a1, a2, a3, a4);
	if ((n1 == NULL) != (n2 == NULL) || (n1 && strcmp(n1, n2))) {
		fprintf(stderr, "lookup %#x %04x %04x %04x %04x: whole file "
			"\"%s\", cut \"%s\"\n", (unsigned int)flags, a1, a2,
			a3, a4, n1 ? n1 : "(none)", n2 ? n2 : "(none)");
		FUZZ_ASSERT(!"libpci names an id differently from the cut");
	}
}

/* Every lookup a scan worker with these vendors could make that the file
 * answers (and a few it does not), through both files. */
static void
check_names(const char *buf, const struct pciids_index *ix,
	    const struct pciids_vendors *want)
{
	const char *lim = buf + (ix->nblocks ? ix->blocks[ix->nblocks - 1].end : 0);

	for (size_t i = 0; i < ix->nblocks; i++) {
		const struct pciids_block *b = &ix->blocks[i];
		const char *p = buf + b->start, *bend = buf + b->end;
		int id = b->id, d = -1, sub = 0;

		if (b->kind == 'U' || (b->kind != 'C' &&
				       !pciids_vendors_has(want, b->id)))
			continue;
		if (b->kind == 'V') {
			same_name(PCI_LOOKUP_VENDOR, id, 0, 0, 0);
			same_name(PCI_LOOKUP_DEVICE, id, 0xffff, 0, 0);
		} else if (b->kind == 'C') {
			same_name(PCI_LOOKUP_CLASS, id << 8 | 0xff, 0, 0, 0);
		}
		for (p = line_next(line_end(p, lim), lim); p < bend;
		     p = line_next(line_end(p, lim), lim)) {
			const char *end = line_end(p, lim);
			int tabs = 0, x, y;

			if (line_skipped(p, end))
				continue;
			while (p + tabs < end && p[tabs] == '\t')
				tabs++;
			if (b->kind == 'V' && tabs == 1 &&
			    (x = hexn(p + 1, end, 4)) >= 0) {
				d = x;
				same_name(PCI_LOOKUP_DEVICE, id, d, 0, 0);
				same_name(PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
					  id, d, 0, 0);
				/* subsystem == device: named as the device */
				same_name(PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE |
					  PCI_LOOKUP_SUBSYSTEM, id, d, id, d);
			} else if (b->kind == 'V' && tabs == 2 && d >= 0 &&
				   (x = hexn(p + 2, end, 4)) >= 0 &&
				   (y = hexn(p + 7, end, 4)) >= 0 &&
				   pciids_vendors_has(want, (unsigned int)x)) {
				same_name(PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE |
					  PCI_LOOKUP_SUBSYSTEM, id, d, x, y);
				same_name(PCI_LOOKUP_SUBSYSTEM |
					  PCI_LOOKUP_VENDOR, x, 0, 0, 0);
			} else if (b->kind == 'S' && tabs == 1 &&
				   (x = hexn(p + 1, end, 4)) >= 0) {
				same_name(PCI_LOOKUP_SUBSYSTEM |
					  PCI_LOOKUP_DEVICE, 0, 0, id, x);
				same_name(PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE |
					  PCI_LOOKUP_SUBSYSTEM, id, x, id, x);
			} else if (b->kind == 'C' && tabs == 1 &&
				   (x = hexn(p + 1, end, 2)) >= 0) {
				sub = x;
				same_name(PCI_LOOKUP_CLASS, id << 8 | sub, 0, 0, 0);
			} else if (b->kind == 'C' && tabs == 2 &&
				   (x = hexn(p + 2, end, 2)) >= 0) {
				same_name(PCI_LOOKUP_PROGIF, id << 8 | sub, x, 0, 0);
			}
		}
	}
}

static uint64_t
fnv1a(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	return h;
}

/* Some of the file's vendors (by a hash of the input), and the subsystem
 * vendors named under their devices, as a scan worker adds them. */
static void
pick_vendors(const char *buf, const struct pciids_index *ix, uint64_t h,
	     struct pciids_vendors *want)
{
	const char *lim = buf + (ix->nblocks ? ix->blocks[ix->nblocks - 1].end : 0);
	unsigned int k = 0;

	memset(want, 0, sizeof(*want));
	for (size_t i = 0; i < ix->nblocks; i++) {
		const struct pciids_block *b = &ix->blocks[i];
		const char *p;

		if (b->kind != 'V' || !((h >> (k++ % 64)) & 1))
			continue;
		pciids_vendors_add(want, b->id);
		for (p = buf + b->start; p < buf + b->end;
		     p = line_next(line_end(p, lim), lim)) {
			int x;

			if (p[0] == '\t' && p[1] == '\t' &&
			    (x = hexn(p + 2, line_end(p, lim), 4)) >= 0)
				pciids_vendors_add(want, (unsigned int)x);
		}
	}
}

/* Files pciids.h says it leaves to libpci. */
static bool
must_refuse(const uint8_t *data, size_t size)
{
	size_t col = 0;

	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return true;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0' || data[i] == '\r')
			return true;
		col = data[i] == '\n' ? 0 : col + 1;
		if (col >= 1000)
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pciids_index ix = PCIIDS_INDEX_INIT, ix2 = PCIIDS_INDEX_INIT;
	struct pciids_vendors *want = calloc(1, sizeof(*want));
	struct pciids_vendors *none = calloc(1, sizeof(*none));
	struct strbuf text = STRBUF_INIT, cut = STRBUF_INIT;
	bool ok;

	FUZZ_ASSERT(want && none);
	strbuf_add(&text, data, size);	/* NULs and all, as read() gives */
	ok = pciids_index(text.buf, text.len, &ix);
	FUZZ_ASSERT(text.len == size && !memcmp(text.buf, data, size));
	FUZZ_ASSERT(text.buf[size] == '\0');
	FUZZ_ASSERT(pciids_index(text.buf, text.len, &ix2) == ok);
	FUZZ_ASSERT(ix2.nblocks == ix.nblocks);
	FUZZ_ASSERT(!ix.nblocks || !memcmp(ix.blocks, ix2.blocks,
					   ix.nblocks * sizeof(*ix.blocks)));
	if (!ok) {
		FUZZ_ASSERT(ix.nblocks == 0);
		goto out;
	}
	FUZZ_ASSERT(!must_refuse(data, size));
	check_blocks(text.buf, text.len, &ix);

	check_cut(text.buf, &ix, none, &cut);
	pick_vendors(text.buf, &ix, fnv1a(data, size), want);
	check_cut(text.buf, &ix, want, &cut);

	side_load(&full_side, "whole file", text.buf, text.len);
	side_load(&cut_side, "cut", cut.buf, cut.len);
	check_names(text.buf, &ix, want);
out:
	pciids_index_release(&ix);
	pciids_index_release(&ix2);
	strbuf_release(&text);
	strbuf_release(&cut);
	free(want);
	free(none);
	return 0;
}
