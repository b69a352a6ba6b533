/* select: which PCI functions apply hands to vfio-pci.
 *
 * Default (policy.select empty): every GPU (display class 0x03) except the
 * host's console: not the only display device, not the boot VGA device,
 * not a BMC's display (findings "only-display-device", "bmc-display",
 * boot_vga). With policy.select: the GPUs matching any selector, a vendor
 * ("10de"), vendor:device ("10de:2204") or address ("0000:02:00.0"); a
 * selector naming a companion (the HDMI audio of a card) selects its GPU.
 * Explicitly selected consoles are kept: preflight (plan.c) refuses them
 * unless policy.allow_only_display.
 *
 * Each selected GPU brings every companion of its slot (HDA, USB, UCSI).
 *
 * Binding: vfio-pci ids= takes every function with those IDs. When a
 * function outside the selection (and not already on vfio-pci) shares the
 * vendor:device of a selected one, as with two identical cards of which
 * one stays on the host, the selection is bound by address instead
 * (driver_override; split = true).
 */
#ifndef VF_SELECT_H
#define VF_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct select_dev {
	char *address;		/* the function */
	char *gpu;		/* the GPU whose slot it is in (itself for a GPU) */
	uint16_t vendor_id, device_id;
	uint32_t class_code;
	char *driver;		/* bound now, NULL none */
};

struct select_result {
	struct select_dev *devs;	/* GPUs and companions, by address */
	size_t ndevs;
	char **gpus;			/* the selected GPU addresses */
	size_t ngpus;
	char **ids;			/* distinct "10de:1c03", in device order */
	size_t nids;
	bool split;			/* bind by address (see above) */
	char *split_why;		/* "0000:01:00.0 (10de:2204) stays ..." */
	char **skipped;			/* why GPUs were left out by default */
	size_t nskipped;
};

/*
 * Select from the facts in resp (funcs, gpus, findings) by policy into out
 * (caller releases). Selectors that match no GPU add a "select-no-match"
 * error to resp and make it return -ENOENT; otherwise 0 (also when nothing
 * is selected).
 */
int select_devices(struct proto_response *resp, const struct proto_policy *pol,
		   struct select_result *out);
void select_release(struct select_result *sel);

/* Is address part of the selection? */
bool select_has(const struct select_result *sel, const char *address);

/* Did findings put code on device (NULL: host-wide) at severity >= sev? */
bool select_has_finding(const struct proto_response *resp, const char *code,
			const char *device, enum proto_severity sev);

#endif
