/* test_apply: plan/apply/rollback/status in process, on copies of the
 * fixture shapes: refusals, resume after a failed command, records that
 * cannot be trusted, and the cases the golden test does not reach. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scratch.h"

#include "apply.h"
#include "edit.h"
#include "findings.h"
#include "host.h"
#include "pci.h"
#include "proto.h"
#include "select.h"
#include "state.h"
#include "strbuf.h"
#include "sysroot.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/sysroot"
#endif

struct tree {
	char dir[64];
	char root[128];
};

static int
setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/vfleet-apply.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tree *t = *state;

	if (scratch_remove(t->dir) != 0)
		return -1;
	free(t);
	return 0;
}

/* cp -a the shape into the tree (tests never touch the fixtures). */
static const char *
shape(struct tree *t, const char *name)
{
	char cmd[512];

	snprintf(t->root, sizeof(t->root), "%s/%s", t->dir, name);
	snprintf(cmd, sizeof(cmd), "cp -a '%s/%s' '%s'", FIXTURES, name, t->root);
	assert_int_equal(system(cmd), 0);
	return t->root;
}

static void
req_init(struct proto_request *req, enum proto_op op, const char *root,
	 const char *run_id)
{
	proto_request_init(req, op);
	req->root = strdup(root);
	req->run_id = run_id ? strdup(run_id) : NULL;
}

/* Discovery as the facts op does it, then the operation. */
static int
run(const struct proto_request *req, struct proto_response *resp)
{
	proto_response_init(resp, req->op);
	if (req->op == PROTO_OP_PLAN || req->op == PROTO_OP_APPLY) {
		host_discover(req->root, resp);
		pci_discover(req->root, resp);
		findings_evaluate(req->root, resp);
	}
	switch (req->op) {
	case PROTO_OP_PLAN:
		return apply_plan(req->root, req, resp);
	case PROTO_OP_APPLY:
		return apply_apply(req->root, req, resp);
	case PROTO_OP_ROLLBACK:
		return apply_rollback(req->root, req, resp);
	default:
		return apply_status(req->root, req, resp);
	}
}

static bool
has_error(const struct proto_response *resp, const char *code)
{
	for (size_t i = 0; i < resp->nerrors; i++)
		if (strcmp(resp->errors[i].code, code) == 0)
			return true;
	return false;
}

static char *
get(const char *root, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	if (edit_read(root, rel, &sb) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static void
put(const char *root, const char *rel, const char *text)
{
	struct strbuf p = STRBUF_INIT;

	sysroot_path(&p, root, rel);
	assert_int_equal(edit_write_atomic(p.buf, text, strlen(text), 0644), 0);
	strbuf_release(&p);
}

static void
test_refusals_change_nothing(void **state)
{
	struct tree *t = *state;
	const char *root = shape(t, "shared-group");
	struct proto_request req;
	struct proto_response resp;
	char *before = get(root, "/etc/default/grub"), *after;

	req_init(&req, PROTO_OP_APPLY, root, "r1");
	assert_int_equal(run(&req, &resp), -EPERM);
	assert_false(resp.ok);
	assert_false(resp.changed);
	assert_true(has_error(&resp, "preflight-group-not-viable"));
	assert_null(resp.state);
	after = get(root, "/etc/default/grub");
	assert_string_equal(before, after);
	assert_null(get(root, STATE_PATH));
	proto_response_release(&resp);

	/* A selector that matches nothing; the BMC chosen explicitly. */
	proto_strv_add(&req.policy.select, &req.policy.nselect, "1002");
	assert_int_equal(run(&req, &resp), -ENOENT);
	assert_true(has_error(&resp, "select-no-match"));
	proto_response_release(&resp);
	proto_request_release(&req);

	root = shape(t, "amd-radeon");
	req_init(&req, PROTO_OP_PLAN, root, NULL);
	proto_strv_add(&req.policy.select, &req.policy.nselect, "0000:05:00.0");
	assert_int_equal(run(&req, &resp), -EPERM);
	assert_true(has_error(&resp, "preflight-only-display"));
	assert_int_equal(resp.nchanges, 0);
	proto_response_release(&resp);
	/* Selecting the audio function selects its GPU. */
	proto_strv_free(req.policy.select, req.policy.nselect);
	req.policy.select = NULL;
	req.policy.nselect = 0;
	proto_strv_add(&req.policy.select, &req.policy.nselect, "0000:03:00.1");
	assert_int_equal(run(&req, &resp), 0);
	assert_true(resp.changed);
	assert_true(resp.nchanges > 0);
	proto_response_release(&resp);
	proto_request_release(&req);
	free(before);
	free(after);
}

static void
test_failed_command_resumes(void **state)
{
	struct tree *t = *state;
	const char *root = shape(t, "amd-radeon");
	struct proto_request req;
	struct proto_response resp;
	struct agent_state st;
	char *log;

	req_init(&req, PROTO_OP_APPLY, root, "r1");
	proto_strv_add(&req.policy.cmd_initramfs, &req.policy.ncmd_initramfs,
		       "/bin/false");
	assert_int_equal(run(&req, &resp), -EIO);
	assert_true(has_error(&resp, "command-failed"));
	assert_string_equal(resp.host.vfio_state, "failed");
	assert_true(resp.changed);
	proto_response_release(&resp);
	/* The files are written; the rebuild and update-grub are owed. */
	state_init(&st);
	assert_int_equal(state_load(root, &st, NULL), 0);
	assert_int_equal(st.phase, STATE_PHASE_FAILED);
	assert_int_equal(st.commands[0].exit_code, 1);
	assert_int_equal(st.commands[1].status, STATE_STEP_PENDING);
	state_release(&st);

	/* apply again (the host's tool now): nothing to edit, but it runs
	 * what the failed run owed. */
	proto_strv_free(req.policy.cmd_initramfs, req.policy.ncmd_initramfs);
	req.policy.cmd_initramfs = NULL;
	req.policy.ncmd_initramfs = 0;
	free(req.run_id);
	req.run_id = strdup("r2");
	assert_int_equal(run(&req, &resp), 0);
	assert_true(resp.ok);
	assert_string_equal(resp.host.vfio_state, "applied-pending-reboot");
	log = get(root, "/var/log/vfleet-fixture-tools.log");
	assert_non_null(strstr(log, "update-initramfs -u -k all\nlsinitramfs "));
	assert_non_null(strstr(log, "update-grub"));
	free(log);
	proto_response_release(&resp);
	/* And then it is done. */
	assert_int_equal(run(&req, &resp), 0);
	assert_false(resp.changed);
	proto_response_release(&resp);

	/* rollback: a run id that is not in the record is refused. */
	proto_request_release(&req);
	req_init(&req, PROTO_OP_ROLLBACK, root, "nope");
	assert_int_equal(run(&req, &resp), -ENOENT);
	assert_true(has_error(&resp, "run-id-unknown"));
	proto_response_release(&resp);
	free(req.run_id);
	req.run_id = strdup("r1");
	assert_int_equal(run(&req, &resp), 0);
	assert_string_equal(resp.host.vfio_state, "rolled-back");
	proto_response_release(&resp);
	proto_request_release(&req);
}

static void
test_untrusted_record(void **state)
{
	struct tree *t = *state;
	const char *root = shape(t, "vfio-builtin");
	struct proto_request req;
	struct proto_response resp;
	struct strbuf dir = STRBUF_INIT;
	char *grub;

	sysroot_path(&dir, root, STATE_DIR);
	assert_int_equal(edit_mkdir_p(dir.buf, 0700), 0);
	strbuf_release(&dir);
	put(root, STATE_PATH, "{\"format\":1,\"phase\":\"applied-pending-reboot\","
	    "\"files\":[{\"path\":\"/etc/default/grub\",\"status\":\"done\"}]}");
	req_init(&req, PROTO_OP_APPLY, root, "r1");
	assert_int_equal(run(&req, &resp), -EPROTO);
	assert_true(has_error(&resp, "state-unreadable"));
	assert_false(resp.changed);
	proto_response_release(&resp);
	proto_request_release(&req);
	req_init(&req, PROTO_OP_ROLLBACK, root, NULL);
	assert_int_equal(run(&req, &resp), -EPROTO);
	proto_response_release(&resp);
	proto_request_release(&req);
	grub = get(root, "/etc/default/grub");
	assert_null(strstr(grub, "vfio-pci.ids"));
	free(grub);

	/* An unfinished rollback must be finished before applying again. */
	put(root, STATE_PATH, "{\"format\":1,\"phase\":\"rolling-back\","
	    "\"run_id\":\"r0\"}");
	req_init(&req, PROTO_OP_APPLY, root, "r1");
	assert_int_equal(run(&req, &resp), -EBUSY);
	assert_true(has_error(&resp, "rollback-unfinished"));
	proto_response_release(&resp);
	proto_request_release(&req);

	/* status answers with the record and the boot id, no discovery. */
	req_init(&req, PROTO_OP_STATUS, root, NULL);
	assert_int_equal(run(&req, &resp), 0);
	assert_string_equal(resp.host.vfio_state, "rolling-back");
	assert_non_null(resp.host.boot_id);
	assert_int_equal(resp.nfuncs, 0);
	assert_string_equal(resp.state->run_id, "r0");
	proto_response_release(&resp);
	proto_request_release(&req);
}

static void
test_grub_d_and_no_bootloader(void **state)
{
	struct tree *t = *state;
	const char *root = shape(t, "amd-radeon");
	struct proto_request req;
	struct proto_response resp;
	struct strbuf p = STRBUF_INIT;

	/* The grub.d file decides, and it cannot be edited safely. */
	put(root, "/etc/default/grub.d/50-cloudimg-settings.cfg",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"$(cat /etc/cmdline)\"\n");
	req_init(&req, PROTO_OP_APPLY, root, "r1");
	assert_int_equal(run(&req, &resp), -EINVAL);
	assert_true(has_error(&resp, "grub-uneditable"));
	assert_null(get(root, STATE_PATH));
	proto_response_release(&resp);

	/* No bootloader vfleet knows, while parameters are needed. */
	sysroot_path(&p, root, "/usr/sbin/update-grub");
	unlink(p.buf);
	sysroot_path(&p, root, "/usr/sbin/grub-mkconfig");
	unlink(p.buf);
	assert_int_equal(run(&req, &resp), -EPERM);
	assert_true(has_error(&resp, "preflight-unsupported"));
	proto_response_release(&resp);
	proto_request_release(&req);
	strbuf_release(&p);
}

static void
test_nothing_selected(void **state)
{
	struct tree *t = *state;
	const char *root = shape(t, "boot-vga-only");
	struct proto_request req;
	struct proto_response resp;
	bool noted = false;

	req_init(&req, PROTO_OP_APPLY, root, "r1");
	assert_int_equal(run(&req, &resp), 0);
	assert_true(resp.ok);
	assert_false(resp.changed);
	for (size_t i = 0; i < resp.nfindings; i++)
		noted |= strcmp(resp.findings[i].code, "nothing-selected") == 0 &&
			 resp.findings[i].nevidence == 1;
	assert_true(noted);
	/* Nothing done: no record either. */
	assert_null(get(root, STATE_PATH));
	proto_response_release(&resp);
	proto_request_release(&req);
	req_init(&req, PROTO_OP_ROLLBACK, root, NULL);
	assert_int_equal(run(&req, &resp), 0);
	assert_false(resp.changed);
	proto_response_release(&resp);
	proto_request_release(&req);
}

/* The message of the "nvidia is in use" refusal, or NULL. */
static const char *
nvidia_in_use(const struct proto_response *resp)
{
	for (size_t i = 0; i < resp->nerrors; i++)
		if (strcmp(resp->errors[i].code, "preflight-driver-in-use") == 0 &&
		    strstr(resp->errors[i].message, "(/proc/modules: nvidia has"))
			return resp->errors[i].message;
	return NULL;
}

/* The refcount column of /proc/modules: only a whole number counts. */
static void
test_module_refcount(void **state)
{
	static const struct {
		const char *line;	/* nvidia's line in /proc/modules */
		const char *users;	/* "has N users" expected, NULL: no refusal */
	} cases[] = {
		{ "nvidia 56545280 184 nvidia_uvm, Live 0x0 (POE)", "has 184 users" },
		{ "nvidia\t56545280\t7\t- Live 0x0", "has 7 users" },
		{ "nvidia 56545280 0 - Live 0x0 (POE)", NULL },
		/* a kernel without module unloading knows no count */
		{ "nvidia 56545280 - - Live 0x0", NULL },
		{ "nvidia 56545280 18x4 - Live 0x0", NULL },
		{ "nvidia 56545280 -3 - Live 0x0", NULL },
		{ "nvidia 56545280 99999999999 - Live 0x0", NULL },
		{ "nvidia 56545280", NULL },
		{ "nvidia-peermem 1 5 - Live 0x0", NULL },
	};
	struct tree *t = *state;
	const char *root = shape(t, "two-identical-nvidia");
	struct strbuf text = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_request req;
		struct proto_response resp;
		const char *m;

		strbuf_reset(&text);
		strbuf_addf(&text, "nvidia_uvm 1437696 0 - Live 0x0 (POE)\n%s\n"
			    "snd_hda_codec_hdmi 77824 2 - Live 0x0\n",
			    cases[i].line);
		put(root, "/proc/modules", text.buf);
		req_init(&req, PROTO_OP_PLAN, root, NULL);
		run(&req, &resp);
		m = nvidia_in_use(&resp);
		if (cases[i].users) {
			assert_non_null(m);
			assert_non_null(strstr(m, cases[i].users));
		} else if (m) {
			fail_msg("'%s': refused: %s", cases[i].line, m);
		}
		proto_response_release(&resp);
		proto_request_release(&req);
	}
	strbuf_release(&text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals_change_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_command_resumes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grub_d_and_no_bootloader,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_selected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_module_refcount, setup,
						teardown),
	};

	unsetenv("VFLEET_TEST_KILL_AT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
