/* fanout: run one operation on many hosts at once.
 *
 * A bounded pool of threads (--forks), each driving one blocking libssh
 * session at a time: on libssh 0.10 this measured as fast as one poll loop
 * and keeps SSH_OPTIONS_TIMEOUT working. A slow or dead host holds only its
 * own worker. Results land in the caller's array at the host's index, so
 * output order never depends on timing.
 */
#ifndef VF_FANOUT_H
#define VF_FANOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "push.h"
#include "result.h"
#include "ssh.h"

struct fanout_job {
	struct ssh_target target;	/* borrowed strings */
	int become;			/* 1 yes, 0 no, -1 when not root */
	struct proto_request req;	/* per-host request (root, policy) */
	char *invalid;			/* owned: why this host's settings are
					   unusable; the host fails, the rest
					   of the fleet carries on */
};

struct fanout_opts {
	int forks;			/* workers; <= 0 means 50 */
	int timeout_ms;			/* per-host agent deadline */
	int deadline_ms;		/* whole run; <= 0: none */
	const struct push_agent *agent;
	bool progress;			/* live line on stderr (a TTY) */
	const char *label;		/* "facts", for the progress line */
	/* The per-host work; NULL: connect, run the agent with job->req
	 * (fanout_agent_work). Runs in a worker thread: touch only r. */
	void (*work)(const struct fanout_job *job, struct result *r,
		     int timeout_ms, void *ctx);
	/* Called under a lock as each host finishes (e.g. --jsonl). */
	void (*on_done)(const struct result *r, void *ctx);
	void *ctx;
};

/*
 * Run jobs[0..n) and fill results[0..n) (each result_init'ed here; the
 * caller releases them). Returns 0, or -errno if the pool could not start.
 */
int fanout_run(const struct fanout_job *jobs, size_t n,
	       const struct fanout_opts *o, struct result *results);

/* The default work: connect, push and run the agent, record its answer. */
void fanout_agent_work(const struct fanout_job *job, struct result *r,
		       int timeout_ms, void *ctx);

/* Agent bytes uploaded in the last fanout_run, for reports and tests. */
size_t fanout_agent_bytes(const struct result *results, size_t n);

#endif
