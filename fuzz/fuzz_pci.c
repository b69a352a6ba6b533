/* fuzz_pci: sysfs attribute parsing in agent/pci.c, end to end.
 *
 * agent/pci.c keeps its parsers static, so it is included here. Two parts:
 *
 *  1. The parent's reader of the scan child's framed records
 *     (pci_parse_output) on raw bytes: never crashes or leaks.
 *  2. A fake PCI function folder under $TMPDIR whose attribute files
 *     (vendor, class, numa_node, driver_override, the iommu_group and
 *     driver links, ...) hold the input, split at 0xff bytes (a field of
 *     one 0x01 byte means "file absent"). The child's reader
 *     (pci_child_func) frames it, the parent parses the frame, and the
 *     agent's response is encoded and decoded by the controller's
 *     decoder. Promises: a function with garbled vendor/device/class is
 *     left out with an error naming the file; otherwise the ids survive
 *     the frame; and whatever the attributes hold, the controller accepts
 *     the agent's answer (a hostile sysfs must not make the host's whole
 *     answer undecodable).
 */
#include "../agent/pci.c"

#include <sys/stat.h>

#include "fuzz.h"

static const char *const attrs[] = {
	"vendor", "device", "class", "revision", "subsystem_vendor",
	"subsystem_device", "iommu_group", "boot_vga", "numa_node",
	"sriov_totalvfs", "current_link_width", "driver", "driver_override",
	"reset_method", "current_link_speed",
};
#define NATTRS (sizeof(attrs) / sizeof(*attrs))

static struct strbuf devdir = STRBUF_INIT;

static void
cleanup(void)
{
	struct strbuf path = STRBUF_INIT;

	for (size_t i = 0; i < NATTRS; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", devdir.buf, attrs[i]);
		unlink(path.buf);
	}
	rmdir(devdir.buf);
	strbuf_release(&path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	strbuf_addf(&devdir, "%s/vfleet-fuzz-pci.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(devdir.buf)) {
		perror("mkdtemp");
		abort();
	}
	atexit(cleanup);
	return 0;
}

static void
put_attr(size_t i, const uint8_t *v, size_t len)
{
	struct strbuf path = STRBUF_INIT, val = STRBUF_INIT;
	bool link = strcmp(attrs[i], "iommu_group") == 0 ||
		strcmp(attrs[i], "driver") == 0;

	strbuf_addf(&path, "%s/%s", devdir.buf, attrs[i]);
	unlink(path.buf);
	if (v && !(len == 1 && v[0] == 1)) {
		strbuf_add(&val, v, len);
		if (link) {
			(void)symlink(val.buf, path.buf);
		} else {
			FILE *f = fopen(path.buf, "w");

			if (!f)
				abort();
			fwrite(val.buf, 1, val.len, f);
			fclose(f);
		}
	}
	strbuf_release(&path);
	strbuf_release(&val);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_response resp, back;
	struct pci_child_ids ids = { 0 };
	struct strbuf raw = STRBUF_INIT, rec = STRBUF_INIT, val = STRBUF_INIT;
	struct strbuf enc = STRBUF_INIT, err = STRBUF_INIT;
	const uint8_t *p = data, *end = data + size;
	bool complete, ok;

	/* 1. the frame reader on raw bytes */
	strbuf_add(&raw, data, size);
	proto_response_init(&resp, PROTO_OP_FACTS);
	pci_parse_output(&raw, &resp, 0, &complete);
	for (size_t i = 0; i < resp.nfuncs; i++)
		FUZZ_ASSERT(resp.funcs[i].address != NULL);
	for (size_t i = 0; i < resp.nerrors; i++)
		FUZZ_ASSERT(resp.errors[i].code && resp.errors[i].message);
	proto_response_release(&resp);

	/* 2. a function folder with these attributes */
	for (size_t i = 0; i < NATTRS; i++) {
		const uint8_t *q = p < end ? memchr(p, 0xff, (size_t)(end - p)) : NULL;
		size_t len = p < end ? (size_t)((q ? q : end) - p) : 0;

		put_attr(i, p < end ? p : NULL, len);
		p = q ? q + 1 : end;
	}
	strbuf_reset(&pci_child.out);
	ok = pci_child_func(AT_FDCWD, devdir.buf, devdir.buf, "0000:0e:00.0",
			    &ids, &rec, &val);
	strbuf_add(&pci_child.out, rec.buf, rec.len);
	strbuf_addstr(&pci_child.out, "Z\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	pci_parse_output(&pci_child.out, &resp, 0, &complete);
	FUZZ_ASSERT(complete);
	if (!ok) {
		FUZZ_ASSERT(resp.nfuncs == 0 && resp.nerrors >= 1);
	} else {
		FUZZ_ASSERT(resp.nfuncs == 1);
		FUZZ_ASSERT(resp.funcs[0].vendor_id == ids.vendor);
		FUZZ_ASSERT(resp.funcs[0].device_id == ids.device);
		FUZZ_ASSERT(resp.funcs[0].class_code == ids.cls);
	}
	resp.ok = resp.nerrors == 0;
	FUZZ_ASSERT(proto_response_encode(&resp, false, &enc) == 0);
	if (proto_response_decode(enc.buf, enc.len, &back, &err) != 0) {
		fprintf(stderr, "controller rejects the agent's answer: %s\n",
			err.buf);
		abort();
	}
	proto_response_release(&back);
	proto_response_release(&resp);
	strbuf_release(&raw);
	strbuf_release(&rec);
	strbuf_release(&val);
	strbuf_release(&enc);
	strbuf_release(&err);
	return 0;
}
