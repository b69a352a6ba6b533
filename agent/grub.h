/* grub: the kernel command line in the boot configuration, edited.
 *
 * Pure text-in, text-out editors (no I/O) for every place a bootloader
 * keeps the command line, plus two small readers:
 *
 *   grub_cmdline_edit()   a plain command line ("quiet splash ..."): the
 *                         value of a GRUB variable, /etc/kernel/cmdline, a
 *                         BLS "options" line;
 *   grub_default_edit()   /etc/default/grub or /etc/default/grub.d/<x>.cfg:
 *                         the last assignment of GRUB_CMDLINE_LINUX_DEFAULT
 *                         (or another variable) edited in place, every other
 *                         byte kept; "" '' and unquoted values handled; the
 *                         line created when missing (never the word None);
 *                         values it cannot edit safely ($(...), backquotes,
 *                         backslashes, concatenated quotes, a quote left open
 *                         across lines) refused;
 *   grub_bls_edit()       every "options" line of a BLS / systemd-boot entry;
 *   grub_kernelstub_options()  the "user" kernel_options of
 *                         /etc/kernelstub/configuration;
 *   grub_default_target() which file's assignment decides the variable;
 *   grub_mkconfig_output() the grub.cfg grub(2)-mkconfig must write.
 *
 * Parameters are "name=value" or a bare "name". Names compare as the
 * kernel compares them: '-' and '_' are the same.
 */
#ifndef VF_GRUB_H
#define VF_GRUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* True when tokens a and b name the same parameter (text before '='). */
bool grub_param_same_name(const char *a, const char *b);

/*
 * The value of the last parameter named like `param` (only its name is
 * used) on cmdline into value (reset first; may be NULL). Returns true when
 * present.
 */
bool grub_cmdline_get(const char *cmdline, const char *param,
		      struct strbuf *value);

/*
 * Edit a blank-separated command line into out (reset first):
 *   - each token of remove[] that appears verbatim is deleted (with one
 *     blank next to it);
 *   - for each set[] parameter: when a parameter of that name is present,
 *     its last occurrence is replaced by the new token (unless equal);
 *     otherwise the token is appended after one blank.
 * Other tokens and all blanks between them are kept. Returns true when out
 * differs from in.
 */
bool grub_cmdline_edit(const char *in, const char *const *set, size_t nset,
		       const char *const *remove, size_t nremove,
		       struct strbuf *out);

/*
 * Edit the last assignment of shell variable var in text (a
 * /etc/default/grub style file) with grub_cmdline_edit(), into out (reset
 * first). Without an assignment, a line var="<set...>" is appended (nothing
 * when set is empty). Returns 1 when out differs from text, 0 when not,
 * -EINVAL when the value cannot be edited safely or a parameter holds a
 * character that needs quoting (err, may be NULL, gets the reason with the
 * line number).
 */
int grub_default_edit(const char *text, size_t len, const char *var,
		      const char *const *set, size_t nset,
		      const char *const *remove, size_t nremove,
		      struct strbuf *out, struct strbuf *err);

/*
 * Edit every "options" line of a BLS / systemd-boot entry into out (reset
 * first); an entry without one gets "options <set...>" appended. Returns 1
 * changed, 0 not.
 */
int grub_bls_edit(const char *text, size_t len, const char *const *set,
		  size_t nset, const char *const *remove, size_t nremove,
		  struct strbuf *out);

/*
 * The joined options of entry text (all "options" lines) into out (reset
 * first). Returns true when there is at least one.
 */
bool grub_bls_options(const char *text, size_t len, struct strbuf *out);

/*
 * kernelstub keeps its options in JSON: {"user": {"kernel_options": [..]}}.
 * The options joined by blanks into out (reset first). Returns 0, or
 * -ENOENT when there is no such list.
 */
int grub_kernelstub_options(const char *json, struct strbuf *out);

/*
 * Which file decides var: the last /etc/default/grub.d/<x>.cfg (in the
 * order grub-mkconfig sources them) that assigns it, else
 * /etc/default/grub. Host path into path (reset first). Returns 0 or
 * -errno when grub.d cannot be read.
 */
int grub_default_target(const char *root, const char *var, struct strbuf *path);

/*
 * The file grub-mkconfig / grub2-mkconfig must write (host path, into out):
 * /boot/efi/EFI/<distro>/grub.cfg when it is a full config (older
 * RHEL/CentOS UEFI), not the stub that newer ones keep there (it only says
 * "configfile"), else /boot/grub2/grub.cfg where /boot/grub2 exists, else
 * /boot/grub/grub.cfg.
 */
void grub_mkconfig_output(const char *root, struct strbuf *out);

/*
 * Fuzzing entry: runs grub_default_edit() on data with a fixed parameter
 * set and checks its promises (result re-parses, a second edit changes
 * nothing, bytes outside the edited line kept). Aborts on a broken
 * promise; returns 0.
 */
int grub_fuzz_one(const uint8_t *data, size_t size);

#endif
