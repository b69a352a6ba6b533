#include "fleet.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
fleet_job(struct fanout_job *job, struct inv_vars *vars, const char *host,
	  const struct fleet_conf *conf, struct strbuf *err)
{
	struct inv_conn c;
	const char *root;
	int r;

	/* Name and request first: a host with bad variables is still reported. */
	job->target.name = host;
	proto_request_init(&job->req, conf->op);
	r = inv_conn_from_vars(vars, host, &c, err);
	if (r < 0)
		return r;
	job->target.address = c.address;
	job->target.port = (int)c.port;
	job->target.user = c.user;
	job->target.identity = c.private_key_file;
	job->target.known_hosts = conf->known_hosts;
	job->target.ssh_config = conf->ssh_config;
	job->target.accept_new = conf->accept_new;
	job->target.connect_timeout_s = conf->connect_timeout_s;
	/* ansible_become unset: decided once connected (non-root needs sudo). */
	job->become = inv_vars_find(vars, "ansible_become") ? c.become : -1;
	if (c.become_user && strcmp(c.become_user, "root") != 0) {
		strbuf_addf(err, "host %s: ansible_become_user=%s: vfleet-agent "
			    "must run as root", host, c.become_user);
		return -EINVAL;
	}
	if (conf->run_id)
		job->req.run_id = xstrdup(conf->run_id);
	r = policy_fill(&job->req.policy, vars, host, conf->cli, err);
	if (r < 0)
		return r;
	root = inv_vars_get(vars, "vfleet_root");
	if (root && *root) {
		if (root[0] != '/') {
			strbuf_addf(err, "host %s: vfleet_root=%s: expected an "
				    "absolute path", host, root);
			return -EINVAL;
		}
		job->req.root = xstrdup(root);
	}
	return 0;
}

int
fleet_load(struct fleet *f, const struct fleet_conf *conf, struct strbuf *err)
{
	int r;

	memset(f, 0, sizeof(*f));
	f->inv = inv_new();
	r = inv_load(f->inv, conf->inventories, conf->ninventories, err);
	if (r < 0)
		return r;
	r = inv_select(f->inv, conf->limit ? conf->limit : "all", &f->hosts, err);
	if (r < 0)
		return r;
	f->jobs = xcalloc(f->hosts.nr ? f->hosts.nr : 1, sizeof(*f->jobs));
	f->vars = xcalloc(f->hosts.nr ? f->hosts.nr : 1, sizeof(*f->vars));
	for (size_t i = 0; i < f->hosts.nr; i++) {
		const struct inv_host *h = f->hosts.v[i];

		struct strbuf why = STRBUF_INIT;

		inv_host_vars(f->inv, h, &f->vars[i]);
		f->njobs++;
		if (fleet_job(&f->jobs[i], &f->vars[i], h->name, conf, &why) < 0)
			f->jobs[i].invalid = strbuf_detach(&why, NULL);
		strbuf_release(&why);
	}
	return 0;
}

void
fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < f->njobs; i++) {
		proto_request_release(&f->jobs[i].req);
		free(f->jobs[i].invalid);
		inv_vars_release(&f->vars[i]);
	}
	free(f->jobs);
	free(f->vars);
	inv_hostlist_release(&f->hosts);
	if (f->inv)
		inv_free(f->inv);
	memset(f, 0, sizeof(*f));
}
