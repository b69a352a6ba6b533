#include "journal.h"
#include "jsonstr.h"
#include "proto.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct journal {
	FILE *fp;
	char *run_id;
	pthread_mutex_t lock;
};

void
journal_default_dir(struct strbuf *out)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	strbuf_reset(out);
	if (xdg && *xdg)
		strbuf_addf(out, "%s/vfleet", xdg);
	else
		strbuf_addf(out, "%s/.local/state/vfleet", home && *home ? home : "/tmp");
}

static int
journal_mkdirs(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	strbuf_addstr(&sb, path);
	for (char *p = sb.buf + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(sb.buf, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	strbuf_release(&sb);
	return r;
}

struct journal *
journal_open(const char *dir, const char *run_id, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct journal *j = NULL;
	FILE *fp;
	int r;

	strbuf_addf(&path, "%s/runs", dir);
	r = journal_mkdirs(path.buf);
	if (r < 0) {
		strbuf_addf(err, "cannot create %s: %s", path.buf, strerror(-r));
		goto out;
	}
	strbuf_addf(&path, "/%s.jsonl", run_id);
	fp = fopen(path.buf, "ae");
	if (!fp) {
		strbuf_addf(err, "cannot open %s: %s", path.buf, strerror(errno));
		goto out;
	}
	j = xcalloc(1, sizeof(*j));
	j->fp = fp;
	j->run_id = xstrdup(run_id);
	pthread_mutex_init(&j->lock, NULL);
out:
	strbuf_release(&path);
	return j;
}

void
journal_close(struct journal *j)
{
	if (!j)
		return;
	fclose(j->fp);
	pthread_mutex_destroy(&j->lock);
	free(j->run_id);
	free(j);
}

void
journal_event(struct journal *j, const char *op, int batch, const char *host,
	      const char *step, const char *outcome, const char *detail)
{
	struct strbuf line = STRBUF_INIT;
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (!j)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_addf(&line, "{\"ts\":\"%s\",\"run\":", when);
	jsonstr_quote(&line, j->run_id);
	strbuf_addstr(&line, ",\"op\":");
	jsonstr_quote(&line, op);
	strbuf_addf(&line, ",\"batch\":%d,\"host\":", batch);
	jsonstr_quote(&line, host);
	strbuf_addstr(&line, ",\"step\":");
	jsonstr_quote(&line, step);
	strbuf_addstr(&line, ",\"outcome\":");
	jsonstr_quote(&line, outcome);
	strbuf_addstr(&line, ",\"detail\":");
	jsonstr_quote(&line, detail);
	strbuf_addstr(&line, "}\n");
	pthread_mutex_lock(&j->lock);
	/* Durable per event: the controller may be killed at any moment. */
	fwrite(line.buf, 1, line.len, j->fp);
	fflush(j->fp);
	fsync(fileno(j->fp));
	pthread_mutex_unlock(&j->lock);
	strbuf_release(&line);
}

/* Read the JSON string that starts at p (just after the opening quote). */
static bool
journal_unquote(const char *p, struct strbuf *out)
{
	strbuf_reset(out);
	for (; *p && *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\')
				return false;	/* we never write other escapes in names */
		}
		if (!*p)
			return false;
		strbuf_addch(out, *p);
	}
	return *p == '"';
}

/*
 * The operation (apply, rollback) of the journal at path: the "op" of its
 * first complete event. 0, or -errno / -ENOENT when there is none.
 */
static int
journal_file_op(const char *path, struct strbuf *op)
{
	char buf[8192];
	const char *o;
	FILE *fp;
	int r = -ENOENT;

	strbuf_reset(op);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (fgets(buf, sizeof(buf), fp)) {
		o = strstr(buf, ",\"op\":\"");
		if (o && journal_unquote(o + 7, op)) {
			r = 0;
			break;
		}
	}
	fclose(fp);
	return r;
}

int
journal_run_op(const char *dir, const char *run_id, struct strbuf *op)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s/runs/%s.jsonl", dir, run_id);
	r = journal_file_op(path.buf, op);
	strbuf_release(&path);
	return r;
}

static bool
journal_newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

int
journal_latest(const char *dir, const char *op, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT, f = STRBUF_INIT, fop = STRBUF_INIT;
	struct timespec best = { 0, 0 };
	struct dirent *de;
	DIR *d;

	strbuf_reset(out);
	strbuf_addf(&path, "%s/runs", dir);
	d = opendir(path.buf);
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (len <= 6 || strcmp(de->d_name + len - 6, ".jsonl"))
			continue;
		strbuf_reset(&f);
		strbuf_addf(&f, "%s/%s", path.buf, de->d_name);
		/* Full timestamp, not seconds: two runs a second apart would
		 * otherwise tie and readdir order would pick the older one. */
		if (stat(f.buf, &st) < 0 || !journal_newer(&st.st_mtim, &best))
			continue;
		/* An apply is never resumed from a rollback's journal, nor
		 * the reverse: its finished hosts would be skipped. */
		if (op && (journal_file_op(f.buf, &fop) < 0 || strcmp(fop.buf, op)))
			continue;
		best = st.st_mtim;
		strbuf_reset(out);
		strbuf_add(out, de->d_name, len - 6);
	}
	closedir(d);
out:
	strbuf_release(&path);
	strbuf_release(&f);
	strbuf_release(&fop);
	return out->len ? 0 : -ENOENT;
}

int
journal_done_hosts(const char *dir, const char *run_id, char ***hosts,
		   size_t *n)
{
	struct strbuf path = STRBUF_INIT, line = STRBUF_INIT, name = STRBUF_INIT;
	char **seen = NULL, **step = NULL;
	size_t nseen = 0, nstep = 0;
	FILE *fp;
	int r = 0;

	*hosts = NULL;
	*n = 0;
	strbuf_addf(&path, "%s/runs/%s.jsonl", dir, run_id);
	fp = fopen(path.buf, "re");
	if (!fp) {
		r = -errno;
		goto out;
	}
	for (;;) {
		char buf[8192];
		const char *h, *st;
		size_t i;

		if (!fgets(buf, sizeof(buf), fp))
			break;
		h = strstr(buf, ",\"host\":\"");
		st = strstr(buf, ",\"step\":\"");
		if (!h || !st || !journal_unquote(h + 9, &name))
			continue;	/* a torn last line from a killed run */
		for (i = 0; i < nseen; i++)
			if (!strcmp(seen[i], name.buf))
				break;
		if (i == nseen) {
			proto_strv_add(&seen, &nseen, name.buf);
			proto_strv_add(&step, &nstep, "");
		}
		free(step[i]);
		step[i] = xstrndup(st + 9, strcspn(st + 9, "\""));
	}
	fclose(fp);
	for (size_t i = 0; i < nseen; i++)
		if (!strcmp(step[i], "done"))
			proto_strv_add(hosts, n, seen[i]);
out:
	proto_strv_free(seen, nseen);
	proto_strv_free(step, nstep);
	strbuf_release(&path);
	strbuf_release(&line);
	strbuf_release(&name);
	return r;
}
