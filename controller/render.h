/* render: what the operator reads: the fleet table, the recap, --json. */
#ifndef VF_RENDER_H
#define VF_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

/* One row per GPU function and companion, across hosts, in given order. */
void render_table(FILE *fp, const struct result *res, size_t n, bool color);
/* Ansible-style PLAY RECAP, hosts sorted by name. */
void render_recap(FILE *fp, const struct result *res, size_t n, bool color);
/* Findings at warning or above, per host, with their first evidence. */
void render_findings(FILE *fp, const struct result *res, size_t n, bool color);
/* What changed (or would change, for plan): files with their diffs when
 * show_diff, commands with their exit status; errors of the agent. */
void render_changes(FILE *fp, const struct result *res, size_t n,
		    bool show_diff, bool color);
/* The whole run as one JSON document (appended to out); extra, when not
 * NULL, is more top-level members (`"k":v,...`) written by the caller. */
void render_json(struct strbuf *out, const char *operation,
		 const struct result *res, size_t n, const char *extra);
/* One JSON line for one host (for --jsonl), newline-terminated. */
void render_jsonl(struct strbuf *out, const struct result *r);

#endif
