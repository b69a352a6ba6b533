#include "run.h"
#include "log.h"
#include "sysroot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_ENV_MAX 32

/* Programs under this root are checked before they run (NULL: none). */
static const char *run_checked_root;

static const char *const run_base_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C",
	"LC_ALL=C",
	NULL,
};

static long long
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
run_child(const struct run_cmd *cmd, int in, int out, int err)
{
	const char *envp[RUN_ENV_MAX + 1];
	size_t n = 0, i;

	for (i = 0; run_base_env[i]; i++)
		envp[n++] = run_base_env[i];
	for (i = 0; cmd->env && cmd->env[i] && n < RUN_ENV_MAX; i++)
		envp[n++] = cmd->env[i];
	envp[n] = NULL;
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	/* Start the child in its own process group so a timeout can kill the
	 * whole tree (update-initramfs forks plenty). */
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	execve(cmd->argv[0], (char *const *)cmd->argv, (char *const *)envp);
	_exit(errno == ENOENT ? 127 : 126);
}

/* Read what is available on fd into sb; returns false at EOF or error. */
static bool
run_drain(int fd, struct strbuf *sb, size_t max, bool *truncated)
{
	char tmp[8192];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (sb->len < max) {
		size_t keep = (size_t)n;

		if (keep > max - sb->len) {
			keep = max - sb->len;
			*truncated = true;
		}
		strbuf_add(sb, tmp, keep);
	} else {
		*truncated = true;
	}
	return true;
}

static void
run_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Pump stdin/stdout/stderr until both outputs close or the deadline hits. */
static void
run_pump(struct run_cmd *cmd, pid_t pid, int in, int out, int err)
{
	size_t max = cmd->output_max ? cmd->output_max : RUN_OUTPUT_MAX_DEFAULT;
	long long deadline = cmd->timeout_ms > 0 ? run_now_ms() + cmd->timeout_ms : 0;
	size_t sent = 0;

	if (cmd->input_len == 0)
		run_close(&in);
	while (out >= 0 || err >= 0) {
		struct pollfd pfd[3] = {
			{ .fd = out, .events = POLLIN },
			{ .fd = err, .events = POLLIN },
			{ .fd = in, .events = POLLOUT },
		};
		int wait_ms = -1;

		if (deadline) {
			long long left = deadline - run_now_ms();

			if (left <= 0) {
				cmd->timed_out = true;
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				break;
			}
			wait_ms = (int)left;
		}
		if (poll(pfd, 3, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents && !run_drain(out, &cmd->out, max, &cmd->truncated))
			run_close(&out);
		if (pfd[1].revents && !run_drain(err, &cmd->err, max, &cmd->truncated))
			run_close(&err);
		if (in >= 0 && pfd[2].revents) {
			const char *p = (const char *)cmd->input + sent;
			ssize_t n = write(in, p, cmd->input_len - sent);

			/* Done on a write error (EPIPE: the child stopped
			 * reading) or once all the input is sent. */
			if ((n < 0 && errno != EINTR && errno != EAGAIN) ||
			    (n > 0 && (sent += (size_t)n) == cmd->input_len))
				run_close(&in);
		}
	}
	run_close(&in);
	run_close(&out);
	run_close(&err);
}

void
run_set_checked_root(const char *root)
{
	run_checked_root = sysroot_is_host(root) ? NULL : root;
}

/*
 * A program under the checked root: refuse it unless it is safe. A missing
 * one is left to execve() (it fails with ENOENT, as it would anyway; its
 * directory was found safe, so only a trusted owner can create it).
 */
static int
run_check_program(struct run_cmd *cmd)
{
	struct sysroot_trust t;
	struct strbuf why = STRBUF_INIT;
	const char *path = cmd->argv[0];
	int r;

	if (!run_checked_root || !sysroot_is_under(run_checked_root, path))
		return 0;
	sysroot_trust_init(&t);
	r = sysroot_check_root(&t, run_checked_root, &why);
	if (r == 0) {
		r = sysroot_check_file(&t, run_checked_root, path, &why);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0) {
		log_err("refusing to run %s: %s", path, why.buf);
		strbuf_addf(&cmd->err, "vfleet refused to run %s: %s; it runs "
			    "a program under a root only when no one but root "
			    "and the agent's user can change it or the folders "
			    "above it\n", path, why.buf);
		r = -EPERM;
	}
	strbuf_release(&why);
	return r;
}

int
run_command(struct run_cmd *cmd)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int status = 0, r = 0;
	pid_t pid;

	cmd->exit_code = -1;
	cmd->timed_out = cmd->truncated = false;
	if (!cmd->argv || !cmd->argv[0] || cmd->argv[0][0] != '/')
		return -EINVAL;
	r = run_check_program(cmd);
	if (r < 0)
		return r;
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    pipe2(perr, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		run_child(cmd, pin[0], pout[1], perr[1]);
	run_close(&pin[0]);
	run_close(&pout[1]);
	run_close(&perr[1]);
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	/* The child may exit without reading stdin; writing must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	run_pump(cmd, pid, pin[1], pout[0], perr[0]);
	pin[1] = pout[0] = perr[0] = -1;	/* closed by run_pump */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		cmd->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		cmd->exit_code = 128 + WTERMSIG(status);
out:
	for (int i = 0; i < 2; i++) {
		run_close(&pin[i]);
		run_close(&pout[i]);
		run_close(&perr[i]);
	}
	return r;
}

void
run_cmd_release(struct run_cmd *cmd)
{
	strbuf_release(&cmd->out);
	strbuf_release(&cmd->err);
}
