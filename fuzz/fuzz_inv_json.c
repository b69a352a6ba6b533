/* fuzz_inv_json: `ansible-inventory --list` JSON (inv_json_load), as read
 * from a file or an inventory script's output.
 *
 * Promises checked: no crash or leak; errors are -EINVAL/-E2BIG/-ELOOP
 * with a message; a loaded inventory renders with inv_list_json(), and
 * that rendering loads again and renders to the same bytes (a fixed
 * point: `vfleet inventory --list > x.json; vfleet -i x.json` sees the
 * same fleet). The per-host `--host` answer loader gets the same bytes.
 */
#include <errno.h>

#include "fuzz.h"
#include "inventory.h"
#include "inventory_json.h"

static int
load_render(const char *buf, size_t len, struct strbuf *out, size_t *nhosts)
{
	struct inv *inv = inv_new();
	struct inv_hostlist need = INV_HOSTLIST_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = inv_json_load(inv, "fuzz.json", buf, len, &need, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -E2BIG || r == -ELOOP);
		FUZZ_ASSERT(err.len > 0);
		goto out;
	}
	FUZZ_ASSERT(inv->nr_hosts <= INV_MAX_HOSTS);
	FUZZ_ASSERT(need.nr <= inv->nr_hosts);
	FUZZ_ASSERT(inv_finalize(inv) == 0);
	*nhosts = inv->nr_hosts;
	if (inv->nr_hosts <= 1000)
		FUZZ_ASSERT(inv_list_json(inv, out) == 0);
out:
	inv_hostlist_release(&need);
	inv_free(inv);
	strbuf_release(&err);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;
	struct inv *inv;
	struct inv_host *h = NULL;
	size_t n1 = 0, n2 = 0;

	/* `script --host NAME` answers: any bytes, one host. */
	inv = inv_new();
	if (inv_host_add(inv, "h", NULL, NULL, &h, &err) == 0)
		(void)inv_json_load_hostvars(h, "fuzz --host h",
					     (const char *)data, size, &err);
	inv_free(inv);

	if (load_render((const char *)data, size, &a, &n1) < 0 || !a.len)
		goto out;
	if (load_render(a.buf, a.len, &b, &n2) != 0) {
		fprintf(stderr, "rendering does not load again:\n%s\n", a.buf);
		abort();
	}
	FUZZ_ASSERT(n1 == n2);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0) {
		fprintf(stderr, "not a fixed point:\n%s\n---\n%s\n", a.buf, b.buf);
		abort();
	}
out:
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
	return 0;
}
