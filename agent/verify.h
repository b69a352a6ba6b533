/* verify: after the reboot, is what apply configured in effect?
 *
 * verify_run() discovers the host as `facts` does (host_discover,
 * pci_discover, findings_evaluate) and then compares the running system
 * with the record apply left in ROOT/var/lib/vfleet/state.json (state.h).
 * Each check becomes one finding per subject, code "verify-<check>" (table
 * below, verify_checks()), with the evidence it looked at: an info finding
 * when the check passed, a blocker when it failed. Any failure adds one
 * "verify-failed" error naming every failed check, and the record's phase
 * becomes "failed" (message: the same summary); when every check passes it
 * becomes "verified". The phase is saved through state_save() (atomic).
 *
 * Checks, in order:
 *   verify-reboot     boot_id differs from the one recorded at apply
 *   verify-cmdline    /proc/cmdline carries every expected parameter
 *                     (state cmdline_expected; the value of the last
 *                     occurrence must hold every comma item, as module
 *                     parameters take the last one; parameters the kernel
 *                     accumulates (video=, initcall_blacklist=, ...) may
 *                     spread over occurrences)
 *   verify-iommu      IOMMU groups exist
 *   verify-intremap   interrupt remapping is on, or the unsafe opt-in is in
 *                     effect (/sys/module/vfio_iommu_type1/parameters/
 *                     allow_unsafe_interrupts = Y); "the log does not say"
 *                     fails (nothing confirms VFIO will attach)
 *   verify-driver     each recorded function is bound to vfio-pci (or
 *                     nvgrace_gpu_vfio_pci): its driver link (per function)
 *   verify-vfio-dev   /dev/vfio/<group> exists for the group of each
 *                     recorded function (per group)
 *   verify-kmsg       the kernel log has no BAR reservation failure, RMRR
 *                     refusal, "not viable" group or vfio-pci probe failure
 *                     about a recorded function or its group
 *
 * Refusals (nothing is checked, the record is left as it is):
 *   no state file, or phase rolled-back    error "not-applied"
 *                                          ("nothing applied on this host")
 *   phase planned/applying/rolling-back    error "apply-incomplete"
 *   state file unreadable or invalid       error "state-unreadable"
 * A record that cannot be saved afterwards adds "state-write-failed".
 */
#ifndef VF_VERIFY_H
#define VF_VERIFY_H

#include <stddef.h>

#include "proto.h"

struct verify_check {
	const char *code;	/* finding code, "verify-reboot" ... */
	const char *summary;	/* one line for PROTOCOL.md */
};

/* The checks in the order verify_run() makes them (static); *n gets the
 * count. */
const struct verify_check *verify_checks(size_t *n);

/*
 * Verify the host at root (NULL or "/" is the running system) against its
 * state record; req->run_id and req->policy are not needed (the record says
 * what apply did). Fills resp as `facts` does, plus the verify-* findings,
 * resp->host.vfio_state and resp->state (the record after verify).
 * Returns 0 when the checks ran (resp->ok says whether they all passed),
 * -ENOENT when nothing is applied, -EBUSY when apply is incomplete, or
 * -errno when the record cannot be read; resp->errors says why in each
 * failing case.
 */
int verify_run(const char *root, const struct proto_request *req,
	       struct proto_response *resp);

#endif
