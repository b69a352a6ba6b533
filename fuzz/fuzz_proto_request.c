/* fuzz_proto_request: the agent's request decoder on hostile bytes.
 *
 * Promises checked: the decoder never crashes, leaks or reads out of
 * bounds; on failure it says why in one line and leaves the request
 * released; on success decode -> encode -> decode -> encode gives the same
 * bytes both times (the encoding is a fixed point), and the encoding is
 * within PROTO_MESSAGE_MAX so the agent's own answer never trips the
 * controller's limit because of an echoed request field.
 */
#include <errno.h>

#include "fuzz.h"
#include "proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request a, b;
	struct proto_policy pol;
	struct strbuf err = STRBUF_INIT, ea = STRBUF_INIT, eb = STRBUF_INIT;
	int r;

	/* --policy-file takes the same bytes (a policy or a whole request). */
	r = proto_policy_decode((const char *)data, size, &pol, &err);
	if (r == 0) {
		struct proto_request tmp;

		proto_request_init(&tmp, PROTO_OP_FACTS);
		tmp.policy = pol;
		proto_request_release(&tmp);
	}
	strbuf_reset(&err);

	r = proto_request_decode((const char *)data, size, &a, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -EPROTO || r == -EMSGSIZE ||
			    r == -EPROTONOSUPPORT || r == -ENOMEM);
		FUZZ_ASSERT(err.len > 0 && !memchr(err.buf, '\n', err.len));
		/* "left released": releasing again must be harmless. */
		proto_request_release(&a);
		goto out;
	}
	FUZZ_ASSERT(err.len == 0);
	FUZZ_ASSERT(a.op >= 0 && a.op < PROTO_OP__COUNT);
	FUZZ_ASSERT(proto_request_encode(&a, &ea) == 0);
	r = proto_request_decode(ea.buf, ea.len, &b, &err);
	if (r != 0)
		fprintf(stderr, "re-decode failed: %s\nencoding: %s\n", err.buf,
			ea.buf);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(proto_request_encode(&b, &eb) == 0);
	FUZZ_ASSERT(ea.len == eb.len && memcmp(ea.buf, eb.buf, ea.len) == 0);
	proto_request_release(&b);
	proto_request_release(&a);
out:
	strbuf_release(&err);
	strbuf_release(&ea);
	strbuf_release(&eb);
	return 0;
}
