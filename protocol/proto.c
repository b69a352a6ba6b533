/* proto.c: the protocol model (allocation, names); libc only. */
#include "proto.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const proto_op_names[PROTO_OP__COUNT] = {
	"facts", "plan", "apply", "verify", "rollback", "status", "reboot",
};
static const char *const proto_sev_names[PROTO_SEV__COUNT] = {
	"info", "warning", "blocker",
};
static const char *const proto_verdict_names[PROTO_VERDICT__COUNT] = {
	"ready", "needs-configuration", "blocked",
};

static int
proto_name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *
proto_op_name(enum proto_op op)
{
	return (unsigned)op < PROTO_OP__COUNT ? proto_op_names[op] : "?";
}

int
proto_op_from_name(const char *name)
{
	return proto_name_index(proto_op_names, PROTO_OP__COUNT, name);
}

const char *
proto_severity_name(enum proto_severity sev)
{
	return (unsigned)sev < PROTO_SEV__COUNT ? proto_sev_names[sev] : "?";
}

int
proto_severity_from_name(const char *name)
{
	return proto_name_index(proto_sev_names, PROTO_SEV__COUNT, name);
}

const char *
proto_verdict_name(enum proto_verdict v)
{
	return (unsigned)v < PROTO_VERDICT__COUNT ? proto_verdict_names[v] : "?";
}

int
proto_verdict_from_name(const char *name)
{
	return proto_name_index(proto_verdict_names, PROTO_VERDICT__COUNT, name);
}

void
proto_strv_add(char ***strv, size_t *n, const char *s)
{
	*strv = xrealloc(*strv, (*n + 1) * sizeof(**strv));
	(*strv)[(*n)++] = xstrdup(s);
}

void
proto_strv_free(char **strv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strv[i]);
	free(strv);
}

void
proto_request_init(struct proto_request *req, enum proto_op op)
{
	memset(req, 0, sizeof(*req));
	req->version_major = PROTO_VERSION_MAJOR;
	req->version_minor = PROTO_VERSION_MINOR;
	req->op = op;
}

void
proto_request_release(struct proto_request *req)
{
	free(req->root);
	free(req->run_id);
	proto_strv_free(req->policy.select, req->policy.nselect);
	proto_strv_free(req->policy.cmd_bootloader_update,
			req->policy.ncmd_bootloader_update);
	proto_strv_free(req->policy.cmd_initramfs, req->policy.ncmd_initramfs);
	proto_strv_free(req->policy.cmd_reboot, req->policy.ncmd_reboot);
	proto_request_init(req, PROTO_OP_FACTS);
}

void
proto_response_init(struct proto_response *resp, enum proto_op op)
{
	memset(resp, 0, sizeof(*resp));
	resp->version_major = PROTO_VERSION_MAJOR;
	resp->version_minor = PROTO_VERSION_MINOR;
	resp->op = op;
	resp->ok = true;
	resp->host.iommu_active = PROTO_UNKNOWN;
	resp->host.intremap = PROTO_UNKNOWN;
	resp->host.secure_boot = PROTO_UNKNOWN;
	resp->host.iommu_groups = 0;
}

static void
proto_host_release(struct proto_host_facts *h)
{
	free(h->hostname);
	free(h->distro_id);
	free(h->distro_name);
	free(h->kernel_release);
	free(h->arch);
	free(h->cpu_vendor);
	free(h->cpu_model);
	free(h->iommu_hw);
	free(h->cmdline);
	free(h->vfio_pci);
	proto_strv_free(h->modules_loaded, h->nmodules_loaded);
	free(h->bootloader);
	proto_strv_free(h->grub_overrides, h->ngrub_overrides);
	free(h->initramfs_tool);
	free(h->boot_id);
	free(h->vfio_state);
}

static void
proto_func_release(struct proto_pci_func *f)
{
	free(f->address);
	free(f->class_name);
	free(f->vendor_name);
	free(f->device_name);
	free(f->subsys_name);
	free(f->driver);
	free(f->driver_override);
	free(f->reset_method);
	free(f->link_speed);
}

void
proto_response_release(struct proto_response *resp)
{
	size_t i;

	free(resp->agent_version);
	proto_host_release(&resp->host);
	for (i = 0; i < resp->nfuncs; i++)
		proto_func_release(&resp->funcs[i]);
	free(resp->funcs);
	for (i = 0; i < resp->ngroups; i++)
		proto_strv_free(resp->groups[i].members, resp->groups[i].nmembers);
	free(resp->groups);
	for (i = 0; i < resp->ngpus; i++) {
		free(resp->gpus[i].address);
		proto_strv_free(resp->gpus[i].companions, resp->gpus[i].ncompanions);
		free(resp->gpus[i].reason);
	}
	free(resp->gpus);
	for (i = 0; i < resp->nfindings; i++) {
		struct proto_finding *f = &resp->findings[i];

		free(f->code);
		free(f->message);
		free(f->device);
		proto_strv_free(f->evidence, f->nevidence);
	}
	free(resp->findings);
	for (i = 0; i < resp->nchanges; i++) {
		struct proto_change *c = &resp->changes[i];

		free(c->kind);
		free(c->target);
		free(c->diff);
		free(c->sha256_before);
		free(c->sha256_after);
		free(c->output_tail);
	}
	free(resp->changes);
	for (i = 0; i < resp->nerrors; i++) {
		free(resp->errors[i].code);
		free(resp->errors[i].message);
		free(resp->errors[i].path);
	}
	free(resp->errors);
	if (resp->state) {
		struct proto_state *st = resp->state;

		free(st->phase);
		free(st->run_id);
		free(st->boot_id);
		free(st->updated);
		free(st->message);
		free(st->binding);
		proto_strv_free(st->devices, st->ndevices);
		proto_strv_free(st->cmdline_expected, st->ncmdline_expected);
		free(st);
	}
	proto_response_init(resp, PROTO_OP_FACTS);
}

struct proto_state *
proto_set_state(struct proto_response *resp)
{
	if (!resp->state)
		resp->state = xcalloc(1, sizeof(*resp->state));
	return resp->state;
}

/* Append one zeroed element of size el to *arr (length *n); return it. */
static void *
proto_append(void **arr, size_t *n, size_t el)
{
	char *p;

	*arr = xrealloc(*arr, (*n + 1) * el);
	p = (char *)*arr + *n * el;
	memset(p, 0, el);
	(*n)++;
	return p;
}

struct proto_pci_func *
proto_add_func(struct proto_response *resp)
{
	struct proto_pci_func *f;

	f = proto_append((void **)&resp->funcs, &resp->nfuncs, sizeof(*f));
	f->revision = -1;
	f->iommu_group = -1;
	f->boot_vga = PROTO_UNKNOWN;
	f->numa_node = -1;
	f->sriov_totalvfs = -1;
	f->link_width = -1;
	return f;
}

struct proto_iommu_group *
proto_add_group(struct proto_response *resp)
{
	return proto_append((void **)&resp->groups, &resp->ngroups,
			    sizeof(*resp->groups));
}

struct proto_gpu *
proto_add_gpu(struct proto_response *resp)
{
	struct proto_gpu *g;

	g = proto_append((void **)&resp->gpus, &resp->ngpus, sizeof(*g));
	g->iommu_group = -1;
	return g;
}

struct proto_change *
proto_add_change(struct proto_response *resp)
{
	struct proto_change *c;

	c = proto_append((void **)&resp->changes, &resp->nchanges, sizeof(*c));
	c->exit_code = -1;
	return c;
}

static char *
proto_vformat(const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_vaddf(&sb, fmt, ap);
	return strbuf_detach(&sb, NULL);
}

struct proto_finding *
proto_add_finding(struct proto_response *resp, enum proto_severity sev,
		  const char *code, const char *device, const char *fmt, ...)
{
	struct proto_finding *f;
	va_list ap;

	f = proto_append((void **)&resp->findings, &resp->nfindings, sizeof(*f));
	f->severity = sev;
	f->code = xstrdup(code);
	f->device = device ? xstrdup(device) : NULL;
	va_start(ap, fmt);
	f->message = proto_vformat(fmt, ap);
	va_end(ap);
	return f;
}

void
proto_finding_add_evidence(struct proto_finding *f, const char *fmt, ...)
{
	va_list ap;

	f->evidence = xrealloc(f->evidence, (f->nevidence + 1) * sizeof(*f->evidence));
	va_start(ap, fmt);
	f->evidence[f->nevidence++] = proto_vformat(fmt, ap);
	va_end(ap);
}

struct proto_error *
proto_add_error(struct proto_response *resp, const char *code,
		const char *path, const char *fmt, ...)
{
	struct proto_error *e;
	va_list ap;

	e = proto_append((void **)&resp->errors, &resp->nerrors, sizeof(*e));
	e->code = xstrdup(code);
	e->path = path ? xstrdup(path) : NULL;
	va_start(ap, fmt);
	e->message = proto_vformat(fmt, ap);
	va_end(ap);
	resp->ok = false;
	return e;
}

struct proto_pci_func *
proto_find_func(const struct proto_response *resp, const char *address)
{
	for (size_t i = 0; i < resp->nfuncs; i++)
		if (resp->funcs[i].address && address &&
		    strcmp(resp->funcs[i].address, address) == 0)
			return &resp->funcs[i];
	return NULL;
}
