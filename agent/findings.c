/* findings.c: pitfalls of VFIO passthrough, per GPU and host-wide.
 *
 * Every code lives in findings_table[] below; the numbers in "pitfall"
 * refer to /work/shared/design/VFIO-PITFALLS.md. Each check reads facts
 * from the response and, where it needs file:line evidence, greps the few
 * files involved under the --root prefix.
 */
#include "findings.h"
#include "bootcfg.h"
#include "cfgfile.h"
#include "fileio.h"
#include "host.h"
#include "kmsg.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum findings_id {
	F_IOMMU_OFF = 0,
	F_INTEL_IOMMU_DEFAULT,
	F_NO_INTREMAP,
	F_INTREMAP_UNKNOWN,
	F_UNSAFE_INTERRUPTS,
	F_ACS_OVERRIDE,
	F_VFIO_BUILTIN,
	F_VFIO_PCI_MISSING,
	F_VFIO_VIRQFD_OBSOLETE,
	F_GRUB_D_OVERRIDE,
	F_GRUB_DEFAULT_MISSING,
	F_CMDLINE_PENDING,
	F_BOOTLOADER_UNKNOWN,
	F_INITRAMFS_UNKNOWN,
	F_DRACUT_SPACING,
	F_MKINITCPIO_ORDER,
	F_IMMUTABLE_OS,
	F_CONTAINER,
	F_SECURE_BOOT,
	F_BMC_DISPLAY,
	F_NO_IOMMU_GROUP,
	F_GROUP_NOT_VIABLE,
	F_ONLY_DISPLAY,
	F_BOOT_VGA,
	F_HOST_DRIVER_BOUND,
	F_NVIDIA_PERSISTENCED,
	F_DRIVER_OVERRIDE_SET,
	F_3D_CONTROLLER,
	F_NO_RESET_METHOD,
	F_RESET_BUS_ONLY,
	F_RMRR,
	F_BAR_RESERVE,
	F_VFIO_PROBE_FAILED,
	F_GB200_NVGRACE,
	F_IDENTICAL_GPUS,
	F_NVLINK_FABRIC,
	F_NUMA_NODE,
	F_NEEDS_BINDING,
	F_VFIO_BOUND,
	F_VMS_RUNNING,
	F__COUNT
};

#define I PROTO_SEV_INFO
#define W PROTO_SEV_WARNING
#define B PROTO_SEV_BLOCKER
#define HOST FINDINGS_SCOPE_HOST
#define GPU FINDINGS_SCOPE_GPU

/* The machine-readable list of codes (documented in PROTOCOL.md). */
static const struct findings_code findings_table[F__COUNT] = {
	[F_IOMMU_OFF] = { "iommu-off", W, B, HOST, "1",
		"no IOMMU groups: warning when only intel_iommu=on is missing "
		"(apply adds it), blocker when the firmware has no DMAR/IVRS table, "
		"the cmdline disables it, or it stays off despite the flag" },
	[F_INTEL_IOMMU_DEFAULT] = { "intel-iommu-default", I, I, HOST, "1",
		"DMAR host on kernel >= 6.8, whose distribution builds turn the "
		"Intel IOMMU on by default: judge the running state, not the flag" },
	[F_NO_INTREMAP] = { "no-intremap", B, B, HOST, "2",
		"interrupt remapping is off (kernel log or intremap=off/nointremap): "
		"vfio refuses the group with -EPERM ('failed to set iommu for "
		"container: Operation not permitted'); opt-in only via "
		"allow_unsafe_interrupts" },
	[F_INTREMAP_UNKNOWN] = { "intremap-unknown", I, I, HOST, "2",
		"IOMMU on but the kernel log says nothing about interrupt remapping "
		"(rotated out or unreadable)" },
	[F_UNSAFE_INTERRUPTS] = { "unsafe-interrupts", I, W, HOST, "2",
		"allow_unsafe_interrupts is set (modprobe.d, cmdline or runtime "
		"parameter): warning when in effect (no interrupt isolation; "
		"replaces no-intremap), info for a leftover with no effect" },
	[F_ACS_OVERRIDE] = { "acs-override", W, W, HOST, "3",
		"pcie_acs_override on the cmdline: works only on patched kernels and "
		"fakes group isolation" },
	[F_VFIO_BUILTIN] = { "vfio-builtin", I, W, HOST, "5",
		"vfio-pci is built into the kernel: ids must go on the cmdline as "
		"vfio-pci.ids=; warning when a modprobe.d 'options vfio-pci' line "
		"(which has no effect) stands in for missing cmdline ids" },
	[F_VFIO_PCI_MISSING] = { "vfio-pci-missing", B, B, HOST, "5",
		"the running kernel has neither a built-in nor a module vfio-pci" },
	[F_VFIO_VIRQFD_OBSOLETE] = { "vfio-virqfd-obsolete", I, B, HOST, "8",
		"kernel >= 6.2 (vfio_virqfd merged into vfio) but a module list "
		"names vfio_virqfd: blocker where dracut builds the initramfs "
		"(the boot hangs), info elsewhere (a harmless load error at boot)" },
	[F_GRUB_D_OVERRIDE] = { "grub-d-override", W, W, HOST, "9",
		"/etc/default/grub.d/*.cfg replaces GRUB_CMDLINE_LINUX[_DEFAULT], "
		"so edits to /etc/default/grub are lost" },
	[F_GRUB_DEFAULT_MISSING] = { "grub-default-missing", I, I, HOST, "9",
		"/etc/default/grub has no GRUB_CMDLINE_LINUX_DEFAULT line; apply "
		"must add one" },
	[F_CMDLINE_PENDING] = { "cmdline-pending", W, W, HOST, "9",
		"the boot configuration and /proc/cmdline differ in a VFIO-relevant "
		"parameter: reboot pending or bootloader config not regenerated" },
	[F_BOOTLOADER_UNKNOWN] = { "bootloader-unknown", W, W, HOST, "10",
		"no supported bootloader found while a GPU still needs configuring" },
	[F_INITRAMFS_UNKNOWN] = { "initramfs-unknown", W, W, HOST, "5",
		"no supported initramfs generator found while a GPU still needs "
		"configuring (booster and others ignore vfio settings)" },
	[F_DRACUT_SPACING] = { "dracut-spacing", W, W, HOST, "7",
		"a dracut '+=' value lacks the surrounding spaces dracut requires" },
	[F_MKINITCPIO_ORDER] = { "mkinitcpio-order", W, W, HOST, "7",
		"mkinitcpio MODULES lists a GPU driver before the vfio modules" },
	[F_IMMUTABLE_OS] = { "immutable-os", B, B, HOST, "10",
		"ostree-based (atomic/immutable) system: /etc and boot handled "
		"differently, unsupported" },
	[F_CONTAINER] = { "container", B, B, HOST, "16",
		"the root is a container (LXC/Docker/Podman): boot_id and the kernel "
		"belong to the host; configure passthrough there" },
	[F_SECURE_BOOT] = { "secure-boot", I, I, HOST, "-",
		"Secure Boot is on: unsigned modules (vendor-reset, DKMS NVIDIA) do "
		"not load" },
	[F_BMC_DISPLAY] = { "bmc-display", B, B, GPU, "11",
		"the display function of a server BMC (ASPEED, Matrox G200, "
		"HiSilicon iBMC): the host console, never a passthrough candidate" },
	[F_NO_IOMMU_GROUP] = { "no-iommu-group", B, B, GPU, "1",
		"the IOMMU is on but the GPU has no iommu_group" },
	[F_GROUP_NOT_VIABLE] = { "group-not-viable", B, B, GPU, "3",
		"the GPU's IOMMU group holds devices other than the GPU, its "
		"companions and bridges (listed with their drivers)" },
	[F_ONLY_DISPLAY] = { "only-display-device", B, B, GPU, "11",
		"the GPU is the host's only display device (displays already on "
		"vfio-pci do not count): binding it leaves a black console" },
	[F_BOOT_VGA] = { "boot-vga", W, W, GPU, "11",
		"the GPU is the boot VGA device: efifb/simpledrm keep its BAR "
		"reserved ('BAR 0: can't reserve')" },
	[F_HOST_DRIVER_BOUND] = { "host-driver-bound", W, W, GPU, "6",
		"the GPU or a companion is bound to a host driver (nouveau, "
		"nvidia, amdgpu, snd_hda_intel ...): needs blacklist/softdep" },
	[F_NVIDIA_PERSISTENCED] = { "nvidia-persistenced", W, W, GPU, "6",
		"nvidia-persistenced is running and holds NVIDIA GPUs open" },
	[F_DRIVER_OVERRIDE_SET] = { "driver-override-set", W, W, GPU, "14",
		"a leftover driver_override differs from the bound driver and "
		"blocks rebinding" },
	[F_3D_CONTROLLER] = { "3d-controller", I, W, GPU, "15",
		"class 0x0302 (3D controller, no display outputs): a poor "
		"candidate on laptops (muxed behind the iGPU), compute-only on "
		"servers" },
	[F_NO_RESET_METHOD] = { "no-reset-method", W, W, GPU, "13",
		"kernel >= 5.15 lists no reset method for the GPU: it cannot be "
		"reset between VM runs (AMD: vendor-reset)" },
	[F_RESET_BUS_ONLY] = { "reset-bus-only", I, W, GPU, "13",
		"no FLR, only bus/pm reset; warning for AMD GPUs without "
		"vendor-reset (AMD reset bug)" },
	[F_RMRR] = { "rmrr", B, B, GPU, "12",
		"the kernel log rejects the device for an RMRR 1:1 mapping" },
	[F_BAR_RESERVE] = { "bar-reserve", B, B, GPU, "11",
		"the kernel log shows 'BAR n: can't reserve' for the GPU" },
	[F_VFIO_PROBE_FAILED] = { "vfio-probe-failed", B, B, GPU, "14",
		"the kernel log shows 'vfio-pci: probe of ... failed with error'" },
	[F_GB200_NVGRACE] = { "gb200-nvgrace", I, I, GPU, "4",
		"GB200 (10de:2941) needs nvgrace_gpu_vfio_pci, not vfio-pci" },
	[F_IDENTICAL_GPUS] = { "identical-gpus", I, I, GPU, "4",
		"other GPUs share the vendor:device: ids= binding takes them all; "
		"keep one on the host with per-address driver_override" },
	[F_NVLINK_FABRIC] = { "nvlink-fabric", W, W, GPU, "6",
		"an NVIDIA GPU on a host with NVSwitches: passing single GPUs needs "
		"Fabric Manager's shared-NVSwitch mode (nv-fabricmanager holds them)" },
	[F_NUMA_NODE] = { "numa-node", I, I, GPU, "-",
		"multi-socket host: the GPU's NUMA node, for vCPU and memory "
		"placement" },
	[F_NEEDS_BINDING] = { "needs-binding", I, I, GPU, "4",
		"the GPU or a companion is not bound to vfio-pci yet; apply binds "
		"them together" },
	[F_VFIO_BOUND] = { "vfio-bound", I, I, GPU, "-",
		"the GPU and its companions are bound to vfio-pci" },
	[F_VMS_RUNNING] = { "vms-running", I, I, HOST, "-",
		"virtual machines (qemu, libvirt guests) are running: the "
		"controller does not reboot the host without --force" },
};

#undef I
#undef W
#undef B
#undef HOST
#undef GPU

const struct findings_code *
findings_codes(size_t *n)
{
	*n = F__COUNT;
	return findings_table;
}

const struct findings_code *
findings_code_lookup(const char *code)
{
	for (size_t i = 0; code && i < F__COUNT; i++)
		if (strcmp(findings_table[i].code, code) == 0)
			return &findings_table[i];
	return NULL;
}

/* Evidence collected before the finding exists (findings[] reallocates). */
struct evlist {
	char **v;
	size_t n;
};

static void
ev_add(struct evlist *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
ev_add(struct evlist *ev, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ev->v = xrealloc(ev->v, (ev->n + 1) * sizeof(*ev->v));
	ev->v[ev->n++] = strbuf_detach(&sb, NULL);
}

static void
ev_release(struct evlist *ev)
{
	proto_strv_free(ev->v, ev->n);
	ev->v = NULL;
	ev->n = 0;
}

struct fctx {
	const char *root;
	struct proto_response *resp;
	const char *cmdline;		/* never NULL */
	struct kmsg_log log;
	char **persistenced;		/* "/proc/<pid>/comm: ..." evidence */
	size_t npersistenced;
	char **fabricmgr;		/* the same for nv-fabricmanager */
	size_t nfabricmgr;
	char **vms;			/* the same for running qemu guests */
	size_t nvms;
};

/* Add a finding with sev (clamped to the code's range) and consume ev. */
static void
findings_add(struct fctx *c, enum findings_id id, enum proto_severity sev,
	     const char *device, struct evlist *ev, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void
findings_add(struct fctx *c, enum findings_id id, enum proto_severity sev,
	     const char *device, struct evlist *ev, const char *fmt, ...)
{
	const struct findings_code *fc = &findings_table[id];
	struct strbuf msg = STRBUF_INIT;
	struct proto_finding *f;
	va_list ap;

	if (sev < fc->sev_min)
		sev = fc->sev_min;
	if (sev > fc->sev_max)
		sev = fc->sev_max;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	f = proto_add_finding(c->resp, sev, fc->code, device, "%s", msg.buf);
	for (size_t i = 0; ev && i < ev->n; i++)
		proto_finding_add_evidence(f, "%s", ev->v[i]);
	if (ev)
		ev_release(ev);
	strbuf_release(&msg);
}

/* --- reading evidence from files --- */

typedef bool (*findings_match_fn)(const char *line, const void *arg);

struct grep_ctx {
	const char *path;
	findings_match_fn match;
	const void *arg;
	struct evlist *ev;
};

/* "path:N: text" with the line trimmed and clipped for the report. */
static int
findings_grep_line(const char *line, unsigned lineno, void *vctx)
{
	struct grep_ctx *g = vctx;
	const char *s = line + strspn(line, " \t");
	size_t n = strlen(s);

	if (cfgfile_is_comment(line) || !g->match(s, g->arg))
		return 0;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n > 300)
		n = 300;
	ev_add(g->ev, "%s:%u: %.*s", g->path, lineno, (int)n, s);
	return 0;
}

static void
findings_unreadable(struct fctx *c, const char *path, int err)
{
	struct strbuf full = STRBUF_INIT;

	sysroot_path(&full, c->root, path);
	proto_add_error(c->resp, "host-unreadable", full.buf,
			"cannot read %s: %s", path, strerror(-err));
	strbuf_release(&full);
}

/* Grep one host file (non-comment lines); returns the number of hits. */
static size_t
findings_grep(struct fctx *c, const char *path, findings_match_fn match,
	      const void *arg, struct evlist *ev)
{
	struct grep_ctx g = { path, match, arg, ev };
	size_t before = ev->n;
	int r;

	r = cfgfile_foreach_line(c->root, path, findings_grep_line, &g);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -EISDIR)
		findings_unreadable(c, path, r);
	return ev->n - before;
}

/* Grep every dir/<name><suffix>, in sorted order. */
static size_t
findings_grep_dir(struct fctx *c, const char *dir, const char *suffix,
		  findings_match_fn match, const void *arg, struct evlist *ev)
{
	struct strbuf path = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0, hits = 0;

	if (cfgfile_list(c->root, dir, suffix, &names, &n) > 0) {
		for (size_t i = 0; i < n; i++) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", dir, names[i]);
			hits += findings_grep(c, path.buf, match, arg, ev);
		}
	}
	cfgfile_names_free(names, n);
	strbuf_release(&path);
	return hits;
}

static const char *const findings_modprobe_dirs[] = {
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/lib/modprobe.d",
	"/lib/modprobe.d", NULL,
};

static size_t
findings_grep_modprobe(struct fctx *c, findings_match_fn match,
		       const void *arg, struct evlist *ev)
{
	size_t hits = 0;

	for (const char *const *d = findings_modprobe_dirs; *d; d++)
		hits += findings_grep_dir(c, *d, ".conf", match, arg, ev);
	return hits;
}

/* Module names compare with '-' == '_' (modprobe does the same). */
static bool
findings_modname_eq(const char *a, size_t alen, const char *b)
{
	if (alen != strlen(b))
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* "options <module> ..." where module matches arg->module and the line
 * contains arg->needle (NULL: any options line for the module). */
struct modopt {
	const char *module;
	const char *needle;
};

static bool
findings_match_options(const char *line, const void *varg)
{
	const struct modopt *m = varg;
	const char *p = line, *w;
	size_t wl;

	if (strncmp(p, "options", 7) != 0 || (p[7] != ' ' && p[7] != '\t'))
		return false;
	p += 7 + strspn(p + 7, " \t");
	w = p;
	wl = strcspn(p, " \t");
	if (!findings_modname_eq(w, wl, m->module))
		return false;
	return !m->needle || strstr(p + wl, m->needle);
}

/* allow_unsafe_interrupts=1|Y|y on an options line for vfio_iommu_type1. */
static bool
findings_match_unsafe(const char *line, const void *arg)
{
	static const struct modopt m = { "vfio_iommu_type1", NULL };
	const char *p;

	if (!findings_match_options(line, &m))
		return false;
	p = strstr(line, "allow_unsafe_interrupts=");
	if (!p)
		return false;
	p += strlen("allow_unsafe_interrupts=");
	return *p == '1' || *p == 'Y' || *p == 'y';
}

/* A line (modules.builtin) ending with the path suffix arg. */
static bool
findings_match_suffix(const char *line, const void *arg)
{
	size_t n = strlen(line), k = strlen(arg);

	return n >= k && strcmp(line + n - k, arg) == 0;
}

static bool
findings_match_word(const char *line, const void *arg)
{
	const char *const *words = arg;

	for (; *words; words++)
		if (cfgfile_has_word(line, *words))
			return true;
	return false;
}

/* --- small helpers on the model --- */

static bool
findings_is_display(const struct proto_pci_func *f)
{
	return (f->class_code >> 16) == 0x03;
}

/* VGA-compatible or "other display": a console can live there. */
static bool
findings_is_console(const struct proto_pci_func *f)
{
	unsigned sub = (f->class_code >> 8) & 0xffff;

	return sub == 0x0300 || sub == 0x0380 || sub == 0x0301;
}

static bool
findings_is_bridge(const struct proto_pci_func *f)
{
	unsigned sub = (f->class_code >> 8) & 0xffff;

	/* Host bridges, PCI-PCI bridges and root/switch ports may share a
	 * group (pve-docs); an ISA/LPC bridge may not. */
	return sub == 0x0600 || sub == 0x0604 || sub == 0x0609;
}

/* The VGA of a server's BMC: ASPEED AST, the Matrox G200 family of
 * iLO/iDRAC/XCC, HiSilicon Hi171x iBMC; or one of their DRM drivers. */
static bool
findings_is_bmc(const struct proto_pci_func *f)
{
	static const char *const drivers[] = { "ast", "mgag200", "hibmc-drm", NULL };

	if (!findings_is_display(f))
		return false;
	if (f->vendor_id == 0x1a03 || f->vendor_id == 0x102b ||
	    (f->vendor_id == 0x19e5 && f->device_id == 0x1711))
		return true;
	for (const char *const *d = drivers; f->driver && *d; d++)
		if (strcmp(f->driver, *d) == 0)
			return true;
	return false;
}

/* "0000:0e:00.0" and "0000:0e:00.1" share the slot "0000:0e:00". */
static bool
findings_same_slot(const char *a, const char *b)
{
	const char *da = strrchr(a, '.'), *db = strrchr(b, '.');

	if (!da || !db || da - a != db - b)
		return false;
	return strncmp(a, b, (size_t)(da - a)) == 0;
}

static bool
findings_is_vfio_driver(const char *drv)
{
	return drv && (strcmp(drv, "vfio-pci") == 0 ||
		       strcmp(drv, "nvgrace_gpu_vfio_pci") == 0 ||
		       strcmp(drv, "nvgrace-gpu-vfio-pci") == 0);
}

static const struct proto_iommu_group *
findings_group(const struct proto_response *resp, int id)
{
	for (size_t i = 0; id >= 0 && i < resp->ngroups; i++)
		if (resp->groups[i].id == id)
			return &resp->groups[i];
	return NULL;
}

static bool
findings_module_loaded(const struct proto_response *resp, const char *mod)
{
	for (size_t i = 0; i < resp->host.nmodules_loaded; i++)
		if (strcmp(resp->host.modules_loaded[i], mod) == 0)
			return true;
	return false;
}

/* The "/proc/modules:N: line" evidence for a driver's module, if loaded. */
static int
findings_modules_line(const char *line, unsigned lineno, void *vctx)
{
	void **a = vctx;
	const char *mod = a[0];
	struct evlist *ev = a[1];
	size_t wl = strcspn(line, " \t");

	if (findings_modname_eq(line, wl, mod)) {
		ev_add(ev, "/proc/modules:%u: %s", lineno, line);
		return 1;
	}
	return 0;
}

static void
findings_ev_module(struct fctx *c, const char *driver, struct evlist *ev)
{
	void *a[2] = { (void *)driver, ev };

	cfgfile_foreach_line(c->root, "/proc/modules", findings_modules_line, a);
}

/* A PCI address in a kernel log record: DEVICE=+pci:... or the text. */
static bool
findings_kmsg_addr(const struct kmsg_record *r, char out[16])
{
	static const char pat[] = "hhhh:hh:hh.d";
	const char *s;

	if (r->device && strncmp(r->device, "+pci:", 5) == 0 &&
	    strlen(r->device + 5) == 12) {
		memcpy(out, r->device + 5, 13);
		return true;
	}
	for (s = r->text; *s; s++) {
		size_t i;

		for (i = 0; pat[i]; i++) {
			char ch = s[i];

			if (pat[i] == 'h' ? !((ch >= '0' && ch <= '9') ||
					      (ch >= 'a' && ch <= 'f'))
			    : pat[i] == 'd' ? !(ch >= '0' && ch <= '7')
			    : ch != pat[i])
				break;
		}
		if (!pat[i]) {
			memcpy(out, s, 12);
			out[12] = '\0';
			return true;
		}
	}
	return false;
}

/* Is addr the GPU or one of its companions? */
static bool
findings_of_gpu(const struct proto_gpu *g, const char *addr)
{
	if (strcmp(g->address, addr) == 0)
		return true;
	for (size_t i = 0; i < g->ncompanions; i++)
		if (strcmp(g->companions[i], addr) == 0)
			return true;
	return false;
}

/* Kernel log records about GPU gi or a companion containing every needle
 * (NULL-ended); evidence "kmsg: text". Returns the count. */
static size_t
findings_kmsg_slot(struct fctx *c, size_t gi, const char *const *needles,
		   struct evlist *ev)
{
	const struct proto_gpu *g = &c->resp->gpus[gi];
	size_t hits = 0;

	for (size_t i = 0; i < c->log.nrecs; i++) {
		const struct kmsg_record *r = &c->log.recs[i];
		const char *const *n;
		char addr[16];

		for (n = needles; *n && strstr(r->text, *n); n++)
			;
		if (*n || !findings_kmsg_addr(r, addr) || !findings_of_gpu(g, addr))
			continue;
		ev_add(ev, "kmsg: %s", r->text);
		hits++;
	}
	return hits;
}

/* --- host-wide checks --- */

static void
findings_iommu(struct fctx *c)
{
	const struct proto_host_facts *h = &c->resp->host;
	struct strbuf cfg = STRBUF_INIT, src = STRBUF_INIT;
	struct evlist ev = { 0 };
	const char *off = NULL;
	bool intel = h->iommu_hw && strcmp(h->iommu_hw, "intel-vt-d") == 0;
	bool amd = h->iommu_hw && strcmp(h->iommu_hw, "amd-vi") == 0;

	if (intel && cfgfile_kernel_at_least(h->kernel_release, 6, 8))
		findings_add(c, F_INTEL_IOMMU_DEFAULT, PROTO_SEV_INFO, NULL, NULL,
			     "Kernel %s: distribution kernels from 6.8 on enable the "
			     "Intel IOMMU by default; the running state decides, "
			     "not intel_iommu=on", h->kernel_release);
	if (h->iommu_active != PROTO_NO)
		return;

	ev_add(&ev, "/sys/kernel/iommu_groups: no groups");
	/* What the kernel said about its IOMMU at boot (a few lines). */
	for (size_t i = 0, n = 0; i < c->log.nrecs && n < 3; i++) {
		const char *t = c->log.recs[i].text;

		if (strstr(t, "IOMMU enabled") || strstr(t, "IOMMU disabled") ||
		    strstr(t, "AMD-Vi: ") || strstr(t, "IOMMU not found")) {
			ev_add(&ev, "kmsg: %s", t);
			n++;
		}
	}
	if (cfgfile_cmdline_has(c->cmdline, "intel_iommu", "off"))
		off = "intel_iommu=off";
	else if (cfgfile_cmdline_has(c->cmdline, "amd_iommu", "off"))
		off = "amd_iommu=off";
	else if (cfgfile_cmdline_has(c->cmdline, "iommu", "off"))
		off = "iommu=off";
	if (off) {
		ev_add(&ev, "/proc/cmdline: %s", c->cmdline);
		findings_add(c, F_IOMMU_OFF, PROTO_SEV_BLOCKER, NULL, &ev,
			     "The IOMMU is disabled on the kernel command line "
			     "(%s); remove it and reboot", off);
		goto out;
	}
	if (intel) {
		ev_add(&ev, "/sys/firmware/acpi/tables/DMAR: present (Intel VT-d)");
		ev_add(&ev, "/proc/cmdline: %s", c->cmdline);
		if (!cfgfile_cmdline_has(c->cmdline, "intel_iommu", "on")) {
			if (bootcfg_configured_cmdline(c->root, h->bootloader,
						       h->kernel_release, &cfg,
						       &src) == 0 &&
			    cfgfile_cmdline_has(cfg.buf, "intel_iommu", "on")) {
				ev_add(&ev, "%s: %s", src.buf, cfg.buf);
				findings_add(c, F_IOMMU_OFF, PROTO_SEV_WARNING, NULL,
					     &ev, "The IOMMU is off: intel_iommu=on "
					     "is configured in %s but the running "
					     "kernel was not booted with it (reboot, "
					     "or regenerate the bootloader config)",
					     src.buf);
			} else {
				findings_add(c, F_IOMMU_OFF, PROTO_SEV_WARNING, NULL,
					     &ev, "The IOMMU is off: the firmware "
					     "has VT-d (DMAR) but intel_iommu=on is "
					     "not on the kernel command line; apply "
					     "adds it%s", cfgfile_cmdline_param(
					     c->cmdline, "amd_iommu", NULL) ?
					     " (amd_iommu= does not apply to VT-d)" :
					     "");
			}
		} else {
			findings_add(c, F_IOMMU_OFF, PROTO_SEV_BLOCKER, NULL, &ev,
				     "The IOMMU stays off although intel_iommu=on "
				     "is set: VT-d is disabled in the firmware or "
				     "missing from the kernel");
		}
		goto out;
	}
	if (amd) {
		ev_add(&ev, "/sys/firmware/acpi/tables/IVRS: present (AMD-Vi)");
		ev_add(&ev, "/proc/cmdline: %s", c->cmdline);
		findings_add(c, F_IOMMU_OFF, PROTO_SEV_BLOCKER, NULL, &ev,
			     "The IOMMU is off although the firmware has AMD-Vi "
			     "(IVRS), which Linux enables by default: check the "
			     "IOMMU/SVM settings in the BIOS and the kernel");
		goto out;
	}
	ev_add(&ev, "/sys/firmware/acpi/tables: no DMAR or IVRS table");
	findings_add(c, F_IOMMU_OFF, PROTO_SEV_BLOCKER, NULL, &ev,
		     "No IOMMU: the firmware reports no DMAR or IVRS table; "
		     "enable VT-d / AMD-Vi (IOMMU) in the BIOS");
out:
	ev_release(&ev);
	strbuf_release(&cfg);
	strbuf_release(&src);
}

/* modules.builtin of the running kernel lists path suffix `ko`. */
static bool
findings_builtin_has(struct fctx *c, const char *ko)
{
	const char *rel = c->resp->host.kernel_release;
	struct strbuf p = STRBUF_INIT;
	struct evlist ev = { 0 };
	bool r = false;

	if (!rel)
		return false;
	strbuf_addf(&p, "/lib/modules/%s/modules.builtin", rel);
	r = findings_grep(c, p.buf, findings_match_suffix, ko, &ev) > 0;
	if (!r) {
		strbuf_reset(&p);
		strbuf_addf(&p, "/usr/lib/modules/%s/modules.builtin", rel);
		r = findings_grep(c, p.buf, findings_match_suffix, ko, &ev) > 0;
	}
	ev_release(&ev);
	strbuf_release(&p);
	return r;
}

/*
 * Where allow_unsafe_interrupts is asked for (evidence into ev) and whether
 * it is in effect: the runtime parameter is the truth when it exists;
 * otherwise the cmdline, or modprobe.d unless vfio_iommu_type1 is built in
 * (modprobe options never reach a built-in module).
 */
struct unsafe_state {
	size_t requested;	/* places that ask for it */
	size_t modprobe;	/* of which modprobe.d lines */
	bool effective;
	bool builtin;		/* vfio_iommu_type1 is built in */
};

static void
findings_unsafe_optin(struct fctx *c, struct evlist *ev, struct unsafe_state *u)
{
	static const char *const params[] = {
		"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
		"/sys/module/iommufd/parameters/allow_unsafe_interrupts",
	};
	struct strbuf path = STRBUF_INIT, v = STRBUF_INIT;
	bool have_param = false, param_on = false, cmdline_on = false;

	memset(u, 0, sizeof(*u));
	u->modprobe = findings_grep_modprobe(c, findings_match_unsafe, NULL, ev);
	u->requested = u->modprobe;
	u->builtin = findings_builtin_has(c, "/vfio_iommu_type1.ko");
	for (size_t i = 0; i < 2; i++) {
		bool on;

		if (cfgfile_cmdline_param(c->cmdline, i == 0 ?
					  "vfio_iommu_type1.allow_unsafe_interrupts" :
					  "iommufd.allow_unsafe_interrupts", &v) &&
		    (v.buf[0] == '1' || v.buf[0] == 'Y' || v.buf[0] == 'y')) {
			if (!cmdline_on)
				ev_add(ev, "/proc/cmdline: %s", c->cmdline);
			cmdline_on = true;
			u->requested++;
		}
		sysroot_path(&path, c->root, params[i]);
		if (fileio_read_attr(path.buf, &v) < 0)
			continue;
		on = v.buf[0] == 'Y' || v.buf[0] == 'y' || v.buf[0] == '1';
		if (i == 0)
			have_param = true;
		if (on || (i == 0 && u->requested)) {
			ev_add(ev, "%s: %s", params[i], v.buf);
			if (on && !u->requested)
				u->requested++;	/* set at runtime */
		}
		param_on = param_on || on;
	}
	u->effective = have_param ? param_on :
		       cmdline_on || (u->modprobe && !u->builtin);
	strbuf_release(&path);
	strbuf_release(&v);
}

static void
findings_intremap(struct fctx *c)
{
	const struct proto_host_facts *h = &c->resp->host;
	struct evlist ev = { 0 }, optin = { 0 };
	struct strbuf why = STRBUF_INIT;
	struct unsafe_state u;
	enum proto_tristate st;

	st = host_intremap(c->cmdline, &c->log, &why);
	if (st == PROTO_UNKNOWN)
		st = h->intremap;	/* host_discover may know more */
	findings_unsafe_optin(c, &optin, &u);
	if (st == PROTO_NO) {
		if (!why.len)
			strbuf_addstr(&why, "host facts: interrupt remapping off");
		ev_add(&ev, "%s", why.buf);
		for (size_t i = 0; i < optin.n; i++)
			ev_add(&ev, "%s", optin.v[i]);
		if (u.effective) {
			findings_add(c, F_UNSAFE_INTERRUPTS, PROTO_SEV_WARNING,
				     NULL, &ev, "Interrupt remapping is off; VFIO "
				     "works only because allow_unsafe_interrupts is "
				     "set, so a guest can inject interrupts into the "
				     "host");
		} else {
			findings_add(c, F_NO_INTREMAP, PROTO_SEV_BLOCKER, NULL, &ev,
				     "Interrupt remapping is off: vfio_iommu_type1 "
				     "refuses the group (\"No interrupt remapping "
				     "support\"), which QEMU reports as \"failed to "
				     "setup container for group N: failed to set iommu "
				     "for container: Operation not permitted\". "
				     "Workaround only by explicit opt-in: %s "
				     "(policy allow_unsafe_interrupts)%s",
				     u.builtin ? "vfio_iommu_type1.allow_unsafe_"
				     "interrupts=1 on the kernel command line" :
				     "options vfio_iommu_type1 "
				     "allow_unsafe_interrupts=1",
				     u.modprobe && u.builtin ? "; the modprobe.d "
				     "line has no effect because vfio_iommu_type1 "
				     "is built in" : "");
		}
		goto out;
	}
	if (st == PROTO_UNKNOWN && h->iommu_active == PROTO_YES)
		findings_add(c, F_INTREMAP_UNKNOWN, PROTO_SEV_INFO, NULL, NULL,
			     "The kernel log does not say whether interrupt "
			     "remapping is on (look for \"DMAR-IR: Enabled IRQ "
			     "remapping\" or \"AMD-Vi: Interrupt remapping "
			     "enabled\")");
	if (!u.requested)
		goto out;
	if (why.len)
		ev_add(&ev, "%s", why.buf);
	for (size_t i = 0; i < optin.n; i++)
		ev_add(&ev, "%s", optin.v[i]);
	if (u.effective)
		findings_add(c, F_UNSAFE_INTERRUPTS, PROTO_SEV_WARNING, NULL, &ev,
			     "allow_unsafe_interrupts is in effect%s: it disables "
			     "interrupt isolation; remove it", st == PROTO_YES ?
			     " although interrupt remapping works" : "");
	else
		findings_add(c, F_UNSAFE_INTERRUPTS, PROTO_SEV_INFO, NULL, &ev,
			     "A leftover allow_unsafe_interrupts setting has no "
			     "effect%s; remove it", u.builtin ? " (vfio_iommu_type1 "
			     "is built in, modprobe options do not reach it)" : "");
out:
	ev_release(&ev);
	ev_release(&optin);
	strbuf_release(&why);
}

static void
findings_acs(struct fctx *c)
{
	struct evlist ev = { 0 };
	struct strbuf v = STRBUF_INIT;

	if (cfgfile_cmdline_param(c->cmdline, "pcie_acs_override", &v)) {
		ev_add(&ev, "/proc/cmdline: %s", c->cmdline);
		findings_add(c, F_ACS_OVERRIDE, PROTO_SEV_WARNING, NULL, &ev,
			     "pcie_acs_override=%s is on the command line: it only "
			     "works on patched kernels and splits groups without "
			     "real isolation", v.buf);
	}
	strbuf_release(&v);
}

static void
findings_vfio_pci(struct fctx *c)
{
	static const struct modopt vfio_opt = { "vfio_pci", NULL };
	const struct proto_host_facts *h = &c->resp->host;
	struct strbuf p = STRBUF_INIT;
	struct evlist ev = { 0 };
	size_t nopt;
	bool ids;

	if (!h->vfio_pci)
		return;
	if (strcmp(h->vfio_pci, "missing") == 0) {
		ev_add(&ev, "/lib/modules/%s: no vfio-pci (modules.builtin, "
		       "kernel/drivers/vfio/pci/)", h->kernel_release);
		findings_add(c, F_VFIO_PCI_MISSING, PROTO_SEV_BLOCKER, NULL, &ev,
			     "Kernel %s has no vfio-pci, neither built in nor as a "
			     "module", h->kernel_release);
		goto out;
	}
	if (strcmp(h->vfio_pci, "builtin") != 0)
		goto out;
	strbuf_addf(&p, "/lib/modules/%s/modules.builtin", h->kernel_release);
	if (!findings_grep(c, p.buf, findings_match_suffix, "/vfio-pci.ko",
			   &ev)) {
		strbuf_reset(&p);
		strbuf_addf(&p, "/usr/lib/modules/%s/modules.builtin",
			    h->kernel_release);
		findings_grep(c, p.buf, findings_match_suffix, "/vfio-pci.ko", &ev);
	}
	nopt = findings_grep_modprobe(c, findings_match_options, &vfio_opt, &ev);
	ids = cfgfile_cmdline_param(c->cmdline, "vfio-pci.ids", NULL) ||
	      cfgfile_cmdline_param(c->cmdline, "vfio_pci.ids", NULL);
	if (nopt && !ids)
		findings_add(c, F_VFIO_BUILTIN, PROTO_SEV_WARNING, NULL, &ev,
			     "vfio-pci is built into kernel %s, so 'options "
			     "vfio-pci' in modprobe.d has no effect: the ids must go "
			     "on the kernel command line as vfio-pci.ids=",
			     h->kernel_release);
	else if (nopt)
		findings_add(c, F_VFIO_BUILTIN, PROTO_SEV_INFO, NULL, &ev,
			     "vfio-pci is built into kernel %s and takes its ids "
			     "from the kernel command line; the 'options vfio-pci' "
			     "line in modprobe.d is a leftover with no effect",
			     h->kernel_release);
	else
		findings_add(c, F_VFIO_BUILTIN, PROTO_SEV_INFO, NULL, &ev,
			     "vfio-pci is built into kernel %s: device ids go on "
			     "the kernel command line as vfio-pci.ids=, not in "
			     "modprobe.d", h->kernel_release);
out:
	ev_release(&ev);
	strbuf_release(&p);
}

static void
findings_virqfd(struct fctx *c)
{
	static const char *const words[] = { "vfio_virqfd", "vfio-virqfd", NULL };
	static const char *const files[] = {
		"/etc/modules", "/etc/initramfs-tools/modules",
		"/etc/mkinitcpio.conf", NULL,
	};
	static const char *const dirs[] = {
		"/etc/modules-load.d", "/run/modules-load.d",
		"/usr/lib/modules-load.d", "/etc/mkinitcpio.conf.d", NULL,
	};
	const struct proto_host_facts *h = &c->resp->host;
	struct evlist ev = { 0 };
	size_t dracut, pos = 0;
	const struct kmsg_record *r;

	if (!cfgfile_kernel_at_least(h->kernel_release, 6, 2))
		return;
	/* dracut configs first: the boot hang lives there. */
	dracut = findings_grep(c, "/etc/dracut.conf", findings_match_word,
			       words, &ev);
	dracut += findings_grep_dir(c, "/etc/dracut.conf.d", ".conf",
				    findings_match_word, words, &ev);
	for (const char *const *f = files; *f; f++)
		findings_grep(c, *f, findings_match_word, words, &ev);
	for (const char *const *d = dirs; *d; d++)
		findings_grep_dir(c, *d, ".conf", findings_match_word, words, &ev);
	findings_grep_modprobe(c, findings_match_word, words, &ev);
	if (!ev.n)
		goto out;
	while ((r = kmsg_find(&c->log, &pos, "vfio_virqfd")))
		ev_add(&ev, "kmsg: %s", r->text);
	/* dracut pulls modules-load.d into the initramfs as well. */
	if (dracut || (h->initramfs_tool && strcmp(h->initramfs_tool, "dracut") == 0))
		findings_add(c, F_VFIO_VIRQFD_OBSOLETE, PROTO_SEV_BLOCKER, NULL,
			     &ev, "vfio_virqfd is listed but kernel %s merged it "
			     "into vfio (6.2): dracut boots hang at the pre-udev "
			     "hook; remove the entry", h->kernel_release);
	else
		findings_add(c, F_VFIO_VIRQFD_OBSOLETE, PROTO_SEV_INFO, NULL,
			     &ev, "vfio_virqfd is listed but kernel %s merged it "
			     "into vfio (6.2): loading it fails at every boot "
			     "(harmless here, a dracut boot would hang); remove "
			     "the entry", h->kernel_release);
out:
	ev_release(&ev);
}

static bool
findings_match_cmdline_var(const char *line, const void *arg)
{
	struct strbuf n = STRBUF_INIT, v = STRBUF_INIT;
	bool r = cfgfile_assignment(line, &n, &v, NULL) &&
		 strcmp(n.buf, arg) == 0;

	strbuf_release(&n);
	strbuf_release(&v);
	return r;
}

static void
findings_grub(struct fctx *c)
{
	const struct proto_host_facts *h = &c->resp->host;
	struct bootcfg_override *ov = NULL;
	struct evlist ev = { 0 };
	size_t n = 0;
	bool grub = h->bootloader && strncmp(h->bootloader, "grub", 4) == 0;

	bootcfg_grub_overrides(c->root, &ov, &n, NULL);
	for (size_t i = 0; i < n; i++) {
		if (ov[i].appends)
			continue;	/* extends the main file's value: harmless */
		ev_add(&ev, "%s:%u: %s", ov[i].path, ov[i].lineno, ov[i].text);
		findings_add(c, F_GRUB_D_OVERRIDE, PROTO_SEV_WARNING, NULL, &ev,
			     "%s line %u sets %s after /etc/default/grub is read, "
			     "so changes to /etc/default/grub do not reach the "
			     "kernel command line", ov[i].path, ov[i].lineno,
			     ov[i].var);
	}
	bootcfg_overrides_free(ov, n);
	if (grub && bootcfg_exists(c->root, "/etc/default/grub") &&
	    !findings_grep(c, "/etc/default/grub", findings_match_cmdline_var,
			   "GRUB_CMDLINE_LINUX_DEFAULT", &ev)) {
		ev_add(&ev, "/etc/default/grub: no GRUB_CMDLINE_LINUX_DEFAULT");
		findings_add(c, F_GRUB_DEFAULT_MISSING, PROTO_SEV_INFO, NULL, &ev,
			     "/etc/default/grub has no GRUB_CMDLINE_LINUX_DEFAULT "
			     "line; apply adds one");
	}
	ev_release(&ev);
}

/* Kernel parameters whose change between config and running kernel
 * matters to passthrough. */
static const char *const findings_vfio_params[] = {
	"intel_iommu", "amd_iommu", "iommu", "iommu.passthrough", "intremap",
	"nointremap", "vfio-pci.ids", "vfio_pci.ids", "vfio-pci.disable_vga",
	"rd.driver.pre", "rd.driver.blacklist", "modprobe.blacklist",
	"pcie_acs_override", "video", "initcall_blacklist",
	"vfio_iommu_type1.allow_unsafe_interrupts", NULL,
};

struct pending_ctx {
	const char *other;	/* the command line to look in */
	struct strbuf *missing;	/* " name=value" per parameter not in other */
};

/* Does `line` have the parameter token tok (name[=value]) exactly? */
static bool
findings_cmdline_token(const char *line, const char *tok)
{
	const char *eq = strchr(tok, '=');
	struct strbuf name = STRBUF_INIT, v = STRBUF_INIT;
	bool r;

	strbuf_add(&name, tok, eq ? (size_t)(eq - tok) : strlen(tok));
	r = eq ? cfgfile_cmdline_has(line, name.buf, eq + 1) ||
		 (cfgfile_cmdline_param(line, name.buf, &v) &&
		  strcmp(v.buf, eq + 1) == 0)
	       : cfgfile_cmdline_param(line, name.buf, NULL);
	strbuf_release(&name);
	strbuf_release(&v);
	return r;
}

/* Collect the VFIO-relevant tokens of `from` that `to` lacks. */
static void
findings_cmdline_diff(const char *from, const char *to, struct strbuf *out)
{
	struct strbuf tok = STRBUF_INIT;
	const char *s = from;

	while (*s) {
		size_t n;

		s += strspn(s, " \t");
		n = strcspn(s, " \t");
		if (!n)
			break;
		strbuf_reset(&tok);
		strbuf_add(&tok, s, n);
		s += n;
		for (const char *const *p = findings_vfio_params; *p; p++) {
			size_t pl = strlen(*p);

			if (strncmp(tok.buf, *p, pl) == 0 &&
			    (tok.buf[pl] == '=' || tok.buf[pl] == '\0')) {
				if (!findings_cmdline_token(to, tok.buf))
					strbuf_addf(out, " %s", tok.buf);
				break;
			}
		}
	}
	strbuf_release(&tok);
}

static void
findings_pending(struct fctx *c)
{
	const struct proto_host_facts *h = &c->resp->host;
	struct strbuf cfg = STRBUF_INIT, src = STRBUF_INIT;
	struct strbuf add = STRBUF_INIT, gone = STRBUF_INIT;
	struct evlist ev = { 0 };

	if (!h->cmdline || bootcfg_configured_cmdline(c->root, h->bootloader,
						       h->kernel_release, &cfg,
						       &src) < 0)
		goto out;
	findings_cmdline_diff(cfg.buf, h->cmdline, &add);
	findings_cmdline_diff(h->cmdline, cfg.buf, &gone);
	if (!add.len && !gone.len)
		goto out;
	ev_add(&ev, "%s: %s", src.buf, cfg.buf);
	ev_add(&ev, "/proc/cmdline: %s", h->cmdline);
	findings_add(c, F_CMDLINE_PENDING, PROTO_SEV_WARNING, NULL, &ev,
		     "The boot configuration (%s) differs from the running "
		     "kernel's command line%s%s%s%s: reboot, or regenerate the "
		     "bootloader config", src.buf,
		     add.len ? "; not yet active:" : "", add.buf,
		     gone.len ? "; active but no longer configured:" : "",
		     gone.buf);
out:
	ev_release(&ev);
	strbuf_release(&cfg);
	strbuf_release(&src);
	strbuf_release(&add);
	strbuf_release(&gone);
}

/* dracut: `name+=" a b "`; without the spaces dracut warns and may glue
 * the value to the previous one. */
static bool
findings_match_dracut_spacing(const char *line, const void *arg)
{
	struct strbuf n = STRBUF_INIT, v = STRBUF_INIT;
	bool app = false, r = false;

	if (cfgfile_assignment(line, &n, &v, &app) && app && v.len)
		r = v.buf[0] != ' ' || v.buf[v.len - 1] != ' ';
	strbuf_release(&n);
	strbuf_release(&v);
	return r;
}

struct mkinit_ctx {
	const char *path;
	struct evlist *ev;
};

static int
findings_mkinit_line(const char *line, unsigned lineno, void *vctx)
{
	static const char *const gpu[] = {
		"nouveau", "nvidia", "nvidia_drm", "nvidia_modeset", "amdgpu",
		"radeon", "i915", "xe", NULL,
	};
	static const char *const vfio[] = {
		"vfio_pci", "vfio-pci", "vfio", "vfio_iommu_type1", NULL,
	};
	struct mkinit_ctx *m = vctx;
	struct strbuf n = STRBUF_INIT, v = STRBUF_INIT;
	const char *s, *first_gpu = NULL, *first_vfio = NULL;

	if (!cfgfile_assignment(line, &n, &v, NULL) ||
	    strcmp(n.buf, "MODULES") != 0)
		goto out;
	/* MODULES=(a b c): the unquoted value keeps the parentheses. */
	for (s = v.buf; *s;) {
		size_t wl;

		s += strspn(s, " \t()");
		wl = strcspn(s, " \t()");
		if (!wl)
			break;
		for (size_t i = 0; gpu[i] && !first_gpu; i++)
			if (findings_modname_eq(s, wl, gpu[i]))
				first_gpu = s;
		for (size_t i = 0; vfio[i] && !first_vfio; i++)
			if (findings_modname_eq(s, wl, vfio[i]))
				first_vfio = s;
		s += wl;
	}
	if (first_gpu && first_vfio && first_gpu < first_vfio)
		ev_add(m->ev, "%s:%u: %s", m->path, lineno, line);
out:
	strbuf_release(&n);
	strbuf_release(&v);
	return 0;
}

static void
findings_initramfs_cfg(struct fctx *c)
{
	struct strbuf path = STRBUF_INIT;
	struct evlist ev = { 0 };
	char **names = NULL;
	size_t n = 0;

	findings_grep(c, "/etc/dracut.conf", findings_match_dracut_spacing,
		      NULL, &ev);
	findings_grep_dir(c, "/etc/dracut.conf.d", ".conf",
			  findings_match_dracut_spacing, NULL, &ev);
	if (ev.n)
		findings_add(c, F_DRACUT_SPACING, PROTO_SEV_WARNING, NULL, &ev,
			     "dracut '+=' values need spaces inside the quotes "
			     "(add_drivers+=\" vfio_pci \"); dracut warns \"should "
			     "have surrounding white spaces\" and may merge the "
			     "value with the previous one");
	{
		struct mkinit_ctx m = { "/etc/mkinitcpio.conf", &ev };

		cfgfile_foreach_line(c->root, m.path, findings_mkinit_line, &m);
		if (cfgfile_list(c->root, "/etc/mkinitcpio.conf.d", ".conf",
				 &names, &n) > 0) {
			for (size_t i = 0; i < n; i++) {
				strbuf_reset(&path);
				strbuf_addf(&path, "/etc/mkinitcpio.conf.d/%s",
					    names[i]);
				m.path = path.buf;
				cfgfile_foreach_line(c->root, path.buf,
						     findings_mkinit_line, &m);
			}
		}
	}
	if (ev.n)
		findings_add(c, F_MKINITCPIO_ORDER, PROTO_SEV_WARNING, NULL, &ev,
			     "mkinitcpio MODULES loads a GPU driver before the "
			     "vfio modules, so the GPU driver claims the card "
			     "first; list vfio_pci vfio vfio_iommu_type1 first");
	cfgfile_names_free(names, n);
	strbuf_release(&path);
}

static void
findings_environment(struct fctx *c)
{
	struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
	struct evlist ev = { 0 };

	if (bootcfg_exists(c->root, "/run/ostree-booted")) {
		ev_add(&ev, "/run/ostree-booted: present");
		findings_add(c, F_IMMUTABLE_OS, PROTO_SEV_BLOCKER, NULL, &ev,
			     "This is an ostree-based (atomic/immutable) system; "
			     "kernel arguments and initramfs are managed with "
			     "rpm-ostree/ostree, which vfleet does not drive");
	}
	sysroot_path(&path, c->root, "/run/systemd/container");
	if (fileio_read_attr(path.buf, &sb) == 0)
		ev_add(&ev, "/run/systemd/container: %s", sb.buf);
	if (bootcfg_exists(c->root, "/.dockerenv"))
		ev_add(&ev, "/.dockerenv: present");
	if (bootcfg_exists(c->root, "/run/.containerenv"))
		ev_add(&ev, "/run/.containerenv: present");
	if (ev.n)
		findings_add(c, F_CONTAINER, PROTO_SEV_BLOCKER, NULL, &ev,
			     "The root is a container: its kernel, boot_id and "
			     "boot configuration belong to the host, so "
			     "passthrough must be configured on the host itself");
	if (c->resp->host.secure_boot == PROTO_YES) {
		ev_add(&ev, "/sys/firmware/efi/efivars/SecureBoot-"
		       "8be4df61-93ca-11d2-aa0d-e0c9ab7ef0fe: 1");
		findings_add(c, F_SECURE_BOOT, PROTO_SEV_INFO, NULL, &ev,
			     "Secure Boot is on: vfio-pci from the distribution "
			     "kernel loads, unsigned modules (vendor-reset, DKMS "
			     "NVIDIA) do not");
	}
	ev_release(&ev);
	strbuf_release(&sb);
	strbuf_release(&path);
}

/* Tools apply needs; reported only while some GPU still needs binding. */
static void
findings_tooling(struct fctx *c, bool any_unbound)
{
	const struct proto_host_facts *h = &c->resp->host;
	struct evlist ev = { 0 };

	if (!any_unbound)
		return;
	if (!h->bootloader) {
		ev_add(&ev, "none of: /etc/default/grub + update-grub, grubby + "
		       "/boot/loader/entries, loader.conf, kernelstub, "
		       "proxmox-boot-tool + /etc/kernel/cmdline");
		findings_add(c, F_BOOTLOADER_UNKNOWN, PROTO_SEV_WARNING, NULL,
			     &ev, "No supported bootloader found: kernel "
			     "parameters cannot be set automatically");
	}
	if (!h->initramfs_tool) {
		if (bootcfg_exists(c->root, "/usr/bin/booster"))
			ev_add(&ev, "/usr/bin/booster: present");
		ev_add(&ev, "none of: update-initramfs, dracut, mkinitcpio");
		findings_add(c, F_INITRAMFS_UNKNOWN, PROTO_SEV_WARNING, NULL,
			     &ev, "No supported initramfs generator found: "
			     "vfio-pci may load too late to claim the GPU");
	}
}

/* nvidia-persistenced shows as "nvidia-persiste" and nv-fabricmanager as
 * "nv-fabricmanage" (comm keeps 15 characters). */
static void
findings_scan_processes(struct fctx *c)
{
	struct strbuf path = STRBUF_INIT, comm = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;

	if (cfgfile_list(c->root, "/proc", NULL, &names, &n) <= 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (strspn(names[i], "0123456789") != strlen(names[i]))
			continue;
		sysroot_pathf(&path, c->root, "/proc/%s/comm", names[i]);
		if (fileio_read_attr(path.buf, &comm) < 0)
			continue;
		if (strncmp(comm.buf, "qemu-system-", 12) == 0 ||
		    strcmp(comm.buf, "qemu-kvm") == 0) {
			struct strbuf e = STRBUF_INIT;

			strbuf_addf(&e, "/proc/%s/comm: %s", names[i], comm.buf);
			proto_strv_add(&c->vms, &c->nvms, e.buf);
			strbuf_release(&e);
			continue;
		}
		if (strncmp(comm.buf, "nvidia-persiste", 15) == 0 ||
		    strncmp(comm.buf, "nv-fabricmanage", 15) == 0) {
			struct strbuf e = STRBUF_INIT;

			strbuf_addf(&e, "/proc/%s/comm: %s", names[i], comm.buf);
			if (strncmp(comm.buf, "nv-", 3) == 0)
				proto_strv_add(&c->fabricmgr, &c->nfabricmgr, e.buf);
			else
				proto_strv_add(&c->persistenced, &c->npersistenced,
					       e.buf);
			strbuf_release(&e);
		}
	}
out:
	cfgfile_names_free(names, n);
	strbuf_release(&path);
	strbuf_release(&comm);
}

/* A laptop: SMBIOS chassis type portable/laptop/notebook/convertible, or
 * a battery. Evidence into ev. */
static bool
findings_is_laptop(struct fctx *c, struct evlist *ev)
{
	static const int laptop[] = { 8, 9, 10, 14, 31, 32 };
	struct strbuf path = STRBUF_INIT, v = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	bool r = false;

	sysroot_path(&path, c->root, "/sys/class/dmi/id/chassis_type");
	if (fileio_read_attr(path.buf, &v) == 0) {
		/* Garbage reads as 0, no chassis type: not a laptop. */
		long t = strtol(v.buf, NULL, 10);

		for (size_t i = 0; i < sizeof(laptop) / sizeof(laptop[0]); i++)
			if (t == laptop[i])
				r = true;
		if (r)
			ev_add(ev, "/sys/class/dmi/id/chassis_type: %s", v.buf);
	}
	if (cfgfile_list(c->root, "/sys/class/power_supply", NULL, &names, &n) > 0)
		for (size_t i = 0; i < n; i++)
			if (strncmp(names[i], "BAT", 3) == 0) {
				ev_add(ev, "/sys/class/power_supply/%s: present",
				       names[i]);
				r = true;
			}
	cfgfile_names_free(names, n);
	strbuf_release(&path);
	strbuf_release(&v);
	return r;
}

/* --- per-GPU checks --- */

static void findings_group_check(struct fctx *c, size_t gi, bool report);

/* A BMC's VGA is the console: report it and nothing else about it. */
static void
findings_bmc(struct fctx *c, size_t gi, const struct proto_pci_func *f)
{
	struct evlist ev = { 0 };

	findings_group_check(c, gi, false);
	ev_add(&ev, "/sys/bus/pci/devices/%s: %04x:%04x%s%s", f->address,
	       f->vendor_id, f->device_id, f->device_name ? " " : "",
	       f->device_name ? f->device_name : "");
	ev_add(&ev, "/sys/bus/pci/devices/%s/driver -> %s", f->address,
	       f->driver ? f->driver : "(none)");
	if (f->boot_vga == PROTO_YES)
		ev_add(&ev, "/sys/bus/pci/devices/%s/boot_vga: 1", f->address);
	findings_add(c, F_BMC_DISPLAY, PROTO_SEV_BLOCKER, f->address, &ev,
		     "%s is the BMC's display (remote console): keep it on the "
		     "host, not a passthrough candidate", f->address);
}

static void
findings_binding(struct fctx *c, size_t gi)
{
	const struct proto_gpu *g = &c->resp->gpus[gi];
	struct proto_pci_func *f = proto_find_func(c->resp, g->address);
	struct strbuf todo = STRBUF_INIT;
	struct evlist ev = { 0 };

	for (size_t i = 0; i <= g->ncompanions; i++) {
		const char *a = i == 0 ? g->address : g->companions[i - 1];
		const struct proto_pci_func *m = proto_find_func(c->resp, a);

		if (!m)
			continue;
		ev_add(&ev, "/sys/bus/pci/devices/%s/driver -> %s", a,
		       m->driver ? m->driver : "(none)");
		if (!findings_is_vfio_driver(m->driver))
			strbuf_addf(&todo, "%s%s", todo.len ? ", " : "", a);
	}
	if (todo.len)
		findings_add(c, F_NEEDS_BINDING, PROTO_SEV_INFO, g->address, &ev,
			     "Not bound to %s yet: %s; apply binds %s",
			     f && f->vendor_id == 0x10de && f->device_id == 0x2941 ?
			     "nvgrace_gpu_vfio_pci" : "vfio-pci", todo.buf,
			     g->ncompanions ? "the GPU with its companions" :
			     "the GPU");
	else
		findings_add(c, F_VFIO_BOUND, PROTO_SEV_INFO, g->address, &ev,
			     "Bound to %s%s", f ? f->driver : "vfio-pci",
			     g->ncompanions ? " with its companions" : "");
	ev_release(&ev);
	strbuf_release(&todo);
}

/* Sets gpus[gi].group_viable; report: add the findings as well. */
static void
findings_group_check(struct fctx *c, size_t gi, bool report)
{
	struct proto_gpu *g = &c->resp->gpus[gi];
	const struct proto_iommu_group *grp;
	struct strbuf list = STRBUF_INIT;
	struct evlist ev = { 0 };
	char *addr = g->address;

	g->group_viable = false;
	if (g->iommu_group < 0) {
		if (report && c->resp->host.iommu_active == PROTO_YES) {
			ev_add(&ev, "/sys/bus/pci/devices/%s/iommu_group: absent",
			       addr);
			findings_add(c, F_NO_IOMMU_GROUP, PROTO_SEV_BLOCKER, addr,
				     &ev, "The IOMMU is on but %s is in no IOMMU "
				     "group", addr);
		}
		goto out;
	}
	grp = findings_group(c->resp, g->iommu_group);
	if (!grp)
		goto out;
	for (size_t i = 0; i < grp->nmembers; i++) {
		const char *m = grp->members[i];
		const struct proto_pci_func *mf = proto_find_func(c->resp, m);

		if (findings_of_gpu(g, m) || (mf && findings_is_bridge(mf)))
			continue;
		strbuf_addf(&list, "%s%s (", list.len ? ", " : "", m);
		if (mf && mf->class_name)
			strbuf_addstr(&list, mf->class_name);
		else
			strbuf_addf(&list, "class 0x%06x", mf ? mf->class_code : 0);
		strbuf_addf(&list, ", %s)", mf && mf->driver ? mf->driver :
			    "no driver");
		ev_add(&ev, "/sys/kernel/iommu_groups/%d/devices/%s -> driver %s",
		       g->iommu_group, m, mf && mf->driver ? mf->driver : "(none)");
	}
	if (!list.len) {
		g->group_viable = true;
		goto out;
	}
	if (report)
		findings_add(c, F_GROUP_NOT_VIABLE, PROTO_SEV_BLOCKER, addr, &ev,
			     "IOMMU group %d is not viable: it also holds %s; all "
			     "of them would have to be passed through together "
			     "(ACS override only on patched kernels)",
			     c->resp->gpus[gi].iommu_group, list.buf);
out:
	ev_release(&ev);
	strbuf_release(&list);
}

static void
findings_display(struct fctx *c, size_t gi, const struct proto_pci_func *f)
{
	static const char *const boot_needles[] = { "boot VGA device", NULL };
	static const char *const fb[] = { "efifb", "simpledrm", "BOOTFB",
					  "vesafb", NULL };
	const char *addr = c->resp->gpus[gi].address;
	struct strbuf others = STRBUF_INIT;
	struct evlist ev = { 0 };
	size_t nothers = 0;

	for (size_t i = 0; i < c->resp->nfuncs; i++) {
		const struct proto_pci_func *o = &c->resp->funcs[i];

		/* A display already on vfio-pci is no console for the host. */
		if (!findings_is_console(o) || findings_same_slot(o->address, addr) ||
		    findings_is_vfio_driver(o->driver))
			continue;
		strbuf_addf(&others, "%s%s", others.len ? ", " : "", o->address);
		nothers++;
	}
	/* Already on vfio-pci: the host gave up that console before. */
	if (findings_is_console(f) && !nothers &&
	    !findings_is_vfio_driver(f->driver)) {
		ev_add(&ev, "/sys/bus/pci/devices: %s is the only display "
		       "(class 0x03xx) device", addr);
		if (f->boot_vga == PROTO_YES)
			ev_add(&ev, "/sys/bus/pci/devices/%s/boot_vga: 1", addr);
		findings_add(c, F_ONLY_DISPLAY, PROTO_SEV_BLOCKER, addr, &ev,
			     "%s is the host's only display device: binding it to "
			     "vfio-pci leaves the host without a console", addr);
	} else if (f->boot_vga == PROTO_YES) {
		ev_add(&ev, "/sys/bus/pci/devices/%s/boot_vga: 1", addr);
		findings_kmsg_slot(c, gi, boot_needles, &ev);
		for (size_t i = 0; i < c->log.nrecs && ev.n < 6; i++)
			for (const char *const *n = fb; *n; n++)
				if (strstr(c->log.recs[i].text, *n)) {
					ev_add(&ev, "kmsg: %s", c->log.recs[i].text);
					break;
				}
		findings_add(c, F_BOOT_VGA, PROTO_SEV_WARNING, addr, &ev,
			     "%s is the boot VGA device: the firmware framebuffer "
			     "(efifb/simpledrm) keeps its BAR reserved; add "
			     "video=efifb:off or initcall_blacklist=sysfb_init, or "
			     "make %s the primary display", addr, others.buf);
	}
	ev_release(&ev);
	strbuf_release(&others);
}

/* The drivers that load before vfio-pci and claim the card (pitfall 6). */
static void
findings_host_drivers(struct fctx *c, size_t gi)
{
	const struct proto_gpu *g = &c->resp->gpus[gi];
	struct evlist ev = { 0 };

	for (size_t i = 0; i <= c->resp->gpus[gi].ncompanions; i++) {
		const char *a = i == 0 ? g->address : g->companions[i - 1];
		const struct proto_pci_func *m = proto_find_func(c->resp, a);
		const char *addr, *drv;

		if (!m || !m->driver || findings_is_vfio_driver(m->driver) ||
		    strcmp(m->driver, "pci-stub") == 0)
			continue;
		/* Adding findings reallocates findings[] only: a, m stay valid. */
		addr = m->address;
		drv = m->driver;
		ev_add(&ev, "/sys/bus/pci/devices/%s/driver -> %s", addr, drv);
		findings_ev_module(c, drv, &ev);
		findings_add(c, F_HOST_DRIVER_BOUND, PROTO_SEV_WARNING, addr, &ev,
			     "%s is bound to %s, which loads before vfio-pci: "
			     "blacklist it or add 'softdep %s pre: vfio-pci'",
			     addr, drv, drv);
	}
}

static void
findings_gpu_misc(struct fctx *c, size_t gi, const struct proto_pci_func *f)
{
	static const char *const bar[] = { "BAR", "can't reserve", NULL };
	static const char *const probe[] = { "vfio", "probe of",
					     "failed with error", NULL };
	static const char *const rmrr1[] = { "1:1 IOMMU mapping", NULL };
	static const char *const rmrr2[] = { "RMRR", "ineligible", NULL };
	const struct proto_host_facts *h = &c->resp->host;
	char *addr = xstrdup(c->resp->gpus[gi].address);
	struct evlist ev = { 0 };
	bool amd = f->vendor_id == 0x1002;
	bool vendor_reset = findings_module_loaded(c->resp, "vendor_reset");

	/* Leftover driver_override on the GPU or a companion. */
	for (size_t i = 0; i < c->resp->nfuncs; i++) {
		const struct proto_pci_func *m = &c->resp->funcs[i];

		if (!findings_of_gpu(&c->resp->gpus[gi], m->address) ||
		    !m->driver_override ||
		    (m->driver && strcmp(m->driver, m->driver_override) == 0))
			continue;
		ev_add(&ev, "/sys/bus/pci/devices/%s/driver_override: %s",
		       m->address, m->driver_override);
		ev_add(&ev, "/sys/bus/pci/devices/%s/driver -> %s", m->address,
		       m->driver ? m->driver : "(none)");
		findings_add(c, F_DRIVER_OVERRIDE_SET, PROTO_SEV_WARNING,
			     m->address, &ev, "%s has driver_override=%s but is "
			     "bound to %s: a leftover override keeps other drivers "
			     "from binding; clear it", m->address,
			     m->driver_override, m->driver ? m->driver : "nothing");
	}
	if (((f->class_code >> 8) & 0xffff) == 0x0302) {
		bool laptop = findings_is_laptop(c, &ev);

		ev_add(&ev, "/sys/bus/pci/devices/%s/class: 0x%06x", addr,
		       f->class_code);
		if (laptop)
			findings_add(c, F_3D_CONTROLLER, PROTO_SEV_WARNING, addr,
				     &ev, "%s is a 3D controller (class 0x0302) in "
				     "a laptop: usually muxed behind the iGPU "
				     "(Optimus), a poor passthrough candidate", addr);
		else	/* nothing to fix: a compute card on vfio-pci is ready */
			findings_add(c, F_3D_CONTROLLER, PROTO_SEV_INFO, addr,
				     &ev, "%s is a 3D controller (class 0x0302): a "
				     "headless compute card without display "
				     "outputs, suited to compute guests only", addr);
	}
	if (!f->reset_method) {
		if (cfgfile_kernel_at_least(h->kernel_release, 5, 15)) {
			ev_add(&ev, "/sys/bus/pci/devices/%s/reset_method: absent",
			       addr);
			findings_add(c, F_NO_RESET_METHOD, PROTO_SEV_WARNING, addr,
				     &ev, "%s has no reset method: it cannot be "
				     "reset between VM runs%s", addr, amd ?
				     " (AMD reset bug: load vendor-reset before "
				     "vfio-pci)" : "");
		}
	} else if (!cfgfile_has_word(f->reset_method, "flr") &&
		   !cfgfile_has_word(f->reset_method, "device_specific")) {
		ev_add(&ev, "/sys/bus/pci/devices/%s/reset_method: %s", addr,
		       f->reset_method);
		findings_add(c, F_RESET_BUS_ONLY, amd && !vendor_reset ?
			     PROTO_SEV_WARNING : PROTO_SEV_INFO, addr, &ev,
			     "%s has no function-level reset (reset_method: %s)%s",
			     addr, f->reset_method, amd ? (vendor_reset ?
			     "; vendor-reset is loaded" : "; AMD GPUs often fail "
			     "to reset: load vendor-reset before vfio-pci") :
			     "; secondary bus reset also resets its bus");
	}
	if (findings_kmsg_slot(c, gi, rmrr1, &ev) +
	    findings_kmsg_slot(c, gi, rmrr2, &ev))
		findings_add(c, F_RMRR, PROTO_SEV_BLOCKER, addr, &ev,
			     "The firmware demands a 1:1 (RMRR) mapping for %s, so "
			     "the IOMMU refuses to assign it to a VM", addr);
	if (findings_kmsg_slot(c, gi, bar, &ev))
		findings_add(c, F_BAR_RESERVE, PROTO_SEV_BLOCKER, addr, &ev,
			     "A BAR of %s cannot be reserved (usually the boot "
			     "framebuffer holds it): video=efifb:off or "
			     "initcall_blacklist=sysfb_init", addr);
	if (findings_kmsg_slot(c, gi, probe, &ev))
		findings_add(c, F_VFIO_PROBE_FAILED, PROTO_SEV_BLOCKER, addr, &ev,
			     "vfio-pci failed to probe %s (see the kernel log)",
			     addr);
	if (f->vendor_id == 0x10de && f->device_id == 0x2941) {
		ev_add(&ev, "/sys/bus/pci/devices/%s/device: 0x2941", addr);
		findings_add(c, F_GB200_NVGRACE, PROTO_SEV_INFO, addr, &ev,
			     "%s is a GB200 (10de:2941): it needs the "
			     "nvgrace_gpu_vfio_pci driver, not vfio-pci", addr);
	}
	if (f->vendor_id == 0x10de && c->npersistenced &&
	    !findings_is_vfio_driver(f->driver)) {
		for (size_t i = 0; i < c->npersistenced; i++)
			ev_add(&ev, "%s", c->persistenced[i]);
		findings_add(c, F_NVIDIA_PERSISTENCED, PROTO_SEV_WARNING, addr,
			     &ev, "nvidia-persistenced is running and keeps %s "
			     "open: stop and disable it before unbinding", addr);
	}
	if (f->vendor_id == 0x10de) {
		size_t nsw = 0;

		for (size_t i = 0; i < c->resp->nfuncs; i++) {
			const struct proto_pci_func *o = &c->resp->funcs[i];

			if (o->vendor_id == 0x10de && (o->class_code >> 8) == 0x0680) {
				if (nsw++ < 2)
					ev_add(&ev, "/sys/bus/pci/devices/%s: NVSwitch "
					       "%04x:%04x", o->address, o->vendor_id,
					       o->device_id);
			}
		}
		if (nsw) {
			for (size_t i = 0; i < c->nfabricmgr; i++)
				ev_add(&ev, "%s", c->fabricmgr[i]);
			findings_add(c, F_NVLINK_FABRIC, PROTO_SEV_WARNING, addr,
				     &ev, "%s shares an NVLink fabric with %zu "
				     "NVSwitch(es): passing single GPUs needs Fabric "
				     "Manager's shared-NVSwitch mode (or pass all "
				     "GPUs and NVSwitches together)", addr, nsw);
		}
	}
	if (f->numa_node >= 0) {
		int other = -1;

		for (size_t i = 0; i < c->resp->nfuncs && other < 0; i++)
			if (c->resp->funcs[i].numa_node >= 0 &&
			    c->resp->funcs[i].numa_node != f->numa_node)
				other = c->resp->funcs[i].numa_node;
		if (other >= 0) {
			ev_add(&ev, "/sys/bus/pci/devices/%s/numa_node: %d", addr,
			       f->numa_node);
			findings_add(c, F_NUMA_NODE, PROTO_SEV_INFO, addr, &ev,
				     "%s is attached to NUMA node %d: place the "
				     "VM's vCPUs and memory there", addr,
				     f->numa_node);
		}
	}
	{
		struct strbuf same = STRBUF_INIT;

		for (size_t i = 0; i < c->resp->nfuncs; i++) {
			const struct proto_pci_func *o = &c->resp->funcs[i];

			if (findings_is_display(o) && o != f &&
			    o->vendor_id == f->vendor_id &&
			    o->device_id == f->device_id) {
				strbuf_addf(&same, "%s%s", same.len ? ", " : "",
					    o->address);
				ev_add(&ev, "/sys/bus/pci/devices/%s: %04x:%04x",
				       o->address, o->vendor_id, o->device_id);
			}
		}
		if (same.len)
			findings_add(c, F_IDENTICAL_GPUS, PROTO_SEV_INFO, addr, &ev,
				     "%s shares %04x:%04x with %s: vfio-pci.ids= "
				     "would take all of them; to keep one on the "
				     "host bind by address (driver_override)",
				     addr, f->vendor_id, f->device_id, same.buf);
		strbuf_release(&same);
	}
	ev_release(&ev);
	free(addr);
}

/* --- verdicts --- */

static bool
findings_concerns(const struct proto_gpu *g, const struct proto_finding *f)
{
	if (!f->device)
		return true;
	if (strcmp(f->device, g->address) == 0)
		return true;
	for (size_t i = 0; i < g->ncompanions; i++)
		if (strcmp(f->device, g->companions[i]) == 0)
			return true;
	return false;
}

/* Rank for picking the reason: severity, then the GPU's own, then its
 * companions', then host-wide findings. */
static int
findings_rank(const struct proto_gpu *g, const struct proto_finding *f)
{
	int who = !f->device ? 0 : strcmp(f->device, g->address) == 0 ? 2 : 1;

	return (int)f->severity * 4 + who;
}

static void
findings_verdict(struct fctx *c, size_t gi)
{
	struct proto_gpu *g = &c->resp->gpus[gi];
	const struct proto_finding *top = NULL;
	bool blocker = false, warning = false, unbound = false;

	for (size_t i = 0; i < c->resp->nfindings; i++) {
		const struct proto_finding *f = &c->resp->findings[i];

		if (!findings_concerns(g, f))
			continue;
		if (f->severity == PROTO_SEV_BLOCKER)
			blocker = true;
		if (f->severity == PROTO_SEV_WARNING)
			warning = true;
		if (strcmp(f->code, "needs-binding") == 0)
			unbound = true;
		if (!top || findings_rank(g, f) > findings_rank(g, top))
			top = f;
	}
	g->verdict = blocker ? PROTO_VERDICT_BLOCKED :
		     warning || unbound ? PROTO_VERDICT_NEEDS_CONFIG :
		     PROTO_VERDICT_READY;
	free(g->reason);
	g->reason = xstrdup(top ? top->message : "no findings");
}

/*
 * A companion shares the GPU's slot and is either a consumer of it in a
 * sysfs device link (how the HDA and UCSI drivers tie themselves to the
 * GPU) or from the same vendor. The vendor test keeps an APU's slot-mates
 * (AMD PSP/ccp, the SoC's USB and audio controllers, all 1022 next to a
 * 1002 GPU) on the host: binding those would take the host's USB away.
 */
static bool
findings_is_companion(struct fctx *c, const struct proto_pci_func *gpu,
		      const struct proto_pci_func *f)
{
	struct strbuf link = STRBUF_INIT;
	bool r;

	if (!findings_same_slot(f->address, gpu->address))
		return false;
	if (f->vendor_id == gpu->vendor_id)
		return true;
	strbuf_addf(&link, "/sys/bus/pci/devices/%s/consumer:pci:%s",
		    gpu->address, f->address);
	r = bootcfg_exists(c->root, link.buf);
	strbuf_release(&link);
	return r;
}

static void
findings_add_gpus(struct fctx *c)
{
	struct proto_response *resp = c->resp;
	size_t nfuncs = resp->nfuncs;

	for (size_t i = 0; i < nfuncs; i++) {
		const struct proto_pci_func *f = &resp->funcs[i];
		struct proto_gpu *g;

		if (!findings_is_display(f))
			continue;
		g = proto_add_gpu(resp);
		g->address = xstrdup(f->address);
		g->iommu_group = f->iommu_group;
		for (size_t j = 0; j < nfuncs; j++)
			if (j != i && findings_is_companion(c, f, &resp->funcs[j]))
				proto_strv_add(&g->companions, &g->ncompanions,
					       resp->funcs[j].address);
	}
}

void
findings_evaluate(const char *root, struct proto_response *resp)
{
	struct fctx c = { .root = root, .resp = resp };
	struct strbuf path = STRBUF_INIT;
	size_t first_gpu = resp->ngpus;
	bool any_unbound = false;

	c.cmdline = resp->host.cmdline ? resp->host.cmdline : "";
	/* host_discover() already reported an unreadable log. */
	sysroot_path(&path, root, "/dev/kmsg");
	kmsg_load(&c.log, path.buf);
	findings_scan_processes(&c);
	findings_add_gpus(&c);
	for (size_t gi = first_gpu; gi < resp->ngpus; gi++) {
		for (size_t k = 0; k <= resp->gpus[gi].ncompanions; k++) {
			const char *a = k == 0 ? resp->gpus[gi].address :
				resp->gpus[gi].companions[k - 1];
			const struct proto_pci_func *m = proto_find_func(resp, a);

			if (m && !findings_is_vfio_driver(m->driver) &&
			    !findings_is_bmc(proto_find_func(resp,
						resp->gpus[gi].address)))
				any_unbound = true;
		}
	}

	/* Host-wide first, in pitfall order. */
	if (c.nvms) {
		struct evlist ev = { 0 };

		for (size_t i = 0; i < c.nvms; i++)
			ev_add(&ev, "%s", c.vms[i]);
		findings_add(&c, F_VMS_RUNNING, PROTO_SEV_INFO, NULL, &ev,
			     "%zu virtual machine%s running: vfleet will not reboot "
			     "this host unless told to (--force)", c.nvms,
			     c.nvms == 1 ? " is" : "s are");
		ev_release(&ev);
	}
	findings_environment(&c);
	findings_iommu(&c);
	findings_intremap(&c);
	findings_acs(&c);
	findings_vfio_pci(&c);
	findings_virqfd(&c);
	findings_grub(&c);
	findings_pending(&c);
	findings_initramfs_cfg(&c);
	findings_tooling(&c, any_unbound);

	for (size_t gi = first_gpu; gi < resp->ngpus; gi++) {
		const struct proto_pci_func *f;

		f = proto_find_func(resp, resp->gpus[gi].address);
		if (findings_is_bmc(f)) {
			findings_bmc(&c, gi, f);
			continue;
		}
		findings_binding(&c, gi);
		findings_group_check(&c, gi, true);
		/* funcs[] is not touched by adding findings: f stays valid. */
		findings_display(&c, gi, f);
		findings_host_drivers(&c, gi);
		findings_gpu_misc(&c, gi, f);
	}
	for (size_t gi = first_gpu; gi < resp->ngpus; gi++)
		findings_verdict(&c, gi);

	kmsg_log_release(&c.log);
	proto_strv_free(c.persistenced, c.npersistenced);
	proto_strv_free(c.fabricmgr, c.nfabricmgr);
	proto_strv_free(c.vms, c.nvms);
	strbuf_release(&path);
}
