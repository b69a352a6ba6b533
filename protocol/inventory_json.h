/* inventory_json: the `ansible-inventory --list` JSON shape, both ways.
 *
 * Lives in protocol/ because json-c may only be included here; it fills
 * and reads the structs of inventory/inventory.h.
 *
 *   {"_meta": {"hostvars": {"h1": {"k": "v"}}},
 *    "all": {"children": ["ungrouped", "gpu"]},
 *    "gpu": {"hosts": ["h1"], "vars": {...}, "children": [...]}}
 */
#ifndef VF_INVENTORY_JSON_H
#define VF_INVENTORY_JSON_H

#include "inventory.h"
#include "strbuf.h"

/*
 * Load --list JSON (a file, or a script's output) into inv, the way
 * Ansible's script plugin does: every key but _meta is a group whose value
 * is {"hosts": [...], "vars": {...}, "children": [...]}, a bare list of
 * hosts, or (no such keys) the vars of a host named like the group;
 * children are created when missing; _meta.hostvars gives the vars of the
 * hosts listed in groups. String values are stored as strings, others as
 * their JSON text (inv_var.json). When need_hostvars is not NULL and the
 * document has no _meta.hostvars, the hosts it listed are appended there
 * (the caller then asks `script --host NAME`). Returns 0, -EINVAL (bad JSON
 * or shape), -ELOOP or -E2BIG; "name: ..." message appended to err.
 */
int inv_json_load(struct inv *inv, const char *name, const char *buf,
		  size_t len, struct inv_hostlist *need_hostvars,
		  struct strbuf *err);
/* Set h's vars from a `script --host NAME` answer (a JSON object; empty
 * output means no vars). */
int inv_json_load_hostvars(struct inv_host *h, const char *name,
			   const char *buf, size_t len, struct strbuf *err);

/* Render flags. */
#define INV_LIST_EXPORT	(1u << 0)	/* as `--list --export`: group vars
					 * under each group, hostvars only
					 * the host's own */

/*
 * Render inv (finalized) exactly in the `ansible-inventory --list` shape:
 * `all` lists its children (ungrouped included), every other group its
 * direct `hosts` and `children`, each key present only when non-empty and
 * groups with neither left out; `_meta.hostvars` holds every host's
 * effective vars (hosts without vars left out). Keys are sorted as
 * Ansible's json.dumps(sort_keys=True) does. Appends to out; returns 0 or
 * -ENOMEM.
 */
int inv_list_json(const struct inv *inv, struct strbuf *out);
int inv_list_json_ex(const struct inv *inv, unsigned flags,
		     struct strbuf *out);
/* `ansible-inventory --host NAME`: h's effective vars as one object. */
int inv_host_json(const struct inv *inv, const struct inv_host *h,
		  struct strbuf *out);

#endif
