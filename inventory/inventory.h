/* inventory: Ansible-compatible inventories and host patterns.
 *
 * One `struct inv` holds every host and group read from one or more `-i`
 * sources (INI files, `ansible-inventory --list` JSON files, executable
 * inventory scripts run with --list, and "h1,h2," host lists), merged the way
 * ansible-inventory merges them. It always has the groups `all` (groups[0])
 * and `ungrouped` (groups[1]). The inventory owns every host, group and
 * string in it; callers borrow pointers until inv_free().
 *
 * Semantics follow ansible-core (plugins/inventory/ini.py, script.py,
 * host_list.py, inventory/data.py, group.py, helpers.py, manager.py); where
 * vfleet differs, the comment on the function says why. Notable differences:
 *   - INI values are kept as strings (Ansible runs ast.literal_eval); one
 *     level of matching quotes is stripped, so `a="x y"` and `a='x y'` are
 *     the string `x y`. JSON inventories keep non-string values as JSON text
 *     (struct inv_var.json).
 *   - A numeric range whose end is before its start (`gpu[9:1]`) is an error;
 *     Ansible silently expands it to no hosts.
 *   - An inventory holds at most INV_MAX_HOSTS hosts; a range that would
 *     exceed that is refused before anything is allocated.
 *   - Host patterns return hosts in inventory order (the order hosts were
 *     first defined); a sub-pattern that matches nothing is an error, not a
 *     warning.
 *   - No implicit localhost, no group_vars/host_vars directories, no YAML.
 * Kept from Ansible on purpose: a group named under [x:children] in an INI
 * file must be declared in that file ([g] or [g:children]) or an earlier
 * source, else "Section [x:children] includes undefined group: g" (catches
 * typos); JSON inventories create missing children, as Ansible's script
 * plugin does.
 */
#ifndef VF_INVENTORY_H
#define VF_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Hard cap on hosts in one inventory (all sources together). A range such
 * as h[0:99999999] is refused up front instead of eating the controller's
 * memory; 100000 is far beyond any lab and loads in well under a second. */
#define INV_MAX_HOSTS		100000
/* Largest inventory file or script output read. */
#define INV_FILE_MAX		(64u << 20)
/* An inventory script must answer --list (and each --host) within this. */
#define INV_SCRIPT_TIMEOUT_MS	60000

/* One variable. value is the string for string values; when json is true
 * it is the JSON text of a non-string value (number, bool, null, list,
 * object) from a JSON inventory. */
struct inv_var {
	char *key;
	char *value;
	bool json;
};

/* An ordered key -> value map (definition order; setting an existing key
 * replaces its value in place, as a Python dict does). Owns its strings.
 * Initialise with INV_VARS_INIT, free with inv_vars_release(). */
struct inv_vars {
	struct inv_var *v;
	size_t nr, alloc;
};
#define INV_VARS_INIT { NULL, 0, 0 }

struct inv_group;

struct inv_host {
	char *name;
	size_t index;			/* position in inv->hosts */
	struct inv_vars vars;		/* the host's own vars */
	struct inv_group **groups;	/* direct groups, in the order joined */
	size_t nr_groups, alloc_groups;
};

struct inv_group {
	char *name;
	size_t index;			/* position in inv->groups */
	struct inv_vars vars;		/* the group's own vars */
	int priority;			/* ansible_group_priority, default 1 */
	unsigned depth;			/* longest path from `all` (inv_finalize) */
	struct inv_host **hosts;	/* direct hosts, in the order added */
	size_t nr_hosts, alloc_hosts;
	struct inv_group **children;	/* in the order added */
	size_t nr_children, alloc_children;
	struct inv_group **parents;
	size_t nr_parents, alloc_parents;
	/* private */
	struct inv_group **ancestors;	/* self + every ancestor (inv_finalize) */
	size_t nr_ancestors;
	unsigned visit;
};

struct inv_map;

struct inv {
	struct inv_host **hosts;	/* in the order first defined */
	size_t nr_hosts, alloc_hosts;
	struct inv_group **groups;	/* [0] all, [1] ungrouped, then by creation */
	size_t nr_groups, alloc_groups;
	/* private */
	struct inv_map *host_map;
	struct inv_map *group_map;
	unsigned visit_gen;
	bool finalized;
};

/* A list of hosts borrowed from an inventory (the list itself is owned). */
struct inv_hostlist {
	struct inv_host **v;
	size_t nr, alloc;
};
#define INV_HOSTLIST_INIT { NULL, 0, 0 }
void inv_hostlist_release(struct inv_hostlist *l);

/* A list of owned strings (range expansion output). */
struct inv_names {
	char **v;
	size_t nr, alloc;
};
#define INV_NAMES_INIT { NULL, 0, 0 }
void inv_names_release(struct inv_names *n);

/* ---- the whole inventory ------------------------------------------------ */

/* Return a new inventory with only `all` and `ungrouped`; caller frees it
 * with inv_free(). Never NULL. */
struct inv *inv_new(void);
void inv_free(struct inv *inv);

/*
 * Load `-i` sources in order into inv and finalize it. Each source is, as
 * Ansible decides: a path that does not exist and contains ',' -> host list
 * ("h1,h2:2222,"); an executable regular file -> inventory script run with
 * --list; a file whose first non-space character is '{' -> --list JSON;
 * anything else -> INI. Returns 0, -EINVAL (parse error), -E2BIG (more than
 * INV_MAX_HOSTS), -ELOOP (group cycle) or -errno (I/O, script failure); the
 * message ("lab.ini:7: ...") is appended to err.
 */
int inv_load(struct inv *inv, const char *const *sources, size_t nr,
	     struct strbuf *err);
/* Load one source without finalizing (see inv_load). */
int inv_load_source(struct inv *inv, const char *source, struct strbuf *err);
/* Parse INI text; `name` is used in messages ("name:line: ..."). */
int inv_load_ini(struct inv *inv, const char *name, const char *buf,
		 size_t len, struct strbuf *err);
/* Add the hosts of an Ansible host list ("a,b:2222,[::1]:22,") to ungrouped. */
int inv_load_host_list(struct inv *inv, const char *list, struct strbuf *err);
/* Run an executable inventory script with --list (and --host NAME for each
 * host when its output has no _meta.hostvars) and load its JSON. */
int inv_load_script(struct inv *inv, const char *path, struct strbuf *err);

/*
 * What ansible's reconcile_inventory does after the last source: groups
 * without a parent become children of `all`; hosts in no group (or only in
 * `all`) join `ungrouped`, hosts in another group leave it. Also computes
 * group depths and ancestor sets for inv_host_vars(). Call it again after
 * changing the inventory. Always 0.
 */
int inv_finalize(struct inv *inv);

/* ---- building (used by the parsers) -------------------------------------- */

/* Lookups by exact name; NULL when absent. */
struct inv_host *inv_host_find(const struct inv *inv, const char *name);
struct inv_group *inv_group_find(const struct inv *inv, const char *name);
/* Return the group called name, created (with no parent) if needed. */
struct inv_group *inv_group_add(struct inv *inv, const char *name);
/*
 * Return in *out the host called name, creating it if needed, and add it to
 * group g (may be NULL). `port` (may be NULL) sets ansible_port only when the
 * host is new, as Ansible's Host(name, port) does. Returns 0, -EINVAL for an
 * empty name or one with whitespace/control characters, or -E2BIG at the
 * INV_MAX_HOSTS cap; message in err.
 */
int inv_host_add(struct inv *inv, const char *name, struct inv_group *g,
		 const char *port, struct inv_host **out, struct strbuf *err);
/*
 * Make child a child group of parent. Adding an existing edge is a no-op.
 * Returns 0, or -ELOOP when the edge would create a cycle (a group cannot
 * be its own descendant, and `all` cannot be anybody's child); message in
 * err, Ansible's wording.
 */
int inv_group_add_child(struct inv *inv, struct inv_group *parent,
			struct inv_group *child, struct strbuf *err);
/* Set a group var; ansible_group_priority sets g->priority instead (as in
 * Ansible) and must be an integer (-EINVAL otherwise). */
int inv_group_set_var(struct inv_group *g, const char *key,
		      const char *value, bool json, struct strbuf *err);
void inv_host_set_var(struct inv_host *h, const char *key, const char *value,
		      bool json);

/* ---- variables ---------------------------------------------------------- */

/* Set key to a copy of value (replacing in place when key exists). */
void inv_vars_set(struct inv_vars *vars, const char *key, const char *value,
		  bool json);
/* Borrowed entry for key, or NULL. */
const struct inv_var *inv_vars_find(const struct inv_vars *vars,
				    const char *key);
/* Borrowed value string for key, or NULL (JSON values as their text). */
const char *inv_vars_get(const struct inv_vars *vars, const char *key);
/* Copy every entry of src over dst (src wins), Python's `dst | src`. */
void inv_vars_merge(struct inv_vars *dst, const struct inv_vars *src);
void inv_vars_release(struct inv_vars *vars);

/*
 * Ansible's boolean(): y/yes/on/1/true/t and n/no/off/0/false/f, any case
 * (JSON true/false/1/0 too). Returns 0, or -EINVAL for anything else
 * (Ansible would quietly read it as false: vfleet refuses to guess).
 */
int inv_parse_bool(const char *s, bool *out);
/* Look key up in vars: *out = def when unset. 0 or -EINVAL (message names
 * the host, the key and the value). */
int inv_vars_get_bool(const struct inv_vars *vars, const char *host,
		      const char *key, bool def, bool *out, struct strbuf *err);
/* Same for a non-negative decimal integer no larger than max. */
int inv_vars_get_uint(const struct inv_vars *vars, const char *host,
		      const char *key, unsigned long def, unsigned long max,
		      unsigned long *out, struct strbuf *err);

/*
 * Fill *out (released first; caller releases it) with the effective
 * variables of h, as Ansible's VariableManager merges inventory vars:
 * `all` < every other group the host is in (directly or through children),
 * ordered by (depth, ansible_group_priority, name) - deeper groups win,
 * then higher priority, then the alphabetically later name - < host vars.
 * Requires inv_finalize().
 */
void inv_host_vars(const struct inv *inv, const struct inv_host *h,
		   struct inv_vars *out);
/* Every group h belongs to, directly or through children, `all` included,
 * in the merge order above (all first). Returns the count; *groups is a
 * new array the caller free()s, of pointers borrowed from inv. Requires
 * inv_finalize(). */
size_t inv_host_groups(const struct inv *inv, const struct inv_host *h,
		       struct inv_group ***groups);

/* How to reach a host, from its effective vars (Ansible names; when an
 * alias is also set, the later one in Ansible's list wins: ansible_ssh_host
 * over ansible_host, ansible_ssh_port over ansible_port, ...). Strings are
 * borrowed from the vars passed in. */
struct inv_conn {
	const char *address;		/* ansible_host, else the host name */
	unsigned port;			/* ansible_port; 0 when unset */
	const char *user;		/* ansible_user; NULL when unset */
	const char *private_key_file;	/* ansible_ssh_private_key_file */
	bool become;			/* ansible_become */
	const char *become_user;	/* ansible_become_user; NULL: root */
};
int inv_conn_from_vars(const struct inv_vars *vars, const char *host,
		       struct inv_conn *c, struct strbuf *err);

/* ---- ranges and patterns ------------------------------------------------ */

/*
 * Expand Ansible host ranges: `gpu[01:40]` (zero padding kept; a padded
 * begin and its end must have the same width), `[01:50:2]` (stride),
 * `db-[a:f]` (letters), several ranges in one name (the first one varies
 * slowest), all inclusive. A name without '[' expands to itself. Appends to
 * out. Refuses with -E2BIG, before allocating anything, when more than max
 * names would result; -EINVAL for a malformed range. The message, without a
 * file:line prefix, is appended to err: `invalid host range "gpu[1:0]": end
 * before start`.
 */
int inv_range_expand(const char *pattern, size_t max, struct inv_names *out,
		     struct strbuf *err);

/*
 * Select hosts with an Ansible host pattern (`--limit`): names separated by
 * ',' (or ':' when that is unambiguous); each is a host name, a group name
 * (all hosts under it), a glob (`gpu*`, `all`, `*`), `~ERE` (POSIX extended
 * regex, anchored at the start as Python's re.match), optionally with a
 * `[i]`/`[i:j]` subscript, or `@file` (one pattern per line). `&p` intersects
 * and `!p` excludes; as in Ansible, unions apply first, then intersections,
 * then exclusions. Fills *out (reset first) with matching hosts in inventory
 * order. Returns 0, -ENOENT when a sub-pattern matches no host or group
 * ("Could not match supplied host pattern: x") or when nothing is left,
 * or -EINVAL for a bad regex/subscript/file; message in err.
 */
int inv_select(const struct inv *inv, const char *pattern,
	       struct inv_hostlist *out, struct strbuf *err);

#endif
