/* inventory_json: --list JSON inventories in and out (see inventory_json.h).
 * Loading mirrors ansible's plugins/inventory/script.py; rendering mirrors
 * cli/inventory.py json_inventory(). */
#include "inventory_json.h"
#include "inv-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "xalloc.h"

/* Inventories nest little; anything deeper is garbage. */
#define INVJ_DEPTH_MAX 64

static int
invj_fail(struct strbuf *err, const char *name, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
invj_fail(struct strbuf *err, const char *name, int r, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(err, "%s: ", name);
	va_start(ap, fmt);
	strbuf_vaddf(err, fmt, ap);
	va_end(ap);
	return r;
}

static bool
invj_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parse one JSON document; syntax errors get name:line. */
static int
invj_parse(const char *name, const char *buf, size_t len,
	   struct json_object **root, struct strbuf *err)
{
	struct json_tokener *tok = NULL;
	enum json_tokener_error jerr;
	size_t i, end, line = 1;
	int r = 0;

	*root = NULL;
	if (memchr(buf, '\0', len))
		return invj_fail(err, name, -EINVAL, "contains a NUL byte");
	tok = json_tokener_new_ex(INVJ_DEPTH_MAX);
	if (!tok)
		return invj_fail(err, name, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_ALLOW_TRAILING_CHARS |
			       JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (jerr == json_tokener_success) {
		for (i = end; i < len && invj_ws(buf[i]); i++)
			;
		if (i < len) {
			end = i;
			jerr = json_tokener_error_parse_unexpected;
		}
	}
	if (jerr != json_tokener_success) {
		for (i = 0; i < end && i < len; i++)
			line += buf[i] == '\n';
		strbuf_addf(err, "%s:%zu: invalid JSON: %s", name, line,
			    jerr == json_tokener_error_parse_unexpected &&
			    *root ? "unexpected data after the value" :
			    json_tokener_error_desc(jerr));
		r = jerr == json_tokener_error_depth ? -E2BIG : -EINVAL;
		goto out;
	}
	if (!json_object_is_type(*root, json_type_object))
		r = invj_fail(err, name, -EINVAL, "expected a JSON object "
			      "(the ansible-inventory --list shape), got %s",
			      json_type_to_name(json_object_get_type(*root)));
out:
	json_tokener_free(tok);
	if (r < 0) {
		json_object_put(*root);
		*root = NULL;
	}
	return r;
}

/* String values stay strings; anything else is kept as its JSON text. */
static void
invj_value(struct json_object *v, const char **text, bool *json)
{
	if (json_object_is_type(v, json_type_string)) {
		*text = json_object_get_string(v);
		*json = false;
		return;
	}
	*text = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE)
		  : "null";
	*json = true;
}

static int
invj_host_vars(struct inv_host *h, struct json_object *vars,
	       const char *name, struct strbuf *err)
{
	if (!json_object_is_type(vars, json_type_object))
		return invj_fail(err, name, -EINVAL, "vars of host '%s' must "
				 "be an object", h->name);
	json_object_object_foreach(vars, k, v) {
		const char *text;
		bool json;

		invj_value(v, &text, &json);
		inv_host_set_var(h, k, text, json);
	}
	return 0;
}

static void
invj_seen_add(struct inv_hostlist *seen, struct inv_host *h)
{
	size_t i;

	/* Ansible keeps a set; hosts repeat rarely, groups are small. */
	for (i = seen->nr; i-- > 0;)
		if (seen->v[i] == h)
			return;
	XGROW(seen->v, seen->alloc, seen->nr + 1);
	seen->v[seen->nr++] = h;
}

static int
invj_load_group(struct inv *inv, const char *name, const char *gname,
	   struct json_object *data, struct inv_hostlist *seen,
	   struct strbuf *err)
{
	struct inv_group *g = inv_group_add(inv, gname);
	struct json_object *hosts = NULL, *vars = NULL, *children = NULL;
	struct inv_host *h;
	size_t i, n;
	int r;

	if (json_object_is_type(data, json_type_array)) {
		hosts = data;
	} else if (json_object_is_type(data, json_type_object)) {
		json_object_object_get_ex(data, "hosts", &hosts);
		json_object_object_get_ex(data, "vars", &vars);
		json_object_object_get_ex(data, "children", &children);
		if (!hosts && !vars && !children) {
			/* Ansible's simplified syntax: {'hosts': [group],
			 * 'vars': data}, so the vars go to the group. */
			r = inv_host_add(inv, gname, g, NULL, &h, err);
			if (r < 0)
				goto fail;
			invj_seen_add(seen, h);
			vars = data;
		}
	} else {
		return invj_fail(err, name, -EINVAL, "group '%s' must be an "
				 "object or a list of hosts", gname);
	}
	if (hosts) {
		if (!json_object_is_type(hosts, json_type_array))
			return invj_fail(err, name, -EINVAL, "You defined a "
					 "group '%s' with bad data for the "
					 "host list (expected a list)", gname);
		n = json_object_array_length(hosts);
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(hosts,
									  i);

			if (!json_object_is_type(e, json_type_string))
				return invj_fail(err, name, -EINVAL, "group "
						 "'%s': host names must be "
						 "strings", gname);
			r = inv_host_add(inv, json_object_get_string(e), g,
					 NULL, &h, err);
			if (r < 0)
				goto fail;
			invj_seen_add(seen, h);
		}
	}
	if (vars) {
		if (!json_object_is_type(vars, json_type_object))
			return invj_fail(err, name, -EINVAL, "You defined a "
					 "group '%s' with bad data for "
					 "variables (expected an object)",
					 gname);
		json_object_object_foreach(vars, k, v) {
			const char *text;
			bool json;

			invj_value(v, &text, &json);
			r = inv_group_set_var(g, k, text, json, err);
			if (r < 0)
				goto fail;
		}
	}
	if (children) {
		if (!json_object_is_type(children, json_type_array))
			return invj_fail(err, name, -EINVAL, "group '%s': "
					 "children must be a list", gname);
		n = json_object_array_length(children);
		for (i = 0; i < n; i++) {
			struct json_object *e =
				json_object_array_get_idx(children, i);
			struct inv_group *c;

			if (!json_object_is_type(e, json_type_string))
				return invj_fail(err, name, -EINVAL, "group "
						 "'%s': child names must be "
						 "strings", gname);
			c = inv_group_add(inv, json_object_get_string(e));
			r = inv_group_add_child(inv, g, c, err);
			if (r < 0)
				goto fail;
		}
	}
	return 0;
fail:
	inv_err_prefix(err, "%s: ", name);
	return r;
}

int
inv_json_load(struct inv *inv, const char *name, const char *buf, size_t len,
	      struct inv_hostlist *need_hostvars, struct strbuf *err)
{
	struct json_object *root = NULL, *hostvars = NULL;
	struct inv_hostlist seen = INV_HOSTLIST_INIT;
	size_t i;
	int r;

	r = invj_parse(name, buf, len, &root, err);
	if (r < 0)
		goto out;
	json_object_object_foreach(root, gname, gdata) {
		if (!strcmp(gname, "_meta")) {
			if (json_object_is_type(gdata, json_type_object))
				json_object_object_get_ex(gdata, "hostvars",
							  &hostvars);
			continue;
		}
		r = invj_load_group(inv, name, gname, gdata, &seen, err);
		if (r < 0)
			goto out;
	}
	if (hostvars && !json_object_is_type(hostvars, json_type_object)) {
		r = invj_fail(err, name, -EINVAL, "_meta.hostvars must be an "
			      "object");
		goto out;
	}
	/* Only hosts listed in a group take vars from _meta (Ansible). */
	for (i = 0; hostvars && i < seen.nr; i++) {
		struct json_object *hv;

		if (!json_object_object_get_ex(hostvars, seen.v[i]->name, &hv))
			continue;
		r = invj_host_vars(seen.v[i], hv, name, err);
		if (r < 0)
			goto out;
	}
	if (!hostvars && need_hostvars)
		for (i = 0; i < seen.nr; i++) {
			XGROW(need_hostvars->v, need_hostvars->alloc,
			      need_hostvars->nr + 1);
			need_hostvars->v[need_hostvars->nr++] = seen.v[i];
		}
out:
	inv_hostlist_release(&seen);
	json_object_put(root);
	return r;
}

int
inv_json_load_hostvars(struct inv_host *h, const char *name, const char *buf,
		       size_t len, struct strbuf *err)
{
	struct json_object *root = NULL;
	size_t i;
	int r;

	for (i = 0; i < len && invj_ws(buf[i]); i++)
		;
	if (i == len)
		return 0;	/* Ansible: empty output, no vars */
	r = invj_parse(name, buf, len, &root, err);
	if (r == 0)
		r = invj_host_vars(h, root, name, err);
	json_object_put(root);
	return r;
}

/* ---- rendering ---------------------------------------------------------- */

struct invj_kv {
	const char *key;
	struct json_object *val;
};

static int
invj_kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct invj_kv *)a)->key,
		      ((const struct invj_kv *)b)->key);
}

/* Add pairs to obj in key order (json.dumps(sort_keys=True)); obj takes
 * every value, even on failure. */
static int
invj_add_sorted(struct json_object *obj, struct invj_kv *kv, size_t n)
{
	size_t i;
	int r = 0;

	qsort(kv, n, sizeof(*kv), invj_kv_cmp);
	for (i = 0; i < n; i++) {
		if (r == 0 && json_object_object_add(obj, kv[i].key,
						     kv[i].val) < 0)
			r = -ENOMEM;
		if (r < 0)
			json_object_put(kv[i].val);
	}
	return r;
}

static struct json_object *
invj_var_value(const struct inv_var *v)
{
	struct json_object *o;

	if (!v->json)
		return json_object_new_string(v->value);
	o = json_tokener_parse(v->value);
	/* "null" parses to NULL, which json-c adds as null: fine. A value
	 * that is not JSON cannot come from our loaders; keep it visible. */
	if (!o && strcmp(v->value, "null"))
		o = json_object_new_string(v->value);
	return o;
}

/* vars as an object with sorted keys, or NULL (no vars or no memory). */
static int
invj_vars(const struct inv_vars *vars, int priority, bool with_priority,
	  struct json_object **out)
{
	struct json_object *obj = NULL;
	struct invj_kv *kv = NULL;
	size_t i, n = 0;
	int r;

	*out = NULL;
	if (!vars->nr && !with_priority)
		return 0;
	obj = json_object_new_object();
	kv = xcalloc(vars->nr + 1, sizeof(*kv));
	if (!obj) {
		free(kv);
		return -ENOMEM;
	}
	for (i = 0; i < vars->nr; i++) {
		if (with_priority &&
		    !strcmp(vars->v[i].key, "ansible_group_priority"))
			continue;
		kv[n].key = vars->v[i].key;
		kv[n].val = invj_var_value(&vars->v[i]);
		if (!kv[n].val && (!vars->v[i].json ||
				   strcmp(vars->v[i].value, "null")))
			goto nomem;
		n++;
	}
	if (with_priority) {
		kv[n].key = "ansible_group_priority";
		kv[n].val = json_object_new_int(priority);
		if (!kv[n].val)
			goto nomem;
		n++;
	}
	r = invj_add_sorted(obj, kv, n);
	free(kv);
	if (r < 0) {
		json_object_put(obj);
		return r;
	}
	*out = obj;
	return 0;
nomem:
	for (i = 0; i < n; i++)
		json_object_put(kv[i].val);
	free(kv);
	json_object_put(obj);
	return -ENOMEM;
}

static struct json_object *
invj_name_array(const char *const *names, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n);
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_new_string(names[i]);

		if (!s || json_object_array_add(a, s) < 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* One group's entry, or NULL in *out when it would be empty. */
static int
invj_render_group(const struct inv *inv, const struct inv_group *g,
		  unsigned flags,
	   struct json_object **out)
{
	struct json_object *obj = json_object_new_object(), *o;
	const char **names = NULL;
	struct invj_kv kv[3];
	size_t i, n = 0, max;
	int r = -ENOMEM;

	*out = NULL;
	max = g->nr_hosts > g->nr_children ? g->nr_hosts : g->nr_children;
	names = xcalloc(max + 1, sizeof(*names));
	if (!obj)
		goto out;
	/* Ansible never lists hosts under `all`: they are in ungrouped. */
	if (g != inv->groups[0] && g->nr_hosts) {
		for (i = 0; i < g->nr_hosts; i++)
			names[i] = g->hosts[i]->name;
		if (!(o = invj_name_array(names, g->nr_hosts)))
			goto out;
		kv[n].key = "hosts";
		kv[n++].val = o;
	}
	if (g->nr_children) {
		for (i = 0; i < g->nr_children; i++)
			names[i] = g->children[i]->name;
		if (!(o = invj_name_array(names, g->nr_children)))
			goto out;
		kv[n].key = "children";
		kv[n++].val = o;
	}
	if (flags & INV_LIST_EXPORT) {
		if (invj_vars(&g->vars, g->priority, g->priority != 1, &o) < 0)
			goto out;
		if (o) {
			kv[n].key = "vars";
			kv[n++].val = o;
		}
	}
	r = invj_add_sorted(obj, kv, n);
	n = 0;
	if (r < 0)
		goto out;
	if (json_object_object_length(obj)) {
		*out = obj;
		obj = NULL;
	}
	r = 0;
out:
	for (i = 0; i < n; i++)
		json_object_put(kv[i].val);
	json_object_put(obj);
	free(names);
	return r;
}

static int
invj_hostvars(const struct inv *inv, const struct inv_host *h, unsigned flags,
	      struct json_object **out)
{
	struct inv_vars eff = INV_VARS_INIT;
	int r;

	if (flags & INV_LIST_EXPORT)
		return invj_vars(&h->vars, 1, false, out);
	inv_host_vars(inv, h, &eff);
	r = invj_vars(&eff, 1, false, out);
	inv_vars_release(&eff);
	return r;
}

static int
invj_emit(struct json_object *root, struct strbuf *out)
{
	const char *s = json_object_to_json_string_ext(root,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s)
		return -ENOMEM;
	strbuf_addstr(out, s);
	strbuf_addch(out, '\n');
	return 0;
}

int
inv_list_json_ex(const struct inv *inv, unsigned flags, struct strbuf *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *meta = NULL, *hv = NULL, *o;
	struct invj_kv *kv = NULL;
	size_t i, n = 0;
	int r = -ENOMEM;

	kv = xcalloc(inv->nr_groups + inv->nr_hosts + 1, sizeof(*kv));
	if (!root)
		goto out;
	hv = json_object_new_object();
	if (!hv)
		goto out;
	for (i = 0; i < inv->nr_hosts; i++) {
		r = invj_hostvars(inv, inv->hosts[i], flags, &o);
		if (r < 0)
			goto out;
		if (o) {
			kv[n].key = inv->hosts[i]->name;
			kv[n++].val = o;
		}
	}
	r = invj_add_sorted(hv, kv, n);
	n = 0;
	if (r < 0)
		goto out;
	r = -ENOMEM;
	meta = json_object_new_object();
	if (!meta || json_object_object_add(meta, "hostvars", hv) < 0)
		goto out;
	hv = NULL;
	kv[n].key = "_meta";
	kv[n++].val = meta;
	meta = NULL;
	/* Every group hangs under `all` once the inventory is finalized, so
	 * walking the group table visits what json_inventory() recurses to. */
	for (i = 0; i < inv->nr_groups; i++) {
		r = invj_render_group(inv, inv->groups[i], flags, &o);
		if (r < 0)
			goto out;
		if (o) {
			kv[n].key = inv->groups[i]->name;
			kv[n++].val = o;
		}
	}
	r = invj_add_sorted(root, kv, n);
	n = 0;
	if (r < 0)
		goto out;
	r = invj_emit(root, out);
out:
	for (i = 0; i < n; i++)
		json_object_put(kv[i].val);
	free(kv);
	json_object_put(meta);
	json_object_put(hv);
	json_object_put(root);
	return r;
}

int
inv_list_json(const struct inv *inv, struct strbuf *out)
{
	return inv_list_json_ex(inv, 0, out);
}

int
inv_host_json(const struct inv *inv, const struct inv_host *h,
	      struct strbuf *out)
{
	struct json_object *o = NULL;
	int r;

	r = invj_hostvars(inv, h, 0, &o);
	if (r < 0)
		return r;
	if (!o && !(o = json_object_new_object()))
		return -ENOMEM;
	r = invj_emit(o, out);
	json_object_put(o);
	return r;
}
