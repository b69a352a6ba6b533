/* fleet: from an inventory and a --limit pattern to per-host jobs.
 *
 * This is where inventory variables become connection settings and agent
 * requests. They travel as data (ssh options, JSON on stdin), never as text
 * in a remote command line.
 */
#ifndef VF_FLEET_H
#define VF_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "fanout.h"
#include "inventory.h"
#include "policy.h"
#include "strbuf.h"

struct fleet_conf {
	const char *const *inventories;	/* -i sources */
	size_t ninventories;
	const char *limit;		/* --limit pattern, NULL: all */
	const char *known_hosts;	/* --known-hosts */
	const char *ssh_config;		/* -F */
	bool accept_new;
	int connect_timeout_s;
	enum proto_op op;
	const char *run_id;		/* apply/rollback: the run's id */
	const struct policy_cli *cli;	/* policy flags for every host */
};

struct fleet {
	struct inv *inv;
	struct inv_hostlist hosts;	/* selected, inventory order */
	struct fanout_job *jobs;	/* one per selected host */
	struct inv_vars *vars;		/* effective vars per job (own strings) */
	size_t njobs;
};

/*
 * Load the inventories, apply --limit and build one job per host. A host
 * whose variables are unusable (ansible_port=abc, say) gets job->invalid
 * naming the host and variable, and fails alone. Returns 0, or -errno when
 * the inventory itself is unusable (reason in err); *f is always safe to
 * fleet_release().
 */
int fleet_load(struct fleet *f, const struct fleet_conf *conf, struct strbuf *err);
void fleet_release(struct fleet *f);

#endif
