/* select.c: device selection (select.h). */
#include "select.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
select_has_finding(const struct proto_response *resp, const char *code,
		   const char *device, enum proto_severity sev)
{
	for (size_t i = 0; i < resp->nfindings; i++) {
		const struct proto_finding *f = &resp->findings[i];

		if (strcmp(f->code, code) != 0 || f->severity < sev)
			continue;
		if (!device ? !f->device :
		    (f->device && strcmp(f->device, device) == 0))
			return true;
	}
	return false;
}

bool
select_has(const struct select_result *sel, const char *address)
{
	for (size_t i = 0; i < sel->ndevs; i++)
		if (strcmp(sel->devs[i].address, address) == 0)
			return true;
	return false;
}

static bool
select_is_vfio(const char *drv)
{
	return drv && (strcmp(drv, "vfio-pci") == 0 ||
		       strcmp(drv, "nvgrace_gpu_vfio_pci") == 0);
}

/* Does selector s pick function f? */
static bool
select_matches(const char *s, const struct proto_pci_func *f)
{
	char id[16];

	if (strlen(s) == 4) {
		snprintf(id, sizeof(id), "%04x", f->vendor_id);
		return strcmp(s, id) == 0;
	}
	if (strlen(s) == 9) {
		snprintf(id, sizeof(id), "%04x:%04x", f->vendor_id, f->device_id);
		return strcmp(s, id) == 0;
	}
	return strcmp(s, f->address) == 0;
}

/* Why a GPU is the host's console, or NULL. */
static const char *
select_console(const struct proto_response *resp, const struct proto_gpu *g)
{
	const struct proto_pci_func *f = proto_find_func(resp, g->address);

	if (select_has_finding(resp, "bmc-display", g->address, PROTO_SEV_INFO))
		return "the BMC's display";
	if (select_has_finding(resp, "only-display-device", g->address,
			       PROTO_SEV_INFO))
		return "the host's only display device";
	if (f && f->boot_vga == PROTO_YES)
		return "the boot display device";
	return NULL;
}

static void
select_add_gpu(struct proto_response *resp, struct select_result *out,
	       const struct proto_gpu *g)
{
	for (size_t i = 0; i < out->ngpus; i++)
		if (strcmp(out->gpus[i], g->address) == 0)
			return;
	proto_strv_add(&out->gpus, &out->ngpus, g->address);
	for (size_t k = 0; k <= g->ncompanions; k++) {
		const char *a = k == 0 ? g->address : g->companions[k - 1];
		const struct proto_pci_func *f = proto_find_func(resp, a);
		struct select_dev *d;

		if (!f || select_has(out, a))
			continue;
		out->devs = xrealloc(out->devs, (out->ndevs + 1) * sizeof(*out->devs));
		d = &out->devs[out->ndevs++];
		memset(d, 0, sizeof(*d));
		d->address = xstrdup(a);
		d->gpu = xstrdup(g->address);
		d->vendor_id = f->vendor_id;
		d->device_id = f->device_id;
		d->class_code = f->class_code;
		d->driver = f->driver ? xstrdup(f->driver) : NULL;
	}
}

int
select_devices(struct proto_response *resp, const struct proto_policy *pol,
	       struct select_result *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!pol->nselect) {
		for (size_t i = 0; i < resp->ngpus; i++) {
			const struct proto_gpu *g = &resp->gpus[i];
			const char *why = select_console(resp, g);

			if (why) {
				struct strbuf sb = STRBUF_INIT;

				strbuf_addf(&sb, "%s: %s", g->address, why);
				proto_strv_add(&out->skipped, &out->nskipped, sb.buf);
				strbuf_release(&sb);
				continue;
			}
			select_add_gpu(resp, out, g);
		}
	}
	for (size_t s = 0; s < pol->nselect; s++) {
		bool any = false;

		for (size_t i = 0; i < resp->ngpus; i++) {
			const struct proto_gpu *g = &resp->gpus[i];
			bool hit = false;

			for (size_t k = 0; k <= g->ncompanions && !hit; k++) {
				const struct proto_pci_func *f = proto_find_func(resp,
					k == 0 ? g->address : g->companions[k - 1]);

				/* By ID, a GPU is chosen by its own IDs; by
				 * address, a companion's address names its GPU. */
				if (f && (k == 0 || strlen(pol->select[s]) > 9))
					hit = select_matches(pol->select[s], f);
			}
			if (hit) {
				select_add_gpu(resp, out, g);
				any = true;
			}
		}
		if (!any) {
			proto_add_error(resp, "select-no-match", NULL,
					"policy.select: '%s' matches no GPU on this "
					"host", pol->select[s]);
			r = -ENOENT;
		}
	}
	/* Distinct IDs, and whether ids= would take functions outside. */
	for (size_t i = 0; i < out->ndevs; i++) {
		char id[16];
		bool have = false;

		snprintf(id, sizeof(id), "%04x:%04x", out->devs[i].vendor_id,
			 out->devs[i].device_id);
		for (size_t k = 0; k < out->nids; k++)
			have |= strcmp(out->ids[k], id) == 0;
		if (!have)
			proto_strv_add(&out->ids, &out->nids, id);
	}
	for (size_t i = 0; i < resp->nfuncs && !out->split; i++) {
		const struct proto_pci_func *f = &resp->funcs[i];

		if (select_has(out, f->address) || select_is_vfio(f->driver))
			continue;
		for (size_t k = 0; k < out->ndevs; k++) {
			const struct select_dev *d = &out->devs[k];
			struct strbuf sb = STRBUF_INIT;

			if (d->vendor_id != f->vendor_id || d->device_id != f->device_id)
				continue;
			strbuf_addf(&sb, "%s (%04x:%04x, like %s) stays on the host",
				    f->address, f->vendor_id, f->device_id,
				    d->address);
			out->split = true;
			out->split_why = strbuf_detach(&sb, NULL);
			break;
		}
	}
	return r;
}

void
select_release(struct select_result *sel)
{
	for (size_t i = 0; i < sel->ndevs; i++) {
		free(sel->devs[i].address);
		free(sel->devs[i].gpu);
		free(sel->devs[i].driver);
	}
	free(sel->devs);
	proto_strv_free(sel->gpus, sel->ngpus);
	proto_strv_free(sel->ids, sel->nids);
	free(sel->split_why);
	proto_strv_free(sel->skipped, sel->nskipped);
	memset(sel, 0, sizeof(*sel));
}
