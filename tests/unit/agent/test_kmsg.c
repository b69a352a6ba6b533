/* test_kmsg: the /dev/kmsg reader and parser. */
#include <errno.h>
#include <fcntl.h>
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

#include "kmsg.h"
#include "strbuf.h"
#include "xalloc.h"

static void
parse_str(struct kmsg_log *log, const char *s)
{
	kmsg_parse(log, s, strlen(s));
}

static void
test_records(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;

	parse_str(&log,
		  "6,0,0,-;Linux version 5.4.0-150-generic\n"
		  "4,17,760687,-,caller=T1;Your BIOS is broken; DMA routed\n"
		  "30,18,3654698,c;VFIO - User Level meta-driver version: 0.3\n");
	assert_int_equal(log.nrecs, 3);
	assert_int_equal(log.nskipped, 0);
	assert_int_equal(log.recs[0].level, 6);
	assert_int_equal(log.recs[0].facility, 0);
	assert_int_equal(log.recs[0].seq, 0);
	assert_string_equal(log.recs[0].text, "Linux version 5.4.0-150-generic");
	assert_int_equal(log.recs[0].lineno, 1);
	/* Extra header fields are skipped; ';' in the text is kept. */
	assert_int_equal(log.recs[1].level, 4);
	assert_int_equal(log.recs[1].seq, 17);
	assert_int_equal(log.recs[1].usec, 760687);
	assert_string_equal(log.recs[1].text, "Your BIOS is broken; DMA routed");
	/* prio 30 = facility 3 (daemon), level 6. */
	assert_int_equal(log.recs[2].facility, 3);
	assert_int_equal(log.recs[2].level, 6);
	assert_int_equal(log.recs[2].usec, 3654698);
	kmsg_log_release(&log);
	assert_int_equal(log.nrecs, 0);
	assert_null(log.recs);
}

static void
test_continuations(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;

	parse_str(&log,
		  " ORPHAN=1\n"
		  "3,5,100,-;vfio-pci 0000:0e:00.0: BAR 0: can't reserve [mem 0xf6000000-0xf6ffffff]\n"
		  " SUBSYSTEM=pci\n"
		  " DEVICE=+pci:0000:0e:00.0\n"
		  " DEVICE=+pci:0000:ff:00.0\n"
		  "6,6,200,-;DMAR-IR: This system BIOS has enabled interrupt remapping\n"
		  " on a chipset that contains an erratum\n"
		  "\t  interrupt remapping is being disabled.\n");
	assert_int_equal(log.nrecs, 2);
	assert_int_equal(log.nskipped, 1);	/* the orphan continuation */
	assert_string_equal(log.recs[0].device, "+pci:0000:0e:00.0");
	assert_string_equal(log.recs[0].text,
			    "vfio-pci 0000:0e:00.0: BAR 0: can't reserve "
			    "[mem 0xf6000000-0xf6ffffff]");
	assert_null(log.recs[1].device);
	assert_string_equal(log.recs[1].text,
			    "DMAR-IR: This system BIOS has enabled interrupt "
			    "remapping on a chipset that contains an erratum "
			    "interrupt remapping is being disabled.");
	kmsg_log_release(&log);
}

static void
test_escapes(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	static const char raw[] = "6,1,1,-;a\\x0ab\\x5cc\\x41\\xZZ\\x4\tend\r\n"
				  "6,2,2,-;nul\0byte\n";

	kmsg_parse(&log, raw, sizeof(raw) - 1);
	assert_int_equal(log.nrecs, 2);
	/* \x0a -> blank, \x5c -> '\', \x41 -> 'A', bad escapes kept, tab and
	 * the CR of a CRLF file handled. */
	assert_string_equal(log.recs[0].text, "a b\\cA\\xZZ\\x4 end");
	assert_string_equal(log.recs[1].text, "nul byte");
	kmsg_log_release(&log);
}

static void
test_dmesg_format(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;

	parse_str(&log,
		  "[    0.760517] DMAR: Host address width 39\n"
		  "<6>[3.5] vfio_pci: add [10de:1c03[ffff:ffff]] class 0x000000/00000000\n"
		  "[12.1234567]no blank\n");
	assert_int_equal(log.nrecs, 3);
	assert_int_equal(log.recs[0].seq, -1);
	assert_int_equal(log.recs[0].level, -1);
	assert_int_equal(log.recs[0].usec, 760517);
	assert_string_equal(log.recs[0].text, "DMAR: Host address width 39");
	assert_int_equal(log.recs[1].level, 6);
	assert_int_equal(log.recs[1].usec, 3500000);
	assert_int_equal(log.recs[2].usec, 12123456);
	assert_string_equal(log.recs[2].text, "no blank");
	kmsg_log_release(&log);
}

static void
test_garbage(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;

	parse_str(&log,
		  "hello world\n"
		  "6,abc,1,-;bad seq\n"
		  "6,1,2\n"				/* no ';' */
		  "6,1,2;ok without flags\n"
		  "99999999999,1,2,-;prio overflow\n"
		  "6,1,99999999999999999999999,-;usec overflow\n"
		  "6 ,1,2,-;blank in header\n"
		  "[abc] not a time\n"
		  "<6>no bracket\n"
		  "\n\n"
		  "6,3,4,-;good\n"
		  "6,4,5,-;last line without newline");
	assert_int_equal(log.nrecs, 3);
	assert_int_equal(log.nskipped, 8);
	assert_string_equal(log.recs[0].text, "ok without flags");
	assert_string_equal(log.recs[1].text, "good");
	assert_int_equal(log.recs[1].lineno, 12);
	assert_string_equal(log.recs[2].text, "last line without newline");
	kmsg_log_release(&log);
}

static void
test_huge_line(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "6,1,1,-;");
	for (int i = 0; i < (1 << 20); i++)
		strbuf_addch(&sb, 'x');
	strbuf_addstr(&sb, "\n6,2,2,-;after\n");
	kmsg_parse(&log, sb.buf, sb.len);
	assert_int_equal(log.nrecs, 2);
	assert_true(log.recs[0].clipped);
	assert_int_equal(strlen(log.recs[0].text), KMSG_TEXT_MAX);
	assert_false(log.recs[1].clipped);
	assert_string_equal(log.recs[1].text, "after");
	kmsg_log_release(&log);
	strbuf_release(&sb);
}

static void
test_find(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	const struct kmsg_record *r;
	size_t pos = 0;

	parse_str(&log,
		  "6,1,1,-;DMAR: IOMMU enabled\n"
		  "6,2,2,-;other\n"
		  "6,3,3,-;DMAR: dmar0: Using Queued invalidation\n");
	r = kmsg_find(&log, &pos, "DMAR:");
	assert_non_null(r);
	assert_int_equal(r->seq, 1);
	r = kmsg_find(&log, &pos, "DMAR:");
	assert_non_null(r);
	assert_int_equal(r->seq, 3);
	assert_null(kmsg_find(&log, &pos, "DMAR:"));
	pos = 0;
	assert_null(kmsg_find(&log, &pos, "AMD-Vi"));
	kmsg_log_release(&log);
}

/* --- files --- */

static char tmpdir[64];

static int
setup_dir(void **state)
{
	strcpy(tmpdir, "/tmp/test_kmsg.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown_dir(void **state)
{
	return scratch_remove(tmpdir);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
test_empty_file(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	char path[128];

	snprintf(path, sizeof(path), "%s/kmsg", tmpdir);
	write_file(path, "", 0);
	assert_int_equal(kmsg_load(&log, path), 0);
	assert_int_equal(log.nrecs, 0);
	assert_int_equal(log.nskipped, 0);
	assert_false(log.truncated);
	kmsg_log_release(&log);
}

static void
test_unreadable(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	char path[128];

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(kmsg_load(&log, path), -ENOENT);
	/* A directory opens but cannot be read: works even as root. */
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(kmsg_load(&log, path), -EISDIR);
	assert_int_equal(log.nrecs, 0);
	kmsg_log_release(&log);
}

static void
test_read_cap(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	struct strbuf sb = STRBUF_INIT, data = STRBUF_INIT;
	bool trunc = true;
	char path[128];

	for (int i = 0; i < 1000; i++)
		strbuf_addf(&data, "6,%d,%d,-;message number %d\n", i, i, i);
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	write_file(path, data.buf, data.len);

	/* Whole file under a large cap. */
	assert_int_equal(kmsg_read(path, &sb, 0, &trunc), 0);
	assert_false(trunc);
	assert_int_equal(sb.len, data.len);

	/* Exactly the file's size: not truncated. */
	strbuf_reset(&sb);
	assert_int_equal(kmsg_read(path, &sb, data.len, &trunc), 0);
	assert_false(trunc);
	assert_int_equal(sb.len, data.len);

	/* A cap mid-line: cut back to the last complete line. */
	strbuf_reset(&sb);
	assert_int_equal(kmsg_read(path, &sb, 1000, &trunc), 0);
	assert_true(trunc);
	assert_true(sb.len <= 1000 && sb.len > 900);
	assert_int_equal(sb.buf[sb.len - 1], '\n');
	kmsg_parse(&log, sb.buf, sb.len);
	assert_int_equal(log.nskipped, 0);
	assert_true(log.nrecs > 30);
	assert_int_equal(log.recs[log.nrecs - 1].seq, (int64_t)log.nrecs - 1);
	{
		char want[64];

		snprintf(want, sizeof(want), "message number %zu", log.nrecs - 1);
		assert_string_equal(log.recs[log.nrecs - 1].text, want);
	}
	kmsg_log_release(&log);
	strbuf_release(&sb);
	strbuf_release(&data);
}

/*
 * The running system's /dev/kmsg, a character device read non-blocking
 * until EAGAIN. Either it is readable and yields ordered records, or it
 * is refused with a clean -errno: both are asserted, nothing is skipped.
 */
static void
test_real_device(void **state)
{
	struct kmsg_log log = KMSG_LOG_INIT;
	struct stat st;
	int r;

	if (stat("/dev/kmsg", &st) < 0 || !S_ISCHR(st.st_mode)) {
		assert_int_equal(kmsg_load(&log, "/nonexistent/kmsg"), -ENOENT);
		return;
	}
	r = kmsg_load(&log, "/dev/kmsg");
	if (r < 0) {
		assert_true(r == -EACCES || r == -EPERM || r == -EINVAL);
		assert_int_equal(log.nrecs, 0);
		return;
	}
	assert_true(log.nrecs > 0);
	for (size_t i = 1; i < log.nrecs; i++)
		assert_true(log.recs[i].seq > log.recs[i - 1].seq);
	for (size_t i = 0; i < log.nrecs; i++)
		assert_true(log.recs[i].level >= 0 && log.recs[i].level <= 7);
	kmsg_log_release(&log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_dmesg_format),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_huge_line),
		cmocka_unit_test(test_find),
		cmocka_unit_test_setup_teardown(test_empty_file, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_unreadable, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_cap, setup_dir, teardown_dir),
		cmocka_unit_test(test_real_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
