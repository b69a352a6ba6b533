/* initramfs: what each initramfs generator needs to carry vfio early.
 *
 *   initramfs-tools  /etc/initramfs-tools/modules lists the modules
 *                    (modprobe.c's list editor); `update-initramfs -u -k all`
 *                    rebuilds every installed kernel (-u alone rebuilds one);
 *                    checked with `lsinitramfs /boot/initrd.img-<release>`.
 *   dracut           a drop-in /etc/dracut.conf.d/vfio.conf with add_drivers
 *                    and force_drivers, spaces inside the quotes (dracut
 *                    warns and may glue values otherwise); `dracut
 *                    --regenerate-all -f` (-f alone: only the running
 *                    kernel); checked with `lsinitrd -k <release>`.
 *   mkinitcpio       MODULES=(vfio_pci vfio vfio_iommu_type1 ...) in
 *                    /etc/mkinitcpio.conf, the vfio modules first so they
 *                    bind before a GPU driver listed there; `mkinitcpio -P`
 *                    (every preset); checked with `lsinitcpio <image>`.
 *
 * The module list never holds vfio_virqfd: kernel 6.2 merged it into vfio,
 * and a dracut that is told to force it hangs the boot (VFIO-PITFALLS 8).
 * Earlier kernels do not need it listed either: modprobe loads it as a
 * dependency of vfio_pci.
 */
#ifndef VF_INITRAMFS_H
#define VF_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* The modules every initramfs gets, in load order. */
extern const char *const initramfs_vfio_modules[];	/* NULL-ended */

/* The dracut drop-in: add_drivers and force_drivers with the vfio
 * modules, plus install_items when install_item is not NULL. */
void initramfs_dracut_conf(const char *install_item, struct strbuf *out);

/*
 * Edit mkinitcpio.conf text into out (reset first): the last MODULES=(...)
 * gets first[] at its front, in that order (removed from where they were);
 * when file_item is not NULL the last FILES=(...) gets it appended unless
 * listed. Missing arrays are appended. Returns 1 changed, 0 not, -EINVAL
 * when an array is not a one-line "( ... )" (err says which line).
 */
int initramfs_mkinitcpio_edit(const char *text, const char *const *first,
			      size_t nfirst, const char *file_item,
			      struct strbuf *out, struct strbuf *err);

/* Does an image listing (lsinitramfs/lsinitrd/lsinitcpio output) hold
 * module mod ("vfio_pci" matches ".../vfio-pci.ko.zst")? */
bool initramfs_listing_has(const char *listing, const char *mod);

/* The image mkinitcpio builds by default (the first preset's
 * default_image), host path into out; "/boot/initramfs-linux.img" when
 * no preset says. */
void initramfs_mkinitcpio_image(const char *root, struct strbuf *out);

#endif
