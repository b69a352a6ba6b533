/* fuzz_inv_range: host-range expansion (inv_range_expand).
 *
 * Promises checked: no crash, leak or overflow; the count limit is
 * enforced before anything is allocated (-E2BIG leaves out unchanged, and
 * never more than max names); malformed ranges are -EINVAL with a
 * message; a name without '[' expands to itself.
 */
#include <errno.h>

#include "fuzz.h"
#include "inventory.h"

#define FUZZ_RANGE_MAX 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf pat = STRBUF_INIT, err = STRBUF_INIT;
	struct inv_names out = INV_NAMES_INIT;
	int r;

	fuzz_cstr(&pat, data, size);
	r = inv_range_expand(pat.buf, FUZZ_RANGE_MAX, &out, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -E2BIG);
		FUZZ_ASSERT(err.len > 0);
		FUZZ_ASSERT(out.nr == 0);
		goto out;
	}
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(out.nr >= 1 && out.nr <= FUZZ_RANGE_MAX);
	if (!strchr(pat.buf, '[')) {
		FUZZ_ASSERT(out.nr == 1 && strcmp(out.v[0], pat.buf) == 0);
		goto out;
	}
	for (size_t i = 0; i < out.nr; i++)
		FUZZ_ASSERT(out.v[i] != NULL);
out:
	inv_names_release(&out);
	strbuf_release(&pat);
	strbuf_release(&err);
	return 0;
}
