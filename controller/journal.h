/* journal: the run journal, JSON lines, one event per host step.
 *
 * Kept on the controller under the state directory
 * (--state-dir, default $XDG_STATE_HOME/vfleet or ~/.local/state/vfleet) as
 * runs/<run-id>.jsonl, flushed and fsynced per event so that a controller
 * killed mid-run leaves a journal `vfleet apply --resume` can continue from.
 */
#ifndef VF_JOURNAL_H
#define VF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "strbuf.h"

struct journal;

/* Default state directory into out. */
void journal_default_dir(struct strbuf *out);
/* Open (append) runs/<run_id>.jsonl under dir, creating folders (0700).
 * Returns NULL with the reason in err. */
struct journal *journal_open(const char *dir, const char *run_id,
			     struct strbuf *err);
void journal_close(struct journal *j);
/* Append one event; detail may be NULL. Thread-safe. */
void journal_event(struct journal *j, const char *op, int batch,
		   const char *host, const char *step, const char *outcome,
		   const char *detail);
/*
 * Names of the hosts whose last event in run_id's journal is step "done"
 * (finished: verified, or nothing to do), as a proto-style string vector
 * the caller frees with proto_strv_free(). Returns 0 or -errno.
 */
int journal_done_hosts(const char *dir, const char *run_id, char ***hosts,
		       size_t *n);
/*
 * The run id of the most recent journal under dir whose operation is op
 * ("apply", "rollback"; NULL: any) into out: 0 or -ENOENT.
 */
int journal_latest(const char *dir, const char *op, struct strbuf *out);
/* The operation recorded in run_id's journal into op: 0 or -errno/-ENOENT. */
int journal_run_op(const char *dir, const char *run_id, struct strbuf *op);

#endif
