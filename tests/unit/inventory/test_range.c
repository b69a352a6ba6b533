/* Unit tests for inventory/range.c: Ansible host range expansion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inventory.h"

/* Expand p and return the names joined with ' ' (static buffer). */
static const char *
expand(const char *p)
{
	static struct strbuf joined = STRBUF_INIT;
	struct inv_names n = INV_NAMES_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	strbuf_reset(&joined);
	assert_int_equal(inv_range_expand(p, INV_MAX_HOSTS, &n, &err), 0);
	assert_string_equal(err.buf, "");
	for (i = 0; i < n.nr; i++)
		strbuf_addf(&joined, "%s%s", i ? " " : "", n.v[i]);
	inv_names_release(&n);
	strbuf_release(&err);
	return joined.buf;
}

/* Expect an error; return the message (static buffer). */
static const char *
expand_err(const char *p, int want)
{
	static struct strbuf err = STRBUF_INIT;
	struct inv_names n = INV_NAMES_INIT;

	strbuf_reset(&err);
	assert_int_equal(inv_range_expand(p, INV_MAX_HOSTS, &n, &err), want);
	assert_int_equal(n.nr, 0);
	inv_names_release(&n);
	return err.buf;
}

static void
test_range_plain(void **state)
{
	assert_string_equal(expand("gpu01.lab"), "gpu01.lab");
	assert_string_equal(expand("gpu[1:3]"), "gpu1 gpu2 gpu3");
	assert_string_equal(expand("[1:2]x"), "1x 2x");
	assert_string_equal(expand("h[5:5]"), "h5");
	/* An empty begin means 0, as in Ansible. */
	assert_string_equal(expand("h[:2]"), "h0 h1 h2");
}

static void
test_range_padding(void **state)
{
	assert_string_equal(expand("gpu[01:03]"), "gpu01 gpu02 gpu03");
	assert_string_equal(expand("gpu[08:11]"), "gpu08 gpu09 gpu10 gpu11");
	assert_string_equal(expand("n[000:002]"), "n000 n001 n002");
	/* Unpadded begin: no padding, widths may differ. */
	assert_string_equal(expand("n[9:10]"), "n9 n10");
	assert_string_equal(expand("n[0:1]"), "n0 n1");
	assert_string_equal(expand_err("gpu[01:100]", -EINVAL),
		"invalid host range \"gpu[01:100]\": zero-padded begin and end "
		"must have the same width");
	assert_string_equal(expand_err("gpu[001:10]", -EINVAL),
		"invalid host range \"gpu[001:10]\": zero-padded begin and end "
		"must have the same width");
}

static void
test_range_stride(void **state)
{
	assert_string_equal(expand("gpu[01:10:3]"), "gpu01 gpu04 gpu07 gpu10");
	assert_string_equal(expand("gpu[1:10:4]"), "gpu1 gpu5 gpu9");
	assert_string_equal(expand("gpu[1:2:100]"), "gpu1");
	assert_string_equal(expand("db-[a:g:3]"), "db-a db-d db-g");
	assert_string_equal(expand_err("gpu[1:10:0]", -EINVAL),
		"invalid host range \"gpu[1:10:0]\": step must be a positive "
		"number");
	assert_string_equal(expand_err("gpu[1:10:x]", -EINVAL),
		"invalid host range \"gpu[1:10:x]\": step must be a positive "
		"number");
}

static void
test_range_alpha(void **state)
{
	assert_string_equal(expand("db-[a:f]"), "db-a db-b db-c db-d db-e db-f");
	/* string.ascii_letters: lower case first, then upper case. */
	assert_string_equal(expand("x[y:B]"), "xy xz xA xB");
	assert_string_equal(expand_err("db[f:a]", -EINVAL),
		"invalid host range \"db[f:a]\": end before start");
	assert_string_equal(expand_err("db[a:9]", -EINVAL),
		"invalid host range \"db[a:9]\": begin and end must both be "
		"numbers or both be single letters");
	assert_string_equal(expand_err("db[aa:ab]", -EINVAL),
		"invalid host range \"db[aa:ab]\": begin and end must both be "
		"numbers or both be single letters");
}

static void
test_range_multiple(void **state)
{
	/* The first range varies slowest. */
	assert_string_equal(expand("r[1:2]-n[a:b]"), "r1-na r1-nb r2-na r2-nb");
	assert_string_equal(expand("r[1:2]n[01:02].lab"),
			    "r1n01.lab r1n02.lab r2n01.lab r2n02.lab");
	assert_string_equal(expand("[a:b][0:1][x:y]"),
			    "a0x a0y a1x a1y b0x b0y b1x b1y");
}

static void
test_range_malformed(void **state)
{
	assert_string_equal(expand_err("gpu[1:0]", -EINVAL),
		"invalid host range \"gpu[1:0]\": end before start");
	assert_string_equal(expand_err("gpu[1:4", -EINVAL),
		"invalid host range \"gpu[1:4\": unbalanced brackets");
	assert_string_equal(expand_err("gpu]1:4[", -EINVAL),
		"invalid host range \"gpu]1:4[\": unbalanced brackets");
	assert_string_equal(expand_err("gpu1]", -EINVAL),
		"invalid host range \"gpu1]\": unbalanced brackets");
	assert_string_equal(expand_err("gpu[5]", -EINVAL),
		"invalid host range \"gpu[5]\": expected [begin:end] or "
		"[begin:end:step]");
	assert_string_equal(expand_err("gpu[1:2:3:4]", -EINVAL),
		"invalid host range \"gpu[1:2:3:4]\": expected [begin:end] or "
		"[begin:end:step]");
	assert_string_equal(expand_err("gpu[1:]", -EINVAL),
		"invalid host range \"gpu[1:]\": end value missing");
	assert_string_equal(expand_err("gpu[-1:3]", -EINVAL),
		"invalid host range \"gpu[-1:3]\": begin and end must both be "
		"numbers or both be single letters");
	assert_string_equal(expand_err("h[0:99999999999999999999999]", -EINVAL),
		"invalid host range \"h[0:99999999999999999999999]\": number "
		"too large");
	/* A bad second range fails the whole name. */
	assert_string_equal(expand_err("ok[1:2]-bad[3:1]", -EINVAL),
		"invalid host range \"ok[1:2]-bad[3:1]\": end before start");
}

static void
test_range_cap(void **state)
{
	struct inv_names n = INV_NAMES_INIT;
	struct strbuf err = STRBUF_INIT;

	/* Refused before any allocation: this would be 10^8 names. */
	assert_string_equal(expand_err("h[0:99999999]", -E2BIG),
		"invalid host range \"h[0:99999999]\": expands to 100000000 "
		"hosts, more than the limit of 100000");
	/* The product of several ranges counts, and overflow is caught. */
	assert_string_equal(expand_err("a[0:999]b[0:999]", -E2BIG),
		"invalid host range \"a[0:999]b[0:999]\": expands to 1000000 "
		"hosts, more than the limit of 100000");
	assert_string_equal(expand_err("a[0:9999999999]b[0:9999999999]"
				       "c[0:9999999999]", -E2BIG),
		"invalid host range \"a[0:9999999999]b[0:9999999999]"
		"c[0:9999999999]\": expands to too many hosts, more than the "
		"limit of 100000");
	/* Exactly at the limit is fine. */
	assert_int_equal(inv_range_expand("h[000000:099999]", INV_MAX_HOSTS,
					  &n, &err), 0);
	assert_int_equal(n.nr, 100000);
	assert_string_equal(n.v[0], "h000000");
	assert_string_equal(n.v[99999], "h099999");
	inv_names_release(&n);
	/* A caller's smaller cap. */
	assert_int_equal(inv_range_expand("h[1:3]", 2, &n, &err), -E2BIG);
	assert_int_equal(n.nr, 0);
	inv_names_release(&n);
	strbuf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_plain),
		cmocka_unit_test(test_range_padding),
		cmocka_unit_test(test_range_stride),
		cmocka_unit_test(test_range_alpha),
		cmocka_unit_test(test_range_multiple),
		cmocka_unit_test(test_range_malformed),
		cmocka_unit_test(test_range_cap),
	};

	return cmocka_run_group_tests_name("inventory/range", tests, NULL,
					   NULL);
}
