/* test_regress_proto: inputs fuzz/fuzz_proto_request and
 * fuzz/fuzz_proto_response found that broke the codec. The reproducers
 * stay in fuzz/corpus/<target>/. (Kept apart from test_proto.c: these
 * messages are not JSON json-c would reject, so they do not fit the
 * schema cross-check of invalid/.) Also what the controller makes of an
 * answer that failed without a reason (controller/result.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "result.h"
#include "strbuf.h"

static int
decode_req(const char *msg, struct strbuf *err)
{
	struct proto_request r;
	int rc;

	strbuf_reset(err);
	rc = proto_request_decode(msg, strlen(msg), &r, err);
	proto_request_release(&r);
	return rc;
}

/*
 * json-c's UTF-8 check accepts lead bytes F5..F7 (code points past
 * U+10FFFF). The decoder took them, the encoder turned each byte into
 * U+FFFD, and the re-encoded "root" (4096 bytes at most) grew past its
 * limit: decode -> encode -> decode failed. Now they are invalid UTF-8.
 */
static void
test_utf8_beyond_unicode_refused(void **state)
{
	static const char *const bad[] = {
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"root\":\"/\xf7\xa3\x8a\xa1\"}",
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"root\":\"/\xf5\x80\x80\x80\"}",
		/* overlong '/' and a UTF-16 surrogate written as UTF-8 */
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"root\":\"/\xc0\xaf\"}",
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"root\":\"/\xed\xa0\x80\"}",
	};
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(decode_req(bad[i], &err), -EPROTO);
		assert_non_null(strstr(err.buf, "invalid utf-8 string"));
	}
	strbuf_release(&err);
}

/* Valid UTF-8 at the edges still decodes, and round-trips unchanged. */
static void
test_utf8_edges_roundtrip(void **state)
{
	static const char msg[] =
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"root\":"
		"\"/\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80"
		"\xf4\x8f\xbf\xbf\\ud800\"}";
	struct proto_request a, b;
	struct strbuf err = STRBUF_INIT, e1 = STRBUF_INIT, e2 = STRBUF_INIT;

	(void)state;
	assert_int_equal(proto_request_decode(msg, sizeof(msg) - 1, &a, &err), 0);
	assert_int_equal(proto_request_encode(&a, &e1), 0);
	assert_int_equal(proto_request_decode(e1.buf, e1.len, &b, &err), 0);
	assert_int_equal(proto_request_encode(&b, &e2), 0);
	assert_int_equal(e1.len, e2.len);
	assert_memory_equal(e1.buf, e2.buf, e1.len);
	assert_string_equal(a.root, b.root);
	proto_request_release(&a);
	proto_request_release(&b);
	strbuf_release(&err);
	strbuf_release(&e1);
	strbuf_release(&e2);
}

/*
 * The reason for a relative policy.cmd_*[0] quoted the value raw: a
 * request could put newlines and terminal escape sequences into the
 * one-line reason (the agent echoes it in its error response, the
 * controller prints it). Now it is quoted like every other value.
 */
static void
test_cmd_reason_one_printable_line(void **state)
{
	static const char msg[] =
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"policy\":"
		"{\"cmd_initramfs\":[\"la\\n\\n\\u001b[2Jr_in_use\"]}}";
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(decode_req(msg, &err), -EPROTO);
	assert_string_equal(err.buf, "policy.cmd_initramfs[0]: expected an "
			    "absolute path, got \"la???[2Jr_in_use\"");
	strbuf_release(&err);
}

/*
 * An answer with ok: false and no errors used to be accepted: the host
 * counted as failed with nothing to show. Now the answer is rejected, and
 * the host fails with the decoder's reason; a failed answer with errors
 * shows its first error (its code when the message is empty).
 */
static void
test_failed_answer_has_a_reason(void **state)
{
	static const char *const no_reason[] = {
		"{\"protocol\":\"vfleet/1.1\",\"op\":\"apply\",\"ok\":false,"
		"\"errors\":[]}",
		"{\"protocol\":\"vfleet/1.0\",\"op\":\"facts\",\"ok\":false}",
	};
	static const char with_reason[] =
		"{\"protocol\":\"vfleet/1.1\",\"op\":\"apply\",\"ok\":false,"
		"\"errors\":[{\"code\":\"unsafe-root\",\"message\":\"refusing\"}]}";
	static const char code_only[] =
		"{\"protocol\":\"vfleet/1.1\",\"op\":\"apply\",\"ok\":false,"
		"\"errors\":[{\"code\":\"unsafe-root\",\"message\":\"\"}]}";
	struct result r;

	(void)state;
	for (size_t i = 0; i < sizeof(no_reason) / sizeof(*no_reason); i++) {
		result_init(&r, "h1");
		assert_int_equal(result_take_answer(&r, no_reason[i],
						    strlen(no_reason[i]), 1, ""),
				 -EPROTO);
		assert_int_equal(r.status, RESULT_FAILED);
		assert_true(result_failed(&r));
		assert_false(r.have_resp);
		assert_string_equal(r.error, "agent answer rejected (ok: false, "
				    "but errors[] is empty)");
		result_release(&r);
	}

	result_init(&r, "h1");
	assert_int_equal(result_take_answer(&r, with_reason, strlen(with_reason),
					    1, ""), 0);
	assert_true(result_failed(&r));
	assert_string_equal(r.error, "refusing");
	assert_int_equal(result_take_answer(&r, code_only, strlen(code_only),
					    1, ""), 0);
	assert_true(result_failed(&r));
	assert_string_equal(r.error, "unsafe-root");
	result_release(&r);

	/* A failure recorded without words still says something. */
	result_init(&r, "h1");
	result_fail(&r, RESULT_UNREACHABLE, "%s", "");
	assert_true(result_failed(&r));
	assert_non_null(strstr(r.error, "failed without a reason"));
	result_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_beyond_unicode_refused),
		cmocka_unit_test(test_utf8_edges_roundtrip),
		cmocka_unit_test(test_cmd_reason_one_printable_line),
		cmocka_unit_test(test_failed_answer_has_a_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
