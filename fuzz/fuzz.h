/* fuzz.h: helpers shared by the libFuzzer targets in fuzz/fuzz_*.c.
 *
 * Each target defines LLVMFuzzerTestOneInput() and checks the promises of
 * the code it drives (round trips, idempotent edits, bounded output):
 * FUZZ_ASSERT() aborts, so libFuzzer records the input as a crash.
 */
#ifndef VF_FUZZ_H
#define VF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: broken promise: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The input as a NUL-terminated string in sb (reset first). Text parsers
 * take C strings: the input is cut at its first NUL, as the agent's file
 * readers would hand it over. */
static inline void
fuzz_cstr(struct strbuf *sb, const uint8_t *data, size_t size)
{
	strbuf_setlen(sb, 0);
	strbuf_add(sb, data, size);
	strbuf_setlen(sb, strlen(sb->buf));
}

/* Split the input at the first occurrence of byte sep: head is data up to
 * it, the rest after it (both NUL-terminated, reset first). Returns 1 when
 * sep was found. Lets one input carry two parameters. */
static inline int
fuzz_split(const uint8_t *data, size_t size, int sep, struct strbuf *head,
	   struct strbuf *rest)
{
	const uint8_t *p = memchr(data, sep, size);

	strbuf_setlen(head, 0);
	strbuf_setlen(rest, 0);
	if (!p) {
		strbuf_add(head, data, size);
		return 0;
	}
	strbuf_add(head, data, (size_t)(p - data));
	strbuf_add(rest, p + 1, size - (size_t)(p - data) - 1);
	return 1;
}

#endif
