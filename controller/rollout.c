#include "rollout.h"
#include "batch.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What the run knows of a host between steps. */
struct rhost {
	bool active;		/* in the current batch, still going */
	bool reboot;		/* needs a reboot this run */
	bool verify;		/* needs verify (after its reboot) */
	char *old_boot_id;	/* boot_id before the reboot */
};

struct rollout {
	struct fleet *f;
	const struct fanout_opts *base;
	const struct rollout_opts *ro;
	struct result *res;
	struct rhost *h;
	int batch;		/* 1-based, for the journal */
	double step_ms[4];	/* wall per step kind, summed over batches */
	bool halt;		/* a host did not come back: stop, don't advance */
	char halt_reason[512];
};

static long long
rollout_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
rollout_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
rollout_sleep_until(long long t)
{
	long long now = rollout_now_ms();

	if (t > now)
		rollout_sleep_ms((int)(t - now));
}

static void
rollout_log(const struct rollout *ro, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
rollout_log(const struct rollout *ro, const char *fmt, ...)
{
	va_list ap;

	if (!ro->ro->log)
		return;
	va_start(ap, fmt);
	vfprintf(ro->ro->log, fmt, ap);
	va_end(ap);
	fflush(ro->ro->log);
}

static const char *
rollout_opname(const struct rollout *ro)
{
	return proto_op_name(ro->ro->op);
}

static void
rollout_journal(struct rollout *ro, size_t i, const char *step,
		const char *outcome, const char *detail)
{
	journal_event(ro->ro->journal, rollout_opname(ro), ro->batch,
		      ro->f->jobs[i].target.name, step, outcome, detail);
}

/* ---- waiting for a reboot ------------------------------------------------- */

struct rollout_wait {
	const struct rollout *ro;
	const struct fanout_job *jobs;	/* the step's job array */
	const size_t *index;		/* step job -> host index */
};

/* One status probe; returns the boot_id (owned) or NULL when unreachable. */
static char *
rollout_probe(const struct fanout_job *job, const struct push_agent *agent,
	      int timeout_ms, struct strbuf *why)
{
	struct fanout_job probe = *job;
	struct result r;
	char *boot_id = NULL;

	probe.req.op = PROTO_OP_STATUS;
	/* A rebooting host refuses or hangs: don't let one probe eat the wait. */
	if (probe.target.connect_timeout_s <= 0 || probe.target.connect_timeout_s > 5)
		probe.target.connect_timeout_s = 5;
	result_init(&r, job->target.name);
	fanout_agent_work(&probe, &r, timeout_ms, (void *)agent);
	if (r.status == RESULT_OK && r.have_resp && r.resp.host.boot_id)
		boot_id = xstrdup(r.resp.host.boot_id);
	else if (why) {
		strbuf_reset(why);
		strbuf_addstr(why, r.error ? r.error : "no boot_id in the answer");
	}
	result_release(&r);
	return boot_id;
}

/*
 * The pause before the next probe for a host that is not back yet. The
 * answer to the reboot request came just now, and the agent reboots half
 * a second later: the first look is after half an interval. While the old
 * boot still answers (a shutdown can take a while, and each such probe is
 * a whole session) the pause doubles up to poll_ms. Once the host is down
 * it may be back any moment, and a refused connection costs next to
 * nothing: a quarter of poll_ms, so noticing it is back takes that long
 * instead of up to a whole interval.
 */
static int
rollout_next_pause(const struct rollout_opts *o, int pause, bool answered)
{
	int fast = o->poll_ms / 4 > 0 ? o->poll_ms / 4 : 1;

	if (pause <= 0)
		return o->poll_ms / 2 > 0 ? o->poll_ms / 2 : 1;
	if (!answered)
		return fast;
	return pause * 2 < o->poll_ms ? pause * 2 : o->poll_ms;
}

static void
rollout_wait_work(const struct fanout_job *job, struct result *r,
		  int timeout_ms, void *ctx)
{
	const struct rollout_wait *w = ctx;
	const struct rollout_opts *o = w->ro->ro;
	size_t i = w->index[job - w->jobs];
	const char *old = w->ro->h[i].old_boot_id;
	long long t0 = rollout_now_ms(), deadline = t0 + o->reboot_timeout_s * 1000LL;
	long long back = 0, end;
	char *now_id = NULL;
	struct strbuf why = STRBUF_INIT;
	int pause = rollout_next_pause(o, 0, false);

	/* Phase 1: down and up again, i.e. a different boot_id answers. */
	for (;;) {
		rollout_sleep_ms(pause);
		free(now_id);
		now_id = rollout_probe(job, w->ro->base->agent, 30000, NULL);
		if (now_id && (!old || strcmp(now_id, old) != 0)) {
			back = rollout_now_ms();
			break;
		}
		if (rollout_now_ms() >= deadline) {
			result_fail(r, RESULT_FAILED, "did not come back within %d s "
				    "(reboot timeout; the rollout halts here)",
				    o->reboot_timeout_s);
			goto out;
		}
		pause = rollout_next_pause(o, pause, now_id != NULL);
	}
	/* Phase 2: the stability window Ansible's reboot lacks. A host that
	 * just started sshd may drop one connection; two failed probes in a
	 * row (or another boot_id) mean it went down again. Probes come
	 * poll_ms apart, the last one when the window ends: not up to an
	 * interval after it. */
	end = back + o->stable_s * 1000LL;
	while (rollout_now_ms() < end) {
		long long next = rollout_now_ms() + o->poll_ms;
		char *id;

		rollout_sleep_until(next < end ? next : end);
		id = rollout_probe(job, w->ro->base->agent, 30000, &why);
		if (!id) {
			rollout_sleep_ms(o->poll_ms);
			id = rollout_probe(job, w->ro->base->agent, 30000, &why);
		}
		if (!id || strcmp(id, now_id) != 0) {
			result_fail(r, RESULT_FAILED, "came back, then %s %.1f s later, "
				    "inside the %d s stability window%s%s",
				    id ? "rebooted again" : "went down again",
				    (rollout_now_ms() - back) / 1000.0, o->stable_s,
				    id ? "" : ": ", id ? "" : why.buf);
			free(id);
			goto out;
		}
		free(id);
	}
	r->status = RESULT_OK;
out:
	free(now_id);
	strbuf_release(&why);
}

/* ---- steps ------------------------------------------------------------------ */

/*
 * Run one step (op, or a custom work) on the active hosts of the batch that
 * `want` selects; fill step results into tmp (indexed like idx). Returns
 * the number of hosts run.
 */
static size_t
rollout_step(struct rollout *ro, const size_t *batch, size_t nbatch,
	     bool (*want)(const struct rhost *), enum proto_op op,
	     bool wait, struct result **out, size_t **out_idx)
{
	struct fanout_job *jobs = xcalloc(nbatch ? nbatch : 1, sizeof(*jobs));
	size_t *idx = xcalloc(nbatch ? nbatch : 1, sizeof(*idx));
	struct result *tmp;
	struct fanout_opts fo = *ro->base;
	struct rollout_wait w = { .ro = ro, .jobs = jobs, .index = idx };
	size_t n = 0;

	for (size_t k = 0; k < nbatch; k++) {
		size_t i = batch[k];

		if (!ro->h[i].active || !want(&ro->h[i]))
			continue;
		jobs[n] = ro->f->jobs[i];	/* shallow: borrowed strings */
		jobs[n].req.op = op;
		idx[n++] = i;
	}
	tmp = xcalloc(n ? n : 1, sizeof(*tmp));
	fo.on_done = NULL;
	fo.progress = false;
	if (wait) {
		fo.work = rollout_wait_work;
		fo.ctx = &w;
		/* every rebooting host waits at once: never serialise waits */
		fo.forks = (int)(n ? n : 1);
	}
	fanout_run(jobs, n, &fo, tmp);
	free(jobs);
	*out = tmp;
	*out_idx = idx;
	return n;
}

static bool want_all(const struct rhost *h) { (void)h; return true; }
static bool want_reboot(const struct rhost *h) { return h->reboot; }
static bool want_verify(const struct rhost *h) { return h->verify; }

/* Move a step result into the host's final result (it becomes the answer
 * shown), keeping the apply answer when the step has none. */
static void
rollout_take(struct result *dst, struct result *src, bool keep_resp)
{
	if (keep_resp && dst->have_resp) {
		dst->status = src->status;
		if (src->have_resp && !src->resp.ok)
			dst->status = RESULT_FAILED;	/* e.g. verify failed */
		free(dst->error);
		dst->error = src->error;
		src->error = NULL;
		dst->elapsed_ms += src->elapsed_ms;
		dst->agent_bytes += src->agent_bytes;
		result_release(src);
		return;
	}
	result_release(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

/* The step's outcome word; only the change step itself says "changed". */
static const char *
rollout_outcome(const struct result *r, bool change_step)
{
	if (r->status == RESULT_UNREACHABLE)
		return "unreachable";
	if (result_failed(r))
		return "failed";
	return change_step && r->have_resp && r->resp.changed ? "changed" : "ok";
}

static bool
rollout_has_finding(const struct proto_response *resp, const char *code)
{
	for (size_t k = 0; k < resp->nfindings; k++)
		if (resp->findings[k].code && !strcmp(resp->findings[k].code, code))
			return true;
	return false;
}

/* After apply/rollback: decide each host's next steps. */
static void
rollout_after_change(struct rollout *ro, size_t i)
{
	struct rhost *h = &ro->h[i];
	struct result *r = &ro->res[i];
	const struct proto_response *resp = &r->resp;
	const struct proto_state *st = resp->state;
	const char *boot = resp->host.boot_id;
	bool pending = st && st->phase && !strcmp(st->phase, "applied-pending-reboot");

	if (result_failed(r) || r->status == RESULT_UNREACHABLE) {
		h->active = false;
		return;
	}
	if (ro->ro->op == PROTO_OP_PLAN) {
		h->active = false;
		rollout_journal(ro, i, "done", "checked", NULL);
		return;
	}
	if (ro->ro->op == PROTO_OP_APPLY && pending && st->boot_id && boot &&
	    strcmp(st->boot_id, boot) != 0) {
		/* Rebooted since apply (an earlier, interrupted run): verify. */
		h->verify = true;
		return;
	}
	h->reboot = resp->changed || (ro->ro->op == PROTO_OP_APPLY && pending);
	h->verify = h->reboot && ro->ro->op == PROTO_OP_APPLY;
	if (!h->reboot) {
		h->active = false;
		rollout_journal(ro, i, "done", "no-change", NULL);
		return;
	}
	free(h->old_boot_id);
	h->old_boot_id = boot ? xstrdup(boot) : NULL;
	if (!ro->ro->force && rollout_has_finding(resp, "vms-running")) {
		result_fail(r, RESULT_FAILED, "virtual machines are running: not "
			    "rebooted (stop them, or use --force / vfleet_allow_reboot_with_vms)");
		h->active = false;
		h->reboot = h->verify = false;
		rollout_journal(ro, i, "reboot", "blocked", r->error);
	}
}

/* Count the batch's failed and unreachable hosts (final results). */
static void
rollout_count(const struct rollout *ro, const size_t *batch, size_t nbatch,
	      size_t *failed, size_t *unreach)
{
	*failed = *unreach = 0;
	for (size_t k = 0; k < nbatch; k++) {
		const struct result *r = &ro->res[batch[k]];

		if (r->status == RESULT_UNREACHABLE)
			(*unreach)++;
		else if (result_failed(r))
			(*failed)++;
	}
}

static bool
rollout_check_stop(struct rollout *ro, const size_t *batch, size_t nbatch,
		   const char *step)
{
	size_t failed, unreach;

	if (ro->halt)
		return true;
	rollout_count(ro, batch, nbatch, &failed, &unreach);
	if (!batch_should_stop(nbatch, failed, unreach, ro->ro->max_fail_pct, false))
		return false;
	snprintf(ro->halt_reason, sizeof(ro->halt_reason),
		 "batch %d: %zu failed and %zu unreachable of %zu after %s%s",
		 ro->batch, failed, unreach, nbatch, step,
		 failed + unreach >= nbatch ? " (the whole batch)" :
		 " (over --max-fail-percentage)");
	return true;
}

/* Apply the step's results to the hosts; log a line per host. */
static void
rollout_merge(struct rollout *ro, const char *step, struct result *tmp,
	      const size_t *idx, size_t n, bool keep_resp)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		const char *outcome;

		rollout_take(&ro->res[i], &tmp[k], keep_resp);
		outcome = rollout_outcome(&ro->res[i], !keep_resp);
		rollout_journal(ro, i, step, outcome, ro->res[i].error);
		rollout_log(ro, "  %-8s %-24s %s%s%s\n", step, ro->res[i].host, outcome,
			    ro->res[i].error ? ": " : "",
			    ro->res[i].error ? ro->res[i].error : "");
		if (result_failed(&ro->res[i]))
			ro->h[i].active = false;
	}
}

static void
rollout_batch(struct rollout *ro, const size_t *batch, size_t nbatch)
{
	struct result *tmp;
	size_t *idx, n;
	long long t;

	for (size_t k = 0; k < nbatch; k++)
		ro->h[batch[k]].active = true;
	/* 1. apply (or rollback, or plan): the agent's preflight decides */
	t = rollout_now_ms();
	n = rollout_step(ro, batch, nbatch, want_all, ro->ro->op, false, &tmp, &idx);
	ro->step_ms[0] += rollout_now_ms() - t;
	rollout_merge(ro, rollout_opname(ro), tmp, idx, n, false);
	for (size_t k = 0; k < n; k++)
		rollout_after_change(ro, idx[k]);
	free(tmp);
	free(idx);
	if (rollout_check_stop(ro, batch, nbatch, rollout_opname(ro)))
		return;
	/* 2. reboot those that need it; the agent answers, then reboots */
	t = rollout_now_ms();
	n = rollout_step(ro, batch, nbatch, want_reboot, PROTO_OP_REBOOT, false, &tmp, &idx);
	ro->step_ms[1] += rollout_now_ms() - t;
	for (size_t k = 0; k < n; k++) {
		/* the reboot answer names the boot being replaced */
		const char *id = tmp[k].have_resp ? tmp[k].resp.host.boot_id : NULL;

		if (id) {
			free(ro->h[idx[k]].old_boot_id);
			ro->h[idx[k]].old_boot_id = xstrdup(id);
		}
	}
	rollout_merge(ro, "reboot", tmp, idx, n, true);
	free(tmp);
	free(idx);
	/* 3. wait for each to go down, come back and stay up */
	t = rollout_now_ms();
	n = rollout_step(ro, batch, nbatch, want_reboot, PROTO_OP_STATUS, true, &tmp, &idx);
	ro->step_ms[2] += rollout_now_ms() - t;
	for (size_t k = 0; k < n; k++)
		if (result_failed(&tmp[k]) && !ro->halt) {
			ro->halt = true;	/* never auto-advance after a timeout */
			snprintf(ro->halt_reason, sizeof(ro->halt_reason),
				 "batch %d: %s did not come back cleanly: %s", ro->batch,
				 tmp[k].host, tmp[k].error ? tmp[k].error : "?");
		}
	rollout_merge(ro, "wait", tmp, idx, n, true);
	free(tmp);
	free(idx);
	if (rollout_check_stop(ro, batch, nbatch, "reboot"))
		return;
	/* 4. verify, after apply */
	t = rollout_now_ms();
	n = rollout_step(ro, batch, nbatch, want_verify, PROTO_OP_VERIFY, false, &tmp, &idx);
	ro->step_ms[3] += rollout_now_ms() - t;
	rollout_merge(ro, "verify", tmp, idx, n, true);
	free(tmp);
	free(idx);
	for (size_t k = 0; k < nbatch; k++) {
		size_t i = batch[k];

		if (ro->h[i].active && !result_failed(&ro->res[i])) {
			rollout_journal(ro, i, "done", ro->ro->op == PROTO_OP_APPLY ?
					"verified" : "rebooted", NULL);
			ro->h[i].active = false;
		}
	}
	rollout_check_stop(ro, batch, nbatch, "verify");
}

static bool
rollout_skipped(const struct rollout_opts *o, const char *host)
{
	for (size_t s = 0; s < o->nskip; s++)
		if (!strcmp(o->skip[s], host))
			return true;
	return false;
}

int
rollout_run(struct fleet *f, const struct fanout_opts *base,
	    const struct rollout_opts *o, struct result *res,
	    struct rollout_summary *sum, struct strbuf *err)
{
	struct rollout ro = { .f = f, .base = base, .ro = o, .res = res };
	struct batch_plan plan = { 0 };
	size_t *todo = xcalloc(f->njobs ? f->njobs : 1, sizeof(*todo));
	size_t ntodo = 0, start = 0, b;
	int r;

	memset(sum, 0, sizeof(*sum));
	ro.h = xcalloc(f->njobs ? f->njobs : 1, sizeof(*ro.h));
	for (size_t i = 0; i < f->njobs; i++) {
		result_init(&res[i], f->jobs[i].target.name);
		if (rollout_skipped(o, f->jobs[i].target.name)) {
			res[i].status = RESULT_OK;
			result_fail(&res[i], RESULT_OK, "finished in the resumed run");
			continue;
		}
		res[i].status = RESULT_SKIPPED;
		todo[ntodo++] = i;
	}
	r = batch_plan_make(o->serial, ntodo, &plan, err);
	if (r < 0)
		goto out;
	sum->nbatches = plan.n;
	for (b = 0; b < plan.n; b++) {
		ro.batch = (int)b + 1;
		rollout_log(&ro, "\nBATCH %zu/%zu [%zu host%s] %s\n", b + 1, plan.n,
			    plan.size[b], plan.size[b] == 1 ? "" : "s",
			    "*****************************************************");
		rollout_batch(&ro, todo + start, plan.size[b]);
		start += plan.size[b];
		sum->batches_run++;
		if (ro.halt || ro.halt_reason[0])
			break;
	}
	if (start < ntodo) {
		sum->halted = true;
		snprintf(sum->halt_reason, sizeof(sum->halt_reason), "%s", ro.halt_reason);
		for (size_t k = start; k < ntodo; k++) {
			result_fail(&res[todo[k]], RESULT_SKIPPED, "not started: %s",
				    ro.halt_reason);
			rollout_journal(&ro, todo[k], "skip", "not-started", ro.halt_reason);
		}
	} else if (ro.halt_reason[0]) {
		sum->halted = true;
		snprintf(sum->halt_reason, sizeof(sum->halt_reason), "%s", ro.halt_reason);
	}
out:
	memcpy(sum->step_ms, ro.step_ms, sizeof(sum->step_ms));
	for (size_t i = 0; i < f->njobs; i++)
		free(ro.h[i].old_boot_id);
	free(ro.h);
	free(todo);
	batch_plan_release(&plan);
	return r;
}
