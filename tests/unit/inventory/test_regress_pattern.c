/* test_regress_pattern: inputs fuzz/fuzz_inv_select found that broke host
 * patterns (--limit). The reproducers stay in fuzz/corpus/fuzz_inv_select/. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

#include "inventory.h"
#include "strbuf.h"

static const char inv_text[] =
	"[rack_a]\ngpu[01:16]\n[rack_b]\ngpu[17:32]\nnode-a\n";

static int
setup(void **state)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(inv_load_ini(inv, "t.ini", inv_text,
				      sizeof(inv_text) - 1, &err), 0);
	inv_finalize(inv);
	strbuf_release(&err);
	*state = inv;
	return 0;
}

static int
teardown(void **state)
{
	inv_free(*state);
	return 0;
}

static int
sel(const struct inv *inv, const char *pat, size_t *n, struct strbuf *err)
{
	struct inv_hostlist out = INV_HOSTLIST_INIT;
	int r;

	strbuf_reset(err);
	r = inv_select(inv, pat, &out, err);
	*n = out.nr;
	inv_hostlist_release(&out);
	return r;
}

/*
 * "~...+++…+" made glibc's regcomp() double its tree at every '+' and
 * use more than 2 GiB (oom in the fuzzer); "~..*++++++++++" and nested
 * "((a*)+)+…" took seconds to compile (timeouts). Now refused before
 * regcomp(), quickly, and under an address-space limit that would fail
 * the old code's malloc.
 */
static void
test_regex_blowup_refused(void **state)
{
	static const char *const bad[] = {
		"~...+++++++++++++++++++++++++++++++++++++++++++++++++++++++++..",
		"~((((((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+",
		"~(a{200}){200}",
		"~x{100000}",
		"~..*++++++++++\337\324\324++++++g0",
		"~((((((((a*)+)+)+)+)+)+)+)+",
		"~(.*){1000}",
	};
	struct strbuf err = STRBUF_INIT;
	struct rlimit old, lim;
	clock_t t0 = clock();
	size_t n;

	assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	/* Sanitizer builds reserve terabytes of shadow: only limit plain ones. */
#ifndef __SANITIZE_ADDRESS__
	lim.rlim_cur = 512ul << 20;
#endif
	assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(sel(*state, bad[i], &n, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "too complex"));
	}
	assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
	/* All of them at once, well under a second. */
	assert_true(clock() - t0 < CLOCKS_PER_SEC);
	strbuf_release(&err);
}

/* Ordinary regexes are well within the budget and still match. */
static void
test_regex_ordinary(void **state)
{
	struct strbuf err = STRBUF_INIT;
	size_t n;

	assert_int_equal(sel(*state, "~gpu[0-9]+", &n, &err), 0);
	assert_int_equal(n, 32);
	assert_int_equal(sel(*state, "~gpu(0[1-9]|1[0-6])$", &n, &err), 0);
	assert_int_equal(n, 16);
	assert_int_equal(sel(*state, "~(gpu|node)-?[a-z0-9]{2}$", &n, &err), 0);
	assert_int_equal(n, 32);
	assert_int_equal(sel(*state, "~(gpu|node)-?[a-z0-9]{1}$", &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sel(*state, "~[a-z]+-[a]$", &n, &err), 0);
	assert_int_equal(n, 1);
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regex_blowup_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_regex_ordinary, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
