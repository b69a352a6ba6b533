/* test_regress_pci: inputs fuzz/fuzz_pci found that broke PCI discovery.
 * The reproducers stay in fuzz/corpus/fuzz_pci/. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pci.h"
#include "proto.h"
#include "strbuf.h"

static void
put(const char *root, const char *rel, const void *data, size_t len)
{
	struct strbuf path = STRBUF_INIT, cmd = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&path, "%s/%s", root, rel);
	strbuf_addf(&cmd, "mkdir -p \"$(dirname '%s')\"", path.buf);
	assert_int_equal(system(cmd.buf), 0);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	strbuf_release(&path);
	strbuf_release(&cmd);
}

#define PUT(root, rel, s) put(root, rel, s, strlen(s))
#define DEV "sys/bus/pci/devices/0000:0e:00.0/"

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* A function with out-of-range numbers: sysfs said current_link_width
 * 60000 and sriov_totalvfs 70000; the agent passed them on and the
 * controller rejected the whole answer ("funcs[0].link_width: 60000 is
 * out of range 0..255"). Now they are garbled attributes: an error naming
 * the file, the value unknown, and the answer decodes. */
static void
test_out_of_range_numbers(void **state)
{
	char root[] = "/tmp/vfleet-regress-pci.XXXXXX";
	char config[64] = { 0 };
	struct proto_response resp, back;
	struct strbuf enc = STRBUF_INIT, err = STRBUF_INIT;
	size_t found = 0;

	(void)state;
	assert_non_null(mkdtemp(root));
	PUT(root, DEV "vendor", "0x8086\n");
	PUT(root, DEV "device", "0x6f00\n");
	PUT(root, DEV "class", "0x060000\n");
	PUT(root, DEV "revision", "0x01\n");
	PUT(root, DEV "current_link_width", "60000\n");
	PUT(root, DEV "sriov_totalvfs", "70000\n");
	put(root, DEV "config", config, sizeof(config));

	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(root, &resp), -EIO);
	assert_int_equal(resp.nfuncs, 1);
	assert_int_equal(resp.funcs[0].link_width, -1);
	assert_int_equal(resp.funcs[0].sriov_totalvfs, -1);
	for (size_t i = 0; i < resp.nerrors; i++)
		if (strcmp(resp.errors[i].code, "pci-attr") == 0 &&
		    (strstr(resp.errors[i].path, "/current_link_width") ||
		     strstr(resp.errors[i].path, "/sriov_totalvfs")))
			found++;
	assert_int_equal(found, 2);
	assert_int_equal(proto_response_encode(&resp, false, &enc), 0);
	assert_int_equal(proto_response_decode(enc.buf, enc.len, &back, &err), 0);
	proto_response_release(&back);
	proto_response_release(&resp);
	strbuf_release(&enc);
	strbuf_release(&err);
	assert_int_equal(nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_range_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
