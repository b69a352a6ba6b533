/* plan: what apply would change on this host, computed without touching it.
 *
 * plan_build() takes the facts and findings of a discovery (the response
 * after pci_discover/host_discover/findings_evaluate), the request's
 * policy and the agent's state record, runs the preflight checks, selects
 * the devices (select.c) and works out:
 *
 *   - every file to write, with its current and its wanted bytes:
 *       kernel command line   /etc/default/grub or the grub.d file that
 *                             decides GRUB_CMDLINE_LINUX_DEFAULT (grub),
 *                             boot/loader/entries/<entry>.conf (systemd-boot),
 *                             /etc/kernel/cmdline (proxmox-boot-tool,
 *                             systemd-boot with kernel-install);
 *                             grubby and kernelstub keep their own files
 *                             and are driven by command instead;
 *       modprobe.d            /etc/modprobe.d/vfio.conf (vfio-pci ids=,
 *                             softdeps, install hook, unsafe interrupts),
 *                             /etc/modprobe.d/blacklist-nouveau.conf;
 *       module lists          /etc/modules-load.d/vfio-pci.conf,
 *                             /etc/initramfs-tools/modules (vfio_virqfd
 *                             removed on kernels >= 6.2);
 *       initramfs             /etc/dracut.conf.d/vfio.conf,
 *                             /etc/mkinitcpio.conf;
 *       per-address binding   /usr/local/sbin/vfleet-vfio-override and the
 *                             initramfs-tools hook / init-top script;
 *   - the commands to run after them, in order: initramfs rebuild, image
 *     check, bootloader (grubby/kernelstub arguments, update-grub or
 *     grub2-mkconfig -o, proxmox-boot-tool refresh);
 *   - the kernel parameters /proc/cmdline must show after the reboot.
 *
 * Each step is planned only when needed, so a second apply plans nothing.
 * Steps an interrupted apply left pending in the state are planned again.
 *
 * Commands are the host's own tools at their real paths. With --root
 * other than "/", the tools found under ROOT are run (the fixture stubs),
 * as if chrooted: their arguments name host paths. policy.cmd_initramfs and
 * policy.cmd_bootloader_update replace the tool (for grubby and kernelstub
 * the agent appends its arguments to the replacement).
 */
#ifndef VF_PLAN_H
#define VF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proto.h"
#include "select.h"
#include "state.h"
#include "strbuf.h"

#define PLAN_INITRAMFS 1u	/* a rebuilt initramfs must carry the file */
#define PLAN_BOOT 2u		/* the bootloader configuration must be updated */

#define PLAN_TIMEOUT_INITRAMFS_MS (15 * 60 * 1000)
#define PLAN_TIMEOUT_BOOT_MS (5 * 60 * 1000)
#define PLAN_TIMEOUT_CHECK_MS (2 * 60 * 1000)

struct plan_file {
	char *path;		/* host path */
	bool exists;
	struct strbuf old;	/* current bytes (empty when !exists) */
	struct strbuf want;	/* bytes apply writes */
	mode_t mode;		/* for a file that does not exist yet */
	unsigned affects;	/* PLAN_INITRAMFS | PLAN_BOOT */
	bool resume;		/* an interrupted apply left it pending */
	char *why;		/* one line: what the edit is for */
};

struct plan_cmd {
	char **argv;		/* as executed: argv[0] absolute (ROOT-prefixed
				   under --root) */
	size_t argc;
	char *display;		/* the command line as the host sees it */
	const char *purpose;	/* "initramfs", "initramfs-check", "bootloader" */
	int timeout_ms;
	bool check;		/* read-only check: failure is a finding */
	char **check_modules;	/* initramfs-check: modules the image must hold */
	size_t ncheck_modules;
};

struct plan {
	struct select_result sel;
	const char *binding;		/* "ids" or "driver-override" */
	bool vfio_builtin;
	char **cmdline_expected;
	size_t ncmdline_expected;
	char **cmdline_added;
	size_t ncmdline_added;
	char **cmdline_previous;
	size_t ncmdline_previous;
	char **modules_expected;
	size_t nmodules_expected;
	struct plan_file *files;	/* only files that change (or resume) */
	size_t nfiles;
	struct plan_cmd *cmds;
	size_t ncmds;
};

/*
 * Build the plan for request req (policy, root) from the discovery in resp,
 * with prev (may be NULL) the state record. Refusals and problems are
 * added to resp as errors (and informational findings); returns 0 when
 * apply may go ahead, -EPERM when preflight refused, -EINVAL for a
 * problem with the host's files (unreadable, uneditable), -ENOENT when a
 * selector matched nothing.
 */
int plan_build(const char *root, const struct proto_request *req,
	       struct proto_response *resp, const struct agent_state *prev,
	       struct plan *p);
void plan_release(struct plan *p);

/* Nothing to write, nothing to run? */
bool plan_is_empty(const struct plan *p);

/* Add the plan to resp->changes: files with unified diffs and hashes,
 * commands with exit_code -1 (not run). */
void plan_report(const struct plan *p, struct proto_response *resp);

/*
 * The commands rollback runs after restoring the files of record st, into
 * p->cmds: take the parameters apply gave grubby/kernelstub back out (and
 * put back those they replaced), rebuild the initramfs and regenerate the
 * boot configuration where apply did. resp holds the host facts
 * (bootloader, initramfs tool).
 */
void plan_rollback_cmds(const char *root, const struct proto_policy *pol,
			const struct proto_response *resp,
			const struct agent_state *st, struct plan *p);

/*
 * The host's tool name (e.g. "update-grub") as a host path into host:
 * the first of /usr/sbin, /usr/bin, /sbin, /bin that has it under root.
 * Returns false when absent.
 */
bool plan_find_tool(const char *root, const char *name, struct strbuf *host);

/*
 * A command for argv (argv[0] a host path, or an override used as is) into
 * c: exec path prefixed by root when root is not "/" and argv[0] is not an
 * override. Owned by c; free with plan_cmd_release().
 */
void plan_cmd_init(struct plan_cmd *c, const char *root, bool override,
		   char *const *argv, size_t argc, const char *purpose,
		   int timeout_ms);
void plan_cmd_release(struct plan_cmd *c);

#endif
