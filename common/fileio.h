/* fileio: reading host attributes and replacing files atomically. */
#ifndef VF_FILEIO_H
#define VF_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

/* Largest sysfs/procfs attribute the agent will read (one page). */
#define FILEIO_ATTR_MAX 4096

/*
 * Read a sysfs/procfs attribute into out (reset first), at most
 * FILEIO_ATTR_MAX bytes, trailing newline stripped. Returns 0 or -errno
 * (-EFBIG when the attribute is longer than a page).
 */
int fileio_read_attr(const char *path, struct strbuf *out);

/* True when path exists (lstat; a dangling symlink exists). */
bool fileio_exists(const char *path);

/*
 * Basename of the target of symlink `path` into out (reset first), as
 * libpci does for iommu_group and driver. Returns 0 or -errno.
 */
int fileio_link_basename(const char *path, struct strbuf *out);

/* The temp file of an atomic write is "<path>" FILEIO_TMP_SUFFIX "XXXXXX",
 * in path's directory (so a crashed writer's leftovers can be found). */
#define FILEIO_TMP_SUFFIX ".vfleet-tmp."

/*
 * Replace path with data atomically: temp file in the same directory,
 * write, fsync, keep the old file's mode and owner (or use `mode` for a new
 * file), rename over path, fsync the directory. On any failure the temp file
 * is removed and path is untouched. Returns 0 or -errno.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode);

/*
 * Called by fileio_write_atomic_steps() at its fixed points, named by step:
 * "write-half" (half the data is in the temp file) and "before-rename"
 * (the temp file is complete, fsynced and closed; path still holds the old
 * bytes). The agent's fault-injection hook (agent/edit.h) stops the
 * process there, to prove a crash at either point leaves path old.
 */
typedef void (*fileio_step_fn)(const char *step);

/* fileio_write_atomic() calling step (may be NULL) at each of its points. */
int fileio_write_atomic_steps(const char *path, const void *data, size_t len,
			      mode_t mode, fileio_step_fn step);

/* fsync the directory that holds path. Returns 0 or -errno. */
int fileio_fsync_dir_of(const char *path);

#endif
