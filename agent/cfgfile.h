/* cfgfile: small readers for the host's text configuration.
 *
 * Line-by-line reading under the --root prefix (with line numbers for
 * evidence), sorted directory listings as the tools themselves glob them,
 * shell-style "NAME=value" assignments (os-release, /etc/default/grub,
 * mkinitcpio.conf, dracut.conf) and kernel command line parameters.
 * libc only; nothing here writes.
 */
#ifndef VF_CFGFILE_H
#define VF_CFGFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Largest configuration file read (they are a few KiB). */
#define CFGFILE_MAX (1u << 20)

/*
 * Called for each line of a file: line is NUL-terminated without its
 * newline (and without a trailing '\r'); lineno counts from 1. Return 0 to
 * go on, anything else to stop and make cfgfile_foreach_line() return it.
 */
typedef int (*cfgfile_line_fn)(const char *line, unsigned lineno, void *ctx);

/*
 * Read ROOT+path (at most CFGFILE_MAX bytes) and call fn for every line.
 * Returns 0, -ENOENT when the file does not exist, another -errno when it
 * cannot be read, or the first non-zero value fn returned.
 */
int cfgfile_foreach_line(const char *root, const char *path,
			 cfgfile_line_fn fn, void *ctx);

/*
 * Names of the entries in ROOT+dir whose name ends with suffix (NULL: all),
 * dotfiles skipped, sorted with strcmp (the order run-parts, modprobe and
 * grub's glob use). *names (caller frees with cfgfile_names_free) may be
 * NULL when there are none. Returns the count, -ENOENT when dir is absent,
 * or -errno.
 */
int cfgfile_list(const char *root, const char *dir, const char *suffix,
		 char ***names, size_t *n);
void cfgfile_names_free(char **names, size_t n);

/*
 * Parse a shell assignment "NAME=value" (optional leading "export ",
 * blanks around it ignored, "#" lines are not assignments). The value is
 * unquoted as sh would: '...' literally, "..." with \" \\ \$ \` escapes,
 * bare words up to an unquoted blank; a bash array "(a b)" is kept as
 * written. Returns true and fills name and
 * value (both reset first) for an assignment. *appends is set (may be NULL)
 * when it is "NAME+=value" (dracut.conf style).
 */
bool cfgfile_assignment(const char *line, struct strbuf *name,
			struct strbuf *value, bool *appends);

/* True for a blank line or a comment ('#' first non-blank). */
bool cfgfile_is_comment(const char *line);

/* True when word appears in s delimited by start/end, blanks, quotes,
 * '(' ')' or ',' (module lists in every syntax the tools accept). */
bool cfgfile_has_word(const char *s, const char *word);

/*
 * Look up kernel parameter name on a command line (the last occurrence
 * wins, as for the kernel; '-' and '_' are the same in names; parsing stops
 * at "--"). Returns true when present and sets value (reset first; may be
 * NULL) to what follows '=' (empty for a bare flag).
 */
bool cfgfile_cmdline_param(const char *cmdline, const char *name,
			   struct strbuf *value);

/* Same as cfgfile_cmdline_param() but true only when some occurrence has
 * exactly this value ("intel_iommu", "on"); comma lists are split
 * ("intel_iommu=on,sm_on" has "on"). */
bool cfgfile_cmdline_has(const char *cmdline, const char *name,
			 const char *value);

/* The kernel release as numbers: "6.8.0-45-generic" -> 6, 8. Returns false
 * when it does not start with "N.M". */
bool cfgfile_kernel_version(const char *release, int *major, int *minor);

/* True when release is at least major.minor (false when unknown). */
bool cfgfile_kernel_at_least(const char *release, int major, int minor);

#endif
