/* proto_json.c: the JSON codec of the protocol (json-c).
 *
 * This file and the inventory loader are the only json-c users; everything
 * else sees struct proto_request / struct proto_response. The wire format
 * is specified in protocol/PROTOCOL.md and protocol/schema/v1/.
 *
 * Encoding builds a json-c tree where each parent owns its children: a
 * child that could not be attached is put at once, and a failed build puts
 * the partial tree once (ndctl's util_daxctl_region_to_json); the steps
 * are jsonc.c's, shared with the state file's codec.
 *
 * Decoding treats its input as hostile (the controller reads whatever a
 * remote host prints): the size, the nesting, the number of JSON values,
 * every string and every array are bounded before or while they are
 * copied, every known member is type-checked, and each failure names the
 * member's path ("funcs[3].iommu_group: expected integer, got string").
 */
#include "jsonc.h"
#include "proto.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define PJ_PROTOCOL_NAME "vfleet"
/*
 * Upper bounds on what json-c may allocate for one message, counted by a
 * scan before parsing: values + keys, and objects + arrays (each json-c
 * object costs a 16-entry hash table). Together about 50 MiB at worst.
 */
#define PJ_TOKENS_MAX (512u << 10)
#define PJ_CONTAINERS_MAX (16u << 10)
#define PJ_ROOT_MAX 4096	/* request.root */
#define PJ_RUN_ID_MAX 128	/* request.run_id */
#define PJ_ARGV_MAX 64		/* policy.cmd_* elements */
#define PJ_CODE_MAX 64		/* finding/error codes, change kinds */
#define PJ_VERSION_PART_MAX 9999
#define PJ_QUOTE_MAX 40		/* bytes of a bad value quoted in an error */

/* ------------------------------------------------------------------ */
/* Encoding                                                             */
/* ------------------------------------------------------------------ */


/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 if invalid. */
static size_t
pj_utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A json-c string for s. Host data (cmdline, kmsg evidence, pci.ids
 * names) is not always UTF-8 and JSON must be, so invalid bytes become
 * U+FFFD here rather than make the whole answer undecodable.
 */
static struct json_object *
pj_new_string(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n;
	struct strbuf sb = STRBUF_INIT;
	struct json_object *j;

	while (i < len && (n = pj_utf8_seq(u + i, len - i)) != 0)
		i += n;
	if (i == len)
		return json_object_new_string_len(s, (int)len);
	strbuf_add(&sb, s, i);
	while (i < len) {
		n = pj_utf8_seq(u + i, len - i);
		if (n) {
			strbuf_add(&sb, s + i, n);
			i += n;
		} else {
			strbuf_addstr(&sb, "\xef\xbf\xbd");
			i++;
		}
	}
	j = json_object_new_string_len(sb.buf, (int)sb.len);
	strbuf_release(&sb);
	return j;
}

static int
pj_add_str(struct json_object *obj, const char *key, const char *s)
{
	return s ? jc_add(obj, key, pj_new_string(s)) : jc_add_null(obj, key);
}

/* The model's -1 ("unknown", "none") is null on the wire. */
static int
pj_add_optint(struct json_object *obj, const char *key, int v)
{
	return v < 0 ? jc_add_null(obj, key) : jc_add_int(obj, key, v);
}

static int
pj_add_tristate(struct json_object *obj, const char *key,
		enum proto_tristate v)
{
	if (v == PROTO_YES || v == PROTO_NO)
		return jc_add_bool(obj, key, v == PROTO_YES);
	return jc_add_null(obj, key);
}

/* IDs travel as fixed-width lowercase hex, as lspci -n prints them. */
static int
pj_add_hex(struct json_object *obj, const char *key, uint32_t v, int width)
{
	char hex[16];
	int n;

	n = snprintf(hex, sizeof(hex), "%0*x", width, (unsigned)v);
	if (n < 0 || (size_t)n >= sizeof(hex))
		return -ENOMEM;
	return jc_add(obj, key, json_object_new_string(hex));
}

/* A string array; arrays are always present, empty when n == 0. */
static int
pj_add_strv(struct json_object *obj, const char *key, char *const *v,
	    size_t n)
{
	struct json_object *arr, *s;

	arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s = v[i] ? pj_new_string(v[i]) : NULL;
		if ((v[i] && !s) || json_object_array_add(arr, s) < 0) {
			json_object_put(s);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	return jc_add(obj, key, arr);
}

/* Attach arr to obj, or put it when it could not be built completely. */
static int
pj_add_built(struct json_object *obj, const char *key,
	     struct json_object *arr, int r)
{
	if (r < 0) {
		json_object_put(arr);
		return r;
	}
	return jc_add(obj, key, arr);
}

static int
pj_add_version(struct json_object *obj, int major, int minor)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	strbuf_addf(&sb, PJ_PROTOCOL_NAME "/%d.%d", major, minor);
	r = jc_add(obj, "protocol", json_object_new_string_len(sb.buf, (int)sb.len));
	strbuf_release(&sb);
	return r;
}

static struct json_object *
pj_policy_to_json(const struct proto_policy *p)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_strv(j, "select", p->select, p->nselect) ||
	    jc_add_bool(j, "allow_unsafe_interrupts", p->allow_unsafe_interrupts) ||
	    jc_add_bool(j, "allow_group_not_viable", p->allow_group_not_viable) ||
	    jc_add_bool(j, "allow_only_display", p->allow_only_display) ||
	    jc_add_bool(j, "allow_no_iommu", p->allow_no_iommu) ||
	    jc_add_bool(j, "allow_driver_in_use", p->allow_driver_in_use) ||
	    pj_add_strv(j, "cmd_bootloader_update", p->cmd_bootloader_update,
			p->ncmd_bootloader_update) ||
	    pj_add_strv(j, "cmd_initramfs", p->cmd_initramfs, p->ncmd_initramfs) ||
	    pj_add_strv(j, "cmd_reboot", p->cmd_reboot, p->ncmd_reboot))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_host_to_json(const struct proto_host_facts *h)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "hostname", h->hostname) ||
	    pj_add_str(j, "distro_id", h->distro_id) ||
	    pj_add_str(j, "distro_name", h->distro_name) ||
	    pj_add_str(j, "kernel_release", h->kernel_release) ||
	    pj_add_str(j, "arch", h->arch) ||
	    pj_add_str(j, "cpu_vendor", h->cpu_vendor) ||
	    pj_add_str(j, "cpu_model", h->cpu_model) ||
	    pj_add_str(j, "iommu_hw", h->iommu_hw) ||
	    pj_add_str(j, "cmdline", h->cmdline) ||
	    pj_add_tristate(j, "iommu_active", h->iommu_active) ||
	    jc_add_int(j, "iommu_groups", h->iommu_groups < 0 ? 0 : h->iommu_groups) ||
	    pj_add_tristate(j, "intremap", h->intremap) ||
	    pj_add_str(j, "vfio_pci", h->vfio_pci) ||
	    pj_add_strv(j, "modules_loaded", h->modules_loaded, h->nmodules_loaded) ||
	    pj_add_str(j, "bootloader", h->bootloader) ||
	    pj_add_strv(j, "grub_overrides", h->grub_overrides, h->ngrub_overrides) ||
	    pj_add_str(j, "initramfs_tool", h->initramfs_tool) ||
	    pj_add_tristate(j, "secure_boot", h->secure_boot) ||
	    pj_add_str(j, "boot_id", h->boot_id) ||
	    pj_add_str(j, "vfio_state", h->vfio_state))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_func_to_json(const struct proto_pci_func *f)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "address", f->address) ||
	    pj_add_hex(j, "class_code", f->class_code, 6) ||
	    pj_add_hex(j, "vendor_id", f->vendor_id, 4) ||
	    pj_add_hex(j, "device_id", f->device_id, 4) ||
	    pj_add_hex(j, "subsys_vendor_id", f->subsys_vendor_id, 4) ||
	    pj_add_hex(j, "subsys_device_id", f->subsys_device_id, 4) ||
	    pj_add_optint(j, "revision", f->revision) ||
	    pj_add_str(j, "class_name", f->class_name) ||
	    pj_add_str(j, "vendor_name", f->vendor_name) ||
	    pj_add_str(j, "device_name", f->device_name) ||
	    pj_add_str(j, "subsys_name", f->subsys_name) ||
	    pj_add_str(j, "driver", f->driver) ||
	    pj_add_str(j, "driver_override", f->driver_override) ||
	    pj_add_optint(j, "iommu_group", f->iommu_group) ||
	    pj_add_tristate(j, "boot_vga", f->boot_vga) ||
	    pj_add_optint(j, "numa_node", f->numa_node) ||
	    pj_add_str(j, "reset_method", f->reset_method) ||
	    pj_add_optint(j, "sriov_totalvfs", f->sriov_totalvfs) ||
	    pj_add_str(j, "link_speed", f->link_speed) ||
	    pj_add_optint(j, "link_width", f->link_width))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_group_to_json(const struct proto_iommu_group *g)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (jc_add_int(j, "id", g->id) ||
	    pj_add_strv(j, "members", g->members, g->nmembers))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_gpu_to_json(const struct proto_gpu *g)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "address", g->address) ||
	    pj_add_strv(j, "companions", g->companions, g->ncompanions) ||
	    pj_add_optint(j, "iommu_group", g->iommu_group) ||
	    jc_add_bool(j, "group_viable", g->group_viable) ||
	    pj_add_str(j, "verdict", proto_verdict_name(g->verdict)) ||
	    pj_add_str(j, "reason", g->reason))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_finding_to_json(const struct proto_finding *f)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "severity", proto_severity_name(f->severity)) ||
	    pj_add_str(j, "code", f->code) ||
	    pj_add_str(j, "message", f->message) ||
	    pj_add_str(j, "device", f->device) ||
	    pj_add_strv(j, "evidence", f->evidence, f->nevidence))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_change_to_json(const struct proto_change *c)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "kind", c->kind) ||
	    pj_add_str(j, "target", c->target) ||
	    pj_add_str(j, "diff", c->diff) ||
	    pj_add_str(j, "sha256_before", c->sha256_before) ||
	    pj_add_str(j, "sha256_after", c->sha256_after) ||
	    pj_add_optint(j, "exit_code", c->exit_code) ||
	    pj_add_str(j, "output_tail", c->output_tail))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_state_to_json(const struct proto_state *st)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "phase", st->phase) ||
	    pj_add_str(j, "run_id", st->run_id) ||
	    pj_add_str(j, "boot_id", st->boot_id) ||
	    pj_add_str(j, "updated", st->updated) ||
	    pj_add_str(j, "message", st->message) ||
	    pj_add_str(j, "binding", st->binding) ||
	    pj_add_strv(j, "devices", st->devices, st->ndevices) ||
	    pj_add_strv(j, "cmdline_expected", st->cmdline_expected,
			st->ncmdline_expected))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
pj_error_to_json(const struct proto_error *e)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (pj_add_str(j, "code", e->code) ||
	    pj_add_str(j, "message", e->message) ||
	    pj_add_str(j, "path", e->path))
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

/* Serialise the finished tree root into out; root stays the caller's. */
static int
pj_emit(struct json_object *root, bool pretty, struct strbuf *out)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;
	size_t len = 0;

	if (pretty)
		flags |= JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
	s = json_object_to_json_string_length(root, flags, &len);
	if (!s)
		return -ENOMEM;
	strbuf_add(out, s, len);
	strbuf_addch(out, '\n');
	return 0;
}

int
proto_request_encode(const struct proto_request *req, struct strbuf *out)
{
	struct json_object *root;
	int r = -ENOMEM;

	root = json_object_new_object();
	if (!root)
		return -ENOMEM;
	if (pj_add_version(root, req->version_major, req->version_minor) ||
	    pj_add_str(root, "op", proto_op_name(req->op)) ||
	    pj_add_str(root, "root", req->root) ||
	    pj_add_str(root, "run_id", req->run_id) ||
	    jc_add(root, "policy", pj_policy_to_json(&req->policy)))
		goto out;
	r = pj_emit(root, false, out);
out:
	json_object_put(root);
	return r;
}

#define PJ_ADD_ARRAY(root, key, arr, n, fn) ({				\
	struct json_object *a_ = json_object_new_array();		\
	int r_ = a_ ? 0 : -ENOMEM;					\
	for (size_t i_ = 0; r_ == 0 && i_ < (n); i_++)			\
		r_ = jc_append(a_, fn(&(arr)[i_]));			\
	a_ ? pj_add_built(root, key, a_, r_) : r_;			\
})

int
proto_response_encode(const struct proto_response *resp, bool pretty,
		      struct strbuf *out)
{
	struct json_object *root;
	int r = -ENOMEM;

	root = json_object_new_object();
	if (!root)
		return -ENOMEM;
	if (pj_add_version(root, resp->version_major, resp->version_minor) ||
	    ((unsigned)resp->op < PROTO_OP__COUNT ?
		pj_add_str(root, "op", proto_op_name(resp->op)) :
		jc_add_null(root, "op")) ||
	    jc_add_bool(root, "ok", resp->ok) ||
	    jc_add_bool(root, "changed", resp->changed) ||
	    pj_add_str(root, "agent_version", resp->agent_version) ||
	    jc_add(root, "host", pj_host_to_json(&resp->host)) ||
	    PJ_ADD_ARRAY(root, "funcs", resp->funcs, resp->nfuncs, pj_func_to_json) ||
	    PJ_ADD_ARRAY(root, "groups", resp->groups, resp->ngroups, pj_group_to_json) ||
	    PJ_ADD_ARRAY(root, "gpus", resp->gpus, resp->ngpus, pj_gpu_to_json) ||
	    PJ_ADD_ARRAY(root, "findings", resp->findings, resp->nfindings,
			 pj_finding_to_json) ||
	    PJ_ADD_ARRAY(root, "changes", resp->changes, resp->nchanges,
			 pj_change_to_json) ||
	    PJ_ADD_ARRAY(root, "errors", resp->errors, resp->nerrors, pj_error_to_json) ||
	    (resp->state ? jc_add(root, "state", pj_state_to_json(resp->state)) :
	     jc_add_null(root, "state")))
		goto out;
	r = pj_emit(root, pretty, out);
out:
	json_object_put(root);
	return r;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                             */
/* ------------------------------------------------------------------ */

struct pj_dec {
	struct strbuf path;	/* member being decoded: "funcs[3].driver" */
	struct strbuf *err;	/* caller's, may be NULL */
	const char *self;	/* "agent" or "controller", for version errors */
};

/* Value rules on top of the type: NULL when s is fine, else what was expected. */
typedef const char *pj_check_fn(const char *s);

enum {
	PJ_REQUIRED = 1 << 0,	/* absent or null is an error */
};

static void
pj_vfail(struct pj_dec *d, const char *fmt, va_list ap)
{
	if (!d->err)
		return;
	strbuf_addf(d->err, "%s: ", d->path.len ? d->path.buf : "message");
	strbuf_vaddf(d->err, fmt, ap);
}

/* Record why decoding failed at the current path; returns -EPROTO. */
static int __attribute__((format(printf, 2, 3)))
pj_fail(struct pj_dec *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pj_vfail(d, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

static size_t
pj_push(struct pj_dec *d, const char *key)
{
	size_t mark = d->path.len;

	strbuf_addf(&d->path, "%s%s", mark ? "." : "", key);
	return mark;
}

static size_t
pj_push_index(struct pj_dec *d, size_t i)
{
	size_t mark = d->path.len;

	strbuf_addf(&d->path, "[%zu]", i);
	return mark;
}

static void
pj_pop(struct pj_dec *d, size_t mark)
{
	strbuf_setlen(&d->path, mark);
}

/* Quote an untrusted value for an error message: short, printable ASCII. */
static void
pj_quote(struct strbuf *sb, const char *s)
{
	size_t i;

	strbuf_addch(sb, '"');
	for (i = 0; i < PJ_QUOTE_MAX && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		strbuf_addch(sb, c < 0x20 || c >= 0x7f || c == '"' ? '?' : c);
	}
	strbuf_addstr(sb, s[i] ? "\"..." : "\"");
}

static const char *
pj_type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_double:
		return "number";
	case json_type_int:
		return "integer";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	}
	return "?";
}

/*
 * Look up key in obj (the path already names it). *v is NULL when the
 * member is absent or null, which is an error only for PJ_REQUIRED.
 */
static int
pj_get(struct pj_dec *d, struct json_object *obj, const char *key,
       unsigned flags, const char *what, struct json_object **v)
{
	bool found = json_object_object_get_ex(obj, key, v);

	if (!found)
		*v = NULL;
	if (*v || !(flags & PJ_REQUIRED))
		return 0;
	if (found)
		return pj_fail(d, "expected %s, got null", what);
	return pj_fail(d, "missing");
}

static int
pj_expect(struct pj_dec *d, struct json_object *v, enum json_type t,
	  const char *what)
{
	if (json_object_is_type(v, t))
		return 0;
	return pj_fail(d, "expected %s, got %s", what, pj_type_name(v));
}

/* Copy a string value into *out after the length, NUL and check rules. */
static int
pj_string_value(struct pj_dec *d, struct json_object *v, size_t max,
		pj_check_fn *check, char **out)
{
	struct strbuf q = STRBUF_INIT;
	const char *s, *why;
	size_t len;
	int r;

	r = pj_expect(d, v, json_type_string, "string");
	if (r < 0)
		return r;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len > max)
		return pj_fail(d, "string of %zu bytes is over the limit of %zu",
			       len, max);
	if (memchr(s, '\0', len))
		return pj_fail(d, "string contains a NUL character");
	if (check && (why = check(s)) != NULL) {
		pj_quote(&q, s);
		r = pj_fail(d, "expected %s, got %s", why, q.buf);
		strbuf_release(&q);
		return r;
	}
	*out = xstrndup(s, len);
	return 0;
}

static int
pj_string(struct pj_dec *d, struct json_object *obj, const char *key,
	  unsigned flags, size_t max, pj_check_fn *check, char **out)
{
	size_t mark = pj_push(d, key);
	struct json_object *v;
	int r;

	r = pj_get(d, obj, key, flags, "string", &v);
	if (r == 0 && v)
		r = pj_string_value(d, v, max, check, out);
	pj_pop(d, mark);
	return r;
}

/* An integer in [min, max]; absent or null gives dflt (the model's -1). */
static int
pj_int(struct pj_dec *d, struct json_object *obj, const char *key,
       unsigned flags, int64_t min, int64_t max, int dflt, int *out)
{
	size_t mark = pj_push(d, key);
	struct json_object *v;
	int64_t x;
	int r;

	*out = dflt;
	r = pj_get(d, obj, key, flags, "integer", &v);
	if (r < 0 || !v)
		goto out;
	r = pj_expect(d, v, json_type_int, "integer");
	if (r < 0)
		goto out;
	x = json_object_get_int64(v);
	/* json-c saturates what int64 cannot hold. */
	if (x == INT64_MAX || x == INT64_MIN) {
		r = pj_fail(d, "integer is out of range %" PRId64 "..%" PRId64,
			    min, max);
		goto out;
	}
	if (x < min || x > max) {
		r = pj_fail(d, "%" PRId64 " is out of range %" PRId64 "..%" PRId64,
			    x, min, max);
		goto out;
	}
	*out = (int)x;
out:
	pj_pop(d, mark);
	return r;
}

static int
pj_bool(struct pj_dec *d, struct json_object *obj, const char *key,
	unsigned flags, bool *out)
{
	size_t mark = pj_push(d, key);
	struct json_object *v;
	int r;

	*out = false;
	r = pj_get(d, obj, key, flags, "boolean", &v);
	if (r == 0 && v) {
		r = pj_expect(d, v, json_type_boolean, "boolean");
		if (r == 0)
			*out = json_object_get_boolean(v);
	}
	pj_pop(d, mark);
	return r;
}

/* true/false, or null (absent) for "unknown". */
static int
pj_tristate(struct pj_dec *d, struct json_object *obj, const char *key,
	    enum proto_tristate *out)
{
	size_t mark = pj_push(d, key);
	struct json_object *v;
	int r;

	*out = PROTO_UNKNOWN;
	r = pj_get(d, obj, key, 0, "boolean or null", &v);
	if (r == 0 && v) {
		r = pj_expect(d, v, json_type_boolean, "boolean or null");
		if (r == 0)
			*out = json_object_get_boolean(v) ? PROTO_YES : PROTO_NO;
	}
	pj_pop(d, mark);
	return r;
}

static bool
pj_is_hex(const char *s, size_t n, bool upper_ok)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (upper_ok && c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* A fixed-width lowercase hex ID ("10de", "030000"), always required. */
static int
pj_hex(struct pj_dec *d, struct json_object *obj, const char *key,
       unsigned flags, size_t digits, uint32_t *out)
{
	size_t mark = pj_push(d, key);
	struct strbuf q = STRBUF_INIT;
	struct json_object *v;
	const char *s;
	int r;

	*out = 0;
	r = pj_get(d, obj, key, flags, "hex string", &v);
	if (r < 0 || !v)
		goto out;
	r = pj_expect(d, v, json_type_string, "hex string");
	if (r < 0)
		goto out;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != digits ||
	    !pj_is_hex(s, digits, false)) {
		pj_quote(&q, s);
		r = pj_fail(d, "expected %zu lowercase hex digits, got %s",
			    digits, q.buf);
		goto out;
	}
	*out = (uint32_t)strtoul(s, NULL, 16);
out:
	strbuf_release(&q);
	pj_pop(d, mark);
	return r;
}

struct pj_enum {
	const char *what;	/* "operation" */
	int count;
	int (*from_name)(const char *name);
	const char *(*name)(int i);
};

static const char *
pj_op_name(int i)
{
	return proto_op_name((enum proto_op)i);
}

static const char *
pj_severity_name(int i)
{
	return proto_severity_name((enum proto_severity)i);
}

static const char *
pj_verdict_name(int i)
{
	return proto_verdict_name((enum proto_verdict)i);
}

static const struct pj_enum pj_ops = {
	"operation", PROTO_OP__COUNT, proto_op_from_name, pj_op_name,
};
static const struct pj_enum pj_severities = {
	"severity", PROTO_SEV__COUNT, proto_severity_from_name, pj_severity_name,
};
static const struct pj_enum pj_verdicts = {
	"verdict", PROTO_VERDICT__COUNT, proto_verdict_from_name, pj_verdict_name,
};

/* An enum by name; *out = -1 when absent or null (and not required). */
static int
pj_enum(struct pj_dec *d, struct json_object *obj, const char *key,
	unsigned flags, const struct pj_enum *e, int *out)
{
	size_t mark = pj_push(d, key);
	struct strbuf q = STRBUF_INIT;
	struct json_object *v;
	const char *s;
	int r, i;

	*out = -1;
	r = pj_get(d, obj, key, flags, "string", &v);
	if (r < 0 || !v)
		goto out;
	r = pj_expect(d, v, json_type_string, "string");
	if (r < 0)
		goto out;
	s = json_object_get_string(v);
	i = e->from_name(s);
	if (i < 0 || strlen(s) != (size_t)json_object_get_string_len(v)) {
		pj_quote(&q, s);
		strbuf_addf(&q, " (expected one of:");
		for (i = 0; i < e->count; i++)
			strbuf_addf(&q, " %s", e->name(i));
		strbuf_addch(&q, ')');
		r = pj_fail(d, "unknown %s %s", e->what, q.buf);
		goto out;
	}
	*out = i;
out:
	strbuf_release(&q);
	pj_pop(d, mark);
	return r;
}

/* An array member (absent or null: none); checks the element count. */
static int
pj_array(struct pj_dec *d, struct json_object *obj, const char *key,
	 struct json_object **arr, size_t *n)
{
	size_t mark = pj_push(d, key);
	int r;

	*n = 0;
	r = pj_get(d, obj, key, 0, "array", arr);
	if (r < 0 || !*arr)
		goto out;
	r = pj_expect(d, *arr, json_type_array, "array");
	if (r < 0)
		goto out;
	*n = json_object_array_length(*arr);
	if (*n > PROTO_ARRAY_MAX)
		r = pj_fail(d, "%zu elements are over the limit of %u", *n,
			    PROTO_ARRAY_MAX);
out:
	pj_pop(d, mark);
	return r;
}

/* An array of strings into a (strv, n) pair; *v, *n stay consistent. */
static int
pj_strv(struct pj_dec *d, struct json_object *obj, const char *key,
	size_t max, pj_check_fn *check, char ***v, size_t *n)
{
	struct json_object *arr;
	size_t count, mark, imark;
	int r;

	r = pj_array(d, obj, key, &arr, &count);
	if (r < 0 || count == 0)
		return r;
	*v = xcalloc(count, sizeof(**v));
	*n = count;
	mark = pj_push(d, key);
	for (size_t i = 0; i < count; i++) {
		imark = pj_push_index(d, i);
		r = pj_string_value(d, json_object_array_get_idx(arr, i), max,
				    check, &(*v)[i]);
		if (r < 0)
			break;
		pj_pop(d, imark);
	}
	pj_pop(d, mark);
	return r;
}

/* An optional object member; *o is NULL when absent or null. */
static int
pj_object(struct pj_dec *d, struct json_object *obj, const char *key,
	  struct json_object **o)
{
	size_t mark = pj_push(d, key);
	int r;

	r = pj_get(d, obj, key, 0, "object", o);
	if (r == 0 && *o)
		r = pj_expect(d, *o, json_type_object, "object");
	pj_pop(d, mark);
	return r;
}

/* --- value rules --- */

/* "0000:0e:00.0"; the domain may have up to 8 digits (VMD uses 10000). */
static const char *
pj_check_pci_address(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t dom = colon ? (size_t)(colon - s) : 0;

	if (dom < 4 || dom > 8 || !pj_is_hex(s, dom, false) ||
	    strlen(colon) != 8 || !pj_is_hex(colon + 1, 2, false) ||
	    colon[3] != ':' || !pj_is_hex(colon + 4, 2, false) ||
	    colon[6] != '.' || colon[7] < '0' || colon[7] > '7')
		return "a PCI address like 0000:0e:00.0 (lowercase hex)";
	return NULL;
}

/* Policy selectors are typed by people: hex in either case. */
static const char *
pj_check_selector(const char *s)
{
	size_t len = strlen(s);

	if ((len == 4 && pj_is_hex(s, 4, true)) ||
	    (len == 9 && pj_is_hex(s, 4, true) && s[4] == ':' &&
	     pj_is_hex(s + 5, 4, true)))
		return NULL;
	if (!pj_check_pci_address(s))
		return NULL;
	return "a vendor (10de), vendor:device (10de:1c03) or PCI address "
	       "(0000:0e:00.0)";
}

/* Stable identifiers: finding and error codes, change kinds. */
static const char *
pj_check_code(const char *s)
{
	const char *what = "an identifier of lowercase letters, digits and '-'";

	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return what;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return what;
	return NULL;
}

static const char *
pj_check_root(const char *s)
{
	return s[0] == '/' ? NULL : "an absolute path";
}

/* The agent may name files after run_id, so it cannot hold a '/'. */
static const char *
pj_check_run_id(const char *s)
{
	const char *what = "letters, digits, '.', '_' and '-', not starting with '.'";

	if (!*s || *s == '.')
		return what;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return what;
	return NULL;
}

static const char *
pj_check_sha256(const char *s)
{
	if (strlen(s) == 64 && pj_is_hex(s, 64, false))
		return NULL;
	return "64 lowercase hex digits";
}

/* --- the message envelope --- */

static bool
pj_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Bound what json-c will allocate before it runs: every value or key is
 * the first thing in the document or in a container, or follows a ',' or
 * ':' outside a string.
 */
static int
pj_prescan(struct pj_dec *d, const char *buf, size_t len)
{
	size_t tokens = 1, containers = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			containers++;
			tokens++;
			break;
		case ',':
		case ':':
			tokens++;
			break;
		}
	}
	if (containers > PJ_CONTAINERS_MAX)
		return pj_fail(d, "more than %u JSON objects and arrays",
			       PJ_CONTAINERS_MAX);
	if (tokens > PJ_TOKENS_MAX)
		return pj_fail(d, "more than %u JSON values", PJ_TOKENS_MAX);
	return 0;
}

/* Size, structure and syntax checks; *root is the top-level object. */
static int
pj_parse(struct pj_dec *d, const char *buf, size_t len,
	 struct json_object **root)
{
	struct json_tokener *tok = NULL;
	enum json_tokener_error jerr;
	size_t i, end;
	int r;

	*root = NULL;
	if (!buf)
		len = 0;
	if (len > PROTO_MESSAGE_MAX) {
		pj_fail(d, "%zu bytes is over the limit of %u bytes", len,
			PROTO_MESSAGE_MAX);
		return -EMSGSIZE;
	}
	for (i = 0; i < len && pj_is_ws(buf[i]); i++)
		;
	if (i == len)
		return pj_fail(d, "empty");
	if (memchr(buf, '\0', len))
		return pj_fail(d, "contains a NUL byte");
	/*
	 * UTF-8 as strictly as the encoder writes it (RFC 3629): json-c's
	 * own check lets through lead bytes F5-F7, which the encoder would
	 * then turn into U+FFFD, so decode -> encode -> decode was not
	 * stable and a string could grow past its limit (found by
	 * fuzz/fuzz_proto_request). Same wording as json-c's message.
	 */
	for (i = 0; i < len;) {
		size_t n;

		if (!((unsigned char)buf[i] & 0x80)) {
			i++;
			continue;
		}
		n = pj_utf8_seq((const unsigned char *)buf + i, len - i);

		if (!n)
			return pj_fail(d, "not valid JSON at byte %zu: invalid "
				       "utf-8 string", i);
		i += n;
	}
	r = pj_prescan(d, buf, len);
	if (r < 0)
		return r;

	tok = json_tokener_new_ex(PROTO_DEPTH_MAX);
	if (!tok) {
		pj_fail(d, "out of memory");
		return -ENOMEM;
	}
	/* Trailing bytes are checked below, for a clearer message. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_ALLOW_TRAILING_CHARS |
			       JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/*
		 * A top-level scalar ("null", "12") needs an end marker; json-c
		 * takes a NUL for one. A real truncation stays an error.
		 */
		*root = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success)
			jerr = json_tokener_success;
		end = len;
	}
	if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof) {
		r = pj_fail(d, "not valid JSON: unexpected end of input");
		goto out;
	}
	if (jerr == json_tokener_error_depth) {
		r = pj_fail(d, "not valid JSON: nested deeper than %d levels",
			    PROTO_DEPTH_MAX);
		goto out;
	}
	if (jerr != json_tokener_success) {
		r = pj_fail(d, "not valid JSON at byte %zu: %s", end,
			    json_tokener_error_desc(jerr));
		goto out;
	}
	for (i = end; i < len && pj_is_ws(buf[i]); i++)
		;
	if (i < len) {
		r = pj_fail(d, "trailing data after the JSON object at byte %zu", i);
		goto out;
	}
	if (!json_object_is_type(*root, json_type_object)) {
		r = pj_fail(d, "expected a JSON object, got %s",
			    pj_type_name(*root));
		goto out;
	}
	r = 0;
out:
	json_tokener_free(tok);
	if (r < 0) {
		json_object_put(*root);
		*root = NULL;
	}
	return r;
}

/* A decimal version part: 0..9999, no sign, no leading zero. */
static const char *
pj_version_part(const char *s, int *out)
{
	int v = 0, n = 0;

	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return NULL;
	for (; *s >= '0' && *s <= '9' && n < 5; s++, n++)
		v = v * 10 + (*s - '0');
	if (n == 0 || v > PJ_VERSION_PART_MAX)
		return NULL;
	*out = v;
	return s;
}

/*
 * "protocol": "vfleet/MAJOR.MINOR". It is checked before anything else so
 * that a message of another major version, whatever its shape, gets
 * -EPROTONOSUPPORT rather than a confusing type error.
 */
static int
pj_version(struct pj_dec *d, struct json_object *root, int *major,
	   int *minor)
{
	const char *form = "expected \"" PJ_PROTOCOL_NAME "/MAJOR.MINOR\"";
	size_t mark = pj_push(d, "protocol");
	struct strbuf q = STRBUF_INIT;
	struct json_object *v;
	const char *s, *p;
	int r;

	r = pj_get(d, root, "protocol", PJ_REQUIRED, "string", &v);
	if (r < 0)
		goto out;
	r = pj_expect(d, v, json_type_string, "string");
	if (r < 0)
		goto out;
	s = json_object_get_string(v);
	p = s;
	if (strncmp(p, PJ_PROTOCOL_NAME "/", strlen(PJ_PROTOCOL_NAME "/")) != 0 ||
	    !(p = pj_version_part(p + strlen(PJ_PROTOCOL_NAME "/"), major)) ||
	    *p != '.' || !(p = pj_version_part(p + 1, minor)) || *p != '\0' ||
	    strlen(s) != (size_t)json_object_get_string_len(v)) {
		pj_quote(&q, s);
		r = pj_fail(d, "%s, got %s", form, q.buf);
		goto out;
	}
	if (*major != PROTO_VERSION_MAJOR) {
		if (d->err)
			strbuf_addf(d->err, "unsupported protocol version %d.%d; "
				    "this %s speaks %d.x", *major, *minor,
				    d->self, PROTO_VERSION_MAJOR);
		r = -EPROTONOSUPPORT;
	}
out:
	strbuf_release(&q);
	pj_pop(d, mark);
	return r;
}

static void
pj_dec_init(struct pj_dec *d, struct strbuf *err, const char *self)
{
	strbuf_init(&d->path, 64);
	d->err = err;
	d->self = self;
}

/* --- request --- */

/* A command override: argv strings, argv[0] an absolute path, at most
 * PJ_ARGV_MAX elements (no shell ever sees them). */
static int
pj_argv(struct pj_dec *d, struct json_object *obj, const char *key,
	char ***v, size_t *n)
{
	size_t mark;
	int r;

	r = pj_strv(d, obj, key, PJ_ROOT_MAX, NULL, v, n);
	if (r < 0 || !*n)
		return r;
	mark = pj_push(d, key);
	if (*n > PJ_ARGV_MAX) {
		r = pj_fail(d, "%zu elements are over the limit of %u", *n,
			    PJ_ARGV_MAX);
	} else if ((*v)[0][0] != '/') {
		size_t imark = pj_push_index(d, 0);
		struct strbuf q = STRBUF_INIT;

		/* Quoted like every other value: no newline or escape
		 * sequence reaches the one-line reason (fuzz_proto_request). */
		pj_quote(&q, (*v)[0]);
		r = pj_fail(d, "expected an absolute path, got %s", q.buf);
		strbuf_release(&q);
		pj_pop(d, imark);
	}
	pj_pop(d, mark);
	return r;
}

static int
pj_policy(struct pj_dec *d, struct json_object *root, struct proto_policy *p)
{
	struct json_object *o;
	size_t mark;
	int r;

	r = pj_object(d, root, "policy", &o);
	if (r < 0 || !o)
		return r;
	mark = pj_push(d, "policy");
	if ((r = pj_strv(d, o, "select", PROTO_STRING_MAX, pj_check_selector,
			 &p->select, &p->nselect)) ||
	    (r = pj_bool(d, o, "allow_unsafe_interrupts", 0,
			 &p->allow_unsafe_interrupts)) ||
	    (r = pj_bool(d, o, "allow_group_not_viable", 0,
			 &p->allow_group_not_viable)) ||
	    (r = pj_bool(d, o, "allow_only_display", 0, &p->allow_only_display)) ||
	    (r = pj_bool(d, o, "allow_no_iommu", 0, &p->allow_no_iommu)) ||
	    (r = pj_bool(d, o, "allow_driver_in_use", 0, &p->allow_driver_in_use)) ||
	    (r = pj_argv(d, o, "cmd_bootloader_update", &p->cmd_bootloader_update,
			 &p->ncmd_bootloader_update)) ||
	    (r = pj_argv(d, o, "cmd_initramfs", &p->cmd_initramfs,
			 &p->ncmd_initramfs)) ||
	    (r = pj_argv(d, o, "cmd_reboot", &p->cmd_reboot, &p->ncmd_reboot)))
		return r;
	pj_pop(d, mark);
	/* Agents compare selectors with the lowercase IDs sysfs shows. */
	for (size_t i = 0; i < p->nselect; i++)
		for (char *c = p->select[i]; *c; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c - 'A' + 'a');
	return 0;
}

int
proto_request_decode(const char *buf, size_t len, struct proto_request *out,
		     struct strbuf *err)
{
	struct json_object *root = NULL;
	struct pj_dec d;
	int r, op;

	proto_request_init(out, PROTO_OP_FACTS);
	pj_dec_init(&d, err, "agent");
	r = pj_parse(&d, buf, len, &root);
	if (r < 0)
		goto out;
	r = pj_version(&d, root, &out->version_major, &out->version_minor);
	if (r < 0)
		goto out;
	r = pj_enum(&d, root, "op", PJ_REQUIRED, &pj_ops, &op);
	if (r < 0)
		goto out;
	out->op = (enum proto_op)op;
	if ((r = pj_string(&d, root, "root", 0, PJ_ROOT_MAX, pj_check_root,
			   &out->root)) ||
	    (r = pj_string(&d, root, "run_id", 0, PJ_RUN_ID_MAX, pj_check_run_id,
			   &out->run_id)) ||
	    (r = pj_policy(&d, root, &out->policy)))
		goto out;
out:
	json_object_put(root);
	strbuf_release(&d.path);
	if (r < 0)
		proto_request_release(out);
	return r;
}

int
proto_policy_decode(const char *buf, size_t len, struct proto_policy *out,
		    struct strbuf *err)
{
	struct json_object *root = NULL, *wrap = NULL;
	struct proto_request tmp;
	struct pj_dec d;
	int r;

	memset(out, 0, sizeof(*out));
	proto_request_init(&tmp, PROTO_OP_FACTS);
	pj_dec_init(&d, err, "agent");
	r = pj_parse(&d, buf, len, &root);
	if (r < 0)
		goto out;
	/* A request-shaped file carries "policy"; a bare one is the policy. */
	if (json_object_object_get_ex(root, "policy", NULL)) {
		wrap = json_object_get(root);
	} else {
		wrap = json_object_new_object();
		if (!wrap || json_object_object_add(wrap, "policy",
						    json_object_get(root)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = pj_policy(&d, wrap, &tmp.policy);
	if (r == 0) {
		*out = tmp.policy;
		memset(&tmp.policy, 0, sizeof(tmp.policy));
	}
out:
	json_object_put(wrap);
	json_object_put(root);
	strbuf_release(&d.path);
	proto_request_release(&tmp);
	return r;
}

/* --- response --- */

static int
pj_host(struct pj_dec *d, struct json_object *root, struct proto_host_facts *h)
{
	const size_t max = PROTO_STRING_MAX;
	struct json_object *o;
	size_t mark;
	int r;

	r = pj_object(d, root, "host", &o);
	if (r < 0 || !o)
		return r;
	mark = pj_push(d, "host");
	if ((r = pj_string(d, o, "hostname", 0, max, NULL, &h->hostname)) ||
	    (r = pj_string(d, o, "distro_id", 0, max, NULL, &h->distro_id)) ||
	    (r = pj_string(d, o, "distro_name", 0, max, NULL, &h->distro_name)) ||
	    (r = pj_string(d, o, "kernel_release", 0, max, NULL,
			   &h->kernel_release)) ||
	    (r = pj_string(d, o, "arch", 0, max, NULL, &h->arch)) ||
	    (r = pj_string(d, o, "cpu_vendor", 0, max, NULL, &h->cpu_vendor)) ||
	    (r = pj_string(d, o, "cpu_model", 0, max, NULL, &h->cpu_model)) ||
	    (r = pj_string(d, o, "iommu_hw", 0, max, NULL, &h->iommu_hw)) ||
	    (r = pj_string(d, o, "cmdline", 0, max, NULL, &h->cmdline)) ||
	    (r = pj_tristate(d, o, "iommu_active", &h->iommu_active)) ||
	    (r = pj_int(d, o, "iommu_groups", 0, 0, INT32_MAX, 0,
			&h->iommu_groups)) ||
	    (r = pj_tristate(d, o, "intremap", &h->intremap)) ||
	    (r = pj_string(d, o, "vfio_pci", 0, max, NULL, &h->vfio_pci)) ||
	    (r = pj_strv(d, o, "modules_loaded", max, NULL, &h->modules_loaded,
			 &h->nmodules_loaded)) ||
	    (r = pj_string(d, o, "bootloader", 0, max, NULL, &h->bootloader)) ||
	    (r = pj_strv(d, o, "grub_overrides", max, NULL, &h->grub_overrides,
			 &h->ngrub_overrides)) ||
	    (r = pj_string(d, o, "initramfs_tool", 0, max, NULL,
			   &h->initramfs_tool)) ||
	    (r = pj_tristate(d, o, "secure_boot", &h->secure_boot)) ||
	    (r = pj_string(d, o, "boot_id", 0, max, NULL, &h->boot_id)) ||
	    (r = pj_string(d, o, "vfio_state", 0, max, NULL, &h->vfio_state)))
		return r;
	pj_pop(d, mark);
	return 0;
}

static int
pj_func(struct pj_dec *d, struct json_object *o, struct proto_pci_func *f)
{
	const size_t max = PROTO_STRING_MAX;
	uint32_t x;
	int r;

	if ((r = pj_string(d, o, "address", PJ_REQUIRED, max,
			   pj_check_pci_address, &f->address)) ||
	    (r = pj_hex(d, o, "class_code", PJ_REQUIRED, 6, &f->class_code)))
		return r;
	if ((r = pj_hex(d, o, "vendor_id", PJ_REQUIRED, 4, &x)) < 0)
		return r;
	f->vendor_id = (uint16_t)x;
	if ((r = pj_hex(d, o, "device_id", PJ_REQUIRED, 4, &x)) < 0)
		return r;
	f->device_id = (uint16_t)x;
	if ((r = pj_hex(d, o, "subsys_vendor_id", 0, 4, &x)) < 0)
		return r;
	f->subsys_vendor_id = (uint16_t)x;
	if ((r = pj_hex(d, o, "subsys_device_id", 0, 4, &x)) < 0)
		return r;
	f->subsys_device_id = (uint16_t)x;
	if ((r = pj_int(d, o, "revision", 0, 0, 255, -1, &f->revision)) ||
	    (r = pj_string(d, o, "class_name", 0, max, NULL, &f->class_name)) ||
	    (r = pj_string(d, o, "vendor_name", 0, max, NULL, &f->vendor_name)) ||
	    (r = pj_string(d, o, "device_name", 0, max, NULL, &f->device_name)) ||
	    (r = pj_string(d, o, "subsys_name", 0, max, NULL, &f->subsys_name)) ||
	    (r = pj_string(d, o, "driver", 0, max, NULL, &f->driver)) ||
	    (r = pj_string(d, o, "driver_override", 0, max, NULL,
			   &f->driver_override)) ||
	    (r = pj_int(d, o, "iommu_group", 0, 0, INT32_MAX, -1,
			&f->iommu_group)) ||
	    (r = pj_tristate(d, o, "boot_vga", &f->boot_vga)) ||
	    (r = pj_int(d, o, "numa_node", 0, 0, INT32_MAX, -1, &f->numa_node)) ||
	    (r = pj_string(d, o, "reset_method", 0, max, NULL, &f->reset_method)) ||
	    (r = pj_int(d, o, "sriov_totalvfs", 0, 0, 65535, -1,
			&f->sriov_totalvfs)) ||
	    (r = pj_string(d, o, "link_speed", 0, max, NULL, &f->link_speed)) ||
	    (r = pj_int(d, o, "link_width", 0, 0, 255, -1, &f->link_width)))
		return r;
	return 0;
}

static int
pj_group(struct pj_dec *d, struct json_object *o, struct proto_iommu_group *g)
{
	int r;

	if ((r = pj_int(d, o, "id", PJ_REQUIRED, 0, INT32_MAX, -1, &g->id)) ||
	    (r = pj_strv(d, o, "members", PROTO_STRING_MAX, pj_check_pci_address,
			 &g->members, &g->nmembers)))
		return r;
	return 0;
}

static int
pj_gpu(struct pj_dec *d, struct json_object *o, struct proto_gpu *g)
{
	int r, verdict;

	if ((r = pj_string(d, o, "address", PJ_REQUIRED, PROTO_STRING_MAX,
			   pj_check_pci_address, &g->address)) ||
	    (r = pj_strv(d, o, "companions", PROTO_STRING_MAX,
			 pj_check_pci_address, &g->companions,
			 &g->ncompanions)) ||
	    (r = pj_int(d, o, "iommu_group", 0, 0, INT32_MAX, -1,
			&g->iommu_group)) ||
	    (r = pj_bool(d, o, "group_viable", 0, &g->group_viable)) ||
	    (r = pj_enum(d, o, "verdict", PJ_REQUIRED, &pj_verdicts, &verdict)))
		return r;
	g->verdict = (enum proto_verdict)verdict;
	return pj_string(d, o, "reason", 0, PROTO_STRING_MAX, NULL, &g->reason);
}

static int
pj_finding(struct pj_dec *d, struct json_object *o, struct proto_finding *f)
{
	int r, sev;

	if ((r = pj_enum(d, o, "severity", PJ_REQUIRED, &pj_severities, &sev)))
		return r;
	f->severity = (enum proto_severity)sev;
	if ((r = pj_string(d, o, "code", PJ_REQUIRED, PJ_CODE_MAX, pj_check_code,
			   &f->code)) ||
	    (r = pj_string(d, o, "message", PJ_REQUIRED, PROTO_STRING_MAX, NULL,
			   &f->message)) ||
	    (r = pj_string(d, o, "device", 0, PROTO_STRING_MAX,
			   pj_check_pci_address, &f->device)) ||
	    (r = pj_strv(d, o, "evidence", PROTO_STRING_MAX, NULL, &f->evidence,
			 &f->nevidence)))
		return r;
	return 0;
}

static int
pj_change(struct pj_dec *d, struct json_object *o, struct proto_change *c)
{
	int r;

	if ((r = pj_string(d, o, "kind", PJ_REQUIRED, PJ_CODE_MAX, pj_check_code,
			   &c->kind)) ||
	    (r = pj_string(d, o, "target", PJ_REQUIRED, PROTO_STRING_MAX, NULL,
			   &c->target)) ||
	    (r = pj_string(d, o, "diff", 0, PROTO_TEXT_MAX, NULL, &c->diff)) ||
	    (r = pj_string(d, o, "sha256_before", 0, 64, pj_check_sha256,
			   &c->sha256_before)) ||
	    (r = pj_string(d, o, "sha256_after", 0, 64, pj_check_sha256,
			   &c->sha256_after)) ||
	    (r = pj_int(d, o, "exit_code", 0, 0, 255, -1, &c->exit_code)) ||
	    (r = pj_string(d, o, "output_tail", 0, PROTO_TEXT_MAX, NULL,
			   &c->output_tail)))
		return r;
	return 0;
}

static int
pj_error(struct pj_dec *d, struct json_object *o, struct proto_error *e)
{
	int r;

	if ((r = pj_string(d, o, "code", PJ_REQUIRED, PJ_CODE_MAX, pj_check_code,
			   &e->code)) ||
	    (r = pj_string(d, o, "message", PJ_REQUIRED, PROTO_STRING_MAX, NULL,
			   &e->message)) ||
	    (r = pj_string(d, o, "path", 0, PROTO_STRING_MAX, NULL, &e->path)))
		return r;
	return 0;
}

/*
 * Decode the array of objects at key into a fresh array of n elements of
 * size el, each first set up by init and then filled by fn. The array and
 * its count are stored before filling, so that a failure half-way leaves
 * something proto_response_release() frees.
 */
#define PJ_OBJECTS(d, root, key, arr, n, init, fn) ({			\
	struct json_object *a_, *e_;					\
	size_t c_, m_, im_;						\
	int r_ = pj_array(d, root, key, &a_, &c_);			\
	if (r_ == 0 && c_) {						\
		(arr) = xcalloc(c_, sizeof(*(arr)));			\
		(n) = c_;						\
		m_ = pj_push(d, key);					\
		for (size_t i_ = 0; r_ == 0 && i_ < c_; i_++) {		\
			im_ = pj_push_index(d, i_);			\
			e_ = json_object_array_get_idx(a_, i_);		\
			init(&(arr)[i_]);				\
			r_ = pj_expect(d, e_, json_type_object, "object"); \
			if (r_ == 0)					\
				r_ = fn(d, e_, &(arr)[i_]);		\
			if (r_ == 0)					\
				pj_pop(d, im_);				\
		}							\
		if (r_ == 0)						\
			pj_pop(d, m_);					\
	}								\
	r_;								\
})

static int
pj_state(struct pj_dec *d, struct json_object *root, struct proto_response *resp)
{
	const size_t max = PROTO_STRING_MAX;
	struct json_object *o;
	struct proto_state *st;
	size_t mark;
	int r;

	r = pj_object(d, root, "state", &o);
	if (r < 0 || !o)
		return r;
	st = proto_set_state(resp);
	mark = pj_push(d, "state");
	if ((r = pj_string(d, o, "phase", PJ_REQUIRED, PJ_CODE_MAX, pj_check_code,
			   &st->phase)) ||
	    (r = pj_string(d, o, "run_id", 0, PJ_RUN_ID_MAX, pj_check_run_id,
			   &st->run_id)) ||
	    (r = pj_string(d, o, "boot_id", 0, max, NULL, &st->boot_id)) ||
	    (r = pj_string(d, o, "updated", 0, max, NULL, &st->updated)) ||
	    (r = pj_string(d, o, "message", 0, max, NULL, &st->message)) ||
	    (r = pj_string(d, o, "binding", 0, PJ_CODE_MAX, pj_check_code,
			   &st->binding)) ||
	    (r = pj_strv(d, o, "devices", max, pj_check_pci_address,
			 &st->devices, &st->ndevices)) ||
	    (r = pj_strv(d, o, "cmdline_expected", max, NULL,
			 &st->cmdline_expected, &st->ncmdline_expected)))
		return r;
	pj_pop(d, mark);
	return 0;
}

static void
pj_func_init(struct proto_pci_func *f)
{
	f->revision = -1;
	f->iommu_group = -1;
	f->boot_vga = PROTO_UNKNOWN;
	f->numa_node = -1;
	f->sriov_totalvfs = -1;
	f->link_width = -1;
}

static void
pj_gpu_init(struct proto_gpu *g)
{
	g->iommu_group = -1;
}

static void
pj_change_init(struct proto_change *c)
{
	c->exit_code = -1;
}

static void
pj_noinit(void *p)
{
	(void)p;
}

int
proto_response_decode(const char *buf, size_t len, struct proto_response *out,
		      struct strbuf *err)
{
	struct json_object *root = NULL, *v;
	struct pj_dec d;
	size_t mark;
	int r, op;

	proto_response_init(out, PROTO_OP_FACTS);
	pj_dec_init(&d, err, "controller");
	r = pj_parse(&d, buf, len, &root);
	if (r < 0)
		goto out;
	r = pj_version(&d, root, &out->version_major, &out->version_minor);
	if (r < 0)
		goto out;
	/* op must be there, but is null when the request was undecodable. */
	mark = pj_push(&d, "op");
	if (!json_object_object_get_ex(root, "op", &v))
		r = pj_fail(&d, "missing");
	pj_pop(&d, mark);
	if (r < 0)
		goto out;
	r = pj_enum(&d, root, "op", 0, &pj_ops, &op);
	if (r < 0)
		goto out;
	out->op = op < 0 ? PROTO_OP__COUNT : (enum proto_op)op;
	if ((r = pj_bool(&d, root, "ok", PJ_REQUIRED, &out->ok)) ||
	    (r = pj_bool(&d, root, "changed", 0, &out->changed)) ||
	    (r = pj_string(&d, root, "agent_version", 0, PROTO_STRING_MAX, NULL,
			   &out->agent_version)) ||
	    (r = pj_host(&d, root, &out->host)) ||
	    (r = PJ_OBJECTS(&d, root, "funcs", out->funcs, out->nfuncs,
			    pj_func_init, pj_func)) ||
	    (r = PJ_OBJECTS(&d, root, "groups", out->groups, out->ngroups,
			    pj_noinit, pj_group)) ||
	    (r = PJ_OBJECTS(&d, root, "gpus", out->gpus, out->ngpus,
			    pj_gpu_init, pj_gpu)) ||
	    (r = PJ_OBJECTS(&d, root, "findings", out->findings, out->nfindings,
			    pj_noinit, pj_finding)) ||
	    (r = PJ_OBJECTS(&d, root, "changes", out->changes, out->nchanges,
			    pj_change_init, pj_change)) ||
	    (r = PJ_OBJECTS(&d, root, "errors", out->errors, out->nerrors,
			    pj_noinit, pj_error)) ||
	    (r = pj_state(&d, root, out)))
		goto out;
	/* ok is false exactly when errors says why (PROTOCOL.md section 7):
	 * a failed host always has a reason to show. */
	if (out->ok && out->nerrors) {
		mark = pj_push(&d, "ok");
		r = pj_fail(&d, "true, but errors[] is not empty");
		pj_pop(&d, mark);
	} else if (!out->ok && !out->nerrors) {
		mark = pj_push(&d, "ok");
		r = pj_fail(&d, "false, but errors[] is empty");
		pj_pop(&d, mark);
	}
out:
	json_object_put(root);
	strbuf_release(&d.path);
	if (r < 0)
		proto_response_release(out);
	return r;
}
