/* test_proto: the protocol model and its JSON codec.
 *
 * Fixtures live in tests/fixtures/protocol/ (found through $VFLEET_TOP, or
 * the current directory):
 *   valid/NAME-request.json, valid/NAME-response.json: canonical
 *     encodings; the decoder accepts them and the encoder gives back the
 *     same bytes
 *   invalid/NAME.json, listed in invalid/EXPECTED: each must be rejected
 *     with the listed error and a message containing the listed text
 * VFLEET_REGEN_FIXTURES=1 rewrites valid/ in canonical form instead of
 * comparing (then review the diff).
 *
 * The schemas in protocol/schema/v1/ are checked against the same
 * fixtures with a small JSON Schema validator below (the subset of draft
 * 2020-12 the schemas use; any other keyword fails the test), so that the
 * codec and the schemas cannot drift apart without a failure here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "findings.h"
#include "proto.h"
#include "strbuf.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ */
/* Fixture helpers                                                      */
/* ------------------------------------------------------------------ */

static void
fixture_path(struct strbuf *sb, const char *rel)
{
	const char *top = getenv("VFLEET_TOP");

	strbuf_reset(sb);
	strbuf_addf(sb, "%s/%s", top && *top ? top : ".", rel);
}

static void
read_fixture(const char *rel, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	fixture_path(&path, rel);
	strbuf_reset(out);
	r = strbuf_read_file(out, path.buf, 16u << 20);
	if (r < 0)
		fail_msg("cannot read %s: %s", path.buf, strerror(-r));
	strbuf_release(&path);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the *.json files in rel (caller frees with proto_strv_free). */
static char **
list_json(const char *rel, size_t *n)
{
	struct strbuf path = STRBUF_INIT;
	char **names = NULL;
	struct dirent *de;
	DIR *dir;

	*n = 0;
	fixture_path(&path, rel);
	dir = opendir(path.buf);
	if (!dir)
		fail_msg("cannot open %s: %s", path.buf, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			proto_strv_add(&names, n, de->d_name);
	}
	closedir(dir);
	strbuf_release(&path);
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_names);
	return names;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

#define FIXTURES "tests/fixtures/protocol"

/*
 * A valid fixture must be what the encoder writes; with
 * VFLEET_REGEN_FIXTURES=1 it is rewritten to that instead.
 */
static void
check_canonical(const char *name, const struct strbuf *in,
		const struct strbuf *canon)
{
	struct strbuf rel = STRBUF_INIT, path = STRBUF_INIT;
	FILE *f;

	if (!getenv("VFLEET_REGEN_FIXTURES")) {
		if (strcmp(canon->buf, in->buf) != 0)
			fail_msg("valid/%s is not in canonical form; the encoder "
				 "gives:\n%s", name, canon->buf);
		return;
	}
	strbuf_addf(&rel, FIXTURES "/valid/%s", name);
	fixture_path(&path, rel.buf);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(canon->buf, 1, canon->len, f), canon->len);
	assert_int_equal(fclose(f), 0);
	strbuf_release(&rel);
	strbuf_release(&path);
}

/* ------------------------------------------------------------------ */
/* Valid fixtures: canonical and round-trip                             */
/* ------------------------------------------------------------------ */

static void
check_request_roundtrip(const char *name, const struct strbuf *in)
{
	struct proto_request req, req2;
	struct strbuf err = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	int r;

	r = proto_request_decode(in->buf, in->len, &req, &err);
	if (r != 0)
		fail_msg("%s: decode failed (%d): %s", name, r, err.buf);
	assert_int_equal(proto_request_encode(&req, &a), 0);
	assert_int_equal(proto_request_decode(a.buf, a.len, &req2, &err), 0);
	assert_int_equal(proto_request_encode(&req2, &b), 0);
	assert_string_equal(a.buf, b.buf);
	check_canonical(name, in, &a);
	proto_request_release(&req);
	proto_request_release(&req2);
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void
check_response_roundtrip(const char *name, const struct strbuf *in)
{
	struct proto_response resp, resp2;
	struct strbuf err = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct strbuf c = STRBUF_INIT, d = STRBUF_INIT;
	int r;

	r = proto_response_decode(in->buf, in->len, &resp, &err);
	if (r != 0)
		fail_msg("%s: decode failed (%d): %s", name, r, err.buf);
	assert_int_equal(proto_response_encode(&resp, true, &a), 0);
	assert_int_equal(proto_response_decode(a.buf, a.len, &resp2, &err), 0);
	assert_int_equal(proto_response_encode(&resp2, true, &b), 0);
	assert_string_equal(a.buf, b.buf);
	/* The compact form carries the same message. */
	assert_int_equal(proto_response_encode(&resp2, false, &c), 0);
	assert_null(memchr(c.buf, '\n', c.len - 1));
	proto_response_release(&resp2);
	assert_int_equal(proto_response_decode(c.buf, c.len, &resp2, &err), 0);
	assert_int_equal(proto_response_encode(&resp2, true, &d), 0);
	assert_string_equal(a.buf, d.buf);
	check_canonical(name, in, &a);
	proto_response_release(&resp);
	proto_response_release(&resp2);
	strbuf_release(&err);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&c);
	strbuf_release(&d);
}

static void
test_valid_fixtures(void **state)
{
	struct strbuf rel = STRBUF_INIT, in = STRBUF_INIT;
	size_t n, nreq = 0, nresp = 0;
	char **names = list_json(FIXTURES "/valid", &n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, FIXTURES "/valid/%s", names[i]);
		read_fixture(rel.buf, &in);
		if (ends_with(names[i], "-request.json")) {
			check_request_roundtrip(names[i], &in);
			nreq++;
		} else if (ends_with(names[i], "-response.json")) {
			check_response_roundtrip(names[i], &in);
			nresp++;
		} else {
			fail_msg("%s: valid fixtures end in -request.json or "
				 "-response.json", names[i]);
		}
	}
	assert_true(nreq >= 1);
	assert_true(nresp >= 3);
	proto_strv_free(names, n);
	strbuf_release(&rel);
	strbuf_release(&in);
}

/* The facts fixture decodes into what it says (spot checks). */
static void
test_facts_fixture_content(void **state)
{
	struct proto_response resp;
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	struct proto_pci_func *f;

	(void)state;
	read_fixture(FIXTURES "/valid/facts-response.json", &in);
	assert_int_equal(proto_response_decode(in.buf, in.len, &resp, &err), 0);
	assert_int_equal(resp.version_major, 1);
	assert_int_equal(resp.version_minor, 0);
	assert_int_equal(resp.op, PROTO_OP_FACTS);
	assert_true(resp.ok);
	assert_string_equal(resp.host.hostname, "gpu-lab-03");
	assert_int_equal(resp.host.iommu_active, PROTO_YES);
	assert_int_equal(resp.host.secure_boot, PROTO_NO);
	assert_null(resp.host.vfio_state);
	assert_int_equal(resp.nfuncs, 6);
	f = proto_find_func(&resp, "0000:0b:00.0");
	assert_non_null(f);
	assert_int_equal(f->vendor_id, 0x10de);
	assert_int_equal(f->device_id, 0x2204);
	assert_int_equal(f->class_code, 0x030000);
	assert_int_equal(f->revision, 161);
	assert_int_equal(f->iommu_group, 14);
	assert_int_equal(f->boot_vga, PROTO_NO);
	assert_int_equal(f->numa_node, -1);
	assert_int_equal(f->sriov_totalvfs, -1);
	assert_null(f->driver_override);
	assert_string_equal(f->driver, "nvidia");
	assert_int_equal(resp.ngroups, 2);
	assert_int_equal(resp.groups[1].nmembers, 3);
	assert_int_equal(resp.ngpus, 2);
	assert_int_equal(resp.gpus[1].verdict, PROTO_VERDICT_BLOCKED);
	assert_false(resp.gpus[1].group_viable);
	assert_int_equal(resp.nfindings, 5);
	assert_int_equal(resp.findings[2].severity, PROTO_SEV_BLOCKER);
	assert_string_equal(resp.findings[2].code, "group-not-viable");
	assert_null(resp.findings[1].device);
	assert_int_equal(resp.findings[1].nevidence, 1);
	assert_int_equal(resp.nchanges, 0);
	assert_int_equal(resp.nerrors, 0);
	proto_response_release(&resp);
	strbuf_release(&in);
	strbuf_release(&err);
}

/* ------------------------------------------------------------------ */
/* Invalid fixtures                                                     */
/* ------------------------------------------------------------------ */

struct expect {
	char *file;
	bool response;
	int error;
	char *text;
};

static int
errno_by_name(const char *s)
{
	if (strcmp(s, "EPROTO") == 0)
		return -EPROTO;
	if (strcmp(s, "EPROTONOSUPPORT") == 0)
		return -EPROTONOSUPPORT;
	if (strcmp(s, "EMSGSIZE") == 0)
		return -EMSGSIZE;
	fail_msg("EXPECTED: unknown error name %s", s);
	return 0;
}

/* Parse invalid/EXPECTED into *ex (caller frees with free_expect). */
static size_t
load_expect(struct expect **ex)
{
	struct strbuf in = STRBUF_INIT;
	char *line, *save = NULL;
	size_t n = 0;

	*ex = NULL;
	read_fixture(FIXTURES "/invalid/EXPECTED", &in);
	for (line = strtok_r(in.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *p = line;
		int i;

		if (*line == '#' || *line == '\0')
			continue;
		for (i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = i < 3 ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = '\0';
		}
		if (i != 4)
			fail_msg("EXPECTED: bad line: %s", line);
		*ex = xrealloc(*ex, (n + 1) * sizeof(**ex));
		(*ex)[n].file = xstrdup(f[0]);
		if (strcmp(f[1], "request") && strcmp(f[1], "response"))
			fail_msg("EXPECTED: %s: decoder must be request or response",
				 f[0]);
		(*ex)[n].response = strcmp(f[1], "response") == 0;
		(*ex)[n].error = errno_by_name(f[2]);
		(*ex)[n].text = xstrdup(f[3]);
		n++;
	}
	strbuf_release(&in);
	return n;
}

static void
free_expect(struct expect *ex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ex[i].file);
		free(ex[i].text);
	}
	free(ex);
}

/* Decode buf with the request or response decoder; check *out is released. */
static int
decode_any(bool response, const char *buf, size_t len, struct strbuf *err)
{
	int r;

	if (response) {
		struct proto_response resp;

		r = proto_response_decode(buf, len, &resp, err);
		if (r < 0) {
			assert_int_equal(resp.nfuncs, 0);
			assert_null(resp.funcs);
			assert_null(resp.host.hostname);
			assert_int_equal(resp.nfindings, 0);
		}
		proto_response_release(&resp);
	} else {
		struct proto_request req;

		r = proto_request_decode(buf, len, &req, err);
		if (r < 0) {
			assert_null(req.root);
			assert_null(req.policy.select);
			assert_int_equal(req.policy.nselect, 0);
		}
		proto_request_release(&req);
	}
	return r;
}

static void
test_invalid_fixtures(void **state)
{
	struct strbuf rel = STRBUF_INIT, in = STRBUF_INIT, err = STRBUF_INIT;
	struct expect *ex;
	size_t nex, nfiles, i, j;
	char **files;
	int r;

	(void)state;
	nex = load_expect(&ex);
	files = list_json(FIXTURES "/invalid", &nfiles);
	assert_true(nfiles >= 10);
	/* Every fixture is listed (none goes unchecked) and vice versa. */
	for (i = 0; i < nfiles; i++) {
		for (j = 0; j < nex && strcmp(ex[j].file, files[i]); j++)
			;
		if (j == nex)
			fail_msg("invalid/%s is not listed in invalid/EXPECTED",
				 files[i]);
	}
	assert_int_equal(nex, nfiles);

	for (i = 0; i < nex; i++) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, FIXTURES "/invalid/%s", ex[i].file);
		read_fixture(rel.buf, &in);
		strbuf_reset(&err);
		r = decode_any(ex[i].response, in.buf, in.len, &err);
		if (r != ex[i].error)
			fail_msg("%s: expected %d, got %d (%s)", ex[i].file,
				 ex[i].error, r, err.buf);
		if (!strstr(err.buf, ex[i].text))
			fail_msg("%s: message \"%s\" lacks \"%s\"", ex[i].file,
				 err.buf, ex[i].text);
		/* One line, for logs and the fleet table. */
		assert_null(strchr(err.buf, '\n'));
	}
	free_expect(ex, nex);
	proto_strv_free(files, nfiles);
	strbuf_release(&rel);
	strbuf_release(&in);
	strbuf_release(&err);
}

/* ------------------------------------------------------------------ */
/* A response built with the model helpers                              */
/* ------------------------------------------------------------------ */

static void
build_response(struct proto_response *resp)
{
	struct proto_pci_func *f;
	struct proto_iommu_group *g;
	struct proto_gpu *gpu;
	struct proto_finding *fi;
	struct proto_change *c;

	proto_response_init(resp, PROTO_OP_APPLY);
	resp->changed = true;
	resp->agent_version = xstrdup("0.1.0-test");
	resp->host.hostname = xstrdup("node\"7\\ with \"quotes\" and /slashes/");
	resp->host.cmdline = xstrdup("ro quiet\tintel_iommu=on\n");
	resp->host.iommu_active = PROTO_NO;
	resp->host.intremap = PROTO_YES;
	resp->host.iommu_groups = 0;
	resp->host.cpu_model = xstrdup("Intel\xc2\xae Xeon\xc2\xae \xe2\x80\x94 \xf0\x9f\x96\xa5");
	proto_strv_add(&resp->host.modules_loaded, &resp->host.nmodules_loaded,
		       "vfio_pci");
	proto_strv_add(&resp->host.grub_overrides, &resp->host.ngrub_overrides,
		       "/etc/default/grub.d/99-x.cfg");

	f = proto_add_func(resp);
	f->address = xstrdup("10000:e1:00.7");	/* a VMD domain */
	f->class_code = 0x030200;
	f->vendor_id = 0x10de;
	f->device_id = 0x20b5;
	f->subsys_vendor_id = 0xffff;
	f->subsys_device_id = 0x0001;
	f->revision = 0;
	f->iommu_group = 0;
	f->boot_vga = PROTO_YES;
	f->numa_node = 1;
	f->sriov_totalvfs = 0;
	f->link_width = 0;
	f->driver_override = xstrdup("vfio-pci");
	f = proto_add_func(resp);	/* all defaults: -1 and NULL */
	f->address = xstrdup("0000:00:00.0");

	g = proto_add_group(resp);
	g->id = 0;
	proto_strv_add(&g->members, &g->nmembers, "10000:e1:00.7");
	proto_add_group(resp)->id = 7;	/* no members */

	gpu = proto_add_gpu(resp);
	gpu->address = xstrdup("10000:e1:00.7");
	gpu->verdict = PROTO_VERDICT_READY;
	gpu->group_viable = true;
	gpu->iommu_group = 0;

	fi = proto_add_finding(resp, PROTO_SEV_WARNING, "3d-controller",
			       "10000:e1:00.7", "class %06x is a %s", 0x030200,
			       "3D controller");
	proto_finding_add_evidence(fi, "%s:%d: %s", "/sys/x", 1, "0x030200");
	proto_add_finding(resp, PROTO_SEV_INFO, "secure-boot", NULL,
			  "Secure Boot is on");

	c = proto_add_change(resp);
	c->kind = xstrdup("file");
	c->target = xstrdup("/etc/modprobe.d/vfleet.conf");
	c->diff = xstrdup("--- a\n+++ b\n@@ -0,0 +1 @@\n+options vfio-pci ids=10de:20b5\n");
	c->sha256_after = xstrdup("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	c = proto_add_change(resp);
	c->kind = xstrdup("command");
	c->target = xstrdup("/usr/sbin/update-initramfs -u -k all");
	c->exit_code = 0;
	c->output_tail = xstrdup("");

	proto_add_error(resp, "initramfs", "/boot/initrd.img-6.1.0",
			"update-initramfs failed: %s", "No space left on device");
}

/* Deep equality of the parts build_response() fills. */
static void
assert_same_response(const struct proto_response *a,
		     const struct proto_response *b)
{
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->ok, b->ok);
	assert_int_equal(a->changed, b->changed);
	assert_string_equal(a->agent_version, b->agent_version);
	assert_string_equal(a->host.hostname, b->host.hostname);
	assert_string_equal(a->host.cmdline, b->host.cmdline);
	assert_string_equal(a->host.cpu_model, b->host.cpu_model);
	assert_int_equal(a->host.iommu_active, b->host.iommu_active);
	assert_int_equal(a->host.intremap, b->host.intremap);
	assert_int_equal(a->host.secure_boot, b->host.secure_boot);
	assert_int_equal(a->host.nmodules_loaded, b->host.nmodules_loaded);
	assert_string_equal(a->host.grub_overrides[0], b->host.grub_overrides[0]);
	assert_int_equal(a->nfuncs, b->nfuncs);
	for (size_t i = 0; i < a->nfuncs; i++) {
		const struct proto_pci_func *x = &a->funcs[i], *y = &b->funcs[i];

		assert_string_equal(x->address, y->address);
		assert_int_equal(x->class_code, y->class_code);
		assert_int_equal(x->vendor_id, y->vendor_id);
		assert_int_equal(x->device_id, y->device_id);
		assert_int_equal(x->subsys_vendor_id, y->subsys_vendor_id);
		assert_int_equal(x->subsys_device_id, y->subsys_device_id);
		assert_int_equal(x->revision, y->revision);
		assert_int_equal(x->iommu_group, y->iommu_group);
		assert_int_equal(x->boot_vga, y->boot_vga);
		assert_int_equal(x->numa_node, y->numa_node);
		assert_int_equal(x->sriov_totalvfs, y->sriov_totalvfs);
		assert_int_equal(x->link_width, y->link_width);
		assert_true((x->driver_override == NULL) == (y->driver_override == NULL));
	}
	assert_int_equal(a->ngroups, b->ngroups);
	assert_int_equal(a->groups[1].id, b->groups[1].id);
	assert_int_equal(a->groups[1].nmembers, 0);
	assert_int_equal(b->groups[1].nmembers, 0);
	assert_int_equal(a->ngpus, b->ngpus);
	assert_int_equal(a->gpus[0].verdict, b->gpus[0].verdict);
	assert_int_equal(a->gpus[0].group_viable, b->gpus[0].group_viable);
	assert_null(b->gpus[0].reason);
	assert_int_equal(a->nfindings, b->nfindings);
	assert_string_equal(a->findings[0].message, b->findings[0].message);
	assert_string_equal(a->findings[0].evidence[0], b->findings[0].evidence[0]);
	assert_null(b->findings[1].device);
	assert_int_equal(a->nchanges, b->nchanges);
	assert_string_equal(a->changes[0].diff, b->changes[0].diff);
	assert_null(b->changes[0].sha256_before);
	assert_int_equal(b->changes[0].exit_code, -1);
	assert_int_equal(b->changes[1].exit_code, 0);
	assert_string_equal(b->changes[1].output_tail, "");
	assert_int_equal(a->nerrors, b->nerrors);
	assert_string_equal(a->errors[0].path, b->errors[0].path);
}

static void
test_built_response_roundtrip(void **state)
{
	struct proto_response resp, back, again;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	(void)state;
	build_response(&resp);
	for (int pretty = 0; pretty <= 1; pretty++) {
		strbuf_reset(&a);
		strbuf_reset(&b);
		assert_int_equal(proto_response_encode(&resp, pretty, &a), 0);
		assert_true(a.len > 0 && a.buf[a.len - 1] == '\n');
		r = proto_response_decode(a.buf, a.len, &back, &err);
		if (r)
			fail_msg("decode: %s\n%s", err.buf, a.buf);
		assert_same_response(&resp, &back);
		assert_int_equal(proto_response_encode(&back, pretty, &b), 0);
		assert_string_equal(a.buf, b.buf);
		assert_int_equal(proto_response_decode(b.buf, b.len, &again, &err), 0);
		assert_same_response(&back, &again);
		proto_response_release(&back);
		proto_response_release(&again);
	}
	/* Nulls and sentinels are spelled out, not dropped. */
	assert_non_null(strstr(a.buf, "\"revision\": null"));
	assert_non_null(strstr(a.buf, "\"boot_vga\": true"));
	assert_non_null(strstr(a.buf, "\"secure_boot\": null"));
	assert_non_null(strstr(a.buf, "\"address\": \"10000:e1:00.7\""));
	assert_non_null(strstr(a.buf, "\"class_code\": \"030200\""));
	assert_non_null(strstr(a.buf, "\"ok\": false"));
	assert_non_null(strstr(a.buf, "/slashes/"));	/* no \/ */
	proto_response_release(&resp);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
}

/* Host strings that are not UTF-8 must not make the answer undecodable. */
static void
test_encode_invalid_utf8(void **state)
{
	struct proto_response resp, back;
	struct strbuf a = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	proto_response_init(&resp, PROTO_OP_FACTS);
	resp.host.cmdline = xstrdup("root=/dev/sda1 x=\xff\xfe y=\xc3\xa9 z=\xe2\x82 \xed\xa0\x80.");
	assert_int_equal(proto_response_encode(&resp, false, &a), 0);
	assert_int_equal(proto_response_decode(a.buf, a.len, &back, &err), 0);
	assert_string_equal(back.host.cmdline,
			    "root=/dev/sda1 x=\xef\xbf\xbd\xef\xbf\xbd y=\xc3\xa9 "
			    "z=\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.");
	proto_response_release(&resp);
	proto_response_release(&back);
	strbuf_release(&a);
	strbuf_release(&err);
}

/* The apply members: command overrides in the policy, the state record in
 * the response. */
static void
test_apply_members(void **state)
{
	static const char bad_argv[] = "{\"protocol\":\"vfleet/1.0\",\"op\":"
		"\"apply\",\"policy\":{\"cmd_initramfs\":[\"update-initramfs\","
		"\"-u\"]}}";
	static const char bad_type[] = "{\"protocol\":\"vfleet/1.0\",\"op\":"
		"\"apply\",\"policy\":{\"cmd_reboot\":\"/sbin/reboot\"}}";
	struct proto_request a, b;
	struct proto_response ra, rb;
	struct proto_state *st;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	proto_request_init(&a, PROTO_OP_APPLY);
	proto_strv_add(&a.policy.cmd_initramfs, &a.policy.ncmd_initramfs,
		       "/usr/sbin/update-initramfs");
	proto_strv_add(&a.policy.cmd_initramfs, &a.policy.ncmd_initramfs, "-u");
	proto_strv_add(&a.policy.cmd_reboot, &a.policy.ncmd_reboot, "/bin/true");
	assert_int_equal(proto_request_encode(&a, &out), 0);
	assert_int_equal(proto_request_decode(out.buf, out.len, &b, &err), 0);
	assert_int_equal(b.policy.ncmd_initramfs, 2);
	assert_string_equal(b.policy.cmd_initramfs[1], "-u");
	assert_int_equal(b.policy.ncmd_reboot, 1);
	assert_int_equal(b.policy.ncmd_bootloader_update, 0);
	proto_request_release(&a);
	proto_request_release(&b);

	assert_int_equal(proto_request_decode(bad_argv, strlen(bad_argv), &b,
					      &err), -EPROTO);
	assert_non_null(strstr(err.buf, "policy.cmd_initramfs[0]: expected an "
			       "absolute path"));
	strbuf_reset(&err);
	assert_int_equal(proto_request_decode(bad_type, strlen(bad_type), &b,
					      &err), -EPROTO);
	assert_non_null(strstr(err.buf, "policy.cmd_reboot: expected array"));

	proto_response_init(&ra, PROTO_OP_STATUS);
	st = proto_set_state(&ra);
	assert_ptr_equal(proto_set_state(&ra), st);
	st->phase = xstrdup("applied-pending-reboot");
	st->run_id = xstrdup("r1");
	st->binding = xstrdup("ids");
	proto_strv_add(&st->devices, &st->ndevices, "0000:0e:00.0");
	proto_strv_add(&st->cmdline_expected, &st->ncmdline_expected,
		       "intel_iommu=on");
	strbuf_reset(&out);
	assert_int_equal(proto_response_encode(&ra, false, &out), 0);
	assert_non_null(strstr(out.buf, "\"state\":{\"phase\":"
			       "\"applied-pending-reboot\""));
	assert_int_equal(proto_response_decode(out.buf, out.len, &rb, &err), 0);
	assert_non_null(rb.state);
	assert_string_equal(rb.state->phase, "applied-pending-reboot");
	assert_string_equal(rb.state->devices[0], "0000:0e:00.0");
	assert_string_equal(rb.state->cmdline_expected[0], "intel_iommu=on");
	assert_null(rb.state->boot_id);
	proto_response_release(&ra);
	proto_response_release(&rb);

	/* No record: "state": null, which decodes to NULL. */
	proto_response_init(&ra, PROTO_OP_STATUS);
	strbuf_reset(&out);
	assert_int_equal(proto_response_encode(&ra, false, &out), 0);
	assert_non_null(strstr(out.buf, "\"state\":null"));
	assert_int_equal(proto_response_decode(out.buf, out.len, &rb, &err), 0);
	assert_null(rb.state);
	proto_response_release(&ra);
	proto_response_release(&rb);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ------------------------------------------------------------------ */
/* Requests, versions, limits                                           */
/* ------------------------------------------------------------------ */

static void
test_request_defaults_and_encode(void **state)
{
	static const char min[] = "{\"protocol\":\"vfleet/1.0\",\"op\":\"status\"}";
	struct proto_request req;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	assert_int_equal(proto_request_decode(min, strlen(min), &req, &err), 0);
	assert_int_equal(req.op, PROTO_OP_STATUS);
	assert_null(req.root);
	assert_null(req.run_id);
	assert_int_equal(req.policy.nselect, 0);
	assert_false(req.policy.allow_no_iommu);
	assert_int_equal(proto_request_encode(&req, &out), 0);
	assert_string_equal(out.buf,
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"status\",\"root\":null,"
		"\"run_id\":null,\"policy\":{\"select\":[],"
		"\"allow_unsafe_interrupts\":false,\"allow_group_not_viable\":false,"
		"\"allow_only_display\":false,\"allow_no_iommu\":false,"
		"\"allow_driver_in_use\":false,\"cmd_bootloader_update\":[],"
		"\"cmd_initramfs\":[],\"cmd_reboot\":[]}}\n");
	proto_request_release(&req);

	/* Every op encodes and decodes by name. */
	for (int op = 0; op < PROTO_OP__COUNT; op++) {
		struct proto_request a, b;

		proto_request_init(&a, (enum proto_op)op);
		a.root = xstrdup("/tmp/sysroot");
		a.run_id = xstrdup("run_1.x-Y");
		proto_strv_add(&a.policy.select, &a.policy.nselect, "10DE:1C03");
		a.policy.allow_unsafe_interrupts = true;
		strbuf_reset(&out);
		assert_int_equal(proto_request_encode(&a, &out), 0);
		assert_int_equal(proto_request_decode(out.buf, out.len, &b, &err), 0);
		assert_int_equal(b.op, op);
		assert_string_equal(b.root, "/tmp/sysroot");
		assert_string_equal(b.run_id, "run_1.x-Y");
		/* Selectors come out lowercase, as sysfs spells IDs. */
		assert_string_equal(b.policy.select[0], "10de:1c03");
		assert_true(b.policy.allow_unsafe_interrupts);
		assert_false(b.policy.allow_driver_in_use);
		proto_request_release(&a);
		proto_request_release(&b);
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

/* A newer minor version with members this side does not know is fine. */
static void
test_minor_version_accepted(void **state)
{
	static const char req17[] =
		"{\"protocol\":\"vfleet/1.7\",\"op\":\"facts\",\"deadline\":30,"
		"\"policy\":{\"select\":[\"10de\"],\"allow_magic\":true},"
		"\"future\":{\"nested\":[1,2,{\"x\":null}]}}";
	static const char resp17[] =
		"{\"protocol\":\"vfleet/1.7\",\"op\":\"verify\",\"ok\":true,"
		"\"uptime\":5.5,\"host\":{\"hostname\":\"h\",\"tpm\":\"2.0\"},"
		"\"funcs\":[{\"address\":\"0000:01:00.0\",\"class_code\":\"030000\","
		"\"vendor_id\":\"1002\",\"device_id\":\"73bf\",\"resizable_bar\":true}],"
		"\"findings\":[{\"severity\":\"info\",\"code\":\"new-thing\","
		"\"message\":\"m\",\"hint\":\"h\"}]}";
	struct proto_request req;
	struct proto_response resp;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	assert_int_equal(proto_request_decode(req17, strlen(req17), &req, &err), 0);
	assert_int_equal(req.version_major, 1);
	assert_int_equal(req.version_minor, 7);
	assert_int_equal(req.policy.nselect, 1);
	assert_int_equal(proto_request_encode(&req, &out), 0);
	assert_non_null(strstr(out.buf, "\"protocol\":\"vfleet/1.7\""));
	assert_null(strstr(out.buf, "future"));
	proto_request_release(&req);

	assert_int_equal(proto_response_decode(resp17, strlen(resp17), &resp, &err), 0);
	assert_int_equal(resp.version_minor, 7);
	assert_int_equal(resp.op, PROTO_OP_VERIFY);
	assert_int_equal(resp.nfuncs, 1);
	assert_int_equal(resp.funcs[0].device_id, 0x73bf);
	assert_int_equal(resp.funcs[0].iommu_group, -1);	/* absent: default */
	assert_int_equal(resp.host.iommu_active, PROTO_UNKNOWN);
	assert_string_equal(resp.findings[0].code, "new-thing");
	assert_int_equal(resp.findings[0].nevidence, 0);
	proto_response_release(&resp);
	assert_string_equal(err.buf, "");
	strbuf_release(&err);
	strbuf_release(&out);
}

static void
test_version_forms(void **state)
{
	static const struct {
		const char *protocol;
		int error;
		const char *text;
	} cases[] = {
		{ "vfleet/1.0", 0, "" },
		{ "vfleet/1.9999", 0, "" },
		{ "vfleet/1", -EPROTO, "protocol: expected \"vfleet/MAJOR.MINOR\"" },
		{ "vfleet/1.", -EPROTO, "protocol: expected" },
		{ "vfleet/01.0", -EPROTO, "protocol: expected" },
		{ "vfleet/1.00", -EPROTO, "protocol: expected" },
		{ "vfleet/1.0.1", -EPROTO, "protocol: expected" },
		{ "vfleet/1.10000", -EPROTO, "protocol: expected" },
		{ "vfleet/+1.0", -EPROTO, "protocol: expected" },
		{ "VFLEET/1.0", -EPROTO, "protocol: expected" },
		{ "", -EPROTO, "protocol: expected" },
		{ "vfleet/2.0", -EPROTONOSUPPORT,
		  "unsupported protocol version 2.0; this agent speaks 1.x" },
		{ "vfleet/0.3", -EPROTONOSUPPORT,
		  "unsupported protocol version 0.3; this agent speaks 1.x" },
		{ "vfleet/9999.1", -EPROTONOSUPPORT,
		  "unsupported protocol version 9999.1" },
	};
	struct strbuf msg = STRBUF_INIT, err = STRBUF_INIT;
	struct proto_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&msg);
		strbuf_reset(&err);
		strbuf_addf(&msg, "{\"protocol\":\"%s\",\"op\":\"facts\"}",
			    cases[i].protocol);
		if (proto_request_decode(msg.buf, msg.len, &req, &err) !=
		    cases[i].error)
			fail_msg("%s: got \"%s\"", cases[i].protocol, err.buf);
		assert_non_null(strstr(err.buf, cases[i].text));
		proto_request_release(&req);
	}
	/* The type of "protocol" is checked too, and a 2.x shape never is. */
	strbuf_reset(&err);
	strbuf_reset(&msg);
	strbuf_addstr(&msg, "{\"protocol\":1,\"op\":\"facts\"}");
	assert_int_equal(decode_any(false, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "protocol: expected string, got integer"));
	strbuf_reset(&err);
	strbuf_reset(&msg);
	strbuf_addstr(&msg, "{\"protocol\":\"vfleet/2.1\",\"op\":7}");
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(err.buf, "this controller speaks 1.x"));
	strbuf_release(&msg);
	strbuf_release(&err);
}

static void
test_oversize_message(void **state)
{
	static const char head[] = "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\"}";
	struct strbuf err = STRBUF_INIT;
	char *buf;

	(void)state;
	/* Exactly the limit (trailing whitespace) is accepted ... */
	buf = xmalloc(PROTO_MESSAGE_MAX + 1);
	memset(buf, ' ', PROTO_MESSAGE_MAX + 1);
	memcpy(buf, head, strlen(head));
	assert_int_equal(decode_any(false, buf, PROTO_MESSAGE_MAX, &err), 0);
	/* ... one byte more is not, before any parsing. */
	assert_int_equal(decode_any(false, buf, PROTO_MESSAGE_MAX + 1, &err),
			 -EMSGSIZE);
	assert_non_null(strstr(err.buf, "8388609 bytes is over the limit of 8388608"));
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, buf, PROTO_MESSAGE_MAX + 1, &err),
			 -EMSGSIZE);
	free(buf);
	strbuf_release(&err);
}

/* A response with host.<key> set to the JSON text value. */
static void
host_message(struct strbuf *sb, const char *key, const char *value)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		    "\"host\":{\"%s\":%s}}", key, value);
}

static void
test_limits(void **state)
{
	struct strbuf msg = STRBUF_INIT, v = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;

	(void)state;
	/* Strings: PROTO_STRING_MAX bytes are fine, one more is not. */
	strbuf_addch(&v, '"');
	for (i = 0; i < PROTO_STRING_MAX; i++)
		strbuf_addch(&v, 'h');
	strbuf_addch(&v, '"');
	host_message(&msg, "hostname", v.buf);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), 0);
	strbuf_setlen(&v, v.len - 1);
	strbuf_addstr(&v, "h\"");
	host_message(&msg, "hostname", v.buf);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "host.hostname: string of 65537 bytes"));

	/* Multi-byte text counts in bytes. */
	strbuf_reset(&v);
	strbuf_addch(&v, '"');
	for (i = 0; i < PROTO_STRING_MAX / 2 + 1; i++)
		strbuf_addstr(&v, "\xc3\xa9");
	strbuf_addch(&v, '"');
	host_message(&msg, "cpu_model", v.buf);
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "host.cpu_model: string of 65538 bytes"));

	/* Diffs may be up to PROTO_TEXT_MAX. */
	strbuf_reset(&v);
	for (i = 0; i < PROTO_TEXT_MAX; i++)
		strbuf_addch(&v, 'd');
	strbuf_reset(&msg);
	strbuf_addf(&msg, "{\"protocol\":\"vfleet/1.0\",\"op\":\"plan\",\"ok\":true,"
		    "\"changes\":[{\"kind\":\"file\",\"target\":\"/x\",\"diff\":\"%s\"}]}",
		    v.buf);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), 0);
	strbuf_reset(&msg);
	strbuf_addf(&msg, "{\"protocol\":\"vfleet/1.0\",\"op\":\"plan\",\"ok\":true,"
		    "\"changes\":[{\"kind\":\"file\",\"target\":\"/x\",\"diff\":\"%sd\"}]}",
		    v.buf);
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "changes[0].diff: string of 1048577 bytes"));
	/* ... but a target may not. */
	strbuf_reset(&msg);
	strbuf_addf(&msg, "{\"protocol\":\"vfleet/1.0\",\"op\":\"plan\",\"ok\":true,"
		    "\"changes\":[{\"kind\":\"file\",\"target\":\"%s\"}]}", v.buf);
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "changes[0].target: string of"));

	/* Arrays: PROTO_ARRAY_MAX elements are fine, one more is not. */
	for (size_t n = PROTO_ARRAY_MAX; n <= PROTO_ARRAY_MAX + 1; n++) {
		strbuf_reset(&v);
		strbuf_addch(&v, '[');
		for (i = 0; i < n; i++)
			strbuf_addstr(&v, i ? ",\"m\"" : "\"m\"");
		strbuf_addch(&v, ']');
		host_message(&msg, "modules_loaded", v.buf);
		strbuf_reset(&err);
		assert_int_equal(decode_any(true, msg.buf, msg.len, &err),
				 n == PROTO_ARRAY_MAX ? 0 : -EPROTO);
	}
	assert_non_null(strstr(err.buf,
		"host.modules_loaded: 65537 elements are over the limit of 65536"));

	/* JSON values in all, counted before json-c allocates them. */
	strbuf_reset(&v);
	strbuf_addch(&v, '[');
	for (i = 0; i < 600000; i++)
		strbuf_addstr(&v, i ? ",0" : "0");
	strbuf_addch(&v, ']');
	host_message(&msg, "unknown_future_member", v.buf);
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "message: more than 524288 JSON values"));

	/* Objects and arrays in all (each costs a json-c hash table). */
	strbuf_reset(&v);
	strbuf_addch(&v, '[');
	for (i = 0; i < 20000; i++)
		strbuf_addstr(&v, i ? ",{}" : "{}");
	strbuf_addch(&v, ']');
	host_message(&msg, "unknown_future_member", v.buf);
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "message: more than 16384 JSON objects"));
	/* Brackets inside strings do not count. */
	strbuf_reset(&v);
	strbuf_addch(&v, '"');
	for (i = 0; i < 10000; i++)
		strbuf_addstr(&v, "{[,:\\\"");
	strbuf_addch(&v, '"');
	host_message(&msg, "cmdline", v.buf);
	strbuf_reset(&err);
	assert_int_equal(decode_any(true, msg.buf, msg.len, &err), 0);

	/* Nesting: PROTO_DEPTH_MAX levels parse, one more does not. */
	for (int depth = PROTO_DEPTH_MAX - 2; depth <= PROTO_DEPTH_MAX - 1; depth++) {
		strbuf_reset(&v);
		for (int k = 0; k < depth; k++)
			strbuf_addch(&v, '[');
		for (int k = 0; k < depth; k++)
			strbuf_addch(&v, ']');
		/* Two levels come from the message and host objects. */
		host_message(&msg, "x", v.buf);
		strbuf_reset(&err);
		assert_int_equal(decode_any(true, msg.buf, msg.len, &err),
				 depth == PROTO_DEPTH_MAX - 2 ? 0 : -EPROTO);
	}
	assert_non_null(strstr(err.buf, "nested deeper than 32 levels"));

	strbuf_release(&msg);
	strbuf_release(&v);
	strbuf_release(&err);
}

static void
test_decode_details(void **state)
{
	static const struct {
		bool response;
		const char *json;
		int error;
		const char *text;
	} cases[] = {
		/* NUL bytes in the input, not just in strings. */
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\"}\0", -EPROTO,
		  "message: contains a NUL byte" },
		{ false, "null", -EPROTO, "message: expected a JSON object, got null" },
		{ false, "\"vfleet/1.0\"", -EPROTO, "expected a JSON object, got string" },
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":null}", -EPROTO,
		  "op: expected string, got null" },
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"FACTS\"}", -EPROTO,
		  "op: unknown operation \"FACTS\"" },
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"policy\":[]}",
		  -EPROTO, "policy: expected object, got array" },
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"policy\":"
		  "{\"select\":\"10de\"}}", -EPROTO,
		  "policy.select: expected array, got string" },
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"run_id\":\"\"}",
		  -EPROTO, "run_id: expected letters" },
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"run_id\":\"a/b\"}",
		  -EPROTO, "run_id: expected letters" },
		/* Hostile values are quoted short and printable. */
		{ false, "{\"protocol\":\"vfleet/1.0\",\"op\":\"\\u001b[31mred"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", -EPROTO,
		  "op: unknown operation \"?[31mredaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"..." },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"ok\":true}", -EPROTO,
		  "op: missing" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\"}", -EPROTO,
		  "ok: missing" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":1}", -EPROTO,
		  "ok: expected boolean, got integer" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		  "\"funcs\":[null]}", -EPROTO, "funcs[0]: expected object, got null" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		  "\"groups\":[{\"id\":-1,\"members\":[]}]}", -EPROTO,
		  "groups[0].id: -1 is out of range 0..2147483647" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		  "\"groups\":[{\"id\":1,\"members\":[\"0000:00:01.0\",\"0000:00:01.8\"]}]}",
		  -EPROTO, "groups[0].members[1]: expected a PCI address" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		  "\"host\":{\"iommu_active\":1}}", -EPROTO,
		  "host.iommu_active: expected boolean or null, got integer" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		  "\"funcs\":[{\"address\":\"0000:00:01.0\",\"class_code\":\"0300\","
		  "\"vendor_id\":\"10de\",\"device_id\":\"0001\"}]}", -EPROTO,
		  "funcs[0].class_code: expected 6 lowercase hex digits, got \"0300\"" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true,"
		  "\"funcs\":[{\"address\":\"0000:00:01.0\",\"class_code\":\"030000\","
		  "\"vendor_id\":\"10de\"}]}", -EPROTO, "funcs[0].device_id: missing" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"apply\",\"ok\":true,"
		  "\"changes\":[{\"kind\":\"file\",\"target\":\"/x\",\"sha256_after\":"
		  "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"}]}",
		  -EPROTO, "changes[0].sha256_after: expected 64 lowercase hex digits" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"apply\",\"ok\":true,"
		  "\"changes\":[{\"kind\":\"command\",\"target\":\"/x\",\"exit_code\":256}]}",
		  -EPROTO, "changes[0].exit_code: 256 is out of range 0..255" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":false,"
		  "\"errors\":[{\"code\":\"x\"}]}", -EPROTO, "errors[0].message: missing" },
		/* Lenient on what the spec allows. */
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":null,\"ok\":false,"
		  "\"host\":null,\"funcs\":null,\"errors\":[{\"code\":\"bad-request\","
		  "\"message\":\"m\"}]}", 0, "" },
		{ true, "  \r\n\t{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":true}"
		  " \n\n", 0, "" },
		/* A failure must say why: absent and null errors are empty. */
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":false}",
		  -EPROTO, "ok: false, but errors[] is empty" },
		{ true, "{\"protocol\":\"vfleet/1.0\",\"op\":null,\"ok\":false,"
		  "\"errors\":null}", -EPROTO, "ok: false, but errors[] is empty" },
	};
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].json) + (i == 0);	/* the NUL case */
		int r;

		strbuf_reset(&err);
		r = decode_any(cases[i].response, cases[i].json, len, &err);
		if (r != cases[i].error || !strstr(err.buf, cases[i].text))
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, r,
				 err.buf, cases[i].error, cases[i].text);
	}
	/* err may be NULL; out is still released. */
	assert_int_equal(decode_any(false, "[]", 2, NULL), -EPROTO);
	assert_int_equal(decode_any(true, "{", 1, NULL), -EPROTO);
	assert_int_equal(decode_any(true, NULL, 0, NULL), -EPROTO);
	strbuf_release(&err);
}

/* op null on the wire <-> PROTO_OP__COUNT: "request not understood". */
static void
test_response_op_unknown(void **state)
{
	struct proto_response resp, back;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	proto_response_init(&resp, PROTO_OP__COUNT);
	proto_add_error(&resp, "bad-request", NULL, "op: missing");
	assert_int_equal(proto_response_encode(&resp, false, &out), 0);
	assert_non_null(strstr(out.buf, "\"op\":null,\"ok\":false"));
	assert_int_equal(proto_response_decode(out.buf, out.len, &back, &err), 0);
	assert_int_equal(back.op, PROTO_OP__COUNT);
	assert_false(back.ok);
	assert_string_equal(back.errors[0].code, "bad-request");
	assert_null(back.errors[0].path);
	proto_response_release(&resp);
	proto_response_release(&back);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* ------------------------------------------------------------------ */
/* Robustness: mutated fixtures never crash the decoder                 */
/* ------------------------------------------------------------------ */

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void
mutate_and_decode(bool response, const struct strbuf *in, uint32_t seed)
{
	static const char tokens[] = "{}[]\",:\\ 0-9eE.tfn\x80\xff";
	struct strbuf m = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT;
	uint32_t s = seed;
	int r;

	size_t end = in->len;

	while (end && (in->buf[end - 1] == '\n' || in->buf[end - 1] == ' '))
		end--;
	/* Truncations (every one near the start, then sparser). */
	for (size_t cut = 0; cut < end; cut += 1 + cut / 64) {
		r = decode_any(response, in->buf, cut, &err);
		assert_true(r == -EPROTO);
	}
	/* Random byte edits, biased to JSON punctuation. */
	for (int round = 0; round < 3000; round++) {
		strbuf_reset(&m);
		strbuf_add(&m, in->buf, in->len);
		for (int k = 0, edits = 1 + lcg(&s) % 4; k < edits; k++) {
			size_t at = lcg(&s) % m.len;

			switch (lcg(&s) % 3) {
			case 0:
				m.buf[at] = tokens[lcg(&s) % (sizeof(tokens) - 1)];
				break;
			case 1:
				m.buf[at] = (char)(lcg(&s) & 0xff);
				break;
			default:	/* delete a byte */
				memmove(m.buf + at, m.buf + at + 1, m.len - at - 1);
				strbuf_setlen(&m, m.len - 1);
				break;
			}
		}
		strbuf_reset(&err);
		if (response) {
			struct proto_response resp;

			r = proto_response_decode(m.buf, m.len, &resp, &err);
			if (r == 0) {
				strbuf_reset(&out);
				assert_int_equal(proto_response_encode(&resp, true, &out), 0);
			}
			proto_response_release(&resp);
		} else {
			struct proto_request req;

			r = proto_request_decode(m.buf, m.len, &req, &err);
			if (r == 0) {
				strbuf_reset(&out);
				assert_int_equal(proto_request_encode(&req, &out), 0);
			}
			proto_request_release(&req);
		}
		assert_true(r == 0 || r == -EPROTO || r == -EPROTONOSUPPORT);
		assert_true(r == 0 || err.len > 0);
	}
	strbuf_release(&m);
	strbuf_release(&err);
	strbuf_release(&out);
}

static void
test_mutations_do_not_crash(void **state)
{
	struct strbuf in = STRBUF_INIT;

	(void)state;
	read_fixture(FIXTURES "/valid/facts-request.json", &in);
	mutate_and_decode(false, &in, 1);
	read_fixture(FIXTURES "/valid/plan-response.json", &in);
	mutate_and_decode(true, &in, 2);
	read_fixture(FIXTURES "/valid/error-response.json", &in);
	mutate_and_decode(true, &in, 3);
	strbuf_release(&in);
}

/* ------------------------------------------------------------------ */
/* Model helpers (proto.c)                                              */
/* ------------------------------------------------------------------ */

static void
test_model_helpers(void **state)
{
	struct proto_response resp;
	struct proto_finding *f;
	struct proto_pci_func *fn;
	struct proto_gpu *g;
	struct proto_change *c;
	struct proto_error *e;

	(void)state;
	proto_response_init(&resp, PROTO_OP_PLAN);
	assert_true(resp.ok);
	assert_int_equal(resp.op, PROTO_OP_PLAN);
	assert_int_equal(resp.version_major, PROTO_VERSION_MAJOR);
	assert_int_equal(resp.host.iommu_active, PROTO_UNKNOWN);

	f = proto_add_finding(&resp, PROTO_SEV_BLOCKER, "iommu-off", NULL,
			      "no IOMMU groups (%d found)", 0);
	assert_string_equal(f->message, "no IOMMU groups (0 found)");
	assert_null(f->device);
	proto_finding_add_evidence(f, "%s: %s", "/sys/kernel/iommu_groups", "empty");
	proto_finding_add_evidence(f, "kmsg: %s", "DMAR: IOMMU disabled");
	assert_int_equal(f->nevidence, 2);
	assert_string_equal(f->evidence[1], "kmsg: DMAR: IOMMU disabled");
	f = proto_add_finding(&resp, PROTO_SEV_INFO, "boot-vga", "0000:01:00.0",
			      "boot display");
	assert_string_equal(f->device, "0000:01:00.0");
	assert_int_equal(resp.nfindings, 2);
	assert_string_equal(resp.findings[0].code, "iommu-off");

	fn = proto_add_func(&resp);
	assert_int_equal(fn->revision, -1);
	assert_int_equal(fn->iommu_group, -1);
	assert_int_equal(fn->boot_vga, PROTO_UNKNOWN);
	assert_int_equal(fn->numa_node, -1);
	assert_int_equal(fn->sriov_totalvfs, -1);
	assert_int_equal(fn->link_width, -1);
	assert_null(proto_find_func(&resp, "0000:01:00.0"));	/* no address yet */
	fn->address = xstrdup("0000:01:00.0");
	proto_add_func(&resp)->address = xstrdup("0000:01:00.1");
	assert_ptr_equal(proto_find_func(&resp, "0000:01:00.1"), &resp.funcs[1]);
	assert_ptr_equal(proto_find_func(&resp, "0000:01:00.0"), &resp.funcs[0]);
	assert_null(proto_find_func(&resp, "0000:02:00.0"));

	g = proto_add_gpu(&resp);
	assert_int_equal(g->iommu_group, -1);
	assert_int_equal(g->verdict, PROTO_VERDICT_READY);
	proto_strv_add(&g->companions, &g->ncompanions, "0000:01:00.1");
	assert_int_equal(g->ncompanions, 1);
	c = proto_add_change(&resp);
	assert_int_equal(c->exit_code, -1);
	assert_int_equal(proto_add_group(&resp)->nmembers, 0);

	assert_true(resp.ok);
	e = proto_add_error(&resp, "pci-scan", NULL, "libpci: %s", "boom");
	assert_false(resp.ok);
	assert_string_equal(e->message, "libpci: boom");
	assert_null(e->path);
	proto_response_release(&resp);
	assert_int_equal(resp.nfindings, 0);
	assert_null(resp.funcs);
	assert_true(resp.ok);
	proto_response_release(&resp);	/* twice is safe */
}

static void
test_names(void **state)
{
	(void)state;
	for (int i = 0; i < PROTO_OP__COUNT; i++)
		assert_int_equal(proto_op_from_name(proto_op_name((enum proto_op)i)), i);
	for (int i = 0; i < PROTO_SEV__COUNT; i++)
		assert_int_equal(proto_severity_from_name(
			proto_severity_name((enum proto_severity)i)), i);
	for (int i = 0; i < PROTO_VERDICT__COUNT; i++)
		assert_int_equal(proto_verdict_from_name(
			proto_verdict_name((enum proto_verdict)i)), i);
	assert_string_equal(proto_op_name(PROTO_OP_ROLLBACK), "rollback");
	assert_string_equal(proto_verdict_name(PROTO_VERDICT_NEEDS_CONFIG),
			    "needs-configuration");
	assert_string_equal(proto_severity_name(PROTO_SEV_BLOCKER), "blocker");
	assert_int_equal(proto_op_from_name("Facts"), -1);
	assert_int_equal(proto_op_from_name(NULL), -1);
	assert_int_equal(proto_severity_from_name("error"), -1);
	assert_int_equal(proto_verdict_from_name(""), -1);
	assert_string_equal(proto_op_name(PROTO_OP__COUNT), "?");
}

/* ------------------------------------------------------------------ */
/* The schemas, with a validator for the subset of 2020-12 they use     */
/* ------------------------------------------------------------------ */

#define SCHEMAS "protocol/schema/v1"

struct sv {
	struct json_object *docs[8];	/* loaded schema files */
	char *names[8];
	size_t ndocs;
	struct strbuf err;		/* first failure */
};

static struct json_object *
parse_strict(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;

	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static struct json_object *
sv_doc(struct sv *sv, const char *name)
{
	struct strbuf rel = STRBUF_INIT, in = STRBUF_INIT;
	struct json_object *doc;

	for (size_t i = 0; i < sv->ndocs; i++)
		if (strcmp(sv->names[i], name) == 0)
			return sv->docs[i];
	assert_true(sv->ndocs < 8);
	strbuf_addf(&rel, SCHEMAS "/%s", name);
	read_fixture(rel.buf, &in);
	doc = parse_strict(in.buf, in.len);
	if (!json_object_is_type(doc, json_type_object))
		fail_msg("%s is not a JSON object", rel.buf);
	sv->docs[sv->ndocs] = doc;
	sv->names[sv->ndocs++] = xstrdup(name);
	strbuf_release(&rel);
	strbuf_release(&in);
	return doc;
}

static void
sv_release(struct sv *sv)
{
	for (size_t i = 0; i < sv->ndocs; i++) {
		json_object_put(sv->docs[i]);
		free(sv->names[i]);
	}
	strbuf_release(&sv->err);
}

static bool __attribute__((format(printf, 3, 4)))
sv_fail(struct sv *sv, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (sv->err.len)
		return false;
	strbuf_addf(&sv->err, "%s: ", *path ? path : "(root)");
	va_start(ap, fmt);
	strbuf_vaddf(&sv->err, fmt, ap);
	va_end(ap);
	return false;
}

static bool
sv_type_is(struct json_object *inst, const char *t)
{
	enum json_type it = json_object_get_type(inst);

	if (strcmp(t, "null") == 0)
		return it == json_type_null;
	if (strcmp(t, "boolean") == 0)
		return it == json_type_boolean;
	if (strcmp(t, "integer") == 0)
		return it == json_type_int;
	if (strcmp(t, "number") == 0)
		return it == json_type_int || it == json_type_double;
	if (strcmp(t, "string") == 0)
		return it == json_type_string;
	if (strcmp(t, "array") == 0)
		return it == json_type_array;
	if (strcmp(t, "object") == 0)
		return it == json_type_object;
	fail_msg("schema: unknown type %s", t);
	return false;
}

static size_t
sv_codepoints(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static double
sv_number(struct json_object *o)
{
	return json_object_is_type(o, json_type_int) ?
		(double)json_object_get_int64(o) : json_object_get_double(o);
}

static bool sv_validate(struct sv *sv, struct json_object *doc,
			struct json_object *schema, struct json_object *inst,
			const char *path);

/* Resolve "file.json", "#/$defs/x" or "file.json#/$defs/x". */
static bool
sv_ref(struct sv *sv, struct json_object *doc, const char *ref,
       struct json_object *inst, const char *path)
{
	const char *hash = strchr(ref, '#');
	struct json_object *target = NULL;
	char *file;
	bool ok;

	if (hash != ref) {
		file = hash ? xstrndup(ref, (size_t)(hash - ref)) : xstrdup(ref);
		doc = sv_doc(sv, file);
		free(file);
	}
	if (!hash || !hash[1])
		target = doc;
	else if (json_pointer_get(doc, hash + 1, &target) != 0)
		fail_msg("schema: cannot resolve $ref %s", ref);
	ok = sv_validate(sv, doc, target, inst, path);
	return ok;
}

static bool
sv_validate(struct sv *sv, struct json_object *doc, struct json_object *schema,
	    struct json_object *inst, const char *path)
{
	struct strbuf sub = STRBUF_INIT;
	bool ok = true;

	if (json_object_is_type(schema, json_type_boolean))
		return json_object_get_boolean(schema) ||
			sv_fail(sv, path, "false schema");
	if (!json_object_is_type(schema, json_type_object))
		fail_msg("schema at %s is not an object", path);

	json_object_object_foreach(schema, key, val) {
		if (!ok)
			break;
		if (!strcmp(key, "$schema") || !strcmp(key, "$id") ||
		    !strcmp(key, "title") || !strcmp(key, "description") ||
		    !strcmp(key, "$defs") || !strcmp(key, "$comment")) {
			continue;
		} else if (!strcmp(key, "$ref")) {
			ok = sv_ref(sv, doc, json_object_get_string(val), inst, path);
		} else if (!strcmp(key, "type")) {
			bool any = false;

			if (json_object_is_type(val, json_type_string)) {
				any = sv_type_is(inst, json_object_get_string(val));
			} else {
				for (size_t i = 0; i < json_object_array_length(val); i++)
					any |= sv_type_is(inst, json_object_get_string(
						json_object_array_get_idx(val, i)));
			}
			if (!any)
				ok = sv_fail(sv, path, "type is not %s",
					     json_object_to_json_string(val));
		} else if (!strcmp(key, "enum")) {
			bool any = false;

			for (size_t i = 0; i < json_object_array_length(val); i++)
				any |= json_object_equal(json_object_array_get_idx(val, i),
							 inst) != 0;
			if (!any)
				ok = sv_fail(sv, path, "not in enum");
		} else if (!strcmp(key, "const")) {
			if (!json_object_equal(val, inst))
				ok = sv_fail(sv, path, "not the const");
		} else if (!strcmp(key, "properties")) {
			if (!json_object_is_type(inst, json_type_object))
				continue;
			json_object_object_foreach(val, pkey, pschema) {
				struct json_object *pv;

				if (!ok ||
				    !json_object_object_get_ex(inst, pkey, &pv))
					continue;
				strbuf_reset(&sub);
				strbuf_addf(&sub, "%s/%s", path, pkey);
				ok = sv_validate(sv, doc, pschema, pv, sub.buf);
			}
		} else if (!strcmp(key, "required")) {
			if (!json_object_is_type(inst, json_type_object))
				continue;
			for (size_t i = 0; ok && i < json_object_array_length(val); i++) {
				const char *name = json_object_get_string(
					json_object_array_get_idx(val, i));

				if (!json_object_object_get_ex(inst, name, NULL))
					ok = sv_fail(sv, path, "%s is required", name);
			}
		} else if (!strcmp(key, "items")) {
			if (!json_object_is_type(inst, json_type_array))
				continue;
			for (size_t i = 0; ok && i < json_object_array_length(inst); i++) {
				strbuf_reset(&sub);
				strbuf_addf(&sub, "%s/%zu", path, i);
				ok = sv_validate(sv, doc, val,
						 json_object_array_get_idx(inst, i),
						 sub.buf);
			}
		} else if (!strcmp(key, "minItems") || !strcmp(key, "maxItems")) {
			size_t n, lim = (size_t)json_object_get_int64(val);

			if (!json_object_is_type(inst, json_type_array))
				continue;
			n = json_object_array_length(inst);
			if (key[1] == 'i' ? n < lim : n > lim)
				ok = sv_fail(sv, path, "%s %zu", key, lim);
		} else if (!strcmp(key, "minLength") || !strcmp(key, "maxLength")) {
			size_t n, lim = (size_t)json_object_get_int64(val);

			if (!json_object_is_type(inst, json_type_string))
				continue;
			n = sv_codepoints(json_object_get_string(inst));
			if (key[1] == 'i' ? n < lim : n > lim)
				ok = sv_fail(sv, path, "%s %zu", key, lim);
		} else if (!strcmp(key, "minimum") || !strcmp(key, "maximum")) {
			double n, lim = sv_number(val);

			if (!json_object_is_type(inst, json_type_int) &&
			    !json_object_is_type(inst, json_type_double))
				continue;
			n = sv_number(inst);
			if (key[1] == 'i' ? n < lim : n > lim)
				ok = sv_fail(sv, path, "%s %g", key, lim);
		} else if (!strcmp(key, "pattern")) {
			regex_t re;

			if (!json_object_is_type(inst, json_type_string))
				continue;
			if (regcomp(&re, json_object_get_string(val),
				    REG_EXTENDED | REG_NOSUB) != 0)
				fail_msg("schema: bad pattern %s",
					 json_object_get_string(val));
			if (regexec(&re, json_object_get_string(inst), 0, NULL, 0))
				ok = sv_fail(sv, path, "does not match %s",
					     json_object_get_string(val));
			regfree(&re);
		} else if (!strcmp(key, "if")) {
			struct json_object *then;
			size_t keep = sv->err.len;
			bool cond = sv_validate(sv, doc, val, inst, path);

			strbuf_setlen(&sv->err, keep);
			if (cond && json_object_object_get_ex(schema, "then", &then))
				ok = sv_validate(sv, doc, then, inst, path);
		} else if (!strcmp(key, "then")) {
			continue;	/* with "if" */
		} else if (!strcmp(key, "allOf")) {
			for (size_t i = 0; ok && i < json_object_array_length(val); i++)
				ok = sv_validate(sv, doc, json_object_array_get_idx(val, i),
						 inst, path);
		} else if (!strcmp(key, "anyOf")) {
			bool any = false;
			size_t keep = sv->err.len;

			for (size_t i = 0; !any && i < json_object_array_length(val); i++) {
				any = sv_validate(sv, doc,
						  json_object_array_get_idx(val, i),
						  inst, path);
				strbuf_setlen(&sv->err, keep);
			}
			if (!any)
				ok = sv_fail(sv, path, "matches no anyOf branch");
		} else {
			fail_msg("schema keyword %s (at %s) is not supported by the "
				 "test validator: extend it", key, path);
		}
	}
	strbuf_release(&sub);
	return ok;
}

/* Validate the text buf against schema file name; false if it fails. */
static bool
sv_check(struct sv *sv, const char *name, const char *buf, size_t len)
{
	struct json_object *inst = parse_strict(buf, len);
	bool ok;

	strbuf_reset(&sv->err);
	ok = sv_validate(sv, sv_doc(sv, name), sv_doc(sv, name), inst, "");
	json_object_put(inst);
	return ok;
}

static void
test_schemas(void **state)
{
	/* Rules JSON Schema cannot state (or the schema leaves open). */
	static const char *const schema_blind[] = {
		"nul-in-string.json",	/* U+0000 in a string */
		"deep-nesting.json",	/* inside an unknown member */
	};
	struct strbuf rel = STRBUF_INIT, in = STRBUF_INIT;
	struct sv sv = { .ndocs = 0, .err = STRBUF_INIT };
	struct expect *ex;
	size_t n, nex, checked = 0;
	char **names;

	(void)state;
	/* Each schema is a JSON object declaring draft 2020-12. */
	static const char *const files[] = {
		"request.schema.json", "response.schema.json", "error.schema.json",
	};
	for (size_t i = 0; i < 3; i++) {
		struct json_object *d = sv_doc(&sv, files[i]), *s;

		assert_true(json_object_object_get_ex(d, "$schema", &s));
		assert_string_equal(json_object_get_string(s),
				    "https://json-schema.org/draft/2020-12/schema");
	}

	names = list_json(FIXTURES "/valid", &n);
	for (size_t i = 0; i < n; i++) {
		bool req = ends_with(names[i], "-request.json");

		strbuf_reset(&rel);
		strbuf_addf(&rel, FIXTURES "/valid/%s", names[i]);
		read_fixture(rel.buf, &in);
		if (!sv_check(&sv, req ? "request.schema.json" :
			      "response.schema.json", in.buf, in.len))
			fail_msg("valid/%s fails its schema: %s", names[i], sv.err.buf);
		/* error.schema.json takes exactly the responses with errors. */
		if (!req && sv_check(&sv, "error.schema.json", in.buf, in.len) !=
		    (strstr(names[i], "error") != NULL))
			fail_msg("valid/%s vs error.schema.json: %s", names[i],
				 sv.err.len ? sv.err.buf : "unexpectedly valid");
	}
	proto_strv_free(names, n);

	/* What the decoder rejects, the schema rejects (when it can tell). */
	nex = load_expect(&ex);
	for (size_t i = 0; i < nex; i++) {
		struct json_object *inst;
		bool blind = false;

		for (size_t k = 0; k < sizeof(schema_blind) / sizeof(*schema_blind); k++)
			blind |= strcmp(ex[i].file, schema_blind[k]) == 0;
		strbuf_reset(&rel);
		strbuf_addf(&rel, FIXTURES "/invalid/%s", ex[i].file);
		read_fixture(rel.buf, &in);
		inst = parse_strict(in.buf, in.len);
		if (!inst)
			continue;	/* not JSON at all: nothing to validate */
		json_object_put(inst);
		if (sv_check(&sv, ex[i].response ? "response.schema.json" :
			     "request.schema.json", in.buf, in.len) != blind)
			fail_msg("invalid/%s: schema %s it", ex[i].file,
				 blind ? "rejects" : "accepts");
		checked++;
	}
	assert_true(checked >= 20);
	free_expect(ex, nex);
	sv_release(&sv);
	strbuf_release(&rel);
	strbuf_release(&in);
}

/*
 * PROTOCOL.md section 9 lists exactly the codes of the agent's table
 * (agent/findings.c), so that the spec cannot go stale silently.
 */
static void
test_finding_codes_documented(void **state)
{
	struct strbuf doc = STRBUF_INIT, row = STRBUF_INIT;
	const struct findings_code *codes;
	const char *sec, *end, *p;
	size_t n, listed = 0;

	(void)state;
	read_fixture("protocol/PROTOCOL.md", &doc);
	sec = strstr(doc.buf, "\n## 9. Finding codes");
	assert_non_null(sec);
	end = strstr(sec + 1, "\n## ");
	assert_non_null(end);
	codes = findings_codes(&n);
	assert_true(n > 10);
	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&row);
		strbuf_addf(&row, "\n| `%s` | %s", codes[i].code,
			    proto_severity_name(codes[i].sev_min));
		p = strstr(sec, row.buf);
		if (!p || p > end)
			fail_msg("PROTOCOL.md section 9 lacks a row for %s "
				 "(severity %s first)", codes[i].code,
				 proto_severity_name(codes[i].sev_min));
	}
	for (p = strstr(sec, "\n| `"); p && p < end; p = strstr(p + 1, "\n| `")) {
		const char *q = strchr(p + 4, '`');
		char *code = xstrndup(p + 4, (size_t)(q - p - 4));

		if (!findings_code_lookup(code))
			fail_msg("PROTOCOL.md lists %s, which agent/findings.c "
				 "does not emit", code);
		free(code);
		listed++;
	}
	assert_int_equal(listed, n);
	strbuf_release(&doc);
	strbuf_release(&row);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_fixtures),
		cmocka_unit_test(test_facts_fixture_content),
		cmocka_unit_test(test_invalid_fixtures),
		cmocka_unit_test(test_built_response_roundtrip),
		cmocka_unit_test(test_encode_invalid_utf8),
		cmocka_unit_test(test_request_defaults_and_encode),
		cmocka_unit_test(test_apply_members),
		cmocka_unit_test(test_minor_version_accepted),
		cmocka_unit_test(test_version_forms),
		cmocka_unit_test(test_oversize_message),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_decode_details),
		cmocka_unit_test(test_response_op_unknown),
		cmocka_unit_test(test_mutations_do_not_crash),
		cmocka_unit_test(test_model_helpers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_schemas),
		cmocka_unit_test(test_finding_codes_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
