/* pci.c: PCI discovery through libpci, contained in a child process.
 *
 * libpci reports trouble through a->error, which must not return (the
 * default prints and calls exit(1)); a device folder it cannot parse or a
 * pci.ids with a syntax error would otherwise end the agent without an
 * answer. So the scan runs in forked children ("workers", one per CPU on
 * big hosts, each with its share of the functions): libpci enumerates the
 * functions and names them, the worker reads and checks their attributes,
 * and sends framed records over a pipe; libpci's error hook sends one last
 * error record and _exit()s. Meanwhile the parent walks the IOMMU groups;
 * then it turns the records into proto_pci_funcs and checks them against
 * the groups. A dead, hung or garbled worker is an error entry, never an
 * exit of the agent.
 *
 * longjmp out of the hook was rejected: libpci would be left with open
 * files, half-linked device lists and malloc'ed buffers in an unknown state.
 */
#include "pci.h"
#include "fileio.h"
#include "pciids.h"
#include "strbuf.h"
#include "sysroot.h"
#include "xalloc.h"

#include <pci/pci.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A real host answers in milliseconds; this only catches a wedged child. */
#define PCI_SCAN_TIMEOUT_MS 20000
/* Far above what 4096 functions with long names produce. */
#define PCI_SCAN_OUTPUT_MAX (16u << 20)
/* Scan workers at most, and the functions it takes to use more than one. */
#define PCI_WORKERS_MAX 4
#define PCI_WORKERS_MIN_FUNCS 64
/* Retries of a fork that failed with EAGAIN (1, 2, 4, 8 ms apart). */
#define PCI_FORK_TRIES 4
/* Largest pci.ids read whole for pciids (today's is 1.3 MB). */
#define PCI_IDS_MAX (64u << 20)
/* Exit status of the child after its error hook ran. */
#define PCI_CHILD_EXIT_ERROR 3

/*
 * The child's records: a type byte, a fixed number of fields, '\n'. A field
 * is "-" for NULL or "<decimal length>:<bytes>", so names may hold any
 * byte. Parent and child are the same binary: no versioning needed.
 */
enum pci_rec_type {
	PCI_REC_FUNC = 'F',	/* enum pci_func_field */
	PCI_REC_NAMES = 'N',	/* address class vendor device subsystem */
	PCI_REC_ERROR = 'E',	/* code path message */
	PCI_REC_END = 'Z',	/* the scan ran to the end */
};

/* Fields of an F record: numbers in decimal (-1 unknown), then strings. */
enum pci_func_field {
	PCI_F_ADDRESS = 0,
	PCI_F_CLASS, PCI_F_VENDOR, PCI_F_DEVICE, PCI_F_SVENDOR, PCI_F_SDEVICE,
	PCI_F_REVISION, PCI_F_GROUP, PCI_F_BOOT_VGA, PCI_F_NUMA, PCI_F_VFS,
	PCI_F_LINK_WIDTH,
	PCI_F_DRIVER, PCI_F_OVERRIDE, PCI_F_RESET, PCI_F_LINK_SPEED,
	PCI_F__COUNT
};

#define PCI_REC_MAXF 16

struct pci_rec {
	char type;
	size_t nfields;
	char *f[PCI_REC_MAXF];	/* in the output buffer; NULL for "-" */
};

/* --- number parsing (shared by both sides) --- */

/* Hex as the kernel writes it ("0x10de"; the 0x is optional). */
static bool
pci_parse_hex(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* Signed decimal in [min, max], nothing else. */
static bool
pci_parse_dec(const char *s, long min, long max, long *out)
{
	char *end;
	long v;
	const char *digits = s[0] == '-' ? s + 1 : s;

	if (!isdigit((unsigned char)digits[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* --- the child --- */

/* Only the child touches this; the error hook has no other way in. */
static struct {
	struct strbuf out;	/* records, written to fd in one go at the end */
	int fd;
	const char *code;	/* error code for a libpci error right now */
	const char *path;	/* what libpci works on right now */
	const char *ids_alias;	/* the name libpci has for path, if another */
} pci_child = { STRBUF_INIT, -1, NULL, NULL, NULL };

/* The ids of one function, kept for the names pass. */
struct pci_child_ids {
	bool ok;		/* made it into an F record */
	unsigned long cls, vendor, device, svendor, sdevice;
};

/* The decimal digits of v into buf (at least 21 bytes), no NUL; returns
 * how many. By hand: printf was a third of a scan worker's instructions. */
static size_t
pci_fmt_dec(char *buf, long v)
{
	unsigned long mag = v < 0 ? -(unsigned long)v : (unsigned long)v;
	char tmp[24];
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	return len;
}

/* "<length>:<bytes>" of n bytes at s. */
static void
pci_frame_mem(struct strbuf *sb, const char *s, size_t n)
{
	char len[24];
	size_t l = pci_fmt_dec(len, (long)n);

	len[l++] = ':';
	strbuf_add(sb, len, l);
	strbuf_add(sb, s, n);
}

static void
pci_frame_str(struct strbuf *sb, const char *s)
{
	if (!s)
		strbuf_addch(sb, '-');
	else
		pci_frame_mem(sb, s, strlen(s));
}

static void
pci_frame_num(struct strbuf *sb, long v)
{
	char num[24];

	pci_frame_mem(sb, num, pci_fmt_dec(num, v));
}

static void
pci_child_error_rec(const char *code, const char *path, const char *msg)
{
	strbuf_addch(&pci_child.out, PCI_REC_ERROR);
	pci_frame_str(&pci_child.out, code);
	pci_frame_str(&pci_child.out, path);
	pci_frame_str(&pci_child.out, msg);
	strbuf_addch(&pci_child.out, '\n');
}

/* An error about attribute `name` of the function folder devdir. */
static void __attribute__((format(printf, 4, 5)))
pci_child_attr_error(const char *code, const char *devdir, const char *name,
		     const char *fmt, ...)
{
	struct strbuf path = STRBUF_INIT, msg = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&path, "%s/%s", devdir, name);
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	pci_child_error_rec(code, path.buf, msg.buf);
	strbuf_release(&path);
	strbuf_release(&msg);
}

/* Returns 0 or -errno (-EIO for a write that wrote nothing). */
static int
pci_write_all(int fd, const char *p, size_t left)
{
	while (left) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

static void __attribute__((noreturn))
pci_child_exit(int status)
{
	if (pci_write_all(pci_child.fd, pci_child.out.buf, pci_child.out.len) < 0)
		_exit(PCI_CHILD_EXIT_ERROR);	/* parent gone */
	_exit(status);
}

/*
 * libpci names the file it parses: the memfd's /proc path when it was
 * given the cut-down pci.ids. pciids only cuts a file libpci loads without
 * an error, so this should never be needed; should it be, the message
 * names the real file all the same.
 */
static void
pci_child_unalias(struct strbuf *msg)
{
	const char *alias = pci_child.ids_alias;
	struct strbuf sb = STRBUF_INIT;
	const char *p, *hit;
	size_t len;

	if (!alias || !*alias || !strstr(msg->buf, alias))
		return;
	len = strlen(alias);
	for (p = msg->buf; (hit = strstr(p, alias)); p = hit + len) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addstr(&sb, pci_child.path);
	}
	strbuf_addstr(&sb, p);
	strbuf_reset(msg);
	strbuf_add(msg, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* One libpci message as an error record, with the pci.ids alias undone. */
static void __attribute__((format(printf, 1, 0)))
pci_child_report(const char *msg, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_vaddf(&sb, msg, ap);
	strbuf_rtrim(&sb);
	pci_child_unalias(&sb);
	pci_child_error_rec(pci_child.code, pci_child.path, sb.buf);
	strbuf_release(&sb);
}

/* libpci's error hook: flush what we have plus the error, never return. */
static void __attribute__((noreturn, format(printf, 1, 2)))
pci_child_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	pci_child_report(msg, ap);
	va_end(ap);
	pci_child_exit(PCI_CHILD_EXIT_ERROR);
}

static void __attribute__((format(printf, 1, 2)))
pci_child_warning(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	pci_child_report(msg, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2)))
pci_child_debug(char *msg, ...)
{
	(void)msg;
}

/*
 * Read attribute `name` of the folder dfd into val (reset first, trailing
 * whitespace stripped). One openat and one read: sysfs hands an attribute
 * over whole, and at ~150 functions x 13 attributes every syscall counts.
 * Returns 0, -ENOENT when absent, -EFBIG over FILEIO_ATTR_MAX, or -errno.
 */
static int
pci_read_at(int dfd, const char *name, struct strbuf *val)
{
	ssize_t n;
	int fd, r = 0;

	strbuf_reset(val);
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	strbuf_grow(val, FILEIO_ATTR_MAX);
	do {
		n = read(fd, val->buf, FILEIO_ATTR_MAX);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		r = -errno;
	else if (n == FILEIO_ATTR_MAX)
		r = -EFBIG;
	close(fd);
	if (r < 0)
		return r;
	strbuf_setlen(val, (size_t)n);
	strbuf_rtrim(val);
	return 0;
}

/*
 * Read and check one attribute. Returns 1 with the text in val, 0 when it
 * does not exist, -1 after recording an error (code) naming the file.
 */
static int
pci_child_attr(int dfd, const char *devdir, const char *name,
	       struct strbuf *val, const char *code)
{
	int r = pci_read_at(dfd, name, val);

	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		pci_child_attr_error(code, devdir, name, "cannot read: %s",
				     strerror(-r));
		return -1;
	}
	return 1;
}

/* A hex attribute ("0x10de"); *out left alone when absent or garbled. */
static bool
pci_child_hex(int dfd, const char *devdir, const char *name,
	      unsigned long max, bool mandatory, unsigned long *out,
	      struct strbuf *val)
{
	const char *code = mandatory ? "pci-scan" : "pci-attr";
	const char *then = mandatory ? "; function left out" : "";
	int r = pci_child_attr(dfd, devdir, name, val, code);

	if (r == 0 && mandatory)
		pci_child_attr_error(code, devdir, name, "missing%s", then);
	if (r <= 0)
		return false;
	if (!pci_parse_hex(val->buf, max, out)) {
		pci_child_attr_error(code, devdir, name,
				     "garbled value '%.64s' (want hex)%s",
				     val->buf, then);
		return false;
	}
	return true;
}

/* A decimal attribute; *out left alone when absent or garbled. */
static void
pci_child_dec(int dfd, const char *devdir, const char *name, long min,
	      long max, long *out, struct strbuf *val)
{
	long v;

	if (pci_child_attr(dfd, devdir, name, val, "pci-attr") <= 0)
		return;
	if (pci_parse_dec(val->buf, min, max, &v))
		*out = v;
	else
		pci_child_attr_error("pci-attr", devdir, name,
			"garbled value '%.64s' (want a decimal number)", val->buf);
}

/* A text attribute framed as is; absent, empty and "(null)" are NULL. */
static void
pci_child_str(int dfd, const char *devdir, const char *name,
	      struct strbuf *rec, struct strbuf *val)
{
	if (pci_child_attr(dfd, devdir, name, val, "pci-attr") > 0 &&
	    val->len && strcmp(val->buf, "(null)") != 0)
		pci_frame_str(rec, val->buf);
	else
		pci_frame_str(rec, NULL);
}

/*
 * Basename of symlink `name` (driver, iommu_group) into val, as libpci
 * and lspci report it. readlinkat() instead of libpci's realpath(): one
 * syscall instead of one per path component. Returns as pci_child_attr.
 */
static int
pci_child_link(int dfd, const char *devdir, const char *name,
	       struct strbuf *val)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
	const char *base;

	strbuf_reset(val);
	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0) {
		pci_child_attr_error("pci-attr", devdir, name,
				     "cannot read link: %s", strerror(errno));
		return -1;
	}
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	strbuf_addstr(val, base ? base + 1 : target);
	return 1;
}

/*
 * One function into an F record in rec (reset first): its folder is
 * devdir, opened as `rel` under the folder devfd. val is scratch
 * space, kept by the caller across functions. Returns false,
 * with the error recorded, when vendor, device or class is missing or
 * garbled: such a function is left out rather than guessed at.
 */
static bool
pci_child_func(int devfd, const char *rel, const char *devdir,
	       const char *address, struct pci_child_ids *ids,
	       struct strbuf *rec, struct strbuf *val)
{
	unsigned long rev = 0;
	long group = -1, boot_vga = -1, numa = -1, vfs = -1, width = -1;
	bool have_rev;
	int dfd, r;

	strbuf_reset(rec);
	/* openat, not open: musl's open() adds an fcntl for O_CLOEXEC. */
	dfd = openat(devfd, rel, O_DIRECTORY | O_CLOEXEC | O_PATH);
	if (dfd < 0) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "cannot open the function's folder: %s; "
			    "function left out", strerror(errno));
		pci_child_error_rec("pci-scan", devdir, msg.buf);
		strbuf_release(&msg);
		goto fail;
	}
	if (!pci_child_hex(dfd, devdir, "vendor", 0xffff, true, &ids->vendor, val) ||
	    !pci_child_hex(dfd, devdir, "device", 0xffff, true, &ids->device, val) ||
	    !pci_child_hex(dfd, devdir, "class", 0xffffff, true, &ids->cls, val))
		goto fail;
	have_rev = pci_child_hex(dfd, devdir, "revision", 0xff, false, &rev, val);
	ids->svendor = ids->sdevice = 0;
	pci_child_hex(dfd, devdir, "subsystem_vendor", 0xffff, false,
		      &ids->svendor, val);
	pci_child_hex(dfd, devdir, "subsystem_device", 0xffff, false,
		      &ids->sdevice, val);
	if (pci_child_link(dfd, devdir, "iommu_group", val) > 0 &&
	    !pci_parse_dec(val->buf, 0, INT_MAX, &group))
		pci_child_attr_error("pci-attr", devdir, "iommu_group",
			"link names '%.64s', not a group number", val->buf);
	if (pci_child_attr(dfd, devdir, "boot_vga", val, "pci-attr") > 0 &&
	    !pci_parse_dec(val->buf, 0, 1, &boot_vga))
		pci_child_attr_error("pci-attr", devdir, "boot_vga",
			"garbled value '%.64s' (want 0 or 1)", val->buf);
	/* The ranges the protocol allows (PROTOCOL.md §7): a value outside
	 * them is garbled, and must not make the controller reject the
	 * whole answer. */
	pci_child_dec(dfd, devdir, "numa_node", -1, INT_MAX, &numa, val);
	pci_child_dec(dfd, devdir, "sriov_totalvfs", 0, 65535, &vfs, val);
	pci_child_dec(dfd, devdir, "current_link_width", 0, 255, &width, val);

	strbuf_addch(rec, PCI_REC_FUNC);
	pci_frame_str(rec, address);
	pci_frame_num(rec, (long)ids->cls);
	pci_frame_num(rec, (long)ids->vendor);
	pci_frame_num(rec, (long)ids->device);
	pci_frame_num(rec, (long)ids->svendor);
	pci_frame_num(rec, (long)ids->sdevice);
	pci_frame_num(rec, have_rev ? (long)rev : -1);
	pci_frame_num(rec, group);
	pci_frame_num(rec, boot_vga);
	pci_frame_num(rec, numa);
	pci_frame_num(rec, vfs);
	pci_frame_num(rec, width);
	r = pci_child_link(dfd, devdir, "driver", val);
	pci_frame_str(rec, r > 0 ? val->buf : NULL);
	pci_child_str(dfd, devdir, "driver_override", rec, val);
	pci_child_str(dfd, devdir, "reset_method", rec, val);
	pci_child_str(dfd, devdir, "current_link_speed", rec, val);
	strbuf_addch(rec, '\n');
	close(dfd);
	return true;
fail:
	if (dfd >= 0)
		close(dfd);
	strbuf_reset(rec);
	return false;
}

/* An N record for one function; rec is scratch space kept by the caller. */
static void
pci_child_names(struct pci_access *a, const struct pci_child_ids *ids,
		const char *address, struct strbuf *rec)
{
	const int flags = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
	const int v = (int)ids->vendor, d = (int)ids->device;
	const int sv = (int)ids->svendor, sd = (int)ids->sdevice;
	char buf[256];
	struct strbuf *o = rec;
	const char *subsys = NULL;

	/* Built aside: a lookup may end in the error hook, which must not
	 * find half a record in the output. */
	strbuf_reset(o);
	strbuf_addch(o, PCI_REC_NAMES);
	pci_frame_str(o, address);
	pci_frame_str(o, pci_lookup_name(a, buf, sizeof(buf),
		flags | PCI_LOOKUP_CLASS, (int)(ids->cls >> 8)));
	pci_frame_str(o, pci_lookup_name(a, buf, sizeof(buf),
		flags | PCI_LOOKUP_VENDOR, v));
	pci_frame_str(o, pci_lookup_name(a, buf, sizeof(buf),
		flags | PCI_LOOKUP_DEVICE, v, d));
	if (sv && sv != 0xffff) {
		/* "ASUSTeK Computer Inc. ROG STRIX GTX 1060", or just the
		 * vendor when pci.ids does not know the card. */
		subsys = pci_lookup_name(a, buf, sizeof(buf),
			flags | PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE |
			PCI_LOOKUP_SUBSYSTEM, v, d, sv, sd);
		if (!subsys)
			subsys = pci_lookup_name(a, buf, sizeof(buf),
				flags | PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR, sv);
	}
	pci_frame_str(o, subsys);
	strbuf_addch(o, '\n');
	strbuf_add(&pci_child.out, rec->buf, rec->len);
}

/* The whole regular file at path into out (reset first), in as few reads
 * as its size allows. Returns 0 or -errno (-EFBIG over PCI_IDS_MAX,
 * -EINVAL for anything but a regular file). */
static int
pci_read_whole(const char *path, struct strbuf *out)
{
	struct stat st;
	int fd, r = 0;

	strbuf_reset(out);
	fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* A device or FIFO in a tree is libpci's to trip over, as before. */
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > (off_t)PCI_IDS_MAX) {
		r = -EFBIG;
		goto out;
	}
	for (;;) {
		/* One read for the size fstat gave, one more to see EOF. */
		size_t room = (size_t)st.st_size + 1 > out->len ?
			      (size_t)st.st_size + 1 - out->len : 65536;
		ssize_t n;

		if (out->len + room > PCI_IDS_MAX) {
			r = -EFBIG;
			break;
		}
		strbuf_grow(out, room);
		n = read(fd, out->buf + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		strbuf_setlen(out, out->len + (size_t)n);
	}
out:
	close(fd);
	return r;
}

/*
 * The pci.ids for libpci: a memfd holding just the blocks this worker's
 * lookups reach (see pciids.h), named through /proc/self/fd in path; or
 * idsfile itself when pciids is not sure of the file or there is no memfd
 * or /proc. The memfd stays open until the worker exits.
 */
static const char *
pci_child_ids_file(const char *idsfile, const struct pci_child_ids *ids,
		   size_t n, unsigned int worker, unsigned int nworkers,
		   struct strbuf *path)
{
	struct pciids_index ix = PCIIDS_INDEX_INIT;
	struct strbuf text = STRBUF_INIT, cut = STRBUF_INIT;
	struct pciids_vendors *want = NULL;
	const char *use = idsfile;
	int fd = -1;

	strbuf_reset(path);
	if (pci_read_whole(idsfile, &text) < 0 ||
	    !pciids_index(text.buf, text.len, &ix))
		goto out;
	want = xcalloc(1, sizeof(*want));
	for (size_t i = worker; i < n; i += nworkers) {
		if (!ids[i].ok)
			continue;
		pciids_vendors_add(want, (unsigned int)ids[i].vendor);
		pciids_vendors_add(want, (unsigned int)ids[i].svendor);
	}
	pciids_filter(text.buf, &ix, want, &cut);
	fd = memfd_create("pci.ids", MFD_CLOEXEC);
	if (fd < 0 || pci_write_all(fd, cut.buf, cut.len) < 0)
		goto out;
	strbuf_addf(path, "/proc/self/fd/%d", fd);
	/* libpci takes a file it cannot open for "no names": be sure. */
	if (access(path->buf, R_OK) != 0)
		goto out;
	use = path->buf;
	fd = -1;
out:
	if (fd >= 0) {
		close(fd);
		strbuf_reset(path);
	}
	pciids_index_release(&ix);
	strbuf_release(&text);
	strbuf_release(&cut);
	free(want);
	return use;
}

/* libpci's devices in address order, so that the workers, each with its
 * own scan, split them the same way (and evenly) by position. */
static int
pci_dev_cmp(const void *a, const void *b)
{
	const struct pci_dev *x = *(struct pci_dev *const *)a;
	const struct pci_dev *y = *(struct pci_dev *const *)b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->func > y->func) - (x->func < y->func);
}

/*
 * A scan worker (one of nworkers, each a child process with its own share
 * of the functions): libpci enumerates the functions and later names
 * them; the attributes are read here, checked, and framed. libpci's own
 * fill is not used for them: it treats a missing vendor/device/class as
 * fatal, reads garbage as 0 (strtol), reads each file with a full path,
 * and dereferences links with realpath() (a readlink per path component).
 * Reading them here cut the syscalls per function from about 75 to 40 and
 * reports each bad file by name.
 */
static void __attribute__((noreturn))
pci_child_run(const char *sysfs, const char *idsfile, int fd,
	      unsigned int worker, unsigned int nworkers)
{
	struct strbuf devices = STRBUF_INIT, devdir = STRBUF_INIT;
	struct strbuf addr = STRBUF_INIT, rec = STRBUF_INIT;
	struct strbuf val = STRBUF_INIT, idspath = STRBUF_INIT;
	struct pci_child_ids *ids = NULL;
	struct pci_dev **devs = NULL;
	struct pci_access *a;
	struct pci_dev *d;
	size_t n = 0, i;
	int devfd;

	pci_child.fd = fd;
	strbuf_addf(&devices, "%s/devices", sysfs);
	pci_child.code = "pci-scan";
	pci_child.path = devices.buf;

	a = pci_alloc();
	a->error = pci_child_error;
	a->warning = pci_child_warning;
	a->debug = pci_child_debug;
	a->method = PCI_ACCESS_SYS_BUS_PCI;
	/* No ~/.cache/pci-ids, no udev hwdb: names come from the target's
	 * pci.ids only (hwdb.disable does not exist in the static build). */
	a->id_lookup_mode = 0;
	pci_set_param(a, "hwdb.disable", "1");
	pci_set_param(a, "sysfs.path", (char *)sysfs);
	pci_init(a);
	pci_scan_bus(a);
	for (d = a->devices; d; d = d->next)
		n++;
	devs = xcalloc(n ? n : 1, sizeof(*devs));
	ids = xcalloc(n ? n : 1, sizeof(*ids));
	for (d = a->devices, i = 0; d; d = d->next)
		devs[i++] = d;
	qsort(devs, n, sizeof(*devs), pci_dev_cmp);

	/* Each function's folder is opened under this one: a path walk of
	 * one name instead of the whole prefix, 150 times over. */
	devfd = openat(AT_FDCWD, devices.buf, O_DIRECTORY | O_CLOEXEC | O_PATH);
	for (i = worker; i < n; i += nworkers) {
		d = devs[i];
		strbuf_reset(&addr);
		strbuf_addf(&addr, "%04x:%02x:%02x.%d", d->domain, d->bus,
			    d->dev, d->func);
		strbuf_reset(&devdir);
		strbuf_addf(&devdir, "%s/%s", devices.buf, addr.buf);
		ids[i].ok = pci_child_func(devfd < 0 ? AT_FDCWD : devfd,
					   devfd < 0 ? devdir.buf : addr.buf,
					   devdir.buf, addr.buf, &ids[i], &rec,
					   &val);
		strbuf_add(&pci_child.out, rec.buf, rec.len);
	}

	/* Names last: a pci.ids libpci refuses then costs the names only. */
	if (idsfile) {
		pci_child.code = "pci-ids";
		pci_child.path = idsfile;
		pci_set_name_list_path(a, (char *)pci_child_ids_file(idsfile,
			ids, n, worker, nworkers, &idspath), 0);
		pci_child.ids_alias = idspath.buf;
		for (i = worker; i < n; i += nworkers) {
			if (!ids[i].ok)
				continue;
			d = devs[i];
			strbuf_reset(&addr);
			strbuf_addf(&addr, "%04x:%02x:%02x.%d", d->domain,
				    d->bus, d->dev, d->func);
			pci_child_names(a, &ids[i], addr.buf, &rec);
		}
	}
	strbuf_addch(&pci_child.out, PCI_REC_END);
	strbuf_addch(&pci_child.out, '\n');
	/* Ours are freed (valgrind follows the worker, and once the compiler
	 * drops the last pointer they would count as leaks). No
	 * pci_cleanup(): libpci's go with the process, as do the buffers
	 * pci_child points at. */
	if (devfd >= 0)
		close(devfd);
	free(ids);
	free(devs);
	strbuf_release(&devdir);
	strbuf_release(&addr);
	strbuf_release(&rec);
	strbuf_release(&val);
	pci_child_exit(0);
}

/* --- the parent --- */

/* Fork scan worker `worker`; *pid and *fd (read end) for
 * pci_child_collect(). */
static int
pci_child_start(const char *sysfs, const char *ids, unsigned int worker,
		unsigned int nworkers, pid_t *pid, int *fd, struct strbuf *why)
{
	int fds[2], r;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = -errno;
		strbuf_addf(why, "pipe: %s", strerror(-r));
		return r;
	}
	/* EAGAIN is a process limit met for a moment (a busy account, many
	 * agents at once): worth a few short waits before giving up. */
	for (int tries = 0; (*pid = fork()) < 0 && errno == EAGAIN &&
	     tries < PCI_FORK_TRIES; tries++)
		usleep(1000u << tries);
	if (*pid < 0) {
		r = -errno;
		strbuf_addf(why, "fork: %s", strerror(-r));
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (*pid == 0) {
		close(fds[0]);
		pci_child_run(sysfs, ids, fds[1], worker, nworkers);
	}
	close(fds[1]);
	*fd = fds[0];
	return 0;
}

/* Kill and reap the first n workers (a start that went wrong). */
static void
pci_child_stop(const pid_t *pid, const int *fd, unsigned int n)
{
	for (unsigned int w = 0; w < n; w++) {
		close(fd[w]);
		kill(pid[w], SIGKILL);
		while (waitpid(pid[w], NULL, 0) < 0 && errno == EINTR)
			;
	}
}

/*
 * Start nworkers workers into pid[] and fd[]. Should one fail to start,
 * stop the others and fall back to a single worker: the split is fixed
 * when they start. Returns how many run; 0 (with why) if none could.
 */
static unsigned int
pci_workers_start(const char *sysfs, const char *ids, unsigned int nworkers,
		  pid_t *pid, int *fd, struct strbuf *why)
{
	for (unsigned int w = 0; w < nworkers; w++) {
		strbuf_reset(why);
		if (pci_child_start(sysfs, ids, w, nworkers, &pid[w], &fd[w],
				    why) == 0)
			continue;
		pci_child_stop(pid, fd, w);
		if (nworkers == 1)
			return 0;
		return pci_workers_start(sysfs, ids, 1, pid, fd, why);
	}
	return nworkers;
}

/*
 * Collect the child's output into out, close fd and reap pid, giving up
 * PCI_SCAN_TIMEOUT_MS after t0 (when the scan started). Returns 0
 * when it exited with status 0, 1 when its error hook ended it (its last
 * record says why), or -errno with the reason in why (crash, timeout).
 */
static int
pci_child_collect(pid_t pid, int fd, const struct timespec *t0,
		  struct strbuf *out, struct strbuf *why)
{
	int status = 0, r = 0;
	struct timespec now;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long waited, left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - t0->tv_sec) * 1000 +
			 (now.tv_nsec - t0->tv_nsec) / 1000000;
		left = PCI_SCAN_TIMEOUT_MS - waited;
		if (left <= 0) {
			strbuf_addf(why, "scan process timed out after %d ms",
				    PCI_SCAN_TIMEOUT_MS);
			r = -ETIMEDOUT;
			break;
		}
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			strbuf_addf(why, "poll: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (out->len >= PCI_SCAN_OUTPUT_MAX) {
			strbuf_addf(why, "scan output over %u bytes",
				    PCI_SCAN_OUTPUT_MAX);
			r = -EFBIG;
			break;
		}
		strbuf_grow(out, 65536);
		n = read(fd, out->buf + out->len, 65536);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			strbuf_addf(why, "read from scan process: %s",
				    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		strbuf_setlen(out, out->len + (size_t)n);
	}
	close(fd);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = 0;
			break;
		}
	}
	if (r < 0)
		return r;
	if (WIFSIGNALED(status)) {
		strbuf_addf(why, "scan process killed by signal %d",
			    WTERMSIG(status));
		return -EIO;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == PCI_CHILD_EXIT_ERROR)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		strbuf_addf(why, "scan process exited with status %d",
			    WEXITSTATUS(status));
		return -EIO;
	}
	return 0;
}

/*
 * Parse one record at *pp (advanced past it) into rec. The fields stay in
 * the buffer, each NUL-terminated in place once the whole record has
 * parsed: the byte after a field's content is the next field's length or
 * the record's '\n', already read. No copy of 2,500 fields per big host.
 * Returns 1 for a record, 0 at the end of the buffer, -EPROTO for garbage.
 */
static int
pci_rec_next(char **pp, char *end, struct pci_rec *rec)
{
	char *p = *pp;
	size_t want, len[PCI_REC_MAXF];

	memset(rec, 0, sizeof(*rec));
	if (p == end)
		return 0;
	rec->type = *p++;
	switch (rec->type) {
	case PCI_REC_FUNC:	want = PCI_F__COUNT; break;
	case PCI_REC_NAMES:	want = 5; break;
	case PCI_REC_ERROR:	want = 3; break;
	case PCI_REC_END:	want = 0; break;
	default:		return -EPROTO;
	}
	while (rec->nfields < want) {
		size_t n = 0;

		if (p < end && *p == '-') {
			rec->f[rec->nfields++] = NULL;
			p++;
			continue;
		}
		if (p == end || !isdigit((unsigned char)*p))
			return -EPROTO;
		while (p < end && isdigit((unsigned char)*p)) {
			if (n > PCI_SCAN_OUTPUT_MAX)
				return -EPROTO;
			n = n * 10 + (size_t)(*p++ - '0');
		}
		if (p == end || *p++ != ':' || (size_t)(end - p) < n)
			return -EPROTO;
		len[rec->nfields] = n;
		rec->f[rec->nfields++] = p;
		p += n;
	}
	if (p == end || *p++ != '\n')
		return -EPROTO;
	for (size_t i = 0; i < rec->nfields; i++)
		if (rec->f[i])
			rec->f[i][len[i]] = '\0';
	*pp = p;
	return 1;
}

static char *
pci_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Fill a new function from an F record; false if a number is garbled. */
static bool
pci_func_from_rec(struct proto_response *resp, const struct pci_rec *rec)
{
	long v[PCI_F_DRIVER];
	struct proto_pci_func *f;

	if (!rec->f[PCI_F_ADDRESS])
		return false;
	for (int i = PCI_F_CLASS; i < PCI_F_DRIVER; i++)
		if (!rec->f[i] || !pci_parse_dec(rec->f[i], -1, INT_MAX, &v[i]))
			return false;
	f = proto_add_func(resp);
	f->address = xstrdup(rec->f[PCI_F_ADDRESS]);
	f->class_code = (uint32_t)v[PCI_F_CLASS];
	f->vendor_id = (uint16_t)v[PCI_F_VENDOR];
	f->device_id = (uint16_t)v[PCI_F_DEVICE];
	f->subsys_vendor_id = (uint16_t)v[PCI_F_SVENDOR];
	f->subsys_device_id = (uint16_t)v[PCI_F_SDEVICE];
	f->revision = (int)v[PCI_F_REVISION];
	f->iommu_group = (int)v[PCI_F_GROUP];
	f->boot_vga = v[PCI_F_BOOT_VGA] < 0 ? PROTO_UNKNOWN :
		v[PCI_F_BOOT_VGA] ? PROTO_YES : PROTO_NO;
	f->numa_node = (int)v[PCI_F_NUMA];
	f->sriov_totalvfs = (int)v[PCI_F_VFS];
	f->link_width = (int)v[PCI_F_LINK_WIDTH];
	f->driver = pci_dup(rec->f[PCI_F_DRIVER]);
	f->driver_override = pci_dup(rec->f[PCI_F_OVERRIDE]);
	f->reset_method = pci_dup(rec->f[PCI_F_RESET]);
	f->link_speed = pci_dup(rec->f[PCI_F_LINK_SPEED]);
	return true;
}

static bool
pci_streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Is rec's error already among resp->errors[from..]? */
static bool
pci_error_seen(const struct proto_response *resp, size_t from,
	       const struct pci_rec *rec)
{
	for (size_t i = from; i < resp->nerrors; i++) {
		const struct proto_error *e = &resp->errors[i];

		if (pci_streq(e->code, rec->f[0]) &&
		    pci_streq(e->path, rec->f[1]) &&
		    pci_streq(e->message, rec->f[2]))
			return true;
	}
	return false;
}

/*
 * Turn one worker's output into funcs and errors (errors already added
 * since resp->errors[nerrors] are not repeated).
 */
static void
pci_parse_output(struct strbuf *out, struct proto_response *resp,
		 size_t nerrors, bool *complete)
{
	char *p = out->buf, *end = out->buf + out->len;
	size_t next_named = resp->nfuncs;
	struct pci_rec rec;
	int r;

	*complete = false;
	while ((r = pci_rec_next(&p, end, &rec)) > 0) {
		struct proto_pci_func *f = NULL;

		switch (rec.type) {
		case PCI_REC_FUNC:
			if (!pci_func_from_rec(resp, &rec))
				proto_add_error(resp, "pci-scan", NULL,
					"scan process sent a garbled record");
			break;
		case PCI_REC_NAMES:
			/* Names come in the order of the functions. */
			if (next_named < resp->nfuncs && rec.f[0] &&
			    strcmp(resp->funcs[next_named].address, rec.f[0]) == 0)
				f = &resp->funcs[next_named++];
			else if (rec.f[0])
				f = proto_find_func(resp, rec.f[0]);
			if (!f)
				break;
			f->class_name = pci_dup(rec.f[1]);
			f->vendor_name = pci_dup(rec.f[2]);
			f->device_name = pci_dup(rec.f[3]);
			f->subsys_name = pci_dup(rec.f[4]);
			break;
		case PCI_REC_ERROR:
			/* Every worker meets a scan or pci.ids error. */
			if (!pci_error_seen(resp, nerrors, &rec))
				proto_add_error(resp,
					rec.f[0] ? rec.f[0] : "pci-scan",
					rec.f[1], "%s",
					rec.f[2] ? rec.f[2] : "libpci error");
			break;
		case PCI_REC_END:
			*complete = true;
			break;
		}
	}
	if (r < 0)
		proto_add_error(resp, "pci-scan", NULL,
			"scan process sent garbled output at byte %zu",
			(size_t)(p - out->buf));
}

/* Addresses sort by domain, then the fixed-width rest. */
static int
pci_addr_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static int
pci_func_cmp(const void *a, const void *b)
{
	const struct proto_pci_func *fa = a, *fb = b;

	return pci_addr_cmp(fa->address, fb->address);
}

static int
pci_str_cmp(const void *a, const void *b)
{
	return pci_addr_cmp(*(char *const *)a, *(char *const *)b);
}

static int
pci_int_cmp(const void *a, const void *b)
{
	int ia = *(const int *)a, ib = *(const int *)b;

	return (ia > ib) - (ia < ib);
}

static const struct proto_iommu_group *
pci_group_find(const struct proto_response *resp, int id)
{
	for (size_t i = 0; i < resp->ngroups; i++)
		if (resp->groups[i].id == id)
			return &resp->groups[i];
	return NULL;
}

/*
 * A function's iommu_group link and the group folders must agree. The
 * kernel guarantees it; a tree where they do not (a link to a missing
 * group, as lspci shows it: none) is worth an error, not a silent guess.
 */
static void
pci_groups_check(const char *root, struct proto_response *resp, size_t first)
{
	struct strbuf path = STRBUF_INIT;

	for (size_t i = first; i < resp->nfuncs; i++) {
		struct proto_pci_func *f = &resp->funcs[i];
		const struct proto_iommu_group *g;
		bool listed = false;

		if (f->iommu_group < 0)
			continue;
		g = pci_group_find(resp, f->iommu_group);
		for (size_t m = 0; g && m < g->nmembers; m++)
			listed |= strcmp(g->members[m], f->address) == 0;
		if (listed)
			continue;
		sysroot_pathf(&path, root, "/sys/bus/pci/devices/%s/iommu_group",
			      f->address);
		if (!g) {
			proto_add_error(resp, "pci-attr", path.buf,
				"links to IOMMU group %d, which does not exist; "
				"treated as none", f->iommu_group);
			f->iommu_group = -1;
		} else {
			proto_add_error(resp, "pci-attr", path.buf,
				"links to IOMMU group %d, which does not list %s",
				f->iommu_group, f->address);
		}
	}
	strbuf_release(&path);
}

/*
 * Directories without opendir(): readdir() allocates a DIR for each (musl
 * maps and unmaps it) and opendir() adds an fcntl, for each of the ~100
 * group folders of a big host. The records are the kernel's struct
 * linux_dirent64.
 */
struct pci_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int
pci_dir_open(int at, const char *path)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* fn(name, ctx) for each entry of the open folder fd but "." names. A
 * read error ends the list, as it ends readdir(). */
static void
pci_dir_each(int fd, void (*fn)(const char *name, void *ctx), void *ctx)
{
	union {
		char buf[8192];
		struct pci_dirent64 align;
	} u;

	for (;;) {
		long n = syscall(SYS_getdents64, fd, u.buf, sizeof(u.buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			const struct pci_dirent64 *de =
				(const struct pci_dirent64 *)(u.buf + off);

			off += de->reclen;
			if (de->name[0] != '.')
				fn(de->name, ctx);
		}
	}
}

static void
pci_group_member(const char *name, void *vg)
{
	struct proto_iommu_group *g = vg;

	proto_strv_add(&g->members, &g->nmembers, name);
}

/* Members of group folder rel under groups, sorted; -errno when the
 * folder is unreadable. */
static int
pci_group_members(int groups, const char *rel, struct proto_iommu_group *g)
{
	int fd = pci_dir_open(groups, rel);

	if (fd < 0)
		return fd;
	pci_dir_each(fd, pci_group_member, g);
	close(fd);
	if (g->nmembers > 1)
		qsort(g->members, g->nmembers, sizeof(*g->members), pci_str_cmp);
	return 0;
}

struct pci_group_ids {
	struct proto_response *resp;
	const char *dir;
	int *ids;
	size_t nids, alloc;
};

static void
pci_group_id(const char *name, void *vc)
{
	struct pci_group_ids *c = vc;
	long id;

	if (!pci_parse_dec(name, 0, INT_MAX, &id)) {
		proto_add_error(c->resp, "iommu-groups", c->dir,
			"unexpected entry '%.64s' (want a group number)", name);
		return;
	}
	XGROW(c->ids, c->alloc, c->nids + 1);
	c->ids[c->nids++] = (int)id;
}

/* ROOT/sys/kernel/iommu_groups/N/devices/<address>, sorted by N. */
static void
pci_groups_walk(const char *root, struct proto_response *resp)
{
	struct strbuf path = STRBUF_INIT;
	struct pci_group_ids c = { .resp = resp };
	size_t base;
	int fd;

	sysroot_path(&path, root, "/sys/kernel/iommu_groups");
	c.dir = path.buf;
	fd = pci_dir_open(AT_FDCWD, path.buf);
	if (fd < 0) {
		/* No folder at all is the normal "IOMMU off" picture. */
		if (fd != -ENOENT)
			proto_add_error(resp, "iommu-groups", path.buf,
					"cannot list: %s", strerror(-fd));
		goto out;
	}
	pci_dir_each(fd, pci_group_id, &c);
	if (c.nids > 1)
		qsort(c.ids, c.nids, sizeof(*c.ids), pci_int_cmp);
	strbuf_addch(&path, '/');
	base = path.len;
	for (size_t i = 0; i < c.nids; i++) {
		struct proto_iommu_group *g;
		int r;

		strbuf_setlen(&path, base);
		strbuf_addf(&path, "%d/devices", c.ids[i]);
		g = proto_add_group(resp);
		g->id = c.ids[i];
		/* Opened under the groups folder: one short path walk each. */
		r = pci_group_members(fd, path.buf + base, g);
		if (r < 0)
			proto_add_error(resp, "iommu-groups", path.buf,
					"cannot list: %s", strerror(-r));
	}
	close(fd);
out:
	free(c.ids);
	strbuf_release(&path);
}

/*
 * The target's pci.ids into out, or false. A symlink with an absolute
 * target is followed inside root, so a fixture's link never reaches the
 * controller machine's own file.
 */
static bool
pci_ids_path(const char *root, struct strbuf *out)
{
	static const char *const candidates[] = {
		"/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids",
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		sysroot_path(out, root, candidates[i]);
		for (int hops = 0; hops < 8; hops++) {
			char target[PATH_MAX];
			ssize_t n = readlink(out->buf, target, sizeof(target) - 1);

			if (n <= 0)
				break;
			target[n] = '\0';
			if (target[0] == '/') {
				sysroot_path(out, root, target);
			} else {
				char *slash = strrchr(out->buf, '/');

				strbuf_setlen(out, (size_t)(slash - out->buf) + 1);
				strbuf_addstr(out, target);
			}
		}
		if (access(out->buf, R_OK) == 0)
			return true;
	}
	strbuf_reset(out);
	return false;
}

/*
 * How many scan workers: one per CPU up to PCI_WORKERS_MAX, and one for a
 * host with few functions, where another fork costs more than it saves.
 * Reading ~15 attributes of each of 150 functions is a few thousand
 * syscalls; split over workers it was measured ~1.7x faster on 2 CPUs.
 */
static unsigned int
pci_workers(const char *sysfs)
{
	struct strbuf path = STRBUF_INIT;
	size_t n = 0;
	long cpus;
	DIR *d;

	strbuf_addf(&path, "%s/devices", sysfs);
	d = opendir(path.buf);
	strbuf_release(&path);
	if (!d)
		return 1;	/* the worker reports why */
	while (n < PCI_WORKERS_MIN_FUNCS && readdir(d))
		n++;
	closedir(d);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < PCI_WORKERS_MIN_FUNCS || cpus < 2)
		return 1;
	return cpus < PCI_WORKERS_MAX ? (unsigned int)cpus : PCI_WORKERS_MAX;
}

int
pci_discover(const char *root, struct proto_response *resp)
{
	return pci_discover_workers(root, resp, 0);
}

int
pci_discover_workers(const char *root, struct proto_response *resp,
		     unsigned int nworkers)
{
	struct strbuf sysfs = STRBUF_INIT, ids = STRBUF_INIT;
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	size_t nerrors = resp->nerrors, first = resp->nfuncs;
	/* Filled by pci_workers_start() for the workers it returns. */
	pid_t pid[PCI_WORKERS_MAX] = { 0 };
	int fd[PCI_WORKERS_MAX] = { 0 };
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sysroot_path(&sysfs, root, "/sys/bus/pci");
	pci_ids_path(root, &ids);
	if (!nworkers)
		nworkers = pci_workers(sysfs.buf);
	if (nworkers > PCI_WORKERS_MAX)
		nworkers = PCI_WORKERS_MAX;
	nworkers = pci_workers_start(sysfs.buf, ids.len ? ids.buf : NULL,
				     nworkers, pid, fd, &why);
	if (!nworkers)
		proto_add_error(resp, "pci-scan", sysfs.buf, "%s", why.buf);
	/* The groups do not depend on the functions: walk them while the
	 * workers run (should an output outgrow its pipe, the worker waits). */
	pci_groups_walk(root, resp);

	for (unsigned int w = 0; w < nworkers; w++) {
		bool complete = false;
		int r;

		strbuf_reset(&out);
		strbuf_reset(&why);
		r = pci_child_collect(pid[w], fd[w], &t0, &out, &why);
		pci_parse_output(&out, resp, nerrors, &complete);
		/* After the error hook, the worker's last record says why it
		 * stopped; any other early end (crash, timeout) needs its
		 * own entry. */
		if (r < 0)
			proto_add_error(resp, "pci-scan", sysfs.buf, "%s", why.buf);
		else if (r == 0 && !complete)
			proto_add_error(resp, "pci-scan", sysfs.buf,
					"scan process ended without finishing");
	}

	if (resp->nfuncs - first > 1)
		qsort(resp->funcs + first, resp->nfuncs - first,
		      sizeof(*resp->funcs), pci_func_cmp);
	pci_groups_check(root, resp, first);

	strbuf_release(&sysfs);
	strbuf_release(&ids);
	strbuf_release(&out);
	strbuf_release(&why);
	return resp->nerrors > nerrors ? -EIO : 0;
}
