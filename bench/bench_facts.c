/* bench_facts: the agent's facts latency.
 *
 * Two figures per root: "in-process" times pci_discover + host_discover +
 * findings_evaluate + JSON encoding inside this process (the agent's own
 * work); "exec" times a whole `vfleet-agent facts --root R` run through the
 * command runner (what the controller pays locally, process start included).
 * Medians of many runs; no assertion, just numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "findings.h"
#include "host.h"
#include "pci.h"
#include "proto.h"
#include "run.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
bench_inprocess(const char *root, int runs)
{
	double *t = calloc((size_t)runs, sizeof(*t));
	size_t nfuncs = 0;
	double med;

	for (int i = 0; i < runs; i++) {
		struct proto_response resp;
		struct strbuf out = STRBUF_INIT;
		double t0 = now_ms();

		proto_response_init(&resp, PROTO_OP_FACTS);
		pci_discover(root, &resp);
		host_discover(root, &resp);
		findings_evaluate(root, &resp);
		proto_response_encode(&resp, false, &out);
		t[i] = now_ms() - t0;
		nfuncs = resp.nfuncs;
		strbuf_release(&out);
		proto_response_release(&resp);
	}
	med = median(t, runs);	/* sorts t: t[0] is the minimum after */
	printf("  in-process  %-40s %4zu functions  median %7.3f ms  (min %.3f, %d runs)\n",
	       root, nfuncs, med, t[0], runs);
	free(t);
}

static void
bench_exec(const char *agent, const char *root, int runs)
{
	double *t = calloc((size_t)runs, sizeof(*t));
	const char *argv[] = { agent, "facts", "--root", root, NULL };
	double med;

	for (int i = 0; i < runs; i++) {
		struct run_cmd cmd = RUN_CMD_INIT;
		double t0 = now_ms();

		cmd.argv = argv;
		run_command(&cmd);
		t[i] = now_ms() - t0;
		if (cmd.exit_code > 1)
			fprintf(stderr, "agent exited %d on %s\n", cmd.exit_code, root);
		run_cmd_release(&cmd);
	}
	med = median(t, runs);
	printf("  exec        %-40s                 median %7.3f ms  (min %.3f, %d runs)\n",
	       root, med, t[0], runs);
	free(t);
}

int
main(int argc, char **argv)
{
	int runs = 200;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_facts AGENT ROOT...\n");
		return 2;
	}
	if (getenv("BENCH_RUNS"))
		runs = atoi(getenv("BENCH_RUNS"));
	for (int i = 2; i < argc; i++) {
		bench_inprocess(argv[i], runs);
		bench_exec(argv[1], argv[i], runs);
	}
	return 0;
}
