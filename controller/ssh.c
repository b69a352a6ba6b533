#include "ssh.h"

#include <errno.h>
#include <libssh/libssh.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

#define SSH_ERR_MAX (64u << 10)	/* stderr kept per exec */
#define SSH_CHUNK 32768

struct ssh_conn {
	ssh_session s;
	char *name;
	char *user;
};

int
ssh_global_init(void)
{
	return ssh_init() == SSH_OK ? 0 : -EIO;
}

void
ssh_global_cleanup(void)
{
	ssh_finalize();
}

static long long
ssh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SHA256 fingerprint of the server key into out ("SHA256:..."). */
static void
ssh_fingerprint(ssh_session s, struct strbuf *out)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;

	if (ssh_get_server_publickey(s, &key) == SSH_OK &&
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	strbuf_addstr(out, fp ? fp : "(unknown fingerprint)");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
}

/*
 * The host-key decision. Exhaustive over libssh's answers; only an unknown
 * key with accept_new is ever written, a changed key always fails.
 */
static int
ssh_verify_hostkey(ssh_session s, const struct ssh_target *t, struct strbuf *err)
{
	struct strbuf fp = STRBUF_INIT;
	const char *file = t->known_hosts ? t->known_hosts : "~/.ssh/known_hosts";
	int r = -EPERM;

	ssh_fingerprint(s, &fp);
	switch (ssh_session_is_known_server(s)) {
	case SSH_KNOWN_HOSTS_OK:
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
		strbuf_addf(err, "host key CHANGED (now %s); this may be a "
			    "man-in-the-middle attack; if the change is expected, "
			    "remove the old key from %s", fp.buf, file);
		break;
	case SSH_KNOWN_HOSTS_OTHER:
		strbuf_addf(err, "host key type changed (now %s); %s holds a key "
			    "of another type for this host; refusing", fp.buf, file);
		break;
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!t->accept_new) {
			strbuf_addf(err, "unknown host key %s; verify it and add it "
				    "to %s, or rerun with --accept-new", fp.buf, file);
			break;
		}
		if (ssh_session_update_known_hosts(s) != SSH_OK) {
			strbuf_addf(err, "cannot record host key in %s: %s", file,
				    ssh_get_error(s));
			break;
		}
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		strbuf_addf(err, "cannot check host key: %s", ssh_get_error(s));
		break;
	}
	strbuf_release(&fp);
	return r;
}

static int
ssh_authenticate(ssh_session s, const struct ssh_target *t, struct strbuf *err)
{
	ssh_key key = NULL;
	int rc;

	if (t->identity) {
		if (ssh_pki_import_privkey_file(t->identity, NULL, NULL, NULL,
						&key) != SSH_OK) {
			strbuf_addf(err, "cannot read private key %s", t->identity);
			return -EACCES;
		}
		rc = ssh_userauth_publickey(s, NULL, key);
		ssh_key_free(key);
	} else {
		/* ssh-agent, then the default keys and IdentityFile from config */
		rc = ssh_userauth_publickey_auto(s, NULL, NULL);
	}
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	strbuf_addf(err, "authentication failed%s%s: %s",
		    t->identity ? " with key " : "", t->identity ? t->identity : "",
		    ssh_get_error(s));
	return -EACCES;
}

static int
ssh_configure(ssh_session s, const struct ssh_target *t, struct strbuf *err)
{
	long timeout = t->connect_timeout_s > 0 ? t->connect_timeout_s : 10;
	int off = 0, on = 1;
	struct strbuf path = STRBUF_INIT;
	const char *home = getenv("HOME");
	int r = -EINVAL;

	/* libssh would read ~/.ssh/config behind our back; read it ourselves so
	 * -F works and inventory values are applied after it, as Ansible's
	 * connection variables override ssh_config. */
	if (ssh_options_set(s, SSH_OPTIONS_HOST, t->address) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &off) < 0)
		goto fail;
	if (t->ssh_config) {
		if (ssh_options_parse_config(s, t->ssh_config) < 0) {
			strbuf_addf(err, "cannot parse ssh config %s", t->ssh_config);
			goto out;
		}
	} else if (home) {
		struct stat st;

		strbuf_addf(&path, "%s/.ssh/config", home);
		if (stat(path.buf, &st) == 0 && ssh_options_parse_config(s, path.buf) < 0) {
			strbuf_addf(err, "cannot parse ssh config %s", path.buf);
			goto out;
		}
	}
	/* A LogLevel in ssh_config would become libssh's own log verbosity and
	 * flood stderr; vfleet reports errors itself. */
	if (ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &off) < 0)
		goto fail;
	if (t->port > 0 && ssh_options_set(s, SSH_OPTIONS_PORT, &t->port) < 0)
		goto fail;
	if (t->user && ssh_options_set(s, SSH_OPTIONS_USER, t->user) < 0)
		goto fail;
	if (t->known_hosts &&
	    (ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts) < 0 ||
	     ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0))
		goto fail;
	if (ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_NODELAY, &on) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	strbuf_addf(err, "ssh option rejected: %s", ssh_get_error(s));
out:
	strbuf_release(&path);
	return r;
}

struct ssh_conn *
ssh_conn_open(const struct ssh_target *t, struct strbuf *err)
{
	ssh_session s = ssh_new();
	struct ssh_conn *c = NULL;

	if (!s) {
		strbuf_addstr(err, "cannot allocate an ssh session");
		return NULL;
	}
	if (ssh_configure(s, t, err) < 0)
		goto fail;
	if (ssh_connect(s) != SSH_OK) {
		strbuf_addf(err, "cannot connect: %s", ssh_get_error(s));
		goto fail;
	}
	if (ssh_verify_hostkey(s, t, err) < 0 || ssh_authenticate(s, t, err) < 0)
		goto fail;
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->name = xstrdup(t->name ? t->name : t->address);
	{
		char *user = NULL;

		if (ssh_options_get(s, SSH_OPTIONS_USER, &user) == SSH_OK && user) {
			c->user = xstrdup(user);
			ssh_string_free_char(user);
		} else {
			c->user = xstrdup("");
		}
	}
	return c;
fail:
	ssh_disconnect(s);
	ssh_free(s);
	return NULL;
}

void
ssh_conn_close(struct ssh_conn *c)
{
	if (!c)
		return;
	ssh_disconnect(c->s);
	ssh_free(c->s);
	free(c->name);
	free(c->user);
	free(c);
}

const char *
ssh_conn_user(const struct ssh_conn *c)
{
	return c->user;
}

/* Move up to one chunk of pending stdin into the channel's window. */
static int
ssh_exec_feed(ssh_channel ch, struct ssh_exec *e, bool *eof_sent)
{
	uint32_t win, n;
	int w;

	/* The remote may exit without reading stdin (the wrapper asking for
	 * an upload): stop feeding and let its exit status speak. */
	if (*eof_sent || ssh_channel_is_eof(ch) || !ssh_channel_is_open(ch)) {
		*eof_sent = true;
		return 0;
	}
	if (e->bytes_sent == e->input_len) {
		*eof_sent = true;
		return ssh_channel_send_eof(ch) == SSH_OK ? 0 : -EIO;
	}
	win = ssh_channel_window_size(ch);
	if (win == 0)
		return 0;
	n = (uint32_t)(e->input_len - e->bytes_sent);
	if (n > win)
		n = win;
	if (n > SSH_CHUNK)
		n = SSH_CHUNK;
	w = ssh_channel_write(ch, (const char *)e->input + e->bytes_sent, n);
	if (w < 0)
		return -EIO;
	e->bytes_sent += (size_t)w;
	return 1;
}

/* Read what is there on one stream; returns bytes read, 0, or -EIO. */
static int
ssh_exec_drain(ssh_channel ch, int is_stderr, struct strbuf *sb, size_t cap,
	       bool *over)
{
	char buf[SSH_CHUNK];
	int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_stderr);

	if (n == SSH_ERROR)
		return -EIO;
	if (n <= 0)
		return 0;
	if (sb->len + (size_t)n > cap) {
		*over = true;
		strbuf_add(sb, buf, cap > sb->len ? cap - sb->len : 0);
	} else {
		strbuf_add(sb, buf, (size_t)n);
	}
	return n;
}

int
ssh_conn_exec(struct ssh_conn *c, struct ssh_exec *e, struct strbuf *err)
{
	long long deadline = ssh_now_ms() + (e->timeout_ms > 0 ? e->timeout_ms : 600000);
	ssh_channel ch = ssh_channel_new(c->s);
	bool eof_sent = false, err_over = false;
	int r = -EIO;

	e->exit_status = -1;
	e->timed_out = e->truncated = false;
	e->bytes_sent = 0;
	if (!ch || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, e->command) != SSH_OK) {
		strbuf_addf(err, "cannot start remote command: %s", ssh_get_error(c->s));
		goto out;
	}
	for (;;) {
		int fed, a, b;

		if (ssh_now_ms() >= deadline) {
			e->timed_out = true;
			strbuf_addf(err, "remote command timed out after %d ms", e->timeout_ms);
			r = -ETIMEDOUT;
			goto out;
		}
		fed = ssh_exec_feed(ch, e, &eof_sent);
		a = ssh_exec_drain(ch, 0, &e->out, e->output_max, &e->truncated);
		b = ssh_exec_drain(ch, 1, &e->err, SSH_ERR_MAX, &err_over);
		if (fed < 0 || a < 0 || b < 0) {
			strbuf_addf(err, "connection lost: %s", ssh_get_error(c->s));
			goto out;
		}
		if (e->truncated) {
			strbuf_addf(err, "remote output exceeds %zu bytes", e->output_max);
			r = -EFBIG;
			goto out;
		}
		if (ssh_channel_is_eof(ch) &&
		    ssh_channel_poll(ch, 0) <= 0 && ssh_channel_poll(ch, 1) <= 0)
			break;
		if (!ssh_channel_is_open(ch) && ssh_channel_poll(ch, 0) <= 0)
			break;
		if (fed <= 0 && a == 0 && b == 0) {
			/* Wait for data or window space; short so the deadline, stderr
			 * and stdin all keep moving. */
			int p = ssh_channel_poll_timeout(ch, 20, 0);

			if (p == SSH_ERROR) {
				strbuf_addf(err, "connection lost: %s", ssh_get_error(c->s));
				goto out;
			}
		}
	}
	e->exit_status = ssh_channel_get_exit_status(ch);
	r = 0;
out:
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return r;
}

void
ssh_exec_release(struct ssh_exec *e)
{
	strbuf_release(&e->out);
	strbuf_release(&e->err);
}
