/* test_host: host facts from fixture shapes and from hand-built trees. */
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

#include "bootcfg.h"
#include "cfgfile.h"
#include "host.h"
#include "proto.h"
#include "strbuf.h"

/* --- tree helpers --- */

struct tree {
	char dir[64];
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
tree_put_len(struct tree *t, const char *rel, const char *data, size_t len)
{
	char path[512], dir[512];
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

static void
tree_put(struct tree *t, const char *rel, const char *data)
{
	tree_put_len(t, rel, data, strlen(data));
}

static void
tree_dir(struct tree *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	tree_mkdirs(path);
}

static void
tree_rm(struct tree *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	assert_int_equal(unlink(path), 0);
}

static int
tree_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/test_host.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int
teardown_tree(void **state)
{
	struct tree *t = *state;
	int r = nftw(t->dir, tree_rm_one, 16, FTW_DEPTH | FTW_PHYS);

	free(t);
	return r;
}

/* Discover the tree; the response is released by the caller. */
static void
discover(struct tree *t, struct proto_response *resp)
{
	proto_response_init(resp, PROTO_OP_FACTS);
	assert_int_equal(host_discover(t->dir, resp), 0);
}

static const struct proto_error *
find_error(const struct proto_response *resp, const char *code)
{
	for (size_t i = 0; i < resp->nerrors; i++)
		if (strcmp(resp->errors[i].code, code) == 0)
			return &resp->errors[i];
	return NULL;
}

static bool
has_module(const struct proto_response *resp, const char *m)
{
	for (size_t i = 0; i < resp->host.nmodules_loaded; i++)
		if (strcmp(resp->host.modules_loaded[i], m) == 0)
			return true;
	return false;
}

/* --- hand-built trees --- */

static void
test_empty_root(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	discover(t, &resp);
	assert_true(resp.ok);
	assert_int_equal(resp.nerrors, 0);
	assert_null(resp.host.hostname);
	assert_null(resp.host.kernel_release);
	assert_null(resp.host.distro_id);
	assert_null(resp.host.iommu_hw);
	assert_null(resp.host.vfio_pci);
	assert_null(resp.host.bootloader);
	assert_null(resp.host.initramfs_tool);
	assert_int_equal(resp.host.iommu_active, PROTO_UNKNOWN);
	assert_int_equal(resp.host.intremap, PROTO_UNKNOWN);
	assert_int_equal(resp.host.secure_boot, PROTO_UNKNOWN);
	assert_int_equal(resp.host.iommu_groups, 0);
	proto_response_release(&resp);
}

static void
test_identity(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_put(t, "etc/hostname", "# set by the installer\n\n  lab-07  \n");
	tree_put(t, "proc/sys/kernel/osrelease", "6.8.0-45-generic\n");
	tree_put(t, "proc/sys/kernel/random/boot_id",
		 "1b2c3d4e-0000-4000-8000-123456789abc\n");
	tree_put(t, "etc/os-release",
		 "# comment\n"
		 "NAME='Fancy Linux'\n"
		 "ID=\"fancy\"\n"
		 "PRETTY_NAME=\"Fancy \\\"Quoted\\\" 1.0\"  # trailing\n"
		 "ID=fancy2\n");
	tree_put(t, "proc/cmdline", "BOOT_IMAGE=/vmlinuz ro  quiet\n");
	discover(t, &resp);
	assert_int_equal(resp.nerrors, 0);
	assert_string_equal(resp.host.hostname, "lab-07");
	assert_string_equal(resp.host.kernel_release, "6.8.0-45-generic");
	assert_string_equal(resp.host.boot_id,
			    "1b2c3d4e-0000-4000-8000-123456789abc");
	assert_string_equal(resp.host.distro_id, "fancy2");	/* last wins */
	assert_string_equal(resp.host.distro_name, "Fancy \"Quoted\" 1.0");
	assert_string_equal(resp.host.cmdline, "BOOT_IMAGE=/vmlinuz ro  quiet");
	proto_response_release(&resp);

	/* proc hostname beats etc/hostname; NAME stands in for PRETTY_NAME;
	 * usr/lib/os-release is the fallback. */
	tree_put(t, "proc/sys/kernel/hostname", "kernel-name\n");
	tree_rm(t, "etc/os-release");
	tree_put(t, "usr/lib/os-release", "NAME=Plain\nID=plain\n");
	discover(t, &resp);
	assert_string_equal(resp.host.hostname, "kernel-name");
	assert_string_equal(resp.host.distro_id, "plain");
	assert_string_equal(resp.host.distro_name, "Plain");
	proto_response_release(&resp);
}

static void
test_cpu(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_put(t, "proc/cpuinfo",
		 "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
		 "model name\t: AMD EPYC 7763 64-Core Processor  \n"
		 "flags\t\t: fpu vme lm svm\n\n"
		 "processor\t: 1\nvendor_id\t: GenuineIntel\n"
		 "model name\t: other\n");
	discover(t, &resp);
	assert_string_equal(resp.host.cpu_vendor, "AuthenticAMD");
	assert_string_equal(resp.host.cpu_model, "AMD EPYC 7763 64-Core Processor");
	assert_string_equal(resp.host.arch, "x86_64");
	proto_response_release(&resp);

	tree_put(t, "proc/cpuinfo",
		 "processor\t: 0\nBogoMIPS\t: 2000.00\n"
		 "Features\t: fp asimd\nCPU implementer\t: 0x41\n"
		 "CPU architecture: 8\nCPU part\t: 0xd4f\n");
	discover(t, &resp);
	assert_string_equal(resp.host.cpu_vendor, "ARM");
	assert_null(resp.host.cpu_model);
	assert_string_equal(resp.host.arch, "aarch64");
	proto_response_release(&resp);
}

static void
test_iommu(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	/* Groups present, dotfiles and odd names ignored; IVRS -> amd-vi. */
	tree_put(t, "sys/firmware/acpi/tables/IVRS", "IVRS");
	tree_dir(t, "sys/kernel/iommu_groups/0/devices");
	tree_dir(t, "sys/kernel/iommu_groups/12/devices");
	tree_dir(t, "sys/kernel/iommu_groups/7/devices");
	tree_put(t, "sys/kernel/iommu_groups/.gitkeep", "");
	tree_dir(t, "sys/kernel/iommu_groups/notagroup");
	discover(t, &resp);
	assert_string_equal(resp.host.iommu_hw, "amd-vi");
	assert_int_equal(resp.host.iommu_groups, 3);
	assert_int_equal(resp.host.iommu_active, PROTO_YES);
	proto_response_release(&resp);
}

static void
test_iommu_off(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	/* DMAR beats the CPU vendor; empty groups dir (with .gitkeep) = off. */
	tree_put(t, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\n");
	tree_put(t, "sys/firmware/acpi/tables/DMAR", "DMAR");
	tree_put(t, "sys/kernel/iommu_groups/.gitkeep", "");
	discover(t, &resp);
	assert_string_equal(resp.host.iommu_hw, "intel-vt-d");
	assert_int_equal(resp.host.iommu_groups, 0);
	assert_int_equal(resp.host.iommu_active, PROTO_NO);
	proto_response_release(&resp);
}

static void
test_intremap(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_put(t, "dev/kmsg",
		 "6,0,0,-;Linux version 6.1.0\n"
		 "6,1,5,-;AMD-Vi: Interrupt remapping enabled\n");
	discover(t, &resp);
	assert_int_equal(resp.host.intremap, PROTO_YES);
	proto_response_release(&resp);

	/* The cmdline overrides what the log says. */
	tree_put(t, "proc/cmdline", "ro intremap=no_x2apic_optout,off\n");
	discover(t, &resp);
	assert_int_equal(resp.host.intremap, PROTO_NO);
	proto_response_release(&resp);
	tree_put(t, "proc/cmdline", "ro nointremap\n");
	discover(t, &resp);
	assert_int_equal(resp.host.intremap, PROTO_NO);
	proto_response_release(&resp);

	/* The Intel erratum, escaped newlines and all. */
	tree_put(t, "proc/cmdline", "ro quiet\n");
	tree_put(t, "dev/kmsg",
		 "4,0,0,-;DMAR-IR: This system BIOS has enabled interrupt "
		 "remapping\\x0aon a chipset that contains an erratum\n"
		 "6,1,762117,-;DMAR-IR: Enabled IRQ remapping in x2apic mode\n");
	discover(t, &resp);
	assert_int_equal(resp.host.intremap, PROTO_NO);
	proto_response_release(&resp);

	tree_put(t, "dev/kmsg", "6,1,762117,-;DMAR-IR: Enabled IRQ remapping in xapic mode\n");
	discover(t, &resp);
	assert_int_equal(resp.host.intremap, PROTO_YES);
	proto_response_release(&resp);

	tree_put(t, "dev/kmsg", "6,1,1,-;nothing relevant\n");
	discover(t, &resp);
	assert_int_equal(resp.host.intremap, PROTO_UNKNOWN);
	assert_int_equal(resp.nerrors, 0);
	proto_response_release(&resp);
}

static void
test_kmsg_unreadable(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;
	char want[256];

	tree_put(t, "proc/sys/kernel/osrelease", "6.5.0-1-amd64\n");
	tree_dir(t, "dev/kmsg");	/* opens, cannot be read (even as root) */
	discover(t, &resp);
	assert_false(resp.ok);
	e = find_error(&resp, "kmsg-unreadable");
	assert_non_null(e);
	snprintf(want, sizeof(want), "%s/dev/kmsg", t->dir);
	assert_string_equal(e->path, want);
	assert_non_null(strstr(e->message, want));
	/* Discovery went on. */
	assert_string_equal(resp.host.kernel_release, "6.5.0-1-amd64");
	assert_int_equal(resp.host.intremap, PROTO_UNKNOWN);
	proto_response_release(&resp);
}

static void
test_unreadable_files(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_dir(t, "etc/os-release");
	tree_dir(t, "proc/modules");
	discover(t, &resp);
	assert_false(resp.ok);
	assert_int_equal(resp.nerrors, 2);
	e = find_error(&resp, "host-unreadable");
	assert_non_null(e);
	assert_non_null(strstr(e->path, "/etc/os-release"));
	assert_non_null(strstr(resp.errors[1].path, "/proc/modules"));
	assert_null(resp.host.distro_id);
	proto_response_release(&resp);
}

static void
test_vfio_pci(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_put(t, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	/* No modules directory at all: unknown. */
	discover(t, &resp);
	assert_null(resp.host.vfio_pci);
	proto_response_release(&resp);

	tree_put(t, "lib/modules/6.1.0-18-amd64/modules.builtin",
		 "kernel/fs/ext4/ext4.ko\n");
	discover(t, &resp);
	assert_string_equal(resp.host.vfio_pci, "missing");
	proto_response_release(&resp);

	/* Out-of-tree build listed in modules.dep. */
	tree_put(t, "lib/modules/6.1.0-18-amd64/modules.dep",
		 "updates/dkms/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n");
	discover(t, &resp);
	assert_string_equal(resp.host.vfio_pci, "module");
	proto_response_release(&resp);

	tree_put(t, "lib/modules/6.1.0-18-amd64/modules.dep", "\n");
	tree_put(t, "lib/modules/6.1.0-18-amd64/kernel/drivers/vfio/pci/vfio-pci.ko.zst", "");
	discover(t, &resp);
	assert_string_equal(resp.host.vfio_pci, "module");
	proto_response_release(&resp);

	/* modules.builtin wins over a stray .ko. */
	tree_put(t, "lib/modules/6.1.0-18-amd64/modules.builtin",
		 "kernel/fs/ext4/ext4.ko\nkernel/drivers/vfio/pci/vfio-pci.ko\n");
	discover(t, &resp);
	assert_string_equal(resp.host.vfio_pci, "builtin");
	proto_response_release(&resp);
}

static void
test_vfio_pci_usr_lib(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_put(t, "proc/sys/kernel/osrelease", "6.7.4-arch1-1\n");
	tree_put(t, "usr/lib/modules/6.7.4-arch1-1/kernel/drivers/vfio/pci/vfio-pci.ko.xz", "");
	discover(t, &resp);
	assert_string_equal(resp.host.vfio_pci, "module");
	proto_response_release(&resp);
}

static void
test_modules_loaded(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_put(t, "proc/modules",
		 "vfio_pci 16384 0 - Live 0x0\n"
		 "nvidia_drm 69632 0 - Live 0x0\n"
		 "ext4 999 1 - Live 0x0\n"
		 "nouveau_extra 1 0 - Live 0x0\n"
		 "nouveau 1974272 1 - Live 0x0\n"
		 "vfio 1 2 vfio_pci, Live 0x0\n");
	discover(t, &resp);
	/* Table order, not file order; only watched names, exact match. */
	assert_int_equal(resp.host.nmodules_loaded, 4);
	assert_string_equal(resp.host.modules_loaded[0], "nouveau");
	assert_string_equal(resp.host.modules_loaded[1], "nvidia_drm");
	assert_string_equal(resp.host.modules_loaded[2], "vfio");
	assert_string_equal(resp.host.modules_loaded[3], "vfio_pci");
	assert_false(has_module(&resp, "ext4"));
	proto_response_release(&resp);
}

static void
test_secure_boot(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	static const char var[] = "sys/firmware/efi/efivars/"
		"SecureBoot-8be4df61-93ca-11d2-aa0d-e0c9ab7ef0fe";

	tree_put_len(t, var, "\x06\x00\x00\x00\x01", 5);
	discover(t, &resp);
	assert_int_equal(resp.host.secure_boot, PROTO_YES);
	proto_response_release(&resp);

	tree_put_len(t, var, "\x06\x00\x00\x00\x00", 5);
	discover(t, &resp);
	assert_int_equal(resp.host.secure_boot, PROTO_NO);
	proto_response_release(&resp);

	tree_put_len(t, var, "\x06\x00", 2);
	discover(t, &resp);
	assert_int_equal(resp.host.secure_boot, PROTO_UNKNOWN);
	assert_non_null(find_error(&resp, "host-unreadable"));
	proto_response_release(&resp);
}

static void
test_secure_boot_legacy(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;

	tree_dir(t, "sys/firmware/acpi/tables");
	discover(t, &resp);
	assert_int_equal(resp.host.secure_boot, PROTO_NO);
	proto_response_release(&resp);
}

static void
expect_bootloader(struct tree *t, const char *want)
{
	struct proto_response resp;

	discover(t, &resp);
	if (want)
		assert_string_equal(resp.host.bootloader, want);
	else
		assert_null(resp.host.bootloader);
	proto_response_release(&resp);
}

static void
test_bootloader_precedence(void **state)
{
	struct tree *t = *state;

	tree_put(t, "etc/default/grub", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	expect_bootloader(t, NULL);		/* no generator: not usable */
	tree_put(t, "usr/sbin/grub2-mkconfig", "");
	expect_bootloader(t, "grub");
	tree_put(t, "usr/sbin/grubby", "");
	expect_bootloader(t, "grub");		/* grubby without entries */
	tree_put(t, "boot/loader/entries/abc-5.14.0.conf", "options ro\n");
	expect_bootloader(t, "grub-bls");
	tree_put(t, "boot/efi/loader/loader.conf", "timeout 3\n");
	expect_bootloader(t, "systemd-boot");
	tree_put(t, "usr/bin/kernelstub", "");
	expect_bootloader(t, "kernelstub");
	tree_put(t, "usr/sbin/proxmox-boot-tool", "");
	expect_bootloader(t, "kernelstub");	/* tool alone: not in use */
	tree_put(t, "etc/kernel/cmdline", "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n");
	expect_bootloader(t, "proxmox-boot-tool");
}

static void
expect_initramfs(struct tree *t, const char *want)
{
	struct proto_response resp;

	discover(t, &resp);
	if (want)
		assert_string_equal(resp.host.initramfs_tool, want);
	else
		assert_null(resp.host.initramfs_tool);
	proto_response_release(&resp);
}

static void
test_initramfs_precedence(void **state)
{
	struct tree *t = *state;

	expect_initramfs(t, NULL);
	tree_put(t, "etc/mkinitcpio.conf", "MODULES=()\n");
	expect_initramfs(t, "mkinitcpio");
	tree_dir(t, "etc/initramfs-tools");
	expect_initramfs(t, "initramfs-tools");	/* configs: table order */
	tree_put(t, "usr/bin/dracut", "");
	expect_initramfs(t, "dracut");		/* a binary beats configs */
	tree_put(t, "usr/sbin/update-initramfs", "");
	expect_initramfs(t, "initramfs-tools");
}

static void
test_grub_overrides(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	struct bootcfg_override *ov = NULL;
	size_t n = 0;

	tree_put(t, "etc/default/grub.d/50-cloudimg-settings.cfg",
		 "# Cloud image settings\n"
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\n"
		 "GRUB_TIMEOUT=0\n"
		 "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX net.ifnames=0\"\n");
	tree_put(t, "etc/default/grub.d/40-force-partuuid.cfg",
		 "#GRUB_CMDLINE_LINUX_DEFAULT=\"commented\"\n"
		 "GRUB_FORCE_PARTUUID=abc\n");
	tree_put(t, "etc/default/grub.d/10-first.cfg",
		 "export GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} x\"\n");
	tree_put(t, "etc/default/grub.d/init-select.cfg.dpkg-old",
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"ignored\"\n");
	tree_put(t, "etc/default/grub.d/.hidden.cfg",
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"ignored\"\n");
	discover(t, &resp);
	assert_int_equal(resp.host.ngrub_overrides, 2);
	assert_string_equal(resp.host.grub_overrides[0],
			    "/etc/default/grub.d/10-first.cfg");
	assert_string_equal(resp.host.grub_overrides[1],
			    "/etc/default/grub.d/50-cloudimg-settings.cfg");
	proto_response_release(&resp);

	assert_int_equal(bootcfg_grub_overrides(t->dir, &ov, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_true(ov[0].appends);
	assert_int_equal(ov[1].lineno, 2);
	assert_false(ov[1].appends);
	assert_string_equal(ov[1].var, "GRUB_CMDLINE_LINUX_DEFAULT");
	assert_string_equal(ov[2].var, "GRUB_CMDLINE_LINUX");
	assert_true(ov[2].appends);
	bootcfg_overrides_free(ov, n);
}

static void
test_configured_cmdline(void **state)
{
	struct tree *t = *state;
	struct strbuf cmd = STRBUF_INIT, src = STRBUF_INIT;

	tree_put(t, "etc/default/grub",
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
		 "GRUB_CMDLINE_LINUX=\"\"\n");
	tree_put(t, "etc/default/grub.d/99-vfio.cfg",
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT intel_iommu=on\"\n");
	assert_int_equal(bootcfg_configured_cmdline(t->dir, "grub", NULL,
						    &cmd, &src), 0);
	assert_string_equal(cmd.buf, "quiet splash intel_iommu=on");
	assert_non_null(strstr(src.buf, "/etc/default/grub"));

	tree_put(t, "boot/loader/entries/aa-5.14.0-362.el9.x86_64.conf",
		 "title RHEL\nlinux /vmlinuz-5.14.0-362.el9.x86_64\n"
		 "options root=/dev/mapper/rhel-root ro $kernelopts rhgb\n");
	tree_put(t, "boot/loader/entries/aa-0-rescue.conf",
		 "title rescue\noptions rescue\n");
	tree_put(t, "boot/grub2/grubenv", "# GRUB Environment Block\n"
		 "kernelopts=root=/dev/sda1 crashkernel=auto\n");
	assert_int_equal(bootcfg_configured_cmdline(t->dir, "grub-bls",
						    "5.14.0-362.el9.x86_64",
						    &cmd, &src), 0);
	assert_string_equal(cmd.buf, "root=/dev/mapper/rhel-root ro "
			    "root=/dev/sda1 crashkernel=auto rhgb");
	assert_string_equal(src.buf, "/boot/loader/entries/"
			    "aa-5.14.0-362.el9.x86_64.conf + /boot/grub2/grubenv");

	tree_put(t, "etc/kernel/cmdline", "root=ZFS=rpool quiet\n");
	assert_int_equal(bootcfg_configured_cmdline(t->dir, "proxmox-boot-tool",
						    NULL, &cmd, &src), 0);
	assert_string_equal(cmd.buf, "root=ZFS=rpool quiet");
	assert_int_equal(bootcfg_configured_cmdline(t->dir, "kernelstub", NULL,
						    &cmd, &src), -ENOENT);
	strbuf_release(&cmd);
	strbuf_release(&src);
}

static void
test_cmdline_params(void **state)
{
	struct strbuf v = STRBUF_INIT;
	const char *cl = "BOOT_IMAGE=/v ro intel-iommu=igfx_off "
			 "intel_iommu=on,sm_on quiet \"acpi_osi=Windows 2015\" "
			 "nointremap -- intremap=off";

	assert_true(cfgfile_cmdline_param(cl, "intel_iommu", &v));
	assert_string_equal(v.buf, "on,sm_on");		/* last wins */
	assert_true(cfgfile_cmdline_has(cl, "intel_iommu", "on"));
	assert_true(cfgfile_cmdline_has(cl, "intel_iommu", "igfx_off"));
	assert_false(cfgfile_cmdline_has(cl, "intel_iommu", "off"));
	assert_true(cfgfile_cmdline_param(cl, "acpi_osi", &v));
	assert_string_equal(v.buf, "Windows 2015");
	assert_true(cfgfile_cmdline_param(cl, "quiet", &v));
	assert_string_equal(v.buf, "");
	assert_true(cfgfile_cmdline_param(cl, "nointremap", NULL));
	assert_false(cfgfile_cmdline_has(cl, "intremap", "off"));	/* after -- */
	assert_false(cfgfile_cmdline_param(cl, "iommu", NULL));
	assert_true(cfgfile_kernel_at_least("6.8.0-45-generic", 6, 8));
	assert_true(cfgfile_kernel_at_least("6.10.1", 6, 8));
	assert_false(cfgfile_kernel_at_least("6.2", 6, 8));
	assert_false(cfgfile_kernel_at_least("5.15.0", 6, 2));
	assert_false(cfgfile_kernel_at_least("garbage", 1, 0));
	assert_false(cfgfile_kernel_at_least(NULL, 1, 0));
	strbuf_release(&v);
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

static void
discover_shape(const char *shape, struct proto_response *resp)
{
	char root[600];
	struct stat st;

	snprintf(root, sizeof(root), "%s/%s", fixtures_dir(), shape);
	if (stat(root, &st) != 0)
		fail_msg("fixture %s missing (set VFLEET_TOP or run from the "
			 "top of the tree)", root);
	proto_response_init(resp, PROTO_OP_FACTS);
	assert_int_equal(host_discover(root, resp), 0);
	for (size_t i = 0; i < resp->nerrors; i++)
		fail_msg("%s: error %s: %s", shape, resp->errors[i].code,
			 resp->errors[i].message);
}

#define assert_str_or_null(a, b) do { \
	if ((b) == NULL) assert_null(a); else assert_string_equal((a), (b)); \
} while (0)

struct expect_host {
	const char *shape;
	const char *hostname, *distro_id, *kernel, *cpu_vendor, *iommu_hw;
	enum proto_tristate iommu_active;
	int iommu_groups;	/* -1: just > 0 */
	enum proto_tristate intremap;
	const char *vfio_pci, *bootloader, *initramfs;
	enum proto_tristate secure_boot;
	const char *grub_override;	/* first override or NULL for none */
	const char *module;		/* a module that must be listed */
};

static void
check_shape(const struct expect_host *e)
{
	struct proto_response resp;

	discover_shape(e->shape, &resp);
	assert_str_or_null(resp.host.hostname, e->hostname);
	assert_str_or_null(resp.host.distro_id, e->distro_id);
	assert_non_null(resp.host.distro_name);
	assert_str_or_null(resp.host.kernel_release, e->kernel);
	assert_str_or_null(resp.host.cpu_vendor, e->cpu_vendor);
	assert_str_or_null(resp.host.iommu_hw, e->iommu_hw);
	assert_int_equal(resp.host.iommu_active, e->iommu_active);
	if (e->iommu_groups < 0)
		assert_true(resp.host.iommu_groups > 0);
	else
		assert_int_equal(resp.host.iommu_groups, e->iommu_groups);
	assert_int_equal(resp.host.intremap, e->intremap);
	assert_str_or_null(resp.host.vfio_pci, e->vfio_pci);
	assert_str_or_null(resp.host.bootloader, e->bootloader);
	assert_str_or_null(resp.host.initramfs_tool, e->initramfs);
	assert_int_equal(resp.host.secure_boot, e->secure_boot);
	if (e->grub_override) {
		assert_true(resp.host.ngrub_overrides >= 1);
		assert_string_equal(resp.host.grub_overrides[0], e->grub_override);
	} else {
		assert_int_equal(resp.host.ngrub_overrides, 0);
	}
	if (e->module)
		assert_true(has_module(&resp, e->module));
	assert_non_null(resp.host.cmdline);
	assert_non_null(resp.host.boot_id);
	assert_string_equal(resp.host.arch, "x86_64");
	proto_response_release(&resp);
}

/* The facts of each fixture shape (tests/fixtures/gen-fixtures.sh). */
static const struct expect_host shapes[] = {
	{ .shape = "seed-intel-ubuntu", .hostname = "seal-kvm",
	  .distro_id = "ubuntu", .kernel = "5.4.0-150-generic",
	  .cpu_vendor = "GenuineIntel", .iommu_hw = "intel-vt-d",
	  .iommu_active = PROTO_NO, .iommu_groups = 0, .intremap = PROTO_NO,
	  .vfio_pci = "builtin", .bootloader = "grub",
	  .initramfs = "initramfs-tools", .secure_boot = PROTO_NO,
	  .module = "nouveau" },
	{ .shape = "amd-radeon", .hostname = "h12-gpu01", .distro_id = "debian",
	  .kernel = "6.1.0-18-amd64", .cpu_vendor = "AuthenticAMD",
	  .iommu_hw = "amd-vi", .iommu_active = PROTO_YES, .iommu_groups = 28,
	  .intremap = PROTO_YES, .vfio_pci = "module", .bootloader = "grub",
	  .initramfs = "initramfs-tools", .secure_boot = PROTO_NO,
	  .grub_override = "/etc/default/grub.d/50-cloudimg-settings.cfg",
	  .module = "amdgpu" },
	{ .shape = "two-identical-nvidia", .hostname = "ws-3090x2",
	  .distro_id = "ubuntu", .kernel = "5.15.0-91-generic",
	  .cpu_vendor = "GenuineIntel", .iommu_hw = "intel-vt-d",
	  .iommu_active = PROTO_YES, .iommu_groups = 16, .intremap = PROTO_YES,
	  .vfio_pci = "module", .bootloader = "grub",
	  .initramfs = "initramfs-tools", .secure_boot = PROTO_NO,
	  .module = "nvidia_drm" },
	{ .shape = "shared-group", .hostname = "z370-desk", .distro_id = "debian",
	  .kernel = "6.1.0-18-amd64", .cpu_vendor = "GenuineIntel",
	  .iommu_hw = "intel-vt-d", .iommu_active = PROTO_YES,
	  .iommu_groups = 13, .intremap = PROTO_YES, .vfio_pci = "module",
	  .bootloader = "grub", .initramfs = "initramfs-tools",
	  .secure_boot = PROTO_NO, .module = "i915" },
	/* IVRS present, amd_iommu=off: no groups, and no kernel log line
	 * about interrupt remapping either way. */
	{ .shape = "iommu-off", .hostname = "pop-os", .distro_id = "pop",
	  .kernel = "6.6.10-76060610-generic", .cpu_vendor = "AuthenticAMD",
	  .iommu_hw = "amd-vi", .iommu_active = PROTO_NO, .iommu_groups = 0,
	  .intremap = PROTO_UNKNOWN, .vfio_pci = "builtin",
	  .bootloader = "kernelstub", .initramfs = "initramfs-tools",
	  .secure_boot = PROTO_NO, .module = "nouveau" },
	{ .shape = "no-intremap", .hostname = "x10srl", .distro_id = "debian",
	  .kernel = "5.10.0-28-amd64", .cpu_vendor = "GenuineIntel",
	  .iommu_hw = "intel-vt-d", .iommu_active = PROTO_YES,
	  .iommu_groups = 18, .intremap = PROTO_NO, .vfio_pci = "module",
	  .bootloader = "grub", .initramfs = "initramfs-tools",
	  .secure_boot = PROTO_NO, .module = "nouveau" },
	{ .shape = "vfio-builtin", .hostname = "z690-vm", .distro_id = "ubuntu",
	  .kernel = "5.15.0-91-generic", .cpu_vendor = "GenuineIntel",
	  .iommu_hw = "intel-vt-d", .iommu_active = PROTO_YES,
	  .iommu_groups = 10, .intremap = PROTO_YES, .vfio_pci = "builtin",
	  .bootloader = "grub", .initramfs = "initramfs-tools",
	  .secure_boot = PROTO_NO, .module = "nouveau" },
	{ .shape = "already-configured", .hostname = "z390-vfio",
	  .distro_id = "ubuntu", .kernel = "6.5.0-35-generic",
	  .cpu_vendor = "GenuineIntel", .iommu_hw = "intel-vt-d",
	  .iommu_active = PROTO_YES, .iommu_groups = 10, .intremap = PROTO_YES,
	  .vfio_pci = "builtin", .bootloader = "grub",
	  .initramfs = "initramfs-tools", .secure_boot = PROTO_NO,
	  .module = "i915" },
	{ .shape = "rhel-like", .hostname = "r730-t4", .distro_id = "rocky",
	  .kernel = "5.14.0-362.el9.x86_64", .cpu_vendor = "GenuineIntel",
	  .iommu_hw = "intel-vt-d", .iommu_active = PROTO_NO, .iommu_groups = 0,
	  .intremap = PROTO_YES, .vfio_pci = "module", .bootloader = "grub-bls",
	  .initramfs = "dracut", .secure_boot = PROTO_YES, .module = "nouveau" },
	{ .shape = "boot-vga-only", .hostname = "archbox", .distro_id = "arch",
	  .kernel = "6.7.4-arch1-1", .cpu_vendor = "GenuineIntel",
	  .iommu_hw = "intel-vt-d", .iommu_active = PROTO_YES, .iommu_groups = 9,
	  .intremap = PROTO_YES, .vfio_pci = "module",
	  .bootloader = "systemd-boot", .initramfs = "mkinitcpio",
	  .secure_boot = PROTO_NO, .module = "nvidia" },
	{ .shape = "proxmox", .hostname = "pve1", .distro_id = "debian",
	  .kernel = "6.5.13-5-pve", .cpu_vendor = "AuthenticAMD",
	  .iommu_hw = "amd-vi", .iommu_active = PROTO_YES, .iommu_groups = 36,
	  .intremap = PROTO_YES, .vfio_pci = "module",
	  .bootloader = "proxmox-boot-tool", .initramfs = "initramfs-tools",
	  .secure_boot = PROTO_NO, .module = "vfio_pci" },
	{ .shape = "large-dgx", .hostname = "dgx-a100-07", .distro_id = "ubuntu",
	  .kernel = "5.15.0-1042-nvidia", .cpu_vendor = "AuthenticAMD",
	  .iommu_hw = "amd-vi", .iommu_active = PROTO_YES, .iommu_groups = 124,
	  .intremap = PROTO_YES, .vfio_pci = "builtin", .bootloader = "grub",
	  .initramfs = "initramfs-tools", .secure_boot = PROTO_NO,
	  .module = "nvidia_uvm" },
};

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
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tree, teardown_tree)
	const struct CMUnitTest tests[] = {
		T(test_empty_root),
		T(test_identity),
		T(test_cpu),
		T(test_iommu),
		T(test_iommu_off),
		T(test_intremap),
		T(test_kmsg_unreadable),
		T(test_unreadable_files),
		T(test_vfio_pci),
		T(test_vfio_pci_usr_lib),
		T(test_modules_loaded),
		T(test_secure_boot),
		T(test_secure_boot_legacy),
		T(test_bootloader_precedence),
		T(test_initramfs_precedence),
		T(test_grub_overrides),
		T(test_configured_cmdline),
		cmocka_unit_test(test_cmdline_params),
		cmocka_unit_test(test_shapes),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
