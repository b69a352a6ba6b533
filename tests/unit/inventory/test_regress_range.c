/* test_regress_range: inputs fuzz/fuzz_inv_range found that broke host
 * range expansion. The reproducers stay in fuzz/corpus/fuzz_inv_range/. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "inventory.h"
#include "strbuf.h"

/* A range of 2^64 values: its count wrapped to 0 and the overflow check
 * divided by it (SIGFPE). Now it is simply too many hosts. */
static void
test_full_u64_range(void **state)
{
	static const char *const pats[] = {
		"009h0[:00000018446744073709551615]",
		"h[0:18446744073709551615]",
		"h[0:18446744073709551615]-[a:b]",
		"h[1:2]-[0:18446744073709551615]",
	};
	struct inv_names out = INV_NAMES_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(pats) / sizeof(*pats); i++) {
		strbuf_reset(&err);
		assert_int_equal(inv_range_expand(pats[i], INV_MAX_HOSTS, &out, &err),
				 -E2BIG);
		assert_int_equal(out.nr, 0);
		assert_true(err.len > 0);
	}
	/* The largest step still works: two hosts. */
	assert_int_equal(inv_range_expand("h[0:18446744073709551615:"
					  "18446744073709551615]",
					  INV_MAX_HOSTS, &out, &err), 0);
	assert_int_equal(out.nr, 2);
	assert_string_equal(out.v[1], "h18446744073709551615");
	inv_names_release(&out);
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_u64_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
