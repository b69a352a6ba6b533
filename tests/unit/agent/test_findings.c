/* test_findings: GPU verdicts and findings, on hand-built responses and on
 * the fixture shapes (pci_discover + host_discover + findings_evaluate). */
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

#include "findings.h"
#include "host.h"
#include "pci.h"
#include "proto.h"
#include "xalloc.h"

/* --- tree helpers --- */

struct tree {
	char dir[64];
	struct proto_response resp;
};

static void
tree_mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	mkdir(buf, 0755);
}

static void
tree_put(struct tree *t, const char *rel, const char *data)
{
	char path[512], dir[512];
	size_t len = strlen(data);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	tree_mkdirs(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int
tree_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* --- a hand-built response --- */

static void
set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

/* A healthy Intel host: IOMMU and interrupt remapping on, vfio-pci a
 * module, GRUB + initramfs-tools. Tests change what they exercise. */
static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	struct proto_host_facts *h;

	strcpy(t->dir, "/tmp/test_findings.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	proto_response_init(&t->resp, PROTO_OP_FACTS);
	h = &t->resp.host;
	set_str(&h->kernel_release, "6.5.0-1-generic");
	set_str(&h->iommu_hw, "intel-vt-d");
	set_str(&h->cmdline, "BOOT_IMAGE=/vmlinuz ro quiet intel_iommu=on");
	set_str(&h->vfio_pci, "module");
	set_str(&h->bootloader, "grub");
	set_str(&h->initramfs_tool, "initramfs-tools");
	h->iommu_active = PROTO_YES;
	h->iommu_groups = 3;
	h->intremap = PROTO_YES;
	h->secure_boot = PROTO_NO;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tree *t = *state;
	int r = nftw(t->dir, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);

	proto_response_release(&t->resp);
	free(t);
	return r;
}

static struct proto_pci_func *
add_func(struct proto_response *resp, const char *addr, uint32_t cls,
	 uint16_t ven, uint16_t dev, const char *drv, int group)
{
	struct proto_pci_func *f = proto_add_func(resp);

	f->address = xstrdup(addr);
	f->class_code = cls;
	f->vendor_id = ven;
	f->device_id = dev;
	f->driver = drv ? xstrdup(drv) : NULL;
	f->iommu_group = group;
	if ((cls >> 8) == 0x0300)
		f->boot_vga = PROTO_NO;
	if ((cls >> 16) == 0x03)
		f->reset_method = xstrdup("flr bus");
	return f;
}

/* members: NULL-ended addresses. */
static void
add_group(struct proto_response *resp, int id, ...)
{
	struct proto_iommu_group *g = proto_add_group(resp);
	const char *m;
	va_list ap;

	g->id = id;
	va_start(ap, id);
	while ((m = va_arg(ap, const char *)))
		proto_strv_add(&g->members, &g->nmembers, m);
	va_end(ap);
}

/* The usual: iGPU for the console + discrete GPU with audio, its own group
 * (with its root port), bound as given. */
static void
std_funcs(struct proto_response *resp, const char *gpu_drv, const char *audio_drv)
{
	add_func(resp, "0000:00:01.0", 0x060400, 0x8086, 0x1901, "pcieport", 1);
	add_func(resp, "0000:00:02.0", 0x030000, 0x8086, 0x3e92, "i915", 0)
		->boot_vga = PROTO_YES;
	add_func(resp, "0000:01:00.0", 0x030000, 0x10de, 0x1c03, gpu_drv, 1);
	add_func(resp, "0000:01:00.1", 0x040300, 0x10de, 0x10f1, audio_drv, 1);
	add_group(resp, 0, "0000:00:02.0", NULL);
	add_group(resp, 1, "0000:00:01.0", "0000:01:00.0", "0000:01:00.1", NULL);
}

static const struct proto_gpu *
gpu(const struct proto_response *resp, const char *addr)
{
	for (size_t i = 0; i < resp->ngpus; i++)
		if (strcmp(resp->gpus[i].address, addr) == 0)
			return &resp->gpus[i];
	fail_msg("no GPU %s", addr);
	return NULL;
}

/* The finding with code about device ("" = host-wide, NULL = any). */
static const struct proto_finding *
finding(const struct proto_response *resp, const char *code, const char *dev)
{
	for (size_t i = 0; i < resp->nfindings; i++) {
		const struct proto_finding *f = &resp->findings[i];

		if (strcmp(f->code, code) != 0)
			continue;
		if (!dev || (!*dev && !f->device) ||
		    (*dev && f->device && strcmp(f->device, dev) == 0))
			return f;
	}
	return NULL;
}

static const struct proto_finding *
need(const struct proto_response *resp, const char *code, const char *dev,
     enum proto_severity sev)
{
	const struct proto_finding *f = finding(resp, code, dev);

	if (!f)
		fail_msg("missing finding %s on %s", code, dev ? dev : "(any)");
	assert_int_equal(f->severity, sev);
	return f;
}

static bool
has_evidence(const struct proto_finding *f, const char *needle)
{
	for (size_t i = 0; i < f->nevidence; i++)
		if (strstr(f->evidence[i], needle))
			return true;
	return false;
}

/* Every finding: known code, severity in its range, scope respected,
 * evidence present, message non-empty. */
static void
check_invariants(const struct proto_response *resp)
{
	for (size_t i = 0; i < resp->nfindings; i++) {
		const struct proto_finding *f = &resp->findings[i];
		const struct findings_code *fc = findings_code_lookup(f->code);

		if (!fc)
			fail_msg("unknown code %s", f->code);
		assert_true(f->severity >= fc->sev_min && f->severity <= fc->sev_max);
		if (fc->scope == FINDINGS_SCOPE_HOST)
			assert_null(f->device);
		else
			assert_non_null(f->device);
		assert_true(f->message && *f->message);
		if (f->nevidence == 0 && strcmp(f->code, "intremap-unknown") &&
		    strcmp(f->code, "intel-iommu-default"))
			fail_msg("%s has no evidence", f->code);
	}
	for (size_t i = 0; i < resp->ngpus; i++)
		assert_true(resp->gpus[i].reason && *resp->gpus[i].reason);
}

/* Drop gpus[] and findings[] so the same facts can be evaluated again. */
static void
clear_results(struct proto_response *r)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		free(r->findings[i].code);
		free(r->findings[i].message);
		free(r->findings[i].device);
		proto_strv_free(r->findings[i].evidence, r->findings[i].nevidence);
	}
	free(r->findings);
	r->findings = NULL;
	r->nfindings = 0;
	for (size_t i = 0; i < r->ngpus; i++) {
		free(r->gpus[i].address);
		free(r->gpus[i].reason);
		proto_strv_free(r->gpus[i].companions, r->gpus[i].ncompanions);
	}
	free(r->gpus);
	r->gpus = NULL;
	r->ngpus = 0;
}

static void
evaluate(struct tree *t)
{
	findings_evaluate(t->dir, &t->resp);
	check_invariants(&t->resp);
}

/* --- the code table --- */

static void
test_code_table(void **state)
{
	const struct findings_code *tab;
	size_t n;

	tab = findings_codes(&n);
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		assert_true(tab[i].code && *tab[i].code);
		assert_true(tab[i].summary && *tab[i].summary);
		assert_true(tab[i].sev_min <= tab[i].sev_max);
		assert_ptr_equal(findings_code_lookup(tab[i].code), &tab[i]);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(tab[i].code, tab[j].code);
		/* lowercase-with-dashes, as on the wire */
		for (const char *p = tab[i].code; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') ||
				    (*p >= '0' && *p <= '9') || *p == '-');
	}
	assert_null(findings_code_lookup("no-such-code"));
	assert_null(findings_code_lookup(NULL));
}

/* --- hand-built cases --- */

static void
test_ready(void **state)
{
	struct tree *t = *state;
	const struct proto_gpu *g;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	evaluate(t);
	assert_int_equal(t->resp.ngpus, 2);
	g = gpu(&t->resp, "0000:01:00.0");
	assert_int_equal(g->verdict, PROTO_VERDICT_READY);
	assert_true(g->group_viable);
	assert_int_equal(g->iommu_group, 1);
	assert_int_equal(g->ncompanions, 1);
	assert_string_equal(g->companions[0], "0000:01:00.1");
	need(&t->resp, "vfio-bound", "0000:01:00.0", PROTO_SEV_INFO);
	assert_string_equal(g->reason, "Bound to vfio-pci with its companions");
	/* The iGPU is the console left to the host: the other display is
	 * already on vfio-pci. */
	g = gpu(&t->resp, "0000:00:02.0");
	assert_int_equal(g->verdict, PROTO_VERDICT_BLOCKED);
	need(&t->resp, "only-display-device", "0000:00:02.0", PROTO_SEV_BLOCKER);
	assert_null(finding(&t->resp, "boot-vga", NULL));
	assert_null(finding(&t->resp, "only-display-device", "0000:01:00.0"));
	assert_null(finding(&t->resp, "iommu-off", NULL));
	assert_null(finding(&t->resp, "no-intremap", NULL));
}

static void
test_needs_binding(void **state)
{
	struct tree *t = *state;
	const struct proto_gpu *g;
	const struct proto_finding *f;

	std_funcs(&t->resp, NULL, "snd_hda_intel");
	tree_put(t, "proc/modules", "i915 1 0 - Live 0x0\n"
		 "snd_hda_intel 53248 3 - Live 0x0000000000000000\n");
	evaluate(t);
	g = gpu(&t->resp, "0000:01:00.0");
	assert_int_equal(g->verdict, PROTO_VERDICT_NEEDS_CONFIG);
	f = need(&t->resp, "needs-binding", "0000:01:00.0", PROTO_SEV_INFO);
	assert_non_null(strstr(f->message, "0000:01:00.0, 0000:01:00.1"));
	assert_null(finding(&t->resp, "host-driver-bound", "0000:01:00.0"));
	f = need(&t->resp, "host-driver-bound", "0000:01:00.1", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/sys/bus/pci/devices/0000:01:00.1/driver -> snd_hda_intel"));
	assert_true(has_evidence(f, "/proc/modules:2: snd_hda_intel 53248"));
	/* The companion's warning is the GPU's reason. */
	assert_string_equal(g->reason, f->message);
}

static void
test_group_not_viable(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;
	const struct proto_gpu *g;
	struct proto_pci_func *sata;

	add_func(&t->resp, "0000:00:00.0", 0x060000, 0x1022, 0x1480, NULL, 2);
	add_func(&t->resp, "0000:00:01.0", 0x060400, 0x1022, 0x1483, "pcieport", 2);
	add_func(&t->resp, "0000:00:14.3", 0x060100, 0x1022, 0x790e, NULL, 2);
	sata = add_func(&t->resp, "0000:02:00.0", 0x010601, 0x1022, 0x7901, "ahci", 2);
	sata->class_name = xstrdup("SATA controller");
	add_func(&t->resp, "0000:03:00.0", 0x030000, 0x1002, 0x73bf, "vfio-pci", 2);
	add_func(&t->resp, "0000:03:00.1", 0x040300, 0x1002, 0xab28, "vfio-pci", 2);
	add_func(&t->resp, "0000:0a:00.0", 0x030000, 0x1a03, 0x2000, "ast", 3)
		->boot_vga = PROTO_YES;
	add_group(&t->resp, 2, "0000:00:00.0", "0000:00:01.0", "0000:00:14.3",
		  "0000:02:00.0", "0000:03:00.0", "0000:03:00.1", NULL);
	add_group(&t->resp, 3, "0000:0a:00.0", NULL);
	evaluate(t);
	g = gpu(&t->resp, "0000:03:00.0");
	assert_false(g->group_viable);
	assert_int_equal(g->verdict, PROTO_VERDICT_BLOCKED);
	f = need(&t->resp, "group-not-viable", "0000:03:00.0", PROTO_SEV_BLOCKER);
	/* Host bridge and root port are fine; the ISA bridge and SATA not. */
	assert_null(strstr(f->message, "0000:00:00.0"));
	assert_null(strstr(f->message, "0000:00:01.0"));
	assert_non_null(strstr(f->message, "0000:00:14.3 (class 0x060100, no driver)"));
	assert_non_null(strstr(f->message, "0000:02:00.0 (SATA controller, ahci)"));
	assert_true(has_evidence(f, "/sys/kernel/iommu_groups/2/devices/0000:02:00.0 -> driver ahci"));
	assert_string_equal(g->reason, f->message);
	assert_true(gpu(&t->resp, "0000:0a:00.0")->group_viable);
}

static void
test_apu_companions(void **state)
{
	struct tree *t = *state;
	const struct proto_gpu *g;
	const struct proto_finding *f;

	add_func(&t->resp, "0000:01:00.0", 0x030000, 0x10de, 0x1f82, "vfio-pci", 1);
	add_func(&t->resp, "0000:07:00.0", 0x030000, 0x1002, 0x1638, "amdgpu", 7)
		->boot_vga = PROTO_YES;
	add_func(&t->resp, "0000:07:00.1", 0x040300, 0x1002, 0x1637, "snd_hda_intel", 7);
	add_func(&t->resp, "0000:07:00.2", 0x108000, 0x1022, 0x15df, "ccp", 7);
	add_func(&t->resp, "0000:07:00.3", 0x0c0330, 0x1022, 0x1639, "xhci_hcd", 8);
	add_func(&t->resp, "0000:07:00.5", 0x048000, 0x1022, 0x15e2, "snd_pci_acp3x", 9);
	add_group(&t->resp, 1, "0000:01:00.0", NULL);
	add_group(&t->resp, 7, "0000:07:00.0", "0000:07:00.1", "0000:07:00.2", NULL);
	add_group(&t->resp, 8, "0000:07:00.3", NULL);
	/* The HDA driver links itself to the GPU; so may another vendor's. */
	tree_put(t, "sys/bus/pci/devices/0000:07:00.0/consumer:pci:0000:07:00.5", "");
	evaluate(t);
	g = gpu(&t->resp, "0000:07:00.0");
	assert_int_equal(g->ncompanions, 2);
	assert_string_equal(g->companions[0], "0000:07:00.1");
	assert_string_equal(g->companions[1], "0000:07:00.5");
	/* The PSP shares the group without being a companion. */
	assert_false(g->group_viable);
	f = need(&t->resp, "group-not-viable", "0000:07:00.0", PROTO_SEV_BLOCKER);
	assert_non_null(strstr(f->message, "0000:07:00.2 (class 0x108000, ccp)"));
	assert_null(finding(&t->resp, "host-driver-bound", "0000:07:00.3"));
	assert_null(strstr(need(&t->resp, "needs-binding", "0000:07:00.0",
				PROTO_SEV_INFO)->message, "0000:07:00.3"));
}

static void
test_only_display(void **state)
{
	struct tree *t = *state;
	struct proto_pci_func *f;
	const struct proto_finding *fd;

	f = add_func(&t->resp, "0000:0e:00.0", 0x030000, 0x10de, 0x1c03, "nouveau", 5);
	f->boot_vga = PROTO_YES;
	/* A 3D controller is no console: still the only display device. */
	add_func(&t->resp, "0000:0f:00.0", 0x030200, 0x10de, 0x20b0, "nvidia", 6);
	add_group(&t->resp, 5, "0000:0e:00.0", NULL);
	add_group(&t->resp, 6, "0000:0f:00.0", NULL);
	evaluate(t);
	need(&t->resp, "only-display-device", "0000:0e:00.0", PROTO_SEV_BLOCKER);
	assert_null(finding(&t->resp, "boot-vga", NULL));
	assert_int_equal(gpu(&t->resp, "0000:0e:00.0")->verdict, PROTO_VERDICT_BLOCKED);
	assert_null(finding(&t->resp, "only-display-device", "0000:0f:00.0"));
	/* Not a laptop: a headless compute card, worth knowing, nothing to
	 * fix; nvidia bound to it is what keeps it from ready. */
	fd = need(&t->resp, "3d-controller", "0000:0f:00.0", PROTO_SEV_INFO);
	assert_non_null(strstr(fd->message, "headless"));
	assert_int_equal(gpu(&t->resp, "0000:0f:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
	/* Once on vfio-pci it is ready (a verified compute host must not
	 * read "needs-configuration"). */
	free(t->resp.funcs[1].driver);
	t->resp.funcs[1].driver = xstrdup("vfio-pci");
	clear_results(&t->resp);
	evaluate(t);
	need(&t->resp, "3d-controller", "0000:0f:00.0", PROTO_SEV_INFO);
	assert_int_equal(gpu(&t->resp, "0000:0f:00.0")->verdict,
			 PROTO_VERDICT_READY);
}

static void
test_3d_controller_laptop(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	add_func(&t->resp, "0000:00:02.0", 0x030000, 0x8086, 0x9a49, "i915", 0)
		->boot_vga = PROTO_YES;
	add_func(&t->resp, "0000:01:00.0", 0x030200, 0x10de, 0x25a2, "vfio-pci", 1);
	add_group(&t->resp, 0, "0000:00:02.0", NULL);
	add_group(&t->resp, 1, "0000:01:00.0", NULL);
	tree_put(t, "sys/class/power_supply/BAT0/type", "Battery\n");
	tree_put(t, "sys/class/power_supply/AC/type", "Mains\n");
	tree_put(t, "sys/class/dmi/id/chassis_type", "10\n");
	evaluate(t);
	f = need(&t->resp, "3d-controller", "0000:01:00.0", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/sys/class/power_supply/BAT0: present"));
	assert_true(has_evidence(f, "/sys/class/dmi/id/chassis_type: 10"));
	assert_false(has_evidence(f, "/sys/class/power_supply/AC"));
	/* Bound to vfio-pci, yet the warning keeps it from "ready". */
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
}

static void
test_bmc_display(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;
	const struct proto_gpu *g;

	add_func(&t->resp, "0000:03:00.0", 0x030000, 0x1a03, 0x2000, "ast", 3)
		->boot_vga = PROTO_YES;
	add_func(&t->resp, "0000:04:00.0", 0x030000, 0x102b, 0x0534, NULL, 4);
	add_func(&t->resp, "0000:05:00.0", 0x030000, 0x19e5, 0x1710, "hibmc-drm", 5);
	add_func(&t->resp, "0000:41:00.0", 0x030200, 0x10de, 0x20b5, "nvidia", 6);
	add_group(&t->resp, 3, "0000:03:00.0", NULL);
	add_group(&t->resp, 6, "0000:41:00.0", NULL);
	evaluate(t);
	assert_int_equal(t->resp.ngpus, 4);
	f = need(&t->resp, "bmc-display", "0000:03:00.0", PROTO_SEV_BLOCKER);
	assert_true(has_evidence(f, "/sys/bus/pci/devices/0000:03:00.0: 1a03:2000"));
	assert_true(has_evidence(f, "/sys/bus/pci/devices/0000:03:00.0/boot_vga: 1"));
	need(&t->resp, "bmc-display", "0000:04:00.0", PROTO_SEV_BLOCKER);
	need(&t->resp, "bmc-display", "0000:05:00.0", PROTO_SEV_BLOCKER);
	/* Nothing else is said about a BMC display. */
	for (size_t i = 0; i < t->resp.nfindings; i++)
		if (t->resp.findings[i].device &&
		    strcmp(t->resp.findings[i].device, "0000:03:00.0") == 0)
			assert_string_equal(t->resp.findings[i].code, "bmc-display");
	g = gpu(&t->resp, "0000:03:00.0");
	assert_int_equal(g->verdict, PROTO_VERDICT_BLOCKED);
	assert_true(g->group_viable);
	assert_false(gpu(&t->resp, "0000:04:00.0")->group_viable);	/* no group */
	/* The BMC is a console: the compute GPU is not the only display. */
	assert_null(finding(&t->resp, "only-display-device", NULL));
	assert_int_equal(gpu(&t->resp, "0000:41:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
}

static void
test_boot_vga_kmsg(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	t->resp.funcs[1].boot_vga = PROTO_NO;
	t->resp.funcs[2].boot_vga = PROTO_YES;
	tree_put(t, "dev/kmsg",
		 "6,1,1,-;pci 0000:01:00.0: vgaarb: setting as boot VGA device\n"
		 "6,2,2,-;efifb: probing for efifb\n"
		 "3,3,3,-;vfio-pci 0000:01:00.0: BAR 1: can't reserve [mem 0xc0000000-0xcfffffff 64bit pref]\n"
		 "3,4,4,-;vfio-pci 0000:05:00.0: BAR 0: can't reserve [mem 0xf0000000-0xf0ffffff]\n");
	evaluate(t);
	f = need(&t->resp, "boot-vga", "0000:01:00.0", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/sys/bus/pci/devices/0000:01:00.0/boot_vga: 1"));
	assert_true(has_evidence(f, "kmsg: pci 0000:01:00.0: vgaarb: setting as boot VGA device"));
	assert_true(has_evidence(f, "kmsg: efifb: probing for efifb"));
	f = need(&t->resp, "bar-reserve", "0000:01:00.0", PROTO_SEV_BLOCKER);
	assert_int_equal(f->nevidence, 1);	/* not the 05:00.0 line */
	assert_string_equal(f->evidence[0], "kmsg: vfio-pci 0000:01:00.0: BAR 1: "
			    "can't reserve [mem 0xc0000000-0xcfffffff 64bit pref]");
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_BLOCKED);
	assert_string_equal(gpu(&t->resp, "0000:01:00.0")->reason, f->message);
}

static void
test_kmsg_device_findings(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	tree_put(t, "dev/kmsg",
		 "4,1,1,-;vfio-pci: probe of 0000:01:00.1 failed with error -22\n"
		 "4,2,2,-;nouveau: probe of 0000:07:00.0 failed with error -22\n"
		 "3,3,3,-;vfio-pci 0000:01:00.0: Device is ineligible for IOMMU "
		 "domain attach due to platform RMRR requirement.  Contact your "
		 "platform vendor.\n"
		 " SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0\n"
		 "6,4,4,-;DMAR: Setting identity map for device 0000:00:1a.0 [0xcbeeb800 - 0xcbefffff]\n");
	evaluate(t);
	f = need(&t->resp, "vfio-probe-failed", "0000:01:00.0", PROTO_SEV_BLOCKER);
	assert_int_equal(f->nevidence, 1);
	assert_string_equal(f->evidence[0],
			    "kmsg: vfio-pci: probe of 0000:01:00.1 failed with error -22");
	f = need(&t->resp, "rmrr", "0000:01:00.0", PROTO_SEV_BLOCKER);
	assert_int_equal(f->nevidence, 1);
	assert_int_equal(t->resp.ngpus, 2);
	assert_null(finding(&t->resp, "rmrr", "0000:00:02.0"));
}

static void
test_iommu_off_flag_missing(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "nouveau", "snd_hda_intel");
	for (size_t i = 0; i < t->resp.nfuncs; i++)
		t->resp.funcs[i].iommu_group = -1;
	t->resp.host.iommu_active = PROTO_NO;
	t->resp.host.iommu_groups = 0;
	/* The AMD flag on an Intel host: the tables decide, not the CPU. */
	set_str(&t->resp.host.cmdline, "BOOT_IMAGE=/vmlinuz ro quiet amd_iommu=on");
	evaluate(t);
	f = need(&t->resp, "iommu-off", "", PROTO_SEV_WARNING);
	assert_non_null(strstr(f->message, "intel_iommu=on"));
	assert_non_null(strstr(f->message, "amd_iommu= does not apply"));
	assert_true(has_evidence(f, "/proc/cmdline: BOOT_IMAGE=/vmlinuz ro quiet amd_iommu=on"));
	assert_true(has_evidence(f, "DMAR"));
	/* No group is no "no-iommu-group" blocker while the IOMMU is off. */
	assert_null(finding(&t->resp, "no-iommu-group", NULL));
	assert_false(gpu(&t->resp, "0000:01:00.0")->group_viable);
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
}

static void
test_iommu_off_pending(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, NULL, NULL);
	t->resp.host.iommu_active = PROTO_NO;
	set_str(&t->resp.host.cmdline, "BOOT_IMAGE=/vmlinuz ro quiet");
	tree_put(t, "etc/default/grub",
		 "GRUB_DEFAULT=0\n"
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"\n"
		 "GRUB_CMDLINE_LINUX=\"\"\n");
	evaluate(t);
	f = need(&t->resp, "iommu-off", "", PROTO_SEV_WARNING);
	assert_non_null(strstr(f->message, "configured in /etc/default/grub"));
	f = need(&t->resp, "cmdline-pending", "", PROTO_SEV_WARNING);
	assert_non_null(strstr(f->message, "intel_iommu=on iommu=pt"));
	assert_null(strstr(f->message, "quiet"));
	assert_true(has_evidence(f, "/etc/default/grub: quiet intel_iommu=on iommu=pt"));
	assert_null(finding(&t->resp, "grub-default-missing", NULL));
}

static void
test_iommu_off_blockers(void **state)
{
	static const struct {
		const char *hw, *cmdline, *needle;
	} cases[] = {
		{ "intel-vt-d", "ro intel_iommu=on", "although intel_iommu=on" },
		{ "intel-vt-d", "ro intel_iommu=off", "intel_iommu=off" },
		{ "amd-vi", "ro amd_iommu=off", "amd_iommu=off" },
		{ "amd-vi", "ro quiet", "AMD-Vi" },
		{ NULL, "ro quiet", "BIOS" },
	};
	struct tree *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct proto_finding *f;

		proto_response_release(&t->resp);
		set_str(&t->resp.host.kernel_release, "6.1.0");
		set_str(&t->resp.host.iommu_hw, cases[i].hw);
		set_str(&t->resp.host.cmdline, cases[i].cmdline);
		t->resp.host.iommu_active = PROTO_NO;
		std_funcs(&t->resp, NULL, NULL);
		evaluate(t);
		f = need(&t->resp, "iommu-off", "", PROTO_SEV_BLOCKER);
		if (!strstr(f->message, cases[i].needle) &&
		    !has_evidence(f, cases[i].needle))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].needle,
				 f->message);
		assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict,
				 PROTO_VERDICT_BLOCKED);
	}
}

static void
test_intremap(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	set_str(&t->resp.host.cmdline, "ro intel_iommu=on intremap=off");
	t->resp.host.intremap = PROTO_NO;
	evaluate(t);
	f = need(&t->resp, "no-intremap", "", PROTO_SEV_BLOCKER);
	assert_non_null(strstr(f->message, "failed to set iommu for container: "
			       "Operation not permitted"));
	assert_non_null(strstr(f->message, "allow_unsafe_interrupts"));
	assert_true(has_evidence(f, "/proc/cmdline: ro intel_iommu=on intremap=off"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_BLOCKED);
	assert_string_equal(gpu(&t->resp, "0000:01:00.0")->reason, f->message);
}

static void
test_intremap_optin(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	t->resp.host.intremap = PROTO_NO;
	tree_put(t, "dev/kmsg", "4,0,0,-;vfio_iommu_type1_attach_group: No "
		 "interrupt remapping support.  Use the module param "
		 "\"allow_unsafe_interrupts\" to enable VFIO IOMMU support on "
		 "this platform\n");
	tree_put(t, "etc/modprobe.d/iommu_unsafe_interrupts.conf",
		 "# opt-in\noptions vfio_iommu_type1 allow_unsafe_interrupts=1\n");
	evaluate(t);
	assert_null(finding(&t->resp, "no-intremap", NULL));
	f = need(&t->resp, "unsafe-interrupts", "", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "kmsg: vfio_iommu_type1_attach_group: No interrupt remapping support."));
	assert_true(has_evidence(f, "/etc/modprobe.d/iommu_unsafe_interrupts.conf:2: "
				 "options vfio_iommu_type1 allow_unsafe_interrupts=1"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
}

static void
test_intremap_unknown_and_unneeded(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	t->resp.host.intremap = PROTO_UNKNOWN;
	tree_put(t, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
	evaluate(t);
	need(&t->resp, "intremap-unknown", "", PROTO_SEV_INFO);
	f = need(&t->resp, "unsafe-interrupts", "", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts: Y"));
}

static void
test_unsafe_builtin(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	/* vfio_iommu_type1 built in: the modprobe.d opt-in never applies. */
	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	tree_put(t, "lib/modules/6.5.0-1-generic/modules.builtin",
		 "kernel/drivers/vfio/vfio_iommu_type1.ko\n");
	tree_put(t, "etc/modprobe.d/iommu_unsafe_interrupts.conf",
		 "options vfio_iommu_type1 allow_unsafe_interrupts=1\n");
	tree_put(t, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
	evaluate(t);
	f = need(&t->resp, "unsafe-interrupts", "", PROTO_SEV_INFO);
	assert_non_null(strstr(f->message, "no effect"));
	assert_true(has_evidence(f, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts: N"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_READY);

	/* Interrupt remapping off as well: still blocked, and the message
	 * says where the opt-in would have to go. */
	t->resp.host.intremap = PROTO_NO;
	set_str(&t->resp.host.cmdline, "ro intel_iommu=on intremap=off");
	clear_results(&t->resp);
	evaluate(t);
	f = need(&t->resp, "no-intremap", "", PROTO_SEV_BLOCKER);
	assert_non_null(strstr(f->message, "vfio_iommu_type1.allow_unsafe_"
			       "interrupts=1 on the kernel command line"));
	assert_non_null(strstr(f->message, "has no effect"));
	assert_true(has_evidence(f, "/etc/modprobe.d/iommu_unsafe_interrupts.conf:1:"));
	assert_null(finding(&t->resp, "unsafe-interrupts", NULL));
}

static void
test_acs_override(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	set_str(&t->resp.host.cmdline,
		"ro intel_iommu=on pcie_acs_override=downstream,multifunction");
	evaluate(t);
	f = need(&t->resp, "acs-override", "", PROTO_SEV_WARNING);
	assert_non_null(strstr(f->message, "downstream,multifunction"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
}

static void
test_vfio_builtin(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	set_str(&t->resp.host.vfio_pci, "builtin");
	tree_put(t, "lib/modules/6.5.0-1-generic/modules.builtin",
		 "kernel/fs/ext4/ext4.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\n");
	evaluate(t);
	f = need(&t->resp, "vfio-builtin", "", PROTO_SEV_INFO);
	assert_true(has_evidence(f, "/lib/modules/6.5.0-1-generic/modules.builtin:2: "
				 "kernel/drivers/vfio/pci/vfio-pci.ko"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_READY);

	/* A modprobe.d options line for it has no effect: warning. */
	tree_put(t, "etc/modprobe.d/vfio.conf",
		 "options vfio-pci ids=10de:1c03,10de:10f1\n");
	clear_results(&t->resp);
	evaluate(t);
	f = need(&t->resp, "vfio-builtin", "", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/etc/modprobe.d/vfio.conf:1: options vfio-pci ids=10de:1c03,10de:10f1"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);

	/* With the ids on the command line the line is a harmless leftover. */
	set_str(&t->resp.host.cmdline, "ro intel_iommu=on vfio-pci.ids=10de:1c03,10de:10f1");
	clear_results(&t->resp);
	evaluate(t);
	f = need(&t->resp, "vfio-builtin", "", PROTO_SEV_INFO);
	assert_non_null(strstr(f->message, "leftover"));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_READY);
}

static void
test_vfio_missing(void **state)
{
	struct tree *t = *state;

	std_funcs(&t->resp, NULL, NULL);
	set_str(&t->resp.host.vfio_pci, "missing");
	evaluate(t);
	need(&t->resp, "vfio-pci-missing", "", PROTO_SEV_BLOCKER);
}

static void
test_virqfd(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, NULL, NULL);
	tree_put(t, "etc/modules", "# vfio_virqfd in a comment\nvfio\nvfio_virqfd\n");
	tree_put(t, "etc/dracut.conf.d/vfio.conf",
		 "force_drivers+=\" vfio vfio_iommu_type1 vfio_virqfd vfio_pci \"\n");
	tree_put(t, "etc/modules-load.d/vfio.conf", "vfio_pci\n");
	tree_put(t, "dev/kmsg", "27,1,4411207,-;systemd-modules-load[412]: "
		 "Failed to find module 'vfio_virqfd'\n");
	evaluate(t);
	/* A dracut config lists it: the boot hangs. */
	f = need(&t->resp, "vfio-virqfd-obsolete", "", PROTO_SEV_BLOCKER);
	assert_int_equal(f->nevidence, 3);
	assert_string_equal(f->evidence[0], "/etc/dracut.conf.d/vfio.conf:1: "
			    "force_drivers+=\" vfio vfio_iommu_type1 vfio_virqfd vfio_pci \"");
	assert_string_equal(f->evidence[1], "/etc/modules:3: vfio_virqfd");
	assert_string_equal(f->evidence[2], "kmsg: systemd-modules-load[412]: "
			    "Failed to find module 'vfio_virqfd'");
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_BLOCKED);
}

static void
test_virqfd_initramfs_tools(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	tree_put(t, "etc/modules-load.d/vfio.conf", "vfio\nvfio-virqfd\n");
	evaluate(t);
	/* initramfs-tools: a harmless load error at every boot, no hang. */
	f = need(&t->resp, "vfio-virqfd-obsolete", "", PROTO_SEV_INFO);
	assert_string_equal(f->evidence[0], "/etc/modules-load.d/vfio.conf:2: vfio-virqfd");
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_READY);

	/* The same list on a dracut host ends up in the initramfs. */
	set_str(&t->resp.host.initramfs_tool, "dracut");
	clear_results(&t->resp);
	evaluate(t);
	need(&t->resp, "vfio-virqfd-obsolete", "", PROTO_SEV_BLOCKER);
}

static void
test_virqfd_old_kernel(void **state)
{
	struct tree *t = *state;

	std_funcs(&t->resp, NULL, NULL);
	set_str(&t->resp.host.kernel_release, "6.1.0-18-amd64");
	tree_put(t, "etc/modules", "vfio_virqfd\n");
	evaluate(t);
	assert_null(finding(&t->resp, "vfio-virqfd-obsolete", NULL));
}

static void
test_grub_d_override(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, NULL, NULL);
	tree_put(t, "etc/default/grub",
		 "GRUB_CMDLINE_LINUX=\"\"\n");	/* no _DEFAULT line */
	tree_put(t, "etc/default/grub.d/50-cloudimg-settings.cfg",
		 "# Set the recordfail timeout\nGRUB_RECORDFAIL_TIMEOUT=0\n"
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\n");
	tree_put(t, "etc/default/grub.d/60-append.cfg",
		 "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX nomodeset\"\n");
	evaluate(t);
	f = need(&t->resp, "grub-d-override", "", PROTO_SEV_WARNING);
	assert_int_equal(f->nevidence, 1);
	assert_string_equal(f->evidence[0],
			    "/etc/default/grub.d/50-cloudimg-settings.cfg:3: "
			    "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"");
	for (size_t i = 0; i < t->resp.nfindings; i++)
		if (strcmp(t->resp.findings[i].code, "grub-d-override") == 0)
			assert_null(strstr(t->resp.findings[i].evidence[0], "60-append"));
	need(&t->resp, "grub-default-missing", "", PROTO_SEV_INFO);
}

static void
test_driver_override(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, "nouveau", "vfio-pci");
	t->resp.funcs[2].driver_override = xstrdup("vfio-pci");
	t->resp.funcs[3].driver_override = xstrdup("vfio-pci");	/* matches */
	evaluate(t);
	f = need(&t->resp, "driver-override-set", "0000:01:00.0", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/sys/bus/pci/devices/0000:01:00.0/driver_override: vfio-pci"));
	assert_null(finding(&t->resp, "driver-override-set", "0000:01:00.1"));
}

static void
test_reset(void **state)
{
	struct tree *t = *state;
	struct proto_pci_func *f;

	add_func(&t->resp, "0000:00:02.0", 0x030000, 0x8086, 0x3e92, "i915", 0);
	f = add_func(&t->resp, "0000:03:00.0", 0x030000, 0x1002, 0x67df, "amdgpu", 1);
	set_str(&f->reset_method, "bus");
	f = add_func(&t->resp, "0000:04:00.0", 0x030000, 0x10de, 0x1c03, "nouveau", 2);
	set_str(&f->reset_method, "pm bus");
	f = add_func(&t->resp, "0000:05:00.0", 0x030000, 0x10de, 0x1c03, "nouveau", 3);
	set_str(&f->reset_method, NULL);
	evaluate(t);
	need(&t->resp, "reset-bus-only", "0000:03:00.0", PROTO_SEV_WARNING);
	need(&t->resp, "reset-bus-only", "0000:04:00.0", PROTO_SEV_INFO);
	need(&t->resp, "no-reset-method", "0000:05:00.0", PROTO_SEV_WARNING);
	assert_null(finding(&t->resp, "reset-bus-only", "0000:00:02.0"));
	assert_non_null(strstr(finding(&t->resp, "reset-bus-only",
				       "0000:03:00.0")->message, "vendor-reset"));
}

static void
test_reset_vendor_reset_old_kernel(void **state)
{
	struct tree *t = *state;
	struct proto_pci_func *f;

	proto_strv_add(&t->resp.host.modules_loaded,
		       &t->resp.host.nmodules_loaded, "vendor_reset");
	set_str(&t->resp.host.kernel_release, "5.4.0-150-generic");
	add_func(&t->resp, "0000:00:02.0", 0x030000, 0x8086, 0x3e92, "i915", 0);
	f = add_func(&t->resp, "0000:03:00.0", 0x030000, 0x1002, 0x67df, "amdgpu", 1);
	set_str(&f->reset_method, "bus");
	f = add_func(&t->resp, "0000:05:00.0", 0x030000, 0x10de, 0x1c03, "nouveau", 3);
	set_str(&f->reset_method, NULL);
	evaluate(t);
	need(&t->resp, "reset-bus-only", "0000:03:00.0", PROTO_SEV_INFO);
	/* Before 5.15 there is no reset_method file: absence says nothing. */
	assert_null(finding(&t->resp, "no-reset-method", NULL));
}

static void
test_gb200_and_persistenced(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	add_func(&t->resp, "0000:00:02.0", 0x030000, 0x8086, 0x1901, "i915", 0)
		->boot_vga = PROTO_YES;
	add_func(&t->resp, "0008:01:00.0", 0x030200, 0x10de, 0x2941,
		 "nvgrace_gpu_vfio_pci", 4);
	add_func(&t->resp, "0009:01:00.0", 0x030200, 0x10de, 0x2941, "nvidia", 5);
	add_group(&t->resp, 4, "0008:01:00.0", NULL);
	add_group(&t->resp, 5, "0009:01:00.0", NULL);
	tree_put(t, "proc/1/comm", "systemd\n");
	tree_put(t, "proc/2417/comm", "nvidia-persiste\n");
	tree_put(t, "proc/self/comm", "nvidia-persiste\n");	/* not a pid */
	tree_put(t, "proc/3001/comm", "nv-fabricmanage\n");
	add_func(&t->resp, "0010:00:00.0", 0x068000, 0x10de, 0x22a3, "nvidia", 9)
		->numa_node = 1;
	t->resp.funcs[1].numa_node = 0;
	evaluate(t);
	f = need(&t->resp, "nvlink-fabric", "0008:01:00.0", PROTO_SEV_WARNING);
	assert_true(has_evidence(f, "/sys/bus/pci/devices/0010:00:00.0: NVSwitch 10de:22a3"));
	assert_true(has_evidence(f, "/proc/3001/comm: nv-fabricmanage"));
	f = need(&t->resp, "numa-node", "0008:01:00.0", PROTO_SEV_INFO);
	assert_non_null(strstr(f->message, "NUMA node 0"));
	assert_null(finding(&t->resp, "numa-node", "0009:01:00.0"));	/* unknown */
	assert_null(finding(&t->resp, "nvlink-fabric", "0000:00:02.0"));
	need(&t->resp, "gb200-nvgrace", "0008:01:00.0", PROTO_SEV_INFO);
	need(&t->resp, "vfio-bound", "0008:01:00.0", PROTO_SEV_INFO);
	f = need(&t->resp, "needs-binding", "0009:01:00.0", PROTO_SEV_INFO);
	assert_non_null(strstr(f->message, "nvgrace_gpu_vfio_pci"));
	f = need(&t->resp, "nvidia-persistenced", "0009:01:00.0", PROTO_SEV_WARNING);
	assert_int_equal(f->nevidence, 1);
	assert_string_equal(f->evidence[0], "/proc/2417/comm: nvidia-persiste");
	assert_null(finding(&t->resp, "nvidia-persistenced", "0008:01:00.0"));
	need(&t->resp, "identical-gpus", "0008:01:00.0", PROTO_SEV_INFO);
	need(&t->resp, "3d-controller", "0008:01:00.0", PROTO_SEV_INFO);
	assert_int_equal(gpu(&t->resp, "0008:01:00.0")->verdict,
			 PROTO_VERDICT_NEEDS_CONFIG);
}

static void
test_environment(void **state)
{
	struct tree *t = *state;

	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	t->resp.host.secure_boot = PROTO_YES;
	tree_put(t, "run/systemd/container", "lxc\n");
	tree_put(t, "run/ostree-booted", "");
	evaluate(t);
	need(&t->resp, "secure-boot", "", PROTO_SEV_INFO);
	assert_true(has_evidence(need(&t->resp, "container", "", PROTO_SEV_BLOCKER),
				 "/run/systemd/container: lxc"));
	need(&t->resp, "immutable-os", "", PROTO_SEV_BLOCKER);
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_BLOCKED);
}

static void
test_initramfs_configs(void **state)
{
	struct tree *t = *state;
	const struct proto_finding *f;

	std_funcs(&t->resp, NULL, NULL);
	tree_put(t, "etc/dracut.conf.d/10-vfio.conf",
		 "add_drivers+=\"vfio_pci vfio\"\n"
		 "force_drivers+=\" vfio_iommu_type1 \"\n");
	tree_put(t, "etc/mkinitcpio.conf",
		 "# MODULES=(vfio_pci amdgpu)\n"
		 "MODULES=(amdgpu vfio_pci vfio vfio_iommu_type1)\n");
	tree_put(t, "etc/mkinitcpio.conf.d/ok.conf",
		 "MODULES=(vfio_pci vfio vfio_iommu_type1 nouveau)\n");
	evaluate(t);
	f = need(&t->resp, "dracut-spacing", "", PROTO_SEV_WARNING);
	assert_int_equal(f->nevidence, 1);
	assert_string_equal(f->evidence[0], "/etc/dracut.conf.d/10-vfio.conf:1: "
			    "add_drivers+=\"vfio_pci vfio\"");
	f = need(&t->resp, "mkinitcpio-order", "", PROTO_SEV_WARNING);
	assert_int_equal(f->nevidence, 1);
	assert_string_equal(f->evidence[0], "/etc/mkinitcpio.conf:2: "
			    "MODULES=(amdgpu vfio_pci vfio vfio_iommu_type1)");
}

static void
test_tooling_unknown(void **state)
{
	struct tree *t = *state;

	std_funcs(&t->resp, NULL, NULL);
	set_str(&t->resp.host.bootloader, NULL);
	set_str(&t->resp.host.initramfs_tool, NULL);
	tree_put(t, "usr/bin/booster", "");
	evaluate(t);
	need(&t->resp, "bootloader-unknown", "", PROTO_SEV_WARNING);
	assert_true(has_evidence(need(&t->resp, "initramfs-unknown", "",
				      PROTO_SEV_WARNING), "/usr/bin/booster"));
}

static void
test_tooling_not_needed(void **state)
{
	struct tree *t = *state;

	/* Every display function already on vfio-pci: nothing to apply. */
	add_func(&t->resp, "0000:01:00.0", 0x030000, 0x10de, 0x1c03, "vfio-pci", 1);
	add_func(&t->resp, "0000:00:02.0", 0x030000, 0x8086, 0x3e92, "vfio-pci", 0);
	add_group(&t->resp, 0, "0000:00:02.0", NULL);
	add_group(&t->resp, 1, "0000:01:00.0", NULL);
	set_str(&t->resp.host.bootloader, NULL);
	set_str(&t->resp.host.initramfs_tool, NULL);
	evaluate(t);
	assert_null(finding(&t->resp, "bootloader-unknown", NULL));
	assert_null(finding(&t->resp, "initramfs-unknown", NULL));
	/* Both displays already on vfio-pci: the host is headless by choice. */
	assert_null(finding(&t->resp, "only-display-device", NULL));
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->verdict, PROTO_VERDICT_READY);
}

static void
test_intel_default_and_no_group(void **state)
{
	struct tree *t = *state;

	set_str(&t->resp.host.kernel_release, "6.8.0-45-generic");
	std_funcs(&t->resp, NULL, NULL);
	t->resp.funcs[2].iommu_group = -1;
	evaluate(t);
	need(&t->resp, "intel-iommu-default", "", PROTO_SEV_INFO);
	need(&t->resp, "no-iommu-group", "0000:01:00.0", PROTO_SEV_BLOCKER);
	assert_int_equal(gpu(&t->resp, "0000:01:00.0")->iommu_group, -1);
	assert_false(gpu(&t->resp, "0000:01:00.0")->group_viable);
}

static void
test_no_display(void **state)
{
	struct tree *t = *state;

	add_func(&t->resp, "0000:00:1f.2", 0x010601, 0x8086, 0x3a22, "ahci", 0);
	evaluate(t);
	assert_int_equal(t->resp.ngpus, 0);
}

static void
test_reason_prefers_own(void **state)
{
	struct tree *t = *state;
	const struct proto_gpu *g;

	/* Host-wide blocker and the GPU's own blocker: the own one wins. */
	std_funcs(&t->resp, "vfio-pci", "vfio-pci");
	set_str(&t->resp.host.cmdline, "ro intel_iommu=on nointremap");
	tree_put(t, "dev/kmsg", "4,1,1,-;vfio-pci: probe of 0000:01:00.0 failed with error -22\n");
	evaluate(t);
	g = gpu(&t->resp, "0000:01:00.0");
	assert_int_equal(g->verdict, PROTO_VERDICT_BLOCKED);
	assert_string_equal(g->reason,
			    need(&t->resp, "vfio-probe-failed", "0000:01:00.0",
				 PROTO_SEV_BLOCKER)->message);
}

/* --- fixture shapes --- */

static const char *
fixtures_dir(void)
{
	static char buf[512];
	const char *top = getenv("VFLEET_TOP");

	snprintf(buf, sizeof(buf), "%s/tests/fixtures/sysroot", top ? top : ".");
	return buf;
}

/* What one GPU of a shape must look like. Codes are "code" or
 * "code=severity"; findings about the GPU, its companions, or host-wide. */
struct expect_gpu {
	const char *addr;
	enum proto_verdict verdict;
	int ncompanions;		/* -1: not checked */
	bool viable;
	const char *codes[8];
	const char *absent[6];		/* codes it must not have */
};

struct expect_shape {
	const char *shape;
	size_t ngpus;
	struct expect_gpu gpus[4];
};

#define READY PROTO_VERDICT_READY
#define NEEDS PROTO_VERDICT_NEEDS_CONFIG
#define BLOCKED PROTO_VERDICT_BLOCKED
#define BMC(a) { a, BLOCKED, 0, true, { "bmc-display=blocker" }, \
		 { "needs-binding", "host-driver-bound", "boot-vga" } }

static const struct expect_shape shapes[] = {
	/* The seed: VT-d present but off (intel_iommu=on missing), the X58
	 * erratum disables interrupt remapping -> the EPERM of the how-to. */
	{ "seed-intel-ubuntu", 2, {
		{ "0000:0e:00.0", BLOCKED, 1, false,
		  { "iommu-off=warning", "no-intremap=blocker", "vfio-builtin=info",
		    "needs-binding", "host-driver-bound=warning" },
		  { "boot-vga", "only-display-device", "group-not-viable",
		    "no-reset-method" } },
		{ "0000:05:00.0", BLOCKED, 0, false, { "bmc-display=blocker" },
		  { "needs-binding" } },
	} },
	{ "amd-radeon", 2, {
		{ "0000:03:00.0", NEEDS, 1, true,
		  { "grub-d-override=warning", "host-driver-bound",
		    "reset-bus-only=warning", "needs-binding" },
		  { "group-not-viable", "no-intremap", "iommu-off", "boot-vga" } },
		BMC("0000:05:00.0"),
	} },
	{ "two-identical-nvidia", 3, {
		{ "0000:01:00.0", NEEDS, 1, true,
		  { "identical-gpus=info", "host-driver-bound", "needs-binding",
		    "reset-bus-only=info" },
		  { "group-not-viable", "boot-vga" } },
		{ "0000:02:00.0", NEEDS, 1, true,
		  { "identical-gpus=info", "host-driver-bound" }, { 0 } },
		BMC("0000:04:00.0"),
	} },
	{ "shared-group", 2, {
		{ "0000:06:00.0", BLOCKED, 1, false,
		  { "group-not-viable=blocker", "host-driver-bound" },
		  { "only-display-device", "boot-vga" } },
		{ "0000:00:02.0", NEEDS, 0, true, { "boot-vga=warning" },
		  { "group-not-viable" } },
	} },
	{ "iommu-off", 2, {
		{ "0000:01:00.0", BLOCKED, 1, false,
		  { "iommu-off=blocker", "vfio-builtin=info", "host-driver-bound" },
		  { "no-iommu-group", "no-intremap", "intremap-unknown" } },
		/* Cezanne APU: only the HDMI audio (1002) is a companion; the
		 * PSP, USB and analog audio (1022) stay with the host. */
		{ "0000:07:00.0", BLOCKED, 1, false,
		  { "iommu-off=blocker", "boot-vga=warning" }, { 0 } },
	} },
	{ "no-intremap", 2, {
		{ "0000:02:00.0", BLOCKED, 1, true,
		  { "no-intremap=blocker", "host-driver-bound" },
		  { "iommu-off", "no-reset-method", "unsafe-interrupts" } },
		BMC("0000:07:00.0"),
	} },
	{ "vfio-builtin", 2, {
		{ "0000:01:00.0", NEEDS, 3, true,
		  { "vfio-builtin=warning", "host-driver-bound", "needs-binding" },
		  { "vfio-bound" } },
		{ "0000:00:02.0", NEEDS, 0, true, { "boot-vga" }, { 0 } },
	} },
	/* Bound to vfio-pci: ready. The how-to's leftovers are reported:
	 * vfio_virqfd on a 6.5 kernel fails to load at every boot (harmless
	 * with initramfs-tools), inert unsafe-interrupts and vfio options. */
	{ "already-configured", 2, {
		{ "0000:01:00.0", READY, 1, true,
		  { "vfio-bound", "vfio-virqfd-obsolete=info",
		    "unsafe-interrupts=info", "vfio-builtin=info" },
		  { "needs-binding", "host-driver-bound", "no-intremap",
		    "iommu-off", "boot-vga" } },
		/* The iGPU is the host's remaining console. */
		{ "0000:00:02.0", BLOCKED, 0, true,
		  { "only-display-device=blocker", "needs-binding" }, { 0 } },
	} },
	{ "rhel-like", 2, {
		{ "0000:03:00.0", NEEDS, 0, false,
		  { "iommu-off=warning", "secure-boot=info",
		    "3d-controller=info", "grub-default-missing=info",
		    "host-driver-bound", "needs-binding" },
		  { "only-display-device", "no-intremap" } },
		{ "0000:06:00.0", BLOCKED, 0, false, { "bmc-display=blocker" },
		  { "needs-binding" } },
	} },
	{ "boot-vga-only", 1, {
		{ "0000:01:00.0", BLOCKED, 1, true,
		  { "only-display-device=blocker", "host-driver-bound" },
		  { "boot-vga" } },
	} },
	{ "proxmox", 2, {
		{ "0000:0b:00.0", READY, 1, true, { "vfio-bound" },
		  { "needs-binding", "host-driver-bound", "boot-vga" } },
		/* The host console: the other display is on vfio-pci. */
		{ "0000:0e:00.0", BLOCKED, 1, true,
		  { "only-display-device=blocker", "host-driver-bound",
		    "reset-bus-only=warning" }, { "boot-vga" } },
	} },
	{ "large-dgx", 9, {
		{ "0000:03:00.0", NEEDS, 0, true,
		  { "3d-controller=info", "identical-gpus", "host-driver-bound",
		    "vfio-builtin=info", "needs-binding", "nvlink-fabric=warning",
		    "numa-node=info" },
		  { "group-not-viable", "only-display-device" } },
		{ "0000:e3:00.0", NEEDS, 0, true, { "identical-gpus" }, { 0 } },
		BMC("0000:48:00.0"),
	} },
};

/* Does a finding with code[=severity] concern g (or the whole host)? */
static bool
gpu_has(const struct proto_response *resp, const struct proto_gpu *g,
	const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t cl = eq ? (size_t)(eq - spec) : strlen(spec);

	for (size_t i = 0; i < resp->nfindings; i++) {
		const struct proto_finding *f = &resp->findings[i];
		bool mine = !f->device || strcmp(f->device, g->address) == 0;

		for (size_t c = 0; !mine && c < g->ncompanions; c++)
			mine = strcmp(f->device, g->companions[c]) == 0;
		if (!mine || strlen(f->code) != cl || strncmp(f->code, spec, cl))
			continue;
		if (!eq || strcmp(proto_severity_name(f->severity), eq + 1) == 0)
			return true;
	}
	return false;
}

static void
check_shape(const struct expect_shape *e)
{
	struct proto_response resp;
	char root[600];
	struct stat st;

	snprintf(root, sizeof(root), "%s/%s", fixtures_dir(), e->shape);
	if (stat(root, &st) != 0)
		fail_msg("fixture %s missing (set VFLEET_TOP or run from the "
			 "top of the tree)", root);
	proto_response_init(&resp, PROTO_OP_FACTS);
	pci_discover(root, &resp);
	host_discover(root, &resp);
	findings_evaluate(root, &resp);
	for (size_t i = 0; i < resp.nerrors; i++)
		fail_msg("%s: error %s: %s", e->shape, resp.errors[i].code,
			 resp.errors[i].message);
	check_invariants(&resp);
	if (resp.ngpus != e->ngpus)
		fail_msg("%s: %zu GPUs, expected %zu", e->shape, resp.ngpus,
			 e->ngpus);
	for (size_t i = 0; i < sizeof(e->gpus) / sizeof(e->gpus[0]) &&
	     e->gpus[i].addr; i++) {
		const struct expect_gpu *x = &e->gpus[i];
		const struct proto_gpu *g = gpu(&resp, x->addr);

		if (g->verdict != x->verdict)
			fail_msg("%s %s: verdict %s, expected %s (%s)", e->shape,
				 x->addr, proto_verdict_name(g->verdict),
				 proto_verdict_name(x->verdict), g->reason);
		if (x->ncompanions >= 0 && g->ncompanions != (size_t)x->ncompanions)
			fail_msg("%s %s: %zu companions, expected %d", e->shape,
				 x->addr, g->ncompanions, x->ncompanions);
		if (g->group_viable != x->viable)
			fail_msg("%s %s: group_viable %d", e->shape, x->addr,
				 g->group_viable);
		for (size_t c = 0; c < 8 && x->codes[c]; c++)
			if (!gpu_has(&resp, g, x->codes[c]))
				fail_msg("%s %s: missing %s", e->shape, x->addr,
					 x->codes[c]);
		for (size_t c = 0; c < 6 && x->absent[c]; c++)
			if (gpu_has(&resp, g, x->absent[c]))
				fail_msg("%s %s: unexpected %s", e->shape, x->addr,
					 x->absent[c]);
	}
	proto_response_release(&resp);
}

static void
test_shapes(void **state)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		print_message("shape %s\n", shapes[i].shape);
		check_shape(&shapes[i]);
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_table),
		T(test_ready),
		T(test_needs_binding),
		T(test_group_not_viable),
		T(test_apu_companions),
		T(test_only_display),
		T(test_3d_controller_laptop),
		T(test_bmc_display),
		T(test_boot_vga_kmsg),
		T(test_kmsg_device_findings),
		T(test_iommu_off_flag_missing),
		T(test_iommu_off_pending),
		T(test_iommu_off_blockers),
		T(test_intremap),
		T(test_intremap_optin),
		T(test_intremap_unknown_and_unneeded),
		T(test_unsafe_builtin),
		T(test_acs_override),
		T(test_vfio_builtin),
		T(test_vfio_missing),
		T(test_virqfd),
		T(test_virqfd_initramfs_tools),
		T(test_virqfd_old_kernel),
		T(test_grub_d_override),
		T(test_driver_override),
		T(test_reset),
		T(test_reset_vendor_reset_old_kernel),
		T(test_gb200_and_persistenced),
		T(test_environment),
		T(test_initramfs_configs),
		T(test_tooling_unknown),
		T(test_tooling_not_needed),
		T(test_intel_default_and_no_group),
		T(test_no_display),
		T(test_reason_prefers_own),
		cmocka_unit_test(test_shapes),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
