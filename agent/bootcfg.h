/* bootcfg: which bootloader and initramfs generator a host uses, and what
 * kernel command line its boot configuration holds for the next boot.
 *
 * Bootloader precedence (first match wins; each rule says why it beats the
 * ones below it):
 *
 *  1. "proxmox-boot-tool": usr/sbin/proxmox-boot-tool and etc/kernel/cmdline.
 *     Proxmox hosts carry a GRUB config too, but when proxmox-boot-tool
 *     manages the ESPs the command line comes from etc/kernel/cmdline and
 *     GRUB edits are ignored. Without etc/kernel/cmdline the tool is only
 *     installed (legacy GRUB boot) and the GRUB rules apply.
 *  2. "kernelstub": usr/bin/kernelstub (Pop!_OS). It writes the systemd-boot
 *     entries itself and would overwrite a hand edit, so it beats
 *     systemd-boot's own markers.
 *  3. "systemd-boot": boot/loader/loader.conf, boot/efi/loader/loader.conf or
 *     efi/loader/loader.conf. loader.conf exists only where systemd-boot is
 *     installed; a leftover etc/default/grub must not win over it.
 *  4. "grub-bls": usr/sbin/grubby (or usr/bin/grubby) plus boot/loader/entries
 *     with entries (RHEL/Fedora). These hosts also have etc/default/grub and
 *     grub2-mkconfig, but the per-entry options are what boots; edits go
 *     through `grubby --update-kernel=ALL`.
 *  5. "grub": etc/default/grub plus update-grub, grub-mkconfig or
 *     grub2-mkconfig under usr/sbin or sbin.
 *  NULL otherwise.
 *
 * Initramfs precedence: generator binaries beat leftover config directories
 * (a host that switched from initramfs-tools to dracut keeps
 * /etc/initramfs-tools). Among binaries, then among configs, the order is
 * initramfs-tools, dracut, mkinitcpio.
 */
#ifndef VF_BOOTCFG_H
#define VF_BOOTCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Returns a static name (see above) or NULL; why (may be NULL) gets the
 * host paths that decided it. */
const char *bootcfg_bootloader(const char *root, struct strbuf *why);

/* "initramfs-tools", "dracut", "mkinitcpio" or NULL. */
const char *bootcfg_initramfs(const char *root, struct strbuf *why);

/* True when ROOT+path exists (lstat). */
bool bootcfg_exists(const char *root, const char *path);

/* One assignment of the kernel command line in etc/default/grub.d. */
struct bootcfg_override {
	char *path;		/* host path: "/etc/default/grub.d/50-x.cfg" */
	unsigned lineno;
	char *text;		/* the line as written */
	char *var;		/* "GRUB_CMDLINE_LINUX_DEFAULT" or "GRUB_CMDLINE_LINUX" */
	bool appends;		/* value refers to $var: extends, does not replace */
};

/*
 * Every line of etc/default/grub.d/<name>.cfg (in the order grub sources them)
 * that assigns GRUB_CMDLINE_LINUX_DEFAULT or GRUB_CMDLINE_LINUX. *out
 * (caller frees with bootcfg_overrides_free) may be NULL. Returns 0 (also
 * when the directory is absent) or -errno; on -errno, *bad_path (may be
 * NULL) gets the unreadable file (caller frees).
 */
int bootcfg_grub_overrides(const char *root, struct bootcfg_override **out,
			   size_t *n, char **bad_path);
void bootcfg_overrides_free(struct bootcfg_override *o, size_t n);

/*
 * The kernel command line the boot configuration of `bootloader` holds for
 * the next boot of kernel `release` (may be NULL): GRUB's two variables
 * after etc/default/grub and grub.d, the BLS entry's options, or
 * etc/kernel/cmdline. cmdline and source (the host path it came from) are
 * reset first. Returns 0, -ENOENT when it cannot be told (kernelstub,
 * unknown bootloader, files absent), or -errno.
 */
int bootcfg_configured_cmdline(const char *root, const char *bootloader,
			       const char *release, struct strbuf *cmdline,
			       struct strbuf *source);

#endif
