#include "sysroot.h"

#include <stdarg.h>
#include <string.h>

static void
sysroot_prefix(struct strbuf *out, const char *root)
{
	size_t n;

	strbuf_reset(out);
	if (!root || !*root)
		return;
	n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;	/* "/" and "dir/" both join cleanly with "/etc" */
	strbuf_add(out, root, n);
}

void
sysroot_path(struct strbuf *out, const char *root, const char *path)
{
	sysroot_prefix(out, root);
	strbuf_addstr(out, path);
}

void
sysroot_pathf(struct strbuf *out, const char *root, const char *fmt, ...)
{
	va_list ap;

	sysroot_prefix(out, root);
	va_start(ap, fmt);
	strbuf_vaddf(out, fmt, ap);
	va_end(ap);
}
