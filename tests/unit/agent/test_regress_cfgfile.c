/* test_regress_cfgfile: inputs the fuzzers (fuzz/) found that broke the
 * agent's host-file readers. Each test names its fuzz target; the
 * reproducer stays in fuzz/corpus/<target>/ too. Run under `make check`
 * (UBSan) as well: some were undefined behaviour only a sanitizer sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cfgfile.h"
#include "strbuf.h"

/* fuzz_hostfiles: cfgfile_cmdline_has() on a command line with a bare
 * flag of the name sought (no '=') did pointer arithmetic on NULL. */
static void
test_cmdline_has_bare_flag(void **state)
{
	const char *cl = "BOOT_IMAGE=/boot/vmlinuz root=UUID=5b9c ro quiet splash";

	(void)state;
	assert_false(cfgfile_cmdline_has(cl, "quiet", "on"));
	assert_false(cfgfile_cmdline_has("iommu", "iommu", "pt"));
	assert_true(cfgfile_cmdline_has("iommu iommu=pt", "iommu", "pt"));
	assert_true(cfgfile_cmdline_param(cl, "quiet", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_has_bare_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
