/* fuzz_initramfs: the mkinitcpio.conf editor and the image-listing reader
 * (agent/initramfs.c) on hostile text.
 *
 * Promises checked: initramfs_mkinitcpio_edit() returns 1 exactly when
 * the text changed, is idempotent, puts the vfio modules first in
 * MODULES=() and the file item in FILES=(); a refusal (-EINVAL) names the
 * line. The listing reader never crashes.
 */
#include <errno.h>

#include "fuzz.h"
#include "initramfs.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const first[] = { "vfio_pci", "vfio",
					     "vfio_iommu_type1" };
	const char *item = "/usr/local/lib/vfleet/vfio-bind";
	struct strbuf in = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	int r;

	fuzz_cstr(&in, data, size);
	(void)initramfs_listing_has(in.buf, "vfio_pci");
	(void)initramfs_listing_has(in.buf, "");

	r = initramfs_mkinitcpio_edit(in.buf, first, 3, item, &a, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL && strstr(err.buf, "line "));
		goto out;
	}
	FUZZ_ASSERT((r == 1) == (strcmp(a.buf, in.buf) != 0));
	FUZZ_ASSERT(strstr(a.buf, "MODULES=(vfio_pci vfio vfio_iommu_type1"));
	r = initramfs_mkinitcpio_edit(a.buf, first, 3, item, &b, &err);
	if (r != 0)
		fprintf(stderr, "second edit: %d\n--- first\n%s\n--- second\n%s\n",
			r, a.buf, b.buf);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(strcmp(a.buf, b.buf) == 0);
out:
	strbuf_release(&in);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
	return 0;
}
