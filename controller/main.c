/* vfleet: the controller. Subcommands dispatch to per-operation runners. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fanout.h"
#include "fleet.h"
#include "inventory.h"
#include "inventory_json.h"
#include "batch.h"
#include "journal.h"
#include "jsonstr.h"
#include "local.h"
#include "policy.h"
#include "log.h"
#include "proto.h"
#include "push.h"
#include "render.h"
#include "result.h"
#include "rollout.h"
#include "ssh.h"
#include "xalloc.h"

/* Exit codes, as ansible-playbook's. */
enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,		/* bad inventory, internal error */
	EXIT_FAILED = 2,	/* one or more hosts failed */
	EXIT_UNREACHABLE = 4,	/* one or more hosts unreachable */
	EXIT_USAGE = 5,		/* bad or incomplete options */
};

#define MAX_INVENTORIES 64

struct opts {
	const char *inv[MAX_INVENTORIES];	/* -i, repeatable */
	size_t ninv;
	const char *limit;	/* -l */
	const char *root;	/* --root: local mode on a fixture tree */
	const char *agent;	/* --agent: agent binary to run */
	const char *known_hosts;	/* --known-hosts */
	const char *ssh_config;	/* -F */
	const char *host;	/* inventory --host */
	int accept_new;		/* --accept-new */
	int json;		/* --json: one document on stdout */
	int jsonl;		/* --jsonl: a line per host as it finishes */
	int list;		/* inventory --list */
	int forks;		/* -f */
	int timeout_s;		/* --timeout: per-host agent deadline */
	int connect_timeout_s;	/* --connect-timeout */
	int deadline_s;		/* --deadline: whole run */
	int verbose;		/* -v: findings below the table */
	int diff;		/* --diff: show file diffs */
	int check;		/* --check: plan only, change nothing */
	const char *run_id;	/* --run-id */
	const char *serial;	/* --serial */
	int max_fail;		/* --max-fail-percentage, -1 unset */
	int reboot_timeout_s;	/* --reboot-timeout */
	int stable_s;		/* --stable */
	int force;		/* --force: reboot with VMs running */
	int resume;		/* --resume */
	const char *state_dir;	/* --state-dir */
	struct policy_cli pol;	/* --select, --allow-* */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: vfleet <command> [options]\n"
"\n"
"commands:\n"
"  facts       inventory GPUs, IOMMU groups and VFIO readiness\n"
"              (no -i: this machine, or the tree given by --root)\n"
"  plan        what apply would change, touching nothing (--diff for diffs)\n"
"  apply       configure hosts for VFIO passthrough (--check: plan only)\n"
"  verify      after the reboot: check every selected GPU is on vfio-pci\n"
"  rollback    restore every file apply changed, byte for byte\n"
"  status      each host's phase from its state file\n"
"  inventory   show the resolved inventory (--list, --host NAME)\n"
"  version     print the version\n"
"\n"
"options:\n"
"  -i, --inventory SRC   Ansible inventory: INI, --list JSON, a script, or\n"
"                        \"h1,h2,\" (repeatable)\n"
"  -l, --limit PATTERN   hosts to act on (host, group, glob, a:b, a:&b, a:!b)\n"
"  -f, --forks N         hosts at once (default 50)\n"
"      --json            the whole run as one JSON document\n"
"      --jsonl           one JSON line per host as it finishes\n"
"  -v, --verbose         list findings with their evidence\n"
"      --known-hosts F   known_hosts file (default ~/.ssh/known_hosts)\n"
"      --accept-new      record unknown host keys (never changed ones)\n"
"  -F, --ssh-config F    ssh config file (default ~/.ssh/config)\n"
"      --connect-timeout S  per-host connect timeout (default 10)\n"
"      --timeout S       per-host agent deadline (default 120)\n"
"      --deadline S      whole-run deadline; hosts not started by then fail\n"
"      --agent PATH      agent binary (default: next to vfleet, then\n"
"                        %s)\n"
"      --root DIR        local mode: act on the host tree under DIR\n"
"      --diff            show the unified diff of every file change\n"
"      --check           apply: only say what would change\n"
"      --select SEL      devices: vendor, vendor:device or address (repeatable)\n"
"      --allow-unsafe-interrupts, --allow-group-not-viable,\n"
"      --allow-only-display, --allow-no-iommu, --allow-driver-in-use\n"
"                        override one preflight refusal (read PROTOCOL.md)\n"
"      --run-id ID       name of this run (default: a timestamp)\n"
"\n"
"rollout (apply and rollback with -i):\n"
"      --serial S        batch sizes: N, N%%, or a list \"1,25%%,100%%\" (last repeats)\n"
"      --max-fail-percentage P  stop when more than P%% of a batch failed\n"
"      --reboot-timeout S  wait this long for a host to come back (default 600);\n"
"                        a host that does not come back halts the rollout\n"
"      --stable S        a host must stay up this long after it returns (default 30)\n"
"      --force           reboot hosts even while virtual machines run\n"
"      --resume          continue the last interrupted or halted run of the same\n"
"                        operation (or the one named by --run-id)\n"
"      --state-dir D     run journals (default ~/.local/state/vfleet)\n"
"\n"
"exit status: 0 ok, 1 error, 2 a host failed, 4 a host unreachable,\n"
"5 bad options\n", VFLEET_LIBEXECDIR);
}

static int
opt_int(const char *name, const char *arg, int min, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < min || v > 1000000) {
		log_err("%s: expected a number >= %d, got '%s'", name, min, arg);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int
opts_parse(int argc, char **argv, struct opts *o)
{
	enum { O_ROOT = 256, O_AGENT, O_JSON, O_JSONL, O_TIMEOUT, O_CTIMEOUT,
	       O_DEADLINE, O_KNOWN, O_ACCEPT, O_LIST, O_HOST, O_DIFF, O_CHECK,
	       O_SELECT, O_RUNID, O_A_UNSAFE, O_A_GROUP, O_A_DISPLAY, O_A_IOMMU,
	       O_A_DRIVER, O_SERIAL, O_MAXFAIL, O_RTIMEOUT, O_STABLE, O_FORCE,
	       O_RESUME, O_STATEDIR };
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "limit", required_argument, NULL, 'l' },
		{ "forks", required_argument, NULL, 'f' },
		{ "ssh-config", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "root", required_argument, NULL, O_ROOT },
		{ "agent", required_argument, NULL, O_AGENT },
		{ "json", no_argument, NULL, O_JSON },
		{ "jsonl", no_argument, NULL, O_JSONL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "connect-timeout", required_argument, NULL, O_CTIMEOUT },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "known-hosts", required_argument, NULL, O_KNOWN },
		{ "accept-new", no_argument, NULL, O_ACCEPT },
		{ "list", no_argument, NULL, O_LIST },
		{ "host", required_argument, NULL, O_HOST },
		{ "diff", no_argument, NULL, O_DIFF },
		{ "check", no_argument, NULL, O_CHECK },
		{ "select", required_argument, NULL, O_SELECT },
		{ "run-id", required_argument, NULL, O_RUNID },
		{ "allow-unsafe-interrupts", no_argument, NULL, O_A_UNSAFE },
		{ "allow-group-not-viable", no_argument, NULL, O_A_GROUP },
		{ "allow-only-display", no_argument, NULL, O_A_DISPLAY },
		{ "allow-no-iommu", no_argument, NULL, O_A_IOMMU },
		{ "allow-driver-in-use", no_argument, NULL, O_A_DRIVER },
		{ "serial", required_argument, NULL, O_SERIAL },
		{ "max-fail-percentage", required_argument, NULL, O_MAXFAIL },
		{ "reboot-timeout", required_argument, NULL, O_RTIMEOUT },
		{ "stable", required_argument, NULL, O_STABLE },
		{ "force", no_argument, NULL, O_FORCE },
		{ "resume", no_argument, NULL, O_RESUME },
		{ "state-dir", required_argument, NULL, O_STATEDIR },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	o->timeout_s = 120;
	o->connect_timeout_s = 10;
	o->forks = 50;
	o->max_fail = -1;
	o->reboot_timeout_s = 600;
	o->stable_s = 30;
	while (r == 0 && (c = getopt_long(argc, argv, "i:l:f:F:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o->ninv == MAX_INVENTORIES) {
				log_err("-i: at most %d inventories", MAX_INVENTORIES);
				return -EINVAL;
			}
			o->inv[o->ninv++] = optarg;
			break;
		case 'l': o->limit = optarg; break;
		case 'f': r = opt_int("--forks", optarg, 1, &o->forks); break;
		case 'F': o->ssh_config = optarg; break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case O_ROOT: o->root = optarg; break;
		case O_AGENT: o->agent = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_JSONL: o->jsonl = 1; break;
		case O_TIMEOUT: r = opt_int("--timeout", optarg, 1, &o->timeout_s); break;
		case O_CTIMEOUT:
			r = opt_int("--connect-timeout", optarg, 1, &o->connect_timeout_s);
			break;
		case O_DEADLINE: r = opt_int("--deadline", optarg, 1, &o->deadline_s); break;
		case O_KNOWN: o->known_hosts = optarg; break;
		case O_ACCEPT: o->accept_new = 1; break;
		case O_LIST: o->list = 1; break;
		case O_HOST: o->host = optarg; break;
		case O_DIFF: o->diff = 1; break;
		case O_CHECK: o->check = 1; break;
		case O_RUNID: o->run_id = optarg; break;
		case O_SELECT:
			if (o->pol.nselect == 64) {
				log_err("--select: at most 64");
				return -EINVAL;
			}
			o->pol.select[o->pol.nselect++] = optarg;
			break;
		case O_A_UNSAFE: o->pol.allow_unsafe_interrupts = 1; break;
		case O_A_GROUP: o->pol.allow_group_not_viable = 1; break;
		case O_A_DISPLAY: o->pol.allow_only_display = 1; break;
		case O_A_IOMMU: o->pol.allow_no_iommu = 1; break;
		case O_A_DRIVER: o->pol.allow_driver_in_use = 1; break;
		case O_SERIAL: o->serial = optarg; break;
		case O_MAXFAIL: {
			struct strbuf e = STRBUF_INIT;

			r = batch_parse_max_fail(optarg, &o->max_fail, &e);
			if (r < 0)
				log_err("%s", e.buf);
			strbuf_release(&e);
			break;
		}
		case O_RTIMEOUT:
			r = opt_int("--reboot-timeout", optarg, 1, &o->reboot_timeout_s);
			break;
		case O_STABLE: r = opt_int("--stable", optarg, 0, &o->stable_s); break;
		case O_FORCE: o->force = 1; break;
		case O_RESUME: o->resume = 1; break;
		case O_STATEDIR: o->state_dir = optarg; break;
		default: return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->json && o->jsonl) {
		log_err("--json and --jsonl exclude each other");
		return -EINVAL;
	}
	if (o->root && o->ninv) {
		log_err("--root is for local mode; with -i, set vfleet_root per host");
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
print_results_ex(const struct opts *o, const char *op, struct result *res,
		 size_t n, const char *extra)
{
	bool color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

	if (o->jsonl)
		return;		/* already streamed */
	if (o->json) {
		struct strbuf out = STRBUF_INIT;

		render_json(&out, op, res, n, extra);
		fwrite(out.buf, 1, out.len, stdout);
		strbuf_release(&out);
		return;
	}
	if (!strcmp(op, "plan") || !strcmp(op, "apply") || !strcmp(op, "rollback"))
		render_changes(stdout, res, n, o->diff || !strcmp(op, "plan"), color);
	else
		render_table(stdout, res, n, color);
	if (o->verbose)
		render_findings(stdout, res, n, color);
	render_recap(stdout, res, n, color);
}

static void
print_results(const struct opts *o, const char *op, struct result *res, size_t n)
{
	print_results_ex(o, op, res, n, NULL);
}

static int
find_agent(const struct opts *o, struct strbuf *agent)
{
	if (local_agent_path(o->agent, agent) == 0)
		return 0;
	log_err("cannot find vfleet-agent (looked for %s); build it with `make` "
		"or pass --agent PATH", o->agent ? o->agent :
		"vfleet-agent next to vfleet and in " VFLEET_LIBEXECDIR);
	return -ENOENT;
}

/* A run id: UTC time plus a few random bits, safe as a directory name. */
static void
make_run_id(struct strbuf *out)
{
	struct timespec ts;
	struct tm tm;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
	strbuf_addf(out, "%s-%04lx", buf, (unsigned long)(ts.tv_nsec ^ getpid()) & 0xffff);
}

static bool
op_changes(enum proto_op op)
{
	return op == PROTO_OP_APPLY || op == PROTO_OP_ROLLBACK;
}

static int
cmd_local(const struct opts *o, enum proto_op op)
{
	struct strbuf agent = STRBUF_INIT, err = STRBUF_INIT, id = STRBUF_INIT;
	struct proto_request req;
	struct result res;
	char host[256] = "localhost";
	int code = EXIT_ERROR;

	proto_request_init(&req, op);
	result_init(&res, "localhost");
	if (find_agent(o, &agent) < 0)
		goto out;
	if (o->root) {
		req.root = realpath(o->root, NULL);
		if (!req.root) {
			log_err("--root %s: %s", o->root, strerror(errno));
			code = EXIT_USAGE;
			goto out;
		}
	} else {
		gethostname(host, sizeof(host) - 1);
	}
	if (policy_fill(&req.policy, NULL, host, &o->pol, &err) < 0) {
		log_err("%s", err.buf);
		code = EXIT_USAGE;
		goto out;
	}
	if (op == PROTO_OP_APPLY || (op == PROTO_OP_ROLLBACK && o->run_id)) {
		if (o->run_id)
			strbuf_addstr(&id, o->run_id);
		else
			make_run_id(&id);
		req.run_id = xstrdup(id.buf);
	}
	free(res.host);
	res.host = xstrdup(o->root ? o->root : host);
	local_call(agent.buf, &req, o->timeout_s * 1000, &res);
	if (res.have_resp && res.resp.host.hostname && !o->root) {
		free(res.host);
		res.host = xstrdup(res.resp.host.hostname);
	}
	print_results(o, proto_op_name(op), &res, 1);
	code = exit_code_for(&res, 1);
out:
	result_release(&res);
	proto_request_release(&req);
	strbuf_release(&agent);
	strbuf_release(&err);
	strbuf_release(&id);
	return code;
}

static void
on_done_jsonl(const struct result *r, void *ctx)
{
	struct strbuf line = STRBUF_INIT;

	render_jsonl(&line, r);
	fwrite(line.buf, 1, line.len, stdout);
	fflush(stdout);
	strbuf_release(&line);
}

/* --resume: the run to continue and the hosts it already finished. The
 * run must be of the same operation: resuming a rollback from an apply's
 * journal would skip the hosts the apply finished. */
static int
resume_prepare(const struct opts *o, enum proto_op op, const char *state_dir,
	       struct strbuf *run_id, char ***skip, size_t *nskip)
{
	const char *want = proto_op_name(op);
	struct strbuf got = STRBUF_INIT;
	int r = -ENOENT;

	strbuf_reset(run_id);
	if (o->run_id)
		strbuf_addstr(run_id, o->run_id);
	else if (journal_latest(state_dir, want, run_id) < 0) {
		log_err("--resume: no %s run journal under %s/runs", want, state_dir);
		goto out;
	}
	if (journal_run_op(state_dir, run_id->buf, &got) < 0 ||
	    journal_done_hosts(state_dir, run_id->buf, skip, nskip) < 0) {
		log_err("--resume: cannot read the journal of run %s under %s/runs",
			run_id->buf, state_dir);
		goto out;
	}
	if (strcmp(got.buf, want)) {
		log_err("--resume: run %s was %s %s run, not %s %s run", run_id->buf,
			got.buf[0] == 'a' ? "an" : "a", got.buf,
			want[0] == 'a' ? "an" : "a", want);
		goto out;
	}
	fprintf(stderr, "vfleet: resuming run %s (%zu host%s already finished)\n",
		run_id->buf, *nskip, *nskip == 1 ? "" : "s");
	r = 0;
out:
	strbuf_release(&got);
	return r;
}

static void
rollout_extra(struct strbuf *out, const struct rollout_summary *sum,
	      const char *run_id)
{
	strbuf_addstr(out, "\"rollout\":{\"run_id\":");
	jsonstr_quote(out, run_id);
	strbuf_addf(out, ",\"batches\":%zu,\"batches_run\":%zu,\"halted\":%s,"
		    "\"halt_reason\":", sum->nbatches, sum->batches_run,
		    sum->halted ? "true" : "false");
	jsonstr_quote(out, sum->halted ? sum->halt_reason : NULL);
	strbuf_addf(out, ",\"step_ms\":{\"change\":%.0f,\"reboot\":%.0f,"
		    "\"wait\":%.0f,\"verify\":%.0f}", sum->step_ms[0],
		    sum->step_ms[1], sum->step_ms[2], sum->step_ms[3]);
	strbuf_addch(out, '}');
}

static int
cmd_fleet(const struct opts *o, enum proto_op op)
{
	bool staged = op == PROTO_OP_APPLY || op == PROTO_OP_ROLLBACK ||
		      (op == PROTO_OP_PLAN && o->check);
	struct fleet_conf conf = {
		.inventories = o->inv, .ninventories = o->ninv, .limit = o->limit,
		.known_hosts = o->known_hosts, .ssh_config = o->ssh_config,
		.accept_new = o->accept_new, .connect_timeout_s = o->connect_timeout_s,
		.op = op, .cli = &o->pol,
	};
	struct fanout_opts fo = {
		.forks = o->forks, .timeout_ms = o->timeout_s * 1000,
		.deadline_ms = o->deadline_s * 1000,
		.progress = isatty(STDERR_FILENO) && !o->json && !o->jsonl && !staged,
		.label = proto_op_name(op),
		.on_done = o->jsonl ? on_done_jsonl : NULL,
	};
	struct strbuf err = STRBUF_INIT, agent_path = STRBUF_INIT;
	struct strbuf run_id = STRBUF_INIT, state_dir = STRBUF_INIT, extra = STRBUF_INIT;
	struct push_agent agent = { 0 };
	struct rollout_summary sum = { 0 };
	struct journal *journal = NULL;
	struct result *res = NULL;
	char **skip = NULL;
	size_t nskip = 0;
	struct fleet f = { 0 };
	int code = EXIT_ERROR, r;

	if (o->state_dir)
		strbuf_addstr(&state_dir, o->state_dir);
	else
		journal_default_dir(&state_dir);
	if (o->resume) {
		if (!staged || op == PROTO_OP_PLAN) {
			log_err("--resume continues an apply or rollback run");
			code = EXIT_USAGE;
			goto out;
		}
		if (resume_prepare(o, op, state_dir.buf, &run_id, &skip, &nskip) < 0)
			goto out;
	} else if (op_changes(op)) {
		if (o->run_id)
			strbuf_addstr(&run_id, o->run_id);
		else
			make_run_id(&run_id);
	}
	/* apply names its run; rollback sends an id only when told which run
	 * to undo (--run-id), else the agent undoes everything it recorded.
	 * The journal is named after run_id either way. */
	if (run_id.len && (op == PROTO_OP_APPLY || o->run_id))
		conf.run_id = run_id.buf;
	r = fleet_load(&f, &conf, &err);
	if (r < 0) {
		log_err("%s", err.buf);
		goto out;
	}
	if (find_agent(o, &agent_path) < 0)
		goto out;
	r = push_agent_load(&agent, agent_path.buf);
	if (r < 0) {
		log_err("cannot read %s: %s", agent_path.buf, strerror(-r));
		goto out;
	}
	fo.agent = &agent;
	res = xcalloc(f.njobs ? f.njobs : 1, sizeof(*res));
	if (ssh_global_init() < 0) {
		log_err("cannot initialise libssh");
		goto out;
	}
	if (staged) {
		struct rollout_opts ro = {
			.op = op, .serial = o->serial, .max_fail_pct = o->max_fail,
			.reboot_timeout_s = o->reboot_timeout_s, .stable_s = o->stable_s,
			.poll_ms = 1000, .force = o->force, .skip = skip, .nskip = nskip,
			.log = o->json || o->jsonl ? NULL : stdout,
		};
		const char *poll = getenv("VFLEET_POLL_MS");	/* tests: poll faster */

		if (poll && *poll && opt_int("VFLEET_POLL_MS", poll, 1, &ro.poll_ms) < 0) {
			code = EXIT_USAGE;
			goto out;
		}
		if (op != PROTO_OP_PLAN) {
			journal = journal_open(state_dir.buf, run_id.buf, &err);
			if (!journal) {
				log_err("%s", err.buf);
				goto out;
			}
		}
		ro.journal = journal;
		if (rollout_run(&f, &fo, &ro, res, &sum, &err) < 0) {
			log_err("%s", err.buf);
			code = EXIT_USAGE;
			goto out;
		}
		rollout_extra(&extra, &sum, run_id.len ? run_id.buf : NULL);
	} else if (fanout_run(f.jobs, f.njobs, &fo, res) < 0) {
		log_err("cannot start the ssh workers");
		goto out;
	}
	print_results_ex(o, proto_op_name(op), res, f.njobs, extra.len ? extra.buf : NULL);
	if (sum.halted && !o->json && !o->jsonl)
		printf("\nHALTED: %s\nFix the cause, then continue with: vfleet %s --resume%s%s\n",
		       sum.halt_reason, proto_op_name(op), run_id.len ? " --run-id " : "",
		       run_id.len ? run_id.buf : "");
	code = exit_code_for(res, f.njobs);
out:
	for (size_t i = 0; res && i < f.njobs; i++)
		result_release(&res[i]);
	free(res);
	fleet_release(&f);
	push_agent_release(&agent);
	journal_close(journal);
	proto_strv_free(skip, nskip);
	strbuf_release(&err);
	strbuf_release(&agent_path);
	strbuf_release(&run_id);
	strbuf_release(&state_dir);
	strbuf_release(&extra);
	return code;
}

static int
cmd_inventory(const struct opts *o)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct inv *inv = inv_new();
	int code = EXIT_ERROR;

	if (!o->ninv || (!o->list && !o->host)) {
		log_err("inventory: expected -i SRC and --list or --host NAME");
		code = EXIT_USAGE;
		goto out;
	}
	if (inv_load(inv, o->inv, o->ninv, &err) < 0) {
		log_err("%s", err.buf);
		goto out;
	}
	if (o->host) {
		const struct inv_host *h = inv_host_find(inv, o->host);

		if (!h) {
			log_err("inventory: no host named '%s'", o->host);
			goto out;
		}
		inv_host_json(inv, h, &out);
	} else {
		inv_list_json(inv, &out);
	}
	fwrite(out.buf, 1, out.len, stdout);
	if (out.len && out.buf[out.len - 1] != '\n')
		putchar('\n');
	code = EXIT_OK;
out:
	inv_free(inv);
	strbuf_release(&err);
	strbuf_release(&out);
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
	if (!strcmp(cmd, "inventory"))
		return cmd_inventory(&o);
	for (int op = 0; op < PROTO_OP__COUNT; op++) {
		if (op == PROTO_OP_REBOOT || strcmp(cmd, proto_op_name(op)))
			continue;
		if (op == PROTO_OP_APPLY && o.check)
			op = PROTO_OP_PLAN;	/* Ansible's --check */
		return o.ninv ? cmd_fleet(&o, op) : cmd_local(&o, op);
	}
	log_err("unknown command '%s'", cmd);
	fprintf(stderr, "Try 'vfleet --help'.\n");
	return EXIT_USAGE;
}
