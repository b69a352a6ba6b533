/* proto: the messages between controller and agent, as C structs.
 *
 * Both sides work only with these structs; JSON (json-c) lives in
 * protocol/proto_json.c and nowhere else. See protocol/PROTOCOL.md for the
 * wire format and protocol/schema/v1/ for the JSON Schemas.
 *
 * Ownership: every char * and array inside a request or response is owned
 * by that request/response and freed by proto_request_release() /
 * proto_response_release(). Strings that are "not known" are NULL.
 */
#ifndef VF_PROTO_H
#define VF_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* The version this build writes (PROTOCOL.md section 2: it reads any 1.x). */
#define PROTO_VERSION_MAJOR 1
#define PROTO_VERSION_MINOR 1
/* Hard cap on any one message, either direction (see PROTOCOL.md). */
#define PROTO_MESSAGE_MAX (8u << 20)
/*
 * Per-value limits the decoder enforces (PROTOCOL.md "Limits"); a producer
 * truncates to them (diffs, command output) rather than be rejected.
 */
#define PROTO_STRING_MAX (64u << 10)	/* bytes in any one string ... */
#define PROTO_TEXT_MAX (1u << 20)	/* ... but change.diff, change.output_tail */
#define PROTO_ARRAY_MAX 65536u		/* elements in any one array */
#define PROTO_DEPTH_MAX 32		/* JSON nesting */

enum proto_op {
	PROTO_OP_FACTS = 0,
	PROTO_OP_PLAN,
	PROTO_OP_APPLY,
	PROTO_OP_VERIFY,
	PROTO_OP_ROLLBACK,
	PROTO_OP_STATUS,
	PROTO_OP_REBOOT,
	PROTO_OP__COUNT
};

enum proto_severity {
	PROTO_SEV_INFO = 0,	/* worth knowing, changes nothing */
	PROTO_SEV_WARNING,	/* needs configuration or care */
	PROTO_SEV_BLOCKER,	/* passthrough cannot work until fixed */
	PROTO_SEV__COUNT
};

enum proto_verdict {
	PROTO_VERDICT_READY = 0,	/* bound to vfio-pci, nothing to do */
	PROTO_VERDICT_NEEDS_CONFIG,	/* vfleet apply can get it ready */
	PROTO_VERDICT_BLOCKED,		/* something vfleet must not fix alone */
	PROTO_VERDICT__COUNT
};

/* Tri-state for facts the host may not reveal. */
enum proto_tristate {
	PROTO_UNKNOWN = -1,
	PROTO_NO = 0,
	PROTO_YES = 1,
};

/* What a policy selects and allows. */
struct proto_policy {
	char **select;		/* "10de", "10de:1c03" or "0000:0e:00.0" */
	size_t nselect;
	bool allow_unsafe_interrupts;
	bool allow_group_not_viable;
	bool allow_only_display;
	bool allow_no_iommu;
	bool allow_driver_in_use;
	/*
	 * Commands that stand in for the host's own tools, as argv vectors
	 * (argv[0] absolute; no shell). Empty: the agent picks the tool
	 * (PROTOCOL.md §8). For unusual hosts and for tests.
	 */
	char **cmd_bootloader_update;	/* regenerates the boot config */
	size_t ncmd_bootloader_update;
	char **cmd_initramfs;		/* rebuilds every initramfs */
	size_t ncmd_initramfs;
	char **cmd_reboot;		/* reboots the host */
	size_t ncmd_reboot;
};

struct proto_request {
	int version_major;
	int version_minor;
	enum proto_op op;
	char *root;		/* NULL means "/" */
	char *run_id;		/* NULL for read-only operations */
	struct proto_policy policy;
};

struct proto_finding {
	enum proto_severity severity;
	char *code;		/* stable identifier, e.g. "iommu-off" */
	char *message;		/* one sentence for the operator */
	char *device;		/* PCI address it concerns, NULL = host-wide */
	char **evidence;	/* "path:line: text", "kmsg: text", ... */
	size_t nevidence;
};

struct proto_pci_func {
	char *address;		/* "0000:0e:00.0" */
	uint32_t class_code;	/* 24-bit, e.g. 0x030000 */
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsys_vendor_id;
	uint16_t subsys_device_id;
	int revision;		/* -1 unknown */
	char *class_name;	/* names from pci.ids, NULL if unknown */
	char *vendor_name;
	char *device_name;
	char *subsys_name;
	char *driver;		/* driver in use, NULL if none */
	char *driver_override;	/* NULL when "(null)" / unset */
	int iommu_group;	/* -1 when none */
	enum proto_tristate boot_vga;
	int numa_node;		/* -1 unknown */
	char *reset_method;	/* NULL when absent */
	int sriov_totalvfs;	/* -1 when not SR-IOV capable */
	char *link_speed;	/* "16.0 GT/s PCIe", NULL when absent */
	int link_width;		/* -1 unknown */
};

struct proto_iommu_group {
	int id;
	char **members;		/* PCI addresses, sorted */
	size_t nmembers;
};

struct proto_gpu {
	char *address;		/* the display function */
	char **companions;	/* other functions in its slot (audio, USB...) */
	size_t ncompanions;
	int iommu_group;	/* -1 when none */
	bool group_viable;	/* only the GPU's own functions and bridges */
	enum proto_verdict verdict;
	char *reason;		/* top finding's message, for the table */
};

struct proto_host_facts {
	char *hostname;
	char *distro_id;	/* os-release ID */
	char *distro_name;	/* os-release PRETTY_NAME */
	char *kernel_release;
	char *arch;		/* "x86_64" */
	char *cpu_vendor;	/* "GenuineIntel", "AuthenticAMD" */
	char *cpu_model;
	char *iommu_hw;		/* "intel-vt-d" (DMAR), "amd-vi" (IVRS), NULL */
	char *cmdline;
	enum proto_tristate iommu_active;
	int iommu_groups;	/* number of groups present */
	enum proto_tristate intremap;
	char *vfio_pci;		/* "builtin", "module", "missing" */
	char **modules_loaded;	/* GPU and vfio modules found in /proc/modules */
	size_t nmodules_loaded;
	char *bootloader;	/* "grub", "grub-bls", "systemd-boot", "kernelstub",
				   "proxmox-boot-tool", NULL */
	char **grub_overrides;	/* grub.d files setting the kernel cmdline */
	size_t ngrub_overrides;
	char *initramfs_tool;	/* "initramfs-tools", "dracut", "mkinitcpio", NULL */
	enum proto_tristate secure_boot;
	char *boot_id;
	char *vfio_state;	/* phase from state.json (apply issue), NULL */
};

/* One change made (or, in plan mode, that would be made). */
struct proto_change {
	char *kind;		/* "file" or "command" */
	char *target;		/* path, or the command line for display */
	char *diff;		/* unified diff for files, NULL for commands */
	char *sha256_before;
	char *sha256_after;
	int exit_code;		/* commands; -1 otherwise */
	char *output_tail;
};

/* The agent's record of apply (ROOT/var/lib/vfleet/state.json), as the
 * controller sees it: status answers with it without discovery. */
struct proto_state {
	char *phase;		/* "applied-pending-reboot", "rolled-back", ... */
	char *run_id;		/* the latest run that changed the record */
	char *boot_id;		/* /proc/sys/kernel/random/boot_id at apply */
	char *updated;		/* UTC time of the last change, RFC 3339 */
	char *message;		/* why the phase is "failed", else NULL */
	char *binding;		/* "ids" or "driver-override" */
	char **devices;		/* PCI addresses configured for vfio-pci */
	size_t ndevices;
	char **cmdline_expected;	/* parameters /proc/cmdline must show
					   after the reboot */
	size_t ncmdline_expected;
};

struct proto_error {
	char *code;		/* stable identifier, e.g. "pci-scan" */
	char *message;
	char *path;		/* file involved, NULL if none */
};

struct proto_response {
	int version_major;
	int version_minor;
	enum proto_op op;	/* PROTO_OP__COUNT (null on the wire) when the
				   request could not be decoded */
	bool ok;		/* false when errors[] is not empty */
	bool changed;
	char *agent_version;
	struct proto_host_facts host;
	struct proto_pci_func *funcs;
	size_t nfuncs;
	struct proto_iommu_group *groups;
	size_t ngroups;
	struct proto_gpu *gpus;
	size_t ngpus;
	struct proto_finding *findings;
	size_t nfindings;
	struct proto_change *changes;
	size_t nchanges;
	struct proto_error *errors;
	size_t nerrors;
	struct proto_state *state;	/* NULL when the host has no record */
};

/* --- model helpers (proto.c, libc only) --- */

void proto_request_init(struct proto_request *req, enum proto_op op);
void proto_request_release(struct proto_request *req);
void proto_response_init(struct proto_response *resp, enum proto_op op);
void proto_response_release(struct proto_response *resp);

/* Append a zeroed element and return it (owned by resp). */
struct proto_pci_func *proto_add_func(struct proto_response *resp);
struct proto_iommu_group *proto_add_group(struct proto_response *resp);
struct proto_gpu *proto_add_gpu(struct proto_response *resp);
struct proto_change *proto_add_change(struct proto_response *resp);
/* Append a finding with a formatted message; device may be NULL. */
struct proto_finding *proto_add_finding(struct proto_response *resp,
	enum proto_severity sev, const char *code, const char *device,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void proto_finding_add_evidence(struct proto_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append an error and set resp->ok = false; path may be NULL. */
struct proto_error *proto_add_error(struct proto_response *resp,
	const char *code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The response's state record, allocated (zeroed) on first use. */
struct proto_state *proto_set_state(struct proto_response *resp);
/* Append a copy of s to a (strv, n) pair. */
void proto_strv_add(char ***strv, size_t *n, const char *s);
void proto_strv_free(char **strv, size_t n);

/* Find a function by address; NULL if absent. Borrowed pointer. */
struct proto_pci_func *proto_find_func(const struct proto_response *resp,
				       const char *address);

/* Names on the wire: "facts", "warning", "needs-configuration", ... */
const char *proto_op_name(enum proto_op op);
int proto_op_from_name(const char *name);		/* -1 if unknown */
const char *proto_severity_name(enum proto_severity sev);
int proto_severity_from_name(const char *name);
const char *proto_verdict_name(enum proto_verdict v);
int proto_verdict_from_name(const char *name);

/* --- JSON codec (proto_json.c; the only json-c user) --- */

/*
 * Serialise to JSON, appended to out and ended with one '\n'. pretty
 * indents by two spaces. The encoder is faithful: it does not check limits
 * or values (the decoder on the other side does). Returns 0 or -ENOMEM.
 */
int proto_request_encode(const struct proto_request *req, struct strbuf *out);
int proto_response_encode(const struct proto_response *resp, bool pretty,
			  struct strbuf *out);

/*
 * Parse and validate untrusted bytes. On success returns 0 and fills *out
 * (caller releases it). On failure returns -EPROTO (malformed or invalid),
 * -EMSGSIZE (over PROTO_MESSAGE_MAX), -EPROTONOSUPPORT (unknown major
 * version) or -ENOMEM (json-c could not allocate its parser), appends a
 * one-line reason to err (may be NULL), and leaves *out released. *out is
 * overwritten, not released first. Unknown members are ignored (a newer
 * minor version may add them).
 */
int proto_request_decode(const char *buf, size_t len,
			 struct proto_request *out, struct strbuf *err);
int proto_response_decode(const char *buf, size_t len,
			  struct proto_response *out, struct strbuf *err);

/*
 * A policy on its own (vfleet-agent --policy-file): the JSON object of
 * request.policy, or a whole request whose "policy" is taken. Same rules
 * and errors as proto_request_decode(); *out is filled (caller frees its
 * members, e.g. by moving it into a request) and left zeroed on failure.
 */
int proto_policy_decode(const char *buf, size_t len, struct proto_policy *out,
			struct strbuf *err);

#endif
