/* initramfs.c: initramfs generator configuration (initramfs.h). */
#include "initramfs.h"
#include "cfgfile.h"
#include "modprobe.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const initramfs_vfio_modules[] = {
	"vfio_pci", "vfio", "vfio_iommu_type1", NULL,
};

void
initramfs_dracut_conf(const char *install_item, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addstr(out,
		"# Written by vfleet: load vfio-pci from the initramfs, before any\n"
		"# GPU driver, so it claims the devices given in vfio-pci ids=.\n"
		"# dracut needs the blanks inside the quotes.\n"
		"add_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n"
		"force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n");
	if (install_item)
		strbuf_addf(out, "install_items+=\" %s \"\n", install_item);
}

/* Find the last one-line assignment NAME=(...); [*a, *b) is the array's
 * inside. Returns 1 found, 0 absent, -EINVAL for a form not edited. */
static int
initramfs_find_array(const char *text, const char *name, size_t *a, size_t *b,
		     unsigned *bad_line)
{
	size_t pos = 0, nl = strlen(name);
	unsigned lineno = 0;
	int r = 0;

	while (text[pos]) {
		size_t l = strcspn(text + pos, "\n"), i = pos;

		lineno++;
		i += strspn(text + i, " \t");
		if (strncmp(text + i, name, nl) == 0 && text[i + nl] == '=') {
			const char *open = text + i + nl + 1;
			const char *close = memchr(open, ')', l - (size_t)(open - (text + pos)));

			if (*open != '(' || !close) {
				*bad_line = lineno;
				r = -EINVAL;
			} else {
				*a = (size_t)(open + 1 - text);
				*b = (size_t)(close - text);
				r = 1;
			}
		}
		pos += l + (text[pos + l] ? 1 : 0);
	}
	return r;
}

int
initramfs_mkinitcpio_edit(const char *text, const char *const *first,
			  size_t nfirst, const char *file_item,
			  struct strbuf *out, struct strbuf *err)
{
	struct strbuf cur = STRBUF_INIT, arr = STRBUF_INIT;
	size_t a = 0, b = 0;
	unsigned bad = 0;
	int r;

	strbuf_reset(out);
	strbuf_addstr(&cur, text);
	r = initramfs_find_array(cur.buf, "MODULES", &a, &b, &bad);
	if (r < 0)
		goto bad;
	/* The vfio modules first, in order; the rest as they were. */
	for (size_t i = 0; i < nfirst; i++)
		strbuf_addf(&arr, "%s%s", i ? " " : "", first[i]);
	if (r == 1) {
		const char *p = cur.buf + a, *e = cur.buf + b;

		while (p < e) {
			size_t wl;
			char *w;
			bool ours = false;

			p += strspn(p, " \t");
			wl = strcspn(p, " \t)");
			if (!wl || p >= e)
				break;
			w = xstrndup(p, wl);
			for (size_t i = 0; i < nfirst; i++)
				ours |= modprobe_name_eq(w, first[i]);
			if (!ours)
				strbuf_addf(&arr, "%s%s", arr.len ? " " : "", w);
			free(w);
			p += wl;
		}
		strbuf_add(out, cur.buf, a);
		strbuf_addstr(out, arr.buf);
		strbuf_addstr(out, cur.buf + b);
	} else {
		strbuf_addstr(out, cur.buf);
		if (out->len && out->buf[out->len - 1] != '\n')
			strbuf_addch(out, '\n');
		strbuf_addf(out, "MODULES=(%s)\n", arr.buf);
	}
	if (file_item) {
		strbuf_reset(&cur);
		strbuf_addstr(&cur, out->buf);
		r = initramfs_find_array(cur.buf, "FILES", &a, &b, &bad);
		if (r < 0)
			goto bad;
		strbuf_reset(out);
		if (r == 1) {
			struct strbuf inside = STRBUF_INIT;

			strbuf_add(&inside, cur.buf + a, b - a);
			strbuf_add(out, cur.buf, a);
			strbuf_addstr(out, inside.buf);
			if (!cfgfile_has_word(inside.buf, file_item)) {
				strbuf_rtrim(out);
				if (out->buf[out->len - 1] != '(')
					strbuf_addch(out, ' ');
				strbuf_addstr(out, file_item);
			}
			strbuf_addstr(out, cur.buf + b);
			strbuf_release(&inside);
		} else {
			strbuf_addstr(out, cur.buf);
			if (out->len && out->buf[out->len - 1] != '\n')
				strbuf_addch(out, '\n');
			strbuf_addf(out, "FILES=(%s)\n", file_item);
		}
	}
	r = strcmp(out->buf, text) != 0;
	goto out;
bad:
	if (err)
		strbuf_addf(err, "line %u: an array vfleet cannot edit (not "
			    "NAME=(...) on one line)", bad);
out:
	strbuf_release(&cur);
	strbuf_release(&arr);
	return r;
}

bool
initramfs_listing_has(const char *listing, const char *mod)
{
	size_t ml = strlen(mod);

	for (const char *p = listing; *p;) {
		size_t l = strcspn(p, "\n");
		const char *slash = NULL;

		for (const char *q = p; q < p + l; q++)
			if (*q == '/' || *q == ' ')
				slash = q;
		if (slash && (size_t)(p + l - slash - 1) >= ml + 3 &&
		    strncmp(slash + 1 + ml, ".ko", 3) == 0) {
			char *base = xstrndup(slash + 1, ml);
			bool hit = modprobe_name_eq(base, mod);

			free(base);
			if (hit)
				return true;
		}
		p += l + (p[l] ? 1 : 0);
	}
	return false;
}

struct initramfs_preset_ctx {
	struct strbuf *out;
};

static int
initramfs_preset_line(const char *line, unsigned lineno, void *vctx)
{
	struct initramfs_preset_ctx *c = vctx;
	struct strbuf n = STRBUF_INIT, v = STRBUF_INIT;

	(void)lineno;
	if (cfgfile_assignment(line, &n, &v, NULL) &&
	    strcmp(n.buf, "default_image") == 0 && v.len && v.buf[0] == '/' &&
	    !c->out->len)
		strbuf_addstr(c->out, v.buf);
	strbuf_release(&n);
	strbuf_release(&v);
	return 0;
}

void
initramfs_mkinitcpio_image(const char *root, struct strbuf *out)
{
	struct initramfs_preset_ctx c = { out };
	struct strbuf p = STRBUF_INIT;
	char **names = NULL;
	size_t n = 0;

	strbuf_reset(out);
	if (cfgfile_list(root, "/etc/mkinitcpio.d", ".preset", &names, &n) > 0) {
		for (size_t i = 0; i < n && !out->len; i++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "/etc/mkinitcpio.d/%s", names[i]);
			cfgfile_foreach_line(root, p.buf, initramfs_preset_line, &c);
		}
	}
	if (!out->len)
		strbuf_addstr(out, "/boot/initramfs-linux.img");
	cfgfile_names_free(names, n);
	strbuf_release(&p);
}
