/* fuzz_proto_response: the controller's decoder of what remote hosts print.
 *
 * Promises checked: no crash, leak or out-of-bounds read whatever the
 * bytes; a failure is one line of reason and a released response; ok:
 * true never comes with errors; decode -> encode -> decode ->
 * encode is a fixed point, compact and pretty (--pretty) decode to the
 * same message.
 */
#include <errno.h>

#include "fuzz.h"
#include "proto.h"

static void
roundtrip(const struct strbuf *enc, struct strbuf *again, bool pretty)
{
	struct proto_response b;
	struct strbuf err = STRBUF_INIT;
	int r;

	r = proto_response_decode(enc->buf, enc->len, &b, &err);
	if (r != 0)
		fprintf(stderr, "re-decode failed: %s\nencoding: %.4096s\n",
			err.buf, enc->buf);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(proto_response_encode(&b, pretty, again) == 0);
	proto_response_release(&b);
	strbuf_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_response a;
	struct strbuf err = STRBUF_INIT, ea = STRBUF_INIT, eb = STRBUF_INIT;
	struct strbuf pa = STRBUF_INIT, pb = STRBUF_INIT;
	int r;

	r = proto_response_decode((const char *)data, size, &a, &err);
	if (r < 0) {
		FUZZ_ASSERT(r == -EPROTO || r == -EMSGSIZE ||
			    r == -EPROTONOSUPPORT || r == -ENOMEM);
		FUZZ_ASSERT(err.len > 0 && !memchr(err.buf, '\n', err.len));
		proto_response_release(&a);
		goto out;
	}
	FUZZ_ASSERT(err.len == 0);
	/* The decoder's documented rule (PROTOCOL.md §7): ok: true has no
	 * errors. (ok: false without errors is accepted; see README.md.) */
	FUZZ_ASSERT(!a.ok || a.nerrors == 0);
	FUZZ_ASSERT(proto_response_encode(&a, false, &ea) == 0);
	roundtrip(&ea, &eb, false);
	FUZZ_ASSERT(ea.len == eb.len && memcmp(ea.buf, eb.buf, ea.len) == 0);
	/* Pretty decodes to the same message: re-encoded compact, equal. */
	FUZZ_ASSERT(proto_response_encode(&a, true, &pa) == 0);
	roundtrip(&pa, &pb, false);
	FUZZ_ASSERT(pb.len == ea.len && memcmp(pb.buf, ea.buf, ea.len) == 0);
	proto_response_release(&a);
out:
	strbuf_release(&err);
	strbuf_release(&ea);
	strbuf_release(&eb);
	strbuf_release(&pa);
	strbuf_release(&pb);
	return 0;
}
