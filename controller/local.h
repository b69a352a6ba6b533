/* local: run the agent on this machine (no SSH), for `vfleet facts` without
 * an inventory and for --root fixture work. */
#ifndef VF_LOCAL_H
#define VF_LOCAL_H

#include "proto.h"
#include "result.h"
#include "strbuf.h"

/*
 * Find the agent binary into out: `explicit` if given, else $VFLEET_AGENT,
 * else vfleet-agent next to this executable, else the install libexec dir.
 * Returns 0 or -ENOENT.
 */
int local_agent_path(const char *explicit, struct strbuf *out);

/*
 * Send req to the agent at `agent` on stdin and record its answer in r.
 * Returns 0 when an answer was decoded (r->status OK), else a negative
 * errno with r->status FAILED and r->error set.
 */
int local_call(const char *agent, const struct proto_request *req,
	       int timeout_ms, struct result *r);

#endif
