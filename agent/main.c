/* vfleet-agent: discovers (and, with the apply issue, configures) one host.
 *
 *   vfleet-agent facts [--root DIR] [--pretty]   for a human at the console
 *   vfleet-agent --stdin [--pretty]              protocol mode (controller)
 *
 * Protocol mode reads one request (at most PROTO_MESSAGE_MAX bytes) on
 * stdin and always answers with one JSON response on stdout, even for a
 * request it cannot parse. Exit status: 0 answer without errors, 1 answer
 * with errors, 2 request or usage refused (the answer says why).
 */
#include "findings.h"
#include "host.h"
#include "log.h"
#include "pci.h"
#include "proto.h"
#include "strbuf.h"
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
	"       vfleet-agent --stdin [--pretty]\n"
	"       vfleet-agent --version | --help\n"
	"\n"
	"  facts       print this host's facts, PCI functions, IOMMU groups,\n"
	"              GPUs with verdicts and findings as JSON\n"
	"  --root DIR  read /sys, /proc, /etc, /boot under DIR (a fixture tree)\n"
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

/* Run one decoded request into resp; returns the exit status. */
static int
agent_dispatch(const struct proto_request *req, struct proto_response *resp)
{
	const char *root = req->root ? req->root : "/";

	switch (req->op) {
	case PROTO_OP_FACTS:
		agent_facts(root, resp);
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
	proto_request_release(&req);
	proto_response_release(&resp);
	strbuf_release(&in);
	strbuf_release(&err);
	return status;
}

/* Console mode: `facts` (other operations arrive with the apply issue). */
static int
agent_cli(const char *opname, const char *root, bool pretty)
{
	struct proto_request req;
	struct proto_response resp;
	int op = proto_op_from_name(opname);
	int status;

	if (op < 0) {
		fprintf(stderr, "vfleet-agent: unknown operation '%s'\n%s",
			opname, agent_usage);
		return AGENT_EXIT_REFUSED;
	}
	proto_request_init(&req, (enum proto_op)op);
	if (root)
		req.root = xstrdup(root);
	proto_response_init(&resp, req.op);
	agent_set_version(&resp);
	status = agent_dispatch(&req, &resp);
	status = agent_emit(&resp, pretty, status);
	proto_request_release(&req);
	proto_response_release(&resp);
	return status;
}

int
main(int argc, char **argv)
{
	const char *opname = NULL, *root = NULL;
	bool pretty = false, use_stdin = false;
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
		if (opname || root) {
			fprintf(stderr, "vfleet-agent: --stdin takes the operation "
				"and root from the request\n");
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
	return agent_cli(opname, root, pretty);
}
