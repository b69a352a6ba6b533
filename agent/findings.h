/* findings: what stands between each GPU and VFIO passthrough.
 *
 * findings_evaluate() reads the facts pci_discover() and host_discover()
 * already put in the response, looks at the few host files that only
 * matter as evidence (modprobe.d, modules-load lists, initramfs configs,
 * grub.d, the kernel log, /proc/<pid>/comm), and adds:
 *
 *   resp->findings  one per pitfall found, each with a stable code (the
 *                   table below), a severity, the PCI address it concerns
 *                   (NULL: host-wide) and evidence strings:
 *                     "/etc/default/grub.d/50-x.cfg:3: GRUB_CMDLINE_...=..."
 *                     "kmsg: vfio-pci 0000:0e:00.0: BAR 0: can't reserve ..."
 *                     "/proc/cmdline: BOOT_IMAGE=... intremap=off"
 *                     "/sys/bus/pci/devices/0000:0e:00.0/driver -> nouveau"
 *                   Paths are as on the host (the --root prefix removed).
 *   resp->gpus      one per display-class (0x03xx) function, with its
 *                   companions, IOMMU group, group viability, verdict and
 *                   reason. Companions are the other functions of its slot
 *                   from the same vendor or linked to it as sysfs device
 *                   link consumers (HDA, USB, UCSI); an APU's PSP and SoC
 *                   USB controllers share the slot but are not companions.
 *                   A BMC's VGA (ASPEED, Matrox G200, HiSilicon) is listed
 *                   with only a "bmc-display" blocker.
 *
 * Verdict of a GPU, from the findings about it, its companions, and the
 * host-wide ones: any blocker -> blocked; else any warning, or the GPU or
 * a companion not bound to vfio-pci -> needs-configuration; else ready.
 * The reason is the message of the most severe such finding (the GPU's own
 * before its companions' before host-wide ones at equal severity).
 */
#ifndef VF_FINDINGS_H
#define VF_FINDINGS_H

#include <stddef.h>

#include "proto.h"

/* Which findings a code is used for. */
enum findings_scope {
	FINDINGS_SCOPE_HOST = 0,	/* device is NULL */
	FINDINGS_SCOPE_GPU,		/* device is a GPU or companion address */
};

struct findings_code {
	const char *code;		/* stable identifier on the wire */
	enum proto_severity sev_min;	/* the severities it is emitted with; */
	enum proto_severity sev_max;	/* equal for most codes */
	enum findings_scope scope;
	const char *pitfall;		/* VFIO-PITFALLS.md item, e.g. "2" */
	const char *summary;		/* one line for PROTOCOL.md */
};

/* The table of every code findings_evaluate() can emit (borrowed, static);
 * *n gets its length. */
const struct findings_code *findings_codes(size_t *n);

/* Table entry for code, or NULL. */
const struct findings_code *findings_code_lookup(const char *code);

/*
 * Add resp->gpus and resp->findings for the tree at root (NULL or "/" for
 * the running host) from resp->funcs, resp->groups and resp->host. Files
 * that exist but cannot be read add a "host-unreadable" error.
 */
void findings_evaluate(const char *root, struct proto_response *resp);

#endif
