/* apply.c: plan, apply, rollback and status (apply.h). */
#include "apply.h"
#include "diff.h"
#include "edit.h"
#include "fileio.h"
#include "initramfs.h"
#include "log.h"
#include "plan.h"
#include "run.h"
#include "sha256.h"
#include "state.h"
#include "sysroot.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- response helpers --- */

void
apply_report_state(const struct agent_state *st, struct proto_response *resp)
{
	struct proto_state *ps;

	free(resp->host.vfio_state);
	resp->host.vfio_state = NULL;
	if (resp->state) {
		/* Rebuild it from scratch: simplest to keep consistent. */
		struct proto_response tmp;

		proto_response_init(&tmp, PROTO_OP_STATUS);
		tmp.state = resp->state;
		resp->state = NULL;
		proto_response_release(&tmp);
	}
	if (!st || st->phase == STATE_PHASE_NONE)
		return;
	resp->host.vfio_state = xstrdup(state_phase_name(st->phase));
	ps = proto_set_state(resp);
	ps->phase = xstrdup(state_phase_name(st->phase));
	ps->run_id = st->run_id ? xstrdup(st->run_id) : NULL;
	ps->boot_id = st->boot_id ? xstrdup(st->boot_id) : NULL;
	ps->updated = st->updated ? xstrdup(st->updated) : NULL;
	ps->message = st->message ? xstrdup(st->message) : NULL;
	ps->binding = st->binding ? xstrdup(st->binding) : NULL;
	for (size_t i = 0; i < st->ndevices; i++)
		proto_strv_add(&ps->devices, &ps->ndevices, st->devices[i].address);
	for (size_t i = 0; i < st->ncmdline_expected; i++)
		proto_strv_add(&ps->cmdline_expected, &ps->ncmdline_expected,
			       st->cmdline_expected[i]);
}

static char *
apply_hex(const struct strbuf *sb)
{
	struct strbuf h = STRBUF_INIT;

	sha256_hex(sb->buf, sb->len, &h);
	return strbuf_detach(&h, NULL);
}

/* A file change entry with the diff from old to new. */
static void
apply_file_change(struct proto_response *resp, const char *path,
		  const struct strbuf *old, bool old_exists,
		  const struct strbuf *new_, bool new_exists)
{
	struct proto_change *ch = proto_add_change(resp);
	struct strbuf d = STRBUF_INIT;

	ch->kind = xstrdup("file");
	ch->target = xstrdup(path);
	diff_unified(path, old->buf, old->len, old_exists, new_->buf, new_->len,
		     new_exists, &d);
	if (d.len > PROTO_TEXT_MAX) {
		strbuf_setlen(&d, PROTO_TEXT_MAX - 64);
		strbuf_addstr(&d, "\n[diff cut at 1 MiB]\n");
	}
	ch->diff = strbuf_detach(&d, NULL);
	ch->sha256_before = old_exists ? apply_hex(old) : NULL;
	ch->sha256_after = new_exists ? apply_hex(new_) : NULL;
	ch->exit_code = -1;
}

/* --- state helpers --- */

static void
apply_strv_merge(char ***v, size_t *n, char *const *add, size_t nadd)
{
	for (size_t i = 0; i < nadd; i++) {
		bool have = false;

		for (size_t k = 0; k < *n; k++)
			have |= strcmp((*v)[k], add[i]) == 0;
		if (!have) {
			*v = xrealloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = xstrdup(add[i]);
		}
	}
}

static void
apply_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

static void
apply_run_id(const struct proto_request *req, struct strbuf *out)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32] = "unknown";

	strbuf_reset(out);
	if (req->run_id) {
		strbuf_addstr(out, req->run_id);
		return;
	}
	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	strbuf_addf(out, "local-%s", stamp);
}

/* Commands an earlier, interrupted run left pending will not finish. */
static void
apply_settle_commands(struct agent_state *st, const char *stage)
{
	for (size_t i = 0; i < st->ncommands; i++) {
		struct state_command *c = &st->commands[i];

		if (c->status != STATE_STEP_PENDING ||
		    (c->stage && strcmp(c->stage, stage) != 0))
			continue;
		c->status = STATE_STEP_FAILED;
		if (!c->output_tail)
			c->output_tail = xstrdup("interrupted: the agent stopped "
						 "before the command finished");
	}
}

static int
apply_load(const char *root, struct agent_state *st,
	   struct proto_response *resp)
{
	struct strbuf err = STRBUF_INIT;
	int r = state_load(root, st, &err);

	if (r == -ENOENT) {
		r = 0;
	} else if (r < 0) {
		proto_add_error(resp, "state-unreadable", STATE_PATH, "%s; "
				"refusing to act on a record that cannot be read "
				"(move it away to start over)", err.buf);
	}
	strbuf_release(&err);
	return r;
}

static int
apply_save(const char *root, struct agent_state *st,
	   struct proto_response *resp)
{
	struct strbuf err = STRBUF_INIT;
	int r = state_save(root, st, &err);

	if (r < 0)
		proto_add_error(resp, "state-write-failed", STATE_PATH, "%s",
				err.buf);
	strbuf_release(&err);
	return r;
}

/* Mark the record failed with message, saving it (best effort). */
static void
apply_fail(const char *root, struct agent_state *st, const char *msg)
{
	st->phase = STATE_PHASE_FAILED;
	apply_set(&st->message, msg);
	if (state_save(root, st, NULL) < 0)
		log_err("cannot record the failure in %s", STATE_PATH);
}

/* --- commands --- */

/*
 * Run pc recorded as state command index ci: pending saved before, result
 * saved after. Adds the change entry. Returns 0 when it succeeded (or is
 * a check), -EIO when it failed, or the state save error.
 */
static int
apply_run(const char *root, struct agent_state *st, size_t ci,
	  const struct plan_cmd *pc, struct proto_response *resp)
{
	struct run_cmd rc = RUN_CMD_INIT;
	struct strbuf all = STRBUF_INIT;
	struct state_command *sc;
	struct proto_change *ch;
	const char *tail;
	int r, ret = 0;

	edit_test_point("command-start");
	rc.argv = (const char *const *)pc->argv;
	rc.timeout_ms = pc->timeout_ms;
	rc.output_max = PROTO_TEXT_MAX;
	r = run_command(&rc);
	strbuf_addstr(&all, rc.out.buf);
	if (rc.err.len) {
		if (all.len && all.buf[all.len - 1] != '\n')
			strbuf_addch(&all, '\n');
		strbuf_addstr(&all, rc.err.buf);
	}
	if (r < 0)
		strbuf_addf(&all, "cannot run %s: %s\n", pc->argv[0], strerror(-r));
	if (rc.timed_out)
		strbuf_addf(&all, "killed after %d s\n", pc->timeout_ms / 1000);
	tail = all.buf;
	if (all.len > STATE_OUTPUT_TAIL_MAX)
		tail = all.buf + all.len - STATE_OUTPUT_TAIL_MAX;

	sc = &st->commands[ci];
	sc->exit_code = rc.exit_code;
	sc->timed_out = rc.timed_out;
	free(sc->output_tail);
	sc->output_tail = xstrdup(tail);
	sc->status = r == 0 && rc.exit_code == 0 && !rc.timed_out ?
		     STATE_STEP_DONE : STATE_STEP_FAILED;
	if (pc->check)
		sc->status = STATE_STEP_DONE;	/* a check never blocks */

	ch = proto_add_change(resp);
	ch->kind = xstrdup("command");
	ch->target = xstrdup(pc->display);
	ch->exit_code = rc.exit_code >= 0 && rc.exit_code <= 255 ?
			rc.exit_code : -1;
	ch->output_tail = xstrdup(tail);

	if (pc->check) {
		if (r < 0 || rc.exit_code != 0) {
			struct proto_finding *f = proto_add_finding(resp,
				PROTO_SEV_WARNING, "initramfs-check-failed", NULL,
				"Could not list the initramfs (%s exited %d): "
				"check by hand that it holds vfio_pci",
				pc->display, rc.exit_code);

			proto_finding_add_evidence(f, "%s", pc->display);
		} else {
			struct strbuf miss = STRBUF_INIT;

			for (size_t i = 0; i < pc->ncheck_modules; i++)
				if (!initramfs_listing_has(rc.out.buf,
							   pc->check_modules[i]))
					strbuf_addf(&miss, "%s%s", miss.len ? ", " : "",
						    pc->check_modules[i]);
			if (miss.len) {
				struct proto_finding *f = proto_add_finding(resp,
					PROTO_SEV_WARNING, "initramfs-missing-vfio",
					NULL, "The rebuilt initramfs lacks %s: "
					"vfio-pci will load too late to claim the "
					"GPU before its driver does", miss.buf);

				proto_finding_add_evidence(f, "%s: no %s",
							   pc->display, miss.buf);
			}
			strbuf_release(&miss);
		}
	} else if (sc->status == STATE_STEP_FAILED) {
		proto_add_error(resp, "command-failed", NULL, "%s %s%s",
				pc->display, r < 0 ? "could not be started: " :
				rc.timed_out ? "timed out" : "failed",
				r < 0 ? strerror(-r) : "");
		ret = -EIO;
	}
	r = apply_save(root, st, resp);
	if (r < 0 && !ret)
		ret = r;
	edit_test_point("command-done");
	strbuf_release(&all);
	run_cmd_release(&rc);
	return ret;
}

/* Record pc as a pending command of stage; returns its index. */
static size_t
apply_note_cmd(struct agent_state *st, const struct plan_cmd *pc,
	       const char *stage)
{
	struct state_command *sc = state_add_command(st);

	for (size_t i = 0; i < pc->argc; i++)
		proto_strv_add(&sc->argv, &sc->argc, pc->argv[i]);
	sc->purpose = xstrdup(pc->purpose);
	sc->stage = xstrdup(stage);
	sc->status = STATE_STEP_PENDING;
	return st->ncommands - 1;
}

/* --- plan --- */

int
apply_plan(const char *root, const struct proto_request *req,
	   struct proto_response *resp)
{
	struct agent_state st;
	struct plan p;
	int r;

	state_init(&st);
	r = apply_load(root, &st, resp);
	if (r < 0)
		goto out;
	r = plan_build(root, req, resp, &st, &p);
	if (r == 0) {
		plan_report(&p, resp);
		resp->changed = !plan_is_empty(&p);
	}
	plan_release(&p);
	apply_report_state(&st, resp);
out:
	state_release(&st);
	return r;
}

/* --- apply --- */

/* Pending files of an interrupted run that the new plan does not touch:
 * done when they hold what was intended, else never written. */
static void
apply_settle_orphans(const char *root, struct agent_state *st,
		     const struct plan *p)
{
	struct strbuf cur = STRBUF_INIT, hex = STRBUF_INIT;

	for (size_t i = 0; i < st->nfiles; i++) {
		struct state_file *f = &st->files[i];
		bool planned = false;
		int r;

		if (f->status != STATE_STEP_PENDING)
			continue;
		for (size_t k = 0; k < p->nfiles; k++)
			planned |= strcmp(p->files[k].path, f->path) == 0;
		if (planned)
			continue;
		r = edit_read(root, f->path, &cur);
		if (r == 0)
			sha256_hex(cur.buf, cur.len, &hex);
		if (r == 0 && f->sha256_after && !strcmp(hex.buf, f->sha256_after))
			f->status = STATE_STEP_DONE;
		else
			f->status = STATE_STEP_RESTORED;
	}
	strbuf_release(&cur);
	strbuf_release(&hex);
}

/* Fill the record's facts for this run. */
static void
apply_record(struct agent_state *st, const char *run_id, const struct plan *p,
	     const struct proto_response *resp)
{
	char *one[1] = { (char *)run_id };

	apply_set(&st->run_id, run_id);
	apply_strv_merge(&st->run_ids, &st->nrun_ids, one, 1);
	apply_set(&st->boot_id, resp->host.boot_id);
	apply_set(&st->kernel_release, resp->host.kernel_release);
	apply_set(&st->bootloader, resp->host.bootloader);
	apply_set(&st->initramfs_tool, resp->host.initramfs_tool);
	apply_set(&st->binding, p->binding);
	apply_set(&st->message, NULL);
	for (size_t i = 0; i < p->sel.ndevs; i++) {
		const struct select_dev *d = &p->sel.devs[i];
		struct state_device *sd = NULL;
		char ids[16];

		for (size_t k = 0; k < st->ndevices; k++)
			if (strcmp(st->devices[k].address, d->address) == 0)
				sd = &st->devices[k];
		if (sd)
			continue;
		sd = state_add_device(st);
		snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor_id, d->device_id);
		sd->address = xstrdup(d->address);
		sd->ids = xstrdup(ids);
		sd->gpu = xstrdup(d->gpu);
		sd->driver_before = d->driver ? xstrdup(d->driver) : NULL;
	}
	apply_strv_merge(&st->cmdline_expected, &st->ncmdline_expected,
			 p->cmdline_expected, p->ncmdline_expected);
	apply_strv_merge(&st->cmdline_added, &st->ncmdline_added,
			 p->cmdline_added, p->ncmdline_added);
	apply_strv_merge(&st->cmdline_previous, &st->ncmdline_previous,
			 p->cmdline_previous, p->ncmdline_previous);
	apply_strv_merge(&st->modules_expected, &st->nmodules_expected,
			 p->modules_expected, p->nmodules_expected);
}

int
apply_apply(const char *root, const struct proto_request *req,
	    struct proto_response *resp)
{
	struct strbuf run_id = STRBUF_INIT, err = STRBUF_INIT;
	struct agent_state st;
	struct edit_ctx ec = { .root = root, .err = &err };
	struct plan p;
	size_t *ci = NULL;
	int r;

	memset(&p, 0, sizeof(p));
	state_init(&st);
	r = apply_load(root, &st, resp);
	if (r < 0)
		goto out;
	if (st.phase == STATE_PHASE_ROLLING_BACK) {
		proto_add_error(resp, "rollback-unfinished", STATE_PATH,
				"A rollback (run %s) did not finish; run rollback "
				"again before applying", st.run_id ? st.run_id : "?");
		r = -EBUSY;
		goto out;
	}
	r = plan_build(root, req, resp, &st, &p);
	if (r < 0)
		goto out;
	if (plan_is_empty(&p)) {
		/* Nothing to do; a crashed run may still need settling. */
		if (st.phase == STATE_PHASE_PLANNED ||
		    st.phase == STATE_PHASE_APPLYING) {
			apply_settle_orphans(root, &st, &p);
			apply_settle_commands(&st, "apply");
			st.phase = STATE_PHASE_APPLIED;
			r = apply_save(root, &st, resp);
		}
		goto out;
	}
	apply_run_id(req, &run_id);
	if (st.phase == STATE_PHASE_NONE || st.phase == STATE_PHASE_ROLLED_BACK) {
		/* A new record; the old one's backups stay on disk. */
		state_release(&st);
	}
	apply_record(&st, run_id.buf, &p, resp);
	apply_settle_orphans(root, &st, &p);
	apply_settle_commands(&st, "apply");
	st.phase = STATE_PHASE_PLANNED;

	/* Intent: backups written and every step recorded as pending. */
	ec.run_id = run_id.buf;
	ec.st = &st;
	for (size_t i = 0; i < p.nfiles; i++) {
		const struct plan_file *f = &p.files[i];

		r = edit_prepare(&ec, f->path, f->want.buf, f->want.len);
		if (r < 0) {
			proto_add_error(resp, "backup-failed", f->path, "%s; "
					"nothing was changed", err.buf);
			goto out;
		}
	}
	ci = xcalloc(p.ncmds + 1, sizeof(*ci));
	for (size_t i = 0; i < p.ncmds; i++)
		ci[i] = apply_note_cmd(&st, &p.cmds[i], "apply");
	r = apply_save(root, &st, resp);
	if (r < 0)
		goto out;
	edit_test_point("intent-saved");

	st.phase = STATE_PHASE_APPLYING;
	resp->changed = true;
	for (size_t i = 0; i < p.nfiles; i++) {
		const struct plan_file *f = &p.files[i];

		strbuf_reset(&err);
		r = edit_commit(&ec, f->path, f->want.buf, f->want.len, f->mode);
		if (r < 0) {
			proto_add_error(resp, "edit-failed", f->path, "%s",
					err.buf);
			apply_fail(root, &st, err.buf);
			goto out;
		}
		apply_file_change(resp, f->path, &f->old, f->exists, &f->want,
				  true);
	}
	for (size_t i = 0; i < p.ncmds; i++) {
		r = apply_run(root, &st, ci[i], &p.cmds[i], resp);
		if (r < 0) {
			struct strbuf m = STRBUF_INIT;

			strbuf_addf(&m, "%s failed; fix the cause and run apply "
				    "again (it resumes), or roll back",
				    p.cmds[i].display);
			apply_fail(root, &st, m.buf);
			strbuf_release(&m);
			goto out;
		}
	}
	st.phase = STATE_PHASE_APPLIED;
	r = apply_save(root, &st, resp);
	if (r == 0)
		edit_test_point("applied");
out:
	apply_report_state(&st, resp);
	free(ci);
	plan_release(&p);
	state_release(&st);
	strbuf_release(&run_id);
	strbuf_release(&err);
	return r;
}

/* --- rollback --- */

int
apply_rollback(const char *root, const struct proto_request *req,
	       struct proto_response *resp)
{
	struct strbuf err = STRBUF_INIT, cur = STRBUF_INIT, bak = STRBUF_INIT;
	struct agent_state st;
	struct edit_ctx ec = { .root = root, .err = &err, .st = &st };
	struct plan p;
	size_t *ci = NULL;
	bool failed = false;
	int r;

	memset(&p, 0, sizeof(p));
	state_init(&st);
	r = apply_load(root, &st, resp);
	if (r < 0)
		goto out;
	if (st.phase == STATE_PHASE_NONE) {
		proto_add_finding(resp, PROTO_SEV_INFO, "nothing-to-roll-back",
				  NULL, "No vfleet record on this host (%s): "
				  "nothing to roll back", STATE_PATH);
		goto out;
	}
	if (st.phase == STATE_PHASE_ROLLED_BACK)
		goto out;
	if (req->run_id) {
		bool known = false;

		for (size_t i = 0; i < st.nrun_ids; i++)
			known |= strcmp(st.run_ids[i], req->run_id) == 0;
		if (!known) {
			proto_add_error(resp, "run-id-unknown", STATE_PATH,
					"Run %s is not part of this host's record "
					"(runs: %s%s)", req->run_id,
					st.nrun_ids ? st.run_ids[0] : "none",
					st.nrun_ids > 1 ? " ..." : "");
			r = -ENOENT;
			goto out;
		}
	}
	ec.run_id = st.run_id ? st.run_id : "unknown";
	apply_settle_commands(&st, "rollback");
	apply_settle_commands(&st, "apply");
	plan_rollback_cmds(root, &req->policy, resp, &st, &p);
	ci = xcalloc(p.ncmds + 1, sizeof(*ci));
	for (size_t i = 0; i < p.ncmds; i++)
		ci[i] = apply_note_cmd(&st, &p.cmds[i], "rollback");
	st.phase = STATE_PHASE_ROLLING_BACK;
	r = apply_save(root, &st, resp);
	if (r < 0)
		goto out;
	edit_test_point("rollback-intent-saved");

	for (size_t i = st.nfiles; i-- > 0;) {
		struct state_file *f = &st.files[i];
		bool cur_exists, bak_exists = false;

		if (f->status == STATE_STEP_RESTORED)
			continue;
		cur_exists = edit_read(root, f->path, &cur) == 0;
		strbuf_reset(&bak);
		if (f->backup)
			bak_exists = edit_read(root, f->backup, &bak) == 0;
		strbuf_reset(&err);
		r = edit_restore(&ec, f);
		if (r < 0) {
			proto_add_error(resp, r == -ESTALE ? "restore-conflict" :
					"restore-failed", f->path, "%s", err.buf);
			failed = true;
			continue;
		}
		if (r > 0) {
			resp->changed = true;
			apply_file_change(resp, f->path, &cur, cur_exists, &bak,
					  !f->created && bak_exists);
		}
		r = apply_save(root, &st, resp);
		if (r < 0)
			goto out;
		edit_test_point("file-restored");
	}
	if (edit_remove_dirs(&ec) > 0)
		resp->changed = true;
	for (size_t i = 0; i < p.ncmds && !failed; i++) {
		resp->changed = true;
		r = apply_run(root, &st, ci[i], &p.cmds[i], resp);
		if (r < 0)
			failed = true;
	}
	if (failed) {
		apply_fail(root, &st, "rollback did not complete; see the "
			   "errors, fix them and run rollback again");
		r = -EIO;
		goto out;
	}
	st.phase = STATE_PHASE_ROLLED_BACK;
	apply_set(&st.message, NULL);
	r = apply_save(root, &st, resp);
	if (r == 0)
		edit_test_point("rolled-back");
out:
	apply_report_state(&st, resp);
	free(ci);
	plan_release(&p);
	state_release(&st);
	strbuf_release(&err);
	strbuf_release(&cur);
	strbuf_release(&bak);
	return r;
}

/* --- status --- */

int
apply_status(const char *root, const struct proto_request *req,
	     struct proto_response *resp)
{
	struct strbuf path = STRBUF_INIT, v = STRBUF_INIT;
	struct agent_state st;
	int r;

	(void)req;
	/* The few facts a reboot changes, read directly: no discovery. */
	sysroot_path(&path, root, "/proc/sys/kernel/random/boot_id");
	if (fileio_read_attr(path.buf, &v) == 0)
		apply_set(&resp->host.boot_id, v.buf);
	sysroot_path(&path, root, "/proc/sys/kernel/hostname");
	if (fileio_read_attr(path.buf, &v) == 0)
		apply_set(&resp->host.hostname, v.buf);
	sysroot_path(&path, root, "/proc/sys/kernel/osrelease");
	if (fileio_read_attr(path.buf, &v) == 0)
		apply_set(&resp->host.kernel_release, v.buf);
	sysroot_path(&path, root, "/proc/cmdline");
	if (fileio_read_attr(path.buf, &v) == 0)
		apply_set(&resp->host.cmdline, v.buf);
	state_init(&st);
	r = apply_load(root, &st, resp);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < st.nfiles; i++) {
		struct proto_change *ch = proto_add_change(resp);
		const struct state_file *f = &st.files[i];

		ch->kind = xstrdup("file");
		ch->target = xstrdup(f->path);
		ch->sha256_before = f->sha256_before ? xstrdup(f->sha256_before) :
				    NULL;
		ch->sha256_after = f->sha256_after ? xstrdup(f->sha256_after) :
				   NULL;
		ch->exit_code = -1;
	}
	for (size_t i = 0; i < st.ncommands; i++) {
		const struct state_command *c = &st.commands[i];
		struct proto_change *ch = proto_add_change(resp);
		struct strbuf t = STRBUF_INIT;

		for (size_t k = 0; k < c->argc; k++)
			strbuf_addf(&t, "%s%s", k ? " " : "", c->argv[k]);
		ch->kind = xstrdup("command");
		ch->target = strbuf_detach(&t, NULL);
		ch->exit_code = c->exit_code;
		ch->output_tail = c->output_tail ? xstrdup(c->output_tail) : NULL;
	}
out:
	apply_report_state(&st, resp);
	state_release(&st);
	strbuf_release(&path);
	strbuf_release(&v);
	return r;
}
