/* sysroot: every host path goes through the --root prefix.
 *
 * The agent never opens "/etc/..." directly: it asks for
 * sysroot_path(&sb, root, "/etc/..."), so the whole agent runs unchanged on
 * a fixture tree. root "/" (or NULL, or "") means the real system.
 */
#ifndef VF_SYSROOT_H
#define VF_SYSROOT_H

#include "strbuf.h"

/* Reset out and set it to root + path (path must be absolute). */
void sysroot_path(struct strbuf *out, const char *root, const char *path);
/* Same, with a printf-style path. */
void sysroot_pathf(struct strbuf *out, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
