/* modprobe: modprobe.d directives and module lists, read and edited.
 *
 * The text functions are pure (no I/O) so they can be tested on strings:
 * they understand kmod's syntax (comments, "\" line continuations, '-' and
 * '_' equal in module names) and edit files the way a person would: one
 * line added or one line changed, every other byte kept.
 *
 * Module lists are the one-module-per-line files: /etc/modules-load.d/<name>.conf,
 * /etc/modules and /etc/initramfs-tools/modules ("module [args]").
 */
#ifndef VF_MODPROBE_H
#define VF_MODPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Module names compare with '-' and '_' the same. */
bool modprobe_name_eq(const char *a, const char *b);

/* --- directives in one file's text --- */

/* "blacklist <mod>" */
bool modprobe_text_has_blacklist(const char *text, const char *mod);
/* "options <mod> ... <param>=<value>" (value NULL: any value) */
bool modprobe_text_has_option(const char *text, const char *mod,
			      const char *param, const char *value);
/* "softdep <mod> pre: ... <pre> ..." */
bool modprobe_text_has_softdep(const char *text, const char *mod,
			       const char *pre);
/* "install <mod> <cmd>..." with the command's first word cmd (NULL: any);
 * *other (may be NULL) is set when an install line for mod runs something
 * else. */
bool modprobe_text_has_install(const char *text, const char *mod,
			       const char *cmd, bool *other);

/* --- edits of one file's text (in place; true when changed) --- */

/*
 * Append line (plus '\n') unless a logical line equal to it, blanks ignored
 * at both ends, is there. The appended line is a logical line of its own:
 * a text not ending in '\n' gets one first, and a last line continued with
 * "\" is ended with an empty line first (kmod would read line as part of
 * it). line must not end in "\". Every other byte is kept.
 */
bool modprobe_ensure_line(struct strbuf *text, const char *line);

/*
 * Make "options <mod> <param>=" hold every value of vals (a comma list,
 * as vfio-pci ids=): values are added to the last such option, in order,
 * after the ones already there (compared case-insensitively); else param
 * is added to the last "options <mod>" line; else a new line is appended
 * (as modprobe_ensure_line() does). Only one-line directives are edited in
 * place: one continued over several lines is left as it is.
 */
bool modprobe_merge_option_list(struct strbuf *text, const char *mod,
				const char *param, char *const *vals, size_t n);

/* Make "softdep <mod> pre: <pre>" hold: pre added to the pre: list of the
 * last one-line softdep for mod (the keywords "pre:" and "post:" are whole
 * words), else a new line appended as modprobe_ensure_line() does. */
bool modprobe_ensure_softdep(struct strbuf *text, const char *mod,
			     const char *pre);

/* --- module lists --- */

bool modprobe_list_has(const char *text, const char *mod);
/* Append mod on its own line unless listed. */
bool modprobe_list_add(struct strbuf *text, const char *mod);
/* Remove every line that lists mod (comments stay). */
bool modprobe_list_remove(struct strbuf *text, const char *mod);

/* --- the host --- */

/*
 * Does a *.conf in ROOT's modprobe.d directories (/etc, /run,
 * /usr/local/lib, /usr/lib, /lib), other than host path skip (may be NULL),
 * hold the directive? where (may be NULL) gets the first such host path.
 */
bool modprobe_host_has_blacklist(const char *root, const char *skip,
				 const char *mod, struct strbuf *where);
bool modprobe_host_has_option(const char *root, const char *skip,
			      const char *mod, const char *param,
			      const char *value, struct strbuf *where);
bool modprobe_host_has_softdep(const char *root, const char *skip,
			       const char *mod, const char *pre,
			       struct strbuf *where);

/* "install <mod> <cmd>": true when such a line runs cmd; *other is set
 * when one runs something else. */
bool modprobe_host_has_install(const char *root, const char *skip,
			       const char *mod, const char *cmd, bool *other,
			       struct strbuf *where);

/* Is module mod installed for kernel release (a mod.ko* file anywhere
 * under ROOT/lib/modules/<release>, or listed in /proc/modules)? */
bool modprobe_module_installed(const char *root, const char *release,
			       const char *mod);

#endif
