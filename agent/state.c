/* state.c: load/save ROOT/var/lib/vfleet/state.json and the model helpers.
 * The JSON itself is protocol/state_json.c. */
#include "state.h"
#include "edit.h"
#include "fileio.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A state file is a few KiB; anything this large is not ours. */
#define STATE_FILE_MAX (4u << 20)

static const char *const state_phase_names[STATE_PHASE__COUNT] = {
	[STATE_PHASE_NONE] = "none",
	[STATE_PHASE_PLANNED] = "planned",
	[STATE_PHASE_APPLYING] = "applying",
	[STATE_PHASE_APPLIED] = "applied-pending-reboot",
	[STATE_PHASE_VERIFIED] = "verified",
	[STATE_PHASE_FAILED] = "failed",
	[STATE_PHASE_ROLLING_BACK] = "rolling-back",
	[STATE_PHASE_ROLLED_BACK] = "rolled-back",
};

static const char *const state_step_names[STATE_STEP__COUNT] = {
	[STATE_STEP_PENDING] = "pending",
	[STATE_STEP_DONE] = "done",
	[STATE_STEP_FAILED] = "failed",
	[STATE_STEP_RESTORED] = "restored",
};

const char *
state_phase_name(enum state_phase phase)
{
	return (unsigned)phase < STATE_PHASE__COUNT ?
		state_phase_names[phase] : "none";
}

int
state_phase_from_name(const char *name)
{
	for (int i = 0; name && i < STATE_PHASE__COUNT; i++)
		if (strcmp(state_phase_names[i], name) == 0)
			return i;
	return -1;
}

const char *
state_step_name(enum state_step step)
{
	return (unsigned)step < STATE_STEP__COUNT ?
		state_step_names[step] : "pending";
}

int
state_step_from_name(const char *name)
{
	for (int i = 0; name && i < STATE_STEP__COUNT; i++)
		if (strcmp(state_step_names[i], name) == 0)
			return i;
	return -1;
}

void
state_init(struct agent_state *st)
{
	memset(st, 0, sizeof(*st));
	st->format = STATE_FORMAT;
	st->phase = STATE_PHASE_NONE;
}

static void
state_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
state_release(struct agent_state *st)
{
	free(st->run_id);
	state_strv_free(st->run_ids, st->nrun_ids);
	free(st->boot_id);
	free(st->kernel_release);
	free(st->bootloader);
	free(st->initramfs_tool);
	free(st->binding);
	free(st->updated);
	free(st->message);
	for (size_t i = 0; i < st->ndevices; i++) {
		free(st->devices[i].address);
		free(st->devices[i].ids);
		free(st->devices[i].gpu);
		free(st->devices[i].driver_before);
	}
	free(st->devices);
	state_strv_free(st->cmdline_expected, st->ncmdline_expected);
	state_strv_free(st->modules_expected, st->nmodules_expected);
	state_strv_free(st->cmdline_added, st->ncmdline_added);
	state_strv_free(st->cmdline_previous, st->ncmdline_previous);
	state_strv_free(st->dirs_created, st->ndirs_created);
	for (size_t i = 0; i < st->nfiles; i++) {
		free(st->files[i].path);
		free(st->files[i].sha256_before);
		free(st->files[i].sha256_after);
		free(st->files[i].backup);
		free(st->files[i].run_id);
	}
	free(st->files);
	for (size_t i = 0; i < st->ncommands; i++) {
		state_strv_free(st->commands[i].argv, st->commands[i].argc);
		free(st->commands[i].purpose);
		free(st->commands[i].stage);
		free(st->commands[i].output_tail);
	}
	free(st->commands);
	state_init(st);
}

struct state_file *
state_add_file(struct agent_state *st)
{
	struct state_file *f;

	st->files = xrealloc(st->files, (st->nfiles + 1) * sizeof(*st->files));
	f = &st->files[st->nfiles++];
	memset(f, 0, sizeof(*f));
	return f;
}

struct state_command *
state_add_command(struct agent_state *st)
{
	struct state_command *c;

	st->commands = xrealloc(st->commands,
				(st->ncommands + 1) * sizeof(*st->commands));
	c = &st->commands[st->ncommands++];
	memset(c, 0, sizeof(*c));
	c->exit_code = -1;
	return c;
}

struct state_device *
state_add_device(struct agent_state *st)
{
	struct state_device *d;

	st->devices = xrealloc(st->devices,
			       (st->ndevices + 1) * sizeof(*st->devices));
	d = &st->devices[st->ndevices++];
	memset(d, 0, sizeof(*d));
	return d;
}

struct state_file *
state_find_file(const struct agent_state *st, const char *path)
{
	for (size_t i = 0; i < st->nfiles; i++)
		if (strcmp(st->files[i].path, path) == 0)
			return &st->files[i];
	return NULL;
}

int
state_load(const char *root, struct agent_state *st, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	int r;

	state_release(st);
	sysroot_path(&path, root, STATE_PATH);
	r = strbuf_read_file(&buf, path.buf, STATE_FILE_MAX);
	if (r == -ENOENT)
		goto out;
	if (r < 0) {
		if (err)
			strbuf_addf(err, "%s: %s", STATE_PATH, r == -EFBIG ?
				    "larger than 4 MiB, not a vfleet state" :
				    strerror(-r));
		goto out;
	}
	if (err)
		strbuf_addf(err, "%s: ", STATE_PATH);
	r = state_json_decode(buf.buf, buf.len, st, err);
	if (r == 0 && err)
		strbuf_setlen(err, err->len - strlen(STATE_PATH) - 2);
out:
	strbuf_release(&path);
	strbuf_release(&buf);
	return r;
}

int
state_save(const char *root, struct agent_state *st, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, out = STRBUF_INIT;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int r;

	if (gmtime_r(&now, &tm) &&
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		free(st->updated);
		st->updated = xstrdup(stamp);
	}
	sysroot_path(&path, root, STATE_DIR);
	r = edit_mkdir_p(path.buf, 0700);
	if (r < 0) {
		if (err)
			strbuf_addf(err, "%s: %s", STATE_DIR, strerror(-r));
		goto out;
	}
	r = state_json_encode(st, &out);
	if (r < 0) {
		if (err)
			strbuf_addf(err, "%s: cannot encode: %s", STATE_PATH,
				    strerror(-r));
		goto out;
	}
	sysroot_path(&path, root, STATE_PATH);
	r = edit_write_atomic(path.buf, out.buf, out.len, 0600);
	if (r < 0 && err)
		strbuf_addf(err, "%s: %s", STATE_PATH, strerror(-r));
out:
	strbuf_release(&path);
	strbuf_release(&out);
	return r;
}
