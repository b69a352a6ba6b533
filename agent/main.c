/* vfleet-agent: discovers and configures one host for VFIO passthrough.
 *
 *   vfleet-agent facts|plan|apply|verify|rollback|status [--root DIR]
 *       [--run-id ID] [--policy-file F.json] [--json] [--pretty]
 *                                                for a human at the console
 *   vfleet-agent --stdin [--pretty]              protocol mode (controller)
 *
 * Protocol mode reads one request (at most PROTO_MESSAGE_MAX bytes) on
 * stdin and always answers with one JSON response on stdout, even for a
 * request it cannot parse. Exit status: 0 answer without errors, 1 answer
 * with errors, 2 request or usage refused (the answer says why).
 */
#include "apply.h"
#include "findings.h"
#include "host.h"
#include "log.h"
#include "pci.h"
#include "reboot.h"
#include "proto.h"
#include "run.h"
#include "strbuf.h"
#include "sysroot.h"
#include "verify.h"
#include "xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define AGENT_EXIT_OK 0
#define AGENT_EXIT_ERRORS 1
#define AGENT_EXIT_REFUSED 2

static const char agent_usage[] =
	"usage: vfleet-agent facts [--root DIR] [--pretty]\n"
	"       vfleet-agent plan|apply|verify|rollback|status [--root DIR]\n"
	"                    [--run-id ID] [--policy-file F.json] [--json] [--pretty]\n"
	"       vfleet-agent --stdin [--pretty]\n"
	"       vfleet-agent --version | --help\n"
	"\n"
	"  facts       print this host's facts, PCI functions, IOMMU groups,\n"
	"              GPUs with verdicts and findings as JSON\n"
	"  plan        what apply would change: unified diffs and commands\n"
	"              (text; --json for the response); touches nothing\n"
	"  apply       configure the selected GPUs for vfio-pci (never reboots)\n"
	"  verify      after the reboot: is what apply configured in effect?\n"
	"  rollback    restore every file apply changed and regenerate\n"
	"  status      the phase of this host's apply record\n"
	"  --root DIR  read and write /sys, /proc, /etc, /boot under DIR (a\n"
	"              fixture tree; the tools found under DIR are run, so\n"
	"              apply, rollback and reboot refuse a DIR that anyone\n"
	"              but root and this user can change)\n"
	"  --run-id ID name of this run (backups go to\n"
	"              /var/lib/vfleet/backups/ID); default local-<UTC time>\n"
	"  --policy-file F.json\n"
	"              the request's policy (select, allow_*, cmd_*) as JSON\n"
	"  --json      print the JSON response (plan prints text otherwise)\n"
	"  --pretty    indent the JSON\n"
	"  --stdin     protocol mode: one request on stdin, one response out\n"
	"  -v          more diagnostics on stderr (twice: debug)\n"
	"\n"
	"exit status: 0 ok, 1 the answer lists errors, 2 request refused\n";

/* Write all of sb to fd. Returns 0 or -errno. */
static int
agent_write_all(int fd, const struct strbuf *sb)
{
	const char *p = sb->buf;
	size_t left = sb->len;

	while (left) {
		ssize_t n = write(fd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

/* Encode resp to stdout; returns the exit status for it. */
static int
agent_emit(const struct proto_response *resp, bool pretty, int status)
{
	struct strbuf out = STRBUF_INIT;
	int r;

	r = proto_response_encode(resp, pretty, &out);
	if (r < 0) {
		log_err("cannot encode the response: %s", strerror(-r));
		status = AGENT_EXIT_ERRORS;
		goto out;
	}
	if (!out.len || out.buf[out.len - 1] != '\n')
		strbuf_addch(&out, '\n');
	r = agent_write_all(STDOUT_FILENO, &out);
	if (r < 0) {
		log_err("cannot write the response: %s", strerror(-r));
		status = AGENT_EXIT_ERRORS;
	}
out:
	strbuf_release(&out);
	return status;
}

static void
agent_set_version(struct proto_response *resp)
{
	free(resp->agent_version);
	resp->agent_version = xstrdup(VFLEET_VERSION);
}

/* host_discover reads the arch from the target root's cpuinfo; uname()
 * is the fallback (cpuinfo hidden, or a fixture without one). */
static void
agent_set_arch(struct proto_response *resp)
{
	struct utsname u;

	if (!resp->host.arch && uname(&u) == 0)
		resp->host.arch = xstrdup(u.machine);
}

/* facts: host facts, then PCI, then the verdicts built from both. */
static void
agent_facts(const char *root, struct proto_response *resp)
{
	host_discover(root, resp);
	agent_set_arch(resp);
	pci_discover(root, resp);
	findings_evaluate(root, resp);
}

/*
 * Under a root other than "/": where apply, rollback and reboot look for
 * the programs they run (plan_find_tool(), reboot_pick(); /usr/local/sbin
 * gets the address-binding helper) ...
 */
static const char *const agent_root_programs[] = {
	"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", NULL,
};
/* ... and the trees they write into (PROTOCOL.md section 13). */
static const char *const agent_root_trees[] = {
	"/etc", "/boot", "/var/lib/vfleet", NULL,
};

static bool
agent_op_writes(enum proto_op op)
{
	return op == PROTO_OP_APPLY || op == PROTO_OP_ROLLBACK ||
	       op == PROTO_OP_REBOOT;
}

/*
 * The safe-path check of a non-"/" root (common/sysroot.h): the root and
 * its parents, the program directories and the trees above. Operations
 * that write or run something are refused (error unsafe-root) when it
 * fails, and from then on every program they run is checked again just
 * before it starts (run_set_checked_root()). Read-only operations only
 * warn on stderr: they run nothing, and a fixture tree may be anyone's.
 * Returns 0, or <0 when the operation must not go on.
 */
static int
agent_check_root(const char *root, enum proto_op op,
		 struct proto_response *resp)
{
	struct strbuf err = STRBUF_INIT;
	struct sysroot_trust t;
	int r;

	if (sysroot_is_host(root))
		return 0;
	sysroot_trust_init(&t);
	r = sysroot_check_root(&t, root, &err);
	for (size_t i = 0; r == 0 && agent_root_programs[i]; i++)
		r = sysroot_check_programs(&t, root, agent_root_programs[i], &err);
	for (size_t i = 0; r == 0 && agent_root_trees[i]; i++)
		r = sysroot_check_tree(&t, root, agent_root_trees[i], &err);
	if (r == 0) {
		if (agent_op_writes(op))
			run_set_checked_root(root);
	} else if (agent_op_writes(op)) {
		proto_add_error(resp, "unsafe-root", NULL, "refusing to %s under "
				"the root %s: %s; the agent runs and writes as "
				"root under a root only when no one but root and "
				"the agent's user can change it or the folders "
				"above it", proto_op_name(op), root, err.buf);
	} else {
		if (r == -EPERM)
			log_warn("the root %s is not safe for apply, rollback or "
				 "reboot: %s", root, err.buf);
		r = 0;
	}
	strbuf_release(&err);
	return r;
}

/* Run one decoded request into resp; returns the exit status. */
static int
agent_dispatch(const struct proto_request *req, struct proto_response *resp)
{
	const char *root = req->root ? req->root : "/";

	if (agent_check_root(root, req->op, resp) < 0)
		return AGENT_EXIT_ERRORS;
	switch (req->op) {
	case PROTO_OP_FACTS:
		agent_facts(root, resp);
		break;
	case PROTO_OP_PLAN:
		agent_facts(root, resp);
		apply_plan(root, req, resp);
		break;
	case PROTO_OP_APPLY:
		agent_facts(root, resp);
		apply_apply(root, req, resp);
		break;
	case PROTO_OP_VERIFY:
		verify_run(root, req, resp);
		break;
	case PROTO_OP_ROLLBACK:
		apply_rollback(root, req, resp);
		break;
	case PROTO_OP_STATUS:
		apply_status(root, req, resp);
		break;
	case PROTO_OP_REBOOT:
		reboot_run(root, req, resp);
		break;
	default:
		proto_add_error(resp, "not-implemented", NULL,
				"operation %s not implemented in this agent",
				proto_op_name(req->op));
		return AGENT_EXIT_REFUSED;
	}
	return resp->ok ? AGENT_EXIT_OK : AGENT_EXIT_ERRORS;
}

/* Protocol mode: one request on stdin, one response on stdout. */
static int
agent_stdin(bool pretty)
{
	struct strbuf in = STRBUF_INIT, err = STRBUF_INIT;
	struct proto_request req;
	struct proto_response resp;
	int r, status;

	proto_request_init(&req, PROTO_OP_FACTS);
	proto_response_init(&resp, PROTO_OP_FACTS);
	/* "op": null until a request says which operation this answers. */
	resp.op = PROTO_OP__COUNT;
	agent_set_version(&resp);

	r = strbuf_read_fd(&in, STDIN_FILENO, PROTO_MESSAGE_MAX);
	if (r == -EFBIG) {
		proto_add_error(&resp, "request-too-large", NULL,
				"request larger than %u bytes", PROTO_MESSAGE_MAX);
		status = AGENT_EXIT_REFUSED;
		goto out;
	}
	if (r < 0) {
		proto_add_error(&resp, "bad-request", NULL,
				"cannot read the request: %s", strerror(-r));
		status = AGENT_EXIT_REFUSED;
		goto out;
	}
	r = proto_request_decode(in.buf, in.len, &req, &err);
	if (r < 0) {
		const char *code = r == -EMSGSIZE ? "request-too-large" :
			r == -EPROTONOSUPPORT ? "unsupported-version" :
			"bad-request";

		proto_add_error(&resp, code, NULL, "%s",
				err.len ? err.buf : "invalid request");
		status = AGENT_EXIT_REFUSED;
		goto out;
	}
	resp.op = req.op;
	status = agent_dispatch(&req, &resp);
out:
	status = agent_emit(&resp, pretty, status);
	/* The answer is out: now a requested reboot may start (detached). */
	close(STDOUT_FILENO);
	reboot_after_answer();
	proto_request_release(&req);
	proto_response_release(&resp);
	strbuf_release(&in);
	strbuf_release(&err);
	return status;
}

/* plan for a person: the diffs and commands, then what stops it. */
static int
agent_print_plan(const struct proto_response *resp, int status)
{
	struct strbuf out = STRBUF_INIT;
	size_t nfiles = 0, ncmds = 0;
	int r;

	for (size_t i = 0; i < resp->nchanges; i++) {
		const struct proto_change *c = &resp->changes[i];

		if (strcmp(c->kind, "file") == 0) {
			nfiles++;
			strbuf_addstr(&out, c->diff ? c->diff : "");
		}
	}
	for (size_t i = 0; i < resp->nchanges; i++) {
		const struct proto_change *c = &resp->changes[i];

		if (strcmp(c->kind, "command") == 0) {
			if (!ncmds++)
				strbuf_addstr(&out, "\ncommands apply would run:\n");
			strbuf_addf(&out, "  %s\n", c->target);
		}
	}
	if (resp->state && resp->state->phase)
		strbuf_addf(&out, "\nrecord: %s (run %s)\n", resp->state->phase,
			    resp->state->run_id ? resp->state->run_id : "-");
	for (size_t i = 0; i < resp->nfindings; i++) {
		const struct proto_finding *f = &resp->findings[i];

		/* The plan's own notes; the facts' findings are in --json. */
		if (strcmp(f->code, "nothing-selected") == 0 ||
		    strcmp(f->code, "bind-by-address") == 0 ||
		    strcmp(f->code, "vfio-ids-and-override") == 0 ||
		    strcmp(f->code, "initramfs-not-rebuilt") == 0)
			strbuf_addf(&out, "%s %s: %s\n", proto_severity_name(
				    f->severity), f->code, f->message);
	}
	for (size_t i = 0; i < resp->nerrors; i++)
		strbuf_addf(&out, "error %s: %s\n", resp->errors[i].code,
			    resp->errors[i].message);
	if (resp->ok)
		strbuf_addf(&out, "\n%s\n", nfiles || ncmds ? "plan: apply would "
			    "change the files above and run the commands" :
			    "plan: nothing to change");
	else
		strbuf_addstr(&out, "\nplan: apply would refuse (errors above)\n");
	r = agent_write_all(STDOUT_FILENO, &out);
	strbuf_release(&out);
	return r < 0 ? AGENT_EXIT_ERRORS : status;
}

/* Console mode: one operation on the command line. */
static int
agent_cli(const char *opname, const char *root, const char *run_id,
	  const char *policy_file, bool json, bool pretty)
{
	struct proto_request req;
	struct proto_response resp;
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	int op = proto_op_from_name(opname);
	int status, r;

	if (op < 0) {
		fprintf(stderr, "vfleet-agent: unknown operation '%s'\n%s",
			opname, agent_usage);
		return AGENT_EXIT_REFUSED;
	}
	proto_request_init(&req, (enum proto_op)op);
	if (root) {
		/* Tools under the root are run by absolute path. */
		char *abs = realpath(root, NULL);

		req.root = abs ? abs : xstrdup(root);
	}
	if (run_id)
		req.run_id = xstrdup(run_id);
	if (policy_file) {
		r = strbuf_read_file(&buf, policy_file, PROTO_MESSAGE_MAX);
		if (r == 0)
			r = proto_policy_decode(buf.buf, buf.len, &req.policy,
						&err);
		else
			strbuf_addstr(&err, strerror(-r));
		if (r < 0) {
			fprintf(stderr, "vfleet-agent: %s: %s\n", policy_file,
				err.buf);
			status = AGENT_EXIT_REFUSED;
			goto out_req;
		}
	}
	proto_response_init(&resp, req.op);
	agent_set_version(&resp);
	status = agent_dispatch(&req, &resp);
	if (req.op == PROTO_OP_PLAN && !json && !pretty)
		status = agent_print_plan(&resp, status);
	else
		status = agent_emit(&resp, pretty, status);
	/* As in protocol mode: the answer first, then the reboot (detached). */
	fflush(stdout);
	reboot_after_answer();
	proto_response_release(&resp);
out_req:
	proto_request_release(&req);
	strbuf_release(&buf);
	strbuf_release(&err);
	return status;
}

int
main(int argc, char **argv)
{
	const char *opname = NULL, *root = NULL, *run_id = NULL;
	const char *policy_file = NULL;
	bool pretty = false, use_stdin = false, json = false;
	int verbose = 0;

	/* A controller that hangs up must give us EPIPE, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(agent_usage, stdout);
			return AGENT_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			printf("vfleet-agent %s (protocol %d.%d)\n", VFLEET_VERSION,
			       PROTO_VERSION_MAJOR, PROTO_VERSION_MINOR);
			return AGENT_EXIT_OK;
		} else if (strcmp(a, "--stdin") == 0) {
			use_stdin = true;
		} else if (strcmp(a, "--pretty") == 0) {
			pretty = true;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--run-id") == 0 && i + 1 < argc) {
			run_id = argv[++i];
		} else if (strncmp(a, "--run-id=", 9) == 0) {
			run_id = a + 9;
		} else if (strcmp(a, "--policy-file") == 0 && i + 1 < argc) {
			policy_file = argv[++i];
		} else if (strncmp(a, "--policy-file=", 14) == 0) {
			policy_file = a + 14;
		} else if (strcmp(a, "-v") == 0) {
			verbose++;
		} else if (strcmp(a, "--root") == 0 && i + 1 < argc) {
			root = argv[++i];
		} else if (strncmp(a, "--root=", 7) == 0) {
			root = a + 7;
		} else if (a[0] != '-' && !opname) {
			opname = a;
		} else {
			fprintf(stderr, "vfleet-agent: unexpected argument '%s'\n%s",
				a, agent_usage);
			return AGENT_EXIT_REFUSED;
		}
	}
	log_init("vfleet-agent", verbose >= 2 ? LOG_DEBUG :
		 verbose ? LOG_INFO : LOG_WARN);

	if (use_stdin) {
		if (opname || root || run_id || policy_file) {
			fprintf(stderr, "vfleet-agent: --stdin takes the operation, "
				"root, run id and policy from the request\n");
			return AGENT_EXIT_REFUSED;
		}
		return agent_stdin(pretty);
	}
	if (!opname) {
		fputs(agent_usage, stderr);
		return AGENT_EXIT_REFUSED;
	}
	if (root && !*root) {
		fprintf(stderr, "vfleet-agent: --root needs a folder\n");
		return AGENT_EXIT_REFUSED;
	}
	if (run_id && (!*run_id || run_id[0] == '.' ||
		       strspn(run_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
			      "OPQRSTUVWXYZ0123456789._-") != strlen(run_id) ||
		       strlen(run_id) > 128)) {
		fprintf(stderr, "vfleet-agent: --run-id takes letters, digits, "
			"'.', '_' and '-' (not first '.'), at most 128\n");
		return AGENT_EXIT_REFUSED;
	}
	return agent_cli(opname, root, run_id, policy_file, json, pretty);
}
