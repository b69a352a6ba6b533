/* bench_facts: the agent's facts latency.
 *
 * Two figures per root: "in-process" times pci_discover + host_discover +
 * findings_evaluate + JSON encoding inside this process (the agent's own
 * work), with each step's median; "exec" times a whole
 * `vfleet-agent facts --root R` run through the command runner (what the
 * controller pays locally, process start included).
 *
 * Wall time on a shared machine mostly measures the other jobs, so each
 * figure also has its CPU time (user + system, the scan workers included):
 * that is the agent's own cost. With BENCH_BASELINE=/path/to/other-agent,
 * that agent's exec runs are interleaved with these (A, B, A, B, ...), so
 * load changes hit both alike: the way to compare two builds.
 *
 * Medians of many runs; no assertion, just numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "findings.h"
#include "host.h"
#include "pci.h"
#include "proto.h"
#include "run.h"

enum { STEP_HOST, STEP_PCI, STEP_FINDINGS, STEP_ENCODE, STEP__COUNT };

static const char *const step_names[STEP__COUNT] = {
	"host", "pci", "findings", "encode",
};

/* Wall and CPU times of many runs of one thing. */
struct samples {
	double *wall, *cpu;
	int n;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
tv_ms(const struct timeval *tv)
{
	return tv->tv_sec * 1e3 + tv->tv_usec / 1e3;
}

/* CPU of this process and of every child it waited for, in ms. */
static double
cpu_ms(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return tv_ms(&self.ru_utime) + tv_ms(&self.ru_stime) +
	       tv_ms(&kids.ru_utime) + tv_ms(&kids.ru_stime);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v: v[0] is the minimum after. */
static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
samples_init(struct samples *s, int runs)
{
	s->wall = calloc((size_t)runs, sizeof(*s->wall));
	s->cpu = calloc((size_t)runs, sizeof(*s->cpu));
	s->n = 0;
}

static void
samples_release(struct samples *s)
{
	free(s->wall);
	free(s->cpu);
}

static void
samples_print(const char *what, const char *label, struct samples *s)
{
	double wall = median(s->wall, s->n);
	double cpu = median(s->cpu, s->n);

	printf("  %-11s %-34s median %7.3f ms  (min %.3f)  cpu median %7.3f ms  (%d runs)\n",
	       what, label, wall, s->wall[0], cpu, s->n);
}

static void
bench_inprocess(const char *root, int runs)
{
	struct samples total, step[STEP__COUNT];
	size_t nfuncs = 0;

	samples_init(&total, runs);
	for (int k = 0; k < STEP__COUNT; k++)
		samples_init(&step[k], runs);
	for (int i = 0; i < runs; i++) {
		struct proto_response resp;
		struct strbuf out = STRBUF_INIT;
		double w[STEP__COUNT + 1], c[STEP__COUNT + 1];

		proto_response_init(&resp, PROTO_OP_FACTS);
		w[0] = now_ms();
		c[0] = cpu_ms();
		host_discover(root, &resp);
		w[1] = now_ms();
		c[1] = cpu_ms();
		pci_discover(root, &resp);
		w[2] = now_ms();
		c[2] = cpu_ms();
		findings_evaluate(root, &resp);
		w[3] = now_ms();
		c[3] = cpu_ms();
		proto_response_encode(&resp, false, &out);
		w[4] = now_ms();
		c[4] = cpu_ms();
		for (int k = 0; k < STEP__COUNT; k++) {
			step[k].wall[i] = w[k + 1] - w[k];
			step[k].cpu[i] = c[k + 1] - c[k];
		}
		total.wall[i] = w[STEP__COUNT] - w[0];
		total.cpu[i] = c[STEP__COUNT] - c[0];
		total.n = i + 1;
		nfuncs = resp.nfuncs;
		strbuf_release(&out);
		proto_response_release(&resp);
	}
	printf("  %s: %zu functions\n", root, nfuncs);
	samples_print("in-process", "total", &total);
	for (int k = 0; k < STEP__COUNT; k++) {
		step[k].n = total.n;
		samples_print("", step_names[k], &step[k]);
		samples_release(&step[k]);
	}
	samples_release(&total);
}

static void
exec_once(const char *agent, const char *root, struct samples *s)
{
	const char *argv[] = { agent, "facts", "--root", root, NULL };
	struct run_cmd cmd = RUN_CMD_INIT;
	double t0 = now_ms(), c0 = cpu_ms();

	cmd.argv = argv;
	run_command(&cmd);
	s->wall[s->n] = now_ms() - t0;
	s->cpu[s->n] = cpu_ms() - c0;
	s->n++;
	if (cmd.exit_code > 1)
		fprintf(stderr, "%s exited %d on %s\n", agent, cmd.exit_code, root);
	run_cmd_release(&cmd);
}

static void
bench_exec(const char *agent, const char *baseline, const char *root,
	   int runs)
{
	struct samples a, b;

	samples_init(&a, runs);
	samples_init(&b, runs);
	for (int i = 0; i < runs; i++) {
		exec_once(agent, root, &a);
		if (baseline)
			exec_once(baseline, root, &b);
	}
	samples_print("exec", "facts (this agent)", &a);
	if (baseline)
		samples_print("exec", "facts (BENCH_BASELINE)", &b);
	samples_release(&a);
	samples_release(&b);
}

int
main(int argc, char **argv)
{
	const char *baseline = getenv("BENCH_BASELINE");
	int runs = 200;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_facts AGENT ROOT...\n");
		return 2;
	}
	if (getenv("BENCH_RUNS"))
		runs = atoi(getenv("BENCH_RUNS"));
	if (runs < 1)
		runs = 1;
	if (baseline && !*baseline)
		baseline = NULL;
	for (int i = 2; i < argc; i++) {
		bench_inprocess(argv[i], runs);
		bench_exec(argv[1], baseline, argv[i], runs);
	}
	return 0;
}
