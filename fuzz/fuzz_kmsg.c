/* fuzz_kmsg: the kernel-log parser (kmsg_parse) on hostile bytes.
 *
 * The log is written by every driver on the host, so its text is not
 * ours. Promises checked: no crash or leak; every record has a text of at
 * most KMSG_TEXT_MAX bytes with no control byte left (records stay one
 * line in evidence), level -1..7, facility -1 or >= 0, a line number
 * within the input; records + skipped lines never exceed the lines; and
 * kmsg_find() walks to the end.
 */
#include "fuzz.h"
#include "kmsg.h"

static void
check_text(const char *s)
{
	FUZZ_ASSERT(s != NULL);
	FUZZ_ASSERT(strlen(s) <= KMSG_TEXT_MAX);
	for (; *s; s++)
		FUZZ_ASSERT((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const needles[] = {
		"DMAR", "Interrupt remapping", "vfio", "", "BAR ",
	};
	struct kmsg_log log = KMSG_LOG_INIT;
	size_t lines = 0;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	lines += size && data[size - 1] != '\n';

	kmsg_parse(&log, (const char *)data, size);
	FUZZ_ASSERT(log.nrecs + log.nskipped <= lines);
	for (size_t i = 0; i < log.nrecs; i++) {
		const struct kmsg_record *r = &log.recs[i];

		check_text(r->text);
		if (r->device)
			check_text(r->device);
		FUZZ_ASSERT(r->level >= -1 && r->level <= 7);
		FUZZ_ASSERT(r->facility >= -1);
		FUZZ_ASSERT(r->lineno >= 1 && r->lineno <= lines);
		if (i)
			FUZZ_ASSERT(r->lineno > log.recs[i - 1].lineno);
	}
	for (size_t k = 0; k < sizeof(needles) / sizeof(*needles); k++) {
		size_t pos = 0, found = 0;
		const struct kmsg_record *r;

		while ((r = kmsg_find(&log, &pos, needles[k]))) {
			FUZZ_ASSERT(strstr(r->text, needles[k]) != NULL);
			FUZZ_ASSERT(++found <= log.nrecs);
		}
	}
	kmsg_log_release(&log);
	return 0;
}
