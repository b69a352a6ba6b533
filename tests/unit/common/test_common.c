/* Unit tests for common/: strbuf, sha256, sysroot, fileio, run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "run.h"
#include "sha256.h"
#include "strbuf.h"
#include "sysroot.h"

static void
test_strbuf_basic(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *p;
	size_t len;

	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "vfio");
	strbuf_addch(&sb, '-');
	strbuf_addf(&sb, "pci ids=%04x:%04x", 0x10de, 0x1c03);
	assert_string_equal(sb.buf, "vfio-pci ids=10de:1c03");
	assert_int_equal(sb.len, strlen(sb.buf));
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	assert_int_equal(sb.len, strlen(sb.buf));
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "value \n\n");
	strbuf_rtrim(&sb);
	assert_string_equal(sb.buf, "value");
	p = strbuf_detach(&sb, &len);
	assert_string_equal(p, "value");
	assert_int_equal(len, 5);
	assert_string_equal(sb.buf, "");
	free(p);
	strbuf_release(&sb);
	strbuf_release(&sb);	/* twice is safe */
}

static void
test_strbuf_read_cap(void **state)
{
	char path[] = "/tmp/vfleet-test-XXXXXX";
	struct strbuf sb = STRBUF_INIT;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(strbuf_read_file(&sb, path, 10), 0);
	assert_string_equal(sb.buf, "0123456789");
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, path, 4), -EFBIG);
	assert_int_equal(sb.len, 4);
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, "/nonexistent/x", 4), -ENOENT);
	unlink(path);
	strbuf_release(&sb);
}

static void
test_sha256_vectors(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct strbuf big = STRBUF_INIT;

	sha256_hex("", 0, &sb);
	assert_string_equal(sb.buf,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, &sb);
	assert_string_equal(sb.buf,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, &sb);
	assert_string_equal(sb.buf,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	for (int i = 0; i < 1000000; i++)
		strbuf_addch(&big, 'a');
	sha256_hex(big.buf, big.len, &sb);
	assert_string_equal(sb.buf,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	strbuf_release(&sb);
	strbuf_release(&big);
}

static void
test_sysroot(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	sysroot_path(&sb, NULL, "/etc/default/grub");
	assert_string_equal(sb.buf, "/etc/default/grub");
	sysroot_path(&sb, "/", "/etc/default/grub");
	assert_string_equal(sb.buf, "/etc/default/grub");
	sysroot_path(&sb, "/tmp/fx/", "/etc/default/grub");
	assert_string_equal(sb.buf, "/tmp/fx/etc/default/grub");
	sysroot_pathf(&sb, "/tmp/fx", "/sys/bus/pci/devices/%s/class", "0000:0e:00.0");
	assert_string_equal(sb.buf, "/tmp/fx/sys/bus/pci/devices/0000:0e:00.0/class");
	strbuf_release(&sb);
}

static void
test_fileio_atomic(void **state)
{
	char dir[] = "/tmp/vfleet-test-XXXXXX";
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/grub", dir);
	assert_int_equal(fileio_write_atomic(path.buf, "A=1\n", 4, 0600), 0);
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(chmod(path.buf, 0640), 0);
	assert_int_equal(fileio_write_atomic(path.buf, "A=2\n", 4, 0644), 0);
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);	/* old mode kept */
	assert_int_equal(fileio_read_attr(path.buf, &sb), 0);
	assert_string_equal(sb.buf, "A=2");
	/* Failure leaves the target alone and no temp file behind. */
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/missing-dir/file", dir);
	assert_int_equal(fileio_write_atomic(path.buf, "x", 1, 0644), -ENOENT);
	strbuf_reset(&path);
	strbuf_addf(&path, "rm -r %s", dir);
	assert_int_equal(system(path.buf), 0);
	strbuf_release(&path);
	strbuf_release(&sb);
}

/* What fileio_write_atomic_steps() showed at each step: the target's bytes
 * and the one temp file's. */
struct step_seen {
	const char *dir, *target;
	int n;
	char step[2][16], target_at[2][16], temp_at[2][16];
	int ntemps[2];
};
static struct step_seen seen;

static void
record_step(const char *step)
{
	struct strbuf p = STRBUF_INIT, sb = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int i = seen.n++;

	assert_true(i < 2);
	snprintf(seen.step[i], sizeof(seen.step[i]), "%s", step);
	strbuf_addf(&p, "%s/%s", seen.dir, seen.target);
	assert_int_equal(strbuf_read_file(&sb, p.buf, 64), 0);
	snprintf(seen.target_at[i], sizeof(seen.target_at[i]), "%s", sb.buf);
	assert_non_null(d = opendir(seen.dir));
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "grub" FILEIO_TMP_SUFFIX,
			    strlen("grub" FILEIO_TMP_SUFFIX)) != 0)
			continue;
		seen.ntemps[i]++;
		strbuf_reset(&p);
		strbuf_reset(&sb);
		strbuf_addf(&p, "%s/%s", seen.dir, de->d_name);
		assert_int_equal(strbuf_read_file(&sb, p.buf, 64), 0);
		snprintf(seen.temp_at[i], sizeof(seen.temp_at[i]), "%s", sb.buf);
	}
	closedir(d);
	strbuf_release(&p);
	strbuf_release(&sb);
}

/* The step points the agent's crash test uses: halfway through the temp
 * file, then with the temp file complete; the target is old at both. */
static void
test_fileio_atomic_steps(void **state)
{
	char dir[] = "/tmp/vfleet-test-XXXXXX";
	struct strbuf path = STRBUF_INIT;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&seen, 0, sizeof(seen));
	seen.dir = dir;
	seen.target = "grub";
	strbuf_addf(&path, "%s/grub", dir);
	assert_int_equal(fileio_write_atomic(path.buf, "old\n", 4, 0640), 0);
	assert_int_equal(fileio_write_atomic_steps(path.buf, "newnew\n", 7, 0644,
						   record_step), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.step[0], "write-half");
	assert_string_equal(seen.target_at[0], "old\n");
	assert_int_equal(seen.ntemps[0], 1);
	assert_string_equal(seen.temp_at[0], "new");
	assert_string_equal(seen.step[1], "before-rename");
	assert_string_equal(seen.target_at[1], "old\n");
	assert_int_equal(seen.ntemps[1], 1);
	assert_string_equal(seen.temp_at[1], "newnew\n");
	/* Done: new bytes, old mode, no temp file left. */
	assert_int_equal(stat(path.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	seen.n = 0;
	seen.ntemps[0] = 0;
	record_step("after");
	assert_string_equal(seen.target_at[0], "newnew\n");
	assert_int_equal(seen.ntemps[0], 0);
	strbuf_reset(&path);
	strbuf_addf(&path, "rm -r %s", dir);
	assert_int_equal(system(path.buf), 0);
	strbuf_release(&path);
}

static void
test_run_command(void **state)
{
	const char *echo_argv[] = { "/bin/sh", "-c", "cat; echo err >&2; exit 3", NULL };
	const char *env_argv[] = { "/usr/bin/env", NULL };
	const char *sleep_argv[] = { "/bin/sleep", "5", NULL };
	const char *rel_argv[] = { "sh", NULL };
	const char *extra_env[] = { "VFLEET_X=1", NULL };
	struct run_cmd cmd = RUN_CMD_INIT;

	cmd.argv = echo_argv;
	cmd.input = "hello";
	cmd.input_len = 5;
	assert_int_equal(run_command(&cmd), 0);
	assert_string_equal(cmd.out.buf, "hello");
	assert_string_equal(cmd.err.buf, "err\n");
	assert_int_equal(cmd.exit_code, 3);
	run_cmd_release(&cmd);

	/* A scrubbed environment: only PATH, LANG, LC_ALL and what we add. */
	setenv("VFLEET_LEAK", "secret", 1);
	cmd = (struct run_cmd)RUN_CMD_INIT;
	cmd.argv = env_argv;
	cmd.env = extra_env;
	assert_int_equal(run_command(&cmd), 0);
	assert_null(strstr(cmd.out.buf, "VFLEET_LEAK"));
	assert_non_null(strstr(cmd.out.buf, "VFLEET_X=1"));
	assert_non_null(strstr(cmd.out.buf, "PATH="));
	run_cmd_release(&cmd);

	cmd = (struct run_cmd)RUN_CMD_INIT;
	cmd.argv = sleep_argv;
	cmd.timeout_ms = 100;
	assert_int_equal(run_command(&cmd), 0);
	assert_true(cmd.timed_out);
	assert_int_equal(cmd.exit_code, 128 + 9);
	run_cmd_release(&cmd);

	cmd = (struct run_cmd)RUN_CMD_INIT;
	cmd.argv = rel_argv;
	assert_int_equal(run_command(&cmd), -EINVAL);
	run_cmd_release(&cmd);
}

static void
test_run_output_cap(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "head -c 100000 /dev/zero", NULL };
	struct run_cmd cmd = RUN_CMD_INIT;

	cmd.argv = argv;
	cmd.output_max = 1000;
	assert_int_equal(run_command(&cmd), 0);
	assert_int_equal(cmd.out.len, 1000);
	assert_true(cmd.truncated);
	assert_int_equal(cmd.exit_code, 0);
	run_cmd_release(&cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_basic),
		cmocka_unit_test(test_strbuf_read_cap),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sysroot),
		cmocka_unit_test(test_fileio_atomic),
		cmocka_unit_test(test_fileio_atomic_steps),
		cmocka_unit_test(test_run_command),
		cmocka_unit_test(test_run_output_cap),
	};

	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
