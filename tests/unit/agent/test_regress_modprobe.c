/* test_regress_modprobe: inputs fuzz_modprobe (fuzz/) found that broke the
 * modprobe.d editors, and their neighbours. Each reproducer is in
 * fuzz/corpus/fuzz_modprobe/regress-* too. Every edit is checked the way
 * apply uses it: the directive is there afterwards as kmod reads the file,
 * a second edit changes nothing, every byte of the original is kept, and
 * rollback (edit_restore) puts the original bytes back. */
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

#include "edit.h"
#include "modprobe.h"
#include "state.h"
#include "strbuf.h"
#include "sysroot.h"

static char *const ids[] = { "10de:1c03", "10de:10f1" };

/* The three editors apply uses on a modprobe.d file. */
enum edit_kind { EDIT_IDS, EDIT_SOFTDEP, EDIT_LINE };

static bool
do_edit(struct strbuf *t, enum edit_kind k)
{
	switch (k) {
	case EDIT_IDS:
		return modprobe_merge_option_list(t, "vfio-pci", "ids", ids, 2);
	case EDIT_SOFTDEP:
		return modprobe_ensure_softdep(t, "nvidia", "vfio-pci");
	case EDIT_LINE:
		return modprobe_ensure_line(t, "blacklist nouveau");
	}
	return false;
}

static bool
has_edit(const char *t, enum edit_kind k)
{
	switch (k) {
	case EDIT_IDS:
		return modprobe_text_has_option(t, "vfio_pci", "ids", "10de:1c03,10de:10f1");
	case EDIT_SOFTDEP:
		return modprobe_text_has_softdep(t, "nvidia", "vfio_pci");
	case EDIT_LINE:
		return modprobe_text_has_blacklist(t, "nouveau");
	}
	return false;
}

/* Edit orig with k: the result is want, the directive is seen, and a
 * second edit is no change. */
static void
check_edit(const char *orig, enum edit_kind k, const char *want)
{
	struct strbuf t = STRBUF_INIT;

	strbuf_addstr(&t, orig);
	assert_false(has_edit(orig, k));
	assert_true(do_edit(&t, k));
	assert_string_equal(t.buf, want);
	assert_true(has_edit(t.buf, k));
	assert_false(do_edit(&t, k));
	assert_string_equal(t.buf, want);
	strbuf_release(&t);
}

/* check_edit() of an edit that appends: orig stays byte for byte in front. */
static void
check_append(const char *orig, enum edit_kind k, const char *want)
{
	check_edit(orig, k, want);
	assert_memory_equal(want, orig, strlen(orig));
}

/* fuzz_modprobe (options-after-continuation): a file whose last line ends
 * in "\" joined the appended directive to that line, so kmod read it as
 * part of the directive before it and every apply appended it again. */
static void
test_append_after_continuation(void **state)
{
	static const char snd[] = "options snd-hda-intel power_save=0 \\\n";
	struct strbuf t = STRBUF_INIT;

	(void)state;
	/* The reproducer: a lone backslash, no newline. */
	check_append("\\", EDIT_IDS,
		     "\\\n\noptions vfio-pci ids=10de:1c03,10de:10f1\n");
	check_append("\\", EDIT_SOFTDEP, "\\\n\nsoftdep nvidia pre: vfio-pci\n");
	check_append("\\", EDIT_LINE, "\\\n\nblacklist nouveau\n");

	/* A continued directive: it keeps its own parameters and does not
	 * take the new line's words. */
	check_append(snd, EDIT_IDS, "options snd-hda-intel power_save=0 \\\n\n"
		     "options vfio-pci ids=10de:1c03,10de:10f1\n");
	check_append(snd, EDIT_SOFTDEP, "options snd-hda-intel power_save=0 \\\n\n"
		     "softdep nvidia pre: vfio-pci\n");
	check_append(snd, EDIT_LINE, "options snd-hda-intel power_save=0 \\\n\n"
		     "blacklist nouveau\n");
	strbuf_addstr(&t, snd);
	assert_true(do_edit(&t, EDIT_IDS));
	assert_true(modprobe_text_has_option(t.buf, "snd_hda_intel", "power_save",
					     "0"));
	assert_false(modprobe_text_has_option(t.buf, "snd_hda_intel", "ids", NULL));

	/* A comment that ends in "\" swallows the next line, for kmod too. */
	check_append("# vfio \\\n", EDIT_LINE, "# vfio \\\n\nblacklist nouveau\n");
	/* Continued and unterminated: one newline ends the physical line,
	 * the empty line ends the logical one. */
	check_append("options snd-hda-intel \\", EDIT_SOFTDEP,
		     "options snd-hda-intel \\\n\nsoftdep nvidia pre: vfio-pci\n");

	/* An escaped backslash does not continue the line (kmod reads "\\"
	 * as one literal backslash): no empty line needed. */
	check_append("install x /bin/echo \\\\\n", EDIT_LINE,
		     "install x /bin/echo \\\\\nblacklist nouveau\n");
	check_append("install x /bin/echo \\\\\\\n", EDIT_LINE,
		     "install x /bin/echo \\\\\\\n\nblacklist nouveau\n");
	strbuf_release(&t);
}

/* The readers and the editors agree with kmod on where a logical line
 * ends: a physical line that continues another is not a directive of its
 * own, an escaped backslash before the newline ends the line. */
static void
test_logical_lines(void **state)
{
	struct strbuf t = STRBUF_INIT;

	(void)state;
	assert_true(modprobe_text_has_blacklist("install x /bin/echo \\\\\n"
						"blacklist nouveau\n", "nouveau"));
	assert_false(modprobe_text_has_blacklist("install x /bin/echo \\\\\\\n"
						 "blacklist nouveau\n", "nouveau"));
	assert_false(modprobe_text_has_blacklist("# off \\\nblacklist nouveau\n",
						 "nouveau"));
	/* kmod joins the lines without a blank: "ids=a,b". */
	assert_true(modprobe_text_has_option("options vfio-pci ids=a\\\n,b\n",
					     "vfio_pci", "ids", "a,b"));

	/* ensure_line does not take the inside of a continued line for the
	 * line it wants. */
	strbuf_addstr(&t, "options x \\\nblacklist nouveau\n");
	assert_true(modprobe_ensure_line(&t, "blacklist nouveau"));
	assert_string_equal(t.buf, "options x \\\nblacklist nouveau\n"
			    "blacklist nouveau\n");
	assert_true(modprobe_text_has_blacklist(t.buf, "nouveau"));
	assert_false(modprobe_ensure_line(&t, "blacklist nouveau"));

	/* merge_option_list edits a one-line directive only; the continued
	 * physical line below another is not one. */
	strbuf_reset(&t);
	strbuf_addstr(&t, "options snd \\\noptions vfio-pci ids=10de:1c03\n");
	assert_true(modprobe_merge_option_list(&t, "vfio-pci", "ids", ids, 2));
	assert_true(modprobe_text_has_option(t.buf, "vfio-pci", "ids",
					     "10de:1c03,10de:10f1"));
	assert_false(modprobe_merge_option_list(&t, "vfio-pci", "ids", ids, 2));
	strbuf_release(&t);
}

/* fuzz_modprobe (softdep-pre-inside-word): ensure_softdep took the "post:"
 * inside "xpost:" for the keyword and wrote "xpre: vfio-pci post: y",
 * which still lacks vfio-pci, so every run edited it again. */
static void
test_softdep_whole_tokens(void **state)
{
	(void)state;
	check_edit("softdep nvidia xpost: y\n", EDIT_SOFTDEP,
		   "softdep nvidia xpost: y pre: vfio-pci\n");
	check_edit("softdep nvidia apre: x\n", EDIT_SOFTDEP,
		   "softdep nvidia apre: x pre: vfio-pci\n");
	/* The real keyword after a look-alike is the one edited. */
	check_edit("softdep nvidia mypost: a post: b\n", EDIT_SOFTDEP,
		   "softdep nvidia mypost: a pre: vfio-pci post: b\n");
	check_edit("softdep nvidia xpre: a pre: b\n", EDIT_SOFTDEP,
		   "softdep nvidia xpre: a pre: vfio-pci b\n");
	/* A keyword must stand alone on both sides too. */
	check_edit("softdep nvidia pre:x post:y\n", EDIT_SOFTDEP,
		   "softdep nvidia pre:x post:y pre: vfio-pci\n");
}

/* Apply as agent/apply.c does (edit the text read from the host, prepare,
 * commit), apply again, roll back: the original bytes come back. */
static void
test_apply_twice_and_rollback(void **state)
{
	static const char orig[] = "# local\noptions snd-hda-intel \\\n";
	static const char *const path = "/etc/modprobe.d/vfio.conf";
	char root[] = "/tmp/vfleet-regress-mp.XXXXXX";
	struct agent_state st;
	struct strbuf err = STRBUF_INIT, real = STRBUF_INIT, text = STRBUF_INIT;
	struct edit_ctx c = { .root = root, .run_id = "r1", .st = &st,
			      .err = &err };

	(void)state;
	assert_non_null(mkdtemp(root));
	state_init(&st);
	sysroot_path(&real, root, "/etc/modprobe.d");
	assert_int_equal(edit_mkdir_p(real.buf, 0755), 0);
	sysroot_path(&real, root, path);
	assert_int_equal(edit_write_atomic(real.buf, orig, strlen(orig), 0644), 0);

	for (int run = 0; run < 2; run++) {
		bool changed;

		assert_int_equal(edit_read(root, path, &text), 0);
		changed = modprobe_merge_option_list(&text, "vfio-pci", "ids", ids, 2);
		changed |= modprobe_ensure_softdep(&text, "nvidia", "vfio-pci");
		/* The second apply finds everything in place. */
		assert_true(changed == (run == 0));
		if (!changed)
			break;
		assert_int_equal(edit_prepare(&c, path, text.buf, text.len), 0);
		assert_int_equal(edit_commit(&c, path, text.buf, text.len, 0644), 1);
	}
	assert_true(modprobe_host_has_option(root, NULL, "vfio_pci", "ids",
					     "10de:1c03,10de:10f1", NULL));
	assert_true(modprobe_host_has_softdep(root, NULL, "nvidia", "vfio_pci",
					      NULL));

	assert_int_equal(edit_restore(&c, &st.files[0]), 1);
	assert_int_equal(edit_read(root, path, &text), 0);
	assert_int_equal(text.len, strlen(orig));
	assert_memory_equal(text.buf, orig, text.len);

	assert_int_equal(scratch_remove(root), 0);
	state_release(&st);
	strbuf_release(&err);
	strbuf_release(&real);
	strbuf_release(&text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_after_continuation),
		cmocka_unit_test(test_logical_lines),
		cmocka_unit_test(test_softdep_whole_tokens),
		cmocka_unit_test(test_apply_twice_and_rollback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
