/*
 * Unit tests for the safe-path checks of common/sysroot.c and the check
 * run_command() makes with them (common/run.c).
 *
 * Each test builds a tree in a fresh mkdtemp() folder under /tmp (root's,
 * mode 1777: the sticky parent the checks accept above a root):
 *
 *   BASE/               0700, ours
 *   BASE/root/          the root, 0755
 *   BASE/root/usr/sbin/tool        a program, 0755
 *   BASE/root/etc/modprobe.d/      0755
 *   BASE/outside/       a folder outside the root, 0755
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "run.h"
#include "strbuf.h"
#include "sysroot.h"

struct tree {
	char base[64];
	struct strbuf root;	/* BASE/root */
	struct strbuf p;	/* scratch path */
	struct strbuf err;
	struct sysroot_trust trust;
};

/* BASE + rel into t->p; returns t->p.buf. */
static const char *
at(struct tree *t, const char *rel)
{
	strbuf_reset(&t->p);
	strbuf_addf(&t->p, "%s%s", t->base, rel);
	return t->p.buf;
}

static void
mkdir_mode(struct tree *t, const char *rel, mode_t mode)
{
	assert_int_equal(mkdir(at(t, rel), 0700), 0);
	assert_int_equal(chmod(t->p.buf, mode), 0);
}

static void
write_file(struct tree *t, const char *rel, const char *body, mode_t mode)
{
	int fd = open(at(t, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(t->p.buf, mode), 0);
}

/* BASE + rel becomes a symlink to target (BASE + target when it starts
 * with '/', else target as is). */
static void
link_rel(struct tree *t, const char *target, const char *rel)
{
	struct strbuf to = STRBUF_INIT;

	if (target[0] == '/')
		strbuf_addf(&to, "%s%s", t->base, target);
	else
		strbuf_addstr(&to, target);
	assert_int_equal(symlink(to.buf, at(t, rel)), 0);
	strbuf_release(&to);
}

static void
chmod_rel(struct tree *t, const char *rel, mode_t mode)
{
	assert_int_equal(chmod(at(t, rel), mode), 0);
}

static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->base, "/tmp/vfleet-sysroot.XXXXXX");
	if (!mkdtemp(t->base))
		return -1;
	strbuf_init(&t->root, 0);
	strbuf_init(&t->p, 0);
	strbuf_init(&t->err, 0);
	strbuf_addf(&t->root, "%s/root", t->base);
	mkdir_mode(t, "/root", 0755);
	mkdir_mode(t, "/root/usr", 0755);
	mkdir_mode(t, "/root/usr/sbin", 0755);
	write_file(t, "/root/usr/sbin/tool", "#!/bin/sh\necho tool ran\n", 0755);
	mkdir_mode(t, "/root/etc", 0755);
	mkdir_mode(t, "/root/etc/modprobe.d", 0755);
	mkdir_mode(t, "/outside", 0755);
	sysroot_trust_init(&t->trust);
	*state = t;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	chmod(path, 0700);	/* some tests leave folders odd */
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
teardown(void **state)
{
	struct tree *t = *state;
	int r = nftw(t->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	run_set_checked_root(NULL);
	strbuf_release(&t->root);
	strbuf_release(&t->p);
	strbuf_release(&t->err);
	free(t);
	return r;
}

/* err names path (BASE + rel) and says why, with the mode. */
static void
assert_refused(struct tree *t, int r, const char *rel, const char *why,
	       const char *mode)
{
	struct strbuf want = STRBUF_INIT;

	if (r != -EPERM)
		fail_msg("expected -EPERM, got %d (%s)", r, t->err.buf);
	strbuf_addf(&want, "%s%s %s (owner uid ", t->base, rel, why);
	if (!strstr(t->err.buf, want.buf))
		fail_msg("'%s' lacks '%s'", t->err.buf, want.buf);
	if (mode && !strstr(t->err.buf, mode))
		fail_msg("'%s' lacks '%s'", t->err.buf, mode);
	strbuf_release(&want);
}

static void
assert_safe(struct tree *t, int r)
{
	if (r != 0)
		fail_msg("expected 0, got %d: %s", r, t->err.buf);
}

/* --- the owners --- */

static void
test_trust(void **state)
{
	struct sysroot_trust t;
	bool sudo_root = geteuid() == 0 && getuid() == 0;

	(void)state;
	unsetenv("SUDO_UID");
	sysroot_trust_init(&t);
	assert_int_equal(t.uid[0], 0);
	assert_int_equal(t.n, geteuid() == 0 ? 1 : 2);
	if (geteuid() != 0)
		assert_int_equal(t.uid[1], geteuid());

	/* sudo's caller counts, for a root process only. */
	setenv("SUDO_UID", "4242", 1);
	sysroot_trust_init(&t);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.uid[1], sudo_root ? 4242 : geteuid());
	/* Not a plain uid: ignored. */
	for (const char *const *s = (const char *const[]){ "0", "042", "42x",
	     "", "-1", "99999999999", NULL }; *s; s++) {
		setenv("SUDO_UID", *s, 1);
		sysroot_trust_init(&t);
		assert_int_equal(t.n, geteuid() == 0 ? 1 : 2);
	}
	unsetenv("SUDO_UID");
}

/* --- the root and its parents --- */

static void
test_root(void **state)
{
	struct tree *t = *state;

	assert_safe(t, sysroot_check_root(&t->trust, t->root.buf, &t->err));
	/* A trailing slash names the same root. */
	strbuf_addch(&t->root, '/');
	assert_safe(t, sysroot_check_root(&t->trust, t->root.buf, &t->err));
	strbuf_setlen(&t->root, t->root.len - 1);

	/* The root itself: no group or other writes, sticky or not. */
	chmod_rel(t, "/root", 0775);
	assert_refused(t, sysroot_check_root(&t->trust, t->root.buf, &t->err),
		       "/root", "is writable by its group", "mode 0775");
	chmod_rel(t, "/root", 01777);
	assert_refused(t, sysroot_check_root(&t->trust, t->root.buf, &t->err),
		       "/root", "is writable by every user", "mode 1777");
	chmod_rel(t, "/root", 0755);
	assert_safe(t, sysroot_check_root(&t->trust, t->root.buf, &t->err));

	/* A missing root, or a file, is no root. */
	assert_int_equal(sysroot_check_root(&t->trust, at(t, "/nothing"),
					    &t->err), -ENOENT);
	assert_non_null(strstr(t->err.buf, "/nothing"));
	assert_int_equal(sysroot_check_root(&t->trust, at(t, "/root/usr/sbin/tool"),
					    &t->err), -ENOTDIR);
}

/* A parent of the root: writable only with the sticky bit (/tmp). */
static void
test_root_parents(void **state)
{
	struct tree *t = *state;

	chmod_rel(t, "", 0777);
	assert_refused(t, sysroot_check_root(&t->trust, t->root.buf, &t->err),
		       "", "is writable by every user", "mode 0777");
	chmod_rel(t, "", 0770);
	assert_refused(t, sysroot_check_root(&t->trust, t->root.buf, &t->err),
		       "", "is writable by its group", "mode 0770");
	chmod_rel(t, "", 01777);
	assert_safe(t, sysroot_check_root(&t->trust, t->root.buf, &t->err));
	/* ... but inside the root, sticky is no excuse. */
	chmod_rel(t, "/root/etc", 01777);
	assert_refused(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc",
					     &t->err),
		       "/root/etc", "is writable by every user", "mode 1777");
	chmod_rel(t, "", 0700);
}

/* Someone else's folder anywhere on the way. */
static void
test_foreign_owner(void **state)
{
	struct tree *t = *state;

	if (geteuid() == 0) {
		assert_int_equal(chown(at(t, "/root/etc"), 4242, (gid_t)-1), 0);
		assert_refused(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc",
						     &t->err),
			       "/root/etc", "is owned by another user", "mode 0755");
		assert_non_null(strstr(t->err.buf, "owner uid 4242"));
		/* sudo's caller is trusted like the agent's own user. */
		setenv("SUDO_UID", "4242", 1);
		sysroot_trust_init(&t->trust);
		unsetenv("SUDO_UID");
		assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc",
						  &t->err));
	} else {
		/* Unprivileged: trust root alone, so our own tree is foreign. */
		struct sysroot_trust only_root = { .uid = { 0 }, .n = 1 };

		assert_refused(t, sysroot_check_root(&only_root, t->root.buf,
						     &t->err),
			       "", "is owned by another user", "mode 0700");
	}
}

/* --- trees the agent writes into --- */

static void
test_tree(void **state)
{
	struct tree *t = *state;

	assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc", &t->err));
	/* Deep inside: found. */
	mkdir_mode(t, "/root/etc/modprobe.d/sub", 0755);
	chmod_rel(t, "/root/etc/modprobe.d/sub", 0775);
	assert_refused(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc",
					     &t->err),
		       "/root/etc/modprobe.d/sub", "is writable by its group",
		       "mode 0775");
	/* Fixed: accepted. */
	chmod_rel(t, "/root/etc/modprobe.d/sub", 0755);
	assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc", &t->err));
	/* Files are not the tree's business (edits replace them). */
	write_file(t, "/root/etc/modprobe.d/x.conf", "", 0666);
	assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc", &t->err));
	/* A tree that does not exist has nothing to redirect. */
	assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf, "/boot",
					  &t->err));
	assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf,
					  "/var/lib/vfleet", &t->err));
	/* A path to it is judged even where the tree is missing. */
	chmod_rel(t, "/root/usr", 0757);
	assert_refused(t, sysroot_check_tree(&t->trust, t->root.buf,
					     "/usr/local/sbin", &t->err),
		       "/root/usr", "is writable by every user", "mode 0757");
}

/* Symlinks: judged themselves, then through their target from "/". */
static void
test_tree_symlinks(void **state)
{
	struct tree *t = *state;

	/* To a safe folder outside the root: fine. */
	link_rel(t, "/outside", "/root/etc/out");
	assert_safe(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc", &t->err));
	/* To one that others can write: the path through it is not safe. */
	chmod_rel(t, "/outside", 0777);
	assert_refused(t, sysroot_check_tree(&t->trust, t->root.buf, "/etc",
					     &t->err),
		       "/outside", "is writable by every user", "mode 0777");
	/* The same as a component of the checked path itself. */
	assert_refused(t, sysroot_check_tree(&t->trust, t->root.buf,
					     "/etc/out/x", &t->err),
		       "/outside", "is writable by every user", "mode 0777");
	chmod_rel(t, "/outside", 0755);
	/* A dangling link on the path: refused, its target is unknown. */
	link_rel(t, "/gone", "/root/etc/dangling");
	assert_int_equal(sysroot_check_tree(&t->trust, t->root.buf,
					    "/etc/dangling/x", &t->err), -EPERM);
	assert_non_null(strstr(t->err.buf, "cannot be resolved"));
	/* A relative link inside the root (sbin -> usr/sbin) is fine. */
	link_rel(t, "usr/sbin", "/root/sbin");
	assert_safe(t, sysroot_check_programs(&t->trust, t->root.buf, "/sbin",
					      &t->err));
}

static void
test_tree_depth(void **state)
{
	struct tree *t = *state;
	struct strbuf rel = STRBUF_INIT;

	strbuf_addstr(&rel, "/root/etc");
	for (int i = 0; i < 34; i++) {
		strbuf_addstr(&rel, "/d");
		mkdir_mode(t, rel.buf, 0755);
	}
	assert_int_equal(sysroot_check_tree(&t->trust, t->root.buf, "/etc",
					    &t->err), -ELOOP);
	assert_non_null(strstr(t->err.buf, "nested more than 32"));
	strbuf_release(&rel);
}

/* --- programs --- */

static void
test_programs(void **state)
{
	struct tree *t = *state;

	assert_safe(t, sysroot_check_programs(&t->trust, t->root.buf, "/usr/sbin",
					      &t->err));
	assert_safe(t, sysroot_check_programs(&t->trust, t->root.buf, "/bin",
					      &t->err));
	/* The folder, and each program in it. */
	chmod_rel(t, "/root/usr/sbin", 0775);
	assert_refused(t, sysroot_check_programs(&t->trust, t->root.buf,
						 "/usr/sbin", &t->err),
		       "/root/usr/sbin", "is writable by its group", "mode 0775");
	chmod_rel(t, "/root/usr/sbin", 0755);
	chmod_rel(t, "/root/usr/sbin/tool", 0757);
	assert_refused(t, sysroot_check_programs(&t->trust, t->root.buf,
						 "/usr/sbin", &t->err),
		       "/root/usr/sbin/tool", "is writable by every user",
		       "mode 0757");
	chmod_rel(t, "/root/usr/sbin/tool", 0755);
	/* A program that is a symlink out of the root: its target's path. */
	write_file(t, "/outside/evil", "#!/bin/sh\n", 0755);
	link_rel(t, "/outside/evil", "/root/usr/sbin/update-grub");
	assert_safe(t, sysroot_check_programs(&t->trust, t->root.buf, "/usr/sbin",
					      &t->err));
	chmod_rel(t, "/outside", 0777);
	assert_refused(t, sysroot_check_programs(&t->trust, t->root.buf,
						 "/usr/sbin", &t->err),
		       "/outside", "is writable by every user", "mode 0777");
	chmod_rel(t, "/outside", 0755);
}

static void
test_file(void **state)
{
	struct tree *t = *state;
	struct strbuf tool = STRBUF_INIT;

	strbuf_addf(&tool, "%s/usr/sbin/tool", t->root.buf);
	assert_safe(t, sysroot_check_file(&t->trust, t->root.buf, tool.buf,
					  &t->err));
	chmod_rel(t, "/root/usr/sbin/tool", 0775);
	assert_refused(t, sysroot_check_file(&t->trust, t->root.buf, tool.buf,
					     &t->err),
		       "/root/usr/sbin/tool", "is writable by its group",
		       "mode 0775");
	chmod_rel(t, "/root/usr/sbin/tool", 0755);
	chmod_rel(t, "/root/usr", 0775);
	assert_refused(t, sysroot_check_file(&t->trust, t->root.buf, tool.buf,
					     &t->err),
		       "/root/usr", "is writable by its group", "mode 0775");
	chmod_rel(t, "/root/usr", 0755);
	assert_int_equal(sysroot_check_file(&t->trust, t->root.buf,
					    at(t, "/root/usr/sbin/none"),
					    &t->err), -ENOENT);
	assert_int_equal(sysroot_check_file(&t->trust, t->root.buf, "/bin/sh",
					    &t->err), -EINVAL);
	/* "under" is by whole components: BASE/rootx is not under BASE/root. */
	assert_false(sysroot_is_under(t->root.buf, at(t, "/rootx/tool")));
	assert_true(sysroot_is_under(t->root.buf, tool.buf));
	strbuf_release(&tool);
}

/* run_command() checks a program under the checked root as it starts. */
static void
test_run_checked_root(void **state)
{
	struct tree *t = *state;
	struct strbuf tool = STRBUF_INIT;
	const char *argv[] = { NULL, NULL };
	struct run_cmd rc = RUN_CMD_INIT;

	strbuf_addf(&tool, "%s/usr/sbin/tool", t->root.buf);
	argv[0] = tool.buf;
	rc.argv = argv;
	run_set_checked_root(t->root.buf);
	assert_int_equal(run_command(&rc), 0);
	assert_int_equal(rc.exit_code, 0);
	assert_string_equal(rc.out.buf, "tool ran\n");
	run_cmd_release(&rc);

	/* Unsafe: not started, and the reason is in its stderr. */
	chmod_rel(t, "/root/usr/sbin/tool", 0775);
	rc = (struct run_cmd)RUN_CMD_INIT;
	rc.argv = argv;
	assert_int_equal(run_command(&rc), -EPERM);
	assert_int_equal(rc.out.len, 0);
	assert_non_null(strstr(rc.err.buf, "vfleet refused to run"));
	assert_non_null(strstr(rc.err.buf, "is writable by its group"));
	run_cmd_release(&rc);

	/* An unsafe root stops every program under it. */
	chmod_rel(t, "/root/usr/sbin/tool", 0755);
	chmod_rel(t, "/root", 0775);
	rc = (struct run_cmd)RUN_CMD_INIT;
	rc.argv = argv;
	assert_int_equal(run_command(&rc), -EPERM);
	run_cmd_release(&rc);
	chmod_rel(t, "/root", 0755);

	/* Programs elsewhere (the host's, policy commands) are not checked
	 * here; a missing one fails as before. */
	rc = (struct run_cmd)RUN_CMD_INIT;
	rc.argv = (const char *const[]){ "/bin/sh", "-c", "exit 3", NULL };
	assert_int_equal(run_command(&rc), 0);
	assert_int_equal(rc.exit_code, 3);
	run_cmd_release(&rc);
	strbuf_addstr(&tool, "-missing");
	argv[0] = tool.buf;
	rc = (struct run_cmd)RUN_CMD_INIT;
	rc.argv = argv;
	assert_int_equal(run_command(&rc), 0);
	assert_int_equal(rc.exit_code, 127);
	run_cmd_release(&rc);

	/* Off again: the unsafe program runs (the default, root "/"). */
	chmod_rel(t, "/root/usr/sbin/tool", 0775);
	strbuf_setlen(&tool, tool.len - strlen("-missing"));
	argv[0] = tool.buf;
	run_set_checked_root("/");
	rc = (struct run_cmd)RUN_CMD_INIT;
	rc.argv = argv;
	assert_int_equal(run_command(&rc), 0);
	assert_int_equal(rc.exit_code, 0);
	run_cmd_release(&rc);
	strbuf_release(&tool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust),
		cmocka_unit_test_setup_teardown(test_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_parents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_programs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_checked_root, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
