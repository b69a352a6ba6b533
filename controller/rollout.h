/* rollout: staged apply (and rollback) across the fleet.
 *
 * Per batch (Ansible's serial): apply (the agent's preflight may refuse),
 * reboot the hosts that need it (the agent answers, then reboots detached),
 * wait until each went down and came back (boot_id changed, SSH answers,
 * then it stays up for a stability window), verify. Failure rules are
 * Ansible's max_fail_percentage, evaluated after every step; a batch whose
 * hosts all failed stops the run; and a host that does not come back (or
 * goes down again inside the window) HALTS the rollout: it never advances
 * after a timeout. Hosts that need no change are not rebooted; hosts left
 * applied-but-not-rebooted by an earlier run are rebooted and verified.
 */
#ifndef VF_ROLLOUT_H
#define VF_ROLLOUT_H

#include <stdbool.h>
#include <stdio.h>

#include "fanout.h"
#include "fleet.h"
#include "journal.h"
#include "push.h"
#include "result.h"

struct rollout_opts {
	enum proto_op op;	/* APPLY, ROLLBACK, or PLAN (--check) */
	const char *serial;	/* --serial; NULL: one batch */
	int max_fail_pct;	/* --max-fail-percentage; -1: unset */
	int reboot_timeout_s;	/* --reboot-timeout: per wait (down+up) */
	int stable_s;		/* --stable: must stay up this long */
	int poll_ms;		/* between probes while waiting: at most this,
				 * a quarter of it while a host is down */
	bool force;		/* --force: reboot even with VMs running */
	struct journal *journal;	/* may be NULL */
	char **skip;		/* hosts finished in the resumed run */
	size_t nskip;
	FILE *log;		/* batch and step lines; NULL: quiet */
};

struct rollout_summary {
	size_t nbatches;	/* planned */
	size_t batches_run;
	bool halted;		/* stopped before the last batch finished */
	double step_ms[4];	/* wall time in change, reboot, wait, verify */
	char halt_reason[512];
};

/*
 * Run the rollout over f's hosts; res[0..f->njobs) receives each host's
 * final result (caller releases them). base supplies forks, timeouts and
 * the agent. Returns 0 (look at the results and sum), or -EINVAL for a bad
 * --serial (message in err).
 */
int rollout_run(struct fleet *f, const struct fanout_opts *base,
		const struct rollout_opts *ro, struct result *res,
		struct rollout_summary *sum, struct strbuf *err);

#endif
