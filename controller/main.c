/* vfleet: the controller. Subcommands dispatch to per-operation runners. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "log.h"
#include "proto.h"
#include "render.h"
#include "result.h"

/* Exit codes, as ansible-playbook's. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,		/* bad inventory, internal error */
	EXIT_FAILED = 2,	/* one or more hosts failed */
	EXIT_UNREACHABLE = 4,	/* one or more hosts unreachable */
	EXIT_USAGE = 5,		/* bad or incomplete options */
};

struct opts {
	const char *root;	/* --root: local mode on a fixture tree */
	const char *agent;	/* --agent: agent binary to run */
	int json;		/* --json: one document on stdout */
	int timeout_s;		/* --timeout: per-agent deadline */
	int verbose;		/* -v: findings below the table */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: vfleet <command> [options]\n"
		"\n"
		"commands:\n"
		"  facts        inventory GPUs, IOMMU groups and VFIO readiness\n"
		"  version      print the version\n"
		"\n"
		"facts options:\n"
		"  --root DIR   inspect a host tree under DIR (fixtures) instead of /\n"
		"  --json       print the whole result as one JSON document\n"
		"  --agent PATH agent binary (default: next to vfleet, then %s)\n"
		"  --timeout S  seconds before an agent is given up (default 60)\n"
		"  -v           list every finding with its evidence\n"
		"\n"
		"exit status: 0 ok, 1 error, 2 a host failed, 4 a host unreachable,\n"
		"5 bad options\n", VFLEET_LIBEXECDIR);
}

static int
opts_parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "agent", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->timeout_s = 60;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o->root = optarg; break;
		case 'a': o->agent = optarg; break;
		case 'j': o->json = 1; break;
		case 'v': o->verbose++; break;
		case 't':
			o->timeout_s = atoi(optarg);
			if (o->timeout_s <= 0) {
				log_err("--timeout: expected a positive number of seconds, got '%s'",
					optarg);
				return -EINVAL;
			}
			break;
		case 'h': usage(stdout); exit(EXIT_OK);
		default: return -EINVAL;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Exit code for a finished run, Ansible's precedence: unreachable wins. */
static int
exit_code_for(const struct result *res, size_t n)
{
	int code = EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		if (res[i].status == RESULT_UNREACHABLE)
			return EXIT_UNREACHABLE;
		if (result_failed(&res[i]))
			code = EXIT_FAILED;
	}
	return code;
}

static void
print_results(const struct opts *o, const char *op, struct result *res, size_t n)
{
	bool color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

	if (o->json) {
		struct strbuf out = STRBUF_INIT;

		render_json(&out, op, res, n);
		fwrite(out.buf, 1, out.len, stdout);
		strbuf_release(&out);
		return;
	}
	render_table(stdout, res, n, color);
	if (o->verbose)
		render_findings(stdout, res, n, color);
	render_recap(stdout, res, n, color);
}

static int
cmd_facts_local(const struct opts *o)
{
	struct strbuf agent = STRBUF_INIT;
	struct proto_request req;
	struct result res;
	char host[256] = "localhost";
	int code;

	proto_request_init(&req, PROTO_OP_FACTS);
	if (local_agent_path(o->agent, &agent) < 0) {
		log_err("cannot find vfleet-agent (looked for %s); build it with "
			"`make` or pass --agent PATH", o->agent ? o->agent :
			"vfleet-agent next to vfleet and in " VFLEET_LIBEXECDIR);
		strbuf_release(&agent);
		return EXIT_ERROR;
	}
	if (o->root) {
		req.root = realpath(o->root, NULL);
		if (!req.root) {
			log_err("--root %s: %s", o->root, strerror(errno));
			strbuf_release(&agent);
			return EXIT_USAGE;
		}
	} else {
		gethostname(host, sizeof(host) - 1);
	}
	result_init(&res, o->root ? o->root : host);
	local_call(agent.buf, &req, o->timeout_s * 1000, &res);
	if (res.have_resp && res.resp.host.hostname && !o->root) {
		free(res.host);
		res.host = strdup(res.resp.host.hostname);
	}
	print_results(o, "facts", &res, 1);
	code = exit_code_for(&res, 1);
	result_release(&res);
	proto_request_release(&req);
	strbuf_release(&agent);
	return code;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *cmd;

	log_init("vfleet", LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("vfleet %s (protocol %d.%d)\n", VFLEET_VERSION,
		       PROTO_VERSION_MAJOR, PROTO_VERSION_MINOR);
		return EXIT_OK;
	}
	if (opts_parse(argc - 1, argv + 1, &o) < 0) {
		fprintf(stderr, "Try 'vfleet --help'.\n");
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "facts"))
		return cmd_facts_local(&o);
	log_err("unknown command '%s'", cmd);
	fprintf(stderr, "Try 'vfleet --help'.\n");
	return EXIT_USAGE;
}
