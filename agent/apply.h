/* apply: the plan, apply, rollback and status operations.
 *
 * plan and apply expect resp to hold a discovery already (host facts, PCI
 * functions, groups, GPUs and findings, as the facts operation builds it);
 * rollback and status need none (status is cheap on purpose: the
 * controller polls it to see a reboot).
 *
 *   apply_plan()      plan.c's plan as changes (diffs, commands with no exit
 *                     code); touches nothing; resp->changed tells whether
 *                     apply would change anything.
 *   apply_apply()     preflight, then the plan: the intent (backups, every
 *                     step pending) saved in state.json first, then each
 *                     file edit and command, the state saved after each;
 *                     phase applied-pending-reboot. Never reboots.
 *   apply_rollback()  every recorded file back byte for byte (files vfleet
 *                     created removed), grubby/kernelstub parameters taken
 *                     back out, initramfs and boot config regenerated;
 *                     phase rolled-back. A second run changes nothing.
 *   apply_status()    the phase and record from state.json, host.boot_id.
 *
 * Each returns 0, or -errno when the response carries errors (the exit
 * status follows resp->ok).
 */
#ifndef VF_APPLY_H
#define VF_APPLY_H

#include "proto.h"

int apply_plan(const char *root, const struct proto_request *req,
	       struct proto_response *resp);
int apply_apply(const char *root, const struct proto_request *req,
		struct proto_response *resp);
int apply_rollback(const char *root, const struct proto_request *req,
		   struct proto_response *resp);
int apply_status(const char *root, const struct proto_request *req,
		 struct proto_response *resp);

/* Copy the record's summary into resp->state and resp->host.vfio_state
 * (verify uses it too). */
struct agent_state;
void apply_report_state(const struct agent_state *st,
			struct proto_response *resp);

#endif
