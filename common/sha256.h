/* sha256: FIPS 180-4 SHA-256, libc only (the static agent has no OpenSSL).
 * Used to name and check the pushed agent and to record file edits. */
#ifndef VF_SHA256_H
#define VF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char blk[64];
	size_t nblk;
};

#define SHA256_HEX_LEN 64

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[32]);
/* Hex digest of data into out (reset first). */
void sha256_hex(const void *data, size_t len, struct strbuf *out);
/* Hex digest of the file at path into out. Returns 0 or -errno. */
int sha256_file_hex(const char *path, struct strbuf *out);

#endif
