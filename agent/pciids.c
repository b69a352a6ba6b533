/* pciids.c: check pci.ids as libpci parses it, and cut out what a scan's
 * lookups need (see pciids.h).
 *
 * pciids_check_line() follows pciutils 3.9 lib/names-parse.c id_parse_list()
 * line for line; where it says "bad" libpci returns an error for the same
 * line. libpci's "Duplicate entry" comes from its hash; here each kind of
 * entry is checked in a structure that sees the same duplicates (or, in
 * two rare shapes real files never have, gives up).
 */
#include "pciids.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* libpci reads a line with fgets() into 1024 bytes (MAX_LINE) and refuses
 * a longer one; anything near that is left to libpci to judge. */
#define PCIIDS_LINE_MAX 1000

/* libpci's entry categories (lib/names.h), and none yet. */
enum pciids_cat {
	PCIIDS_NONE = -1,
	PCIIDS_UNKNOWN, PCIIDS_VENDOR, PCIIDS_DEVICE, PCIIDS_SUBSYSTEM,
	PCIIDS_GEN_SUBSYSTEM, PCIIDS_CLASS, PCIIDS_SUBCLASS, PCIIDS_PROGIF,
};

/* What libpci's parser state and hash would know at this line. */
struct pciids_check {
	int cat;
	int id1, id2;
	uint8_t vendors[65536 / 8];	/* vendor entries */
	uint8_t gen_blocks[65536 / 8];	/* vendors with an "S" block */
	uint8_t classes[256 / 8];
	uint8_t subclasses[65536 / 8];	/* class << 8 | subclass */
	uint8_t progifs[256 / 8];	/* of the current subclass */
	/* Device ids are unique per vendor block: devgen[d] is the number
	 * of the vendor block that last named d. */
	uint16_t devgen[65536];
	uint16_t vblock;
	/* Entries of the current device (subsystem vendor << 16 | device)
	 * or "S" block (device), checked when the run ends. */
	uint32_t *run;
	size_t nrun, runalloc;
	bool run_sorted;	/* strictly increasing so far: no duplicate */
};

static bool
pciids_bit_set(uint8_t *bits, unsigned int i)
{
	bool was = bits[i >> 3] & (1u << (i & 7));

	bits[i >> 3] |= (uint8_t)(1u << (i & 7));
	return was;
}

/* libpci's id_hex(): cnt hex digits, -1 on anything else. */
static int
pciids_hex(const char *p, int cnt)
{
	int x = 0;

	while (cnt--) {
		x <<= 4;
		if (*p >= '0' && *p <= '9')
			x += *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			x += *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			x += *p - 'A' + 10;
		else
			return -1;
		p++;
	}
	return x;
}

static bool
pciids_white(int c)
{
	return c == ' ' || c == '\t';
}

static int
pciids_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The run of entries ends: false if two were the same. */
static bool
pciids_run_end(struct pciids_check *c)
{
	size_t n = c->nrun;

	c->nrun = 0;
	if (n < 2 || c->run_sorted)
		return true;
	qsort(c->run, n, sizeof(*c->run), pciids_u32_cmp);
	for (size_t i = 1; i < n; i++)
		if (c->run[i] == c->run[i - 1])
			return false;
	return true;
}

static void
pciids_run_add(struct pciids_check *c, uint32_t key)
{
	XGROW(c->run, c->runalloc, c->nrun + 1);
	if (!c->nrun)
		c->run_sorted = true;
	else if (c->run[c->nrun - 1] >= key)
		c->run_sorted = false;
	c->run[c->nrun++] = key;
}

/* A top-level line at p (no leading tab). Returns false where libpci
 * would fail; *kind and *id describe the block it opens. */
static bool
pciids_top(struct pciids_check *c, char *p, char *kind, int *id,
	   char **text)
{
	int id1;

	if (!pciids_run_end(c))
		return false;
	*text = NULL;
	if (p[0] == 'C' && p[1] == ' ') {
		if ((id1 = pciids_hex(p + 2, 2)) < 0 || !pciids_white(p[4]))
			return false;
		if (pciids_bit_set(c->classes, (unsigned int)id1))
			return false;
		c->cat = PCIIDS_CLASS;
		*kind = 'C';
		*text = p + 5;
	} else if (p[0] == 'S' && p[1] == ' ') {
		if ((id1 = pciids_hex(p + 2, 4)) < 0 || p[6])
			return false;
		if (!(c->vendors[id1 >> 3] & (1u << (id1 & 7))))
			return false;	/* "Vendor does not exist" */
		/* Two "S" blocks of one vendor could repeat an entry across
		 * them; real files have none, so leave that to libpci. */
		if (pciids_bit_set(c->gen_blocks, (unsigned int)id1))
			return false;
		c->cat = PCIIDS_GEN_SUBSYSTEM;
		c->id1 = id1;
		*kind = 'S';
		*id = id1;
		return true;	/* libpci keeps id2 as it was: unused */
	} else if (p[0] >= 'A' && p[0] <= 'Z' && p[1] == ' ') {
		c->cat = PCIIDS_UNKNOWN;
		*kind = 'U';
		*id = 0;
		return true;
	} else {
		if ((id1 = pciids_hex(p, 4)) < 0 || !pciids_white(p[4]))
			return false;
		if (pciids_bit_set(c->vendors, (unsigned int)id1))
			return false;
		if (c->vblock == UINT16_MAX)
			return false;
		c->vblock++;
		c->cat = PCIIDS_VENDOR;
		*kind = 'V';
		*text = p + 5;
	}
	c->id1 = id1;
	c->id2 = 0;
	*id = id1;
	return true;
}

/* A line nested one tab deep (p past the tab). */
static bool
pciids_nest1(struct pciids_check *c, char *p, char **text)
{
	int id2;

	/* A new device ends the run of the one before; an "S" block's
	 * entries are one run up to the next top-level line. */
	if (c->cat != PCIIDS_GEN_SUBSYSTEM && !pciids_run_end(c))
		return false;
	switch (c->cat) {
	case PCIIDS_VENDOR:
	case PCIIDS_DEVICE:
	case PCIIDS_SUBSYSTEM:
		if ((id2 = pciids_hex(p, 4)) < 0 || !pciids_white(p[4]))
			return false;
		if (c->devgen[id2] == c->vblock)
			return false;
		c->devgen[id2] = c->vblock;
		c->cat = PCIIDS_DEVICE;
		*text = p + 5;
		break;
	case PCIIDS_GEN_SUBSYSTEM:
		if ((id2 = pciids_hex(p, 4)) < 0 || !pciids_white(p[4]))
			return false;
		pciids_run_add(c, (uint32_t)id2);
		*text = p + 5;
		break;
	case PCIIDS_CLASS:
	case PCIIDS_SUBCLASS:
	case PCIIDS_PROGIF:
		if ((id2 = pciids_hex(p, 2)) < 0 || !pciids_white(p[2]))
			return false;
		if (pciids_bit_set(c->subclasses, (unsigned int)(c->id1 << 8 | id2)))
			return false;
		memset(c->progifs, 0, sizeof(c->progifs));
		c->cat = PCIIDS_SUBCLASS;
		*text = p + 3;
		break;
	default:
		return false;
	}
	c->id2 = id2;
	return true;
}

/* A line nested two tabs deep (p past the tabs). */
static bool
pciids_nest2(struct pciids_check *c, char *p, char **text)
{
	int id3, id4;

	switch (c->cat) {
	case PCIIDS_DEVICE:
	case PCIIDS_SUBSYSTEM:
		if ((id3 = pciids_hex(p, 4)) < 0 || !pciids_white(p[4]) ||
		    (id4 = pciids_hex(p + 5, 4)) < 0 || !pciids_white(p[9]))
			return false;
		pciids_run_add(c, (uint32_t)id3 << 16 | (uint32_t)id4);
		c->cat = PCIIDS_SUBSYSTEM;
		*text = p + 10;
		return true;
	case PCIIDS_CLASS:
		/* A prog-if straight under its class is filed under
		 * subclass 00, which a later "00" line may repeat. */
		return false;
	case PCIIDS_SUBCLASS:
	case PCIIDS_PROGIF:
		if ((id3 = pciids_hex(p, 2)) < 0 || !pciids_white(p[2]))
			return false;
		if (pciids_bit_set(c->progifs, (unsigned int)id3))
			return false;
		c->cat = PCIIDS_PROGIF;
		*text = p + 3;
		return true;
	default:
		return false;
	}
}

/*
 * One line as libpci sees it after cutting the newline and one trailing
 * blank (NUL-terminated). Returns false where libpci would fail. A line
 * that opens a block sets *kind ('\0' otherwise) and *id.
 */
static bool
pciids_check_line(struct pciids_check *c, char *line, char *kind, int *id)
{
	char *p, *text = NULL;
	int nest;

	*kind = '\0';
	for (p = line; pciids_white(*p); p++)
		;
	if (!*p || *p == '#')
		return true;
	for (p = line; *p == '\t'; p++)
		;
	nest = (int)(p - line);
	if (nest == 0) {
		if (!pciids_top(c, p, kind, id, &text))
			return false;
		if (!text)
			return true;
	} else if (c->cat == PCIIDS_UNKNOWN) {
		return true;
	} else if (nest == 1) {
		if (!pciids_nest1(c, p, &text))
			return false;
	} else if (nest == 2) {
		if (!pciids_nest2(c, p, &text))
			return false;
	} else {
		return false;
	}
	while (pciids_white(*text))
		text++;
	return *text != '\0';
}

static void
pciids_block_add(struct pciids_index *ix, char kind, int id, size_t start)
{
	struct pciids_block *b;

	if (ix->nblocks)
		ix->blocks[ix->nblocks - 1].end = start;
	XGROW(ix->blocks, ix->alloc, ix->nblocks + 1);
	b = &ix->blocks[ix->nblocks++];
	b->start = b->end = start;
	b->kind = kind;
	b->id = (uint16_t)id;
}

/* Does the 8-byte word x hold a zero byte? */
static bool
pciids_has_zero(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull;

	return ((x - ones) & ~x & ones * 0x80) != 0;
}

/* ... a '\n', '\r' or NUL byte? */
static bool
pciids_has_stop(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull;

	return pciids_has_zero(x) || pciids_has_zero(x ^ ones * '\n') ||
	       pciids_has_zero(x ^ ones * '\r');
}

/*
 * The end of the line at p (its '\n', stored in *nl, or lim). NUL bytes
 * (where fgets() stops) and CRs (where libpci cuts a line) clear *ok: no
 * pci.ids has them, so such a file is left to libpci. One pass over the
 * bytes, eight at a time.
 */
static char *
pciids_line_end(char *p, char *lim, char **nl, bool *ok)
{
	*nl = NULL;
	for (;;) {
		char *stop;
		uint64_t x;

		for (; lim - p >= 8; p += 8) {
			memcpy(&x, p, sizeof(x));
			if (pciids_has_stop(x))
				break;
		}
		stop = lim - p > 8 ? p + 8 : lim;
		for (; p < stop; p++) {
			if (*p == '\n') {
				*nl = p;
				return p;
			}
			if (*p == '\0' || *p == '\r') {
				*ok = false;
				return p;
			}
		}
		if (p == lim)
			return p;
	}
}

bool
pciids_index(char *buf, size_t len, struct pciids_index *ix)
{
	struct pciids_check *c = xcalloc(1, sizeof(*c));
	size_t off = 0;
	bool ok = true;

	ix->nblocks = 0;
	c->cat = PCIIDS_NONE;
	/* gzip: libpci built with zlib reads it, without it fails. */
	if (len >= 2 && (unsigned char)buf[0] == 0x1f &&
	    (unsigned char)buf[1] == 0x8b)
		ok = false;
	while (ok && off < len) {
		char *line = buf + off, *trim = NULL, saved = 0, *nl, *end;
		char kind;
		int id = 0;

		end = pciids_line_end(line, buf + len, &nl, &ok);
		if (!ok || (size_t)(end - line) >= PCIIDS_LINE_MAX) {
			ok = false;
			break;
		}
		/* The line as libpci holds it, in place: no newline and one
		 * trailing blank less. Both are put back below. */
		*end = '\0';
		if (end > line && pciids_white(end[-1])) {
			trim = end - 1;
			saved = *trim;
			*trim = '\0';
		}
		ok = pciids_check_line(c, line, &kind, &id);
		if (trim)
			*trim = saved;
		if (nl)
			*nl = '\n';
		if (ok && kind)
			pciids_block_add(ix, kind, id, off);
		off = (size_t)(end - buf) + (nl ? 1 : 0);
	}
	if (ok)
		ok = pciids_run_end(c);
	if (ok && ix->nblocks)
		ix->blocks[ix->nblocks - 1].end = len;
	if (!ok)
		ix->nblocks = 0;
	free(c->run);
	free(c);
	return ok;
}

static bool
pciids_wanted(const struct pciids_block *b, const struct pciids_vendors *want)
{
	switch (b->kind) {
	case 'C':
		return true;
	case 'V':
	case 'S':
		return pciids_vendors_has(want, b->id);
	default:
		return false;
	}
}

void
pciids_filter(const char *buf, const struct pciids_index *ix,
	      const struct pciids_vendors *want, struct strbuf *out)
{
	size_t before = out->len;

	for (size_t i = 0; i < ix->nblocks; i++) {
		const struct pciids_block *b = &ix->blocks[i];

		if (!pciids_wanted(b, want))
			continue;
		strbuf_add(out, buf + b->start, b->end - b->start);
		if (out->buf[out->len - 1] != '\n')
			strbuf_addch(out, '\n');
	}
	/* With no entry at all libpci would load the file again at every
	 * lookup; the first block keeps its table non-empty, as the whole
	 * file's would be. */
	if (out->len == before) {
		for (size_t i = 0; i < ix->nblocks; i++) {
			const struct pciids_block *b = &ix->blocks[i];

			if (b->kind == 'U')
				continue;
			strbuf_add(out, buf + b->start, b->end - b->start);
			if (out->buf[out->len - 1] != '\n')
				strbuf_addch(out, '\n');
			break;
		}
	}
}

void
pciids_index_release(struct pciids_index *ix)
{
	free(ix->blocks);
	ix->blocks = NULL;
	ix->nblocks = ix->alloc = 0;
}
