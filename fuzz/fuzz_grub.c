/* fuzz_grub: the kernel command line editors of agent/grub.c on hostile
 * /etc/default/grub, BLS entries and kernelstub JSON.
 *
 * /etc/default/grub goes through grub_fuzz_one() (agent/grub.c), which
 * checks its own promises. Here, in addition: grub_cmdline_edit() is
 * idempotent, leaves every set[] parameter present and every remove[]
 * token gone; grub_bls_edit() is idempotent and its result has the
 * parameters in its options; grub_kernelstub_options() never crashes.
 */
#include <errno.h>

#include "fuzz.h"
#include "grub.h"

static const char *const set[] = {
	"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1c03,10de:10f1",
};
static const char *const rm[] = { "nouveau.modeset=0", "quiet" };

static void
check_has_params(const char *cmdline)
{
	struct strbuf v = STRBUF_INIT;

	for (size_t i = 0; i < 3; i++) {
		FUZZ_ASSERT(grub_cmdline_get(cmdline, set[i], &v));
		FUZZ_ASSERT(strcmp(v.buf, strchr(set[i], '=') + 1) == 0);
	}
	strbuf_release(&v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf in = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct strbuf opts = STRBUF_INIT;
	int r;

	grub_fuzz_one(data, size);

	fuzz_cstr(&in, data, size);
	/* A command line is one line: what /proc/cmdline or a variable holds. */
	if (!strpbrk(in.buf, "\n\r")) {
		grub_cmdline_edit(in.buf, set, 3, rm, 2, &a);
		FUZZ_ASSERT(!grub_cmdline_edit(a.buf, set, 3, rm, 2, &b));
		FUZZ_ASSERT(strcmp(a.buf, b.buf) == 0);
		check_has_params(a.buf);
	}

	r = grub_bls_edit(in.buf, in.len, set, 3, NULL, 0, &a);
	FUZZ_ASSERT(r == 0 || r == 1);
	FUZZ_ASSERT(grub_bls_edit(a.buf, a.len, set, 3, NULL, 0, &b) == 0);
	FUZZ_ASSERT(strcmp(a.buf, b.buf) == 0);
	FUZZ_ASSERT(grub_bls_options(a.buf, a.len, &opts));

	(void)grub_kernelstub_options(in.buf, &opts);

	strbuf_release(&in);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&opts);
	return 0;
}
