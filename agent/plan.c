/* plan.c: preflight, and the files and commands apply needs (plan.h). */
#include "plan.h"
#include "bootcfg.h"
#include "cfgfile.h"
#include "diff.h"
#include "edit.h"
#include "grub.h"
#include "initramfs.h"
#include "modprobe.h"
#include "sha256.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_VFIO_CONF "/etc/modprobe.d/vfio.conf"
#define PLAN_NOUVEAU_CONF "/etc/modprobe.d/blacklist-nouveau.conf"
#define PLAN_MODULES_LOAD "/etc/modules-load.d/vfio-pci.conf"
#define PLAN_ITOOLS_MODULES "/etc/initramfs-tools/modules"
#define PLAN_DRACUT_CONF "/etc/dracut.conf.d/vfio.conf"
#define PLAN_MKINITCPIO "/etc/mkinitcpio.conf"
#define PLAN_OVERRIDE "/usr/local/sbin/vfleet-vfio-override"
#define PLAN_ITOOLS_HOOK "/etc/initramfs-tools/hooks/vfleet-vfio-override"
#define PLAN_ITOOLS_TOP "/etc/initramfs-tools/scripts/init-top/vfleet-vfio-override"

#define PLAN_HEADER "# Written by vfleet (VFIO passthrough); `vfleet rollback` removes it.\n"

struct pctx {
	const char *root;
	const struct proto_policy *pol;
	struct proto_response *resp;
	const struct agent_state *prev;
	struct plan *p;
	const struct proto_host_facts *h;
	const char *bootloader;
	const char *itool;		/* initramfs tool */
	bool type1_builtin;
	bool unsafe;			/* write allow_unsafe_interrupts */
	bool blacklist_nouveau;
	char **set;			/* cmdline parameters to set */
	size_t nset;
	int r;
};

/* --- small helpers --- */

static bool
plan_strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void
plan_strv_add_unique(char ***v, size_t *n, const char *s)
{
	if (!plan_strv_has(*v, *n, s))
		proto_strv_add(v, n, s);
}

static bool
plan_is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static void __attribute__((format(printf, 4, 5)))
plan_refuse(struct pctx *c, const char *code, const char *path,
	    const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	proto_add_error(c->resp, code, path, "%s", sb.buf);
	strbuf_release(&sb);
	if (!c->r)
		c->r = -EPERM;
}

/* The message of finding code on device (NULL host-wide), or NULL. */
static const char *
plan_finding_msg(const struct proto_response *resp, const char *code,
		 const char *device)
{
	for (size_t i = 0; i < resp->nfindings; i++) {
		const struct proto_finding *f = &resp->findings[i];

		if (strcmp(f->code, code) != 0)
			continue;
		if (!device ? !f->device :
		    (f->device && strcmp(f->device, device) == 0))
			return f->message;
	}
	return NULL;
}

bool
plan_find_tool(const char *root, const char *name, struct strbuf *host)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin",
					    "/bin", NULL };

	for (const char *const *d = dirs; *d; d++) {
		strbuf_reset(host);
		strbuf_addf(host, "%s/%s", *d, name);
		if (bootcfg_exists(root, host->buf))
			return true;
	}
	strbuf_reset(host);
	return false;
}

static bool
plan_root_is_host(const char *root)
{
	return !root || !*root || strcmp(root, "/") == 0;
}

void
plan_cmd_init(struct plan_cmd *c, const char *root, bool override,
	      char *const *argv, size_t argc, const char *purpose,
	      int timeout_ms)
{
	struct strbuf sb = STRBUF_INIT;

	memset(c, 0, sizeof(*c));
	c->argv = xcalloc(argc + 1, sizeof(*c->argv));
	c->argc = argc;
	for (size_t i = 0; i < argc; i++) {
		if (i == 0 && !override && !plan_root_is_host(root)) {
			sysroot_path(&sb, root, argv[0]);
			c->argv[0] = strbuf_detach(&sb, NULL);
		} else {
			c->argv[i] = xstrdup(argv[i]);
		}
	}
	for (size_t i = 0; i < argc; i++) {
		bool q = strpbrk(argv[i], " \t\"'$") != NULL || !*argv[i];

		strbuf_addf(&sb, "%s%s%s%s", i ? " " : "", q ? "'" : "",
			    argv[i], q ? "'" : "");
	}
	c->display = strbuf_detach(&sb, NULL);
	c->purpose = purpose;
	c->timeout_ms = timeout_ms;
}

void
plan_cmd_release(struct plan_cmd *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c->display);
	proto_strv_free(c->check_modules, c->ncheck_modules);
	memset(c, 0, sizeof(*c));
}

static struct plan_cmd *
plan_add_cmd(struct plan *p)
{
	p->cmds = xrealloc(p->cmds, (p->ncmds + 1) * sizeof(*p->cmds));
	return &p->cmds[p->ncmds++];
}

/*
 * Add a command from a (char *)NULL-ended list of host argv strings (a
 * bare NULL may be a plain 0, which va_arg would not read as a pointer).
 */
static struct plan_cmd *
plan_cmd(struct pctx *c, bool override, const char *purpose, int timeout_ms,
	 const char *arg0, ...) __attribute__((sentinel));

static struct plan_cmd *
plan_cmd(struct pctx *c, bool override, const char *purpose, int timeout_ms,
	 const char *arg0, ...)
{
	char **argv = NULL;
	size_t n = 0;
	const char *a;
	va_list ap;
	struct plan_cmd *pc;

	proto_strv_add(&argv, &n, arg0);
	va_start(ap, arg0);
	while ((a = va_arg(ap, const char *)))
		proto_strv_add(&argv, &n, a);
	va_end(ap);
	pc = plan_add_cmd(c->p);
	plan_cmd_init(pc, c->root, override, argv, n, purpose, timeout_ms);
	proto_strv_free(argv, n);
	return pc;
}

/* A command from an override argv plus extra arguments. */
static struct plan_cmd *
plan_cmd_override(struct pctx *c, char *const *ov, size_t nov,
		  const char *purpose, int timeout_ms, char *const *extra,
		  size_t nextra)
{
	char **argv = NULL;
	size_t n = 0;
	struct plan_cmd *pc;

	for (size_t i = 0; i < nov; i++)
		proto_strv_add(&argv, &n, ov[i]);
	for (size_t i = 0; i < nextra; i++)
		proto_strv_add(&argv, &n, extra[i]);
	pc = plan_add_cmd(c->p);
	plan_cmd_init(pc, c->root, true, argv, n, purpose, timeout_ms);
	proto_strv_free(argv, n);
	return pc;
}

static void
plan_join(struct strbuf *sb, char *const *v, size_t n)
{
	strbuf_reset(sb);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? " " : "", v[i]);
}

/*
 * One kernel command line change through grubby or kernelstub: the tool
 * found under the root, or the policy's cmd_bootloader_update, given
 * flag and value (kernelstub -a/-d ARGS; grubby --update-kernel=ALL
 * --args=/--remove-args=ARGS).
 */
static void
plan_cmdline_cmd(struct pctx *c, const struct proto_policy *pol,
		 const char *tool, const char *flag, const char *value)
{
	char *extra[2] = { (char *)flag, (char *)value };

	if (pol->ncmd_bootloader_update)
		plan_cmd_override(c, pol->cmd_bootloader_update,
				  pol->ncmd_bootloader_update, "bootloader",
				  PLAN_TIMEOUT_BOOT_MS, extra, 2);
	else
		plan_cmd(c, false, "bootloader", PLAN_TIMEOUT_BOOT_MS, tool,
			 flag, value, (char *)NULL);
}

/* The plan's entry for host path, loading its current bytes. */
static struct plan_file *
plan_file(struct pctx *c, const char *path, mode_t mode, unsigned affects,
	  const char *why)
{
	struct plan *p = c->p;
	struct plan_file *f;
	int r;

	for (size_t i = 0; i < p->nfiles; i++) {
		if (strcmp(p->files[i].path, path) == 0) {
			p->files[i].affects |= affects;
			return &p->files[i];
		}
	}
	p->files = xrealloc(p->files, (p->nfiles + 1) * sizeof(*p->files));
	f = &p->files[p->nfiles];
	memset(f, 0, sizeof(*f));
	strbuf_init(&f->old, 0);
	strbuf_init(&f->want, 0);
	r = edit_read(c->root, path, &f->old);
	if (r < 0 && r != -ENOENT) {
		proto_add_error(c->resp, "file-unreadable", path,
				"%s: cannot be edited: %s", path, r == -ELOOP ?
				"it is a symbolic link" : r == -EINVAL ?
				"not a regular file" : strerror(-r));
		strbuf_release(&f->old);
		strbuf_release(&f->want);
		c->r = c->r ? c->r : -EINVAL;
		return NULL;
	}
	f->exists = r == 0;
	strbuf_addstr(&f->want, f->old.buf);
	f->path = xstrdup(path);
	f->mode = mode;
	f->affects = affects;
	f->why = xstrdup(why);
	p->nfiles++;
	return f;
}

static bool
plan_file_changes(const struct plan_file *f)
{
	if (!f->exists)
		return f->want.len > 0;
	return f->want.len != f->old.len ||
	       memcmp(f->want.buf, f->old.buf, f->old.len) != 0;
}

/* Start a file vfleet creates with its header. */
static void
plan_file_header(struct plan_file *f)
{
	if (!f->exists && !f->want.len)
		strbuf_addstr(&f->want, PLAN_HEADER);
}

/* modules.builtin of the running kernel names /<ko>. */
static bool
plan_builtin(struct pctx *c, const char *ko)
{
	struct strbuf p = STRBUF_INIT, body = STRBUF_INIT, pat = STRBUF_INIT;
	bool r = false;

	if (!c->h->kernel_release)
		return false;
	strbuf_addf(&pat, "/%s\n", ko);
	for (int i = 0; i < 2 && !r; i++) {
		sysroot_pathf(&p, c->root, "%s/lib/modules/%s/modules.builtin",
			      i ? "/usr" : "", c->h->kernel_release);
		strbuf_reset(&body);
		if (strbuf_read_file(&body, p.buf, 4u << 20) == 0) {
			strbuf_addch(&body, '\n');
			r = strstr(body.buf, pat.buf) != NULL;
		}
	}
	strbuf_release(&p);
	strbuf_release(&body);
	strbuf_release(&pat);
	return r;
}

/*
 * Module refcount from /proc/modules, -1 when not loaded. A line is
 * "name size refcount deps state address"; a kernel without module
 * unloading prints "-" for the refcount: that, or anything else that is
 * not a whole number, leaves -1 (no users known), as a missing file does.
 */
struct plan_ref_ctx {
	const char *mod;
	int ref;
};

/* The next blank-separated word of *p (length *len); advances *p past it. */
static const char *
plan_word(const char **p, size_t *len)
{
	const char *w = *p + strspn(*p, " \t");

	*len = strcspn(w, " \t");
	*p = w + *len;
	return w;
}

static int
plan_ref_line(const char *line, unsigned lineno, void *vctx)
{
	struct plan_ref_ctx *c = vctx;
	const char *p = line, *w;
	char name[64], *end;
	size_t len;
	long ref;

	(void)lineno;
	w = plan_word(&p, &len);
	if (!len || len >= sizeof(name))
		return 0;
	memcpy(name, w, len);
	name[len] = '\0';
	if (!modprobe_name_eq(name, c->mod))
		return 0;
	plan_word(&p, &len);		/* size */
	w = plan_word(&p, &len);
	errno = 0;
	ref = strtol(w, &end, 10);
	if (!len || end != w + len || errno || ref < 0 || ref > INT_MAX)
		return 0;
	c->ref = (int)ref;
	return 0;
}

static int
plan_module_refs(const char *root, const char *mod)
{
	struct plan_ref_ctx c = { mod, -1 };

	cfgfile_foreach_line(root, "/proc/modules", plan_ref_line, &c);
	return c.ref;
}

/* --- preflight --- */

static void
plan_preflight_host(struct pctx *c)
{
	static const char *const fatal[] = { "immutable-os", "container",
					     "vfio-pci-missing", NULL };
	const char *m;

	for (const char *const *code = fatal; *code; code++)
		if ((m = plan_finding_msg(c->resp, *code, NULL)))
			plan_refuse(c, "preflight-unsupported", NULL, "%s", m);
	if (select_has_finding(c->resp, "iommu-off", NULL, PROTO_SEV_BLOCKER) &&
	    !c->pol->allow_no_iommu)
		plan_refuse(c, "preflight-no-iommu", NULL, "%s; refusing to "
			    "configure passthrough without a usable IOMMU "
			    "(policy allow_no_iommu overrides)",
			    plan_finding_msg(c->resp, "iommu-off", NULL));
	if ((m = plan_finding_msg(c->resp, "no-intremap", NULL))) {
		if (!c->pol->allow_unsafe_interrupts)
			plan_refuse(c, "preflight-no-intremap", NULL, "%s", m);
		else
			c->unsafe = true;
	}
}

static void
plan_preflight_gpus(struct pctx *c)
{
	const struct select_result *sel = &c->p->sel;
	int nvidia_refs = plan_module_refs(c->root, "nvidia");

	for (size_t g = 0; g < sel->ngpus; g++) {
		const char *a = sel->gpus[g];
		const struct proto_pci_func *f = proto_find_func(c->resp, a);
		const char *m;

		if (!c->pol->allow_only_display) {
			if ((m = plan_finding_msg(c->resp, "bmc-display", a)) ||
			    (m = plan_finding_msg(c->resp, "only-display-device", a)))
				plan_refuse(c, "preflight-only-display", NULL,
					    "%s (policy allow_only_display "
					    "overrides)", m);
			else if (f && f->boot_vga == PROTO_YES)
				plan_refuse(c, "preflight-only-display", NULL,
					    "%s is the boot display device: the "
					    "firmware console and the boot framebuffer "
					    "hold it (policy allow_only_display "
					    "overrides)", a);
		}
		if (!c->pol->allow_group_not_viable &&
		    ((m = plan_finding_msg(c->resp, "group-not-viable", a)) ||
		     (m = plan_finding_msg(c->resp, "no-iommu-group", a))))
			plan_refuse(c, "preflight-group-not-viable", NULL,
				    "%s (policy allow_group_not_viable "
				    "overrides)", m);
		if (!c->pol->allow_driver_in_use &&
		    (m = plan_finding_msg(c->resp, "nvidia-persistenced", a)))
			plan_refuse(c, "preflight-driver-in-use", NULL,
				    "%s (policy allow_driver_in_use overrides)", m);
	}
	if (c->pol->allow_driver_in_use || nvidia_refs <= 0)
		return;
	for (size_t i = 0; i < sel->ndevs; i++) {
		const struct select_dev *d = &sel->devs[i];

		if (d->driver && strcmp(d->driver, "nvidia") == 0) {
			plan_refuse(c, "preflight-driver-in-use", NULL,
				    "%s is bound to nvidia, which is in use "
				    "(/proc/modules: nvidia has %d users); stop "
				    "what uses the GPU first (policy "
				    "allow_driver_in_use overrides)",
				    d->address, nvidia_refs);
			break;
		}
	}
}

/* --- kernel command line --- */

/* The boot configuration's command line for decisions. */
static void
plan_configured_cmdline(struct pctx *c, struct strbuf *cfg)
{
	struct strbuf src = STRBUF_INIT, body = STRBUF_INIT;

	strbuf_reset(cfg);
	if (plan_is(c->bootloader, "kernelstub")) {
		if (edit_read(c->root, "/etc/kernelstub/configuration", &body) == 0)
			grub_kernelstub_options(body.buf, cfg);
	} else if (bootcfg_configured_cmdline(c->root, c->bootloader,
					      c->h->kernel_release, cfg,
					      &src) < 0) {
		strbuf_reset(cfg);
		strbuf_addstr(cfg, c->h->cmdline ? c->h->cmdline : "");
	}
	strbuf_release(&src);
	strbuf_release(&body);
}

static void
plan_param(struct pctx *c, const char *cfg, const char *tok)
{
	struct plan *p = c->p;
	struct strbuf v = STRBUF_INIT, name = STRBUF_INIT;
	const char *eq = strchr(tok, '=');

	strbuf_add(&name, tok, eq ? (size_t)(eq - tok) : strlen(tok));
	plan_strv_add_unique(&p->cmdline_expected, &p->ncmdline_expected, tok);
	if (grub_cmdline_get(cfg, tok, &v)) {
		struct strbuf old = STRBUF_INIT;

		if (eq && strcmp(v.buf, eq + 1) == 0)
			goto out;
		strbuf_addf(&old, "%s=%s", name.buf, v.buf);
		/* The same parameter with another spelling (vfio_pci.ids). */
		plan_strv_add_unique(&p->cmdline_previous, &p->ncmdline_previous,
				     old.buf);
		strbuf_release(&old);
	}
	proto_strv_add(&c->set, &c->nset, tok);
	plan_strv_add_unique(&p->cmdline_added, &p->ncmdline_added, tok);
out:
	strbuf_release(&v);
	strbuf_release(&name);
}

/* Which parameters the next boot needs (VFIO-PITFALLS 1, 2, 5, 7, 11). */
static void
plan_params(struct pctx *c, const char *cfg)
{
	const struct proto_host_facts *h = c->h;
	struct strbuf v = STRBUF_INIT, ids = STRBUF_INIT;
	const char *running = h->cmdline ? h->cmdline : "";
	bool intel = plan_is(h->iommu_hw, "intel-vt-d");

	/* intel_iommu=on where VT-d exists and it is not on already: not
	 * configured, and not on by the kernel's own default (6.8+). An
	 * explicit intel_iommu=off is the operator's and stays. */
	if (intel && !cfgfile_cmdline_has(cfg, "intel_iommu", "off")) {
		if (cfgfile_cmdline_has(cfg, "intel_iommu", "on"))
			plan_strv_add_unique(&c->p->cmdline_expected,
					     &c->p->ncmdline_expected,
					     "intel_iommu=on");
		else if (!(h->iommu_active == PROTO_YES &&
			   !cfgfile_cmdline_has(running, "intel_iommu", "on")))
			plan_param(c, cfg, "intel_iommu=on");
	}
	/* AMD-Vi is on by default; amd_iommu=on is no value the kernel
	 * knows, so nothing is written for it. */
	if (!cfgfile_cmdline_param(cfg, "iommu", &v))
		plan_param(c, cfg, "iommu=pt");
	else if (strcmp(v.buf, "pt") == 0)
		plan_strv_add_unique(&c->p->cmdline_expected,
				     &c->p->ncmdline_expected, "iommu=pt");
	if (c->p->vfio_builtin && plan_is(c->p->binding, "ids")) {
		/* Built in, vfio-pci reads its ids from the command line only
		 * (modprobe.d never reaches it); keep ids already there. */
		if (grub_cmdline_get(cfg, "vfio-pci.ids", &v) && v.len)
			strbuf_addstr(&ids, v.buf);
		for (size_t i = 0; i < c->p->sel.nids; i++) {
			bool have = false;

			for (const char *q = ids.buf; *q;) {
				size_t l = strcspn(q, ",");

				have |= l == 9 && strncmp(q, c->p->sel.ids[i], 9) == 0;
				q += l + (q[l] ? 1 : 0);
			}
			if (!have)
				strbuf_addf(&ids, "%s%s", ids.len ? "," : "",
					    c->p->sel.ids[i]);
		}
		strbuf_reset(&v);
		strbuf_addf(&v, "vfio-pci.ids=%s", ids.buf);
		plan_param(c, cfg, v.buf);
	}
	if (c->unsafe && c->type1_builtin)
		plan_param(c, cfg, "vfio_iommu_type1.allow_unsafe_interrupts=1");
	if (plan_is(c->itool, "dracut") && !c->p->vfio_builtin &&
	    !cfgfile_cmdline_has(cfg, "rd.driver.pre", "vfio-pci") &&
	    !cfgfile_cmdline_has(cfg, "rd.driver.pre", "vfio_pci"))
		plan_param(c, cfg, "rd.driver.pre=vfio-pci");
	/* A boot display handed over on purpose: keep efifb/simpledrm off it
	 * (VFIO-PITFALLS 11, "BAR 0: can't reserve"). */
	for (size_t g = 0; g < c->p->sel.ngpus; g++) {
		const struct proto_pci_func *f = proto_find_func(c->resp,
							c->p->sel.gpus[g]);

		if (f && f->boot_vga == PROTO_YES &&
		    !cfgfile_cmdline_has(cfg, "initcall_blacklist", "sysfb_init"))
			plan_param(c, cfg, "initcall_blacklist=sysfb_init");
	}
	strbuf_release(&v);
	strbuf_release(&ids);
}

/* Edit the BLS/systemd-boot entries in dir (host path) with c->set. */
static void
plan_entries(struct pctx *c, const char *dir)
{
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;

	if (cfgfile_list(c->root, dir, ".conf", &names, &n) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct plan_file *f;

			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", dir, names[i]);
			f = plan_file(c, path.buf, 0644, PLAN_BOOT,
				      "kernel command line of a boot entry");
			if (!f)
				continue;
			grub_bls_edit(f->want.buf, f->want.len,
				      (const char *const *)c->set, c->nset, NULL, 0,
				      &out);
			strbuf_reset(&f->want);
			strbuf_addstr(&f->want, out.buf);
		}
	}
	cfgfile_names_free(names, n);
	strbuf_release(&path);
	strbuf_release(&out);
}

/* /etc/kernel/cmdline (one line) gets c->set. */
static void
plan_kernel_cmdline(struct pctx *c)
{
	struct strbuf out = STRBUF_INIT, line = STRBUF_INIT;
	struct plan_file *f;

	f = plan_file(c, "/etc/kernel/cmdline", 0644, PLAN_BOOT,
		      "kernel command line for proxmox-boot-tool/kernel-install");
	if (!f || !f->exists)
		goto out;
	/* The line without its newline, edited, newline put back. */
	strbuf_add(&line, f->want.buf, strcspn(f->want.buf, "\n"));
	grub_cmdline_edit(line.buf, (const char *const *)c->set, c->nset, NULL, 0,
			  &out);
	strbuf_addstr(&out, f->want.buf + line.len);
	strbuf_reset(&f->want);
	strbuf_addstr(&f->want, out.buf);
out:
	strbuf_release(&out);
	strbuf_release(&line);
}

static void
plan_cmdline(struct pctx *c)
{
	struct strbuf cfg = STRBUF_INIT, target = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *bl = c->bootloader;
	struct plan_file *f;
	int r;

	plan_configured_cmdline(c, &cfg);
	plan_params(c, cfg.buf);
	if (!c->nset)
		goto out;
	if (!bl) {
		plan_refuse(c, "preflight-unsupported", NULL, "No supported "
			    "bootloader found to put %s%s on the kernel command "
			    "line", c->set[0], c->nset > 1 ? " ..." : "");
		goto out;
	}
	if (plan_is(bl, "grub")) {
		/* The file whose assignment wins is the one to edit: a grub.d
		 * file that sets the variable replaces /etc/default/grub's. */
		r = grub_default_target(c->root, "GRUB_CMDLINE_LINUX_DEFAULT",
					&target);
		if (r < 0) {
			proto_add_error(c->resp, "file-unreadable",
					"/etc/default/grub.d", "/etc/default/grub.d: "
					"%s", strerror(-r));
			c->r = c->r ? c->r : -EINVAL;
			goto out;
		}
		f = plan_file(c, target.buf, 0644, PLAN_BOOT,
			      "GRUB_CMDLINE_LINUX_DEFAULT");
		if (!f)
			goto out;
		r = grub_default_edit(f->want.buf, f->want.len,
				      "GRUB_CMDLINE_LINUX_DEFAULT",
				      (const char *const *)c->set, c->nset, NULL, 0,
				      &out, &err);
		if (r < 0) {
			proto_add_error(c->resp, "grub-uneditable", target.buf,
					"%s: %s", target.buf, err.buf);
			c->r = c->r ? c->r : -EINVAL;
			goto out;
		}
		strbuf_reset(&f->want);
		strbuf_addstr(&f->want, out.buf);
	} else if (plan_is(bl, "systemd-boot")) {
		plan_entries(c, "/boot/loader/entries");
		plan_entries(c, "/boot/efi/loader/entries");
		plan_entries(c, "/efi/loader/entries");
		if (bootcfg_exists(c->root, "/etc/kernel/cmdline"))
			plan_kernel_cmdline(c);
	} else if (plan_is(bl, "proxmox-boot-tool")) {
		plan_kernel_cmdline(c);
	}
	/* grub-bls and kernelstub: commands, in plan_boot_cmds(). */
out:
	strbuf_release(&cfg);
	strbuf_release(&target);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* --- modprobe.d --- */

static void
plan_softdep_mods(struct pctx *c, char ***mods, size_t *n)
{
	static const char *const order[] = { "nvidia", "nouveau", "amdgpu",
					     "radeon", "snd_hda_intel", NULL };
	char **want = NULL;
	size_t nwant = 0;

	for (size_t i = 0; i < c->p->sel.ndevs; i++) {
		const struct select_dev *d = &c->p->sel.devs[i];
		bool display = (d->class_code >> 16) == 0x03;

		if (display && d->vendor_id == 0x10de) {
			if (modprobe_module_installed(c->root, c->h->kernel_release,
						      "nvidia"))
				plan_strv_add_unique(&want, &nwant, "nvidia");
			if (!c->blacklist_nouveau)
				plan_strv_add_unique(&want, &nwant, "nouveau");
		}
		if (display && d->vendor_id == 0x1002)
			plan_strv_add_unique(&want, &nwant, "amdgpu");
		if ((d->class_code >> 8) == 0x0403)
			plan_strv_add_unique(&want, &nwant, "snd_hda_intel");
		if (d->driver)
			for (const char *const *o = order; *o; o++)
				if (strcmp(d->driver, *o) == 0 &&
				    !(c->blacklist_nouveau &&
				      strcmp(*o, "nouveau") == 0))
					plan_strv_add_unique(&want, &nwant, *o);
	}
	for (const char *const *o = order; *o; o++)
		if (plan_strv_has(want, nwant, *o))
			proto_strv_add(mods, n, *o);
	proto_strv_free(want, nwant);
}

static void
plan_modprobe(struct pctx *c)
{
	struct plan *p = c->p;
	struct strbuf where = STRBUF_INIT;
	struct plan_file *f = NULL, *ids_file;
	char **mods = NULL;
	size_t nmods = 0;
	bool other = false;

	if (c->blacklist_nouveau) {
		bool bl = modprobe_host_has_blacklist(c->root, PLAN_NOUVEAU_CONF,
						      "nouveau", NULL);
		bool ms = modprobe_host_has_option(c->root, PLAN_NOUVEAU_CONF,
						   "nouveau", "modeset", "0", NULL);

		if (!bl || !ms) {
			f = plan_file(c, PLAN_NOUVEAU_CONF, 0644, PLAN_INITRAMFS,
				      "keep nouveau off the passed-through GPU");
			if (!f)
				goto out;
			plan_file_header(f);
			if (!bl && !modprobe_text_has_blacklist(f->want.buf, "nouveau"))
				modprobe_ensure_line(&f->want, "blacklist nouveau");
			if (!ms && !modprobe_text_has_option(f->want.buf, "nouveau",
							     "modeset", "0"))
				modprobe_ensure_line(&f->want,
						     "options nouveau modeset=0");
		}
	}
	if (p->vfio_builtin) {
		/* Built-in vfio-pci registers before any module loads and
		 * reads only the command line: no ids, softdeps or install
		 * hook in modprobe.d would reach it. */
		goto unsafe;
	}
	if (plan_is(p->binding, "ids")) {
		/* One options line for vfio-pci on the whole host: two would
		 * both pass ids= and the last would win. */
		ids_file = NULL;
		if (modprobe_host_has_option(c->root, PLAN_VFIO_CONF, "vfio_pci",
					     "ids", NULL, &where) &&
		    strncmp(where.buf, "/etc/modprobe.d/", 16) == 0)
			ids_file = plan_file(c, where.buf, 0644, PLAN_INITRAMFS,
					     "vfio-pci ids=");
		else
			ids_file = plan_file(c, PLAN_VFIO_CONF, 0644,
					     PLAN_INITRAMFS, "vfio-pci ids=");
		if (!ids_file)
			goto out;
		plan_file_header(ids_file);
		modprobe_merge_option_list(&ids_file->want, "vfio-pci", "ids",
					   p->sel.ids, p->sel.nids);
	} else {
		if (modprobe_host_has_option(c->root, NULL, "vfio_pci", "ids",
					     NULL, &where))
			proto_add_finding(c->resp, PROTO_SEV_WARNING,
					  "vfio-ids-and-override", NULL,
					  "%s passes vfio-pci ids=, which takes "
					  "every card with those IDs; the per-address "
					  "binding vfleet writes cannot keep one on "
					  "the host while it is there", where.buf);
		f = plan_file(c, PLAN_VFIO_CONF, 0644, PLAN_INITRAMFS,
			      "bind by address: run the override script when "
			      "vfio-pci loads");
		if (!f)
			goto out;
		plan_file_header(f);
		if (modprobe_host_has_install(c->root, PLAN_VFIO_CONF, "vfio_pci",
					      PLAN_OVERRIDE, &other, &where) ||
		    other) {
			plan_refuse(c, "modprobe-conflict", where.buf, "%s "
				    "already has an 'install vfio-pci' line%s",
				    where.buf, other ? " running something else" :
				    "");
			goto out;
		}
		if (!modprobe_text_has_install(f->want.buf, "vfio_pci",
					       PLAN_OVERRIDE, &other)) {
			if (other) {
				plan_refuse(c, "modprobe-conflict", PLAN_VFIO_CONF,
					    "%s already has an 'install vfio-pci' "
					    "line running something else",
					    PLAN_VFIO_CONF);
				goto out;
			}
			modprobe_ensure_line(&f->want, "install vfio-pci "
					     PLAN_OVERRIDE);
		}
	}
	plan_softdep_mods(c, &mods, &nmods);
	for (size_t i = 0; i < nmods; i++) {
		if (modprobe_host_has_softdep(c->root, PLAN_VFIO_CONF, mods[i],
					      "vfio_pci", NULL))
			continue;
		f = plan_file(c, PLAN_VFIO_CONF, 0644, PLAN_INITRAMFS,
			      "load vfio-pci before the GPU's drivers");
		if (!f)
			goto out;
		plan_file_header(f);
		modprobe_ensure_softdep(&f->want, mods[i], "vfio-pci");
	}
unsafe:
	if (c->unsafe && !c->type1_builtin &&
	    !modprobe_host_has_option(c->root, NULL, "vfio_iommu_type1",
				      "allow_unsafe_interrupts", "1", NULL) &&
	    !modprobe_host_has_option(c->root, NULL, "vfio_iommu_type1",
				      "allow_unsafe_interrupts", "Y", NULL)) {
		f = plan_file(c, PLAN_VFIO_CONF, 0644, PLAN_INITRAMFS,
			      "allow_unsafe_interrupts (policy opt-in)");
		if (!f)
			goto out;
		plan_file_header(f);
		modprobe_ensure_line(&f->want, "options vfio_iommu_type1 "
				     "allow_unsafe_interrupts=1");
	}
out:
	proto_strv_free(mods, nmods);
	strbuf_release(&where);
}

/* --- module lists --- */

/* Is mod listed in any modules-load.d file or /etc/modules? */
static bool
plan_modules_load_has(struct pctx *c, const char *mod)
{
	static const char *const dirs[] = { "/etc/modules-load.d",
		"/run/modules-load.d", "/usr/local/lib/modules-load.d",
		"/usr/lib/modules-load.d", "/lib/modules-load.d", NULL };
	struct strbuf p = STRBUF_INIT, body = STRBUF_INIT;
	bool hit = false;

	if (edit_read(c->root, "/etc/modules", &body) == 0)
		hit = modprobe_list_has(body.buf, mod);
	for (const char *const *d = dirs; *d && !hit; d++) {
		char **names = NULL;
		size_t n = 0;

		if (cfgfile_list(c->root, *d, ".conf", &names, &n) > 0) {
			for (size_t i = 0; i < n && !hit; i++) {
				strbuf_reset(&p);
				strbuf_addf(&p, "%s/%s", *d, names[i]);
				if (strcmp(p.buf, PLAN_MODULES_LOAD) == 0)
					continue;
				if (edit_read(c->root, p.buf, &body) == 0)
					hit = modprobe_list_has(body.buf, mod);
			}
		}
		cfgfile_names_free(names, n);
	}
	strbuf_release(&p);
	strbuf_release(&body);
	return hit;
}

static void
plan_modules_load(struct pctx *c)
{
	static const char *const mods[] = { "vfio", "vfio_iommu_type1",
					    "vfio-pci", NULL };
	struct plan_file *f;

	if (c->p->vfio_builtin)
		return;
	for (const char *const *m = mods; *m; m++) {
		if (plan_modules_load_has(c, *m))
			continue;
		f = plan_file(c, PLAN_MODULES_LOAD, 0644, PLAN_INITRAMFS,
			      "load the vfio modules at boot");
		if (!f)
			return;
		plan_file_header(f);
		modprobe_list_add(&f->want, *m);
	}
}

/* vfio_virqfd was merged into vfio in 6.2 (VFIO-PITFALLS 8). */
static void
plan_virqfd(struct pctx *c)
{
	struct strbuf p = STRBUF_INIT, body = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;

	if (!cfgfile_kernel_at_least(c->h->kernel_release, 6, 2))
		return;
	if (cfgfile_list(c->root, "/etc/modules-load.d", ".conf", &names, &n) > 0) {
		for (size_t i = 0; i < n; i++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "/etc/modules-load.d/%s", names[i]);
			if (edit_read(c->root, p.buf, &body) == 0 &&
			    modprobe_list_has(body.buf, "vfio_virqfd")) {
				struct plan_file *f = plan_file(c, p.buf, 0644,
					PLAN_INITRAMFS, "vfio_virqfd is part of vfio "
					"since kernel 6.2");

				if (f)
					modprobe_list_remove(&f->want, "vfio_virqfd");
			}
		}
	}
	cfgfile_names_free(names, n);
	for (int i = 0; i < 2; i++) {
		const char *path = i ? PLAN_ITOOLS_MODULES : "/etc/modules";

		if (edit_read(c->root, path, &body) == 0 &&
		    modprobe_list_has(body.buf, "vfio_virqfd")) {
			struct plan_file *f = plan_file(c, path, 0644,
				PLAN_INITRAMFS, "vfio_virqfd is part of vfio since "
				"kernel 6.2");

			if (f)
				modprobe_list_remove(&f->want, "vfio_virqfd");
		}
	}
	strbuf_release(&p);
	strbuf_release(&body);
}

/* --- initramfs configuration --- */

static void
plan_override_files(struct pctx *c)
{
	struct plan *p = c->p;
	struct plan_file *f;

	f = plan_file(c, PLAN_OVERRIDE, 0755, PLAN_INITRAMFS,
		      "bind the selected functions to vfio-pci by address");
	if (!f)
		return;
	strbuf_reset(&f->want);
	strbuf_addstr(&f->want,
		"#!/bin/sh\n"
		"# Written by vfleet: bind these PCI functions to vfio-pci by "
		"address.\n"
		"# Identical cards elsewhere on this host keep their driver, "
		"which\n"
		"# vfio-pci ids= could not do. modprobe runs this for "
		"\"install vfio-pci\";\n"
		"# with a built-in vfio-pci the initramfs runs it with --probe.\n"
		"DEVS=\"");
	for (size_t i = 0; i < p->sel.ndevs; i++)
		strbuf_addf(&f->want, "%s%s", i ? " " : "", p->sel.devs[i].address);
	strbuf_addstr(&f->want,
		"\"\n"
		"for dev in $DEVS; do\n"
		"\td=/sys/bus/pci/devices/$dev\n"
		"\t[ -e \"$d/driver_override\" ] && echo vfio-pci > "
		"\"$d/driver_override\"\n"
		"done\n"
		"if [ \"$1\" = --probe ]; then\n"
		"\tfor dev in $DEVS; do\n"
		"\t\td=/sys/bus/pci/devices/$dev\n"
		"\t\t[ -e \"$d/driver\" ] && echo \"$dev\" > \"$d/driver/unbind\"\n"
		"\t\techo \"$dev\" > /sys/bus/pci/drivers_probe\n"
		"\tdone\n"
		"\texit 0\n"
		"fi\n"
		"exec /sbin/modprobe -i vfio-pci \"$@\"\n");
	if (plan_is(c->itool, "initramfs-tools")) {
		f = plan_file(c, PLAN_ITOOLS_HOOK, 0755, PLAN_INITRAMFS,
			      "copy the override script into the initramfs");
		if (!f)
			return;
		strbuf_reset(&f->want);
		strbuf_addstr(&f->want,
			"#!/bin/sh\n"
			"# Written by vfleet: the per-address vfio-pci binding "
			"script must be\n"
			"# in the initramfs, where modprobe runs it.\n"
			"PREREQ=\"\"\n"
			"prereqs() { echo \"$PREREQ\"; }\n"
			"case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
			". /usr/share/initramfs-tools/hook-functions\n"
			"copy_file script " PLAN_OVERRIDE "\n");
	}
	if (p->vfio_builtin) {
		f = plan_file(c, PLAN_ITOOLS_TOP, 0755, PLAN_INITRAMFS,
			      "bind by address early (vfio-pci is built in)");
		if (!f)
			return;
		strbuf_reset(&f->want);
		strbuf_addstr(&f->want,
			"#!/bin/sh\n"
			"# Written by vfleet: vfio-pci is built into this "
			"kernel, so no modprobe\n"
			"# runs the binding script; run it before the GPU "
			"drivers load.\n"
			"PREREQ=\"\"\n"
			"prereqs() { echo \"$PREREQ\"; }\n"
			"case \"$1\" in prereqs) prereqs; exit 0 ;; esac\n"
			PLAN_OVERRIDE " --probe\n");
	}
}

static void
plan_initramfs_files(struct pctx *c)
{
	struct plan *p = c->p;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct plan_file *f;
	bool ovr = plan_is(p->binding, "driver-override");

	if (ovr)
		plan_override_files(c);
	if (p->vfio_builtin)
		goto out;
	for (const char *const *m = initramfs_vfio_modules; *m; m++)
		proto_strv_add(&p->modules_expected, &p->nmodules_expected, *m);
	if (plan_is(c->itool, "initramfs-tools")) {
		static const char *const order[] = { "vfio", "vfio_iommu_type1",
						     "vfio_pci", NULL };

		f = plan_file(c, PLAN_ITOOLS_MODULES, 0644, PLAN_INITRAMFS,
			      "vfio modules in the initramfs");
		if (!f)
			goto out;
		for (const char *const *m = order; *m; m++)
			modprobe_list_add(&f->want, *m);
	} else if (plan_is(c->itool, "dracut")) {
		f = plan_file(c, PLAN_DRACUT_CONF, 0644, PLAN_INITRAMFS,
			      "vfio drivers in the initramfs");
		if (!f)
			goto out;
		initramfs_dracut_conf(ovr ? PLAN_OVERRIDE : NULL, &out);
		if (!f->exists) {
			strbuf_addstr(&f->want, out.buf);
		} else {
			for (const char *q = out.buf; *q;) {
				size_t l = strcspn(q, "\n");
				char *line = xstrndup(q, l);

				if (line[0] != '#')
					modprobe_ensure_line(&f->want, line);
				free(line);
				q += l + (q[l] ? 1 : 0);
			}
		}
	} else if (plan_is(c->itool, "mkinitcpio")) {
		f = plan_file(c, PLAN_MKINITCPIO, 0644, PLAN_INITRAMFS,
			      "vfio modules first in MODULES");
		if (!f)
			goto out;
		if (initramfs_mkinitcpio_edit(f->want.buf, initramfs_vfio_modules,
					      3, ovr ? PLAN_OVERRIDE : NULL, &out,
					      &err) < 0) {
			proto_add_error(c->resp, "mkinitcpio-uneditable",
					PLAN_MKINITCPIO, "%s: %s", PLAN_MKINITCPIO,
					err.buf);
			c->r = c->r ? c->r : -EINVAL;
			goto out;
		}
		strbuf_reset(&f->want);
		strbuf_addstr(&f->want, out.buf);
	}
out:
	strbuf_release(&out);
	strbuf_release(&err);
}

/* --- commands --- */

/* Did an earlier apply leave a command of this purpose unfinished? */
static bool
plan_prev_pending(const struct pctx *c, const char *purpose)
{
	const struct agent_state *st = c->prev;
	bool pending = false;

	if (!st || st->phase == STATE_PHASE_NONE ||
	    st->phase == STATE_PHASE_ROLLED_BACK)
		return false;
	for (size_t i = 0; i < st->ncommands; i++) {
		const struct state_command *cmd = &st->commands[i];

		if (!cmd->purpose || strcmp(cmd->purpose, purpose) != 0 ||
		    !cmd->stage || strcmp(cmd->stage, "apply") != 0)
			continue;
		pending = cmd->status != STATE_STEP_DONE;
	}
	return pending;
}

static unsigned
plan_affected(const struct plan *p)
{
	unsigned a = 0;

	for (size_t i = 0; i < p->nfiles; i++)
		if (plan_file_changes(&p->files[i]) || p->files[i].resume)
			a |= p->files[i].affects;
	return a;
}

static void
plan_initramfs_cmds(struct pctx *c, unsigned affected)
{
	const struct proto_policy *pol = c->pol;
	struct plan *p = c->p;
	struct strbuf tool = STRBUF_INIT, img = STRBUF_INIT;
	struct plan_cmd *pc = NULL;
	const char *lister = NULL;

	if (!(affected & PLAN_INITRAMFS) && !plan_prev_pending(c, "initramfs"))
		goto out;
	if (pol->ncmd_initramfs) {
		plan_cmd_override(c, pol->cmd_initramfs, pol->ncmd_initramfs,
				  "initramfs", PLAN_TIMEOUT_INITRAMFS_MS, NULL, 0);
	} else if (plan_is(c->itool, "initramfs-tools") &&
		   plan_find_tool(c->root, "update-initramfs", &tool)) {
		plan_cmd(c, false, "initramfs", PLAN_TIMEOUT_INITRAMFS_MS,
			 tool.buf, "-u", "-k", "all", (char *)NULL);
	} else if (plan_is(c->itool, "dracut") &&
		   plan_find_tool(c->root, "dracut", &tool)) {
		plan_cmd(c, false, "initramfs", PLAN_TIMEOUT_INITRAMFS_MS,
			 tool.buf, "--regenerate-all", "-f", (char *)NULL);
	} else if (plan_is(c->itool, "mkinitcpio") &&
		   plan_find_tool(c->root, "mkinitcpio", &tool)) {
		plan_cmd(c, false, "initramfs", PLAN_TIMEOUT_INITRAMFS_MS,
			 tool.buf, "-P", (char *)NULL);
	} else {
		proto_add_finding(c->resp, PROTO_SEV_WARNING,
				  "initramfs-not-rebuilt", NULL, "No supported "
				  "initramfs generator found: the initramfs was "
				  "not rebuilt, so the changed module "
				  "configuration applies only once the root "
				  "filesystem is up");
		goto out;
	}
	if (p->vfio_builtin || !c->h->kernel_release)
		goto out;
	/* Then look inside the image of the running kernel. */
	if (plan_is(c->itool, "initramfs-tools") &&
	    plan_find_tool(c->root, "lsinitramfs", &tool)) {
		strbuf_addf(&img, "/boot/initrd.img-%s", c->h->kernel_release);
		lister = "lsinitramfs";
	} else if (plan_is(c->itool, "dracut") &&
		   plan_find_tool(c->root, "lsinitrd", &tool)) {
		strbuf_addf(&img, "/boot/initramfs-%s.img", c->h->kernel_release);
		lister = "lsinitrd";
	} else if (plan_is(c->itool, "mkinitcpio") &&
		   plan_find_tool(c->root, "lsinitcpio", &tool)) {
		initramfs_mkinitcpio_image(c->root, &img);
		lister = "lsinitcpio";
	}
	if (!lister)
		goto out;
	pc = plan_cmd(c, false, "initramfs-check", PLAN_TIMEOUT_CHECK_MS,
		      tool.buf, img.buf, (char *)NULL);
	pc->check = true;
	for (const char *const *m = initramfs_vfio_modules; *m; m++)
		proto_strv_add(&pc->check_modules, &pc->ncheck_modules, *m);
out:
	strbuf_release(&tool);
	strbuf_release(&img);
}

static void
plan_boot_cmds(struct pctx *c, unsigned affected)
{
	const struct proto_policy *pol = c->pol;
	struct plan *p = c->p;
	struct strbuf tool = STRBUF_INIT, out = STRBUF_INIT, args = STRBUF_INIT;
	const char *bl = c->bootloader;
	bool ov = pol->ncmd_bootloader_update > 0;
	bool pending = plan_prev_pending(c, "bootloader");

	if (plan_is(bl, "grub") && ((affected & PLAN_BOOT) || pending)) {
		if (ov) {
			plan_cmd_override(c, pol->cmd_bootloader_update,
					  pol->ncmd_bootloader_update, "bootloader",
					  PLAN_TIMEOUT_BOOT_MS, NULL, 0);
		} else if (plan_find_tool(c->root, "update-grub", &tool)) {
			plan_cmd(c, false, "bootloader", PLAN_TIMEOUT_BOOT_MS,
				 tool.buf, (char *)NULL);
		} else if (plan_find_tool(c->root, "grub2-mkconfig", &tool) ||
			   plan_find_tool(c->root, "grub-mkconfig", &tool)) {
			grub_mkconfig_output(c->root, &out);
			plan_cmd(c, false, "bootloader", PLAN_TIMEOUT_BOOT_MS,
				 tool.buf, "-o", out.buf, (char *)NULL);
		}
	} else if (plan_is(bl, "proxmox-boot-tool") &&
		   (affected || pending)) {
		if (ov)
			plan_cmd_override(c, pol->cmd_bootloader_update,
					  pol->ncmd_bootloader_update, "bootloader",
					  PLAN_TIMEOUT_BOOT_MS, NULL, 0);
		else if (plan_find_tool(c->root, "proxmox-boot-tool", &tool))
			plan_cmd(c, false, "bootloader", PLAN_TIMEOUT_BOOT_MS,
				 tool.buf, "refresh", (char *)NULL);
	} else if ((plan_is(bl, "grub-bls") || plan_is(bl, "kernelstub")) &&
		   c->nset) {
		bool stub = plan_is(bl, "kernelstub");

		plan_join(&args, c->set, c->nset);
		if (!ov && !plan_find_tool(c->root, stub ? "kernelstub" : "grubby",
					   &tool))
			goto out;
		/* kernelstub -a adds a second copy of a parameter: take the
		 * value being replaced out first. grubby --args replaces. */
		if (stub && p->ncmdline_previous) {
			struct strbuf prev = STRBUF_INIT;

			plan_join(&prev, p->cmdline_previous, p->ncmdline_previous);
			plan_cmdline_cmd(c, pol, tool.buf, "-d", prev.buf);
			strbuf_release(&prev);
		}
		if (stub) {
			plan_cmdline_cmd(c, pol, tool.buf, "-a", args.buf);
		} else {
			strbuf_reset(&out);
			strbuf_addf(&out, "--args=%s", args.buf);
			plan_cmdline_cmd(c, pol, tool.buf, "--update-kernel=ALL",
					 out.buf);
		}
	}
out:
	strbuf_release(&tool);
	strbuf_release(&out);
	strbuf_release(&args);
}

/* --- the whole plan --- */

/* Keep changed (or resumed) files only. */
static void
plan_prune(struct pctx *c)
{
	struct plan *p = c->p;
	size_t k = 0;

	for (size_t i = 0; i < p->nfiles; i++) {
		struct plan_file *f = &p->files[i];
		const struct state_file *sf = NULL;

		if (c->prev && c->prev->phase != STATE_PHASE_ROLLED_BACK)
			sf = state_find_file(c->prev, f->path);
		f->resume = sf && sf->status == STATE_STEP_PENDING &&
			    (f->exists || f->want.len);
		if (plan_file_changes(f) || f->resume) {
			p->files[k++] = *f;
			continue;
		}
		free(f->path);
		free(f->why);
		strbuf_release(&f->old);
		strbuf_release(&f->want);
	}
	p->nfiles = k;
}

int
plan_build(const char *root, const struct proto_request *req,
	   struct proto_response *resp, const struct agent_state *prev,
	   struct plan *p)
{
	struct pctx c = {
		.root = root, .pol = &req->policy, .resp = resp, .prev = prev,
		.p = p, .h = &resp->host,
	};
	unsigned affected;
	int r;

	memset(p, 0, sizeof(*p));
	c.bootloader = resp->host.bootloader;
	c.itool = resp->host.initramfs_tool;
	r = select_devices(resp, &req->policy, &p->sel);
	if (r < 0) {
		c.r = r;
		goto out;
	}
	plan_preflight_host(&c);
	if (!p->sel.ngpus) {
		struct proto_finding *f = proto_add_finding(resp, PROTO_SEV_INFO,
			"nothing-selected", NULL, "No GPU selected: nothing to "
			"configure%s", p->sel.nskipped ? " (left out by default: "
			"the host's console; select one explicitly, with "
			"policy allow_only_display, to hand it over)" : "");

		for (size_t i = 0; i < p->sel.nskipped; i++)
			proto_finding_add_evidence(f, "%s", p->sel.skipped[i]);
		goto out;
	}
	plan_preflight_gpus(&c);
	p->binding = p->sel.split ? "driver-override" : "ids";
	p->vfio_builtin = plan_is(resp->host.vfio_pci, "builtin");
	c.type1_builtin = plan_builtin(&c, "vfio_iommu_type1.ko");
	if (p->sel.split && p->vfio_builtin &&
	    !plan_is(c.itool, "initramfs-tools"))
		plan_refuse(&c, "preflight-unsupported", NULL, "Binding by "
			    "address (%s) with a built-in vfio-pci needs an "
			    "initramfs-tools init-top script; this host uses %s",
			    p->sel.split_why, c.itool ? c.itool : "no known "
			    "initramfs generator");
	if (c.r)
		goto out;
	if (p->sel.split) {
		struct proto_finding *f = proto_add_finding(resp, PROTO_SEV_INFO,
			"bind-by-address", NULL, "Binding by address "
			"(driver_override), not by vfio-pci ids=: %s",
			p->sel.split_why);

		proto_finding_add_evidence(f, "%s", PLAN_OVERRIDE);
	}
	/* nouveau goes when NVIDIA GPUs go and no NVIDIA display stays on
	 * the host that could need it. */
	for (size_t i = 0; i < p->sel.ndevs; i++)
		if (p->sel.devs[i].vendor_id == 0x10de &&
		    (p->sel.devs[i].class_code >> 16) == 0x03)
			c.blacklist_nouveau = true;
	for (size_t i = 0; i < resp->nfuncs && c.blacklist_nouveau; i++) {
		const struct proto_pci_func *f = &resp->funcs[i];

		if (f->vendor_id == 0x10de && (f->class_code >> 16) == 0x03 &&
		    !select_has(&p->sel, f->address) &&
		    !plan_is(f->driver, "vfio-pci"))
			c.blacklist_nouveau = false;
	}
	plan_cmdline(&c);
	if (c.r)
		goto out;
	plan_modprobe(&c);
	plan_modules_load(&c);
	plan_initramfs_files(&c);
	plan_virqfd(&c);
	if (c.r)
		goto out;
	plan_prune(&c);
	affected = plan_affected(p);
	plan_initramfs_cmds(&c, affected);
	plan_boot_cmds(&c, affected);
out:
	if (c.r) {
		/* Refused or broken: nothing of it may be applied. */
		for (size_t i = 0; i < p->nfiles; i++) {
			free(p->files[i].path);
			free(p->files[i].why);
			strbuf_release(&p->files[i].old);
			strbuf_release(&p->files[i].want);
		}
		free(p->files);
		p->files = NULL;
		p->nfiles = 0;
		for (size_t i = 0; i < p->ncmds; i++)
			plan_cmd_release(&p->cmds[i]);
		free(p->cmds);
		p->cmds = NULL;
		p->ncmds = 0;
	}
	proto_strv_free(c.set, c.nset);
	return c.r;
}

void
plan_release(struct plan *p)
{
	select_release(&p->sel);
	proto_strv_free(p->cmdline_expected, p->ncmdline_expected);
	proto_strv_free(p->cmdline_added, p->ncmdline_added);
	proto_strv_free(p->cmdline_previous, p->ncmdline_previous);
	proto_strv_free(p->modules_expected, p->nmodules_expected);
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].why);
		strbuf_release(&p->files[i].old);
		strbuf_release(&p->files[i].want);
	}
	free(p->files);
	for (size_t i = 0; i < p->ncmds; i++)
		plan_cmd_release(&p->cmds[i]);
	free(p->cmds);
	memset(p, 0, sizeof(*p));
}

bool
plan_is_empty(const struct plan *p)
{
	return !p->nfiles && !p->ncmds;
}

static char *
plan_hex(const struct strbuf *sb)
{
	struct strbuf h = STRBUF_INIT;

	sha256_hex(sb->buf, sb->len, &h);
	return strbuf_detach(&h, NULL);
}

void
plan_report(const struct plan *p, struct proto_response *resp)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct plan_file *f = &p->files[i];
		struct proto_change *ch = proto_add_change(resp);
		struct strbuf d = STRBUF_INIT;

		ch->kind = xstrdup("file");
		ch->target = xstrdup(f->path);
		diff_unified(f->path, f->old.buf, f->old.len, f->exists,
			     f->want.buf, f->want.len, true, &d);
		if (d.len > PROTO_TEXT_MAX) {
			strbuf_setlen(&d, PROTO_TEXT_MAX - 64);
			strbuf_addstr(&d, "\n[diff cut at 1 MiB]\n");
		}
		ch->diff = strbuf_detach(&d, NULL);
		ch->sha256_before = f->exists ? plan_hex(&f->old) : NULL;
		ch->sha256_after = plan_hex(&f->want);
		ch->exit_code = -1;
	}
	for (size_t i = 0; i < p->ncmds; i++) {
		struct proto_change *ch = proto_add_change(resp);

		ch->kind = xstrdup("command");
		ch->target = xstrdup(p->cmds[i].display);
		ch->exit_code = -1;
	}
}

/* Did the record run a command of this purpose in stage apply? */
static bool
plan_record_ran(const struct agent_state *st, const char *purpose)
{
	for (size_t i = 0; i < st->ncommands; i++)
		if (plan_is(st->commands[i].purpose, purpose) &&
		    plan_is(st->commands[i].stage, "apply"))
			return true;
	return false;
}

void
plan_rollback_cmds(const char *root, const struct proto_policy *pol,
		   const struct proto_response *resp,
		   const struct agent_state *st, struct plan *p)
{
	struct pctx c = {
		.root = root, .pol = pol, .resp = (struct proto_response *)resp,
		.prev = NULL, .p = p, .h = &resp->host,
	};
	struct strbuf tool = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	const char *bl = st->bootloader ? st->bootloader : resp->host.bootloader;
	bool ov = pol->ncmd_bootloader_update > 0;

	c.bootloader = bl;
	c.itool = st->initramfs_tool ? st->initramfs_tool :
		  resp->host.initramfs_tool;
	if (plan_record_ran(st, "initramfs")) {
		if (pol->ncmd_initramfs)
			plan_cmd_override(&c, pol->cmd_initramfs,
					  pol->ncmd_initramfs, "initramfs",
					  PLAN_TIMEOUT_INITRAMFS_MS, NULL, 0);
		else if (plan_is(c.itool, "initramfs-tools") &&
			 plan_find_tool(root, "update-initramfs", &tool))
			plan_cmd(&c, false, "initramfs", PLAN_TIMEOUT_INITRAMFS_MS,
				 tool.buf, "-u", "-k", "all", (char *)NULL);
		else if (plan_is(c.itool, "dracut") &&
			 plan_find_tool(root, "dracut", &tool))
			plan_cmd(&c, false, "initramfs", PLAN_TIMEOUT_INITRAMFS_MS,
				 tool.buf, "--regenerate-all", "-f", (char *)NULL);
		else if (plan_is(c.itool, "mkinitcpio") &&
			 plan_find_tool(root, "mkinitcpio", &tool))
			plan_cmd(&c, false, "initramfs", PLAN_TIMEOUT_INITRAMFS_MS,
				 tool.buf, "-P", (char *)NULL);
	}
	if ((plan_is(bl, "grub-bls") || plan_is(bl, "kernelstub")) &&
	    st->ncmdline_added) {
		bool stub = plan_is(bl, "kernelstub");

		if (!ov && !plan_find_tool(root, stub ? "kernelstub" : "grubby",
					   &tool))
			goto out;
		plan_join(&a, st->cmdline_added, st->ncmdline_added);
		if (stub) {
			plan_cmdline_cmd(&c, pol, tool.buf, "-d", a.buf);
		} else {
			strbuf_addf(&b, "--remove-args=%s", a.buf);
			plan_cmdline_cmd(&c, pol, tool.buf, "--update-kernel=ALL",
					 b.buf);
		}
		if (st->ncmdline_previous) {
			plan_join(&a, st->cmdline_previous, st->ncmdline_previous);
			strbuf_reset(&b);
			if (stub) {
				plan_cmdline_cmd(&c, pol, tool.buf, "-a", a.buf);
			} else {
				strbuf_addf(&b, "--args=%s", a.buf);
				plan_cmdline_cmd(&c, pol, tool.buf,
						 "--update-kernel=ALL", b.buf);
			}
		}
	} else if ((plan_is(bl, "grub") || plan_is(bl, "proxmox-boot-tool")) &&
		   plan_record_ran(st, "bootloader")) {
		/* The restored files go back into the generated config. */
		plan_boot_cmds(&c, PLAN_BOOT);
	}
out:
	strbuf_release(&tool);
	strbuf_release(&a);
	strbuf_release(&b);
}
