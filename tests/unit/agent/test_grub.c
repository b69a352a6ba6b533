/* test_grub: the kernel command line editors (pure functions) and the
 * fuzz entry over many mutated inputs. */
#include <errno.h>
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

#include "scratch.h"

#include "grub.h"
#include "strbuf.h"

static const char *const vfio_set[] = { "intel_iommu=on", "iommu=pt" };
#define VAR "GRUB_CMDLINE_LINUX_DEFAULT"

/* grub_default_edit() with vfio_set; returns its result, out in *out. */
static int
edit(const char *in, struct strbuf *out, struct strbuf *err)
{
	strbuf_reset(err);
	return grub_default_edit(in, strlen(in), VAR, vfio_set, 2, NULL, 0, out,
				 err);
}

static void
test_cmdline_edit(void **state)
{
	static const char *const set[] = { "vfio-pci.ids=10de:1c03,10de:10f1",
					   "iommu=pt" };
	static const char *const rm[] = { "quiet" };
	struct strbuf out = STRBUF_INIT, v = STRBUF_INIT;

	(void)state;
	/* Append with one blank, keep the rest as written. */
	assert_true(grub_cmdline_edit("quiet  splash", set, 2, NULL, 0, &out));
	assert_string_equal(out.buf, "quiet  splash vfio-pci.ids=10de:1c03,10de:10f1 "
			    "iommu=pt");
	/* Replace the last occurrence of the same name ('-' == '_'). */
	assert_true(grub_cmdline_edit("vfio_pci.ids=10de:1 a iommu=nopt", set, 2,
				      NULL, 0, &out));
	assert_string_equal(out.buf, "vfio-pci.ids=10de:1c03,10de:10f1 a iommu=pt");
	/* Already there: unchanged. */
	assert_false(grub_cmdline_edit("iommu=pt vfio-pci.ids=10de:1c03,10de:10f1",
				       set, 2, NULL, 0, &out));
	/* Empty line: no leading blank. */
	assert_true(grub_cmdline_edit("", set + 1, 1, NULL, 0, &out));
	assert_string_equal(out.buf, "iommu=pt");
	/* Remove exact tokens, first and middle, keeping blanks sane. */
	assert_true(grub_cmdline_edit("quiet splash quiet x", NULL, 0, rm, 1, &out));
	assert_string_equal(out.buf, "splash x");
	assert_true(grub_cmdline_edit(" quiet", NULL, 0, rm, 1, &out));
	assert_string_equal(out.buf, "");
	/* A bare name is not a param with a value ('quietly' stays). */
	assert_false(grub_cmdline_edit("quietly", NULL, 0, rm, 1, &out));

	assert_true(grub_cmdline_get("a iommu=off b iommu=pt", "iommu", &v));
	assert_string_equal(v.buf, "pt");
	assert_true(grub_cmdline_get("vfio_pci.ids=1", "vfio-pci.ids=x", &v));
	assert_string_equal(v.buf, "1");
	assert_false(grub_cmdline_get("iommu_x=1", "iommu", &v));
	assert_true(grub_param_same_name("vfio-pci.ids=1", "vfio_pci.ids"));
	assert_false(grub_param_same_name("iommu", "intel_iommu"));
	strbuf_release(&out);
	strbuf_release(&v);
}

static void
test_default_forms(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	/* Double quotes, other bytes kept (comment and next line). */
	assert_int_equal(edit("# c\n" VAR "=\"quiet splash\"  # x\nGRUB_T=5\n",
			      &out, &err), 1);
	assert_string_equal(out.buf, "# c\n" VAR "=\"quiet splash intel_iommu=on "
			    "iommu=pt\"  # x\nGRUB_T=5\n");
	/* "" (the regex that expects a value silently does nothing here). */
	assert_int_equal(edit(VAR "=\"\"\n", &out, &err), 1);
	assert_string_equal(out.buf, VAR "=\"intel_iommu=on iommu=pt\"\n");
	/* Single quotes stay single. */
	assert_int_equal(edit(VAR "='quiet'\n", &out, &err), 1);
	assert_string_equal(out.buf, VAR "='quiet intel_iommu=on iommu=pt'\n");
	/* No quotes: quoted once blanks appear. */
	assert_int_equal(edit(VAR "=quiet\n", &out, &err), 1);
	assert_string_equal(out.buf, VAR "=\"quiet intel_iommu=on iommu=pt\"\n");
	/* Empty and unquoted. */
	assert_int_equal(edit("export " VAR "=\n", &out, &err), 1);
	assert_string_equal(out.buf, "export " VAR "=\"intel_iommu=on iommu=pt\"\n");
	/* Missing: appended (never the word None), newline supplied. */
	assert_int_equal(edit("GRUB_TIMEOUT=5", &out, &err), 1);
	assert_string_equal(out.buf, "GRUB_TIMEOUT=5\n" VAR "=\"intel_iommu=on "
			    "iommu=pt\"\n");
	assert_null(strstr(out.buf, "None"));
	assert_int_equal(edit("", &out, &err), 1);
	assert_string_equal(out.buf, VAR "=\"intel_iommu=on iommu=pt\"\n");
	/* The last assignment wins, so it is the one edited. */
	assert_int_equal(edit(VAR "=\"a\"\n" VAR "=\"b\"\n", &out, &err), 1);
	assert_string_equal(out.buf, VAR "=\"a\"\n" VAR "=\"b intel_iommu=on "
			    "iommu=pt\"\n");
	/* A commented-out assignment is not one. */
	assert_int_equal(edit("#" VAR "=\"x\"\n", &out, &err), 1);
	assert_string_equal(out.buf, "#" VAR "=\"x\"\n" VAR "=\"intel_iommu=on "
			    "iommu=pt\"\n");
	/* $VAR references are kept as tokens (grub.d appending style). */
	assert_int_equal(edit(VAR "=\"$" VAR " x\"\n", &out, &err), 1);
	assert_string_equal(out.buf, VAR "=\"$" VAR " x intel_iommu=on iommu=pt\"\n");
	/* CRLF line endings survive. */
	assert_int_equal(edit(VAR "=\"q\"\r\nA=1\r\n", &out, &err), 1);
	assert_string_equal(out.buf, VAR "=\"q intel_iommu=on iommu=pt\"\r\nA=1\r\n");
	/* Nothing to do: 0 and the same bytes. */
	assert_int_equal(edit(VAR "=\"intel_iommu=on iommu=pt\"\n", &out, &err), 0);
	assert_string_equal(out.buf, VAR "=\"intel_iommu=on iommu=pt\"\n");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
test_default_refusals(void **state)
{
	static const char *const bad[] = {
		VAR "=\"$(cat /etc/x)\"\n",
		VAR "=\"`cat /etc/x`\"\n",
		VAR "=\"a\\\"b\"\n",
		VAR "=\"a\"'b'\n",
		VAR "=\"quiet\n splash\"\n",
		VAR "=$X\n",
	};
	static const char *const quote[] = { "a\"b" };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(edit(bad[i], &out, &err), -EINVAL);
		assert_non_null(strstr(err.buf, "line 1"));
	}
	strbuf_reset(&err);
	assert_int_equal(grub_default_edit("", 0, VAR, quote, 1, NULL, 0, &out,
					   &err), -EINVAL);
	assert_non_null(strstr(err.buf, "cannot be written"));
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
test_bls_and_kernelstub(void **state)
{
	static const char entry[] = "title X\nlinux /vmlinuz\n"
				    "options root=/dev/sda ro quiet\n";
	static const char json[] = "{\n  \"default\": {\"kernel_options\": "
		"[\"x\"]},\n  \"user\": {\n    \"kernel_options\": [\n"
		"      \"quiet\",\n      \"a=\\\"b\\\"\"\n    ],\n  }\n}\n";
	static const char *const rm[] = { "iommu=pt" };
	struct strbuf out = STRBUF_INIT, back = STRBUF_INIT;

	(void)state;
	assert_int_equal(grub_bls_edit(entry, strlen(entry), vfio_set, 2, NULL, 0,
				       &out), 1);
	assert_string_equal(out.buf, "title X\nlinux /vmlinuz\noptions "
			    "root=/dev/sda ro quiet intel_iommu=on iommu=pt\n");
	assert_true(grub_bls_options(out.buf, out.len, &back));
	assert_string_equal(back.buf, "root=/dev/sda ro quiet intel_iommu=on "
			    "iommu=pt");
	assert_int_equal(grub_bls_edit(out.buf, out.len, NULL, 0, rm, 1, &back), 1);
	assert_null(strstr(back.buf, "iommu=pt"));
	/* An entry without options gets a line. */
	assert_int_equal(grub_bls_edit("title X", 7, vfio_set, 1, NULL, 0, &out), 1);
	assert_string_equal(out.buf, "title X\noptions intel_iommu=on\n");

	assert_int_equal(grub_kernelstub_options(json, &out), 0);
	assert_string_equal(out.buf, "quiet a=\"b\"");
	assert_int_equal(grub_kernelstub_options("{\"default\":{}}", &out), -ENOENT);
	strbuf_release(&out);
	strbuf_release(&back);
}

/* --- files on disk --- */

static void
put(const char *root, const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_target_and_output(void **state)
{
	char root[] = "/tmp/vfleet-grub.XXXXXX";
	struct strbuf p = STRBUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(root));
	put(root, "/etc/default/grub", VAR "=\"quiet\"\n");
	assert_int_equal(grub_default_target(root, VAR, &p), 0);
	assert_string_equal(p.buf, "/etc/default/grub");
	/* The last grub.d file that sets it wins; others do not count. */
	put(root, "/etc/default/grub.d/50-cloudimg-settings.cfg", VAR "=\"c\"\n");
	put(root, "/etc/default/grub.d/60-other.cfg", "GRUB_TIMEOUT=1\n");
	put(root, "/etc/default/grub.d/40-early.cfg", VAR "=\"e\"\n");
	put(root, "/etc/default/grub.d/70-notcfg.txt", VAR "=\"t\"\n");
	assert_int_equal(grub_default_target(root, VAR, &p), 0);
	assert_string_equal(p.buf, "/etc/default/grub.d/50-cloudimg-settings.cfg");

	grub_mkconfig_output(root, &p);
	assert_string_equal(p.buf, "/boot/grub/grub.cfg");
	put(root, "/boot/grub2/grubenv", "\n");
	grub_mkconfig_output(root, &p);
	assert_string_equal(p.buf, "/boot/grub2/grub.cfg");
	/* RHEL 9's EFI stub only points at /boot/grub2. */
	put(root, "/boot/efi/EFI/rocky/grub.cfg", "search --fs-uuid x\n"
	    "configfile ($root)/grub2/grub.cfg\n");
	grub_mkconfig_output(root, &p);
	assert_string_equal(p.buf, "/boot/grub2/grub.cfg");
	/* Older UEFI CentOS keeps the real config on the ESP. */
	put(root, "/boot/efi/EFI/centos/grub.cfg", "menuentry 'CentOS' {\n}\n");
	grub_mkconfig_output(root, &p);
	assert_string_equal(p.buf, "/boot/efi/EFI/centos/grub.cfg");

	assert_int_equal(scratch_remove(root), 0);
	strbuf_release(&p);
}

/* The fuzz entry over deterministic mutations of real files: it aborts on
 * a broken promise, so surviving is the assertion. */
static void
test_fuzz_entry(void **state)
{
	static const char *const seeds[] = {
		"GRUB_DEFAULT=0\n" VAR "=\"quiet splash\"\nGRUB_CMDLINE_LINUX=\"\"\n",
		VAR "='a b'\n# " VAR "=\"x\"\n",
		"export " VAR "=quiet\n",
		VAR "=\"$" VAR " x\"\r\n",
		"",
		"\n\n\n",
	};
	static const char alphabet[] = "\"'$`\\ \t\n#=_()GRUBCMDLINEDEFAULTiommu";
	uint32_t rnd = 12345;
	unsigned char buf[256];

	(void)state;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(*seeds); s++) {
		size_t len = strlen(seeds[s]);

		grub_fuzz_one((const uint8_t *)seeds[s], len);
		for (int i = 0; i < 3000; i++) {
			size_t n = len;

			memcpy(buf, seeds[s], len);
			for (int k = 0; k < 3; k++) {
				rnd = rnd * 1103515245u + 12345u;
				if (!n || (rnd >> 16) % 3 == 0) {
					if (n < sizeof(buf))
						buf[n++] = (unsigned char)alphabet[(rnd >> 8) %
							(sizeof(alphabet) - 1)];
				} else {
					buf[(rnd >> 16) % n] = (unsigned char)
						alphabet[(rnd >> 8) % (sizeof(alphabet) - 1)];
				}
			}
			grub_fuzz_one(buf, n);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_edit),
		cmocka_unit_test(test_default_forms),
		cmocka_unit_test(test_default_refusals),
		cmocka_unit_test(test_bls_and_kernelstub),
		cmocka_unit_test(test_target_and_output),
		cmocka_unit_test(test_fuzz_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
