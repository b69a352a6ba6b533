/* bootcfg.c: bootloader / initramfs detection and the configured cmdline. */
#include "bootcfg.h"
#include "cfgfile.h"
#include "fileio.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool
bootcfg_exists(const char *root, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	bool r;

	sysroot_path(&sb, root, path);
	r = fileio_exists(sb.buf);
	strbuf_release(&sb);
	return r;
}

/* First of the NULL-ended paths that exists, or NULL. */
static const char *
bootcfg_first(const char *root, const char *const *paths)
{
	for (; *paths; paths++)
		if (bootcfg_exists(root, *paths))
			return *paths;
	return NULL;
}

/* True when ROOT+dir holds at least one *suffix entry. */
static bool
bootcfg_dir_has(const char *root, const char *dir, const char *suffix)
{
	char **names = NULL;
	size_t n = 0;
	int r = cfgfile_list(root, dir, suffix, &names, &n);

	cfgfile_names_free(names, n);
	return r > 0;
}

static void
bootcfg_why(struct strbuf *why, const char *a, const char *b)
{
	if (!why)
		return;
	strbuf_reset(why);
	strbuf_addstr(why, a);
	if (b)
		strbuf_addf(why, " + %s", b);
}

static const char *const bootcfg_loader_confs[] = {
	"/boot/loader/loader.conf", "/boot/efi/loader/loader.conf",
	"/efi/loader/loader.conf", NULL,
};
static const char *const bootcfg_entry_dirs[] = {
	"/boot/loader/entries", "/boot/efi/loader/entries",
	"/efi/loader/entries", NULL,
};

const char *
bootcfg_bootloader(const char *root, struct strbuf *why)
{
	static const char *const grubby[] = {
		"/usr/sbin/grubby", "/usr/bin/grubby", "/sbin/grubby", NULL,
	};
	static const char *const mkconfig[] = {
		"/usr/sbin/update-grub", "/usr/sbin/grub-mkconfig",
		"/usr/sbin/grub2-mkconfig", "/sbin/update-grub",
		"/sbin/grub-mkconfig", "/sbin/grub2-mkconfig",
		"/usr/bin/grub-mkconfig", NULL,
	};
	const char *p;

	if (bootcfg_exists(root, "/usr/sbin/proxmox-boot-tool") &&
	    bootcfg_exists(root, "/etc/kernel/cmdline")) {
		bootcfg_why(why, "/usr/sbin/proxmox-boot-tool", "/etc/kernel/cmdline");
		return "proxmox-boot-tool";
	}
	if (bootcfg_exists(root, "/usr/bin/kernelstub")) {
		bootcfg_why(why, "/usr/bin/kernelstub", NULL);
		return "kernelstub";
	}
	if ((p = bootcfg_first(root, bootcfg_loader_confs))) {
		bootcfg_why(why, p, NULL);
		return "systemd-boot";
	}
	if ((p = bootcfg_first(root, grubby)) &&
	    bootcfg_dir_has(root, "/boot/loader/entries", ".conf")) {
		bootcfg_why(why, p, "/boot/loader/entries");
		return "grub-bls";
	}
	if (bootcfg_exists(root, "/etc/default/grub") &&
	    (p = bootcfg_first(root, mkconfig))) {
		bootcfg_why(why, "/etc/default/grub", p);
		return "grub";
	}
	if (why)
		strbuf_reset(why);
	return NULL;
}

const char *
bootcfg_initramfs(const char *root, struct strbuf *why)
{
	static const struct {
		const char *name;
		const char *const bins[4];
		const char *const confs[3];
	} tools[] = {
		{ "initramfs-tools",
		  { "/usr/sbin/update-initramfs", "/sbin/update-initramfs", NULL },
		  { "/etc/initramfs-tools", NULL } },
		{ "dracut",
		  { "/usr/bin/dracut", "/usr/sbin/dracut", "/sbin/dracut", NULL },
		  { "/etc/dracut.conf.d", "/etc/dracut.conf", NULL } },
		{ "mkinitcpio",
		  { "/usr/bin/mkinitcpio", "/usr/sbin/mkinitcpio", NULL },
		  { "/etc/mkinitcpio.conf", "/etc/mkinitcpio.conf.d", NULL } },
	};
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if ((p = bootcfg_first(root, tools[i].bins))) {
			bootcfg_why(why, p, NULL);
			return tools[i].name;
		}
	}
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if ((p = bootcfg_first(root, tools[i].confs))) {
			bootcfg_why(why, p, NULL);
			return tools[i].name;
		}
	}
	if (why)
		strbuf_reset(why);
	return NULL;
}

void
bootcfg_overrides_free(struct bootcfg_override *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].path);
		free(o[i].text);
		free(o[i].var);
	}
	free(o);
}

/* True when value mentions $var or ${var} (and not a longer name). */
static bool
bootcfg_refers_to(const char *value, const char *var)
{
	size_t vl = strlen(var);

	for (const char *p = value; (p = strchr(p, '$')); p++) {
		const char *q = p + 1;
		bool brace = *q == '{';

		if (brace)
			q++;
		if (strncmp(q, var, vl) != 0)
			continue;
		q += vl;
		if (brace ? *q == '}' :
		    !((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
		      (*q >= '0' && *q <= '9') || *q == '_'))
			return true;
	}
	return false;
}

static bool
bootcfg_is_cmdline_var(const char *name)
{
	return strcmp(name, "GRUB_CMDLINE_LINUX_DEFAULT") == 0 ||
	       strcmp(name, "GRUB_CMDLINE_LINUX") == 0;
}

struct bootcfg_ov_ctx {
	const char *path;
	struct bootcfg_override *list;
	size_t n, alloc;
};

static int
bootcfg_ov_line(const char *line, unsigned lineno, void *vctx)
{
	struct bootcfg_ov_ctx *c = vctx;
	struct strbuf name = STRBUF_INIT, value = STRBUF_INIT;
	struct bootcfg_override *o;

	if (cfgfile_assignment(line, &name, &value, NULL) &&
	    bootcfg_is_cmdline_var(name.buf)) {
		XGROW(c->list, c->alloc, c->n + 1);
		o = &c->list[c->n++];
		o->path = xstrdup(c->path);
		o->lineno = lineno;
		o->text = xstrdup(line);
		o->var = xstrdup(name.buf);
		o->appends = bootcfg_refers_to(value.buf, name.buf);
	}
	strbuf_release(&name);
	strbuf_release(&value);
	return 0;
}

int
bootcfg_grub_overrides(const char *root, struct bootcfg_override **out,
		       size_t *n, char **bad_path)
{
	struct bootcfg_ov_ctx c = { 0 };
	struct strbuf path = STRBUF_INIT;
	char **names = NULL;
	size_t nnames = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (bad_path)
		*bad_path = NULL;
	r = cfgfile_list(root, "/etc/default/grub.d", ".cfg", &names, &nnames);
	if (r == -ENOENT || r == -ENOTDIR) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		if (bad_path)
			*bad_path = xstrdup("/etc/default/grub.d");
		goto out;
	}
	r = 0;
	for (size_t i = 0; i < nnames; i++) {
		int e;

		strbuf_reset(&path);
		strbuf_addf(&path, "/etc/default/grub.d/%s", names[i]);
		c.path = path.buf;
		e = cfgfile_foreach_line(root, path.buf, bootcfg_ov_line, &c);
		if (e < 0 && e != -ENOENT && !r) {
			r = e;
			if (bad_path)
				*bad_path = xstrdup(path.buf);
		}
	}
	*out = c.list;
	*n = c.n;
	c.list = NULL;
	c.n = 0;
out:
	bootcfg_overrides_free(c.list, c.n);
	cfgfile_names_free(names, nnames);
	strbuf_release(&path);
	return r;
}

/* --- configured command line --- */

struct bootcfg_grub_ctx {
	struct strbuf linux_;		/* GRUB_CMDLINE_LINUX */
	struct strbuf linux_default;	/* GRUB_CMDLINE_LINUX_DEFAULT */
};

/* Expand $GRUB_CMDLINE_LINUX[_DEFAULT] (and ${...}) in value into out. */
static void
bootcfg_grub_expand(struct bootcfg_grub_ctx *g, const char *value,
		    struct strbuf *out)
{
	static const char *const vars[] = {
		"GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX",
	};

	strbuf_reset(out);
	for (const char *p = value; *p;) {
		bool done = false;

		if (*p == '$') {
			for (size_t i = 0; i < 2 && !done; i++) {
				const char *q = p + 1;
				bool brace = *q == '{';
				size_t vl = strlen(vars[i]);

				if (brace)
					q++;
				if (strncmp(q, vars[i], vl) != 0)
					continue;
				q += vl;
				if (brace) {
					if (*q != '}')
						continue;
					q++;
				} else if ((*q >= 'A' && *q <= 'Z') || *q == '_' ||
					   (*q >= '0' && *q <= '9')) {
					continue;
				}
				strbuf_addstr(out, i == 0 ? g->linux_default.buf :
					      g->linux_.buf);
				p = q;
				done = true;
			}
		}
		if (!done)
			strbuf_addch(out, *p++);
	}
}

static int
bootcfg_grub_line(const char *line, unsigned lineno, void *vctx)
{
	struct bootcfg_grub_ctx *g = vctx;
	struct strbuf name = STRBUF_INIT, value = STRBUF_INIT;
	struct strbuf x = STRBUF_INIT;

	if (cfgfile_assignment(line, &name, &value, NULL) &&
	    bootcfg_is_cmdline_var(name.buf)) {
		bootcfg_grub_expand(g, value.buf, &x);
		if (strcmp(name.buf, "GRUB_CMDLINE_LINUX") == 0) {
			strbuf_reset(&g->linux_);
			strbuf_addstr(&g->linux_, x.buf);
		} else {
			strbuf_reset(&g->linux_default);
			strbuf_addstr(&g->linux_default, x.buf);
		}
	}
	strbuf_release(&name);
	strbuf_release(&value);
	strbuf_release(&x);
	return 0;
}

static int
bootcfg_grub_cmdline(const char *root, struct strbuf *cmdline,
		     struct strbuf *source)
{
	struct bootcfg_grub_ctx g = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf path = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	int r;

	r = cfgfile_foreach_line(root, "/etc/default/grub", bootcfg_grub_line, &g);
	if (r < 0)
		goto out;
	strbuf_addstr(source, "/etc/default/grub");
	/* grub-mkconfig sources grub.d/<name>.cfg after the main file. */
	if (cfgfile_list(root, "/etc/default/grub.d", ".cfg", &names, &n) > 0) {
		for (size_t i = 0; i < n; i++) {
			strbuf_reset(&path);
			strbuf_addf(&path, "/etc/default/grub.d/%s", names[i]);
			cfgfile_foreach_line(root, path.buf, bootcfg_grub_line, &g);
		}
		strbuf_addstr(source, " + /etc/default/grub.d/*.cfg");
	}
	strbuf_addstr(cmdline, g.linux_.buf);
	if (g.linux_.len && g.linux_default.len)
		strbuf_addch(cmdline, ' ');
	strbuf_addstr(cmdline, g.linux_default.buf);
	r = 0;
out:
	strbuf_release(&g.linux_);
	strbuf_release(&g.linux_default);
	strbuf_release(&path);
	cfgfile_names_free(names, n);
	return r;
}

struct bootcfg_key_ctx {
	const char *key;	/* "options" (BLS) or "kernelopts" (grubenv) */
	char sep;		/* ' ' for BLS, '=' for grubenv */
	struct strbuf *value;
	bool found;
};

static int
bootcfg_key_line(const char *line, unsigned lineno, void *vctx)
{
	struct bootcfg_key_ctx *c = vctx;
	size_t kl = strlen(c->key);

	line += strspn(line, " \t");
	if (strncmp(line, c->key, kl) != 0)
		return 0;
	line += kl;
	if (c->sep == ' ' ? (*line != ' ' && *line != '\t') : *line != c->sep)
		return 0;
	line += c->sep == ' ' ? strspn(line, " \t") : 1;
	/* BLS allows several options lines; they concatenate. */
	if (c->value->len)
		strbuf_addch(c->value, ' ');
	strbuf_addstr(c->value, line);
	strbuf_rtrim(c->value);
	c->found = true;
	return 0;
}

/* The options of the BLS entry for release (else the first entry). */
static int
bootcfg_bls_cmdline(const char *root, const char *release,
		    struct strbuf *cmdline, struct strbuf *source)
{
	struct strbuf path = STRBUF_INIT, env = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0, pick = 0;
	int r = -ENOENT;

	for (const char *const *d = bootcfg_entry_dirs; *d; d++) {
		cfgfile_names_free(names, n);
		if (cfgfile_list(root, *d, ".conf", &names, &n) <= 0)
			continue;
		for (size_t i = 0; release && i < n; i++) {
			if (strstr(names[i], release)) {
				pick = i;
				break;
			}
		}
		strbuf_addf(&path, "%s/%s", *d, names[pick]);
		break;
	}
	if (!path.len)
		goto out;
	{
		struct bootcfg_key_ctx c = { "options", ' ', cmdline, false };

		r = cfgfile_foreach_line(root, path.buf, bootcfg_key_line, &c);
		if (r < 0)
			goto out;
		if (!c.found) {
			r = -ENOENT;
			goto out;
		}
	}
	strbuf_addstr(source, path.buf);
	/* RHEL 8 entries say "options $kernelopts"; the value is in grubenv. */
	if (strstr(cmdline->buf, "$kernelopts")) {
		struct bootcfg_key_ctx c = { "kernelopts", '=', &env, false };
		struct strbuf x = STRBUF_INIT;
		const char *k = strstr(cmdline->buf, "$kernelopts");

		if (cfgfile_foreach_line(root, "/boot/grub2/grubenv",
					 bootcfg_key_line, &c) == 0 && c.found) {
			strbuf_add(&x, cmdline->buf, (size_t)(k - cmdline->buf));
			strbuf_addstr(&x, env.buf);
			strbuf_addstr(&x, k + strlen("$kernelopts"));
			strbuf_reset(cmdline);
			strbuf_addstr(cmdline, x.buf);
			strbuf_addstr(source, " + /boot/grub2/grubenv");
		}
		strbuf_release(&x);
	}
	r = 0;
out:
	cfgfile_names_free(names, n);
	strbuf_release(&path);
	strbuf_release(&env);
	return r;
}

static int
bootcfg_kernel_cmdline(const char *root, struct strbuf *cmdline,
		       struct strbuf *source)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	sysroot_path(&path, root, "/etc/kernel/cmdline");
	r = strbuf_read_file(cmdline, path.buf, CFGFILE_MAX);
	if (r == 0) {
		/* One line; newlines would be blanks to the kernel anyway. */
		for (size_t i = 0; i < cmdline->len; i++)
			if (cmdline->buf[i] == '\n')
				cmdline->buf[i] = ' ';
		strbuf_rtrim(cmdline);
		strbuf_addstr(source, "/etc/kernel/cmdline");
	} else {
		strbuf_reset(cmdline);
	}
	strbuf_release(&path);
	return r;
}

int
bootcfg_configured_cmdline(const char *root, const char *bootloader,
			   const char *release, struct strbuf *cmdline,
			   struct strbuf *source)
{
	strbuf_reset(cmdline);
	strbuf_reset(source);
	if (!bootloader)
		return -ENOENT;
	if (strcmp(bootloader, "grub") == 0)
		return bootcfg_grub_cmdline(root, cmdline, source);
	if (strcmp(bootloader, "grub-bls") == 0)
		return bootcfg_bls_cmdline(root, release, cmdline, source);
	if (strcmp(bootloader, "proxmox-boot-tool") == 0)
		return bootcfg_kernel_cmdline(root, cmdline, source);
	if (strcmp(bootloader, "systemd-boot") == 0) {
		if (bootcfg_bls_cmdline(root, release, cmdline, source) == 0)
			return 0;
		strbuf_reset(cmdline);
		strbuf_reset(source);
		return bootcfg_kernel_cmdline(root, cmdline, source);
	}
	return -ENOENT;	/* kernelstub keeps it in JSON; not parsed here */
}
