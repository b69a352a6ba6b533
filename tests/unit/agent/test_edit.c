/* test_edit: the one file-edit helper and the state record it keeps. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "edit.h"
#include "sha256.h"
#include "state.h"
#include "strbuf.h"
#include "sysroot.h"

struct tree {
	char root[64];
};

static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	snprintf(t->root, sizeof(t->root), "/tmp/vfleet-edit.XXXXXX");
	if (!t || !mkdtemp(t->root))
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tree *t = *state;

	if (scratch_remove(t->root) != 0)
		return -1;
	free(t);
	return 0;
}

static void
put(struct tree *t, const char *rel, const char *text, mode_t mode)
{
	struct strbuf p = STRBUF_INIT, dir = STRBUF_INIT;

	sysroot_path(&p, t->root, rel);
	strbuf_add(&dir, p.buf, (size_t)(strrchr(p.buf, '/') - p.buf));
	assert_int_equal(edit_mkdir_p(dir.buf, 0755), 0);
	assert_int_equal(edit_write_atomic(p.buf, text, strlen(text), mode), 0);
	assert_int_equal(chmod(p.buf, mode), 0);
	strbuf_release(&p);
	strbuf_release(&dir);
}

static char *
get(struct tree *t, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	if (edit_read(t->root, rel, &sb) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static mode_t
mode_of(struct tree *t, const char *rel)
{
	struct strbuf p = STRBUF_INIT;
	struct stat st;

	sysroot_path(&p, t->root, rel);
	assert_int_equal(stat(p.buf, &st), 0);
	strbuf_release(&p);
	return st.st_mode & 07777;
}

static void
test_atomic_write(void **state)
{
	struct tree *t = *state;
	struct strbuf p = STRBUF_INIT, sb = STRBUF_INIT;
	char *s;

	put(t, "/etc/default/grub", "old\n", 0600);
	sysroot_path(&p, t->root, "/etc/default/grub");
	assert_int_equal(edit_write_atomic(p.buf, "new\n", 4, 0644), 0);
	s = get(t, "/etc/default/grub");
	assert_string_equal(s, "new\n");
	free(s);
	/* The old file's mode survives the replace. */
	assert_int_equal(mode_of(t, "/etc/default/grub"), 0600);

	/* Symlinks and directories are refused, not replaced. */
	sysroot_path(&sb, t->root, "/etc/link");
	assert_int_equal(symlink("default/grub", sb.buf), 0);
	assert_int_equal(edit_read(t->root, "/etc/link", &sb), -ELOOP);
	assert_int_equal(edit_read(t->root, "/etc/default", &sb), -EINVAL);
	assert_int_equal(edit_read(t->root, "/etc/none", &sb), -ENOENT);
	strbuf_release(&p);
	strbuf_release(&sb);
}

static void
test_prepare_commit_restore(void **state)
{
	struct tree *t = *state;
	struct agent_state st, back;
	struct strbuf err = STRBUF_INIT, hex = STRBUF_INIT;
	struct edit_ctx c = { .root = t->root, .run_id = "r1", .st = &st,
			      .err = &err };
	struct state_file *f;
	char *s;

	state_init(&st);
	put(t, "/etc/modprobe.d/a.conf", "A\n", 0640);
	assert_int_equal(edit_prepare(&c, "/etc/modprobe.d/a.conf", "B\n", 2), 0);
	assert_int_equal(edit_prepare(&c, "/usr/local/sbin/new", "N\n", 2), 0);
	/* Intent: a backup of the original bytes, nothing else touched. */
	s = get(t, "/var/lib/vfleet/backups/r1/etc/modprobe.d/a.conf");
	assert_string_equal(s, "A\n");
	free(s);
	s = get(t, "/etc/modprobe.d/a.conf");
	assert_string_equal(s, "A\n");
	free(s);
	assert_int_equal(st.nfiles, 2);
	assert_int_equal(st.files[0].status, STATE_STEP_PENDING);
	assert_false(st.files[0].created);
	assert_true(st.files[1].created);
	assert_null(st.files[1].backup);
	/* /usr, /usr/local, /usr/local/sbin, parents first. */
	assert_int_equal(st.ndirs_created, 3);
	assert_string_equal(st.dirs_created[0], "/usr");
	assert_string_equal(st.dirs_created[2], "/usr/local/sbin");

	assert_int_equal(edit_commit(&c, "/etc/modprobe.d/a.conf", "B\n", 2,
				     0644), 1);
	assert_int_equal(edit_commit(&c, "/usr/local/sbin/new", "N\n", 2, 0755), 1);
	/* Committing again finds the bytes there. */
	assert_int_equal(edit_commit(&c, "/usr/local/sbin/new", "N\n", 2, 0755), 0);
	assert_int_equal(mode_of(t, "/etc/modprobe.d/a.conf"), 0640);
	assert_int_equal(mode_of(t, "/usr/local/sbin/new"), 0755);
	sha256_hex("B\n", 2, &hex);
	assert_string_equal(st.files[0].sha256_after, hex.buf);
	assert_int_equal(st.files[0].status, STATE_STEP_DONE);

	/* The saved record reads back the same. */
	state_init(&back);
	assert_int_equal(state_load(t->root, &back, &err), 0);
	assert_int_equal(back.nfiles, 2);
	assert_string_equal(back.files[0].backup,
			    "/var/lib/vfleet/backups/r1/etc/modprobe.d/a.conf");
	assert_string_equal(back.dirs_created[1], "/usr/local");
	state_release(&back);

	/* Restore: old bytes and mode back, created file and dirs gone. */
	f = &st.files[0];
	assert_int_equal(edit_restore(&c, f), 1);
	assert_int_equal(edit_restore(&c, f), 0);
	s = get(t, "/etc/modprobe.d/a.conf");
	assert_string_equal(s, "A\n");
	free(s);
	assert_int_equal(mode_of(t, "/etc/modprobe.d/a.conf"), 0640);
	assert_int_equal(edit_restore(&c, &st.files[1]), 1);
	assert_null(get(t, "/usr/local/sbin/new"));
	put(t, "/usr/keep", "x\n", 0644);	/* /usr is not empty now */
	assert_int_equal(edit_remove_dirs(&c), 2);
	assert_null(get(t, "/usr/local"));
	s = get(t, "/usr/keep");
	assert_string_equal(s, "x\n");
	free(s);
	state_release(&st);
	strbuf_release(&err);
	strbuf_release(&hex);
}

static void
test_restore_refuses(void **state)
{
	struct tree *t = *state;
	struct agent_state st;
	struct strbuf err = STRBUF_INIT;
	struct edit_ctx c = { .root = t->root, .run_id = "r2", .st = &st,
			      .err = &err };
	char *s;

	state_init(&st);
	put(t, "/etc/x", "orig\n", 0644);
	assert_int_equal(edit_prepare(&c, "/etc/x", "vfleet\n", 7), 0);
	assert_int_equal(edit_commit(&c, "/etc/x", "vfleet\n", 7, 0644), 1);
	/* Someone edited it since: not clobbered. */
	put(t, "/etc/x", "operator\n", 0644);
	assert_int_equal(edit_restore(&c, &st.files[0]), -ESTALE);
	assert_non_null(strstr(err.buf, "changed since"));
	s = get(t, "/etc/x");
	assert_string_equal(s, "operator\n");
	free(s);
	/* A backup that does not match its hash is not used. */
	put(t, "/etc/x", "vfleet\n", 0644);
	put(t, "/var/lib/vfleet/backups/r2/etc/x", "tampered\n", 0600);
	assert_int_equal(edit_restore(&c, &st.files[0]), -EIO);
	s = get(t, "/etc/x");
	assert_string_equal(s, "vfleet\n");
	free(s);
	/* A crash before the rename: the file is still the original. */
	put(t, "/var/lib/vfleet/backups/r2/etc/x", "orig\n", 0600);
	put(t, "/etc/x", "orig\n", 0644);
	st.files[0].status = STATE_STEP_PENDING;
	assert_int_equal(edit_restore(&c, &st.files[0]), 0);
	state_release(&st);
	strbuf_release(&err);
}

static void
test_state_codec(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"phase\":\"applied-pending-reboot\"}",
		"{\"format\":1,\"phase\":\"frobbed\"}",
		"{\"format\":99,\"phase\":\"planned\"}",
		"{\"format\":1,\"phase\":\"planned\",\"files\":[{\"path\":\"etc/x\","
		"\"status\":\"done\",\"created\":true}]}",
		"{\"format\":1,\"phase\":\"planned\",\"files\":[{\"path\":\"/etc/x\","
		"\"status\":\"done\"}]}",
		"{\"format\":1,\"phase\":\"planned\",\"commands\":[{\"argv\":[],"
		"\"status\":\"done\"}]}",
		"{\"format\":1,\"phase\":\"planned\",\"dirs_created\":[\"/a/../b\"]}",
		"{\"format\":1,\"phase\":\"planned\"} x",
	};
	struct tree *t = *state;
	struct agent_state st, back;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct state_command *c;

	state_init(&st);
	st.phase = STATE_PHASE_APPLIED;
	st.run_id = strdup("r1");
	st.boot_id = strdup("b");
	c = state_add_command(&st);
	c->argv = calloc(2, sizeof(char *));
	c->argv[0] = strdup("/usr/sbin/update-grub");
	c->argc = 1;
	c->status = STATE_STEP_FAILED;
	c->exit_code = 3;
	c->output_tail = strdup("no \"space\"\n");
	assert_int_equal(state_json_encode(&st, &out), 0);
	assert_int_equal(state_json_decode(out.buf, out.len, &back, &err), 0);
	assert_int_equal(back.phase, STATE_PHASE_APPLIED);
	assert_int_equal(back.commands[0].exit_code, 3);
	assert_string_equal(back.commands[0].output_tail, "no \"space\"\n");
	assert_int_equal(back.commands[0].status, STATE_STEP_FAILED);
	state_release(&back);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		strbuf_reset(&err);
		assert_int_equal(state_json_decode(bad[i], strlen(bad[i]), &back,
						   &err), -EPROTO);
		assert_true(err.len > 0);
		assert_int_equal(back.nfiles, 0);
	}
	assert_string_equal(state_phase_name(STATE_PHASE_APPLIED),
			    "applied-pending-reboot");
	assert_int_equal(state_phase_from_name("rolled-back"),
			 STATE_PHASE_ROLLED_BACK);
	assert_int_equal(state_phase_from_name("x"), -1);

	/* No file: -ENOENT, phase none; a broken one: -EPROTO with the path. */
	assert_int_equal(state_load(t->root, &back, &err), -ENOENT);
	assert_int_equal(back.phase, STATE_PHASE_NONE);
	put(t, STATE_PATH, "{\"format\":1", 0600);
	strbuf_reset(&err);
	assert_int_equal(state_load(t->root, &back, &err), -EPROTO);
	assert_non_null(strstr(err.buf, STATE_PATH));
	assert_int_equal(state_save(t->root, &st, &err), 0);
	assert_int_equal(mode_of(t, STATE_PATH), 0600);
	assert_non_null(st.updated);
	state_release(&st);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* The test hook kills at the n-th point; the target is old or new. */
static void
test_kill_hook(void **state)
{
	struct tree *t = *state;
	struct strbuf p = STRBUF_INIT;

	put(t, "/etc/k", "old old old\n", 0644);
	sysroot_path(&p, t->root, "/etc/k");
	for (int n = 1; n <= 3; n++) {
		int status;
		pid_t pid = fork();
		char *s;

		assert_true(pid >= 0);
		if (pid == 0) {
			char v[8];

			snprintf(v, sizeof(v), "%d", n);
			setenv("VFLEET_TEST_KILL_AT", v, 1);
			edit_test_reset();
			edit_write_atomic(p.buf, "new new new\n", 12, 0644);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		s = get(t, "/etc/k");
		if (n <= 2) {
			/* Killed before the rename: old bytes. */
			assert_true(WIFSIGNALED(status));
			assert_int_equal(WTERMSIG(status), SIGKILL);
			assert_string_equal(s, "old old old\n");
		} else {
			/* Only two points in one write: it ran to the end. */
			assert_true(WIFEXITED(status));
			assert_string_equal(s, "new new new\n");
		}
		free(s);
	}
	strbuf_release(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_commit_restore, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_codec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_hook, setup, teardown),
	};

	unsetenv("VFLEET_TEST_KILL_AT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
