/* push: ship the agent to a host and run it there.
 *
 * The agent lands in a private directory (~/.cache/vfleet, 0700) as
 * vfleet-agent-<sha256>. Every run checks that digest on the host before it
 * executes the file, so a tampered or truncated copy is never run; when the
 * right copy is already there nothing is uploaded. The request travels on
 * stdin: the remote commands are fixed strings holding only the hex digest.
 */
#ifndef VF_PUSH_H
#define VF_PUSH_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"
#include "ssh.h"

struct push_agent {
	char *path;		/* local file */
	char *sha256;		/* hex digest */
	char *data;		/* the bytes (owned) */
	size_t len;
};

/* Load and hash the agent binary. Returns 0 or -errno. */
int push_agent_load(struct push_agent *a, const char *path);
void push_agent_release(struct push_agent *a);

struct push_stats {
	size_t agent_bytes;	/* agent bytes uploaded to this host */
	bool uploaded;
};

/*
 * Run the agent on c with `request` on stdin (uploading it first when the
 * host lacks this exact build), through `sudo -n` when become is set, and
 * record the decoded answer in r. The answer is capped at PROTO_MESSAGE_MAX.
 * Returns 0 when an answer was decoded, else -errno with r failed.
 */
int push_run(struct ssh_conn *c, const struct push_agent *a, bool become,
	     const char *request, size_t request_len, int timeout_ms,
	     struct result *r, struct push_stats *st);

/* The remote commands, exposed for tests (the string is owned by out). */
void push_command_run(struct strbuf *out, const char *sha, bool become);
void push_command_upload(struct strbuf *out, const char *sha);

#endif
