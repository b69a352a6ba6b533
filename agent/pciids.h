/* pciids: the part of a pci.ids file that a scan's name lookups reach.
 *
 * libpci loads the whole pci.ids before its first lookup: 36,000 lines
 * (1.3 MB) parsed into a hash, ~8 ms per scan worker, to name the few
 * vendors a host has. A scan worker instead checks the file here, the way
 * libpci's parser (pciutils lib/names-parse.c, id_parse_list) would, and
 * hands libpci only the blocks its lookups can reach: the vendors it names,
 * their generic subsystem ("S") blocks, and the classes. libpci still
 * parses and looks up every name, so the names are the ones it would give
 * from the whole file.
 *
 * That holds only for a file libpci loads without an error. Whenever
 * pciids_index() is not sure of that (a line libpci would refuse, a
 * duplicate entry, a line near libpci's length limit, a compressed file,
 * a NUL byte), it says so, and the caller hands libpci the whole file as
 * before, so a broken pci.ids is reported exactly as libpci reports it.
 */
#ifndef VF_AGENT_PCIIDS_H
#define VF_AGENT_PCIIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* One top-level block: its first line up to the next top-level line. */
struct pciids_block {
	size_t start, end;	/* byte offsets into the file */
	uint16_t id;		/* vendor, class or subsystem vendor id */
	char kind;		/* 'V' vendor, 'C' class, 'S' subsystems, 'U' other */
};

struct pciids_index {
	struct pciids_block *blocks;
	size_t nblocks, alloc;
};

#define PCIIDS_INDEX_INIT { NULL, 0, 0 }

/* A set of vendor ids (bit v of the 65536). */
struct pciids_vendors {
	uint8_t bits[65536 / 8];
};

static inline void
pciids_vendors_add(struct pciids_vendors *set, unsigned int vendor)
{
	set->bits[(vendor & 0xffff) >> 3] |= (uint8_t)(1u << (vendor & 7));
}

static inline bool
pciids_vendors_has(const struct pciids_vendors *set, unsigned int vendor)
{
	return set->bits[(vendor & 0xffff) >> 3] & (1u << (vendor & 7));
}

/*
 * Check the pci.ids text buf[0..len) as libpci would parse it and list its
 * top-level blocks in ix (reset first). Returns true when libpci loads
 * the file without an error; false when it might not (ix is then empty).
 * False is safe to get wrong; true must never be.
 *
 * buf[len] must be '\0' (as in a strbuf). The text is lent, not given:
 * each line is NUL-terminated in place while it is checked (no copy of
 * 36,000 lines) and is as it was on return.
 */
bool pciids_index(char *buf, size_t len, struct pciids_index *ix);

/*
 * Append to out the blocks of buf (as indexed in ix) that lookups of the
 * vendors in want reach: those vendors' blocks, their "S" blocks and every
 * class block, in file order, each ending in a newline.
 */
void pciids_filter(const char *buf, const struct pciids_index *ix,
		   const struct pciids_vendors *want, struct strbuf *out);

void pciids_index_release(struct pciids_index *ix);

#endif
