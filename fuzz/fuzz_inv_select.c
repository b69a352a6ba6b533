/* fuzz_inv_select: host patterns (--limit) against a fixed inventory.
 *
 * The inventory is built once (LLVMFuzzerInitialize) from an INI text with
 * ranges, nested groups and overlapping membership; the input is the
 * pattern. Promises checked: no crash or leak; success means at least one
 * host, in inventory order, no duplicates; failure is -ENOENT or -EINVAL
 * with a message. Patterns naming an @file are skipped: they read a path
 * from the input (e.g. /dev/stdin) and their parsing is the same line
 * splitting tested here.
 */
#include <errno.h>

#include "fuzz.h"
#include "inventory.h"

static const char fuzz_inv_text[] =
	"bastion ansible_host=192.0.2.10\n"
	"jumpbox:2201\n"
	"[rack_a]\n"
	"gpu[01:16] rack=a\n"
	"gpu-big-[a:d]\n"
	"[rack_b]\n"
	"gpu[17:32:3]\n"
	"node-[1:2]-[x:y]\n"
	"gpu02\n"
	"[gpu:children]\n"
	"rack_a\n"
	"rack_b\n"
	"canary\n"
	"[canary]\n"
	"gpu01\n"
	"gpu17\n"
	"[storage]\n"
	"nas[0:3]\n"
	"[lab:children]\n"
	"gpu\n"
	"storage\n"
	"[empty]\n";

static struct inv *fuzz_inv;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct strbuf err = STRBUF_INIT;

	(void)argc;
	(void)argv;
	fuzz_inv = inv_new();
	if (inv_load_ini(fuzz_inv, "fixed.ini", fuzz_inv_text,
			 sizeof(fuzz_inv_text) - 1, &err) < 0) {
		fprintf(stderr, "fixed inventory: %s\n", err.buf);
		abort();
	}
	inv_finalize(fuzz_inv);
	strbuf_release(&err);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf pat = STRBUF_INIT, err = STRBUF_INIT;
	struct inv_hostlist out = INV_HOSTLIST_INIT;
	int r;

	fuzz_cstr(&pat, data, size);
	if (strchr(pat.buf, '@'))
		goto out;
	r = inv_select(fuzz_inv, pat.buf, &out, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -ENOENT || r == -EINVAL);
		FUZZ_ASSERT(err.len > 0);
		goto out;
	}
	FUZZ_ASSERT(r == 0 && out.nr >= 1 && out.nr <= fuzz_inv->nr_hosts);
	for (size_t i = 0; i < out.nr; i++) {
		FUZZ_ASSERT(out.v[i] == fuzz_inv->hosts[out.v[i]->index]);
		if (i)
			FUZZ_ASSERT(out.v[i - 1]->index < out.v[i]->index);
	}
out:
	inv_hostlist_release(&out);
	strbuf_release(&pat);
	strbuf_release(&err);
	return 0;
}
