/* Unit tests for inventory/inventory.c, inventory/ini.c and
 * protocol/inventory_json.c: loading, membership, variable precedence,
 * connection vars, errors with file:line, JSON and script inventories,
 * the --list rendering, and a 100000-host inventory.
 *
 * Also writes vfleet's --list output for every case of
 * tests/fixtures/inventory/compare.list to $VFLEET_TESTS/inventory-out/,
 * which tests/integration/test_inventory_ansible.sh compares with
 * ansible-inventory. */
#include <errno.h>
#include <glob.h>
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
#include "inventory_json.h"
#include "xalloc.h"

/* ---- helpers ------------------------------------------------------------ */

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

/* Load fixture files (or host lists) and finalize; asserts success. */
static struct inv *
load(const char *first, ...)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT;
	const char *src[8];
	char *paths[8];
	size_t n = 0, i;
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		paths[n] = xstrdup(strchr(s, ',') ? s : fixture(s));
		src[n] = paths[n];
		n++;
	}
	va_end(ap);
	if (inv_load(inv, src, n, &err) != 0)
		fail_msg("load failed: %s", err.buf);
	for (i = 0; i < n; i++)
		free(paths[i]);
	strbuf_release(&err);
	return inv;
}

static struct inv *
load_ini_str(const char *text)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT;

	if (inv_load_ini(inv, "t.ini", text, strlen(text), &err) != 0)
		fail_msg("ini failed: %s", err.buf);
	inv_finalize(inv);
	strbuf_release(&err);
	return inv;
}

/* Load INI text that must fail; returns the message (static). */
static const char *
ini_err_len(const char *text, size_t len, int want)
{
	static struct strbuf err = STRBUF_INIT;
	struct inv *inv = inv_new();

	strbuf_reset(&err);
	assert_int_equal(inv_load_ini(inv, "t.ini", text, len, &err), want);
	inv_free(inv);
	return err.buf;
}

static const char *
ini_err(const char *text, int want)
{
	return ini_err_len(text, strlen(text), want);
}

/* Effective var of a host, NULL when unset (static copy). */
static const char *
var(const struct inv *inv, const char *host, const char *key)
{
	static char *last;
	struct inv_vars v = INV_VARS_INIT;
	const struct inv_host *h = inv_host_find(inv, host);
	const char *s;

	if (!h)
		fail_msg("no host %s", host);
	inv_host_vars(inv, h, &v);
	s = inv_vars_get(&v, key);
	free(last);
	last = s ? xstrdup(s) : NULL;
	inv_vars_release(&v);
	return last;
}

/* Names of a group's direct hosts, space separated (static). */
static const char *
ghosts(const struct inv *inv, const char *group)
{
	static struct strbuf sb = STRBUF_INIT;
	const struct inv_group *g = inv_group_find(inv, group);
	size_t i;

	strbuf_reset(&sb);
	if (!g)
		fail_msg("no group %s", group);
	for (i = 0; i < g->nr_hosts; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", g->hosts[i]->name);
	return sb.buf;
}

static const char *
gchildren(const struct inv *inv, const char *group)
{
	static struct strbuf sb = STRBUF_INIT;
	const struct inv_group *g = inv_group_find(inv, group);
	size_t i;

	strbuf_reset(&sb);
	if (!g)
		fail_msg("no group %s", group);
	for (i = 0; i < g->nr_children; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", g->children[i]->name);
	return sb.buf;
}

/* Direct groups of a host (static). */
static const char *
hgroups(const struct inv *inv, const char *host)
{
	static struct strbuf sb = STRBUF_INIT;
	const struct inv_host *h = inv_host_find(inv, host);
	size_t i;

	strbuf_reset(&sb);
	if (!h)
		fail_msg("no host %s", host);
	for (i = 0; i < h->nr_groups; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", h->groups[i]->name);
	return sb.buf;
}

/* Every group of a host in merge order (static). */
static const char *
hallgroups(const struct inv *inv, const char *host)
{
	static struct strbuf sb = STRBUF_INIT;
	struct inv_group **g = NULL;
	size_t n, i;

	strbuf_reset(&sb);
	n = inv_host_groups(inv, inv_host_find(inv, host), &g);
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", g[i]->name);
	free(g);
	return sb.buf;
}

/* ---- INI: the lab fixture ------------------------------------------------ */

static void
test_lab_membership(void **state)
{
	struct inv *inv = load("lab.ini", NULL);

	assert_int_equal(inv->nr_hosts, 37);
	assert_string_equal(inv->hosts[0]->name, "bastion.lab.example");
	assert_string_equal(inv->hosts[2]->name, "gpu01");
	assert_string_equal(inv->hosts[36]->name, "nas-old");
	assert_string_equal(inv->groups[0]->name, "all");
	assert_string_equal(inv->groups[1]->name, "ungrouped");

	assert_string_equal(ghosts(inv, "ungrouped"),
			    "bastion.lab.example jumpbox");
	assert_string_equal(ghosts(inv, "rack_b"),
			    "gpu17 gpu20 gpu23 gpu26 gpu29 gpu32 node-1-x "
			    "node-1-y node-2-x node-2-y gpu02");
	assert_string_equal(ghosts(inv, "canary"), "gpu01 gpu17");
	assert_string_equal(ghosts(inv, "storage"),
			    "nas0 nas1 nas2 nas3 nas-old");
	assert_string_equal(ghosts(inv, "all"), "");
	assert_string_equal(ghosts(inv, "empty"), "");
	/* canary is named in [gpu:children] before its own section. */
	assert_string_equal(gchildren(inv, "gpu"), "rack_a rack_b canary");
	assert_string_equal(gchildren(inv, "lab"), "gpu storage");
	assert_string_equal(gchildren(inv, "all"), "ungrouped lab empty");
	assert_string_equal(hgroups(inv, "gpu02"), "rack_a rack_b");
	assert_string_equal(hgroups(inv, "gpu01"), "rack_a canary");
	assert_string_equal(hgroups(inv, "jumpbox"), "ungrouped");
	assert_string_equal(hgroups(inv, "gpu-big-c"), "rack_a");

	assert_int_equal(inv_group_find(inv, "all")->depth, 0);
	assert_int_equal(inv_group_find(inv, "lab")->depth, 1);
	assert_int_equal(inv_group_find(inv, "gpu")->depth, 2);
	assert_int_equal(inv_group_find(inv, "canary")->depth, 3);
	assert_int_equal(inv_group_find(inv, "rack_b")->priority, 10);
	/* Merge order: depth, then priority, then name. */
	assert_string_equal(hallgroups(inv, "gpu17"),
			    "all lab gpu canary rack_b");
	assert_string_equal(hallgroups(inv, "gpu01"),
			    "all lab gpu canary rack_a");
	assert_string_equal(hallgroups(inv, "bastion.lab.example"),
			    "all ungrouped");
	assert_null(inv_host_find(inv, "gpu33"));
	assert_null(inv_group_find(inv, "maintenance"));
	inv_free(inv);
}

static void
test_lab_vars(void **state)
{
	struct inv *inv = load("lab.ini", NULL);

	/* all < lab < gpu < rack_a: the deepest group wins. */
	assert_string_equal(var(inv, "gpu05", "level"), "rack_a");
	/* Same depth: canary < rack_a by name, so rack_a wins for gpu01 ... */
	assert_string_equal(var(inv, "gpu01", "level"), "rack_a");
	/* ... but rack_b has ansible_group_priority=10 and beats canary
	 * and rack_a, which sort before it. */
	assert_string_equal(var(inv, "gpu17", "level"), "rack_b");
	assert_string_equal(var(inv, "gpu02", "level"), "rack_b");
	assert_string_equal(var(inv, "nas2", "level"), "storage");
	assert_string_equal(var(inv, "jumpbox", "level"), "all");
	/* ansible_group_priority is not a variable (Ansible stores it). */
	assert_null(var(inv, "gpu17", "ansible_group_priority"));
	/* Host vars beat every group. */
	assert_string_equal(var(inv, "bastion.lab.example", "ansible_user"),
			    "ops");
	assert_string_equal(var(inv, "gpu03", "ansible_user"), "root");
	assert_string_equal(var(inv, "gpu01", "vfleet_canary"), "true");
	assert_string_equal(var(inv, "gpu01", "vfleet_reboot"), "no");
	assert_string_equal(var(inv, "gpu01", "vfleet_hugepages"), "1024");
	assert_null(var(inv, "gpu17", "vfleet_hugepages"));
	assert_string_equal(var(inv, "gpu20", "rack"), "b");
	/* host:port shorthand and quoting. */
	assert_string_equal(var(inv, "jumpbox", "ansible_port"), "2201");
	assert_string_equal(var(inv, "jumpbox", "ansible_user"), "jump user");
	assert_string_equal(var(inv, "gpu17", "note"), "quoted value");
	assert_string_equal(var(inv, "gpu17", "ansible_port"), "2222");
	assert_string_equal(var(inv, "gpu09", "vfleet_iommu"),
			    "intel_iommu=on iommu=pt");
	assert_string_equal(var(inv, "gpu09", "quoted_with_comment"), "kept");
	/* As in Ansible: a comment after a plain :vars value stays. */
	assert_string_equal(var(inv, "nas0", "plain"),
			    "value # stays part of the value, as in Ansible");
	assert_string_equal(var(inv, "nas0", "ansible_become_user"), "admin");
	assert_null(var(inv, "jumpbox", "ansible_become_user"));
	assert_string_equal(var(inv, "gpu-big-b", "vfleet_gpu_vendor"),
			    "nvidia");
	inv_free(inv);
}

static void
test_lab_merge_sources(void **state)
{
	struct inv *inv = load("lab.ini", "extra.ini", NULL);

	assert_int_equal(inv->nr_hosts, 37);	/* nothing new */
	/* A later source's host var replaces the earlier one. */
	assert_string_equal(var(inv, "gpu16", "rack"), "a-extra");
	assert_string_equal(ghosts(inv, "maintenance"), "nas1 gpu05");
	assert_string_equal(gchildren(inv, "all"),
			    "ungrouped lab empty maintenance");
	assert_string_equal(var(inv, "gpu05", "vfleet_skip"), "yes");
	/* maintenance (depth 1) is shallower than storage and rack_a, so
	 * it loses even though it was read last. */
	assert_string_equal(var(inv, "nas1", "level"), "storage");
	assert_string_equal(var(inv, "gpu05", "level"), "rack_a");
	assert_string_equal(hallgroups(inv, "nas1"),
			    "all lab maintenance storage");
	inv_free(inv);
}

static void
test_lab_conn(void **state)
{
	struct inv *inv = load("lab.ini", NULL);
	struct strbuf err = STRBUF_INIT;
	struct inv_vars v = INV_VARS_INIT;
	struct inv_conn c;

	inv_host_vars(inv, inv_host_find(inv, "bastion.lab.example"), &v);
	assert_int_equal(inv_conn_from_vars(&v, "bastion.lab.example", &c,
					    &err), 0);
	assert_string_equal(c.address, "192.0.2.10");
	assert_int_equal(c.port, 0);
	assert_string_equal(c.user, "ops");
	assert_null(c.private_key_file);
	assert_false(c.become);
	assert_null(c.become_user);

	inv_host_vars(inv, inv_host_find(inv, "gpu-big-a"), &v);
	assert_int_equal(inv_conn_from_vars(&v, "gpu-big-a", &c, &err), 0);
	assert_string_equal(c.address, "gpu-big-a");
	assert_true(c.become);
	assert_string_equal(c.become_user, "admin");
	assert_string_equal(c.user, "root");

	inv_host_vars(inv, inv_host_find(inv, "nas-old"), &v);
	assert_int_equal(inv_conn_from_vars(&v, "nas-old", &c, &err), 0);
	assert_int_equal(c.port, 2200);
	assert_string_equal(c.private_key_file, "/keys/old_rsa");

	/* Aliases: the later name in Ansible's list wins. */
	inv_vars_release(&v);
	inv_vars_set(&v, "ansible_ssh_port", "2022", false);
	inv_vars_set(&v, "ansible_port", "22", false);
	inv_vars_set(&v, "ansible_ssh_host", "10.0.0.2", false);
	inv_vars_set(&v, "ansible_host", "10.0.0.1", false);
	inv_vars_set(&v, "ansible_become", "True", false);
	assert_int_equal(inv_conn_from_vars(&v, "h", &c, &err), 0);
	assert_int_equal(c.port, 2022);
	assert_string_equal(c.address, "10.0.0.2");
	assert_true(c.become);

	/* JSON inventories give numbers and booleans as JSON text. */
	inv_vars_release(&v);
	inv_vars_set(&v, "ansible_port", "2222", true);
	inv_vars_set(&v, "ansible_become", "false", true);
	assert_int_equal(inv_conn_from_vars(&v, "h", &c, &err), 0);
	assert_int_equal(c.port, 2222);
	assert_false(c.become);

	inv_vars_set(&v, "ansible_port", "22x", false);
	assert_int_equal(inv_conn_from_vars(&v, "h", &c, &err), -EINVAL);
	assert_string_equal(err.buf, "host h: ansible_port=\"22x\" is not a "
			    "number from 0 to 65535");
	strbuf_reset(&err);
	inv_vars_set(&v, "ansible_port", "0", false);
	assert_int_equal(inv_conn_from_vars(&v, "h", &c, &err), -EINVAL);
	assert_string_equal(err.buf, "host h: ansible_port=\"0\" is not a port "
			    "number");
	strbuf_reset(&err);
	inv_vars_set(&v, "ansible_port", "70000", false);
	assert_int_equal(inv_conn_from_vars(&v, "h", &c, &err), -EINVAL);
	strbuf_reset(&err);
	inv_vars_set(&v, "ansible_port", "22", false);
	inv_vars_set(&v, "ansible_become", "maybe", false);
	assert_int_equal(inv_conn_from_vars(&v, "h", &c, &err), -EINVAL);
	assert_string_equal(err.buf, "host h: ansible_become=\"maybe\" is not "
			    "a boolean (expected yes/no, true/false, on/off "
			    "or 1/0)");
	inv_vars_release(&v);
	strbuf_release(&err);
	inv_free(inv);
}

/* ---- INI: malformed fixtures --------------------------------------------- */

/*
 * Every tests/fixtures/inventory/bad-*.ini starts with
 *   # expect ERRNO LINE ansible=...: MESSAGE
 * and must fail with -ERRNO and exactly "PATH:LINE: MESSAGE".
 */
static void
test_bad_fixtures(void **state)
{
	static const struct { const char *name; int err; } codes[] = {
		{ "EINVAL", -EINVAL }, { "E2BIG", -E2BIG },
		{ "ELOOP", -ELOOP },
	};
	glob_t g;
	size_t i, j;

	assert_int_equal(glob(fixture("bad-*.ini"), 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 19);
	for (i = 0; i < g.gl_pathc; i++) {
		struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
		struct strbuf want = STRBUF_INIT;
		const char *path = g.gl_pathv[i];
		char code[16], *msg;
		unsigned line;
		int rc = 0;
		struct inv *inv = inv_new();

		assert_int_equal(strbuf_read_file(&text, path, 1 << 16), 0);
		if (sscanf(text.buf, "# expect %15s %u", code, &line) != 2)
			fail_msg("%s: no '# expect' header", path);
		msg = strstr(text.buf, ": ");
		assert_non_null(msg);
		*strchr(msg, '\n') = '\0';
		for (j = 0; j < sizeof(codes) / sizeof(codes[0]); j++)
			if (!strcmp(code, codes[j].name))
				rc = codes[j].err;
		assert_int_not_equal(rc, 0);
		strbuf_addf(&want, "%s:%u%s", path, line, msg);
		strbuf_reset(&text);
		if (inv_load_source(inv, path, &err) != rc)
			fail_msg("%s: want %s, got: %s", path, code, err.buf);
		if (strcmp(err.buf, want.buf))
			fail_msg("%s:\n want: %s\n  got: %s", path, want.buf,
				 err.buf);
		inv_free(inv);
		strbuf_release(&text);
		strbuf_release(&err);
		strbuf_release(&want);
	}
	globfree(&g);
}

/* ---- INI: details -------------------------------------------------------- */

static void
test_ini_ungrouped(void **state)
{
	struct inv *inv = load_ini_str(
		"a\n"
		"b\n"
		"[g]\n"
		"b\n"
		"[all]\n"
		"c\n"
		"[ungrouped]\n"
		"d\n");

	/* b moved out of ungrouped; c (only in all) joins it. */
	assert_string_equal(ghosts(inv, "ungrouped"), "a d c");
	assert_string_equal(hgroups(inv, "b"), "g");
	assert_string_equal(hgroups(inv, "c"), "all ungrouped");
	assert_string_equal(gchildren(inv, "all"), "ungrouped g");
	inv_free(inv);
}

static void
test_ini_syntax(void **state)
{
	struct inv *inv = load_ini_str(
		"\xef\xbb\xbf# BOM, CRLF and comments\r\n"
		"; semicolon comment\r\n"
		"   \r\n"
		"h1 a=\"x y\" b='p q' c=x\\ y d=\"q\\\"t\" e=semi;colon f=h#cut\r\n"
		"h2 eq=a=b empty=\"\" lit=\"'v'\" esc=\\# # trailing\r"
		"[g]  # comment after a section\n"
		"h1:2200 ansible_port=22\n"
		"h3:2300\n"
		"h3:2400\n"
		"[g:vars]\n"
		"k1 = spaced value  \n"
		"k2=\"a \\\"b\\\" c\"  # gone\n"
		"k3='x'\n"
		"k4=1 # gone after a number\n"
		"k5=plain # stays\n"
		"k6=\n");

	assert_string_equal(var(inv, "h1", "a"), "x y");
	assert_string_equal(var(inv, "h1", "b"), "p q");
	assert_string_equal(var(inv, "h1", "c"), "x y");
	assert_string_equal(var(inv, "h1", "d"), "q\"t");
	assert_string_equal(var(inv, "h1", "e"), "semi;colon");
	assert_string_equal(var(inv, "h1", "f"), "h");
	assert_string_equal(var(inv, "h2", "eq"), "a=b");
	assert_string_equal(var(inv, "h2", "empty"), "");
	assert_string_equal(var(inv, "h2", "lit"), "v");
	assert_string_equal(var(inv, "h2", "esc"), "#");
	/* h1 existed: the :2200 is ignored (Ansible), the var sets 22. */
	assert_string_equal(var(inv, "h1", "ansible_port"), "22");
	assert_string_equal(var(inv, "h3", "ansible_port"), "2300");
	assert_string_equal(var(inv, "h3", "k1"), "spaced value");
	assert_string_equal(var(inv, "h3", "k2"), "a \"b\" c");
	assert_string_equal(var(inv, "h3", "k3"), "x");
	assert_string_equal(var(inv, "h3", "k4"), "1");
	assert_string_equal(var(inv, "h3", "k5"), "plain # stays");
	assert_string_equal(var(inv, "h3", "k6"), "");
	assert_int_equal(inv->nr_hosts, 3);
	inv_free(inv);

	/* Line numbers count CRLF and lone CR line ends once each. */
	assert_string_equal(ini_err("a\r\nb\rc\n[g:x]\n", -EINVAL),
		"t.ini:4: Section [g:x] has unknown type: x (expected hosts, "
		"vars or children)");
	assert_string_equal(ini_err_len("[g]\nh\0x\n", 7, -EINVAL),
		"t.ini:2: NUL byte in line");
	assert_string_equal(ini_err("\"bad host\"\n", -EINVAL),
		"t.ini:1: invalid host name \"bad host\": empty or contains "
		"whitespace or control characters");
	assert_string_equal(ini_err("[g]\nh[1:2]:0\n", -EINVAL),
		"t.ini:2: invalid port in \"h[1:2]:0\": expected 1 to 65535");
	assert_string_equal(ini_err("[g]\nh x=\\", -EINVAL),
		"t.ini:2: Error parsing host definition 'h x=\\': No escaped "
		"character");
	assert_string_equal(ini_err("[g]\nh =v\n", -EINVAL),
		"t.ini:2: Expected key=value host variable assignment, got: =v");
	assert_string_equal(ini_err("[g:vars]\n = v\n", -EINVAL),
		"t.ini:2: Expected key=value, got: = v");
}

static void
test_ini_ranges_and_ipv6(void **state)
{
	struct inv *inv = load_ini_str(
		"[r]\n"
		"gpu[01:03]:2222 role=x\n"
		"[2001:db8::1]:2200\n"
		"fe80::1\n"
		"10.0.0.[1:2]\n");

	assert_string_equal(ghosts(inv, "r"),
			    "gpu01 gpu02 gpu03 2001:db8::1 fe80::1 10.0.0.1 "
			    "10.0.0.2");
	assert_string_equal(var(inv, "gpu03", "ansible_port"), "2222");
	assert_string_equal(var(inv, "gpu02", "role"), "x");
	assert_string_equal(var(inv, "2001:db8::1", "ansible_port"), "2200");
	assert_null(var(inv, "fe80::1", "ansible_port"));
	inv_free(inv);
}

static void
test_ini_children_order(void **state)
{
	struct inv *inv;

	/* Children named before they are declared, by several parents;
	 * [x:vars] first, [x] later is fine. */
	inv = load_ini_str(
		"[p1:children]\n"
		"kid\n"
		"[p2:children]\n"
		"kid\n"
		"[kid:vars]\n"
		"v=kid\n"
		"[kid]\n"
		"h\n"
		"[late:vars]\n"
		"v=late\n"
		"[late]\n"
		"h\n");
	assert_string_equal(gchildren(inv, "p1"), "kid");
	assert_string_equal(gchildren(inv, "p2"), "kid");
	assert_string_equal(gchildren(inv, "all"), "ungrouped p1 p2 late");
	assert_string_equal(var(inv, "h", "v"), "kid");
	assert_int_equal(inv_group_find(inv, "kid")->depth, 2);
	inv_free(inv);

	/* A group only given vars and used as a child is still undefined
	 * for the :children line that named it first. */
	assert_string_equal(ini_err("[p:children]\nk\n[k:vars]\nx=1\n",
				    -EINVAL),
		"t.ini:2: Section [p:children] includes undefined group: k");
	/* `all` cannot be anybody's child. */
	assert_string_equal(ini_err("[p:children]\nall\n", -ELOOP),
		"t.ini:2: Adding group 'all' as child to 'p' creates a "
		"recursive dependency loop.");
	/* A cycle through a pending child. */
	assert_string_equal(ini_err("[a:children]\nb\n[b:children]\nc\n"
				    "[c:children]\na\n", -ELOOP),
		"t.ini:6: Adding group 'a' as child to 'c' creates a "
		"recursive dependency loop.");
}

static void
test_group_api(void **state)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT;
	struct inv_group *a = inv_group_add(inv, "a");
	struct inv_group *b = inv_group_add(inv, "b");
	struct inv_host *h = NULL;

	assert_ptr_equal(inv_group_add(inv, "a"), a);
	assert_int_equal(inv_group_add_child(inv, a, b, &err), 0);
	assert_int_equal(inv_group_add_child(inv, a, b, &err), 0);
	assert_int_equal(a->nr_children, 1);
	assert_int_equal(inv_group_add_child(inv, b, a, &err), -ELOOP);
	assert_string_equal(err.buf, "Adding group 'a' as child to 'b' "
			    "creates a recursive dependency loop.");
	strbuf_reset(&err);
	assert_int_equal(inv_group_add_child(inv, a, a, &err), -ELOOP);
	strbuf_reset(&err);
	assert_int_equal(inv_host_add(inv, "h", b, "2222", &h, &err), 0);
	assert_int_equal(inv_host_add(inv, "h", b, "2323", NULL, &err), 0);
	assert_int_equal(b->nr_hosts, 1);
	assert_string_equal(inv_vars_get(&h->vars, "ansible_port"), "2222");
	assert_int_equal(inv_host_add(inv, "", NULL, NULL, NULL, &err),
			 -EINVAL);
	strbuf_reset(&err);
	assert_int_equal(inv_group_set_var(a, "ansible_group_priority", "-3",
					   false, &err), 0);
	assert_int_equal(a->priority, -3);
	assert_int_equal(a->vars.nr, 0);
	assert_int_equal(inv_group_set_var(a, "ansible_group_priority", "",
					   false, &err), -EINVAL);
	inv_finalize(inv);
	assert_string_equal(gchildren(inv, "all"), "ungrouped a");
	assert_string_equal(hallgroups(inv, "h"), "all a b");
	inv_free(inv);
	strbuf_release(&err);
}

static void
test_vars_api(void **state)
{
	struct inv_vars a = INV_VARS_INIT, b = INV_VARS_INIT;
	struct strbuf err = STRBUF_INIT;
	unsigned long u;
	bool t;

	inv_vars_set(&a, "x", "1", false);
	inv_vars_set(&a, "y", "2", false);
	inv_vars_set(&a, "x", "3", true);	/* replaced in place */
	assert_int_equal(a.nr, 2);
	assert_string_equal(a.v[0].key, "x");
	assert_string_equal(a.v[0].value, "3");
	assert_true(a.v[0].json);
	inv_vars_set(&b, "z", "9", false);
	inv_vars_set(&b, "y", "8", false);
	inv_vars_merge(&a, &b);
	assert_int_equal(a.nr, 3);
	assert_string_equal(a.v[1].value, "8");
	assert_string_equal(a.v[2].key, "z");
	assert_null(inv_vars_get(&a, "nope"));
	assert_null(inv_vars_find(&a, "nope"));

	for (const char *const *s = (const char *const[]){ "yes", "Y", "on",
		"TRUE", "t", "1", "1.0", NULL }; *s; s++) {
		t = false;
		assert_int_equal(inv_parse_bool(*s, &t), 0);
		assert_true(t);
	}
	for (const char *const *s = (const char *const[]){ "no", "N", "off",
		"False", "f", "0", "0.0", NULL }; *s; s++) {
		t = true;
		assert_int_equal(inv_parse_bool(*s, &t), 0);
		assert_false(t);
	}
	assert_int_equal(inv_parse_bool("", &t), -EINVAL);
	assert_int_equal(inv_parse_bool("2", &t), -EINVAL);
	assert_int_equal(inv_vars_get_bool(&a, "h", "missing", true, &t, &err),
			 0);
	assert_true(t);
	assert_int_equal(inv_vars_get_uint(&a, "h", "z", 0, 100, &u, &err), 0);
	assert_int_equal(u, 9);
	assert_int_equal(inv_vars_get_uint(&a, "h", "z", 0, 5, &u, &err),
			 -EINVAL);
	assert_string_equal(err.buf, "host h: z=\"9\" is not a number from 0 "
			    "to 5");
	inv_vars_set(&a, "neg", "-1", false);
	assert_int_equal(inv_vars_get_uint(&a, "h", "neg", 0, 5, &u, &err),
			 -EINVAL);
	inv_vars_release(&a);
	inv_vars_release(&b);
	strbuf_release(&err);
}

/* ---- JSON, scripts, host lists, detection -------------------------------- */

static void
test_json_file(void **state)
{
	struct inv *inv = load("lab.json", NULL);
	const struct inv_host *h = inv_host_find(inv, "gpu-a1");
	const struct inv_var *v;

	assert_int_equal(inv->nr_hosts, 8);
	assert_null(inv_host_find(inv, "not-in-any-group"));
	assert_string_equal(ghosts(inv, "gpu_a"), "gpu-a1 gpu-a2");
	assert_string_equal(ghosts(inv, "infra"), "bastion dns1");
	assert_string_equal(ghosts(inv, "ungrouped"), "spare1");
	/* Simplified syntax: a host named like the group, vars on the group. */
	assert_string_equal(ghosts(inv, "lonely"), "lonely");
	assert_string_equal(var(inv, "lonely", "ansible_host"), "192.0.2.99");
	assert_string_equal(gchildren(inv, "gpu"), "gpu_a gpu_b quarantine");
	assert_string_equal(ghosts(inv, "quarantine"), "");
	assert_string_equal(gchildren(inv, "all"),
			    "ungrouped gpu infra lonely");
	assert_int_equal(inv_group_find(inv, "gpu_a")->priority, 5);

	v = inv_vars_find(&h->vars, "vfleet_gpu_count");
	assert_non_null(v);
	assert_string_equal(v->value, "8");
	assert_true(v->json);
	v = inv_vars_find(&h->vars, "vfleet_ids");
	assert_string_equal(v->value, "[\"10de:2330\",\"10de:22a3\"]");
	assert_true(v->json);
	v = inv_vars_find(&h->vars, "vfleet_opts");
	assert_string_equal(v->value, "{\"hugepages\":1024,\"iommu\":\"pt\"}");
	v = inv_vars_find(&h->vars, "nothing");
	assert_string_equal(v->value, "null");
	assert_true(v->json);
	v = inv_vars_find(&h->vars, "ansible_host");
	assert_false(v->json);
	assert_string_equal(var(inv, "gpu-a1", "vfleet_vfio"), "true");
	assert_string_equal(var(inv, "gpu-a1", "ratio"), "0.5");
	assert_string_equal(var(inv, "gpu-a2", "level"), "gpu_a");
	assert_string_equal(var(inv, "gpu-b2", "level"), "gpu_b");
	assert_string_equal(var(inv, "dns1", "level"), "all");
	assert_string_equal(var(inv, "gpu-b1", "ansible_port"), "2222");
	inv_free(inv);
}

static const char *
json_err(const char *text, int want)
{
	static struct strbuf err = STRBUF_INIT;
	struct inv *inv = inv_new();

	strbuf_reset(&err);
	assert_int_equal(inv_json_load(inv, "t.json", text, strlen(text), NULL,
				       &err), want);
	inv_free(inv);
	return err.buf;
}

static void
test_json_errors(void **state)
{
	assert_string_equal(json_err("{\n\"g\": {\n\"hosts\": [\"a\",]\n}}",
				     -EINVAL),
		"t.json:3: invalid JSON: unexpected character");
	assert_string_equal(json_err("{\"g\": [\"a\"]", -EINVAL),
		"t.json:1: invalid JSON: unexpected end of data");
	assert_string_equal(json_err("{}\n{}", -EINVAL),
		"t.json:2: invalid JSON: unexpected data after the value");
	assert_string_equal(json_err("[1]", -EINVAL),
		"t.json: expected a JSON object (the ansible-inventory --list "
		"shape), got array");
	assert_string_equal(json_err("{\"g\": {\"hosts\": \"a\"}}", -EINVAL),
		"t.json: You defined a group 'g' with bad data for the host "
		"list (expected a list)");
	assert_string_equal(json_err("{\"g\": {\"hosts\": [1]}}", -EINVAL),
		"t.json: group 'g': host names must be strings");
	assert_string_equal(json_err("{\"g\": {\"vars\": []}}", -EINVAL),
		"t.json: You defined a group 'g' with bad data for variables "
		"(expected an object)");
	assert_string_equal(json_err("{\"g\": 3}", -EINVAL),
		"t.json: group 'g' must be an object or a list of hosts");
	assert_string_equal(json_err("{\"a\": {\"children\": [\"b\"]}, "
				     "\"b\": {\"children\": [\"a\"]}}",
				     -ELOOP),
		"t.json: Adding group 'a' as child to 'b' creates a recursive "
		"dependency loop.");
	assert_string_equal(json_err("{\"g\": [\"h\"], \"_meta\": "
				     "{\"hostvars\": []}}", -EINVAL),
		"t.json: _meta.hostvars must be an object");
	assert_string_equal(json_err("{\"g\": [\"h\"], \"_meta\": "
				     "{\"hostvars\": {\"h\": 1}}}", -EINVAL),
		"t.json: vars of host 'h' must be an object");
	assert_string_equal(json_err("{\"g\": {\"vars\": "
				     "{\"ansible_group_priority\": \"x\"}}}",
				     -EINVAL),
		"t.json: group g: ansible_group_priority=\"x\" is not an "
		"integer");
}

static void
list_of(struct inv *inv, unsigned flags, struct strbuf *out)
{
	strbuf_reset(out);
	assert_int_equal(inv_list_json_ex(inv, flags, out), 0);
}

static void
test_scripts(void **state)
{
	struct inv *a = load("lab.json", NULL), *b = load("lab-script.sh", NULL);
	struct inv *inv = inv_new();
	struct strbuf la = STRBUF_INIT, lb = STRBUF_INIT, err = STRBUF_INIT;
	const struct inv_var *v;

	/* The script prints lab.json: the same inventory either way. */
	list_of(a, 0, &la);
	list_of(b, 0, &lb);
	assert_string_equal(la.buf, lb.buf);
	list_of(a, INV_LIST_EXPORT, &la);
	list_of(b, INV_LIST_EXPORT, &lb);
	assert_string_equal(la.buf, lb.buf);
	inv_free(a);
	inv_free(b);

	/* No _meta: one --host call per host. */
	a = load("nometa-script.sh", NULL);
	assert_string_equal(ghosts(a, "gpu"), "g1 g2");
	assert_string_equal(ghosts(a, "mgmt"), "m1");
	assert_string_equal(var(a, "g1", "ansible_host"), "10.9.0.1");
	assert_string_equal(var(a, "g1", "level"), "g1");
	assert_string_equal(var(a, "g2", "level"), "g2");
	v = inv_vars_find(&inv_host_find(a, "g2")->vars, "enabled");
	assert_string_equal(v->value, "false");
	assert_true(v->json);
	assert_string_equal(var(a, "g1", "slots"), "4");
	inv_free(a);

	assert_int_equal(inv_load_source(inv, fixture("failing-script.sh"),
					 &err), -EIO);
	assert_non_null(strstr(err.buf, "failing-script.sh --list had an "
			       "execution error (exit 3): cannot reach the "
			       "CMDB"));
	/* Empty --host output means no vars (Ansible 2.14 chokes on it). */
	a = inv_new();
	assert_int_equal(inv_host_add(a, "h", NULL, NULL, NULL, &err), 0);
	assert_int_equal(inv_json_load_hostvars(inv_host_find(a, "h"), "s",
						" \n", 2, &err), 0);
	assert_int_equal(inv_host_find(a, "h")->vars.nr, 0);
	inv_free(a);
	inv_free(inv);
	strbuf_release(&la);
	strbuf_release(&lb);
	strbuf_release(&err);
}

static void
test_host_list(void **state)
{
	struct inv *inv = load("a, b:2222 ,[2001:db8::7]:2200,fe80::1,"
			       "10.1.1.1:22,,a", NULL);
	struct strbuf err = STRBUF_INIT;

	assert_string_equal(ghosts(inv, "ungrouped"),
			    "a b 2001:db8::7 fe80::1 10.1.1.1");
	assert_string_equal(var(inv, "b", "ansible_port"), "2222");
	assert_string_equal(var(inv, "2001:db8::7", "ansible_port"), "2200");
	assert_null(var(inv, "fe80::1", "ansible_port"));
	assert_string_equal(var(inv, "10.1.1.1", "ansible_port"), "22");
	inv_free(inv);

	/* A host list adds to ungrouped only hosts it does not know yet. */
	inv = load("lab.ini", "gpu01,newhost", NULL);
	assert_string_equal(hgroups(inv, "gpu01"), "rack_a canary");
	assert_string_equal(ghosts(inv, "ungrouped"),
			    "bastion.lab.example jumpbox newhost");
	inv_free(inv);

	inv = inv_new();
	assert_int_equal(inv_load_source(inv, "/nonexistent/inventory", &err),
			 -ENOENT);
	assert_string_equal(err.buf, "/nonexistent/inventory: No such file or "
			    "directory");
	strbuf_reset(&err);
	assert_int_equal(inv_load_source(inv, fixture("."), &err), -EISDIR);
	inv_free(inv);
	strbuf_release(&err);
}

static void
test_detect_format(void **state)
{
	char dir[] = "/tmp/vfleet-inv-XXXXXX";
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct inv *inv = inv_new();
	FILE *f;

	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/inv", dir);
	f = fopen(path.buf, "w");
	fputs("\n \t {\"g\": [\"j1\"]}\n", f);
	fclose(f);
	assert_int_equal(inv_load_source(inv, path.buf, &err), 0);
	assert_non_null(inv_host_find(inv, "j1"));
	f = fopen(path.buf, "w");
	fputs("  \n  [g]\n  i1\n", f);
	fclose(f);
	assert_int_equal(inv_load_source(inv, path.buf, &err), 0);
	assert_non_null(inv_host_find(inv, "i1"));
	/* An executable INI file is run, as Ansible's script plugin would. */
	assert_int_equal(chmod(path.buf, 0755), 0);
	assert_true(inv_load_source(inv, path.buf, &err) < 0);
	assert_string_not_equal(err.buf, "");
	unlink(path.buf);
	rmdir(dir);
	inv_free(inv);
	strbuf_release(&path);
	strbuf_release(&err);
}

/* ---- --list rendering ----------------------------------------------------- */

static void
test_list_shape(void **state)
{
	struct inv *inv = load_ini_str(
		"u1\n"
		"[g]\n"
		"h1 a=1\n"
		"h2\n"
		"[g:vars]\n"
		"gv=x\n"
		"ansible_group_priority=2\n"
		"[p:children]\n"
		"g\n"
		"[e]\n"
		"[all:vars]\n"
		"z=all\n");
	struct strbuf out = STRBUF_INIT;

	list_of(inv, 0, &out);
	assert_string_equal(out.buf,
		"{\n"
		"  \"_meta\": {\n"
		"    \"hostvars\": {\n"
		"      \"h1\": {\n"
		"        \"a\": \"1\",\n"
		"        \"gv\": \"x\",\n"
		"        \"z\": \"all\"\n"
		"      },\n"
		"      \"h2\": {\n"
		"        \"gv\": \"x\",\n"
		"        \"z\": \"all\"\n"
		"      },\n"
		"      \"u1\": {\n"
		"        \"z\": \"all\"\n"
		"      }\n"
		"    }\n"
		"  },\n"
		"  \"all\": {\n"
		"    \"children\": [\n"
		"      \"ungrouped\",\n"
		"      \"p\",\n"
		"      \"e\"\n"
		"    ]\n"
		"  },\n"
		"  \"g\": {\n"
		"    \"hosts\": [\n"
		"      \"h1\",\n"
		"      \"h2\"\n"
		"    ]\n"
		"  },\n"
		"  \"p\": {\n"
		"    \"children\": [\n"
		"      \"g\"\n"
		"    ]\n"
		"  },\n"
		"  \"ungrouped\": {\n"
		"    \"hosts\": [\n"
		"      \"u1\"\n"
		"    ]\n"
		"  }\n"
		"}\n");
	list_of(inv, INV_LIST_EXPORT, &out);
	assert_string_equal(out.buf,
		"{\n"
		"  \"_meta\": {\n"
		"    \"hostvars\": {\n"
		"      \"h1\": {\n"
		"        \"a\": \"1\"\n"
		"      }\n"
		"    }\n"
		"  },\n"
		"  \"all\": {\n"
		"    \"children\": [\n"
		"      \"ungrouped\",\n"
		"      \"p\",\n"
		"      \"e\"\n"
		"    ],\n"
		"    \"vars\": {\n"
		"      \"z\": \"all\"\n"
		"    }\n"
		"  },\n"
		"  \"g\": {\n"
		"    \"hosts\": [\n"
		"      \"h1\",\n"
		"      \"h2\"\n"
		"    ],\n"
		"    \"vars\": {\n"
		"      \"ansible_group_priority\": 2,\n"
		"      \"gv\": \"x\"\n"
		"    }\n"
		"  },\n"
		"  \"p\": {\n"
		"    \"children\": [\n"
		"      \"g\"\n"
		"    ]\n"
		"  },\n"
		"  \"ungrouped\": {\n"
		"    \"hosts\": [\n"
		"      \"u1\"\n"
		"    ]\n"
		"  }\n"
		"}\n");
	strbuf_reset(&out);
	assert_int_equal(inv_host_json(inv, inv_host_find(inv, "h2"), &out), 0);
	assert_string_equal(out.buf, "{\n  \"gv\": \"x\",\n  \"z\": \"all\"\n}\n");
	inv_free(inv);

	/* JSON values go out as JSON, strings as strings. */
	inv = load("lab.json", NULL);
	strbuf_reset(&out);
	assert_int_equal(inv_host_json(inv, inv_host_find(inv, "gpu-a1"),
				       &out), 0);
	assert_non_null(strstr(out.buf, "\"vfleet_gpu_count\": 8,"));
	assert_non_null(strstr(out.buf, "\"vfleet_vfio\": true\n"));
	assert_non_null(strstr(out.buf, "\"nothing\": null,"));
	assert_non_null(strstr(out.buf, "\"ansible_host\": \"10.0.1.1\","));
	inv_free(inv);
	strbuf_release(&out);
}

/* ---- 100000 hosts ----------------------------------------------------------- */

static void
test_big_inventory(void **state)
{
	struct inv *inv = load_ini_str(
		"[big]\n"
		"h[000000:099999] rack=r\n"
		"[big:vars]\n"
		"level=big\n"
		"[half:children]\n"
		"big\n");
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct inv *more;

	assert_int_equal(inv->nr_hosts, INV_MAX_HOSTS);
	assert_string_equal(inv->hosts[99999]->name, "h099999");
	assert_ptr_equal(inv_host_find(inv, "h054321"), inv->hosts[54321]);
	assert_string_equal(var(inv, "h099999", "level"), "big");
	assert_string_equal(var(inv, "h000000", "rack"), "r");
	list_of(inv, 0, &out);
	assert_non_null(strstr(out.buf, "\"h099999\": {\n        "
			       "\"level\": \"big\""));
	inv_free(inv);

	/* One more host is refused, with the file and line. */
	more = inv_new();
	assert_int_equal(inv_load_ini(more, "big.ini",
				      "h[000000:099999]\nextra\n", 25, &err),
			 -E2BIG);
	assert_string_equal(err.buf, "big.ini:2: too many hosts: an inventory "
			    "holds at most 100000");
	inv_free(more);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ---- outputs for the ansible comparison ------------------------------------- */

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s", path);
	fputs(data, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_write_compare_outputs(void **state)
{
	const char *base = getenv("VFLEET_TESTS");
	struct strbuf list = STRBUF_INIT, dir = STRBUF_INIT;
	struct strbuf out = STRBUF_INIT, path = STRBUF_INIT;
	char *line, *save = NULL;
	size_t cases = 0;

	strbuf_addf(&dir, "%s/inventory-out", base ? base : "build/tests");
	mkdir(base ? base : "build/tests", 0755);
	mkdir(dir.buf, 0755);
	assert_int_equal(strbuf_read_file(&list, fixture("compare.list"),
					  1 << 16), 0);
	for (line = strtok_r(list.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *name, *srcs, *tab, *s, *ssave = NULL;
		struct strbuf err = STRBUF_INIT;
		struct inv *inv;
		int r = 0;

		if (line[0] == '#' || !line[0])
			continue;
		inv = inv_new();
		name = line;
		tab = strchr(name, '\t');
		assert_non_null(tab);
		*tab = '\0';
		srcs = tab + 1;
		tab = strchr(srcs, '\t');
		assert_non_null(tab);
		*tab = '\0';
		for (s = strtok_r(srcs, ";", &ssave); s && !r;
		     s = strtok_r(NULL, ";", &ssave)) {
			char *p = xstrdup(strchr(s, ',') ? s : fixture(s));

			r = inv_load_source(inv, p, &err);
			free(p);
		}
		if (r)
			fail_msg("%s: %s", name, err.buf);
		inv_finalize(inv);
		list_of(inv, 0, &out);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s.json", dir.buf, name);
		write_file(path.buf, out.buf);
		list_of(inv, INV_LIST_EXPORT, &out);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s.export.json", dir.buf, name);
		write_file(path.buf, out.buf);
		inv_free(inv);
		strbuf_release(&err);
		cases++;
	}
	assert_true(cases >= 7);
	strbuf_release(&list);
	strbuf_release(&dir);
	strbuf_release(&out);
	strbuf_release(&path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_membership),
		cmocka_unit_test(test_lab_vars),
		cmocka_unit_test(test_lab_merge_sources),
		cmocka_unit_test(test_lab_conn),
		cmocka_unit_test(test_bad_fixtures),
		cmocka_unit_test(test_ini_ungrouped),
		cmocka_unit_test(test_ini_syntax),
		cmocka_unit_test(test_ini_ranges_and_ipv6),
		cmocka_unit_test(test_ini_children_order),
		cmocka_unit_test(test_group_api),
		cmocka_unit_test(test_vars_api),
		cmocka_unit_test(test_json_file),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_host_list),
		cmocka_unit_test(test_detect_format),
		cmocka_unit_test(test_list_shape),
		cmocka_unit_test(test_big_inventory),
		cmocka_unit_test(test_write_compare_outputs),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
