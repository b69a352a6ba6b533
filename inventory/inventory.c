/* inventory: the host/group model, variable precedence and source loading.
 * Parsers live in ini.c (INI), range.c (host ranges), pattern.c (--limit)
 * and protocol/inventory_json.c (JSON, the only place json-c is used). */
#include "inventory.h"
#include "inventory_json.h"
#include "inv-internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "xalloc.h"

/* ---- name -> object map (open addressing, names borrowed) -------------- */

struct inv_map_slot {
	const char *key;
	void *val;
};

struct inv_map {
	struct inv_map_slot *slots;
	size_t size;	/* power of two */
	size_t used;
};

static uint64_t
inv_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

static struct inv_map *
inv_map_new(void)
{
	struct inv_map *m = xcalloc(1, sizeof(*m));

	m->size = 64;
	m->slots = xcalloc(m->size, sizeof(*m->slots));
	return m;
}

static void
inv_map_free(struct inv_map *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static void *
inv_map_get(const struct inv_map *m, const char *key)
{
	size_t i = (size_t)inv_hash(key) & (m->size - 1);

	while (m->slots[i].key) {
		if (!strcmp(m->slots[i].key, key))
			return m->slots[i].val;
		i = (i + 1) & (m->size - 1);
	}
	return NULL;
}

static void inv_map_put(struct inv_map *m, const char *key, void *val);

static void
inv_map_resize(struct inv_map *m)
{
	struct inv_map_slot *old = m->slots;
	size_t oldsize = m->size, i;

	m->size *= 2;
	m->slots = xcalloc(m->size, sizeof(*m->slots));
	m->used = 0;
	for (i = 0; i < oldsize; i++)
		if (old[i].key)
			inv_map_put(m, old[i].key, old[i].val);
	free(old);
}

/* key must not be present yet. */
static void
inv_map_put(struct inv_map *m, const char *key, void *val)
{
	size_t i;

	/* Keep the load factor under 1/2 so probes stay short. */
	if ((m->used + 1) * 2 > m->size)
		inv_map_resize(m);
	i = (size_t)inv_hash(key) & (m->size - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->size - 1);
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->used++;
}

/* ---- small lists -------------------------------------------------------- */

void
inv_hostlist_release(struct inv_hostlist *l)
{
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

void
inv_names_release(struct inv_names *n)
{
	size_t i;

	for (i = 0; i < n->nr; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->nr = n->alloc = 0;
}

/* ---- variables ---------------------------------------------------------- */

const struct inv_var *
inv_vars_find(const struct inv_vars *vars, const char *key)
{
	size_t i;

	for (i = 0; i < vars->nr; i++)
		if (!strcmp(vars->v[i].key, key))
			return &vars->v[i];
	return NULL;
}

const char *
inv_vars_get(const struct inv_vars *vars, const char *key)
{
	const struct inv_var *v = inv_vars_find(vars, key);

	return v ? v->value : NULL;
}

void
inv_vars_set(struct inv_vars *vars, const char *key, const char *value,
	     bool json)
{
	struct inv_var *v = (struct inv_var *)inv_vars_find(vars, key);

	if (v) {
		free(v->value);
	} else {
		XGROW(vars->v, vars->alloc, vars->nr + 1);
		v = &vars->v[vars->nr++];
		v->key = xstrdup(key);
	}
	v->value = xstrdup(value);
	v->json = json;
}

void
inv_vars_merge(struct inv_vars *dst, const struct inv_vars *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++)
		inv_vars_set(dst, src->v[i].key, src->v[i].value,
			     src->v[i].json);
}

void
inv_vars_release(struct inv_vars *vars)
{
	size_t i;

	for (i = 0; i < vars->nr; i++) {
		free(vars->v[i].key);
		free(vars->v[i].value);
	}
	free(vars->v);
	vars->v = NULL;
	vars->nr = vars->alloc = 0;
}

int
inv_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "y", "yes", "on", "1", "true", "t",
					   "1.0", NULL };
	static const char *const no[] = { "n", "no", "off", "0", "false", "f",
					  "0.0", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
	for (i = 0; no[i]; i++)
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	return -EINVAL;
}

int
inv_vars_get_bool(const struct inv_vars *vars, const char *host,
		  const char *key, bool def, bool *out, struct strbuf *err)
{
	const char *s = inv_vars_get(vars, key);

	*out = def;
	if (!s)
		return 0;
	if (inv_parse_bool(s, out) < 0) {
		strbuf_addf(err, "host %s: %s=\"%s\" is not a boolean "
			    "(expected yes/no, true/false, on/off or 1/0)",
			    host, key, s);
		return -EINVAL;
	}
	return 0;
}

int
inv_vars_get_uint(const struct inv_vars *vars, const char *host,
		  const char *key, unsigned long def, unsigned long max,
		  unsigned long *out, struct strbuf *err)
{
	const char *s = inv_vars_get(vars, key);
	unsigned long v;
	char *end;

	*out = def;
	if (!s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || v > max) {
		strbuf_addf(err, "host %s: %s=\"%s\" is not a number from 0 "
			    "to %lu", host, key, s, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* The last of names[] that is set wins, as Ansible's config loader does. */
static const char *
inv_vars_last_of(const struct inv_vars *vars, const char *const *names,
		 const char **which)
{
	const char *val = NULL;
	size_t i;

	for (i = 0; names[i]; i++) {
		const char *s = inv_vars_get(vars, names[i]);

		if (s) {
			val = s;
			if (which)
				*which = names[i];
		}
	}
	return val;
}

int
inv_conn_from_vars(const struct inv_vars *vars, const char *host,
		   struct inv_conn *c, struct strbuf *err)
{
	static const char *const addr[] = { "ansible_host", "ansible_ssh_host",
					    NULL };
	static const char *const port[] = { "ansible_port", "ansible_ssh_port",
					    NULL };
	static const char *const user[] = { "ansible_user", "ansible_ssh_user",
					    NULL };
	static const char *const key[] = { "ansible_private_key_file",
					   "ansible_ssh_private_key_file",
					   NULL };
	static const char *const buser[] = { "ansible_become_user",
					     "ansible_sudo_user", NULL };
	const char *which = NULL, *s;
	unsigned long p;
	int r;

	memset(c, 0, sizeof(*c));
	s = inv_vars_last_of(vars, addr, NULL);
	c->address = s && *s ? s : host;
	s = inv_vars_last_of(vars, port, &which);
	if (s) {
		struct inv_vars one = INV_VARS_INIT;

		inv_vars_set(&one, which, s, false);
		r = inv_vars_get_uint(&one, host, which, 0, 65535, &p, err);
		inv_vars_release(&one);
		if (r < 0)
			return r;
		if (p == 0) {
			strbuf_addf(err, "host %s: %s=\"%s\" is not a port "
				    "number", host, which, s);
			return -EINVAL;
		}
		c->port = (unsigned)p;
	}
	c->user = inv_vars_last_of(vars, user, NULL);
	c->private_key_file = inv_vars_last_of(vars, key, NULL);
	c->become_user = inv_vars_last_of(vars, buser, NULL);
	return inv_vars_get_bool(vars, host, "ansible_become", false,
				 &c->become, err);
}

/* ---- the model ---------------------------------------------------------- */

static void
inv_group_free(struct inv_group *g)
{
	free(g->name);
	inv_vars_release(&g->vars);
	free(g->hosts);
	free(g->children);
	free(g->parents);
	free(g->ancestors);
	free(g);
}

static void
inv_host_free(struct inv_host *h)
{
	free(h->name);
	inv_vars_release(&h->vars);
	free(h->groups);
	free(h);
}

struct inv *
inv_new(void)
{
	struct inv *inv = xcalloc(1, sizeof(*inv));

	inv->host_map = inv_map_new();
	inv->group_map = inv_map_new();
	inv_group_add(inv, "all");
	inv_group_add(inv, "ungrouped");
	/* Cannot loop: both groups are fresh. */
	inv_group_add_child(inv, inv->groups[0], inv->groups[1], NULL);
	return inv;
}

void
inv_free(struct inv *inv)
{
	size_t i;

	if (!inv)
		return;
	for (i = 0; i < inv->nr_hosts; i++)
		inv_host_free(inv->hosts[i]);
	for (i = 0; i < inv->nr_groups; i++)
		inv_group_free(inv->groups[i]);
	free(inv->hosts);
	free(inv->groups);
	inv_map_free(inv->host_map);
	inv_map_free(inv->group_map);
	free(inv);
}

struct inv_host *
inv_host_find(const struct inv *inv, const char *name)
{
	return inv_map_get(inv->host_map, name);
}

struct inv_group *
inv_group_find(const struct inv *inv, const char *name)
{
	return inv_map_get(inv->group_map, name);
}

struct inv_group *
inv_group_add(struct inv *inv, const char *name)
{
	struct inv_group *g = inv_group_find(inv, name);

	if (g)
		return g;
	g = xcalloc(1, sizeof(*g));
	g->name = xstrdup(name);
	g->priority = 1;
	g->index = inv->nr_groups;
	XGROW(inv->groups, inv->alloc_groups, inv->nr_groups + 1);
	inv->groups[inv->nr_groups++] = g;
	inv_map_put(inv->group_map, g->name, g);
	inv->finalized = false;
	return g;
}

bool
inv_host_in_group(const struct inv_host *h, const struct inv_group *g)
{
	size_t i;

	for (i = 0; i < h->nr_groups; i++)
		if (h->groups[i] == g)
			return true;
	return false;
}

void
inv_group_add_host(struct inv_group *g, struct inv_host *h)
{
	if (inv_host_in_group(h, g))
		return;
	XGROW(g->hosts, g->alloc_hosts, g->nr_hosts + 1);
	g->hosts[g->nr_hosts++] = h;
	XGROW(h->groups, h->alloc_groups, h->nr_groups + 1);
	h->groups[h->nr_groups++] = g;
}

static bool
inv_name_ok(const char *name)
{
	const unsigned char *p;

	if (!*name)
		return false;
	for (p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

int
inv_host_add(struct inv *inv, const char *name, struct inv_group *g,
	     const char *port, struct inv_host **out, struct strbuf *err)
{
	struct inv_host *h = inv_host_find(inv, name);

	if (!h) {
		if (!inv_name_ok(name)) {
			strbuf_addf(err, "invalid host name \"%s\": empty or "
				    "contains whitespace or control "
				    "characters", name);
			return -EINVAL;
		}
		if (inv->nr_hosts >= INV_MAX_HOSTS) {
			strbuf_addf(err, "too many hosts: an inventory holds "
				    "at most %d", INV_MAX_HOSTS);
			return -E2BIG;
		}
		h = xcalloc(1, sizeof(*h));
		h->name = xstrdup(name);
		h->index = inv->nr_hosts;
		XGROW(inv->hosts, inv->alloc_hosts, inv->nr_hosts + 1);
		inv->hosts[inv->nr_hosts++] = h;
		inv_map_put(inv->host_map, h->name, h);
		if (port)
			inv_vars_set(&h->vars, "ansible_port", port, false);
	}
	if (g)
		inv_group_add_host(g, h);
	inv->finalized = false;
	if (out)
		*out = h;
	return 0;
}

/* Is target reachable from g through children (g itself included)? */
static bool
inv_group_reaches(struct inv *inv, struct inv_group *g,
		  const struct inv_group *target)
{
	struct inv_group **stack = NULL;
	size_t nr = 0, alloc = 0, i;
	unsigned gen = ++inv->visit_gen;
	bool found = false;

	XGROW(stack, alloc, 1);
	stack[nr++] = g;
	g->visit = gen;
	while (nr && !found) {
		struct inv_group *cur = stack[--nr];

		if (cur == target) {
			found = true;
			break;
		}
		for (i = 0; i < cur->nr_children; i++) {
			struct inv_group *c = cur->children[i];

			if (c->visit == gen)
				continue;
			c->visit = gen;
			XGROW(stack, alloc, nr + 1);
			stack[nr++] = c;
		}
	}
	free(stack);
	return found;
}

int
inv_group_add_child(struct inv *inv, struct inv_group *parent,
		    struct inv_group *child, struct strbuf *err)
{
	size_t i;

	for (i = 0; i < parent->nr_children; i++)
		if (parent->children[i] == child)
			return 0;
	/* Every group is implicitly under `all`, so `all` as a child (or a
	 * group as its own descendant) is a loop; Ansible says the same. */
	if (child == inv->groups[0] || inv_group_reaches(inv, child, parent)) {
		if (err)
			strbuf_addf(err, "Adding group '%s' as child to '%s' "
				    "creates a recursive dependency loop.",
				    child->name, parent->name);
		return -ELOOP;
	}
	XGROW(parent->children, parent->alloc_children,
	      parent->nr_children + 1);
	parent->children[parent->nr_children++] = child;
	XGROW(child->parents, child->alloc_parents, child->nr_parents + 1);
	child->parents[child->nr_parents++] = parent;
	inv->finalized = false;
	return 0;
}

int
inv_group_set_var(struct inv_group *g, const char *key, const char *value,
		  bool json, struct strbuf *err)
{
	long prio;
	char *end;

	if (strcmp(key, "ansible_group_priority")) {
		inv_vars_set(&g->vars, key, value, json);
		return 0;
	}
	errno = 0;
	prio = strtol(value, &end, 10);
	if (end == value || *end || errno || prio < INT_MIN || prio > INT_MAX) {
		strbuf_addf(err, "group %s: ansible_group_priority=\"%s\" is "
			    "not an integer", g->name, value);
		return -EINVAL;
	}
	g->priority = (int)prio;
	return 0;
}

void
inv_host_set_var(struct inv_host *h, const char *key, const char *value,
		 bool json)
{
	inv_vars_set(&h->vars, key, value, json);
}

/* ---- reconcile, depths, precedence -------------------------------------- */

static void
inv_group_remove_host(struct inv_group *g, struct inv_host *h)
{
	size_t i, j;

	for (i = j = 0; i < g->nr_hosts; i++)
		if (g->hosts[i] != h)
			g->hosts[j++] = g->hosts[i];
	g->nr_hosts = j;
	for (i = j = 0; i < h->nr_groups; i++)
		if (h->groups[i] != g)
			h->groups[j++] = h->groups[i];
	h->nr_groups = j;
}

/* Longest path from `all` over child edges (Ansible keeps group.depth as
 * max(parent.depth + 1) while edges are added; the result is the same).
 * Kahn's algorithm: the graph is acyclic, inv_group_add_child refuses loops. */
static void
inv_compute_depths(struct inv *inv)
{
	size_t n = inv->nr_groups, head = 0, tail = 0, i, j;
	size_t *indeg = xcalloc(n, sizeof(*indeg));
	struct inv_group **queue = xcalloc(n, sizeof(*queue));

	for (i = 0; i < n; i++) {
		inv->groups[i]->depth = 0;
		indeg[i] = inv->groups[i]->nr_parents;
		if (!indeg[i])
			queue[tail++] = inv->groups[i];
	}
	while (head < tail) {
		struct inv_group *g = queue[head++];

		for (j = 0; j < g->nr_children; j++) {
			struct inv_group *c = g->children[j];

			if (c->depth < g->depth + 1)
				c->depth = g->depth + 1;
			if (--indeg[c->index] == 0)
				queue[tail++] = c;
		}
	}
	free(indeg);
	free(queue);
}

static void
inv_compute_ancestors(struct inv *inv)
{
	struct inv_group **stack = NULL;
	size_t alloc = 0, i, j;

	for (i = 0; i < inv->nr_groups; i++) {
		struct inv_group *g = inv->groups[i];
		unsigned gen = ++inv->visit_gen;
		size_t nr = 0, anc_alloc = 0;

		free(g->ancestors);
		g->ancestors = NULL;
		g->nr_ancestors = 0;
		XGROW(stack, alloc, 1);
		stack[nr++] = g;
		g->visit = gen;
		while (nr) {
			struct inv_group *cur = stack[--nr];

			XGROW(g->ancestors, anc_alloc, g->nr_ancestors + 1);
			g->ancestors[g->nr_ancestors++] = cur;
			for (j = 0; j < cur->nr_parents; j++) {
				struct inv_group *p = cur->parents[j];

				if (p->visit == gen)
					continue;
				p->visit = gen;
				XGROW(stack, alloc, nr + 1);
				stack[nr++] = p;
			}
		}
	}
	free(stack);
}

int
inv_finalize(struct inv *inv)
{
	struct inv_group *all = inv->groups[0], *ungrouped = inv->groups[1];
	size_t i, j;

	/* Groups without a parent hang under `all`, in creation order. */
	for (i = 1; i < inv->nr_groups; i++)
		if (!inv->groups[i]->nr_parents)
			inv_group_add_child(inv, all, inv->groups[i], NULL);
	inv_compute_ancestors(inv);
	for (i = 0; i < inv->nr_hosts; i++) {
		struct inv_host *h = inv->hosts[i];
		bool in_ungrouped = inv_host_in_group(h, ungrouped);
		bool other = false;

		for (j = 0; j < h->nr_groups; j++)
			if (h->groups[j] != all && h->groups[j] != ungrouped)
				other = true;
		if (in_ungrouped && other)
			inv_group_remove_host(ungrouped, h);
		else if (!in_ungrouped && !other)
			inv_group_add_host(ungrouped, h);
	}
	inv_compute_depths(inv);
	inv->finalized = true;
	return 0;
}

/* Ansible's sort_groups(): by depth, then priority, then name. */
static int
inv_group_cmp(const void *a, const void *b)
{
	const struct inv_group *x = *(struct inv_group *const *)a;
	const struct inv_group *y = *(struct inv_group *const *)b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t
inv_host_groups(const struct inv *inv, const struct inv_host *h,
		struct inv_group ***groups)
{
	struct inv_group **v = NULL;
	size_t nr = 0, alloc = 0, i, j, k;

	for (i = 0; i < h->nr_groups; i++) {
		const struct inv_group *g = h->groups[i];

		XGROW(v, alloc, nr + g->nr_ancestors);
		for (j = 0; j < g->nr_ancestors; j++)
			v[nr++] = g->ancestors[j];
	}
	if (nr)
		qsort(v, nr, sizeof(*v), inv_group_cmp);
	/* Duplicates sort next to each other: names are unique. */
	for (i = k = 0; i < nr; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	/* `all` sorts first anyway (depth 0) but keep that explicit. */
	if (!k || v[0] != inv->groups[0]) {
		XGROW(v, alloc, k + 1);
		memmove(v + 1, v, k * sizeof(*v));
		v[0] = inv->groups[0];
		k++;
	}
	*groups = v;
	return k;
}

void
inv_host_vars(const struct inv *inv, const struct inv_host *h,
	      struct inv_vars *out)
{
	struct inv_group **groups = NULL;
	size_t nr, i;

	inv_vars_release(out);
	/* all_inventory, then groups_inventory (sorted), then the host:
	 * ansible's default VARIABLE_PRECEDENCE for inventory vars. */
	nr = inv_host_groups(inv, h, &groups);
	for (i = 0; i < nr; i++)
		inv_vars_merge(out, &groups[i]->vars);
	inv_vars_merge(out, &h->vars);
	free(groups);
}

/* ---- sources ------------------------------------------------------------ */

int
inv_load_host_list(struct inv *inv, const char *list, struct strbuf *err)
{
	struct inv_group *ungrouped = inv->groups[1];
	char *copy = xstrdup(list), *save = NULL, *tok;
	int r = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct strbuf host = STRBUF_INIT, port = STRBUF_INIT;
		char *s = tok, *e = tok + strlen(tok);

		while (isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*s)
			continue;
		/* Ranges are not expanded in host lists (that is Ansible's
		 * separate advanced_host_list plugin). */
		inv_split_host_port(s, &host, &port);
		if (!inv_host_find(inv, host.buf))
			r = inv_host_add(inv, host.buf, ungrouped,
					 port.len ? port.buf : NULL, NULL, err);
		strbuf_release(&host);
		strbuf_release(&port);
		if (r < 0) {
			inv_err_prefix(err, "host list \"%s\": ", list);
			break;
		}
	}
	free(copy);
	return r;
}

static int
inv_script_run(const char *path, const char *arg1, const char *arg2,
	       struct strbuf *out, struct strbuf *err)
{
	const char *argv[] = { path, arg1, arg2, NULL };
	struct run_cmd cmd = RUN_CMD_INIT;
	int r;

	cmd.argv = argv;
	cmd.timeout_ms = INV_SCRIPT_TIMEOUT_MS;
	cmd.output_max = INV_FILE_MAX;
	r = run_command(&cmd);
	if (r < 0) {
		strbuf_addf(err, "inventory script %s: cannot run: %s", path,
			    strerror(-r));
		goto out;
	}
	if (cmd.timed_out) {
		strbuf_addf(err, "inventory script %s %s: no answer within "
			    "%d s", path, arg1, INV_SCRIPT_TIMEOUT_MS / 1000);
		r = -ETIMEDOUT;
		goto out;
	}
	if (cmd.exit_code != 0) {
		strbuf_rtrim(&cmd.err);
		strbuf_addf(err, "inventory script %s %s had an execution "
			    "error (exit %d): %s", path, arg1, cmd.exit_code,
			    cmd.err.buf);
		r = -EIO;
		goto out;
	}
	if (cmd.truncated) {
		strbuf_addf(err, "inventory script %s %s: output larger than "
			    "%u bytes", path, arg1, INV_FILE_MAX);
		r = -EFBIG;
		goto out;
	}
	strbuf_add(out, cmd.out.buf, cmd.out.len);
	r = 0;
out:
	run_cmd_release(&cmd);
	return r;
}

int
inv_load_script(struct inv *inv, const char *path, struct strbuf *err)
{
	struct strbuf out = STRBUF_INIT;
	struct inv_hostlist need = INV_HOSTLIST_INIT;
	char *abs = realpath(path, NULL);
	size_t i;
	int r;

	/* run_command wants an absolute path and runs no shell. */
	if (!abs) {
		r = -errno;
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = inv_script_run(abs, "--list", NULL, &out, err);
	if (r < 0)
		goto out;
	r = inv_json_load(inv, path, out.buf, out.len, &need, err);
	if (r < 0)
		goto out;
	/* Without _meta.hostvars, Ansible asks --host for every host. */
	for (i = 0; i < need.nr; i++) {
		strbuf_reset(&out);
		r = inv_script_run(abs, "--host", need.v[i]->name, &out, err);
		if (r < 0)
			goto out;
		r = inv_json_load_hostvars(need.v[i], path, out.buf, out.len,
					   err);
		if (r < 0)
			goto out;
	}
out:
	inv_hostlist_release(&need);
	strbuf_release(&out);
	free(abs);
	return r;
}

int
inv_load_source(struct inv *inv, const char *source, struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct stat st;
	size_t i;
	int r;

	if (stat(source, &st) < 0) {
		if (errno == ENOENT && strchr(source, ','))
			return inv_load_host_list(inv, source, err);
		r = -errno;
		strbuf_addf(err, "%s: %s", source, strerror(errno));
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		strbuf_addf(err, "%s: inventory directories are not supported; "
			    "pass each file with -i", source);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
	    access(source, X_OK) == 0)
		return inv_load_script(inv, source, err);
	r = strbuf_read_file(&buf, source, INV_FILE_MAX);
	if (r == -EFBIG)
		strbuf_addf(err, "%s: larger than %u bytes", source,
			    INV_FILE_MAX);
	else if (r < 0)
		strbuf_addf(err, "%s: %s", source, strerror(-r));
	if (r < 0)
		goto out;
	for (i = 0; i < buf.len && isspace((unsigned char)buf.buf[i]); i++)
		;
	if (i < buf.len && buf.buf[i] == '{')
		r = inv_json_load(inv, source, buf.buf, buf.len, NULL, err);
	else
		r = inv_load_ini(inv, source, buf.buf, buf.len, err);
out:
	strbuf_release(&buf);
	return r;
}

int
inv_load(struct inv *inv, const char *const *sources, size_t nr,
	 struct strbuf *err)
{
	size_t i;
	int r;

	for (i = 0; i < nr; i++) {
		r = inv_load_source(inv, sources[i], err);
		if (r < 0)
			return r;
	}
	return inv_finalize(inv);
}

/* ---- shared helpers ----------------------------------------------------- */

void
inv_err_prefix(struct strbuf *sb, const char *fmt, ...)
{
	struct strbuf tmp = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&tmp, fmt, ap);
	va_end(ap);
	strbuf_add(&tmp, sb->buf, sb->len);
	strbuf_reset(sb);
	strbuf_add(sb, tmp.buf, tmp.len);
	strbuf_release(&tmp);
}

/* Ansible's parse_address() port split: "[addr]:port" or "name:port" where
 * name has no ':' outside [...] (so bare IPv6 addresses and "h[1:3]" stay
 * whole). Fills host and port (port left empty when there is none). */
void
inv_split_host_port(const char *s, struct strbuf *host, struct strbuf *port)
{
	size_t len = strlen(s), i, colon = SIZE_MAX;
	int depth = 0;

	strbuf_reset(host);
	strbuf_reset(port);
	for (i = 0; i < len; i++) {
		if (s[i] == '[')
			depth++;
		else if (s[i] == ']' && depth > 0)
			depth--;
		else if (s[i] == ':' && depth == 0) {
			if (colon != SIZE_MAX) {	/* two: IPv6 or junk */
				colon = SIZE_MAX;
				break;
			}
			colon = i;
		}
	}
	if (colon != SIZE_MAX && colon > 0 && colon + 1 < len &&
	    strspn(s + colon + 1, "0123456789") == len - colon - 1) {
		size_t b = 0, e = colon;

		/* "[fe80::1]:22": the brackets only wrap the address. */
		if (s[0] == '[' && s[colon - 1] == ']') {
			b = 1;
			e = colon - 1;
		}
		strbuf_add(host, s + b, e - b);
		/* int(port) in Ansible: drop leading zeros. */
		i = colon + 1;
		while (s[i] == '0' && s[i + 1])
			i++;
		strbuf_addstr(port, s + i);
		return;
	}
	strbuf_addstr(host, s);
}
