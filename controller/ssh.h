/* ssh: the only module that includes libssh.
 *
 * One connect function that returns a ready, authenticated session or NULL
 * with the reason; host keys checked with an exhaustive switch that never
 * accepts a changed key; every exec reads the remote exit status. Remote
 * commands are fixed strings built by the controller from hex digests and
 * constants; inventory values never reach the remote shell.
 */
#ifndef VF_SSH_H
#define VF_SSH_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct ssh_target {
	const char *name;	/* inventory name, for messages */
	const char *address;	/* ansible_host or name */
	int port;		/* 0: from ssh config, else 22 */
	const char *user;	/* NULL: from ssh config, else $USER */
	const char *identity;	/* private key file, NULL: config/agent */
	const char *known_hosts;	/* NULL: ~/.ssh/known_hosts */
	const char *ssh_config;		/* NULL: ~/.ssh/config if present */
	bool accept_new;	/* record unknown host keys (never changed ones) */
	int connect_timeout_s;
};

enum ssh_fail {
	SSH_FAIL_NONE = 0,
	SSH_FAIL_UNREACHABLE,	/* connect, host key or auth: like Ansible */
	SSH_FAIL_FAILED,	/* the session works but the command failed */
};

struct ssh_conn;

/* Call once per process before threads start / after they end. */
int ssh_global_init(void);
void ssh_global_cleanup(void);

/*
 * Connect, verify the host key and authenticate. Returns a session the
 * caller owns (close with ssh_conn_close) or NULL with the reason in err.
 */
struct ssh_conn *ssh_conn_open(const struct ssh_target *t, struct strbuf *err);
void ssh_conn_close(struct ssh_conn *c);
/* The login user the session authenticated as (borrowed). */
const char *ssh_conn_user(const struct ssh_conn *c);

struct ssh_exec {
	const char *command;	/* fixed string; see the header comment */
	const void *input;	/* sent on stdin, then EOF */
	size_t input_len;
	size_t output_max;	/* stdout cap; more is an error */
	int timeout_ms;		/* whole exec deadline */

	struct strbuf out;	/* stdout (owned; release with ssh_exec_release) */
	struct strbuf err;	/* stderr, capped at 64 KiB */
	int exit_status;	/* remote status; -1 when none (killed/lost) */
	bool timed_out;
	bool truncated;		/* stdout exceeded output_max */
	size_t bytes_sent;	/* stdin bytes actually written */
};

#define SSH_EXEC_INIT { .out = STRBUF_INIT, .err = STRBUF_INIT, .exit_status = -1 }

/*
 * Run e->command on c, feeding input and collecting output within the
 * deadline. Returns 0 when the command ran to completion (see exit_status),
 * -ETIMEDOUT, -EFBIG (output over the cap; the channel is closed at once), or
 * -EIO when the session broke, with the reason in err.
 */
int ssh_conn_exec(struct ssh_conn *c, struct ssh_exec *e, struct strbuf *err);
void ssh_exec_release(struct ssh_exec *e);

#endif
