/* state: the agent's record of what apply did on this host.
 *
 * ROOT/var/lib/vfleet/state.json, always replaced atomically (temp file in
 * the same directory, fsync, rename, fsync of the directory). apply writes
 * it BEFORE each step (the step recorded as pending: intent) and AFTER it
 * (done, with hashes or exit status), so that whatever point a crash hits,
 * the next apply resumes and rollback knows every file it has to restore.
 *
 * The record is cumulative: a second apply on top of an applied record
 * keeps the first backup of a file it touches again (sha256_before stays
 * the pre-vfleet content), so one rollback returns the host to what it was
 * before vfleet. After a rollback the next apply starts a new record.
 *
 * Readers: apply/rollback/status (agent/apply.c) and verify (agent/verify.c).
 * The JSON codec is protocol/state_json.c (json-c stays in protocol/).
 *
 * Ownership: every pointer inside struct agent_state is owned by it and
 * freed by state_release(); strings that are unknown are NULL.
 */
#ifndef VF_STATE_H
#define VF_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Host paths (below the --root prefix). */
#define STATE_DIR "/var/lib/vfleet"
#define STATE_PATH "/var/lib/vfleet/state.json"
#define STATE_BACKUP_DIR "/var/lib/vfleet/backups"	/* /<run-id>/<path> */
/* Format version of state.json (a number, bumped on incompatible change). */
#define STATE_FORMAT 1
/* Command output kept per command (the tail). */
#define STATE_OUTPUT_TAIL_MAX (16u << 10)

enum state_phase {
	STATE_PHASE_NONE = 0,		/* no state file: vfleet never applied */
	STATE_PHASE_PLANNED,		/* "planned": apply recorded its intent,
					   no step done yet */
	STATE_PHASE_APPLYING,		/* "applying": steps under way (a crash
					   leaves this; apply resumes) */
	STATE_PHASE_APPLIED,		/* "applied-pending-reboot" */
	STATE_PHASE_VERIFIED,		/* "verified": verify saw it active */
	STATE_PHASE_FAILED,		/* "failed": a step or verify failed */
	STATE_PHASE_ROLLING_BACK,	/* "rolling-back": rollback under way */
	STATE_PHASE_ROLLED_BACK,	/* "rolled-back" */
	STATE_PHASE__COUNT
};

enum state_step {
	STATE_STEP_PENDING = 0,		/* intent recorded, not finished */
	STATE_STEP_DONE,		/* finished (a command: it exited 0) */
	STATE_STEP_FAILED,		/* a command exited non-zero / timed out */
	STATE_STEP_RESTORED,		/* rollback put the old bytes back */
	STATE_STEP__COUNT
};

/* One file apply wrote (or created). */
struct state_file {
	char *path;		/* host path: "/etc/default/grub" */
	bool created;		/* did not exist before vfleet; rollback removes it */
	char *sha256_before;	/* content before vfleet (NULL when created) */
	char *sha256_after;	/* content apply wrote (NULL while pending) */
	char *backup;		/* host path of the original bytes:
				   /var/lib/vfleet/backups/<run-id>/etc/default/grub
				   (NULL when created) */
	char *run_id;		/* the run that first touched it */
	enum state_step status;
};

/* One command apply or rollback ran. */
struct state_command {
	char **argv;		/* as run (absolute argv[0]) */
	size_t argc;
	char *purpose;		/* "bootloader", "initramfs", "initramfs-check" */
	char *stage;		/* "apply" or "rollback" */
	int exit_code;		/* -1 not run / killed before it finished */
	bool timed_out;
	char *output_tail;	/* last STATE_OUTPUT_TAIL_MAX bytes of
				   stdout+stderr, NULL when not run */
	enum state_step status;
};

/* One PCI function apply configured for vfio-pci. */
struct state_device {
	char *address;		/* "0000:0e:00.0" */
	char *ids;		/* "10de:1c03" */
	char *gpu;		/* the GPU it belongs to (itself for the GPU) */
	char *driver_before;	/* driver bound at apply, NULL none */
};

struct agent_state {
	int format;		/* STATE_FORMAT */
	enum state_phase phase;
	char *run_id;		/* the latest run that changed the record */
	char **run_ids;		/* every run that contributed, oldest first */
	size_t nrun_ids;
	char *boot_id;		/* /proc/sys/kernel/random/boot_id at apply */
	char *kernel_release;	/* running kernel at apply */
	char *bootloader;	/* as detected at apply (bootcfg) */
	char *initramfs_tool;
	char *binding;		/* "ids" (vfio-pci ids=) or "driver-override"
				   (per address, identical cards split) */
	char *updated;		/* UTC time of the last save, RFC 3339 */
	char *message;		/* why the phase is failed, else NULL */
	struct state_device *devices;
	size_t ndevices;
	char **cmdline_expected;	/* kernel parameters that must be on
					   /proc/cmdline after the reboot, as
					   written: "intel_iommu=on", "iommu=pt",
					   "vfio-pci.ids=10de:1c03,10de:10f1" */
	size_t ncmdline_expected;
	char **modules_expected;	/* modules the initramfs must carry
					   ("vfio_pci", "vfio", ...); empty when
					   vfio-pci is built in */
	size_t nmodules_expected;
	char **cmdline_added;		/* the parameters apply put into the boot
					   configuration (a subset of
					   cmdline_expected; the rest was there) */
	size_t ncmdline_added;
	char **cmdline_previous;	/* parameters those replaced ("vfio-pci.ids=
					   <fewer ids>"); rollback puts them back
					   where a tool (grubby, kernelstub) holds
					   the command line */
	size_t ncmdline_previous;
	char **dirs_created;		/* host directories apply created, parents
					   first; rollback removes them when empty */
	size_t ndirs_created;
	struct state_file *files;
	size_t nfiles;
	struct state_command *commands;
	size_t ncommands;
};

void state_init(struct agent_state *st);
/* Free everything in st and re-init it. Safe to call twice. */
void state_release(struct agent_state *st);

/*
 * Read ROOT/var/lib/vfleet/state.json into st (released and re-initialised
 * first). Returns 0; -ENOENT when there is no state file (st is then empty,
 * phase STATE_PHASE_NONE); -EPROTO when it is not a valid state (reason in
 * err); or -errno when it cannot be read (err says which file). err may be
 * NULL.
 */
int state_load(const char *root, struct agent_state *st, struct strbuf *err);

/*
 * Write st to ROOT/var/lib/vfleet/state.json atomically (creating the
 * directory, mode 0700), stamping st->updated. Returns 0 or -errno (err
 * says what failed; may be NULL).
 */
int state_save(const char *root, struct agent_state *st, struct strbuf *err);

/* Wire names: "planned", "applied-pending-reboot", ... ("none" for NONE). */
const char *state_phase_name(enum state_phase phase);
int state_phase_from_name(const char *name);	/* -1 if unknown */
const char *state_step_name(enum state_step step);
int state_step_from_name(const char *name);	/* -1 if unknown */

/* Append a zeroed element (exit_code -1 for commands); owned by st. */
struct state_file *state_add_file(struct agent_state *st);
struct state_command *state_add_command(struct agent_state *st);
struct state_device *state_add_device(struct agent_state *st);
/* The file entry for host path, or NULL. Borrowed. */
struct state_file *state_find_file(const struct agent_state *st,
				   const char *path);

/* --- JSON codec (protocol/state_json.c, the json-c side) --- */

/* Append st as indented JSON plus '\n' to out. Returns 0 or -ENOMEM. */
int state_json_encode(const struct agent_state *st, struct strbuf *out);
/*
 * Parse buf into st (overwritten, not released first). Returns 0 or
 * -EPROTO with a one-line reason appended to err (may be NULL); on failure
 * st is left released.
 */
int state_json_decode(const char *buf, size_t len, struct agent_state *st,
		      struct strbuf *err);

#endif
