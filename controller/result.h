/* result: what the controller knows about one host after a run. */
#ifndef VF_RESULT_H
#define VF_RESULT_H

#include <stdbool.h>

#include "proto.h"

enum result_status {
	RESULT_PENDING = 0,
	RESULT_OK,		/* the agent answered (its answer may hold errors) */
	RESULT_FAILED,		/* the agent failed, crashed, or answered garbage */
	RESULT_UNREACHABLE,	/* no SSH session: connect, host key or auth */
	RESULT_SKIPPED,		/* not started: the rollout stopped before it */
};

struct result {
	char *host;		/* inventory name (owned) */
	enum result_status status;
	char *error;		/* why not OK (owned), NULL when OK */
	bool have_resp;
	struct proto_response resp;	/* valid when have_resp */
	double elapsed_ms;
	size_t agent_bytes;	/* agent bytes uploaded to this host */
};

void result_init(struct result *r, const char *host);
void result_release(struct result *r);
/* Record a failure: status and a formatted reason (replaces any earlier). */
void result_fail(struct result *r, enum result_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* True when the host counts as failed in the recap: not OK, or the agent
 * reported errors. */
bool result_failed(const struct result *r);
const char *result_status_name(enum result_status st);

/*
 * Turn an agent's raw answer (stdout bytes, exit code, stderr tail) into r:
 * the answer is untrusted, size-limited by the caller and validated by the
 * protocol decoder. Sets r->status to OK or FAILED. Returns 0 or -EPROTO.
 */
int result_take_answer(struct result *r, const char *out, size_t len,
		       int exit_code, const char *err_tail);

#endif
