/* Batches and failure rules against Ansible's documented behaviour. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"

static void
expect_batches(const char *serial, size_t total, const size_t *want, size_t n)
{
	struct batch_plan p;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(batch_plan_make(serial, total, &p, &err), 0);
	assert_int_equal(p.n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p.size[i], want[i]);
	batch_plan_release(&p);
	strbuf_release(&err);
}

static void
test_serial_shapes(void **state)
{
	expect_batches(NULL, 10, (size_t[]){ 10 }, 1);
	expect_batches("0", 10, (size_t[]){ 10 }, 1);
	expect_batches("3", 10, (size_t[]){ 3, 3, 3, 1 }, 4);
	/* 25% of 10 = 2.5 -> 2, of the TOTAL every time */
	expect_batches("25%", 10, (size_t[]){ 2, 2, 2, 2, 2 }, 5);
	/* list: in order, last repeats */
	expect_batches("1,25%,100%", 10, (size_t[]){ 1, 2, 7 }, 3);
	expect_batches("1, 5, 20%", 23, (size_t[]){ 1, 5, 4, 4, 4, 4, 1 }, 7);
	/* a percentage is at least 1 host */
	expect_batches("1%", 3, (size_t[]){ 1, 1, 1 }, 3);
	expect_batches("100%", 0, NULL, 0);
}

static void
test_serial_errors(void **state)
{
	const char *bad[] = { "x", "10%%", "-1", "101%", "1,,2", "5 %", "" };
	struct batch_plan p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		int r = batch_plan_make(bad[i], 10, &p, &err);

		if (!*bad[i]) {		/* empty means one batch */
			assert_int_equal(r, 0);
			batch_plan_release(&p);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_non_null(strstr(err.buf, "--serial"));
		}
		strbuf_release(&err);
	}
}

static void
test_max_fail(void **state)
{
	/* strict comparison: 2 of 4 with 50% does not stop, 49% does */
	assert_false(batch_should_stop(4, 2, 0, 50, false));
	assert_true(batch_should_stop(4, 2, 0, 49, false));
	/* 0% stops on the first failure */
	assert_true(batch_should_stop(10, 1, 0, 0, false));
	assert_false(batch_should_stop(10, 0, 0, 0, false));
	/* unreachable hosts do not count towards the ratio ... */
	assert_false(batch_should_stop(10, 1, 3, 10, false));
	/* ... but a batch that is all failed/unreachable always stops (#82267) */
	assert_true(batch_should_stop(4, 1, 3, 101, false));
	assert_true(batch_should_stop(1, 1, 0, -1, false));
	/* unset: only the all-failed rule applies */
	assert_false(batch_should_stop(10, 9, 0, -1, false));
	assert_true(batch_should_stop(10, 1, 0, -1, true));
}

static void
test_parse_max_fail(void **state)
{
	struct strbuf err = STRBUF_INIT;
	int v;

	assert_int_equal(batch_parse_max_fail("10", &v, &err), 0);
	assert_int_equal(v, 10);
	assert_int_equal(batch_parse_max_fail("250", &v, &err), 0);
	assert_int_equal(v, 101);
	assert_int_equal(batch_parse_max_fail("ten", &v, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "--max-fail-percentage"));
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_shapes),
		cmocka_unit_test(test_serial_errors),
		cmocka_unit_test(test_max_fail),
		cmocka_unit_test(test_parse_max_fail),
	};

	return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
