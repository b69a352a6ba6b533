/* edit: the one way the agent changes a file on the host.
 *
 * Every write to /etc, /boot, /usr/local and the agent's own state goes
 * through here (STYLE.md point 7):
 *
 *   - atomic replace: a temp file "<path>.vfleet-tmp.XXXXXX" in the same
 *     directory, written, fsynced, given the old file's mode and owner,
 *     renamed over the target, then the directory fsynced. A reader sees
 *     the old bytes or the new ones, never a mix, a truncation or nothing;
 *   - a backup of the original bytes under
 *     ROOT/var/lib/vfleet/backups/<run-id>/<path>, written and fsynced
 *     BEFORE the edit (not a ".bak" next to the file: modprobe.d and grub.d
 *     read every file in their directory, and backups are the state's);
 *   - each edit recorded in struct agent_state (agent/state.h): the intent
 *     (pending, with the sha256 it will have) before, done after;
 *   - no write when the content is already right;
 *   - symlinks and non-regular files are refused, not replaced.
 *
 * Test hook: with VFLEET_TEST_KILL_AT=<n> in the environment the agent
 * raises SIGKILL at the n-th "test point" (every state save, every step
 * boundary, halfway through every file write, between write and rename).
 * It exists so that tests can prove that a crash at any point leaves every
 * file old or new and that the next apply or rollback completes. It is
 * harmless in production: the controller never sets it (sudo and sshd drop
 * the environment), and what it does is exactly what a power cut does, which
 * the design must survive anyway. VFLEET_TEST_POINTS=1 lists the points on
 * stderr.
 */
#ifndef VF_EDIT_H
#define VF_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "state.h"
#include "strbuf.h"

/* Largest file the agent edits or backs up. */
#define EDIT_FILE_MAX (4u << 20)

/* A test point named what (see above); a no-op unless the hook is set. */
void edit_test_point(const char *what);
/* Restart the count of test points (unit tests). */
void edit_test_reset(void);

/* mkdir -p of a real path (already root-prefixed). Returns 0 or -errno. */
int edit_mkdir_p(const char *path, mode_t mode);

/*
 * Replace the real path with data atomically (see above): first remove the
 * temp files an interrupted write of path left, then
 * fileio_write_atomic_steps() with edit_test_point() at its steps. An
 * existing file keeps its mode and owner; a new one gets mode. On failure
 * the temp file is removed and path is untouched. Returns 0 or -errno.
 */
int edit_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode);

/*
 * Read host file ROOT+path into out (reset first). Returns 0, -ENOENT when
 * absent, -ELOOP for a symlink, -EINVAL for a non-regular file, -EFBIG over
 * EDIT_FILE_MAX, or -errno.
 */
int edit_read(const char *root, const char *path, struct strbuf *out);

struct edit_ctx {
	const char *root;	/* the --root prefix ("/" for the host) */
	const char *run_id;	/* names the backup directory */
	struct agent_state *st;	/* where edits are recorded (borrowed) */
	struct strbuf *err;	/* one-line reason of the last failure */
};

/*
 * Intent for host path: record (or re-arm) its state entry as pending with
 * the sha256 of `data`, back up the current bytes (first time only) and
 * note the parent directories that will have to be created. The caller
 * saves the state afterwards; nothing on the host but the backup is
 * written. Returns 0 or -errno (reason in c->err).
 */
int edit_prepare(struct edit_ctx *c, const char *path, const void *data,
		 size_t len);

/*
 * Make host path hold data: create the parent directories, remove stale
 * temp files of earlier crashed runs, write atomically (mode for a new
 * file), mark the entry done and save the state. The entry must have been
 * prepared. Returns 1 when the file was written, 0 when it already held
 * data, -errno (reason in c->err).
 */
int edit_commit(struct edit_ctx *c, const char *path, const void *data,
		size_t len, mode_t mode);

/*
 * Undo one recorded edit: put the backup back (or remove a file vfleet
 * created), when the file still holds what vfleet wrote (or is already
 * back). A file changed by someone else since is left alone (-ESTALE); a
 * backup whose hash does not match is not used (-EIO). Marks the entry
 * restored; the caller saves the state. Returns 1 when the host changed,
 * 0 when it already was as before, -errno (reason in c->err).
 */
int edit_restore(struct edit_ctx *c, struct state_file *f);

/* Remove the directories in st->dirs_created that are empty, deepest
 * first. Returns the number removed. */
int edit_remove_dirs(struct edit_ctx *c);

#endif
