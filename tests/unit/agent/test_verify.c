/* test_verify: verify_run() on copies of the fixture shapes, with a state
 * record written through the state API, after a boot simulated by
 * tests/fleet/simboot or edited by hand. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto.h"
#include "run.h"
#include "state.h"
#include "strbuf.h"
#include "verify.h"
#include "xalloc.h"

/* already-configured: GTX 1060 + HDA on vfio-pci in group 1. */
#define AC_GPU "0000:01:00.0"
#define AC_HDA "0000:01:00.1"
#define AC_BOOT_ID "2c7a9f13-e5b0-4d68-a3f1-8b6d0c4e9a27"
#define OLD_BOOT_ID "11111111-2222-4333-8444-555555555555"
#define NEW_BOOT_ID "99999999-8888-4777-8666-555555555555"

static const char *const ac_devs[] = { AC_GPU, AC_HDA, NULL };
static const char *const ac_flags[] = {
	"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1c03,10de:10f1", NULL,
};

struct vt {
	char dir[64];		/* mkdtemp */
	char root[128];		/* dir/root: the fixture copy */
	struct proto_request req;
	struct proto_response resp;
};

/* --- helpers --- */

static const char *
top_dir(void)
{
	const char *top = getenv("VFLEET_TOP");

	return top ? top : ".";
}

static const char *
first_exec(const char *a, const char *b)
{
	return access(a, X_OK) == 0 ? a : b;
}

/* Run argv (argv[0] absolute); fail the test unless it exits 0. */
static void
run_ok(const char *const *argv)
{
	struct run_cmd cmd = RUN_CMD_INIT;
	int r;

	cmd.argv = argv;
	cmd.timeout_ms = 120000;
	r = run_command(&cmd);
	if (r < 0 || cmd.exit_code != 0)
		fail_msg("%s %s failed (%d, exit %d): %s%s", argv[0], argv[1], r,
			 cmd.exit_code, cmd.err.buf, cmd.out.buf);
	run_cmd_release(&cmd);
}

/* cp -a the shape into t->root (as tests/fixtures/SHAPES.md asks). */
static void
copy_shape(struct vt *t, const char *shape)
{
	char src[512];
	const char *argv[] = {
		first_exec("/bin/cp", "/usr/bin/cp"), "-a", src, t->root, NULL,
	};
	struct stat st;

	snprintf(src, sizeof(src), "%s/tests/fixtures/sysroot/%s", top_dir(),
		 shape);
	if (stat(src, &st) != 0)
		fail_msg("fixture %s missing (set VFLEET_TOP or run from the top)",
			 src);
	run_ok(argv);
}

/* The simulated reboot of t->root; extra options (NULL-ended) as given. */
static void
simboot(struct vt *t, const char *boot_id, ...)
{
	char script[512];
	const char *argv[16] = {
		first_exec("/bin/bash", "/usr/bin/bash"), script, t->root,
		"--new-boot-id", boot_id, "-q",
	};
	size_t n = 6;
	va_list ap;

	snprintf(script, sizeof(script), "%s/tests/fleet/simboot", top_dir());
	va_start(ap, boot_id);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 15;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	run_ok(argv);
}

/* Run a fixture tool stub (it logs its run for simboot). */
static void
run_stub(struct vt *t, const char *rel, const char *arg)
{
	char path[512];
	const char *argv[] = { path, arg, NULL };

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	run_ok(argv);
}

static void
put_file(struct vt *t, const char *rel, const char *data, bool append)
{
	char path[512];
	size_t len = strlen(data);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
relink(struct vt *t, const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

/* Write the record apply would have left. */
static void
put_state(struct vt *t, enum state_phase phase, const char *boot_id,
	  const char *const *devs, const char *const *flags)
{
	struct agent_state st;
	struct strbuf err = STRBUF_INIT;

	state_init(&st);
	st.phase = phase;
	st.run_id = xstrdup("20250301T101500Z-lab");
	st.boot_id = boot_id ? xstrdup(boot_id) : NULL;
	st.binding = xstrdup("ids");
	for (; devs && *devs; devs++) {
		struct state_device *d = state_add_device(&st);

		d->address = xstrdup(*devs);
	}
	for (; flags && *flags; flags++)
		proto_strv_add(&st.cmdline_expected, &st.ncmdline_expected,
			       *flags);
	if (state_save(t->root, &st, &err) != 0)
		fail_msg("state_save: %s", err.buf);
	state_release(&st);
	strbuf_release(&err);
}

static enum state_phase
saved_phase(struct vt *t, char **message)
{
	struct agent_state st;
	enum state_phase p;

	state_init(&st);
	assert_int_equal(state_load(t->root, &st, NULL), 0);
	p = st.phase;
	if (message)
		*message = st.message ? xstrdup(st.message) : NULL;
	state_release(&st);
	return p;
}

static int
do_verify(struct vt *t)
{
	proto_response_release(&t->resp);
	proto_response_init(&t->resp, PROTO_OP_VERIFY);
	return verify_run(t->root, &t->req, &t->resp);
}

/* The finding with code (about device, when not NULL), or NULL. */
static const struct proto_finding *
finding(const struct vt *t, const char *code, const char *device)
{
	for (size_t i = 0; i < t->resp.nfindings; i++) {
		const struct proto_finding *f = &t->resp.findings[i];

		if (strcmp(f->code, code) == 0 &&
		    (!device || (f->device && strcmp(f->device, device) == 0)))
			return f;
	}
	return NULL;
}

static bool
has_evidence(const struct proto_finding *f, const char *needle)
{
	for (size_t i = 0; f && i < f->nevidence; i++)
		if (strstr(f->evidence[i], needle))
			return true;
	return false;
}

static void
assert_check(const struct vt *t, const char *code, const char *device,
	     enum proto_severity sev, const char *evidence)
{
	const struct proto_finding *f = finding(t, code, device);

	if (!f)
		fail_msg("no finding %s %s", code, device ? device : "");
	if (f->severity != sev)
		fail_msg("%s %s: severity %s, want %s (%s)", code,
			 device ? device : "", proto_severity_name(f->severity),
			 proto_severity_name(sev), f->message);
	if (evidence && !has_evidence(f, evidence)) {
		for (size_t i = 0; i < f->nevidence; i++)
			print_message("  evidence: %s\n", f->evidence[i]);
		fail_msg("%s: no evidence containing \"%s\"", code, evidence);
	}
}

static const struct proto_error *
error_of(const struct vt *t, const char *code)
{
	for (size_t i = 0; i < t->resp.nerrors; i++)
		if (strcmp(t->resp.errors[i].code, code) == 0)
			return &t->resp.errors[i];
	return NULL;
}

/* Passed: no errors, no verify-* blocker, phase verified on disk. */
static void
assert_verified(struct vt *t)
{
	for (size_t i = 0; i < t->resp.nerrors; i++)
		print_message("  error %s: %s\n", t->resp.errors[i].code,
			      t->resp.errors[i].message);
	for (size_t i = 0; i < t->resp.nfindings; i++) {
		const struct proto_finding *f = &t->resp.findings[i];

		if (strncmp(f->code, "verify-", 7) == 0 &&
		    f->severity != PROTO_SEV_INFO)
			fail_msg("%s failed: %s", f->code, f->message);
	}
	assert_true(t->resp.ok);
	assert_int_equal(t->resp.nerrors, 0);
	assert_int_equal(saved_phase(t, NULL), STATE_PHASE_VERIFIED);
	assert_string_equal(t->resp.host.vfio_state, "verified");
	assert_non_null(t->resp.state);
	assert_string_equal(t->resp.state->phase, "verified");
}

/* Failed, naming `code` among the failed checks (others may fail too). */
static void
assert_failed(struct vt *t, const char *code)
{
	const struct proto_error *e = error_of(t, "verify-failed");
	char *msg = NULL;

	assert_false(t->resp.ok);
	if (!e)
		fail_msg("no verify-failed error");
	if (!strstr(e->message, code))
		fail_msg("verify-failed does not name %s: %s", code, e->message);
	assert_int_equal(saved_phase(t, &msg), STATE_PHASE_FAILED);
	assert_non_null(msg);
	assert_non_null(strstr(msg, code));
	assert_string_equal(t->resp.host.vfio_state, "failed");
	free(msg);
}

/* Only `code` failed. */
static void
assert_only_failed(struct vt *t, const char *code)
{
	size_t n;
	const struct verify_check *c = verify_checks(&n);
	const struct proto_error *e;

	assert_failed(t, code);
	e = error_of(t, "verify-failed");
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].code, code) != 0 && strstr(e->message, c[i].code))
			fail_msg("%s failed as well: %s", c[i].code, e->message);
}

static int
setup(void **state)
{
	struct vt *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/test_verify.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->root, sizeof(t->root), "%s/root", t->dir);
	proto_request_init(&t->req, PROTO_OP_VERIFY);
	proto_response_init(&t->resp, PROTO_OP_VERIFY);
	*state = t;
	return 0;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
teardown(void **state)
{
	struct vt *t = *state;
	int r = nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	proto_request_release(&t->req);
	proto_response_release(&t->resp);
	free(t);
	return r;
}

/* --- refusals --- */

static void
test_no_state(void **state)
{
	struct vt *t = *state;
	const struct proto_error *e;

	copy_shape(t, "already-configured");
	assert_int_equal(do_verify(t), -ENOENT);
	e = error_of(t, "not-applied");
	assert_non_null(e);
	assert_non_null(strstr(e->message, "nothing applied on this host"));
	assert_false(t->resp.ok);
	assert_null(finding(t, "verify-reboot", NULL));
}

static void
test_rolled_back(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_ROLLED_BACK, OLD_BOOT_ID, ac_devs, ac_flags);
	assert_int_equal(do_verify(t), -ENOENT);
	assert_non_null(error_of(t, "not-applied"));
	assert_int_equal(saved_phase(t, NULL), STATE_PHASE_ROLLED_BACK);
}

static void
test_apply_incomplete(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLYING, OLD_BOOT_ID, ac_devs, ac_flags);
	assert_int_equal(do_verify(t), -EBUSY);
	assert_non_null(error_of(t, "apply-incomplete"));
	assert_null(error_of(t, "verify-failed"));
	assert_int_equal(saved_phase(t, NULL), STATE_PHASE_APPLYING);
}

static void
test_bad_state(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	put_file(t, "var/lib/vfleet/state.json", "{\"format\": \"x\"", false);
	assert_true(do_verify(t) < 0);
	assert_non_null(error_of(t, "state-unreadable"));
}

/* --- passing --- */

/* The shape as captured is what a completed passthrough set-up looks like. */
static void
test_already_configured_passes(void **state)
{
	struct vt *t = *state;
	size_t n;
	const struct verify_check *c = verify_checks(&n);

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);
	/* every check reported, with its evidence */
	for (size_t i = 0; i < n; i++)
		assert_non_null(finding(t, c[i].code, NULL));
	assert_check(t, "verify-reboot", NULL, PROTO_SEV_INFO, AC_BOOT_ID);
	assert_check(t, "verify-cmdline", NULL, PROTO_SEV_INFO,
		     "vfio-pci.ids=10de:1c03,10de:10f1");
	assert_check(t, "verify-driver", AC_GPU, PROTO_SEV_INFO, "-> vfio-pci");
	assert_check(t, "verify-driver", AC_HDA, PROTO_SEV_INFO, "-> vfio-pci");
	assert_check(t, "verify-vfio-dev", AC_GPU, PROTO_SEV_INFO,
		     "/dev/vfio/1: present");
	assert_check(t, "verify-intremap", NULL, PROTO_SEV_INFO,
		     "Enabled IRQ remapping");
	/* the facts are there as for `facts` */
	assert_true(t->resp.nfuncs > 10);
	assert_non_null(t->resp.host.boot_id);
	/* verifying again is fine */
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);
}

/* Cumulative parameters may spread over occurrences; others must be in the
 * last one. */
static void
test_param_semantics(void **state)
{
	struct vt *t = *state;
	static const char *const flags[] = {
		"intel_iommu=on", "vfio-pci.ids=10de:10f1", "splash", NULL,
	};

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, flags);
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);

	/* a later vfio-pci.ids= replaces the earlier one */
	put_file(t, "proc/cmdline", "BOOT_IMAGE=/vmlinuz ro intel_iommu=on "
		 "vfio-pci.ids=10de:1c03,10de:10f1 iommu=pt video=efifb:off "
		 "vfio-pci.ids=10de:1c03 video=vesafb:off\n", false);
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-cmdline");
	assert_check(t, "verify-cmdline", NULL, PROTO_SEV_BLOCKER,
		     "expected: vfio-pci.ids=10de:1c03,10de:10f1");

	{
		static const char *const video[] = {
			"video=efifb:off,vesafb:off", "vfio_pci.ids=10de:1c03",
			NULL,
		};

		put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, video);
		assert_int_equal(do_verify(t), 0);
		assert_verified(t);
	}
}

/* --- failures --- */

static void
test_boot_id_unchanged(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, AC_BOOT_ID, ac_devs, ac_flags);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-reboot");
	assert_check(t, "verify-reboot", NULL, PROTO_SEV_BLOCKER,
		     "boot_id at apply: " AC_BOOT_ID);
}

static void
test_missing_flag(void **state)
{
	struct vt *t = *state;
	static const char *const flags[] = {
		"intel_iommu=on", "iommu=pt", "video=efifb:off",
		"vfio-pci.ids=10de:1c03,10de:10f1", NULL,
	};

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, flags);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-cmdline");
	assert_check(t, "verify-cmdline", NULL, PROTO_SEV_BLOCKER,
		     "expected: video=efifb:off");
	assert_check(t, "verify-cmdline", NULL, PROTO_SEV_BLOCKER,
		     "/proc/cmdline: BOOT_IMAGE=");
}

/* The GPU came back on nouveau: the check names it with its driver link. */
static void
test_stayed_on_nouveau(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	relink(t, "sys/bus/pci/devices/" AC_GPU "/driver",
	       "../../../../bus/pci/drivers/nouveau");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-driver");
	assert_check(t, "verify-driver", AC_GPU, PROTO_SEV_BLOCKER,
		     "/sys/bus/pci/devices/" AC_GPU "/driver -> nouveau");
	assert_check(t, "verify-driver", AC_HDA, PROTO_SEV_INFO, NULL);
}

static void
test_kmsg_bar(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	/* about another device: not ours */
	put_file(t, "dev/kmsg", "3,900,5000000,-;pci 0000:00:1f.4: BAR 4: "
		 "can't reserve [io  0xefa0-0xefbf]\n", true);
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);
	put_file(t, "dev/kmsg", "3,901,5000001,-;vfio-pci " AC_GPU ": BAR 1: "
		 "can't reserve [mem 0xd0000000-0xdfffffff 64bit pref]\n", true);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-kmsg");
	assert_check(t, "verify-kmsg", NULL, PROTO_SEV_BLOCKER,
		     "kmsg: vfio-pci " AC_GPU ": BAR 1: can't reserve");
	assert_false(has_evidence(finding(t, "verify-kmsg", NULL), "1f.4"));
}

static void
test_kmsg_rmrr_probe(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	put_file(t, "dev/kmsg", "3,900,5000000,-;vfio-pci " AC_HDA ": Firmware "
		 "has requested this device have a 1:1 IOMMU mapping, rejecting "
		 "configuring the device from userspace.\n"
		 "4,901,5000001,-;vfio-pci: probe of " AC_GPU " failed with "
		 "error -22\n"
		 "3,902,5000002,-;vfio-pci " AC_GPU ": group 1 is not viable\n",
		 true);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-kmsg");
	assert_check(t, "verify-kmsg", NULL, PROTO_SEV_BLOCKER, "1:1 IOMMU mapping");
	assert_check(t, "verify-kmsg", NULL, PROTO_SEV_BLOCKER,
		     "probe of " AC_GPU " failed");
	assert_check(t, "verify-kmsg", NULL, PROTO_SEV_BLOCKER, "is not viable");
}

/* No word about interrupt remapping: fails unless the unsafe opt-in is in
 * effect at runtime. */
static void
test_intremap(void **state)
{
	struct vt *t = *state;
	char path[512];
	const char *argv[] = {
		first_exec("/bin/sed", "/usr/bin/sed"), "-i",
		"/Enabled IRQ remapping/d", path, NULL,
	};

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, ac_devs, ac_flags);
	snprintf(path, sizeof(path), "%s/dev/kmsg", t->root);
	run_ok(argv);
	assert_int_equal(do_verify(t), 0);
	assert_only_failed(t, "verify-intremap");
	assert_check(t, "verify-intremap", NULL, PROTO_SEV_BLOCKER,
		     "allow_unsafe_interrupts: N");

	put_file(t, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
		 "Y\n", false);
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);
	assert_check(t, "verify-intremap", NULL, PROTO_SEV_INFO,
		     "allow_unsafe_interrupts: Y");
}

/* --- with the simulated reboot --- */

/* The seed how-to done right on the seed host: the flags in
 * /etc/default/grub, update-grub, reboot. Remapping stays off (5520
 * erratum), so it passes only with the unsafe opt-in on the cmdline. */
static void
test_simboot_seed(void **state)
{
	struct vt *t = *state;
	static const char *const devs[] = {
		"0000:0e:00.0", "0000:0e:00.1", NULL,
	};
	static const char *const flags[] = {
		"intel_iommu=on", "vfio-pci.ids=10de:1c03,10de:10f1",
		"vfio_iommu_type1.allow_unsafe_interrupts=1", NULL,
	};

	copy_shape(t, "seed-intel-ubuntu");
	put_file(t, "etc/default/grub",
		 "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash "
		 "intel_iommu=on vfio-pci.ids=10de:1c03,10de:10f1 "
		 "vfio_iommu_type1.allow_unsafe_interrupts=1\"\n"
		 "GRUB_CMDLINE_LINUX=\"\"\n", false);
	/* applied but not rebooted yet */
	put_state(t, STATE_PHASE_APPLIED, "3f1c2a7e-9b5d-4c8e-a0f1-6d2e8b4c7a19",
		  devs, flags);
	assert_int_equal(do_verify(t), 0);
	assert_failed(t, "verify-reboot");
	assert_failed(t, "verify-cmdline");
	assert_failed(t, "verify-driver");

	/* rebooted without update-grub: the old grub.cfg boots */
	put_state(t, STATE_PHASE_APPLIED, "3f1c2a7e-9b5d-4c8e-a0f1-6d2e8b4c7a19",
		  devs, flags);
	simboot(t, NEW_BOOT_ID, NULL);
	assert_int_equal(do_verify(t), 0);
	assert_failed(t, "verify-cmdline");
	assert_failed(t, "verify-iommu");
	assert_check(t, "verify-driver", "0000:0e:00.0", PROTO_SEV_BLOCKER,
		     "-> nouveau");
	assert_check(t, "verify-reboot", NULL, PROTO_SEV_INFO, NEW_BOOT_ID);

	/* update-grub, reboot: in effect */
	run_stub(t, "usr/sbin/update-grub", "");
	simboot(t, "99999999-8888-4777-8666-000000000002", NULL);
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);
	assert_check(t, "verify-intremap", NULL, PROTO_SEV_INFO,
		     "allow_unsafe_interrupts: Y");
	assert_check(t, "verify-driver", "0000:0e:00.1", PROTO_SEV_INFO,
		     "-> vfio-pci");
}

/* vfio-pci built in: modprobe.d options never reach it (pitfall 5), so the
 * functions stay on their host drivers. */
static void
test_simboot_builtin_modprobe(void **state)
{
	struct vt *t = *state;
	static const char *const devs[] = {
		"0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3",
		NULL,
	};
	static const char *const flags[] = { "intel_iommu=on", NULL };

	copy_shape(t, "vfio-builtin");
	put_state(t, STATE_PHASE_APPLIED, OLD_BOOT_ID, devs, flags);
	simboot(t, NEW_BOOT_ID, NULL);
	assert_int_equal(do_verify(t), 0);
	assert_failed(t, "verify-driver");
	assert_failed(t, "verify-vfio-dev");
	assert_check(t, "verify-cmdline", NULL, PROTO_SEV_INFO, NULL);
	assert_check(t, "verify-vfio-dev", "0000:01:00.0", PROTO_SEV_BLOCKER,
		     "/dev/vfio/1: absent");
	assert_check(t, "verify-driver", "0000:01:00.0", PROTO_SEV_BLOCKER,
		     "-> nouveau");
	assert_check(t, "verify-driver", "0000:01:00.2", PROTO_SEV_BLOCKER,
		     "-> xhci_hcd");
}

/* Came back with the IOMMU off (firmware setting lost): vfio-pci's probe
 * fails, nouveau is blacklisted, the GPU is left without a driver. */
static void
test_simboot_iommu_off(void **state)
{
	struct vt *t = *state;

	copy_shape(t, "already-configured");
	put_state(t, STATE_PHASE_APPLIED, AC_BOOT_ID, ac_devs, ac_flags);
	simboot(t, NEW_BOOT_ID, "--iommu-off", NULL);
	assert_int_equal(do_verify(t), 0);
	assert_failed(t, "verify-iommu");
	assert_failed(t, "verify-driver");
	assert_failed(t, "verify-vfio-dev");
	assert_failed(t, "verify-kmsg");
	assert_check(t, "verify-driver", AC_GPU, PROTO_SEV_BLOCKER, "-> (none)");
	assert_check(t, "verify-driver", AC_HDA, PROTO_SEV_BLOCKER,
		     "-> snd_hda_intel");
	assert_check(t, "verify-kmsg", NULL, PROTO_SEV_BLOCKER,
		     "vfio-pci: probe of " AC_GPU " failed with error -22");
	assert_check(t, "verify-iommu", NULL, PROTO_SEV_BLOCKER,
		     "/sys/kernel/iommu_groups: 0 groups");

	/* the next boot has it on again */
	simboot(t, "99999999-8888-4777-8666-000000000003", NULL);
	assert_int_equal(do_verify(t), 0);
	assert_verified(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_configured_passes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_param_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_id_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stayed_on_nouveau, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kmsg_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kmsg_rmrr_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intremap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simboot_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simboot_builtin_modprobe,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_simboot_iommu_off, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
