#include "render.h"
#include "jsonstr.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define RENDER_NAME_MAX 36	/* truncate long pci.ids names in the table */
#define RENDER_COLS 8

static const char *const render_head[RENDER_COLS] = {
	"HOST", "SLOT", "IDS", "NAME", "DRIVER", "GROUP", "VERDICT", "TOP FINDING",
};

struct render_row {
	char *col[RENDER_COLS];
	int tone;	/* 0 plain, 1 green, 2 yellow, 3 red */
};

struct render_rows {
	struct render_row *v;
	size_t n, alloc;
};

static const char *
render_tone(int tone, bool color)
{
	static const char *const esc[] = { "", "\033[32m", "\033[33m", "\033[31m" };

	return color ? esc[tone] : "";
}

static struct render_row *
render_row_add(struct render_rows *rows)
{
	XGROW(rows->v, rows->alloc, rows->n + 1);
	memset(&rows->v[rows->n], 0, sizeof(rows->v[0]));
	return &rows->v[rows->n++];
}

static char *
render_fmt_short(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	if (!s || !*s)
		return xstrdup("-");
	strbuf_addstr(&sb, s);
	if (sb.len > RENDER_NAME_MAX) {
		strbuf_setlen(&sb, RENDER_NAME_MAX - 3);
		strbuf_addstr(&sb, "...");
	}
	return strbuf_detach(&sb, NULL);
}

static void
render_func_cols(struct render_row *row, const struct proto_pci_func *f)
{
	struct strbuf sb = STRBUF_INIT;

	row->col[1] = xstrdup(f->address);
	strbuf_addf(&sb, "%04x:%04x", f->vendor_id, f->device_id);
	row->col[2] = strbuf_detach(&sb, NULL);
	row->col[3] = render_fmt_short(f->device_name);
	row->col[4] = xstrdup(f->driver ? f->driver : "-");
	if (f->iommu_group >= 0)
		strbuf_addf(&sb, "%d", f->iommu_group);
	else
		strbuf_addstr(&sb, "-");
	row->col[5] = strbuf_detach(&sb, NULL);
}

static int
render_verdict_tone(enum proto_verdict v)
{
	return v == PROTO_VERDICT_READY ? 1 :
	       v == PROTO_VERDICT_NEEDS_CONFIG ? 2 : 3;
}

static void
render_host_rows(struct render_rows *rows, const struct result *r)
{
	const struct proto_response *resp = &r->resp;
	struct render_row *row;

	if (!r->have_resp || (resp->ngpus == 0 && r->error)) {
		row = render_row_add(rows);
		row->col[0] = xstrdup(r->host);
		row->col[6] = xstrdup(result_status_name(r->status));
		row->col[7] = xstrdup(r->error ? r->error : "-");
		row->tone = 3;
		return;
	}
	if (resp->ngpus == 0) {
		row = render_row_add(rows);
		row->col[0] = xstrdup(r->host);
		row->col[3] = xstrdup("(no GPU)");
		return;
	}
	for (size_t g = 0; g < resp->ngpus; g++) {
		const struct proto_gpu *gpu = &resp->gpus[g];
		const struct proto_pci_func *f = proto_find_func(resp, gpu->address);

		row = render_row_add(rows);
		row->col[0] = xstrdup(r->host);
		if (f)
			render_func_cols(row, f);
		else
			row->col[1] = xstrdup(gpu->address);
		row->col[6] = xstrdup(proto_verdict_name(gpu->verdict));
		row->col[7] = xstrdup(gpu->reason ? gpu->reason : "-");
		row->tone = render_verdict_tone(gpu->verdict);
		for (size_t c = 0; c < gpu->ncompanions; c++) {
			f = proto_find_func(resp, gpu->companions[c]);
			if (!f)
				continue;
			row = render_row_add(rows);
			row->col[0] = xstrdup(r->host);
			render_func_cols(row, f);
		}
	}
}

void
render_table(FILE *fp, const struct result *res, size_t n, bool color)
{
	struct render_rows rows = { 0 };
	size_t width[RENDER_COLS];
	size_t i, c;

	for (i = 0; i < n; i++)
		render_host_rows(&rows, &res[i]);
	for (c = 0; c < RENDER_COLS; c++)
		width[c] = strlen(render_head[c]);
	for (i = 0; i < rows.n; i++)
		for (c = 0; c < RENDER_COLS; c++) {
			if (!rows.v[i].col[c])
				rows.v[i].col[c] = xstrdup("");
			if (strlen(rows.v[i].col[c]) > width[c])
				width[c] = strlen(rows.v[i].col[c]);
		}
	for (c = 0; c < RENDER_COLS; c++)
		fprintf(fp, "%-*s%s", c + 1 < RENDER_COLS ? (int)width[c] : 0,
			render_head[c], c + 1 < RENDER_COLS ? "  " : "\n");
	for (i = 0; i < rows.n; i++) {
		struct render_row *row = &rows.v[i];

		for (c = 0; c < RENDER_COLS; c++) {
			bool tinted = c == 6 && row->tone;

			fprintf(fp, "%s", tinted ? render_tone(row->tone, color) : "");
			fprintf(fp, "%-*s", c + 1 < RENDER_COLS ? (int)width[c] : 0,
				row->col[c]);
			fprintf(fp, "%s", tinted && color ? "\033[0m" : "");
			fputs(c + 1 < RENDER_COLS ? "  " : "\n", fp);
		}
		for (c = 0; c < RENDER_COLS; c++)
			free(row->col[c]);
	}
	free(rows.v);
}

static int
render_cmp_host(const void *a, const void *b)
{
	const struct result *const *x = a, *const *y = b;

	return strcmp((*x)->host, (*y)->host);
}

void
render_recap(FILE *fp, const struct result *res, size_t n, bool color)
{
	const struct result **sorted = xcalloc(n, sizeof(*sorted));
	size_t i;

	for (i = 0; i < n; i++)
		sorted[i] = &res[i];
	qsort(sorted, n, sizeof(*sorted), render_cmp_host);
	fprintf(fp, "\nPLAY RECAP %s\n",
		"*********************************************************************");
	for (i = 0; i < n; i++) {
		const struct result *r = sorted[i];
		bool unreach = r->status == RESULT_UNREACHABLE;
		bool failed = !unreach && result_failed(r);
		bool changed = r->have_resp && r->resp.changed;
		bool skipped = r->status == RESULT_SKIPPED;
		int tone = (failed || unreach) ? 3 : changed ? 2 : 1;
		size_t ready = 0, blocked = 0, needs = 0;

		for (size_t g = 0; r->have_resp && g < r->resp.ngpus; g++) {
			enum proto_verdict v = r->resp.gpus[g].verdict;

			ready += v == PROTO_VERDICT_READY;
			needs += v == PROTO_VERDICT_NEEDS_CONFIG;
			blocked += v == PROTO_VERDICT_BLOCKED;
		}
		fprintf(fp, "%s%-26s%s : ok=%-4d changed=%-4d unreachable=%-4d "
			"failed=%-4d skipped=%-4d gpus=%-3zu ready=%-3zu "
			"needs-config=%-3zu blocked=%zu\n",
			render_tone(tone, color), r->host, color ? "\033[0m" : "",
			!failed && !unreach && !skipped, changed, unreach, failed,
			skipped,
			r->have_resp ? r->resp.ngpus : 0, ready, needs, blocked);
	}
	free(sorted);
}

void
render_findings(FILE *fp, const struct result *res, size_t n, bool color)
{
	for (size_t i = 0; i < n; i++) {
		const struct result *r = &res[i];
		bool header = false;

		for (size_t k = 0; r->have_resp && k < r->resp.nfindings; k++) {
			const struct proto_finding *f = &r->resp.findings[k];

			if (f->severity < PROTO_SEV_WARNING)
				continue;
			if (!header)
				fprintf(fp, "\n%s:\n", r->host);
			header = true;
			fprintf(fp, "  %s%-7s%s %-22s %s: %s\n",
				render_tone(f->severity == PROTO_SEV_BLOCKER ? 3 : 2, color),
				proto_severity_name(f->severity), color ? "\033[0m" : "",
				f->code, f->device ? f->device : "host", f->message);
			if (f->nevidence)
				fprintf(fp, "  %-7s %-22s evidence: %s\n", "", "", f->evidence[0]);
		}
	}
}

/* Print a unified diff, tinting + and - lines on a terminal. */
static void
render_diff(FILE *fp, const char *diff, bool color)
{
	const char *line = diff;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		int tone = (line[0] == '+' && strncmp(line, "+++", 3)) ? 1 :
			   (line[0] == '-' && strncmp(line, "---", 3)) ? 3 : 0;

		fprintf(fp, "    %s%.*s%s\n", render_tone(tone, color), len, line,
			tone && color ? "\033[0m" : "");
		line = nl ? nl + 1 : NULL;
	}
}

void
render_changes(FILE *fp, const struct result *res, size_t n, bool show_diff,
	       bool color)
{
	for (size_t i = 0; i < n; i++) {
		const struct result *r = &res[i];
		const struct proto_response *resp = &r->resp;

		if (!r->have_resp)
			continue;
		fprintf(fp, "%s%s%s: %s\n", render_tone(resp->changed ? 2 : 1, color),
			r->host, color ? "\033[0m" : "",
			resp->nchanges ? (resp->changed ? "changed" : "would change")
				       : "no change");
		for (size_t c = 0; c < resp->nchanges; c++) {
			const struct proto_change *ch = &resp->changes[c];

			if (ch->kind && !strcmp(ch->kind, "command"))
				fprintf(fp, "  run   %s%s", ch->target,
					ch->exit_code >= 0 ? "" : "\n");
			else
				fprintf(fp, "  edit  %s\n", ch->target);
			if (ch->kind && !strcmp(ch->kind, "command") && ch->exit_code >= 0)
				fprintf(fp, "  (exit %d)\n", ch->exit_code);
			if (show_diff && ch->diff)
				render_diff(fp, ch->diff, color);
		}
		for (size_t e = 0; e < resp->nerrors; e++)
			fprintf(fp, "  %serror%s %s: %s\n", render_tone(3, color),
				color ? "\033[0m" : "", resp->errors[e].code,
				resp->errors[e].message);
		for (size_t k = 0; k < resp->nfindings; k++) {
			const struct proto_finding *f = &resp->findings[k];

			/* a blocker matters here only when it stopped the change */
			if (f->severity == PROTO_SEV_BLOCKER && result_failed(r))
				fprintf(fp, "  %sblocker%s %s%s%s: %s\n", render_tone(3, color),
					color ? "\033[0m" : "", f->code,
					f->device ? " " : "", f->device ? f->device : "",
					f->message);
		}
	}
}

static void
render_json_host(struct strbuf *out, const struct result *r)
{
	strbuf_addstr(out, "{\"host\":");
	jsonstr_quote(out, r->host);
	strbuf_addstr(out, ",\"status\":");
	jsonstr_quote(out, result_status_name(r->status));
	strbuf_addf(out, ",\"failed\":%s,\"error\":",
		    result_failed(r) ? "true" : "false");
	jsonstr_quote(out, r->error);
	strbuf_addf(out, ",\"elapsed_ms\":%.1f,\"agent_bytes_sent\":%zu,"
		    "\"response\":", r->elapsed_ms, r->agent_bytes);
	if (r->have_resp && proto_response_encode(&r->resp, false, out) == 0)
		strbuf_rtrim(out);	/* the encoder ends documents with '\n' */
	else
		strbuf_addstr(out, "null");
	strbuf_addch(out, '}');
}

void
render_json(struct strbuf *out, const char *operation,
	    const struct result *res, size_t n, const char *extra)
{
	size_t failed = 0, unreach = 0, bytes = 0;

	strbuf_addstr(out, "{\"vfleet\":");
	jsonstr_quote(out, VFLEET_VERSION);
	strbuf_addstr(out, ",\"operation\":");
	jsonstr_quote(out, operation);
	strbuf_addstr(out, ",\"hosts\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addch(out, ',');
		render_json_host(out, &res[i]);
		unreach += res[i].status == RESULT_UNREACHABLE;
		bytes += res[i].agent_bytes;
		failed += res[i].status != RESULT_UNREACHABLE && result_failed(&res[i]);
	}
	strbuf_addf(out, "],\"summary\":{\"hosts\":%zu,\"failed\":%zu,"
		    "\"unreachable\":%zu,\"agent_bytes_sent\":%zu}",
		    n, failed, unreach, bytes);
	if (extra && *extra)
		strbuf_addf(out, ",%s", extra);
	strbuf_addstr(out, "}\n");
}

void
render_jsonl(struct strbuf *out, const struct result *r)
{
	render_json_host(out, r);
	strbuf_addch(out, '\n');
}
