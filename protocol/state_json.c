/* state_json.c: struct agent_state <-> ROOT/var/lib/vfleet/state.json.
 *
 * The agent's own file, but read back after crashes, power cuts and hand
 * edits, so decoding checks every member's type and refuses anything it
 * cannot trust (a truncated or mangled state must not drive a rollback).
 * Members it does not know are ignored, so a newer agent's additions do not
 * break an older one.
 */
#include "jsonc.h"
#include "state.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define SJ_ARRAY_MAX 65536u

/* --- encoding --- */

static int
sj_add_str(struct json_object *obj, const char *key, const char *s)
{
	if (!s)
		return jc_add_null(obj, key);
	return jc_add(obj, key, json_object_new_string(s));
}

static int
sj_add_strv(struct json_object *obj, const char *key, char *const *v, size_t n)
{
	struct json_object *arr = json_object_new_array(), *s;

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s = json_object_new_string(v[i] ? v[i] : "");
		if (!s || json_object_array_add(arr, s) < 0) {
			json_object_put(s);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	return jc_add(obj, key, arr);
}

static struct json_object *
sj_file_to_json(const struct state_file *f)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (sj_add_str(j, "path", f->path) < 0 ||
	    jc_add_bool(j, "created", f->created) < 0 ||
	    sj_add_str(j, "sha256_before", f->sha256_before) < 0 ||
	    sj_add_str(j, "sha256_after", f->sha256_after) < 0 ||
	    sj_add_str(j, "backup", f->backup) < 0 ||
	    sj_add_str(j, "run_id", f->run_id) < 0 ||
	    sj_add_str(j, "status", state_step_name(f->status)) < 0)
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
sj_command_to_json(const struct state_command *c)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (sj_add_strv(j, "argv", c->argv, c->argc) < 0 ||
	    sj_add_str(j, "purpose", c->purpose) < 0 ||
	    sj_add_str(j, "stage", c->stage) < 0 ||
	    (c->exit_code < 0 ? sj_add_str(j, "exit_code", NULL) :
	     jc_add_int(j, "exit_code", c->exit_code)) < 0 ||
	    jc_add_bool(j, "timed_out", c->timed_out) < 0 ||
	    sj_add_str(j, "output_tail", c->output_tail) < 0 ||
	    sj_add_str(j, "status", state_step_name(c->status)) < 0)
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

static struct json_object *
sj_device_to_json(const struct state_device *d)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return NULL;
	if (sj_add_str(j, "address", d->address) < 0 ||
	    sj_add_str(j, "ids", d->ids) < 0 ||
	    sj_add_str(j, "gpu", d->gpu) < 0 ||
	    sj_add_str(j, "driver_before", d->driver_before) < 0)
		goto err;
	return j;
err:
	json_object_put(j);
	return NULL;
}

int
state_json_encode(const struct agent_state *st, struct strbuf *out)
{
	struct json_object *j = json_object_new_object(), *arr = NULL;
	const char *s;
	size_t len = 0;
	int r = -ENOMEM;

	if (!j)
		return -ENOMEM;
	if (jc_add_int(j, "format", st->format) < 0 ||
	    sj_add_str(j, "phase", state_phase_name(st->phase)) < 0 ||
	    sj_add_str(j, "run_id", st->run_id) < 0 ||
	    sj_add_strv(j, "run_ids", st->run_ids, st->nrun_ids) < 0 ||
	    sj_add_str(j, "boot_id", st->boot_id) < 0 ||
	    sj_add_str(j, "kernel_release", st->kernel_release) < 0 ||
	    sj_add_str(j, "bootloader", st->bootloader) < 0 ||
	    sj_add_str(j, "initramfs_tool", st->initramfs_tool) < 0 ||
	    sj_add_str(j, "binding", st->binding) < 0 ||
	    sj_add_str(j, "updated", st->updated) < 0 ||
	    sj_add_str(j, "message", st->message) < 0)
		goto out;
	if (!(arr = json_object_new_array()))
		goto out;
	for (size_t i = 0; i < st->ndevices; i++)
		if (jc_append(arr, sj_device_to_json(&st->devices[i])) < 0)
			goto out;
	r = jc_add(j, "devices", arr);
	arr = NULL;
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (sj_add_strv(j, "cmdline_expected", st->cmdline_expected,
			st->ncmdline_expected) < 0 ||
	    sj_add_strv(j, "modules_expected", st->modules_expected,
			st->nmodules_expected) < 0 ||
	    sj_add_strv(j, "cmdline_added", st->cmdline_added,
			st->ncmdline_added) < 0 ||
	    sj_add_strv(j, "cmdline_previous", st->cmdline_previous,
			st->ncmdline_previous) < 0 ||
	    sj_add_strv(j, "dirs_created", st->dirs_created,
			st->ndirs_created) < 0)
		goto out;
	if (!(arr = json_object_new_array()))
		goto out;
	for (size_t i = 0; i < st->nfiles; i++)
		if (jc_append(arr, sj_file_to_json(&st->files[i])) < 0)
			goto out;
	r = jc_add(j, "files", arr);
	arr = NULL;
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (!(arr = json_object_new_array()))
		goto out;
	for (size_t i = 0; i < st->ncommands; i++)
		if (jc_append(arr, sj_command_to_json(&st->commands[i])) < 0)
			goto out;
	r = jc_add(j, "commands", arr);
	arr = NULL;
	if (r < 0)
		goto out;
	r = -ENOMEM;
	s = json_object_to_json_string_length(j, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s)
		goto out;
	strbuf_add(out, s, len);
	strbuf_addch(out, '\n');
	r = 0;
out:
	json_object_put(arr);
	json_object_put(j);
	return r;
}

/* --- decoding --- */

struct sj_dec {
	struct strbuf *err;
	struct strbuf path;	/* "files[2].sha256_after" */
};

static int __attribute__((format(printf, 2, 3)))
sj_fail(struct sj_dec *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->err)
		return -EPROTO;
	strbuf_addf(d->err, "%s: ", d->path.len ? d->path.buf : "state");
	va_start(ap, fmt);
	strbuf_vaddf(d->err, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

static size_t
sj_push(struct sj_dec *d, const char *key, long idx)
{
	size_t mark = d->path.len;

	if (key)
		strbuf_addf(&d->path, "%s%s", d->path.len ? "." : "", key);
	else
		strbuf_addf(&d->path, "[%ld]", idx);
	return mark;
}

static void
sj_pop(struct sj_dec *d, size_t mark)
{
	strbuf_setlen(&d->path, mark);
}

/* *out = copy of string member key, NULL for absent/null. */
static int
sj_string(struct sj_dec *d, struct json_object *o, const char *key, char **out,
	  bool required)
{
	struct json_object *v = NULL;
	size_t mark = sj_push(d, key, 0);
	int r = 0;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v) {
		if (required)
			r = sj_fail(d, "missing");
		goto out;
	}
	if (!json_object_is_type(v, json_type_string)) {
		r = sj_fail(d, "expected string");
		goto out;
	}
	*out = xstrndup(json_object_get_string(v),
			(size_t)json_object_get_string_len(v));
	if (strlen(*out) != (size_t)json_object_get_string_len(v)) {
		free(*out);
		*out = NULL;
		r = sj_fail(d, "NUL byte in string");
	}
out:
	sj_pop(d, mark);
	return r;
}

static int
sj_bool(struct sj_dec *d, struct json_object *o, const char *key, bool *out)
{
	struct json_object *v = NULL;
	size_t mark = sj_push(d, key, 0);
	int r = 0;

	*out = false;
	if (json_object_object_get_ex(o, key, &v) && v) {
		if (!json_object_is_type(v, json_type_boolean))
			r = sj_fail(d, "expected boolean");
		else
			*out = json_object_get_boolean(v);
	}
	sj_pop(d, mark);
	return r;
}

/* Integer member in [lo, hi]; absent/null gives dflt. */
static int
sj_int(struct sj_dec *d, struct json_object *o, const char *key, int lo,
       int hi, int dflt, int *out)
{
	struct json_object *v = NULL;
	size_t mark = sj_push(d, key, 0);
	int r = 0;
	int64_t x;

	*out = dflt;
	if (json_object_object_get_ex(o, key, &v) && v) {
		if (!json_object_is_type(v, json_type_int)) {
			r = sj_fail(d, "expected integer");
		} else {
			x = json_object_get_int64(v);
			if (x < lo || x > hi)
				r = sj_fail(d, "%lld out of range",
					    (long long)x);
			else
				*out = (int)x;
		}
	}
	sj_pop(d, mark);
	return r;
}

/* Enum by name via fn; absent gives dflt unless required. */
static int
sj_enum(struct sj_dec *d, struct json_object *o, const char *key,
	int (*fn)(const char *), int dflt, bool required, int *out)
{
	char *s = NULL;
	int r = sj_string(d, o, key, &s, required), v;
	size_t mark;

	*out = dflt;
	if (r < 0 || !s)
		goto out;
	v = fn(s);
	if (v < 0) {
		mark = sj_push(d, key, 0);
		r = sj_fail(d, "unknown value \"%.40s\"", s);
		sj_pop(d, mark);
		goto out;
	}
	*out = v;
out:
	free(s);
	return r;
}

/* Array member (absent/null: *arr NULL, *n 0). */
static int
sj_array(struct sj_dec *d, struct json_object *o, const char *key,
	 struct json_object **arr, size_t *n)
{
	struct json_object *v = NULL;
	size_t mark = sj_push(d, key, 0);
	int r = 0;

	*arr = NULL;
	*n = 0;
	if (json_object_object_get_ex(o, key, &v) && v) {
		if (!json_object_is_type(v, json_type_array)) {
			r = sj_fail(d, "expected array");
		} else if (json_object_array_length(v) > SJ_ARRAY_MAX) {
			r = sj_fail(d, "more than %u elements", SJ_ARRAY_MAX);
		} else {
			*arr = v;
			*n = json_object_array_length(v);
		}
	}
	sj_pop(d, mark);
	return r;
}

static int
sj_strv(struct sj_dec *d, struct json_object *o, const char *key,
	char ***out, size_t *nout)
{
	struct json_object *arr;
	size_t n, mark;
	int r = sj_array(d, o, key, &arr, &n);

	*out = NULL;
	*nout = 0;
	if (r < 0 || !arr)
		return r;
	*out = xcalloc(n ? n : 1, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!e || !json_object_is_type(e, json_type_string)) {
			mark = sj_push(d, key, 0);
			sj_push(d, NULL, (long)i);
			r = sj_fail(d, "expected string");
			sj_pop(d, mark);
			return r;
		}
		(*out)[i] = xstrdup(json_object_get_string(e));
		*nout = i + 1;
	}
	return 0;
}

/* Element i of member key, which must be an object. */
static struct json_object *
sj_elem(struct sj_dec *d, struct json_object *arr, const char *key, size_t i,
	size_t *mark, int *r)
{
	struct json_object *e = json_object_array_get_idx(arr, i);

	*mark = sj_push(d, key, 0);
	sj_push(d, NULL, (long)i);
	if (!e || !json_object_is_type(e, json_type_object)) {
		*r = sj_fail(d, "expected object");
		return NULL;
	}
	return e;
}

static int
sj_step_from_name(const char *s)
{
	return state_step_from_name(s);
}

static int
sj_phase_from_name(const char *s)
{
	return state_phase_from_name(s);
}

static int
sj_file(struct sj_dec *d, struct json_object *o, struct state_file *f)
{
	int st = 0, r;

	if ((r = sj_string(d, o, "path", &f->path, true)) < 0 ||
	    (r = sj_bool(d, o, "created", &f->created)) < 0 ||
	    (r = sj_string(d, o, "sha256_before", &f->sha256_before, false)) < 0 ||
	    (r = sj_string(d, o, "sha256_after", &f->sha256_after, false)) < 0 ||
	    (r = sj_string(d, o, "backup", &f->backup, false)) < 0 ||
	    (r = sj_string(d, o, "run_id", &f->run_id, false)) < 0 ||
	    (r = sj_enum(d, o, "status", sj_step_from_name, 0, true, &st)) < 0)
		return r;
	f->status = (enum state_step)st;
	if (f->path[0] != '/' || strstr(f->path, "/../") ||
	    (f->backup && (f->backup[0] != '/' || strstr(f->backup, "/../"))))
		return sj_fail(d, "paths must be absolute, without \"..\"");
	if (!f->created && !f->backup)
		return sj_fail(d, "a file that existed needs a backup");
	return 0;
}

static int
sj_command(struct sj_dec *d, struct json_object *o, struct state_command *c)
{
	int st = 0, r;

	if ((r = sj_strv(d, o, "argv", &c->argv, &c->argc)) < 0 ||
	    (r = sj_string(d, o, "purpose", &c->purpose, false)) < 0 ||
	    (r = sj_string(d, o, "stage", &c->stage, false)) < 0 ||
	    (r = sj_int(d, o, "exit_code", 0, 255, -1, &c->exit_code)) < 0 ||
	    (r = sj_bool(d, o, "timed_out", &c->timed_out)) < 0 ||
	    (r = sj_string(d, o, "output_tail", &c->output_tail, false)) < 0 ||
	    (r = sj_enum(d, o, "status", sj_step_from_name, 0, true, &st)) < 0)
		return r;
	c->status = (enum state_step)st;
	if (!c->argc)
		return sj_fail(d, "argv is empty");
	return 0;
}

static int
sj_device(struct sj_dec *d, struct json_object *o, struct state_device *dev)
{
	int r;

	if ((r = sj_string(d, o, "address", &dev->address, true)) < 0 ||
	    (r = sj_string(d, o, "ids", &dev->ids, false)) < 0 ||
	    (r = sj_string(d, o, "gpu", &dev->gpu, false)) < 0 ||
	    (r = sj_string(d, o, "driver_before", &dev->driver_before, false)) < 0)
		return r;
	return 0;
}

static int
sj_state(struct sj_dec *d, struct json_object *j, struct agent_state *st)
{
	struct json_object *arr, *e;
	size_t n, mark = 0;
	int phase = 0, r;

	if (!json_object_is_type(j, json_type_object))
		return sj_fail(d, "expected an object");
	if ((r = sj_int(d, j, "format", 1, STATE_FORMAT, -1, &st->format)) < 0)
		return r;
	if (st->format < 0)
		return sj_fail(d, "no \"format\" member: not a vfleet state file");
	if ((r = sj_enum(d, j, "phase", sj_phase_from_name, 0, true, &phase)) < 0 ||
	    (r = sj_string(d, j, "run_id", &st->run_id, false)) < 0 ||
	    (r = sj_strv(d, j, "run_ids", &st->run_ids, &st->nrun_ids)) < 0 ||
	    (r = sj_string(d, j, "boot_id", &st->boot_id, false)) < 0 ||
	    (r = sj_string(d, j, "kernel_release", &st->kernel_release, false)) < 0 ||
	    (r = sj_string(d, j, "bootloader", &st->bootloader, false)) < 0 ||
	    (r = sj_string(d, j, "initramfs_tool", &st->initramfs_tool, false)) < 0 ||
	    (r = sj_string(d, j, "binding", &st->binding, false)) < 0 ||
	    (r = sj_string(d, j, "updated", &st->updated, false)) < 0 ||
	    (r = sj_string(d, j, "message", &st->message, false)) < 0 ||
	    (r = sj_strv(d, j, "cmdline_expected", &st->cmdline_expected,
			 &st->ncmdline_expected)) < 0 ||
	    (r = sj_strv(d, j, "modules_expected", &st->modules_expected,
			 &st->nmodules_expected)) < 0 ||
	    (r = sj_strv(d, j, "cmdline_added", &st->cmdline_added,
			 &st->ncmdline_added)) < 0 ||
	    (r = sj_strv(d, j, "cmdline_previous", &st->cmdline_previous,
			 &st->ncmdline_previous)) < 0 ||
	    (r = sj_strv(d, j, "dirs_created", &st->dirs_created,
			 &st->ndirs_created)) < 0)
		return r;
	for (size_t i = 0; i < st->ndirs_created; i++)
		if (st->dirs_created[i][0] != '/' ||
		    strstr(st->dirs_created[i], "/../"))
			return sj_fail(d, "dirs_created: paths must be absolute, "
				       "without \"..\"");
	st->phase = (enum state_phase)phase;

	if ((r = sj_array(d, j, "devices", &arr, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!(e = sj_elem(d, arr, "devices", i, &mark, &r)) ||
		    (r = sj_device(d, e, state_add_device(st))) < 0)
			return r;
		sj_pop(d, mark);
	}
	if ((r = sj_array(d, j, "files", &arr, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!(e = sj_elem(d, arr, "files", i, &mark, &r)) ||
		    (r = sj_file(d, e, state_add_file(st))) < 0)
			return r;
		sj_pop(d, mark);
	}
	if ((r = sj_array(d, j, "commands", &arr, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!(e = sj_elem(d, arr, "commands", i, &mark, &r)) ||
		    (r = sj_command(d, e, state_add_command(st))) < 0)
			return r;
		sj_pop(d, mark);
	}
	return 0;
}

int
state_json_decode(const char *buf, size_t len, struct agent_state *st,
		  struct strbuf *err)
{
	struct sj_dec d = { .err = err, .path = STRBUF_INIT };
	struct json_tokener *tok = NULL;
	struct json_object *j = NULL;
	size_t end;
	int r;

	state_init(st);
	if (memchr(buf, '\0', len)) {
		r = sj_fail(&d, "NUL byte in the file");
		goto out;
	}
	tok = json_tokener_new_ex(64);
	if (!tok) {
		r = -ENOMEM;
		goto out;
	}
	j = json_tokener_parse_ex(tok, buf, (int)len);
	if (!j) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		r = sj_fail(&d, "not valid JSON (%s)", e == json_tokener_continue ?
			    "truncated" : json_tokener_error_desc(e));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	if (end < len && strspn(buf + end, " \t\r\n") != len - end) {
		r = sj_fail(&d, "trailing data after the JSON object");
		goto out;
	}
	r = sj_state(&d, j, st);
out:
	if (r < 0)
		state_release(st);
	json_object_put(j);
	if (tok)
		json_tokener_free(tok);
	strbuf_release(&d.path);
	return r;
}
