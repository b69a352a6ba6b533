/* verify.c: after the reboot, compare the running host with apply's record
 * (see verify.h). */
#include "verify.h"
#include "apply.h"
#include "cfgfile.h"
#include "fileio.h"
#include "findings.h"
#include "host.h"
#include "kmsg.h"
#include "pci.h"
#include "state.h"
#include "strbuf.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum verify_id {
	V_REBOOT = 0,
	V_CMDLINE,
	V_IOMMU,
	V_INTREMAP,
	V_DRIVER,
	V_VFIO_DEV,
	V_KMSG,
	V__COUNT
};

static const struct verify_check verify_table[V__COUNT] = {
	[V_REBOOT] = { "verify-reboot",
		"boot_id differs from the one recorded at apply: the host rebooted" },
	[V_CMDLINE] = { "verify-cmdline",
		"/proc/cmdline carries every kernel parameter apply configured" },
	[V_IOMMU] = { "verify-iommu",
		"IOMMU groups exist (the IOMMU is on)" },
	[V_INTREMAP] = { "verify-intremap",
		"interrupt remapping is on, or allow_unsafe_interrupts is in effect" },
	[V_DRIVER] = { "verify-driver",
		"each configured function is bound to vfio-pci" },
	[V_VFIO_DEV] = { "verify-vfio-dev",
		"/dev/vfio/<group> exists for each configured function's group" },
	[V_KMSG] = { "verify-kmsg",
		"the kernel log shows no BAR, RMRR, group or vfio-pci probe error "
		"about a configured function" },
};

/* Parameters the kernel (or dracut) accumulates over occurrences instead
 * of taking the last one. */
static const char *const verify_cumulative[] = {
	"video", "console", "initcall_blacklist", "rd.driver.pre",
	"rd.driver.blacklist", "module_blacklist", "modprobe.blacklist", NULL,
};

struct vctx {
	const char *root;
	struct proto_response *resp;
	const struct agent_state *st;
	struct kmsg_log log;
	bool log_ok;
	bool failed[V__COUNT];
	unsigned nfailed;
};

const struct verify_check *
verify_checks(size_t *n)
{
	*n = V__COUNT;
	return verify_table;
}

/*
 * One result: an info finding when ok, else a blocker (and the check is
 * remembered as failed). The message is printf-style; the finding's
 * evidence is filled by the caller through the returned pointer.
 */
static struct proto_finding *
verify_result(struct vctx *c, enum verify_id id, bool ok, const char *device,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct proto_finding *
verify_result(struct vctx *c, enum verify_id id, bool ok, const char *device,
	      const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	struct proto_finding *f;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	f = proto_add_finding(c->resp, ok ? PROTO_SEV_INFO : PROTO_SEV_BLOCKER,
			      verify_table[id].code, device, "%s", msg.buf);
	if (!ok && !c->failed[id]) {
		c->failed[id] = true;
		c->nfailed++;
	}
	strbuf_release(&msg);
	return f;
}

static bool
verify_is_vfio_driver(const char *drv)
{
	return drv && (strcmp(drv, "vfio-pci") == 0 ||
		       strcmp(drv, "nvgrace_gpu_vfio_pci") == 0);
}

/* --- the checks --- */

static void
verify_reboot(struct vctx *c)
{
	const char *now = c->resp->host.boot_id, *then = c->st->boot_id;
	struct proto_finding *f;

	if (!now || !then) {
		f = verify_result(c, V_REBOOT, false, NULL, "Cannot tell whether "
				  "the host rebooted since apply: %s",
				  !now ? "/proc/sys/kernel/random/boot_id is "
				  "unreadable" : "the record has no boot_id");
	} else if (strcmp(now, then) == 0) {
		f = verify_result(c, V_REBOOT, false, NULL, "The host has not "
				  "rebooted since apply (boot_id unchanged): the "
				  "new configuration is not active yet");
	} else {
		f = verify_result(c, V_REBOOT, true, NULL, "The host rebooted "
				  "since apply");
	}
	proto_finding_add_evidence(f, "/proc/sys/kernel/random/boot_id: %s",
				   now ? now : "(unreadable)");
	proto_finding_add_evidence(f, "%s: boot_id at apply: %s", STATE_PATH,
				   then ? then : "(none)");
}

static bool
verify_is_cumulative(const char *name, size_t len)
{
	for (const char *const *p = verify_cumulative; *p; p++)
		if (strlen(*p) == len && strncmp(*p, name, len) == 0)
			return true;
	return false;
}

/* Does the comma list `have` contain the item item[0..len)? */
static bool
verify_list_has(const char *have, const char *item, size_t len)
{
	const char *p = have;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, item, len) == 0)
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

/*
 * Is the parameter "name[=v1,v2]" in effect on cmdline? A bare flag must be
 * present; a value's comma items must all be in the last occurrence (module
 * parameters and most __setup() handlers keep the last), or, for the
 * cumulative parameters, each in some occurrence.
 */
static bool
verify_param_present(const char *cmdline, const char *param)
{
	struct strbuf name = STRBUF_INIT, last = STRBUF_INIT,
		      item = STRBUF_INIT;
	const char *eq = strchr(param, '='), *p;
	bool ok = true, cumulative;

	if (!eq) {
		ok = cfgfile_cmdline_param(cmdline, param, NULL);
		goto out;
	}
	strbuf_add(&name, param, (size_t)(eq - param));
	if (!cfgfile_cmdline_param(cmdline, name.buf, &last)) {
		ok = false;
		goto out;
	}
	cumulative = verify_is_cumulative(name.buf, name.len);
	for (p = eq + 1; *p && ok;) {
		size_t n = strcspn(p, ",");

		if (!verify_list_has(last.buf, p, n)) {
			strbuf_reset(&item);
			strbuf_add(&item, p, n);
			ok = cumulative &&
			     cfgfile_cmdline_has(cmdline, name.buf, item.buf);
		}
		p += n;
		if (*p)
			p++;
	}
out:
	strbuf_release(&name);
	strbuf_release(&last);
	strbuf_release(&item);
	return ok;
}

static void
verify_cmdline(struct vctx *c)
{
	const char *cmdline = c->resp->host.cmdline;
	struct strbuf missing = STRBUF_INIT;
	struct proto_finding *f;
	size_t nmissing = 0;

	for (size_t i = 0; i < c->st->ncmdline_expected; i++) {
		const char *want = c->st->cmdline_expected[i];

		if (cmdline && verify_param_present(cmdline, want))
			continue;
		strbuf_addf(&missing, "%s%s", nmissing ? " " : "", want);
		nmissing++;
	}
	if (!cmdline)
		f = verify_result(c, V_CMDLINE, false, NULL, "/proc/cmdline is "
				  "unreadable, so the kernel parameters cannot be "
				  "checked");
	else if (nmissing)
		f = verify_result(c, V_CMDLINE, false, NULL, "The running kernel "
				  "lacks %zu parameter%s apply configured: %s (the "
				  "boot configuration was not regenerated, or "
				  "another entry booted)", nmissing,
				  nmissing == 1 ? "" : "s", missing.buf);
	else
		f = verify_result(c, V_CMDLINE, true, NULL, "The running kernel "
				  "has every parameter apply configured (%zu)",
				  c->st->ncmdline_expected);
	proto_finding_add_evidence(f, "/proc/cmdline: %s",
				   cmdline ? cmdline : "(unreadable)");
	if (nmissing)
		proto_finding_add_evidence(f, "%s: expected: %s", STATE_PATH,
					   missing.buf);
	strbuf_release(&missing);
}

static void
verify_iommu(struct vctx *c)
{
	const struct proto_host_facts *h = &c->resp->host;
	struct proto_finding *f;

	if (h->iommu_groups > 0)
		f = verify_result(c, V_IOMMU, true, NULL, "The IOMMU is on "
				  "(%d groups)", h->iommu_groups);
	else
		f = verify_result(c, V_IOMMU, false, NULL, "The IOMMU is off "
				  "after the reboot: no IOMMU groups (check the "
				  "firmware's VT-d/AMD-Vi setting and the "
				  "intel_iommu/amd_iommu parameters)");
	proto_finding_add_evidence(f, "/sys/kernel/iommu_groups: %d groups",
				   h->iommu_groups);
	if (h->iommu_hw)
		proto_finding_add_evidence(f, "/sys/firmware/acpi/tables: %s",
					   strcmp(h->iommu_hw, "amd-vi") == 0 ?
					   "IVRS" : "DMAR");
}

/* allow_unsafe_interrupts as the running module has it; why gets the
 * evidence line. */
static bool
verify_unsafe_param(struct vctx *c, struct strbuf *why)
{
	static const char param[] =
		"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
	struct strbuf path = STRBUF_INIT, v = STRBUF_INIT;
	bool on = false;

	sysroot_path(&path, c->root, param);
	if (fileio_read_attr(path.buf, &v) == 0) {
		on = v.buf[0] == 'Y' || v.buf[0] == 'y' || v.buf[0] == '1';
		strbuf_addf(why, "%s: %s", param, v.buf);
	} else {
		strbuf_addf(why, "%s: absent", param);
	}
	strbuf_release(&path);
	strbuf_release(&v);
	return on;
}

static void
verify_intremap(struct vctx *c)
{
	struct strbuf why = STRBUF_INIT, unsafe = STRBUF_INIT;
	struct proto_finding *f;
	enum proto_tristate st;
	bool optin;

	st = host_intremap(c->resp->host.cmdline, c->log_ok ? &c->log : NULL,
			   &why);
	optin = verify_unsafe_param(c, &unsafe);
	if (st == PROTO_YES)
		f = verify_result(c, V_INTREMAP, true, NULL, "Interrupt "
				  "remapping is on");
	else if (optin)
		f = verify_result(c, V_INTREMAP, true, NULL, "Interrupt "
				  "remapping is %s, but allow_unsafe_interrupts "
				  "is in effect (opted in): VFIO attaches without "
				  "interrupt isolation", st == PROTO_NO ? "off" :
				  "not confirmed by the kernel log");
	else if (st == PROTO_NO)
		f = verify_result(c, V_INTREMAP, false, NULL, "Interrupt "
				  "remapping is off and allow_unsafe_interrupts is "
				  "not in effect: vfio_iommu_type1 will refuse the "
				  "group with -EPERM");
	else
		f = verify_result(c, V_INTREMAP, false, NULL, "The kernel log "
				  "does not confirm interrupt remapping (no "
				  "\"DMAR-IR: Enabled IRQ remapping\" or \"AMD-Vi: "
				  "Interrupt remapping enabled\") and "
				  "allow_unsafe_interrupts is not in effect");
	if (why.len)
		proto_finding_add_evidence(f, "%s", why.buf);
	proto_finding_add_evidence(f, "%s", unsafe.buf);
	strbuf_release(&why);
	strbuf_release(&unsafe);
}

static void
verify_drivers(struct vctx *c)
{
	for (size_t i = 0; i < c->st->ndevices; i++) {
		const char *addr = c->st->devices[i].address;
		const struct proto_pci_func *fn;
		struct proto_finding *f;

		if (!addr)
			continue;
		fn = proto_find_func(c->resp, addr);
		if (!fn) {
			f = verify_result(c, V_DRIVER, false, addr, "%s is gone "
					  "after the reboot (not on the PCI bus)",
					  addr);
			proto_finding_add_evidence(f, "/sys/bus/pci/devices/%s: "
						   "absent", addr);
			continue;
		}
		if (verify_is_vfio_driver(fn->driver))
			f = verify_result(c, V_DRIVER, true, addr, "%s is bound "
					  "to %s", addr, fn->driver);
		else
			f = verify_result(c, V_DRIVER, false, addr, "%s is bound "
					  "to %s, not vfio-pci: %s", addr,
					  fn->driver ? fn->driver : "no driver",
					  fn->driver ? "the host driver claimed "
					  "it first (vfio-pci ids, softdep or "
					  "initramfs not in effect)" :
					  "vfio-pci did not claim it");
		proto_finding_add_evidence(f, "/sys/bus/pci/devices/%s/driver -> %s",
					   addr, fn->driver ? fn->driver :
					   "(none)");
		if (fn->driver_override)
			proto_finding_add_evidence(f, "/sys/bus/pci/devices/%s/"
						   "driver_override: %s", addr,
						   fn->driver_override);
	}
}

static void
verify_vfio_devs(struct vctx *c)
{
	struct strbuf path = STRBUF_INIT;
	int *seen = xcalloc(c->st->ndevices + 1, sizeof(*seen));
	size_t nseen = 0;

	for (size_t i = 0; i < c->st->ndevices; i++) {
		const char *addr = c->st->devices[i].address;
		const struct proto_pci_func *fn;
		struct proto_finding *f;
		bool dup = false;
		int g;

		fn = addr ? proto_find_func(c->resp, addr) : NULL;
		if (!fn)
			continue;	/* verify-driver already says so */
		g = fn->iommu_group;
		if (g < 0) {
			f = verify_result(c, V_VFIO_DEV, false, addr, "%s has no "
					  "IOMMU group, so it has no /dev/vfio node",
					  addr);
			proto_finding_add_evidence(f, "/sys/bus/pci/devices/%s/"
						   "iommu_group: absent", addr);
			continue;
		}
		for (size_t j = 0; j < nseen; j++)
			dup = dup || seen[j] == g;
		if (dup)
			continue;
		seen[nseen++] = g;
		sysroot_pathf(&path, c->root, "/dev/vfio/%d", g);
		if (fileio_exists(path.buf))
			f = verify_result(c, V_VFIO_DEV, true, addr, "/dev/vfio/%d "
					  "exists for group %d of %s", g, g, addr);
		else
			f = verify_result(c, V_VFIO_DEV, false, addr, "/dev/vfio/%d "
					  "is missing: group %d of %s is not fully "
					  "bound to vfio-pci", g, g, addr);
		proto_finding_add_evidence(f, "/dev/vfio/%d: %s", g,
					   fileio_exists(path.buf) ? "present" :
					   "absent");
	}
	free(seen);
	strbuf_release(&path);
}

/* Does record r concern a recorded function (by address in its text or
 * DEVICE= field) or, for group messages, a recorded function's group? */
static bool
verify_rec_concerns(struct vctx *c, const struct kmsg_record *r)
{
	struct strbuf g = STRBUF_INIT;
	bool hit = false;

	for (size_t i = 0; i < c->st->ndevices && !hit; i++) {
		const char *addr = c->st->devices[i].address;
		const struct proto_pci_func *fn;

		if (!addr)
			continue;
		if (strstr(r->text, addr) ||
		    (r->device && strncmp(r->device, "+pci:", 5) == 0 &&
		     strcmp(r->device + 5, addr) == 0)) {
			hit = true;
			break;
		}
		fn = proto_find_func(c->resp, addr);
		if (fn && fn->iommu_group >= 0) {
			strbuf_reset(&g);
			strbuf_addf(&g, "group %d ", fn->iommu_group);
			hit = strstr(r->text, g.buf) != NULL;
		}
	}
	strbuf_release(&g);
	return hit;
}

static void
verify_kmsg(struct vctx *c)
{
	/* each entry: every needle must be in the text */
	static const char *const errors[][3] = {
		{ "BAR", "can't reserve", NULL },
		{ "1:1 IOMMU mapping", NULL, NULL },	/* RMRR (older) */
		{ "RMRR", "ineligible", NULL },		/* RMRR (newer) */
		{ "is not viable", NULL, NULL },
		{ "probe of", "failed with error", NULL },
	};
	struct proto_finding *f;
	size_t hits = 0;

	if (!c->log_ok) {
		f = verify_result(c, V_KMSG, false, NULL, "The kernel log cannot "
				  "be read, so its errors cannot be checked");
		proto_finding_add_evidence(f, "/dev/kmsg: unreadable");
		return;
	}
	f = NULL;
	for (size_t i = 0; i < c->log.nrecs; i++) {
		const struct kmsg_record *r = &c->log.recs[i];
		bool match = false;

		for (size_t e = 0; e < sizeof(errors) / sizeof(errors[0]) &&
		     !match; e++) {
			size_t k;

			for (k = 0; k < 3 && errors[e][k] &&
			     strstr(r->text, errors[e][k]); k++)
				;
			match = k == 3 || !errors[e][k];
		}
		if (!match || !verify_rec_concerns(c, r))
			continue;
		if (!f)
			f = verify_result(c, V_KMSG, false, NULL, "The kernel log "
					  "shows an error about a configured "
					  "function (see the evidence)");
		proto_finding_add_evidence(f, "kmsg: %s", r->text);
		hits++;
	}
	if (!hits) {
		f = verify_result(c, V_KMSG, true, NULL, "The kernel log shows no "
				  "BAR, RMRR, group or vfio-pci probe error about "
				  "the configured functions");
		proto_finding_add_evidence(f, "/dev/kmsg: %zu records, none "
					   "matching", c->log.nrecs);
	}
}

/* --- record handling --- */

/* The refusals of verify.h; returns 0 when the phase can be verified. */
static int
verify_phase_ok(const struct agent_state *st, struct proto_response *resp,
		const char *path)
{
	switch (st->phase) {
	case STATE_PHASE_APPLIED:
	case STATE_PHASE_VERIFIED:
	case STATE_PHASE_FAILED:
		return 0;
	case STATE_PHASE_NONE:
		proto_add_error(resp, "not-applied", path, "nothing applied on "
				"this host (no %s): run apply first", STATE_PATH);
		return -ENOENT;
	case STATE_PHASE_ROLLED_BACK:
		proto_add_error(resp, "not-applied", path, "nothing applied on "
				"this host: run %s was rolled back",
				st->run_id ? st->run_id : "(unknown)");
		return -ENOENT;
	default:
		proto_add_error(resp, "apply-incomplete", path, "apply did not "
				"finish (phase %s): run apply again or roll back "
				"before verifying", state_phase_name(st->phase));
		return -EBUSY;
	}
}

int
verify_run(const char *root, const struct proto_request *req,
	   struct proto_response *resp)
{
	struct vctx c = { .root = root, .resp = resp, .log = KMSG_LOG_INIT };
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT,
		      summary = STRBUF_INIT;
	struct agent_state st;
	int r;

	state_init(&st);
	sysroot_path(&path, root, STATE_PATH);
	r = state_load(root, &st, &err);
	if (r == -ENOENT) {
		st.phase = STATE_PHASE_NONE;
	} else if (r < 0) {
		proto_add_error(resp, "state-unreadable", path.buf,
				"cannot read the state record: %s",
				err.len ? err.buf : strerror(-r));
		goto out;
	}
	r = verify_phase_ok(&st, resp, path.buf);
	if (r < 0) {
		apply_report_state(&st, resp);
		goto out;
	}

	/* The same discovery as facts: verify's answer is a full report. */
	host_discover(root, resp);
	pci_discover(root, resp);
	findings_evaluate(root, resp);
	c.st = &st;
	sysroot_path(&path, root, "/dev/kmsg");
	c.log_ok = kmsg_load(&c.log, path.buf) == 0;

	verify_reboot(&c);
	verify_cmdline(&c);
	verify_iommu(&c);
	verify_intremap(&c);
	verify_drivers(&c);
	verify_vfio_devs(&c);
	verify_kmsg(&c);

	free(st.message);
	st.message = NULL;
	if (c.nfailed) {
		strbuf_addstr(&summary, "verify failed:");
		for (int i = 0; i < V__COUNT; i++)
			if (c.failed[i])
				strbuf_addf(&summary, " %s", verify_table[i].code);
		proto_add_error(resp, "verify-failed", NULL, "%s (see the "
				"blocker findings for the evidence)", summary.buf);
		st.phase = STATE_PHASE_FAILED;
		st.message = xstrdup(summary.buf);
	} else {
		st.phase = STATE_PHASE_VERIFIED;
	}
	strbuf_reset(&err);
	sysroot_path(&path, root, STATE_PATH);
	r = state_save(root, &st, &err);
	if (r < 0)
		proto_add_error(resp, "state-write-failed", path.buf, "cannot record "
				"the verify result: %s", err.len ? err.buf :
				strerror(-r));
	apply_report_state(&st, resp);
	r = 0;
out:
	kmsg_log_release(&c.log);
	state_release(&st);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&summary);
	return r;
}
