/* policy: what vfleet may do on a host, from inventory variables and
 * command-line flags, into the request's proto_policy. */
#ifndef VF_POLICY_H
#define VF_POLICY_H

#include "inventory.h"
#include "proto.h"
#include "strbuf.h"

/* Flags given on the command line; they apply to every host. */
struct policy_cli {
	const char *select[64];		/* --select, repeatable */
	size_t nselect;
	int allow_unsafe_interrupts;	/* --allow-unsafe-interrupts */
	int allow_group_not_viable;	/* --allow-group-not-viable */
	int allow_only_display;		/* --allow-only-display */
	int allow_no_iommu;		/* --allow-no-iommu */
	int allow_driver_in_use;	/* --allow-driver-in-use */
};

/*
 * Fill p from a host's effective variables (vars may be NULL in local
 * mode), then the CLI flags on top:
 *   vfleet_select                 comma list: "10de", "10de:1c03", "0000:0e:00.0"
 *   vfleet_allow_unsafe_interrupts, vfleet_allow_group_not_viable,
 *   vfleet_allow_only_display, vfleet_allow_no_iommu,
 *   vfleet_allow_driver_in_use    booleans (Ansible's spellings)
 *   vfleet_cmd_bootloader_update, vfleet_cmd_initramfs, vfleet_cmd_reboot
 *                                 argv, words split on blanks; argv[0]
 *                                 absolute. Never run by a shell.
 * Returns 0 or -EINVAL with "host H: vfleet_x=...: expected ..." in err.
 */
int policy_fill(struct proto_policy *p, const struct inv_vars *vars,
		const char *host, const struct policy_cli *cli,
		struct strbuf *err);

#endif
