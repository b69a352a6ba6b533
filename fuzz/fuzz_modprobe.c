/* fuzz_modprobe: modprobe.d and module-list editors (agent/modprobe.c) on
 * hostile file text, with the parameters apply uses.
 *
 * Promises checked (modprobe.h): after each edit, the directive the edit
 * ensures is seen by the matching reader (kmod would see it too: an edit
 * must not land inside a continuation or a comment), a second edit
 * changes nothing, and "true when changed" is accurate; an appended line
 * keeps every byte before it. List add/remove: has/!has afterwards,
 * idempotent.
 */
#include "fuzz.h"
#include "modprobe.h"

static char *const ids[] = { "10de:1c03", "10de:10f1" };

static void
check_changed(bool changed, const char *before, const struct strbuf *after)
{
	FUZZ_ASSERT(changed == (strcmp(before, after->buf) != 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf orig = STRBUF_INIT, t = STRBUF_INIT;
	bool other, c;

	fuzz_cstr(&orig, data, size);

	/* The readers on the raw text. */
	(void)modprobe_text_has_blacklist(orig.buf, "nouveau");
	(void)modprobe_text_has_option(orig.buf, "vfio-pci", "ids", NULL);
	(void)modprobe_text_has_softdep(orig.buf, "nvidia", "vfio-pci");
	(void)modprobe_text_has_install(orig.buf, "nouveau", "/bin/false", &other);

	/* options vfio-pci ids=... */
	strbuf_reset(&t);
	strbuf_addstr(&t, orig.buf);
	c = modprobe_merge_option_list(&t, "vfio-pci", "ids", ids, 2);
	check_changed(c, orig.buf, &t);
	FUZZ_ASSERT(modprobe_text_has_option(t.buf, "vfio-pci", "ids", NULL));
	strbuf_reset(&orig);
	strbuf_addstr(&orig, t.buf);
	FUZZ_ASSERT(!modprobe_merge_option_list(&t, "vfio-pci", "ids", ids, 2));
	FUZZ_ASSERT(strcmp(orig.buf, t.buf) == 0);

	/* softdep nvidia pre: vfio-pci */
	c = modprobe_ensure_softdep(&t, "nvidia", "vfio-pci");
	check_changed(c, orig.buf, &t);
	FUZZ_ASSERT(modprobe_text_has_softdep(t.buf, "nvidia", "vfio-pci"));
	strbuf_reset(&orig);
	strbuf_addstr(&orig, t.buf);
	FUZZ_ASSERT(!modprobe_ensure_softdep(&t, "nvidia", "vfio-pci"));
	FUZZ_ASSERT(strcmp(orig.buf, t.buf) == 0);

	/* blacklist nouveau: appended, every byte before it kept. */
	c = modprobe_ensure_line(&t, "blacklist nouveau");
	check_changed(c, orig.buf, &t);
	FUZZ_ASSERT(strncmp(t.buf, orig.buf, orig.len) == 0);
	FUZZ_ASSERT(modprobe_text_has_blacklist(t.buf, "nouveau"));
	FUZZ_ASSERT(!modprobe_ensure_line(&t, "blacklist nouveau"));
	/* The earlier edits survive the later ones. */
	FUZZ_ASSERT(modprobe_text_has_option(t.buf, "vfio-pci", "ids", NULL));
	FUZZ_ASSERT(modprobe_text_has_softdep(t.buf, "nvidia", "vfio-pci"));

	/* Module lists (/etc/modules, initramfs-tools/modules). */
	strbuf_reset(&orig);
	fuzz_cstr(&orig, data, size);
	strbuf_reset(&t);
	strbuf_addstr(&t, orig.buf);
	c = modprobe_list_add(&t, "vfio_pci");
	check_changed(c, orig.buf, &t);
	FUZZ_ASSERT(modprobe_list_has(t.buf, "vfio-pci"));
	FUZZ_ASSERT(!modprobe_list_add(&t, "vfio_pci"));
	strbuf_reset(&orig);
	strbuf_addstr(&orig, t.buf);
	c = modprobe_list_remove(&t, "vfio-pci");
	FUZZ_ASSERT(c);
	check_changed(c, orig.buf, &t);
	FUZZ_ASSERT(!modprobe_list_has(t.buf, "vfio_pci"));
	FUZZ_ASSERT(!modprobe_list_remove(&t, "vfio_pci"));

	strbuf_release(&orig);
	strbuf_release(&t);
	return 0;
}
