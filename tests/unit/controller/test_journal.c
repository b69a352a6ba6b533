/* The run journal: which run --resume continues, and which hosts it skips. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "journal.h"
#include "proto.h"

static char *
make_dir(void)
{
	char tmpl[] = "/tmp/vfleet-journal.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void
remove_dir(char *dir)
{
	assert_int_equal(scratch_remove(dir), 0);
	free(dir);
}

static void
write_run(const char *dir, const char *run, const char *op, const char *host,
	  const char *step)
{
	struct strbuf err = STRBUF_INIT;
	struct journal *j = journal_open(dir, run, &err);

	assert_non_null(j);
	journal_event(j, op, 1, host, step, "ok", NULL);
	journal_close(j);
	strbuf_release(&err);
}

/* Set a journal's mtime, to model runs a fraction of a second apart. */
static void
set_mtime(const char *dir, const char *run, time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
	char path[512];

	snprintf(path, sizeof(path), "%s/runs/%s.jsonl", dir, run);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
test_latest_by_op(void **state)
{
	struct strbuf id = STRBUF_INIT, op = STRBUF_INIT;
	char *dir = make_dir();

	assert_int_equal(journal_latest(dir, "apply", &id), -ENOENT);
	write_run(dir, "run-apply", "apply", "h1", "done");
	write_run(dir, "run-rollback", "rollback", "h1", "done");
	set_mtime(dir, "run-apply", 1000, 0);
	set_mtime(dir, "run-rollback", 2000, 0);
	assert_int_equal(journal_latest(dir, "apply", &id), 0);
	assert_string_equal(id.buf, "run-apply");
	assert_int_equal(journal_latest(dir, "rollback", &id), 0);
	assert_string_equal(id.buf, "run-rollback");
	assert_int_equal(journal_latest(dir, NULL, &id), 0);
	assert_string_equal(id.buf, "run-rollback");
	assert_int_equal(journal_run_op(dir, "run-apply", &op), 0);
	assert_string_equal(op.buf, "apply");
	assert_int_equal(journal_run_op(dir, "nonexistent", &op), -ENOENT);
	strbuf_release(&id);
	strbuf_release(&op);
	remove_dir(dir);
}

/* Two runs inside the same second: the later one wins, whatever the
 * directory order (the flaky resume that picked the previous run). */
static void
test_latest_subsecond(void **state)
{
	struct strbuf id = STRBUF_INIT;
	char *dir = make_dir();

	write_run(dir, "zzz-earlier", "apply", "h1", "done");
	write_run(dir, "aaa-later", "apply", "h1", "reboot");
	set_mtime(dir, "zzz-earlier", 5000, 100);
	set_mtime(dir, "aaa-later", 5000, 900);
	assert_int_equal(journal_latest(dir, "apply", &id), 0);
	assert_string_equal(id.buf, "aaa-later");
	set_mtime(dir, "zzz-earlier", 5000, 999);
	assert_int_equal(journal_latest(dir, "apply", &id), 0);
	assert_string_equal(id.buf, "zzz-earlier");
	strbuf_release(&id);
	remove_dir(dir);
}

/* Finished means the host's last event is "done"; a torn last line from a
 * killed controller is ignored. */
static void
test_done_hosts(void **state)
{
	char *dir = make_dir(), **hosts = NULL, path[512];
	size_t n = 0;
	FILE *fp;

	write_run(dir, "r", "apply", "h1", "apply");
	write_run(dir, "r", "apply", "h1", "done");
	write_run(dir, "r", "apply", "h2", "done");
	write_run(dir, "r", "apply", "h2", "reboot");
	write_run(dir, "r", "apply", "h\"3", "done");
	snprintf(path, sizeof(path), "%s/runs/r.jsonl", dir);
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("{\"ts\":\"x\",\"run\":\"r\",\"op\":\"apply\",\"batch\":1,\"host\":\"h2\",\"st", fp);
	fclose(fp);
	assert_int_equal(journal_done_hosts(dir, "r", &hosts, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(hosts[0], "h1");
	assert_string_equal(hosts[1], "h\"3");
	proto_strv_free(hosts, n);
	assert_true(journal_done_hosts(dir, "missing", &hosts, &n) < 0);
	remove_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latest_by_op),
		cmocka_unit_test(test_latest_subsecond),
		cmocka_unit_test(test_done_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
