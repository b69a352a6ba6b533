/* fuzz_inv_ini: the INI inventory parser (inv_load_ini) on hostile text.
 *
 * An inventory is written by the operator, but it is often generated or
 * copied around, and `vfleet inventory --list` must never crash on one.
 * Promises checked: no crash or leak; every error is -EINVAL, -E2BIG or
 * -ELOOP with a message; after a successful load, inv_finalize(), the
 * effective vars of every host, its groups and the --list / --host JSON
 * all work, and the host count stays within INV_MAX_HOSTS.
 */
#include <errno.h>

#include "fuzz.h"
#include "inventory.h"
#include "inventory_json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv *inv = inv_new();
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	int r;

	r = inv_load_ini(inv, "fuzz.ini", (const char *)data, size, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -E2BIG || r == -ELOOP);
		FUZZ_ASSERT(err.len > 0);
		goto out;
	}
	FUZZ_ASSERT(inv->nr_hosts <= INV_MAX_HOSTS);
	FUZZ_ASSERT(inv_finalize(inv) == 0);
	/* The work `vfleet inventory --list` does, bounded for speed. */
	for (size_t i = 0; i < inv->nr_hosts && i < 64; i++) {
		struct inv_vars vars = INV_VARS_INIT;
		struct inv_group **groups = NULL;
		size_t ng = inv_host_groups(inv, inv->hosts[i], &groups);

		FUZZ_ASSERT(ng >= 1 && groups[0] == inv->groups[0]);
		free(groups);
		inv_host_vars(inv, inv->hosts[i], &vars);
		inv_vars_release(&vars);
		strbuf_reset(&out);
		FUZZ_ASSERT(inv_host_json(inv, inv->hosts[i], &out) == 0);
	}
	if (inv->nr_hosts <= 1000) {
		strbuf_reset(&out);
		FUZZ_ASSERT(inv_list_json(inv, &out) == 0);
		strbuf_reset(&out);
		FUZZ_ASSERT(inv_list_json_ex(inv, INV_LIST_EXPORT, &out) == 0);
	}
out:
	inv_free(inv);
	strbuf_release(&err);
	strbuf_release(&out);
	return 0;
}
