#include "push.h"
#include "proto.h"
#include "sha256.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Remote exit codes of our own wrapper (the agent uses 0-2). */
#define PUSH_RC_NEED_UPLOAD 97
#define PUSH_RC_UPLOAD_BAD 98
#define PUSH_RC_WRONG_ARCH 96
#define PUSH_UPLOAD_TIMEOUT_MS 120000

int
push_agent_load(struct push_agent *a, const char *path)
{
	struct strbuf data = STRBUF_INIT, hex = STRBUF_INIT;
	int r;

	memset(a, 0, sizeof(*a));
	r = strbuf_read_file(&data, path, 64u << 20);
	if (r < 0) {
		strbuf_release(&data);
		return r;
	}
	sha256_hex(data.buf, data.len, &hex);
	a->path = xstrdup(path);
	a->sha256 = strbuf_detach(&hex, NULL);
	a->data = strbuf_detach(&data, &a->len);
	return 0;
}

void
push_agent_release(struct push_agent *a)
{
	free(a->path);
	free(a->sha256);
	free(a->data);
	memset(a, 0, sizeof(*a));
}

/* The directory and file names; sha is 64 hex digits we computed. */
static void
push_prologue(struct strbuf *out, const char *sha)
{
	strbuf_addf(out,
		"umask 077; d=\"$HOME/.cache/vfleet\"; f=\"$d/vfleet-agent-%s\"; ",
		sha);
}

void
push_command_run(struct strbuf *out, const char *sha, bool become)
{
	/* The hot path: one sha256sum, compared by a shell pattern (no cut,
	 * no uname: the arch is checked when the agent is uploaded). */
	strbuf_reset(out);
	push_prologue(out, sha);
	strbuf_addf(out,
		"case \"$(sha256sum \"$f\" 2>/dev/null)\" in \"%s \"*) "
		"exec %s\"$f\" --stdin;; esac; exit %d",
		sha, become ? "sudo -n " : "", PUSH_RC_NEED_UPLOAD);
}

void
push_command_upload(struct strbuf *out, const char *sha)
{
	strbuf_reset(out);
	push_prologue(out, sha);
	strbuf_addf(out,
		"[ \"$(uname -m)\" = x86_64 ] || { echo \"vfleet: no agent built "
		"for $(uname -m)\" >&2; exit %d; }; "
		"mkdir -p \"$d\" && chmod 700 \"$d\" && t=\"$d/.upload.$$\" && "
		"cat > \"$t\" && [ \"$(sha256sum < \"$t\" | cut -c1-64)\" = %s ] && "
		"chmod 700 \"$t\" && mv -f \"$t\" \"$f\" || { rm -f \"$t\"; exit %d; }",
		PUSH_RC_WRONG_ARCH, sha, PUSH_RC_UPLOAD_BAD);
}

static int
push_upload(struct ssh_conn *c, const struct push_agent *a, struct result *r,
	    struct push_stats *st)
{
	struct ssh_exec e = SSH_EXEC_INIT;
	struct strbuf cmd = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	push_command_upload(&cmd, a->sha256);
	e.command = cmd.buf;
	e.input = a->data;
	e.input_len = a->len;
	e.output_max = 4096;
	e.timeout_ms = PUSH_UPLOAD_TIMEOUT_MS;
	rc = ssh_conn_exec(c, &e, &err);
	st->agent_bytes += e.bytes_sent;
	if (rc == 0 && e.exit_status != 0) {
		strbuf_rtrim(&e.err);
		if (e.exit_status == PUSH_RC_WRONG_ARCH)
			strbuf_addstr(&err, e.err.buf);
		else
			strbuf_addf(&err, "agent upload failed (exit %d): %s",
				    e.exit_status, e.exit_status == PUSH_RC_UPLOAD_BAD ?
				    "checksum mismatch on the host" : e.err.buf);
		rc = -EIO;
	}
	if (rc < 0)
		result_fail(r, RESULT_FAILED, "%s", err.buf);
	else
		st->uploaded = true;
	strbuf_release(&cmd);
	strbuf_release(&err);
	ssh_exec_release(&e);
	return rc;
}

/* One attempt at running the agent; *need_upload set when it is missing. */
static int
push_try_run(struct ssh_conn *c, const struct push_agent *a, bool become,
	     const char *request, size_t request_len, int timeout_ms,
	     struct result *r, bool *need_upload)
{
	struct ssh_exec e = SSH_EXEC_INIT;
	struct strbuf cmd = STRBUF_INIT, err = STRBUF_INIT;
	int rc;

	*need_upload = false;
	push_command_run(&cmd, a->sha256, become);
	e.command = cmd.buf;
	e.input = request;
	e.input_len = request_len;
	e.output_max = PROTO_MESSAGE_MAX;
	e.timeout_ms = timeout_ms;
	rc = ssh_conn_exec(c, &e, &err);
	if (rc < 0) {
		result_fail(r, RESULT_FAILED, "agent: %s", err.buf);
		goto out;
	}
	if (e.exit_status == PUSH_RC_NEED_UPLOAD && e.out.len == 0) {
		*need_upload = true;
		goto out;
	}
	if (become && e.out.len == 0 && strstr(e.err.buf, "password is required")) {
		result_fail(r, RESULT_FAILED, "sudo requires a password for %s; "
			    "vfleet runs `sudo -n` (configure NOPASSWD or log in as root)",
			    ssh_conn_user(c));
		rc = -EACCES;
		goto out;
	}
	rc = result_take_answer(r, e.out.buf, e.out.len, e.exit_status, e.err.buf);
out:
	strbuf_release(&cmd);
	strbuf_release(&err);
	ssh_exec_release(&e);
	return rc;
}

int
push_run(struct ssh_conn *c, const struct push_agent *a, bool become,
	 const char *request, size_t request_len, int timeout_ms,
	 struct result *r, struct push_stats *st)
{
	bool need_upload;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = push_try_run(c, a, become, request, request_len, timeout_ms, r,
			  &need_upload);
	if (!need_upload)
		return rc;
	rc = push_upload(c, a, r, st);
	if (rc < 0)
		return rc;
	rc = push_try_run(c, a, become, request, request_len, timeout_ms, r,
			  &need_upload);
	if (need_upload) {
		result_fail(r, RESULT_FAILED, "agent still missing after upload "
			    "(is $HOME/.cache writable and executable on the host?)");
		rc = -ENOEXEC;
	}
	return rc;
}
