/* jsonc: the json-c tree-building steps both codecs of protocol/ share
 * (proto_json.c for the wire, state_json.c for the agent's state file).
 *
 * Each parent owns its children: a child that cannot be attached is put
 * at once, so a failed build leaks nothing and the caller puts the partial
 * tree once. A NULL child passed in means its allocation failed. Keys are
 * string literals added once each (no copy, no lookup). How strings are
 * made stays with each codec: the wire replaces invalid UTF-8, the state
 * file keeps its own bytes.
 */
#ifndef VF_JSONC_H
#define VF_JSONC_H

#include <stdbool.h>

#include <json-c/json.h>

/* Attach val to obj under key: 0, or -ENOMEM. */
int jc_add(struct json_object *obj, const char *key, struct json_object *val);
/* JSON null (json-c represents it as a NULL child). */
int jc_add_null(struct json_object *obj, const char *key);
int jc_add_int(struct json_object *obj, const char *key, int v);
int jc_add_bool(struct json_object *obj, const char *key, bool v);
/* Append a freshly built element to arr: 0, or -ENOMEM. */
int jc_append(struct json_object *arr, struct json_object *el);

#endif
