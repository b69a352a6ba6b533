/* Unit tests for inventory/pattern.c: --limit host patterns.
 *
 * Also writes the result of every pattern in
 * tests/fixtures/inventory/patterns.list to
 * $VFLEET_TESTS/inventory-out/patterns.out ("pattern<TAB>host host ..."),
 * which tests/integration/test_inventory_ansible.sh compares with
 * `ansible PATTERN --list-hosts`. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "inventory.h"
#include "xalloc.h"

static const char *
fixture(const char *name)
{
	static struct strbuf sb = STRBUF_INIT;
	const char *top = getenv("VFLEET_TOP");

	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/tests/fixtures/inventory/%s", top ? top : ".",
		    name);
	return sb.buf;
}

static int
setup_lab(void **state)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT;
	char *a = xstrdup(fixture("lab.ini")), *b = xstrdup(fixture("extra.ini"));
	const char *src[] = { a, b };

	if (inv_load(inv, src, 2, &err) != 0)
		fail_msg("%s", err.buf);
	free(a);
	free(b);
	strbuf_release(&err);
	*state = inv;
	return 0;
}

static int
teardown_lab(void **state)
{
	inv_free(*state);
	return 0;
}

/* Select and join the names with ' ' (static); asserts success. */
static const char *
sel(const struct inv *inv, const char *pattern)
{
	static struct strbuf sb = STRBUF_INIT;
	struct inv_hostlist l = INV_HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (inv_select(inv, pattern, &l, &err) != 0)
		fail_msg("%s: %s", pattern, err.buf);
	strbuf_reset(&sb);
	for (i = 0; i < l.nr; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", l.v[i]->name);
	inv_hostlist_release(&l);
	strbuf_release(&err);
	return sb.buf;
}

static const char *
sel_err(const struct inv *inv, const char *pattern, int want)
{
	static struct strbuf err = STRBUF_INIT;
	struct inv_hostlist l = INV_HOSTLIST_INIT;

	strbuf_reset(&err);
	assert_int_equal(inv_select(inv, pattern, &l, &err), want);
	assert_int_equal(l.nr, 0);
	inv_hostlist_release(&l);
	return err.buf;
}

static void
test_pattern_names(void **state)
{
	const struct inv *inv = *state;

	assert_string_equal(sel(inv, "gpu05"), "gpu05");
	assert_string_equal(sel(inv, "canary"), "gpu01 gpu17");
	/* A group includes its children's hosts. */
	assert_string_equal(sel(inv, "lab:!gpu"),
			    "nas0 nas1 nas2 nas3 nas-old");
	assert_string_equal(sel(inv, "ungrouped"),
			    "bastion.lab.example jumpbox");
	assert_int_equal(strlen(sel(inv, "all")), strlen(sel(inv, "*")));
	/* No pattern at all is `all`, as in Ansible. */
	assert_string_equal(sel(inv, ""), sel(inv, "all"));
}

static void
test_pattern_globs_regex(void **state)
{
	const struct inv *inv = *state;

	assert_string_equal(sel(inv, "gpu-big-?"),
			    "gpu-big-a gpu-big-b gpu-big-c gpu-big-d");
	assert_string_equal(sel(inv, "node-*-x"), "node-1-x node-2-x");
	assert_string_equal(sel(inv, "*.lab.example"), "bastion.lab.example");
	/* gpu* matches the group gpu and the hosts gpu*: the union. */
	assert_string_equal(sel(inv, "gpu*:!rack_b:!gpu0*:!gpu1*"),
			    "gpu-big-a gpu-big-b gpu-big-c gpu-big-d");
	assert_string_equal(sel(inv, "~gpu-big-[ab]"),
			    "gpu-big-a gpu-big-b");
	/* Anchored at the start like Python's re.match, not at the end. */
	assert_string_equal(sel(inv, "~nas[0-9]"), "nas0 nas1 nas2 nas3");
	assert_string_equal(sel_err(inv, "~as", -ENOENT),
			    "Could not match supplied host pattern: ~as");
	assert_string_equal(sel(inv, "~(rack_a|storage)$:!~gpu"),
			    "nas0 nas1 nas2 nas3 nas-old");
	assert_string_equal(sel_err(inv, "~gpu(", -EINVAL),
			    "Invalid host list pattern: ~gpu(");
}

static void
test_pattern_operators(void **state)
{
	const struct inv *inv = *state;

	/* Result in inventory order whatever the pattern order. */
	assert_string_equal(sel(inv, "storage,canary"),
			    "gpu01 gpu17 nas0 nas1 nas2 nas3 nas-old");
	assert_string_equal(sel(inv, "gpu:&rack_b:!canary"),
			    "gpu02 gpu20 gpu23 gpu26 gpu29 gpu32 node-1-x "
			    "node-1-y node-2-x node-2-y");
	/* Unions, then intersections, then exclusions, whatever the order
	 * they are written in. */
	assert_string_equal(sel(inv, "!canary:&rack_b:gpu"),
			    sel(inv, "gpu:&rack_b:!canary"));
	assert_string_equal(sel(inv, "&maintenance,rack_a"), "gpu05");
	assert_string_equal(sel(inv, "storage:!maintenance"),
			    "nas0 nas2 nas3 nas-old");
	/* Only & and !: they apply to all. */
	assert_string_equal(sel(inv, "!lab:&*"), "bastion.lab.example jumpbox");
	assert_string_equal(sel(inv, "&maintenance"), "gpu05 nas1");
	assert_string_equal(sel(inv, "gpu01:gpu03"), "gpu01 gpu03");
	assert_string_equal(sel(inv, " gpu01 , gpu03 ,"), "gpu01 gpu03");
}

static void
test_pattern_subscripts(void **state)
{
	const struct inv *inv = *state;

	/* Subscripts index the group's own order (gpu02 was added to rack_b
	 * last), as Ansible does. */
	assert_string_equal(sel(inv, "rack_b[0]"), "gpu17");
	assert_string_equal(sel(inv, "rack_b[10]"), "gpu02");
	assert_string_equal(sel(inv, "rack_b[-1]"), "gpu02");
	assert_string_equal(sel(inv, "rack_b[1:2]"), "gpu20 gpu23");
	assert_string_equal(sel(inv, "rack_b[9:]"), "gpu02 node-2-y");
	assert_string_equal(sel(inv, "storage[3:100]"), "nas3 nas-old");
	assert_string_equal(sel_err(inv, "rack_b[11]", -ENOENT),
			    "No hosts matched the subscripted pattern "
			    "'rack_b[11]'");
	assert_string_equal(sel_err(inv, "rack_b[-12]", -ENOENT),
			    "No hosts matched the subscripted pattern "
			    "'rack_b[-12]'");
	/* gpu[01:03] is the group gpu sliced, as in Ansible, not a range. */
	assert_string_equal(sel(inv, "gpu[01:03]"), sel(inv, "gpu[1:3]"));
}

static void
test_pattern_errors(void **state)
{
	const struct inv *inv = *state;

	assert_string_equal(sel_err(inv, "gpu99", -ENOENT),
			    "Could not match supplied host pattern: gpu99");
	/* Ansible only warns and goes on; a typo in --limit on a tool that
	 * reboots machines must stop it. */
	assert_string_equal(sel_err(inv, "gpu01,gpuO2", -ENOENT),
			    "Could not match supplied host pattern: gpuO2");
	assert_string_equal(sel_err(inv, "gpu01:!nothing", -ENOENT),
			    "Could not match supplied host pattern: nothing");
	/* host:port is one (unknown) name, not two patterns. */
	assert_string_equal(sel_err(inv, "nas-old:2200", -ENOENT),
			    "Could not match supplied host pattern: "
			    "nas-old:2200");
	/* A group that exists but is empty matches; nothing is left. */
	assert_string_equal(sel_err(inv, "empty", -ENOENT),
			    "host pattern \"empty\" leaves no hosts to target");
	assert_string_equal(sel_err(inv, "canary:!gpu", -ENOENT),
			    "host pattern \"canary:!gpu\" leaves no hosts to "
			    "target");
	assert_string_equal(sel_err(inv, "gpu01,!", -EINVAL),
			    "empty host pattern after '!'");
	assert_string_equal(sel_err(inv, "@/nonexistent/limit", -ENOENT),
			    "Unable to read limit file /nonexistent/limit: No "
			    "such file or directory");
}

static void
test_pattern_file(void **state)
{
	const struct inv *inv = *state;
	char path[] = "/tmp/vfleet-limit-XXXXXX";
	struct strbuf pat = STRBUF_INIT;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "nas0\n\n  gpu01  \nrack_b[0]\n", 26), 26);
	close(fd);
	strbuf_addf(&pat, "@%s", path);
	assert_string_equal(sel(inv, pat.buf), "gpu01 gpu17 nas0");
	strbuf_addstr(&pat, ":!gpu17");
	assert_string_equal(sel(inv, pat.buf), "gpu01 nas0");
	unlink(path);
	strbuf_release(&pat);
}

/* Same inventory, host names that look like addresses. */
static void
test_pattern_addresses(void **state)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT;
	const char *src[] = { "fe80::1,10.0.0.1,h:22,web," };

	assert_int_equal(inv_load(inv, src, 1, &err), 0);
	assert_string_equal(sel(inv, "fe80::1"), "fe80::1");
	assert_string_equal(sel(inv, "10.0.0.*"), "10.0.0.1");
	assert_string_equal(sel(inv, "web:10.0.0.1"), "10.0.0.1 web");
	/* "h:22" was split into host h, port 22. */
	assert_string_equal(sel(inv, "h"), "h");
	inv_free(inv);
	strbuf_release(&err);
}

static void
test_write_pattern_outputs(void **state)
{
	const struct inv *inv = *state;
	const char *base = getenv("VFLEET_TESTS");
	struct strbuf list = STRBUF_INIT, path = STRBUF_INIT;
	char *line, *save = NULL;
	size_t n = 0;
	FILE *f;

	if (!base)
		base = "build/tests";
	mkdir(base, 0755);
	strbuf_addf(&path, "%s/inventory-out", base);
	mkdir(path.buf, 0755);
	strbuf_addstr(&path, "/patterns.out");
	f = fopen(path.buf, "w");
	assert_non_null(f);
	assert_int_equal(strbuf_read_file(&list, fixture("patterns.list"),
					  1 << 16), 0);
	for (line = strtok_r(list.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct inv_hostlist l = INV_HOSTLIST_INIT;
		struct strbuf err = STRBUF_INIT;
		size_t i;

		if (line[0] == '#')
			continue;
		/* An error (nothing matched) is written as no hosts. */
		inv_select(inv, line, &l, &err);
		fprintf(f, "%s\t", line);
		for (i = 0; i < l.nr; i++)
			fprintf(f, "%s%s", i ? " " : "", l.v[i]->name);
		fputc('\n', f);
		inv_hostlist_release(&l);
		strbuf_release(&err);
		n++;
	}
	assert_int_equal(fclose(f), 0);
	assert_true(n >= 20);
	strbuf_release(&list);
	strbuf_release(&path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_names),
		cmocka_unit_test(test_pattern_globs_regex),
		cmocka_unit_test(test_pattern_operators),
		cmocka_unit_test(test_pattern_subscripts),
		cmocka_unit_test(test_pattern_errors),
		cmocka_unit_test(test_pattern_file),
		cmocka_unit_test(test_pattern_addresses),
		cmocka_unit_test(test_write_pattern_outputs),
	};

	return cmocka_run_group_tests_name("inventory/pattern", tests,
					   setup_lab, teardown_lab);
}
