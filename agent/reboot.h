/* reboot: the agent's reboot operation.
 *
 * The agent answers first and reboots afterwards, detached from the SSH
 * session: reboot_run() decides and records the command in the response;
 * main writes the answer and closes stdout; reboot_after_answer() then
 * forks a child in its own session that waits a moment (so the answer and
 * the channel close reach the controller) and executes the command.
 * It reboots only when state.json says a change is complete and waits for
 * the reboot (applied-pending-reboot or rolled-back): a host is never
 * rebooted into an incomplete or failed change, nor rebooted for nothing.
 */
#ifndef VF_AGENT_REBOOT_H
#define VF_AGENT_REBOOT_H

#include "proto.h"

/* Decide the reboot; errors go into resp. Returns 0 when a reboot is due. */
int reboot_run(const char *root, const struct proto_request *req,
	       struct proto_response *resp);
/* After the answer is out: start the detached reboot, if one is due. */
void reboot_after_answer(void);

#endif
