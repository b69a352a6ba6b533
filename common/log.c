#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static const char *log_prog = "vfleet";
static enum log_level log_threshold = LOG_WARN;

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_threshold = level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_threshold)
		return;
	fprintf(stderr, "%s: %s: ", log_prog, tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
