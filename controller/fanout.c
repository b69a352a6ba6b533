#include "fanout.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FANOUT_DEFAULT_FORKS 50
#define FANOUT_MAX_FORKS 1000

struct fanout_pool {
	const struct fanout_job *jobs;
	size_t n;
	const struct fanout_opts *o;
	struct result *results;
	long long deadline;	/* monotonic ms; 0 = none */

	pthread_mutex_t lock;	/* guards everything below */
	size_t next;
	size_t done, failed, unreachable;
};

static long long
fanout_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
fanout_become(const struct fanout_job *job, struct ssh_conn *c)
{
	if (job->become >= 0)
		return job->become;
	/* Not said: root needs no sudo; anyone else needs it to touch /etc. */
	return strcmp(ssh_conn_user(c), "root") != 0;
}

void
fanout_agent_work(const struct fanout_job *job, struct result *r,
		  int timeout_ms, void *ctx)
{
	const struct push_agent *agent = ctx;
	struct strbuf err = STRBUF_INIT, req = STRBUF_INIT;
	struct push_stats st = { 0 };
	struct ssh_conn *c = NULL;

	c = ssh_conn_open(&job->target, &err);
	if (!c) {
		result_fail(r, RESULT_UNREACHABLE, "%s", err.buf);
		goto out;
	}
	if (proto_request_encode(&job->req, &req) < 0) {
		result_fail(r, RESULT_FAILED, "cannot encode the request");
		goto out;
	}
	push_run(c, agent, fanout_become(job, c), req.buf, req.len, timeout_ms,
		 r, &st);
	r->agent_bytes = st.agent_bytes;
out:
	ssh_conn_close(c);
	strbuf_release(&err);
	strbuf_release(&req);
}

static void
fanout_one(struct fanout_pool *p, size_t i)
{
	const struct fanout_job *job = &p->jobs[i];
	struct result *r = &p->results[i];
	long long t0 = fanout_now_ms();
	int timeout = p->o->timeout_ms;

	if (job->invalid) {
		result_fail(r, RESULT_FAILED, "%s", job->invalid);
		goto out;
	}
	if (p->deadline) {
		long long left = p->deadline - t0;

		if (left <= 0) {
			result_fail(r, RESULT_FAILED, "not started: the run's deadline passed");
			goto out;
		}
		if (left < timeout)
			timeout = (int)left;
	}
	if (p->o->work)
		p->o->work(job, r, timeout, p->o->ctx);
	else
		fanout_agent_work(job, r, timeout, (void *)p->o->agent);
out:
	r->elapsed_ms = (double)(fanout_now_ms() - t0);
}

static void
fanout_progress(struct fanout_pool *p)
{
	if (!p->o->progress)
		return;
	fprintf(stderr, "\r\033[K[%s] %zu/%zu done, %zu failed, %zu unreachable",
		p->o->label ? p->o->label : "vfleet", p->done, p->n, p->failed,
		p->unreachable);
	if (p->done == p->n)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static void *
fanout_worker(void *arg)
{
	struct fanout_pool *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i == p->n)
			return NULL;
		fanout_one(p, i);
		pthread_mutex_lock(&p->lock);
		p->done++;
		p->unreachable += p->results[i].status == RESULT_UNREACHABLE;
		p->failed += p->results[i].status != RESULT_UNREACHABLE &&
			     result_failed(&p->results[i]);
		if (p->o->on_done)
			p->o->on_done(&p->results[i], p->o->ctx);
		fanout_progress(p);
		pthread_mutex_unlock(&p->lock);
	}
}

int
fanout_run(const struct fanout_job *jobs, size_t n,
	   const struct fanout_opts *o, struct result *results)
{
	struct fanout_pool p = {
		.jobs = jobs, .n = n, .o = o, .results = results,
	};
	size_t forks = o->forks > 0 ? (size_t)o->forks : FANOUT_DEFAULT_FORKS;
	pthread_t *tids = NULL;
	pthread_attr_t attr;
	size_t started = 0, i;
	int r = 0;

	for (i = 0; i < n; i++)
		result_init(&results[i], jobs[i].target.name);
	if (n == 0)
		return 0;
	if (forks > FANOUT_MAX_FORKS)
		forks = FANOUT_MAX_FORKS;
	if (forks > n)
		forks = n;
	if (o->deadline_ms > 0)
		p.deadline = fanout_now_ms() + o->deadline_ms;
	pthread_mutex_init(&p.lock, NULL);
	pthread_attr_init(&attr);
	/* libssh sessions need little stack; 256 KiB keeps 1000 forks cheap. */
	pthread_attr_setstacksize(&attr, 256u << 10);
	tids = xcalloc(forks, sizeof(*tids));
	for (i = 0; i < forks; i++) {
		if (pthread_create(&tids[i], &attr, fanout_worker, &p) != 0)
			break;
		started++;
	}
	if (started == 0) {
		r = -EAGAIN;
		goto out;
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
out:
	pthread_attr_destroy(&attr);
	pthread_mutex_destroy(&p.lock);
	free(tids);
	return r;
}

size_t
fanout_agent_bytes(const struct result *results, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += results[i].agent_bytes;
	return total;
}
