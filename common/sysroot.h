/* sysroot: every host path goes through the --root prefix.
 *
 * The agent never opens "/etc/..." directly: it asks for
 * sysroot_path(&sb, root, "/etc/..."), so the whole agent runs unchanged on
 * a fixture tree. root "/" (or NULL, or "") means the real system.
 *
 * With a root other than "/", the agent runs the tools it finds under the
 * root as root, and writes its record and backups there. That is safe only
 * when nobody but a trusted owner can change what those paths name: the
 * sysroot_check_*() functions make the check OpenSSH's safe_path() makes
 * (every component owned by a trusted uid, none writable by group or
 * others), for the root, its parents, and the parts of the tree the agent
 * runs or writes. A symlink is checked itself (its owner) and through its
 * target, resolved from "/".
 *
 * One exception, for the parents of the root only: a directory with the
 * sticky bit (/tmp, /dev/shm) may be writable by others. There, others can
 * add names but cannot rename or remove an entry they do not own, and the
 * next component must be trusted-owned, so the path cannot be redirected.
 * The root itself and everything in it get no such exception: the agent
 * creates and looks up names there (var/lib/vfleet, the grub.d files, tools
 * on a search path) that another user could otherwise plant.
 */
#ifndef VF_SYSROOT_H
#define VF_SYSROOT_H

#include <stdbool.h>
#include <sys/types.h>

#include "strbuf.h"

/* Reset out and set it to root + path (path must be absolute). */
void sysroot_path(struct strbuf *out, const char *root, const char *path);
/* Same, with a printf-style path. */
void sysroot_pathf(struct strbuf *out, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when root names the real system ("/", "" or NULL): no prefix. */
bool sysroot_is_host(const char *root);

/* The owners a checked path may have. */
#define SYSROOT_TRUST_MAX 3
struct sysroot_trust {
	uid_t uid[SYSROOT_TRUST_MAX];
	size_t n;
};

/*
 * Fill t with root (uid 0), the effective uid, and, when the agent runs
 * as root through sudo (real uid 0 and SUDO_UID set), sudo's caller: the
 * login account, which SECURITY.md trusts already (it can run anything as
 * root).
 */
void sysroot_trust_init(struct sysroot_trust *t);

/*
 * The checks. Each returns 0 when the path is safe (or, below the root,
 * does not exist: there is nothing to redirect), -EPERM when a component
 * is not, or -errno when one cannot be examined; on failure err is reset
 * to one line naming the component, what is wrong, its owner and mode.
 */

/* root (an existing directory) and every directory above it. */
int sysroot_check_root(const struct sysroot_trust *t, const char *root,
		       struct strbuf *err);
/* ROOT/dir, the directories between it and the root, and every directory
 * below it (symlinks to directories are checked, not descended). */
int sysroot_check_tree(const struct sysroot_trust *t, const char *root,
		       const char *dir, struct strbuf *err);
/* ROOT/dir, the directories between it and the root, and each program in
 * it: regular files directly in it, and the files its symlinks name. */
int sysroot_check_programs(const struct sysroot_trust *t, const char *root,
			   const char *dir, struct strbuf *err);
/* real, a file under root (already prefixed, e.g. an argv[0]) that is
 * about to run, and the directories between it and the root. */
int sysroot_check_file(const struct sysroot_trust *t, const char *root,
		       const char *real, struct strbuf *err);

/* True when real is root itself or lies under it (textually). */
bool sysroot_is_under(const char *root, const char *real);

#endif
