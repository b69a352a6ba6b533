/* run: the one command runner.
 *
 * Every external command (the agent run locally by the controller,
 * update-grub, update-initramfs, reboot ...) goes through run_command():
 * argv vector, absolute path, scrubbed environment, optional stdin, a
 * timeout, stdout and stderr captured into strbufs with a size cap. There is
 * no shell anywhere: inventory values can never be interpreted by one.
 */
#ifndef VF_RUN_H
#define VF_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define RUN_OUTPUT_MAX_DEFAULT (1u << 20)

struct run_cmd {
	/* Inputs (borrowed; must outlive run_command()). */
	const char *const *argv;	/* argv[0] must be an absolute path */
	const char *const *env;		/* extra NAME=value entries, NULL-ended */
	const void *input;		/* bytes fed on stdin, then EOF */
	size_t input_len;
	int timeout_ms;			/* <= 0: no timeout */
	size_t output_max;		/* per stream; 0: RUN_OUTPUT_MAX_DEFAULT */

	/* Outputs (owned by the struct; free with run_cmd_release()). */
	struct strbuf out;
	struct strbuf err;
	int exit_code;		/* exit status, or 128+signal when killed */
	bool timed_out;		/* killed with SIGKILL at the deadline */
	bool truncated;		/* a stream exceeded output_max */
};

#define RUN_CMD_INIT { .out = STRBUF_INIT, .err = STRBUF_INIT, .exit_code = -1 }

/*
 * Run cmd->argv[0] with a clean environment (PATH, LANG=C, plus cmd->env),
 * wait for it and fill the outputs. Returns 0 when the command ran (look at
 * exit_code/timed_out), -EINVAL for a relative argv[0], -EPERM for a
 * program under the checked root that fails the check (see below; the
 * reason is in cmd->err), or -errno when it could not be started.
 */
int run_command(struct run_cmd *cmd);
void run_cmd_release(struct run_cmd *cmd);

/*
 * From now on, run a program under root only when nobody but a trusted
 * owner can change it or the directories from "/" down to it
 * (sysroot_check_root() and sysroot_check_file()). The agent sets this for
 * a --root other than "/", whose tools it runs as root. NULL (the
 * default) or "/" checks nothing: the host's own tools belong to root.
 * root is borrowed and must outlive every later run_command().
 */
void run_set_checked_root(const char *root);

#endif
