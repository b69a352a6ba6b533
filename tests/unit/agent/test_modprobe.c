/* test_modprobe: modprobe.d directives and module lists; the initramfs
 * configuration editors and the unified diff that shows them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "diff.h"
#include "initramfs.h"
#include "modprobe.h"
#include "strbuf.h"

static void
set(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, s);
}

static void
test_directives(void **state)
{
	static const char conf[] =
		"# options vfio-pci ids=1:2\n"
		"blacklist nouveau\n"
		"options vfio_pci ids=10de:1c03,10de:10f1 disable_vga=1\n"
		"softdep nouveau pre: vfio-pci post: x\n"
		"install vfio-pci /usr/local/sbin/x \\\n"
		"  && true\n"
		"options nouveau \\\n modeset=0\n";
	bool other;

	(void)state;
	assert_true(modprobe_name_eq("vfio-pci", "vfio_pci"));
	assert_false(modprobe_name_eq("vfio", "vfio_pci"));
	assert_true(modprobe_text_has_blacklist(conf, "nouveau"));
	assert_false(modprobe_text_has_blacklist(conf, "nvidia"));
	assert_true(modprobe_text_has_option(conf, "vfio-pci", "ids", NULL));
	assert_true(modprobe_text_has_option(conf, "vfio-pci", "disable_vga", "1"));
	assert_false(modprobe_text_has_option(conf, "vfio-pci", "ids", "1:2"));
	/* A continuation line belongs to its directive. */
	assert_true(modprobe_text_has_option(conf, "nouveau", "modeset", "0"));
	assert_true(modprobe_text_has_softdep(conf, "nouveau", "vfio_pci"));
	assert_false(modprobe_text_has_softdep(conf, "nouveau", "x"));
	assert_true(modprobe_text_has_install(conf, "vfio_pci",
					      "/usr/local/sbin/x", &other));
	assert_false(modprobe_text_has_install(conf, "vfio_pci", "/bin/y", &other));
	assert_true(other);
}

static void
test_edits(void **state)
{
	char *ids[] = { "10DE:1C03", "10de:2204", "10de:2204" };
	struct strbuf t = STRBUF_INIT;

	(void)state;
	/* ids merged into the existing token, other parameters kept. */
	set(&t, "# x\noptions vfio-pci ids=10de:1c03 disable_vga=1\n");
	assert_true(modprobe_merge_option_list(&t, "vfio-pci", "ids", ids, 3));
	assert_string_equal(t.buf, "# x\noptions vfio-pci "
			    "ids=10de:1c03,10de:2204 disable_vga=1\n");
	assert_false(modprobe_merge_option_list(&t, "vfio-pci", "ids", ids, 3));
	/* An options line without ids gets the parameter. */
	set(&t, "options vfio_pci disable_vga=1");
	assert_true(modprobe_merge_option_list(&t, "vfio-pci", "ids", ids + 1, 1));
	assert_string_equal(t.buf, "options vfio_pci disable_vga=1 ids=10de:2204");
	/* None at all: a new line. */
	set(&t, "# empty");
	assert_true(modprobe_merge_option_list(&t, "vfio-pci", "ids", ids + 1, 1));
	assert_string_equal(t.buf, "# empty\noptions vfio-pci ids=10de:2204\n");

	set(&t, "softdep nouveau pre: a\nsoftdep amdgpu post: b\n");
	assert_true(modprobe_ensure_softdep(&t, "nouveau", "vfio-pci"));
	assert_true(modprobe_ensure_softdep(&t, "amdgpu", "vfio-pci"));
	assert_true(modprobe_ensure_softdep(&t, "snd_hda_intel", "vfio-pci"));
	assert_false(modprobe_ensure_softdep(&t, "snd-hda-intel", "vfio_pci"));
	assert_string_equal(t.buf, "softdep nouveau pre: vfio-pci a\n"
			    "softdep amdgpu pre: vfio-pci post: b\n"
			    "softdep snd_hda_intel pre: vfio-pci\n");

	set(&t, "blacklist nouveau\n");
	assert_false(modprobe_ensure_line(&t, "blacklist nouveau"));
	assert_true(modprobe_ensure_line(&t, "options nouveau modeset=0"));
	assert_string_equal(t.buf, "blacklist nouveau\noptions nouveau modeset=0\n");

	/* Module lists. */
	set(&t, "# vfio_virqfd\nvfio\nvfio_virqfd\nvfio-pci ids=x\n");
	assert_true(modprobe_list_has(t.buf, "vfio_pci"));
	assert_false(modprobe_list_add(&t, "vfio-pci"));
	assert_true(modprobe_list_add(&t, "vfio_iommu_type1"));
	assert_true(modprobe_list_remove(&t, "vfio_virqfd"));
	assert_false(modprobe_list_remove(&t, "vfio_virqfd"));
	assert_string_equal(t.buf, "# vfio_virqfd\nvfio\nvfio-pci ids=x\n"
			    "vfio_iommu_type1\n");
	strbuf_release(&t);
}

static void
test_host_scan(void **state)
{
	char root[] = "/tmp/vfleet-modprobe.XXXXXX", cmd[256];
	struct strbuf where = STRBUF_INIT;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/etc/modprobe.d %s/usr/lib/modprobe.d "
		 "%s/lib/modules/6.1.0/updates/dkms", root, root, root);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/usr/lib/modprobe.d/nv.conf", root);
	f = fopen(cmd, "w");
	fputs("blacklist nouveau\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/etc/modprobe.d/vfio.conf.bak", root);
	f = fopen(cmd, "w");
	fputs("softdep nvidia pre: vfio-pci\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/lib/modules/6.1.0/updates/dkms/nvidia.ko.xz",
		 root);
	f = fopen(cmd, "w");
	fclose(f);
	assert_true(modprobe_host_has_blacklist(root, NULL, "nouveau", &where));
	assert_string_equal(where.buf, "/usr/lib/modprobe.d/nv.conf");
	assert_false(modprobe_host_has_blacklist(root, "/usr/lib/modprobe.d/nv.conf",
						 "nouveau", NULL));
	/* Only *.conf counts, as for modprobe. */
	assert_false(modprobe_host_has_softdep(root, NULL, "nvidia", "vfio-pci",
					       NULL));
	assert_true(modprobe_module_installed(root, "6.1.0", "nvidia"));
	assert_false(modprobe_module_installed(root, "6.1.0", "nvidia_drm"));
	assert_int_equal(scratch_remove(root), 0);
	strbuf_release(&where);
}

static void
test_initramfs(void **state)
{
	static const char *const first[] = { "vfio_pci", "vfio", "vfio_iommu_type1" };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	assert_int_equal(initramfs_mkinitcpio_edit(
		"# MODULES=(x)\nMODULES=(nvidia vfio nvidia_drm)\nFILES=()\n",
		first, 3, "/usr/local/sbin/o", &out, &err), 1);
	assert_string_equal(out.buf, "# MODULES=(x)\nMODULES=(vfio_pci vfio "
			    "vfio_iommu_type1 nvidia nvidia_drm)\n"
			    "FILES=(/usr/local/sbin/o)\n");
	assert_int_equal(initramfs_mkinitcpio_edit(out.buf, first, 3,
				"/usr/local/sbin/o", &err, &err), 0);
	assert_int_equal(initramfs_mkinitcpio_edit("HOOKS=(base)", first, 3, NULL,
						   &out, &err), 1);
	assert_string_equal(out.buf, "HOOKS=(base)\nMODULES=(vfio_pci vfio "
			    "vfio_iommu_type1)\n");
	strbuf_reset(&err);
	assert_int_equal(initramfs_mkinitcpio_edit("MODULES=(a\n b)\n", first, 3,
						   NULL, &out, &err), -EINVAL);
	assert_non_null(strstr(err.buf, "line 1"));

	initramfs_dracut_conf("/usr/local/sbin/o", &out);
	/* dracut needs the blanks inside the quotes; never vfio_virqfd. */
	assert_non_null(strstr(out.buf, "add_drivers+=\" vfio vfio_iommu_type1 "
			       "vfio_pci \"\n"));
	assert_non_null(strstr(out.buf, "force_drivers+=\" vfio "));
	assert_non_null(strstr(out.buf, "install_items+=\" /usr/local/sbin/o \""));
	assert_null(strstr(out.buf, "virqfd"));

	assert_true(initramfs_listing_has("x\nusr/lib/modules/6/kernel/drivers/"
					  "vfio/pci/vfio-pci.ko.zst\n", "vfio_pci"));
	assert_true(initramfs_listing_has("-rw-r--r-- 1 root 1 vfio.ko.xz",
					  "vfio"));
	assert_false(initramfs_listing_has("usr/lib/vfio_pci_core.ko\n", "vfio_pci"));
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
test_diff(void **state)
{
	struct strbuf d = STRBUF_INIT;
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\n";

	(void)state;
	assert_false(diff_unified("/x", a, strlen(a), true, a, strlen(a), true, &d));
	assert_true(diff_unified("/etc/x", a, strlen(a), true, b, strlen(b), true,
				 &d));
	assert_string_equal(d.buf,
		"--- a/etc/x\n+++ b/etc/x\n"
		"@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
		"@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n");
	strbuf_reset(&d);
	assert_true(diff_unified("/n", "", 0, false, "a\nb", 3, true, &d));
	assert_string_equal(d.buf, "--- /dev/null\n+++ b/n\n@@ -0,0 +1,2 @@\n"
			    "+a\n+b\n\\ No newline at end of file\n");
	strbuf_reset(&d);
	assert_true(diff_unified("/n", "a\n", 2, true, "", 0, false, &d));
	assert_string_equal(d.buf, "--- a/n\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n");
	strbuf_release(&d);
}

/* The diff agrees with diff -u on random edits (when diff exists). */
static void
test_diff_vs_diffutils(void **state)
{
	char dir[] = "/tmp/vfleet-diff.XXXXXX", pa[64], pb[64], cmd[256];
	uint32_t rnd = 7;

	(void)state;
	/* diff(1) is the reference: its absence is a failure, not a skip */
	assert_int_equal(access("/usr/bin/diff", X_OK), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pb, sizeof(pb), "%s/b", dir);
	for (int iter = 0; iter < 60; iter++) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, d = STRBUF_INIT;
		struct strbuf want = STRBUF_INIT;
		FILE *f;

		for (int i = 0; i < 40; i++) {
			rnd = rnd * 1103515245u + 12345u;
			strbuf_addf(&a, "l%d\n", i);
			if ((rnd >> 16) % 7 == 0)
				strbuf_addf(&b, "x%u\n", (rnd >> 8) % 5);
			else if ((rnd >> 16) % 7 != 1)
				strbuf_addf(&b, "l%d\n", i);
		}
		f = fopen(pa, "w");
		fputs(a.buf, f);
		fclose(f);
		f = fopen(pb, "w");
		fputs(b.buf, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "cd %s && diff -u --label a/f --label b/f "
			 "a b", dir);
		f = popen(cmd, "r");
		assert_int_equal(strbuf_read_fd(&want, fileno(f), 1 << 20), 0);
		pclose(f);
		diff_unified("/f", a.buf, a.len, true, b.buf, b.len, true, &d);
		/* Both are minimal diffs; hunk headers and line counts agree. */
		if (strcmp(d.buf, want.buf) != 0) {
			size_t da = 0, dw = 0;

			for (const char *p = d.buf; *p; p++)
				da += p[0] == '\n' && (p[1] == '-' || p[1] == '+');
			for (const char *p = want.buf; *p; p++)
				dw += p[0] == '\n' && (p[1] == '-' || p[1] == '+');
			assert_int_equal(da, dw);
		}
		strbuf_release(&a);
		strbuf_release(&b);
		strbuf_release(&d);
		strbuf_release(&want);
	}
	assert_int_equal(scratch_remove(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_host_scan),
		cmocka_unit_test(test_initramfs),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_vs_diffutils),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
