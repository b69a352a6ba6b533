#include "local.h"
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VFLEET_LIBEXECDIR
#define VFLEET_LIBEXECDIR "/usr/local/libexec/vfleet"
#endif

static bool
local_is_exec(const char *path)
{
	return access(path, X_OK) == 0;
}

int
local_agent_path(const char *explicit, struct strbuf *out)
{
	char self[PATH_MAX];
	ssize_t n;
	const char *env = getenv("VFLEET_AGENT");
	char *slash;

	strbuf_reset(out);
	if (explicit || (env && *env)) {
		const char *p = explicit ? explicit : env;
		char abs[PATH_MAX];

		/* The runner insists on absolute paths. */
		if (!realpath(p, abs))
			return -ENOENT;
		strbuf_addstr(out, abs);
		return local_is_exec(out->buf) ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			strbuf_add(out, self, (size_t)(slash - self));
			strbuf_addstr(out, "/vfleet-agent");
			if (local_is_exec(out->buf))
				return 0;
		}
	}
	strbuf_reset(out);
	strbuf_addstr(out, VFLEET_LIBEXECDIR "/vfleet-agent");
	return local_is_exec(out->buf) ? 0 : -ENOENT;
}

int
local_call(const char *agent, const struct proto_request *req,
	   int timeout_ms, struct result *r)
{
	const char *argv[] = { agent, "--stdin", NULL };
	struct run_cmd cmd = RUN_CMD_INIT;
	struct strbuf in = STRBUF_INIT;
	int rc;

	rc = proto_request_encode(req, &in);
	if (rc < 0) {
		result_fail(r, RESULT_FAILED, "cannot encode the request");
		goto out;
	}
	cmd.argv = argv;
	cmd.input = in.buf;
	cmd.input_len = in.len;
	cmd.timeout_ms = timeout_ms;
	cmd.output_max = PROTO_MESSAGE_MAX + 1;	/* one more: detect oversize */
	rc = run_command(&cmd);
	if (rc < 0) {
		result_fail(r, RESULT_FAILED, "cannot run %s: %s", agent, strerror(-rc));
		goto out;
	}
	if (cmd.timed_out) {
		result_fail(r, RESULT_FAILED, "agent timed out after %d ms", timeout_ms);
		rc = -ETIMEDOUT;
		goto out;
	}
	rc = result_take_answer(r, cmd.out.buf, cmd.out.len, cmd.exit_code,
				cmd.err.buf);
out:
	strbuf_release(&in);
	run_cmd_release(&cmd);
	return rc;
}
