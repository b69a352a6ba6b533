#include "reboot.h"
#include "state.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REBOOT_DELAY_MS 500	/* let the answer and EOF reach the controller */

/* The command reboot_after_answer() runs (owned here; at most one). */
static char **reboot_argv;
static size_t reboot_argc;

static bool
reboot_is_root(const char *root)
{
	return !root || !*root || !strcmp(root, "/");
}

/* The host's reboot tool: systemctl, else reboot(8); ROOT-prefixed under
 * --root (the fixture stubs), as the other tools are. */
static int
reboot_pick(const char *root, const struct proto_policy *pol)
{
	static const char *const tools[][2] = {
		{ "/usr/bin/systemctl", "reboot" },
		{ "/bin/systemctl", "reboot" },
		{ "/usr/sbin/reboot", NULL },
		{ "/sbin/reboot", NULL },
	};
	struct strbuf path = STRBUF_INIT;

	if (pol->ncmd_reboot) {
		for (size_t i = 0; i < pol->ncmd_reboot; i++)
			proto_strv_add(&reboot_argv, &reboot_argc, pol->cmd_reboot[i]);
		return 0;
	}
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		sysroot_path(&path, root, tools[i][0]);
		if (access(path.buf, X_OK) != 0)
			continue;
		proto_strv_add(&reboot_argv, &reboot_argc,
			       reboot_is_root(root) ? tools[i][0] : path.buf);
		if (tools[i][1])
			proto_strv_add(&reboot_argv, &reboot_argc, tools[i][1]);
		strbuf_release(&path);
		return 0;
	}
	strbuf_release(&path);
	return -ENOENT;
}

/*
 * Under a non-"/" root, the reboot program (a policy cmd_reboot or the
 * root's own systemctl/reboot) runs as root from a detached child, outside
 * run_command() and so outside its check: check it here, before answering.
 * The root and its program folders were checked already (agent/main.c).
 */
static int
reboot_check_program(const char *root, struct proto_response *resp)
{
	struct strbuf why = STRBUF_INIT;
	struct sysroot_trust t;
	int r = 0;

	if (reboot_is_root(root) || !sysroot_is_under(root, reboot_argv[0]))
		return 0;
	sysroot_trust_init(&t);
	r = sysroot_check_file(&t, root, reboot_argv[0], &why);
	if (r < 0)
		proto_add_error(resp, "unsafe-root", NULL, "refusing to reboot "
				"with %s: %s", reboot_argv[0], why.buf);
	strbuf_release(&why);
	return r;
}

int
reboot_run(const char *root, const struct proto_request *req,
	   struct proto_response *resp)
{
	struct agent_state st;
	struct strbuf err = STRBUF_INIT, cmd = STRBUF_INIT;
	struct proto_change *c;
	int r;

	memset(&st, 0, sizeof(st));
	/* -ENOENT: no record, phase NONE, refused below */
	r = state_load(root, &st, &err);
	if (r < 0 && r != -ENOENT) {
		proto_add_error(resp, "state-unreadable", STATE_PATH, "%s", err.buf);
		goto out;
	}
	/* Reboot only to bring a finished change into effect: never into an
	 * incomplete or failed one, and never a host vfleet did not change. */
	if (st.phase != STATE_PHASE_APPLIED && st.phase != STATE_PHASE_ROLLED_BACK) {
		proto_add_error(resp, "reboot-refused", STATE_PATH,
				"refusing to reboot: state is %s; vfleet reboots a "
				"host only after a complete apply or rollback",
				st.phase == STATE_PHASE_NONE ? "absent" :
				state_phase_name(st.phase));
		r = -EBUSY;
		goto out;
	}
	if (!req->policy.ncmd_reboot && reboot_is_root(root) && getuid() != 0) {
		proto_add_error(resp, "reboot-refused", NULL,
				"reboot needs root (run the agent through sudo)");
		r = -EPERM;
		goto out;
	}
	r = reboot_pick(root, &req->policy);
	if (r < 0) {
		proto_add_error(resp, "reboot-no-tool", NULL,
				"no reboot tool found (systemctl, reboot); set "
				"policy cmd_reboot");
		goto out;
	}
	/* execve needs the vector NULL-terminated (not counted in argc) */
	reboot_argv = xrealloc(reboot_argv, (reboot_argc + 1) * sizeof(*reboot_argv));
	reboot_argv[reboot_argc] = NULL;
	r = reboot_check_program(root, resp);
	if (r < 0) {
		proto_strv_free(reboot_argv, reboot_argc);
		reboot_argv = NULL;
		reboot_argc = 0;
		goto out;
	}
	for (size_t i = 0; i < reboot_argc; i++)
		strbuf_addf(&cmd, "%s%s", i ? " " : "", reboot_argv[i]);
	/* The boot the controller must see replaced before it calls the
	 * host back. */
	sysroot_path(&err, root, "/proc/sys/kernel/random/boot_id");
	{
		struct strbuf id = STRBUF_INIT;

		if (strbuf_read_file(&id, err.buf, 64) == 0) {
			strbuf_rtrim(&id);
			free(resp->host.boot_id);
			resp->host.boot_id = strbuf_detach(&id, NULL);
		}
		strbuf_release(&id);
	}
	c = proto_add_change(resp);
	c->kind = xstrdup("command");
	c->target = strbuf_detach(&cmd, NULL);
	resp->changed = true;
out:
	state_release(&st);
	strbuf_release(&err);
	strbuf_release(&cmd);
	return r;
}

void
reboot_after_answer(void)
{
	pid_t pid;

	if (!reboot_argc)
		return;
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, REBOOT_DELAY_MS * 1000000L };
		const char *envp[] = {
			"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL,
		};
		int fd;

		/* Out of the SSH session: its end must not take us with it. */
		signal(SIGHUP, SIG_IGN);
		setsid();
		/* stdout may be closed already: /dev/null can land on fd 0-2,
		 * so no O_CLOEXEC here, and close it only when it is extra. */
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		nanosleep(&ts, NULL);
		execve(reboot_argv[0], reboot_argv, (char *const *)envp);
		_exit(127);
	}
	proto_strv_free(reboot_argv, reboot_argc);
	reboot_argv = NULL;
	reboot_argc = 0;
}
