/* host.c: host-wide facts (see host.h). */
#include "host.h"
#include "bootcfg.h"
#include "cfgfile.h"
#include "fileio.h"
#include "kmsg.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

/* Largest procfs file read whole (cpuinfo of a 256-thread host is ~400 KiB). */
#define HOST_PROC_MAX (4u << 20)

const char *const host_watched_modules[] = {
	"nouveau", "nvidia", "nvidia_drm", "nvidia_modeset", "nvidia_uvm",
	"amdgpu", "radeon", "i915", "xe", "snd_hda_intel",
	"vfio", "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio_virqfd",
	"nvgrace_gpu_vfio_pci", "vendor_reset", NULL,
};

static bool
host_is_real_root(const char *root)
{
	return !root || !*root || strcmp(root, "/") == 0;
}

/*
 * Read ROOT+path into out (reset first), at most cap bytes. Absent files
 * return -ENOENT quietly; anything else that fails is reported as a
 * "host-unreadable" error. A file over cap keeps what was read.
 */
static int
host_read(struct proto_response *resp, const char *root, const char *path,
	  size_t cap, struct strbuf *out)
{
	struct strbuf full = STRBUF_INIT;
	int r;

	strbuf_reset(out);
	sysroot_path(&full, root, path);
	r = strbuf_read_file(out, full.buf, cap);
	if (r == -EFBIG)
		r = 0;
	if (r == -ENOTDIR)
		r = -ENOENT;
	if (r < 0 && r != -ENOENT)
		proto_add_error(resp, "host-unreadable", full.buf,
				"cannot read %s: %s", path, strerror(-r));
	strbuf_release(&full);
	return r;
}

/* Read a one-line attribute (hostname, osrelease, boot_id) trimmed. */
static char *
host_read_line(struct proto_response *resp, const char *root,
	       const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *nl, *r = NULL;

	if (host_read(resp, root, path, FILEIO_ATTR_MAX, &sb) < 0)
		goto out;
	nl = strchr(sb.buf, '\n');
	if (nl)
		strbuf_setlen(&sb, (size_t)(nl - sb.buf));
	strbuf_rtrim(&sb);
	if (sb.len)
		r = strbuf_detach(&sb, NULL);
out:
	strbuf_release(&sb);
	return r;
}

static void
host_hostname(struct proto_response *resp, const char *root)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	resp->host.hostname = host_read_line(resp, root,
					     "/proc/sys/kernel/hostname");
	if (resp->host.hostname)
		return;
	/* etc/hostname: first line that is not a comment. */
	if (host_read(resp, root, "/etc/hostname", FILEIO_ATTR_MAX, &sb) < 0)
		goto out;
	for (p = sb.buf; *p;) {
		size_t n = strcspn(p, "\n");
		const char *s = p + strspn(p, " \t");

		if (*s != '#' && s < p + n) {
			size_t len = (size_t)(p + n - s);

			while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
				       s[len - 1] == '\r'))
				len--;
			if (len) {
				resp->host.hostname = xstrndup(s, len);
				break;
			}
		}
		p += n;
		if (*p)
			p++;
	}
out:
	strbuf_release(&sb);
}

struct host_osrel_ctx {
	char *id, *pretty, *name;
};

static int
host_osrel_line(const char *line, unsigned lineno, void *vctx)
{
	struct host_osrel_ctx *c = vctx;
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;
	char **slot = NULL;

	if (cfgfile_assignment(line, &k, &v, NULL) && v.len) {
		if (strcmp(k.buf, "ID") == 0)
			slot = &c->id;
		else if (strcmp(k.buf, "PRETTY_NAME") == 0)
			slot = &c->pretty;
		else if (strcmp(k.buf, "NAME") == 0)
			slot = &c->name;
		if (slot) {
			free(*slot);	/* a later assignment wins, as in sh */
			*slot = strbuf_detach(&v, NULL);
		}
	}
	strbuf_release(&k);
	strbuf_release(&v);
	return 0;
}

/* etc/os-release, else usr/lib/os-release (os-release(5)). */
static void
host_os_release(struct proto_response *resp, const char *root)
{
	static const char *const paths[] = {
		"/etc/os-release", "/usr/lib/os-release",
	};
	struct host_osrel_ctx c = { 0 };
	struct strbuf full = STRBUF_INIT;
	int r = -ENOENT;

	for (size_t i = 0; i < 2 && r == -ENOENT; i++) {
		r = cfgfile_foreach_line(root, paths[i], host_osrel_line, &c);
		if (r == -ENOTDIR)
			r = -ENOENT;
		if (r < 0 && r != -ENOENT) {
			sysroot_path(&full, root, paths[i]);
			proto_add_error(resp, "host-unreadable", full.buf,
					"cannot read %s: %s", paths[i],
					strerror(-r));
		}
	}
	resp->host.distro_id = c.id;
	resp->host.distro_name = c.pretty ? c.pretty : c.name;
	if (c.pretty)
		free(c.name);
	strbuf_release(&full);
}

/* "key\t: value" lines of /proc/cpuinfo; first occurrence wins. */
static const char *
host_cpuinfo_value(const char *line, const char *key)
{
	size_t kl = strlen(key);

	if (strncmp(line, key, kl) != 0)
		return NULL;
	line += kl;
	line += strspn(line, " \t");
	if (*line != ':')
		return NULL;
	line++;
	return line + strspn(line, " \t");
}

static const char *
host_arm_implementer(unsigned long id)
{
	switch (id) {
	case 0x41: return "ARM";
	case 0x42: return "Broadcom";
	case 0x46: return "Fujitsu";
	case 0x48: return "HiSilicon";
	case 0x4e: return "NVIDIA";
	case 0x50: return "APM";
	case 0x51: return "Qualcomm";
	case 0x61: return "Apple";
	case 0xc0: return "Ampere";
	default: return NULL;
	}
}

struct host_cpu_ctx {
	char *vendor, *model, *arch, *implementer;
};

static void
host_set_once(char **slot, const char *v)
{
	size_t n = strlen(v);

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!*slot && n)
		*slot = xstrndup(v, n);
}

static int
host_cpu_line(const char *line, unsigned lineno, void *vctx)
{
	struct host_cpu_ctx *c = vctx;
	const char *v;

	if ((v = host_cpuinfo_value(line, "vendor_id"))) {
		host_set_once(&c->vendor, v);
	} else if ((v = host_cpuinfo_value(line, "model name"))) {
		host_set_once(&c->model, v);
	} else if ((v = host_cpuinfo_value(line, "flags"))) {
		/* x86: "lm" (long mode) is the 64-bit flag. */
		if (!c->arch)
			c->arch = xstrdup(cfgfile_has_word(v, "lm") ? "x86_64" : "i686");
	} else if ((v = host_cpuinfo_value(line, "CPU implementer"))) {
		host_set_once(&c->implementer, v);
	} else if ((v = host_cpuinfo_value(line, "CPU architecture"))) {
		if (!c->arch)
			c->arch = xstrdup(strncmp(v, "8", 1) == 0 ||
					  strncmp(v, "AArch64", 7) == 0 ?
					  "aarch64" : "arm");
	} else if ((v = host_cpuinfo_value(line, "isa"))) {
		if (!c->arch && strncmp(v, "rv64", 4) == 0)
			c->arch = xstrdup("riscv64");
	} else if ((v = host_cpuinfo_value(line, "cpu"))) {
		if (!c->arch && strncmp(v, "POWER", 5) == 0)
			c->arch = xstrdup("ppc64le");
	}
	return 0;
}

/* CPU vendor/model and the architecture, all from ROOT/proc/cpuinfo. */
static void
host_cpuinfo(struct proto_response *resp, const char *root)
{
	struct host_cpu_ctx c = { 0 };
	struct strbuf full = STRBUF_INIT;
	int r;

	r = cfgfile_foreach_line(root, "/proc/cpuinfo", host_cpu_line, &c);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
		sysroot_path(&full, root, "/proc/cpuinfo");
		proto_add_error(resp, "host-unreadable", full.buf,
				"cannot read /proc/cpuinfo: %s", strerror(-r));
	}
	if (!c.vendor && c.implementer) {
		const char *name = host_arm_implementer(strtoul(c.implementer,
								NULL, 0));

		c.vendor = xstrdup(name ? name : c.implementer);
	}
	if (!c.arch && host_is_real_root(root)) {
		/* Only the running host's own uname describes the root. */
		struct utsname u;

		if (uname(&u) == 0)
			c.arch = xstrdup(u.machine);
	}
	resp->host.cpu_vendor = c.vendor;
	resp->host.cpu_model = c.model;
	resp->host.arch = c.arch;
	free(c.implementer);
	strbuf_release(&full);
}

/* The ACPI tables say which IOMMU the firmware describes (and so which
 * kernel flag applies), whatever the CPU vendor. */
static void
host_iommu_hw(struct proto_response *resp, const char *root)
{
	char **names = NULL;
	size_t n = 0;

	if (bootcfg_exists(root, "/sys/firmware/acpi/tables/DMAR"))
		resp->host.iommu_hw = xstrdup("intel-vt-d");
	else if (bootcfg_exists(root, "/sys/firmware/acpi/tables/IVRS"))
		resp->host.iommu_hw = xstrdup("amd-vi");
	if (resp->host.iommu_hw)
		return;
	/* No tables exposed: the units the kernel registered tell as much. */
	if (cfgfile_list(root, "/sys/class/iommu", NULL, &names, &n) > 0) {
		for (size_t i = 0; i < n && !resp->host.iommu_hw; i++) {
			if (strncmp(names[i], "dmar", 4) == 0)
				resp->host.iommu_hw = xstrdup("intel-vt-d");
			else if (strncmp(names[i], "ivhd", 4) == 0)
				resp->host.iommu_hw = xstrdup("amd-vi");
		}
	}
	cfgfile_names_free(names, n);
}

static bool
host_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Groups under sys/kernel/iommu_groups are the running state (pitfall 1). */
static void
host_iommu_groups(struct proto_response *resp, const char *root)
{
	struct strbuf full = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	int r, count = 0;

	r = cfgfile_list(root, "/sys/kernel/iommu_groups", NULL, &names, &n);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR) {
		sysroot_path(&full, root, "/sys/kernel/iommu_groups");
		proto_add_error(resp, "host-unreadable", full.buf,
				"cannot list /sys/kernel/iommu_groups: %s",
				strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (host_all_digits(names[i]))
			count++;
	resp->host.iommu_groups = count;
	if (count)
		resp->host.iommu_active = PROTO_YES;
	else if (bootcfg_exists(root, "/sys/kernel") ||
		 bootcfg_exists(root, "/sys/bus/pci"))
		resp->host.iommu_active = PROTO_NO;
out:
	cfgfile_names_free(names, n);
	strbuf_release(&full);
}

/* Kernel log messages that settle interrupt remapping, strongest first. */
static const struct {
	const char *needle;
	enum proto_tristate state;
} host_intremap_markers[] = {
	/* vfio_iommu_type1_attach_group(): the -EPERM users see. */
	{ "No interrupt remapping support", PROTO_NO },
	/* intel irq_remapping.c: chipset erratum, IR disabled. */
	{ "This system BIOS has enabled interrupt remapping", PROTO_NO },
	{ "Failed to enable irq remapping", PROTO_NO },
	{ "IRQ remapping doesn't support X2APIC mode", PROTO_NO },
	{ "Not enabling interrupt remapping", PROTO_NO },
	{ "Enabled IRQ remapping in", PROTO_YES },		/* DMAR-IR */
	{ "Interrupt remapping enabled", PROTO_YES },		/* AMD-Vi */
};

enum proto_tristate
host_intremap(const char *cmdline, const struct kmsg_log *log,
	      struct strbuf *why)
{
	enum proto_tristate r = PROTO_UNKNOWN;

	if (why)
		strbuf_reset(why);
	if (cmdline && (cfgfile_cmdline_has(cmdline, "intremap", "off") ||
			cfgfile_cmdline_param(cmdline, "nointremap", NULL))) {
		if (why)
			strbuf_addf(why, "/proc/cmdline: %s", cmdline);
		r = PROTO_NO;
		goto out;
	}
	for (size_t i = 0; log && i < sizeof(host_intremap_markers) /
		     sizeof(host_intremap_markers[0]); i++) {
		size_t pos = 0;
		const struct kmsg_record *rec;

		rec = kmsg_find(log, &pos, host_intremap_markers[i].needle);
		if (rec) {
			if (why)
				strbuf_addf(why, "kmsg: %s", rec->text);
			r = host_intremap_markers[i].state;
			goto out;
		}
	}
out:
	return r;
}

static void
host_kmsg(struct proto_response *resp, const char *root)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	struct strbuf path = STRBUF_INIT;
	int r;

	sysroot_path(&path, root, "/dev/kmsg");
	r = kmsg_load(&log, path.buf);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		proto_add_error(resp, "kmsg-unreadable", path.buf,
				"cannot read the kernel log %s: %s",
				path.buf, strerror(-r));
	resp->host.intremap = host_intremap(resp->host.cmdline,
					    r < 0 ? NULL : &log, NULL);
	kmsg_log_release(&log);
	strbuf_release(&path);
}

/* modules.builtin / modules.dep line naming vfio-pci.ko[.xz|.zst|.gz]. */
static bool
host_names_vfio_pci(const char *line)
{
	static const char *const exts[] = { "", ".xz", ".zst", ".gz", NULL };
	const char *colon = strchr(line, ':');
	size_t len = colon ? (size_t)(colon - line) : strlen(line);

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	for (const char *const *e = exts; *e; e++) {
		char want[32];
		size_t wl;

		snprintf(want, sizeof(want), "/vfio-pci.ko%s", *e);
		wl = strlen(want);
		if (len >= wl && memcmp(line + len - wl, want, wl) == 0)
			return true;
		/* A bare "vfio-pci.ko" (no directory) as well. */
		if (len == wl - 1 && memcmp(line, want + 1, wl - 1) == 0)
			return true;
	}
	return false;
}

static int
host_vfio_line(const char *line, unsigned lineno, void *vctx)
{
	return host_names_vfio_pci(line) ? 1 : 0;
}

/* "builtin", "module" or "missing" (pitfall 5), NULL when unknown. */
static void
host_vfio_pci(struct proto_response *resp, const char *root)
{
	static const char *const bases[] = { "/lib/modules", "/usr/lib/modules" };
	static const char *const kos[] = {
		"vfio-pci.ko", "vfio-pci.ko.xz", "vfio-pci.ko.zst", "vfio-pci.ko.gz",
	};
	const char *rel = resp->host.kernel_release;
	struct strbuf dir = STRBUF_INIT, p = STRBUF_INIT;
	const char *state = NULL;
	bool have_dir = false;

	for (size_t b = 0; rel && b < 2 && !state; b++) {
		int r;

		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s/%s", bases[b], rel);
		if (!bootcfg_exists(root, dir.buf))
			continue;
		have_dir = true;
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/modules.builtin", dir.buf);
		r = cfgfile_foreach_line(root, p.buf, host_vfio_line, NULL);
		if (r == 1) {
			state = "builtin";
			break;
		}
		for (size_t k = 0; k < 4 && !state; k++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "%s/kernel/drivers/vfio/pci/%s", dir.buf, kos[k]);
			if (bootcfg_exists(root, p.buf))
				state = "module";
		}
		if (state)
			break;
		/* Out-of-tree builds (updates/, extra/) are listed in modules.dep. */
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/modules.dep", dir.buf);
		if (cfgfile_foreach_line(root, p.buf, host_vfio_line, NULL) == 1)
			state = "module";
	}
	if (!state && have_dir)
		state = "missing";
	if (!state && bootcfg_exists(root, "/sys/module/vfio_pci")) {
		/* Loaded modules have initstate; built-in ones (with params) not. */
		state = bootcfg_exists(root, "/sys/module/vfio_pci/initstate") ?
			"module" : "builtin";
	}
	if (state)
		resp->host.vfio_pci = xstrdup(state);
	strbuf_release(&dir);
	strbuf_release(&p);
}

static void
host_modules(struct proto_response *resp, const char *root)
{
	struct strbuf sb = STRBUF_INIT;
	size_t nw = 0;
	bool *seen;

	while (host_watched_modules[nw])
		nw++;
	seen = xcalloc(nw, sizeof(*seen));
	if (host_read(resp, root, "/proc/modules", HOST_PROC_MAX, &sb) < 0)
		goto out;
	for (const char *p = sb.buf; *p;) {
		size_t n = strcspn(p, " \t\n");

		for (size_t i = 0; i < nw; i++)
			if (strlen(host_watched_modules[i]) == n &&
			    memcmp(p, host_watched_modules[i], n) == 0)
				seen[i] = true;
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	for (size_t i = 0; i < nw; i++)
		if (seen[i])
			proto_strv_add(&resp->host.modules_loaded,
				       &resp->host.nmodules_loaded,
				       host_watched_modules[i]);
out:
	free(seen);
	strbuf_release(&sb);
}

static void
host_boot(struct proto_response *resp, const char *root)
{
	struct bootcfg_override *ov = NULL;
	struct strbuf full = STRBUF_INIT;
	const char *name;
	char *bad = NULL;
	size_t n = 0;
	int r;

	if ((name = bootcfg_bootloader(root, NULL)))
		resp->host.bootloader = xstrdup(name);
	if ((name = bootcfg_initramfs(root, NULL)))
		resp->host.initramfs_tool = xstrdup(name);
	r = bootcfg_grub_overrides(root, &ov, &n, &bad);
	if (r < 0) {
		sysroot_path(&full, root, bad);
		proto_add_error(resp, "host-unreadable", full.buf,
				"cannot read %s: %s", bad, strerror(-r));
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; j < resp->host.ngrub_overrides; j++)
			if (strcmp(resp->host.grub_overrides[j], ov[i].path) == 0)
				dup = true;
		if (!dup)
			proto_strv_add(&resp->host.grub_overrides,
				       &resp->host.ngrub_overrides, ov[i].path);
	}
	bootcfg_overrides_free(ov, n);
	free(bad);
	strbuf_release(&full);
}

#define HOST_SECUREBOOT_VAR \
	"/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0c9ab7ef0fe"

/* efivarfs: 4 bytes of attributes, then the 1-byte value. */
static void
host_secure_boot(struct proto_response *resp, const char *root)
{
	struct strbuf sb = STRBUF_INIT, full = STRBUF_INIT;
	int r;

	r = host_read(resp, root, HOST_SECUREBOOT_VAR, 64, &sb);
	if (r == 0) {
		if (sb.len >= 5) {
			resp->host.secure_boot = sb.buf[4] == 1 ? PROTO_YES : PROTO_NO;
		} else {
			sysroot_path(&full, root, HOST_SECUREBOOT_VAR);
			proto_add_error(resp, "host-unreadable", full.buf,
					"SecureBoot variable is %zu bytes, expected 5",
					sb.len);
		}
	} else if (r == -ENOENT) {
		/* No UEFI at all (legacy BIOS boot) means no Secure Boot. */
		if (!bootcfg_exists(root, "/sys/firmware/efi") &&
		    bootcfg_exists(root, "/sys/firmware"))
			resp->host.secure_boot = PROTO_NO;
	}
	strbuf_release(&sb);
	strbuf_release(&full);
}

int
host_discover(const char *root, struct proto_response *resp)
{
	struct strbuf sb = STRBUF_INIT;

	host_hostname(resp, root);
	host_os_release(resp, root);
	resp->host.kernel_release = host_read_line(resp, root,
						   "/proc/sys/kernel/osrelease");
	host_cpuinfo(resp, root);
	host_iommu_hw(resp, root);
	if (host_read(resp, root, "/proc/cmdline", 65536, &sb) == 0) {
		for (size_t i = 0; i < sb.len; i++)
			if (sb.buf[i] == '\n' || sb.buf[i] == '\0')
				sb.buf[i] = ' ';
		strbuf_rtrim(&sb);
		resp->host.cmdline = strbuf_detach(&sb, NULL);
	}
	host_iommu_groups(resp, root);
	host_kmsg(resp, root);
	host_vfio_pci(resp, root);
	host_modules(resp, root);
	host_boot(resp, root);
	host_secure_boot(resp, root);
	resp->host.boot_id = host_read_line(resp, root,
					    "/proc/sys/kernel/random/boot_id");
	strbuf_release(&sb);
	return 0;
}
