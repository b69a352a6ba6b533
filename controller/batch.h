/* batch: Ansible's `serial` and `max_fail_percentage`, exactly.
 *
 * serial is "N", "N%", or a comma list of them ("1,25%,100%"): list items
 * are used in order and the last one repeats; a percentage is of the TOTAL
 * number of hosts (never the remaining ones), floored, at least 1; absent
 * or <= 0 means one batch of everything
 * (playbook_executor._get_serialized_batches, helpers.pct_to_int).
 */
#ifndef VF_BATCH_H
#define VF_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define BATCH_SERIAL_MAX 64	/* items in a serial list */

struct batch_plan {
	size_t *size;		/* hosts per batch, in order (owned) */
	size_t n;
};

/*
 * Split `total` hosts into batches per `serial` (NULL or "" = one batch).
 * Returns 0, or -EINVAL with "--serial: ..." in err for a malformed spec.
 */
int batch_plan_make(const char *serial, size_t total, struct batch_plan *out,
		    struct strbuf *err);
void batch_plan_release(struct batch_plan *p);

/*
 * Parse --max-fail-percentage: an integer 0..100 (Ansible allows any number;
 * above 100 means "never", which we keep as 101). -1 when unset.
 */
int batch_parse_max_fail(const char *s, int *out, struct strbuf *err);

/*
 * Should the run stop after a step of a batch? Ansible's rules: failed
 * hosts / batch size must EXCEED max_fail_pct (strict; unreachable hosts do
 * not count) when max_fail_pct >= 0; any failed host stops the run when
 * any_errors_fatal; and a batch whose hosts all failed or were unreachable
 * always stops the run (#82267).
 */
bool batch_should_stop(size_t batch_size, size_t failed, size_t unreachable,
		       int max_fail_pct, bool any_errors_fatal);

#endif
