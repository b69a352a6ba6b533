/* Unit tests for agent/pci.c: discovery on the fixture trees and on small
 * broken trees built in a temporary folder by each test's setup. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pci/pci.h>

#include "pci.h"
#include "pciids.h"
#include "proto.h"
#include "strbuf.h"

/* --- a tiny sysfs builder --- */

struct tree {
	char root[64];
};

static void
tree_mkdirs(const char *path)
{
	char buf[4096];

	assert_true(strlen(path) < sizeof(buf));
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/* Write root/rel with content (parents created). */
static void
tree_put(struct tree *t, const char *rel, const char *content)
{
	struct strbuf path = STRBUF_INIT;
	char *slash;
	FILE *f;

	strbuf_addf(&path, "%s/%s", t->root, rel);
	slash = strrchr(path.buf, '/');
	*slash = '\0';
	tree_mkdirs(path.buf);
	*slash = '/';
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	strbuf_release(&path);
}

static void
tree_link(struct tree *t, const char *rel, const char *target)
{
	struct strbuf path = STRBUF_INIT;
	char *slash;

	strbuf_addf(&path, "%s/%s", t->root, rel);
	slash = strrchr(path.buf, '/');
	*slash = '\0';
	tree_mkdirs(path.buf);
	*slash = '/';
	assert_int_equal(symlink(target, path.buf), 0);
	strbuf_release(&path);
}

static void
tree_rm(struct tree *t, const char *rel)
{
	struct strbuf path = STRBUF_INIT;

	strbuf_addf(&path, "%s/%s", t->root, rel);
	assert_int_equal(unlink(path.buf), 0);
	strbuf_release(&path);
}

/*
 * One PCI function as the fixtures and lspci want it. driver and group
 * may be NULL; the driver and group folders are created so the links
 * resolve.
 */
static void
tree_func(struct tree *t, const char *bdf, const char *vendor,
	  const char *device, const char *class, const char *rev,
	  const char *driver, int group)
{
	struct strbuf rel = STRBUF_INIT, target = STRBUF_INIT;
	char config[64] = { 0 };
	FILE *f;

#define ATTR(name, value) do { \
		strbuf_reset(&rel); \
		strbuf_addf(&rel, "sys/bus/pci/devices/%s/%s", bdf, name); \
		tree_put(t, rel.buf, value); \
	} while (0)
	ATTR("vendor", vendor);
	ATTR("device", device);
	ATTR("class", class);
	ATTR("revision", rev);
	ATTR("subsystem_vendor", "0x1043\n");
	ATTR("subsystem_device", "0x85c5\n");
	ATTR("numa_node", "-1\n");
#undef ATTR
	/* 64 bytes of config space, so nothing falls back to reading it. */
	strbuf_reset(&rel);
	strbuf_addf(&rel, "%s/sys/bus/pci/devices/%s/config", t->root, bdf);
	f = fopen(rel.buf, "w");
	assert_non_null(f);
	fwrite(config, 1, sizeof(config), f);
	fclose(f);
	if (driver) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, "sys/bus/pci/drivers/%s/.keep", driver);
		tree_put(t, rel.buf, "");
		strbuf_reset(&rel);
		strbuf_addf(&rel, "sys/bus/pci/devices/%s/driver", bdf);
		strbuf_reset(&target);
		strbuf_addf(&target, "../../drivers/%s", driver);
		tree_link(t, rel.buf, target.buf);
	}
	if (group >= 0) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
		strbuf_reset(&target);
		strbuf_addf(&target, "../../../../bus/pci/devices/%s", bdf);
		tree_link(t, rel.buf, target.buf);
		strbuf_reset(&rel);
		strbuf_addf(&rel, "sys/bus/pci/devices/%s/iommu_group", bdf);
		strbuf_reset(&target);
		strbuf_addf(&target, "../../../../kernel/iommu_groups/%d", group);
		tree_link(t, rel.buf, target.buf);
	}
	strbuf_release(&rel);
	strbuf_release(&target);
}

static const char small_ids[] =
	"# tiny pci.ids for tests\n"
	"10de  NVIDIA Corporation\n"
	"\t1c03  GP106 [GeForce GTX 1060 6GB]\n"
	"\t\t1043 85c5  ROG STRIX GTX 1060\n"
	"\t10f1  GP106 High Definition Audio Controller\n"
	"1043  ASUSTeK Computer Inc.\n"
	"8086  Intel Corporation\n"
	"C 03  Display controller\n"
	"\t00  VGA compatible controller\n"
	"C 04  Multimedia controller\n"
	"\t03  Audio device\n"
	"C 06  Bridge\n"
	"\t04  PCI bridge\n";

/* A healthy host: bridge, GPU + audio in group 1, a NIC without driver. */
static void
tree_good(struct tree *t)
{
	tree_func(t, "0000:0e:00.1", "0x10de\n", "0x10f1\n", "0x040300\n",
		  "0xa1\n", "snd_hda_intel", 1);
	tree_func(t, "0000:0e:00.0", "0x10de\n", "0x1c03\n", "0x030000\n",
		  "0xa1\n", "nouveau", 1);
	tree_func(t, "0000:00:01.0", "0x8086\n", "0x1901\n", "0x060400\n",
		  "0x07\n", "pcieport", 0);
	tree_func(t, "0000:03:00.0", "0x8086\n", "0x1533\n", "0x020000\n",
		  "0x03\n", NULL, 12);
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/boot_vga", "1\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/reset_method", "flr bus\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/driver_override", "(null)\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/current_link_speed",
		 "8.0 GT/s PCIe\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/current_link_width", "16\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.1/driver_override", "vfio-pci\n");
	tree_put(t, "sys/bus/pci/devices/0000:03:00.0/sriov_totalvfs", "7\n");
	tree_put(t, "sys/bus/pci/devices/0000:03:00.0/numa_node", "1\n");
	tree_put(t, "usr/share/misc/pci.ids", small_ids);
}

static int
tree_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->root, "/tmp/vfleet-test-pci.XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	*state = t;
	return 0;
}

static int
teardown_tree(void **state)
{
	struct tree *t = *state;

	nftw(t->root, tree_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* --- helpers for assertions --- */

/* The first error with this code whose path ends in suffix, or NULL. */
static const struct proto_error *
find_error(const struct proto_response *resp, const char *code,
	   const char *suffix)
{
	for (size_t i = 0; i < resp->nerrors; i++) {
		const struct proto_error *e = &resp->errors[i];
		size_t n, m;

		if (strcmp(e->code, code) != 0)
			continue;
		if (!suffix)
			return e;
		if (!e->path)
			continue;
		n = strlen(e->path);
		m = strlen(suffix);
		if (n >= m && strcmp(e->path + n - m, suffix) == 0)
			return e;
	}
	return NULL;
}

static const struct proto_iommu_group *
find_group(const struct proto_response *resp, int id)
{
	for (size_t i = 0; i < resp->ngroups; i++)
		if (resp->groups[i].id == id)
			return &resp->groups[i];
	return NULL;
}

static void
print_errors(const struct proto_response *resp)
{
	for (size_t i = 0; i < resp->nerrors; i++)
		print_message("  error %s %s: %s\n", resp->errors[i].code,
			      resp->errors[i].path ? resp->errors[i].path : "-",
			      resp->errors[i].message);
}

/* --- healthy trees --- */

static void
test_good_tree(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_pci_func *f;
	const struct proto_iommu_group *g;

	tree_good(t);
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), 0);
	print_errors(&resp);
	assert_int_equal(resp.nerrors, 0);
	assert_true(resp.ok);

	/* All functions, sorted by address. */
	assert_int_equal(resp.nfuncs, 4);
	assert_string_equal(resp.funcs[0].address, "0000:00:01.0");
	assert_string_equal(resp.funcs[1].address, "0000:03:00.0");
	assert_string_equal(resp.funcs[2].address, "0000:0e:00.0");
	assert_string_equal(resp.funcs[3].address, "0000:0e:00.1");

	f = &resp.funcs[2];
	assert_int_equal(f->class_code, 0x030000);
	assert_int_equal(f->vendor_id, 0x10de);
	assert_int_equal(f->device_id, 0x1c03);
	assert_int_equal(f->subsys_vendor_id, 0x1043);
	assert_int_equal(f->subsys_device_id, 0x85c5);
	assert_int_equal(f->revision, 0xa1);
	assert_string_equal(f->class_name, "VGA compatible controller");
	assert_string_equal(f->vendor_name, "NVIDIA Corporation");
	assert_string_equal(f->device_name, "GP106 [GeForce GTX 1060 6GB]");
	assert_string_equal(f->subsys_name, "ASUSTeK Computer Inc. ROG STRIX GTX 1060");
	assert_string_equal(f->driver, "nouveau");
	assert_null(f->driver_override);	/* "(null)" */
	assert_int_equal(f->iommu_group, 1);
	assert_int_equal(f->boot_vga, PROTO_YES);
	assert_int_equal(f->numa_node, -1);
	assert_string_equal(f->reset_method, "flr bus");
	assert_int_equal(f->sriov_totalvfs, -1);
	assert_string_equal(f->link_speed, "8.0 GT/s PCIe");
	assert_int_equal(f->link_width, 16);

	f = &resp.funcs[3];
	assert_int_equal(f->class_code, 0x040300);
	assert_string_equal(f->class_name, "Audio device");
	assert_string_equal(f->driver, "snd_hda_intel");
	assert_string_equal(f->driver_override, "vfio-pci");
	assert_int_equal(f->boot_vga, PROTO_UNKNOWN);
	/* Subsystem unknown to pci.ids: the subsystem vendor alone. */
	assert_string_equal(f->subsys_name, "ASUSTeK Computer Inc.");
	assert_null(f->link_speed);
	assert_int_equal(f->link_width, -1);

	f = &resp.funcs[1];
	assert_null(f->driver);
	assert_string_equal(f->vendor_name, "Intel Corporation");
	assert_null(f->device_name);		/* not in the small pci.ids */
	assert_null(f->class_name);		/* class 02 not in it either */
	assert_int_equal(f->iommu_group, 12);
	assert_int_equal(f->numa_node, 1);
	assert_int_equal(f->sriov_totalvfs, 7);

	/* Groups sorted by id, members sorted. */
	assert_int_equal(resp.ngroups, 3);
	assert_int_equal(resp.groups[0].id, 0);
	assert_int_equal(resp.groups[1].id, 1);
	assert_int_equal(resp.groups[2].id, 12);
	g = find_group(&resp, 1);
	assert_int_equal(g->nmembers, 2);
	assert_string_equal(g->members[0], "0000:0e:00.0");
	assert_string_equal(g->members[1], "0000:0e:00.1");
	proto_response_release(&resp);
}

/* Names from hwdata when misc has none; none at all without either. */
static void
test_ids_locations(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_pci_func *f;

	tree_func(t, "0000:0e:00.0", "0x10de\n", "0x1c03\n", "0x030000\n",
		  "0xa1\n", NULL, -1);
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), 0);
	assert_int_equal(resp.nfuncs, 1);
	/* Never the names of the machine running the test. */
	assert_null(resp.funcs[0].vendor_name);
	assert_null(resp.funcs[0].device_name);
	assert_null(resp.funcs[0].class_name);
	assert_int_equal(resp.ngroups, 0);
	proto_response_release(&resp);

	tree_put(t, "usr/share/hwdata/pci.ids", small_ids);
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), 0);
	f = &resp.funcs[0];
	assert_string_equal(f->vendor_name, "NVIDIA Corporation");
	assert_string_equal(f->device_name, "GP106 [GeForce GTX 1060 6GB]");
	proto_response_release(&resp);

	/* An absolute link is followed inside the root, not on this host. */
	tree_put(t, "opt/ids/pci.ids", "10de  Inside The Root\n");
	tree_link(t, "usr/share/misc/pci.ids", "/opt/ids/pci.ids");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), 0);
	assert_string_equal(resp.funcs[0].vendor_name, "Inside The Root");
	proto_response_release(&resp);
}

/* --- broken trees --- */

static void
test_missing_vendor(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_good(t);
	tree_rm(t, "sys/bus/pci/devices/0000:0e:00.1/vendor");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	assert_false(resp.ok);
	e = find_error(&resp, "pci-scan", "/0000:0e:00.1/vendor");
	assert_non_null(e);
	assert_non_null(strstr(e->message, "missing"));
	/* The broken function is left out, the others are all there. */
	assert_int_equal(resp.nfuncs, 3);
	assert_null(proto_find_func(&resp, "0000:0e:00.1"));
	assert_non_null(proto_find_func(&resp, "0000:0e:00.0"));
	assert_string_equal(proto_find_func(&resp, "0000:0e:00.0")->device_name,
			    "GP106 [GeForce GTX 1060 6GB]");
	proto_response_release(&resp);
}

static void
test_garbled_class(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_good(t);
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/class", "VGA!\n");
	tree_put(t, "sys/bus/pci/devices/0000:03:00.0/device", "");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	e = find_error(&resp, "pci-scan", "/0000:0e:00.0/class");
	assert_non_null(e);
	assert_non_null(strstr(e->message, "VGA!"));
	assert_non_null(find_error(&resp, "pci-scan", "/0000:03:00.0/device"));
	assert_int_equal(resp.nfuncs, 2);
	assert_null(proto_find_func(&resp, "0000:0e:00.0"));
	assert_null(proto_find_func(&resp, "0000:03:00.0"));
	proto_response_release(&resp);
}

static void
test_garbled_optional(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_pci_func *f;

	tree_good(t);
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/boot_vga", "yes\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/numa_node", "one\n");
	tree_put(t, "sys/bus/pci/devices/0000:0e:00.0/current_link_width", "");
	tree_put(t, "sys/bus/pci/devices/0000:03:00.0/sriov_totalvfs", "-3\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	assert_non_null(find_error(&resp, "pci-attr", "/0000:0e:00.0/boot_vga"));
	assert_non_null(find_error(&resp, "pci-attr", "/0000:0e:00.0/numa_node"));
	assert_non_null(find_error(&resp, "pci-attr",
				   "/0000:0e:00.0/current_link_width"));
	assert_non_null(find_error(&resp, "pci-attr",
				   "/0000:03:00.0/sriov_totalvfs"));
	assert_int_equal(resp.nerrors, 4);
	/* The functions stay, the garbled values stay unknown. */
	assert_int_equal(resp.nfuncs, 4);
	f = proto_find_func(&resp, "0000:0e:00.0");
	assert_int_equal(f->boot_vga, PROTO_UNKNOWN);
	assert_int_equal(f->numa_node, -1);
	assert_int_equal(f->link_width, -1);
	assert_string_equal(f->link_speed, "8.0 GT/s PCIe");
	assert_int_equal(proto_find_func(&resp, "0000:03:00.0")->sriov_totalvfs, -1);
	proto_response_release(&resp);
}

static void
test_dangling_group_link(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	struct strbuf p = STRBUF_INIT;

	tree_good(t);
	/* Group 12 disappears, the NIC's link to it stays. */
	strbuf_addf(&p, "%s/sys/kernel/iommu_groups/12/devices/0000:03:00.0", t->root);
	assert_int_equal(unlink(p.buf), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/sys/kernel/iommu_groups/12/devices", t->root);
	assert_int_equal(rmdir(p.buf), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/sys/kernel/iommu_groups/12", t->root);
	assert_int_equal(rmdir(p.buf), 0);
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	assert_non_null(find_error(&resp, "pci-attr", "/0000:03:00.0/iommu_group"));
	assert_int_equal(resp.nerrors, 1);
	assert_int_equal(proto_find_func(&resp, "0000:03:00.0")->iommu_group, -1);
	assert_int_equal(resp.ngroups, 2);
	proto_response_release(&resp);
	strbuf_release(&p);
}

/* A device entry that is not a folder, and an unreadable group folder. */
static void
test_unreadable_dirs(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_good(t);
	tree_put(t, "sys/bus/pci/devices/0000:00:1f.3", "not a folder\n");
	tree_put(t, "sys/kernel/iommu_groups/7/devices", "not a folder\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	e = find_error(&resp, "pci-scan", "/0000:00:1f.3");
	assert_non_null(e);
	assert_non_null(strstr(e->message, "Not a directory"));
	e = find_error(&resp, "iommu-groups", "/iommu_groups/7/devices");
	assert_non_null(e);
	assert_int_equal(resp.nfuncs, 4);
	assert_int_equal(resp.ngroups, 4);	/* 0 1 7 12; 7 without members */
	assert_int_equal(find_group(&resp, 7)->nmembers, 0);
	proto_response_release(&resp);
}

/* libpci's own fatal error (an entry it cannot parse) is contained. */
static void
test_libpci_error_contained(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_good(t);
	tree_put(t, "sys/bus/pci/devices/garbage/vendor", "0x10de\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	e = find_error(&resp, "pci-scan", "/sys/bus/pci/devices");
	assert_non_null(e);
	assert_non_null(strstr(e->message, "garbage"));
	assert_int_equal(resp.nerrors, 1);
	/* The groups are walked regardless. */
	assert_int_equal(resp.ngroups, 3);
	proto_response_release(&resp);

	/* Called again in the same process: still works (nothing leaked). */
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	assert_int_equal(resp.nerrors, 1);
	proto_response_release(&resp);
}

static void
test_no_sysfs(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_put(t, "etc/hostname", "empty\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	e = find_error(&resp, "pci-scan", "/sys/bus/pci/devices");
	assert_non_null(e);
	assert_int_equal(resp.nfuncs, 0);
	assert_int_equal(resp.ngroups, 0);
	proto_response_release(&resp);
}

/* A pci.ids libpci refuses costs the names, not the functions. */
static void
test_bad_ids(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	const struct proto_error *e;

	tree_good(t);
	tree_rm(t, "usr/share/misc/pci.ids");
	tree_put(t, "usr/share/misc/pci.ids", "10de  NVIDIA\n\t\t\tnonsense\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(t->root, &resp), -EIO);
	print_errors(&resp);
	e = find_error(&resp, "pci-ids", "/usr/share/misc/pci.ids");
	assert_non_null(e);
	/* libpci's own words about the file it was given: the real one. */
	assert_non_null(strstr(e->message, "/usr/share/misc/pci.ids, line 2"));
	assert_int_equal(resp.nerrors, 1);
	assert_int_equal(resp.nfuncs, 4);
	for (size_t i = 0; i < resp.nfuncs; i++)
		assert_null(resp.funcs[i].vendor_name);
	assert_string_equal(proto_find_func(&resp, "0000:0e:00.0")->driver,
			    "nouveau");
	proto_response_release(&resp);
}

/*
 * A mistake in a part of pci.ids no function needs is still libpci's
 * error, as when libpci parsed the whole file: the cut-down copy is only
 * used for a file libpci would take whole.
 */
static void
test_bad_ids_elsewhere(void **state)
{
	static const char *const broken[] = {
		/* vendor 1234 twice, far from the host's 10de and 8086 */
		"1234  First\n1234  Again\n",
		/* a device twice in a vendor nobody has */
		"1234  Vendor\n\t0001  A\n\t0001  B\n",
		/* a subsystem twice, out of order */
		"1234  Vendor\n\t0001  A\n\t\t1043 0002  x\n"
		"\t\t1043 0001  y\n\t\t1043 0002  z\n",
		/* a nameless entry */
		"1234  Vendor\n\t0001 \n",
		/* a generic subsystem block for a vendor not yet listed */
		"S 4321\n\t0001  x\n",
		/* a line longer than libpci reads */
		NULL,
	};
	struct tree *t = *state;
	struct strbuf ids = STRBUF_INIT;

	tree_good(t);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		struct proto_response resp;
		const struct proto_error *e;

		strbuf_reset(&ids);
		strbuf_addstr(&ids, small_ids);
		if (broken[i]) {
			strbuf_addstr(&ids, broken[i]);
		} else {
			strbuf_addstr(&ids, "1234  ");
			for (int k = 0; k < 1100; k++)
				strbuf_addch(&ids, 'x');
			strbuf_addch(&ids, '\n');
		}
		tree_rm(t, "usr/share/misc/pci.ids");
		tree_put(t, "usr/share/misc/pci.ids", ids.buf);
		proto_response_init(&resp, PROTO_OP_FACTS);
		assert_int_equal(pci_discover(t->root, &resp), -EIO);
		print_errors(&resp);
		e = find_error(&resp, "pci-ids", "/usr/share/misc/pci.ids");
		assert_non_null(e);
		assert_non_null(strstr(e->message, "/usr/share/misc/pci.ids, line"));
		assert_int_equal(resp.nerrors, 1);
		assert_int_equal(resp.nfuncs, 4);
		for (size_t f = 0; f < resp.nfuncs; f++)
			assert_null(resp.funcs[f].vendor_name);
		proto_response_release(&resp);
	}
	strbuf_release(&ids);
}

/* --- pciids: the cut-down pci.ids --- */

/* Everything the lookups can meet: subsystems (one device's out of
 * order), a generic "S" block, a device that is its own subsystem, a class
 * with no name for a subclass, prog-ifs, an unknown block, comments and
 * blanks anywhere, a trailing blank, no newline at the end. */
static const char cut_ids[] =
	"#\tList of PCI ID's\n"
	"\n"
	"1022  Advanced Micro Devices, Inc. [AMD]\n"
	"\t1480  Starship/Matisse Root Complex\n"
	"\t\t1043 87c0  Prime X570-Pro\n"
	"1043  ASUSTeK Computer Inc.\n"
	"\t0001  ASUS Thing\n"
	"10de  NVIDIA Corporation\n"
	"\t1c03  GP106 [GeForce GTX 1060 6GB]\n"
	"\t\t1043 85c5  ROG STRIX GTX 1060\n"
	"\t\t1043 8500  Older board\n"
	"# a comment inside a block\n"
	"\t\t10de 1c03  Reference board\n"
	"\t10f1  GP106 High Definition Audio Controller \n"
	"\t\t1462 3285  MSI audio\n"
	"1462  Micro-Star International Co., Ltd. [MSI]\n"
	"S 1462\n"
	"\t7a01  MSI generic subsystem\n"
	"8086  Intel Corporation\n"
	"\t1901  6th-10th Gen Core Processor PCIe Controller (x16)\n"
	"\t1533  I210 Gigabit Network Connection\n"
	"\t\t8086 0001  Ethernet Server Adapter I210-T1\n"
	"C 03  Display controller\n"
	"\t00  VGA compatible controller\n"
	"\t\t00  VGA controller\n"
	"\t02  3D controller\n"
	"C 04  Multimedia controller\n"
	"\t03  Audio device\n"
	"C 0c  Serial bus controller\n"
	"X 00  Something new\n"
	"\tfoo  skipped\n"
	"C 06  Bridge\n"
	"\t04  PCI bridge";

static void __attribute__((noreturn))
lookup_error(char *msg, ...)
{
	fail_msg("libpci refused a file: %s", msg);
	abort();
}

/* Every name the scan looks up, for the given ids, into out. */
static void
lookup_all(const char *ids_path, const int (*q)[5], size_t nq,
	   struct strbuf *out)
{
	const int flags = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
	struct pci_access *a = pci_alloc();
	char buf[256];

	a->error = lookup_error;
	a->id_lookup_mode = 0;
	pci_set_name_list_path(a, (char *)ids_path, 0);
	pci_init(a);
	strbuf_reset(out);
	for (size_t i = 0; i < nq; i++) {
		const char *n[5];
		int v = q[i][0], d = q[i][1], sv = q[i][2], sd = q[i][3];

		n[0] = pci_lookup_name(a, buf, sizeof(buf), flags | PCI_LOOKUP_CLASS, q[i][4]);
		strbuf_addf(out, "%s|", n[0] ? n[0] : "-");
		n[1] = pci_lookup_name(a, buf, sizeof(buf), flags | PCI_LOOKUP_VENDOR, v);
		strbuf_addf(out, "%s|", n[1] ? n[1] : "-");
		n[2] = pci_lookup_name(a, buf, sizeof(buf), flags | PCI_LOOKUP_DEVICE, v, d);
		strbuf_addf(out, "%s|", n[2] ? n[2] : "-");
		n[3] = pci_lookup_name(a, buf, sizeof(buf), flags | PCI_LOOKUP_VENDOR |
				       PCI_LOOKUP_DEVICE | PCI_LOOKUP_SUBSYSTEM, v, d, sv, sd);
		strbuf_addf(out, "%s|", n[3] ? n[3] : "-");
		n[4] = pci_lookup_name(a, buf, sizeof(buf), flags | PCI_LOOKUP_SUBSYSTEM |
				       PCI_LOOKUP_VENDOR, sv);
		strbuf_addf(out, "%s\n", n[4] ? n[4] : "-");
	}
	pci_cleanup(a);
}

/* libpci gives the same names from the cut as from the whole file. */
static void
test_ids_cut_same_names(void **state)
{
	static const int q[][5] = {	/* vendor device svendor sdevice class */
		{ 0x10de, 0x1c03, 0x1043, 0x85c5, 0x0300 },
		{ 0x10de, 0x1c03, 0x1043, 0x8500, 0x0302 },
		{ 0x10de, 0x1c03, 0x10de, 0x1c03, 0x0300 },
		{ 0x10de, 0x1c03, 0x1043, 0x0001, 0x0380 },	/* class only */
		{ 0x10de, 0x10f1, 0x1462, 0x3285, 0x0403 },
		{ 0x10de, 0x10f1, 0x1462, 0x7a01, 0x0403 },	/* generic "S" */
		{ 0x10de, 0x10f1, 0x1462, 0x9999, 0x0c05 },
		{ 0x8086, 0x1533, 0x8086, 0x0001, 0x0200 },
		{ 0x8086, 0x1901, 0x8086, 0x1901, 0x0604 },	/* itself */
		{ 0x8086, 0x1901, 0x0000, 0x0000, 0x0604 },
		{ 0x1af4, 0x1000, 0x1af4, 0x0001, 0xff00 },	/* unknown */
	};
	struct tree *t = *state;
	struct pciids_index ix = PCIIDS_INDEX_INIT;
	struct pciids_vendors *want = calloc(1, sizeof(*want));
	struct strbuf text = STRBUF_INIT, cut = STRBUF_INIT, path = STRBUF_INIT;
	struct strbuf whole_names = STRBUF_INIT, cut_names = STRBUF_INIT;
	const size_t nq = sizeof(q) / sizeof(q[0]);

	assert_non_null(want);
	strbuf_addstr(&text, cut_ids);
	assert_true(pciids_index(text.buf, text.len, &ix));
	/* The text is as it was. */
	assert_string_equal(text.buf, cut_ids);
	for (size_t i = 0; i < nq; i++) {
		pciids_vendors_add(want, (unsigned int)q[i][0]);
		pciids_vendors_add(want, (unsigned int)q[i][2]);
	}
	pciids_filter(text.buf, &ix, want, &cut);
	/* Nothing of a vendor no query names; every class; an "S" block
	 * only with its vendor. */
	assert_null(strstr(cut.buf, "Advanced Micro Devices"));
	assert_null(strstr(cut.buf, "Prime X570-Pro"));
	assert_non_null(strstr(cut.buf, "ASUS Thing"));
	assert_non_null(strstr(cut.buf, "S 1462\n"));
	assert_non_null(strstr(cut.buf, "C 0c  Serial bus controller\n"));
	assert_non_null(strstr(cut.buf, "\t04  PCI bridge\n"));
	assert_null(strstr(cut.buf, "Something new"));
	assert_true(cut.len < text.len);

	tree_put(t, "whole.ids", cut_ids);
	tree_put(t, "cut.ids", cut.buf);
	strbuf_addf(&path, "%s/whole.ids", t->root);
	lookup_all(path.buf, q, nq, &whole_names);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/cut.ids", t->root);
	lookup_all(path.buf, q, nq, &cut_names);
	print_message("%s", whole_names.buf);
	assert_string_equal(cut_names.buf, whole_names.buf);
	/* The cases are what they say. */
	assert_non_null(strstr(whole_names.buf, "|NVIDIA Corporation|GP106 [GeForce GTX 1060 6GB]|ASUSTeK Computer Inc. ROG STRIX GTX 1060|"));
	assert_non_null(strstr(whole_names.buf, "Micro-Star International Co., Ltd. [MSI] MSI generic subsystem"));
	assert_non_null(strstr(whole_names.buf, "|Intel Corporation 6th-10th Gen Core Processor PCIe Controller (x16)|"));
	assert_non_null(strstr(whole_names.buf, "Display controller [0380]|"));

	pciids_index_release(&ix);
	free(want);
	strbuf_release(&text);
	strbuf_release(&cut);
	strbuf_release(&path);
	strbuf_release(&whole_names);
	strbuf_release(&cut_names);
}

/* What pciids_index() leaves to libpci: what libpci refuses, and the few
 * shapes it cannot vouch for (never in a real pci.ids). */
static void
test_ids_cut_refused(void **state)
{
	static const char *const bad[] = {
		"10de  NVIDIA\n10de  Again\n",		/* duplicate vendor */
		"10de  NVIDIA\n\t1c03  A\n\t1c03  B\n",	/* duplicate device */
		"10de  NVIDIA\n\t1c03  A\n\t\t1043 0001  x\n\t\t1043 0001  y\n",
		"C 03  Display\nC 03  Again\n",		/* duplicate class */
		"C 03  Display\n\t00  VGA\n\t00  Again\n",
		"C 03  Display\n\t00  VGA\n\t\t01  a\n\t\t01  b\n",
		"10de  NVIDIA\n\t\t\tnonsense\n",	/* too deep */
		"10de  NVIDIA\n\t\t1043 0001  no device\n",
		"\t1c03  no vendor\n",
		"10dx  NVIDIA\n",				/* not hex */
		"10de NVIDIA\n",				/* one blank? fine... */
		"10de  \n",					/* no name */
		"10de  NVIDIA\n\t1c03\n",
		"S 10de\n",				/* vendor unknown yet */
		"10de  NVIDIA\nS 10de\n\t0001  a\n\t0001  b\n",
		"10de  NVIDIA\nS 10de x\n",
		" 10de  NVIDIA\n",				/* space-indented */
		/* libpci takes these; pciids does not vouch for them */
		"10de  NVIDIA\r\n",
		"10de  NVIDIA\nS 10de\n\t0001  a\nS 10de\n\t0002  b\n",
		"C 03  Display\n\t\t00  prog-if under the class\n",
	};
	struct pciids_index ix = PCIIDS_INDEX_INIT;
	struct strbuf text = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&text);
		strbuf_addstr(&text, bad[i]);
		if (i == 10) {
			/* "10de NVIDIA": one blank after the id is enough. */
			assert_true(pciids_index(text.buf, text.len, &ix));
			continue;
		}
		print_message("  %zu\n", i);
		assert_false(pciids_index(text.buf, text.len, &ix));
		assert_int_equal(ix.nblocks, 0);
		assert_string_equal(text.buf, bad[i]);
	}
	/* A NUL byte, gzip, a line at libpci's limit. */
	strbuf_reset(&text);
	strbuf_add(&text, "10de  NV\0IDIA\n", 14);
	assert_false(pciids_index(text.buf, text.len, &ix));
	strbuf_reset(&text);
	strbuf_add(&text, "\x1f\x8b\x08\0", 4);
	assert_false(pciids_index(text.buf, text.len, &ix));
	strbuf_reset(&text);
	strbuf_addstr(&text, "10de  ");
	while (text.len < 1020)
		strbuf_addch(&text, 'x');
	assert_false(pciids_index(text.buf, text.len, &ix));
	pciids_index_release(&ix);
	strbuf_release(&text);
}

/* --- the checked-in fixture trees --- */

static void
fixture_root(struct strbuf *sb, const char *shape)
{
	const char *dir = getenv("VFLEET_FIXTURES");
	const char *top = getenv("VFLEET_TOP");

	strbuf_reset(sb);
	if (dir)
		strbuf_addf(sb, "%s/%s", dir, shape);
	else
		strbuf_addf(sb, "%s/tests/fixtures/sysroot/%s", top ? top : ".",
			    shape);
}

/* The seed host: IOMMU present but off, so no groups at all. */
static void
test_fixture_seed(void **state)
{
	struct strbuf root = STRBUF_INIT;
	struct proto_response resp;
	const struct proto_pci_func *f;

	fixture_root(&root, "seed-intel-ubuntu");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(root.buf, &resp), 0);
	print_errors(&resp);
	assert_int_equal(resp.nerrors, 0);
	assert_int_equal(resp.nfuncs, 24);
	assert_int_equal(resp.ngroups, 0);
	assert_string_equal(resp.funcs[0].address, "0000:00:00.0");
	for (size_t i = 0; i + 1 < resp.nfuncs; i++)
		assert_true(strcmp(resp.funcs[i].address,
				   resp.funcs[i + 1].address) < 0);

	f = proto_find_func(&resp, "0000:0e:00.0");
	assert_non_null(f);
	assert_int_equal(f->class_code, 0x030000);
	assert_int_equal(f->vendor_id, 0x10de);
	assert_int_equal(f->device_id, 0x1c03);
	assert_int_equal(f->subsys_vendor_id, 0x1043);
	assert_int_equal(f->subsys_device_id, 0x85b6);
	assert_int_equal(f->revision, 0xa1);
	assert_string_equal(f->driver, "nouveau");
	assert_null(f->driver_override);
	assert_string_equal(f->class_name, "VGA compatible controller");
	assert_string_equal(f->vendor_name, "NVIDIA Corporation");
	assert_string_equal(f->device_name, "GP106 [GeForce GTX 1060 6GB]");
	assert_non_null(strstr(f->subsys_name, "ASUSTeK"));
	assert_int_equal(f->iommu_group, -1);
	assert_int_equal(f->boot_vga, PROTO_NO);
	assert_int_equal(f->numa_node, -1);
	assert_string_equal(f->link_speed, "5 GT/s");
	assert_int_equal(f->link_width, 16);

	f = proto_find_func(&resp, "0000:0e:00.1");
	assert_non_null(f);
	assert_int_equal(f->class_code, 0x040300);
	assert_int_equal(f->device_id, 0x10f1);
	assert_string_equal(f->driver, "snd_hda_intel");
	assert_int_equal(f->boot_vga, PROTO_UNKNOWN);
	proto_response_release(&resp);
	strbuf_release(&root);
}

/* A GPU behind a PCIe switch that shares its group with everything below. */
static void
test_fixture_shared_group(void **state)
{
	static const char *const members[] = {
		"0000:04:00.0", "0000:05:01.0", "0000:05:03.0", "0000:05:05.0",
		"0000:05:07.0", "0000:06:00.0", "0000:06:00.1", "0000:07:00.0",
		"0000:08:00.0",
	};
	struct strbuf root = STRBUF_INIT;
	struct proto_response resp;
	const struct proto_pci_func *f;
	const struct proto_iommu_group *g;

	fixture_root(&root, "shared-group");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(root.buf, &resp), 0);
	print_errors(&resp);
	assert_int_equal(resp.nerrors, 0);
	assert_int_equal(resp.nfuncs, 27);
	assert_int_equal(resp.ngroups, 13);
	for (size_t i = 0; i + 1 < resp.ngroups; i++)
		assert_true(resp.groups[i].id < resp.groups[i + 1].id);

	f = proto_find_func(&resp, "0000:06:00.0");
	assert_non_null(f);
	assert_int_equal(f->vendor_id, 0x10de);
	assert_int_equal(f->device_id, 0x1b80);
	assert_string_equal(f->driver, "nouveau");
	assert_int_equal(f->iommu_group, 12);
	assert_string_equal(f->reset_method, "bus");
	assert_string_equal(f->link_speed, "5.0 GT/s PCIe");
	assert_int_equal(f->link_width, 1);
	assert_int_equal(f->boot_vga, PROTO_NO);
	g = find_group(&resp, 12);
	assert_non_null(g);
	assert_int_equal(g->nmembers, sizeof(members) / sizeof(members[0]));
	for (size_t i = 0; i < g->nmembers; i++)
		assert_string_equal(g->members[i], members[i]);

	/* The boot GPU is the iGPU, whose link the kernel cannot name. */
	f = proto_find_func(&resp, "0000:00:02.0");
	assert_non_null(f);
	assert_string_equal(f->driver, "i915");
	assert_int_equal(f->boot_vga, PROTO_YES);
	assert_int_equal(f->iommu_group, 2);
	assert_string_equal(f->reset_method, "flr");
	assert_string_equal(f->link_speed, "Unknown");
	assert_int_equal(f->link_width, 0);
	proto_response_release(&resp);
	strbuf_release(&root);
}

/* 156 functions on two NUMA nodes, SR-IOV capable GPUs and NICs. */
static void
test_fixture_large_dgx(void **state)
{
	struct strbuf root = STRBUF_INIT;
	struct proto_response resp;
	size_t gpus = 0, node1 = 0, vfs = 0;

	fixture_root(&root, "large-dgx");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover(root.buf, &resp), 0);
	print_errors(&resp);
	assert_int_equal(resp.nerrors, 0);
	assert_int_equal(resp.nfuncs, 156);
	assert_int_equal(resp.ngroups, 124);
	for (size_t i = 0; i < resp.nfuncs; i++) {
		const struct proto_pci_func *f = &resp.funcs[i];

		if (f->class_code == 0x030200) {
			gpus++;
			assert_int_equal(f->device_id, 0x20b2);
			assert_string_equal(f->driver, "nvidia");
			assert_int_equal(f->sriov_totalvfs, 20);
			assert_int_equal(f->numa_node, f->address[5] < '8' ? 0 : 1);
		}
		node1 += f->numa_node == 1;
		vfs += f->sriov_totalvfs > 0;
	}
	assert_int_equal(gpus, 8);
	assert_int_equal(node1, 75);
	assert_int_equal(vfs, 18);
	assert_int_equal(proto_find_func(&resp, "0000:48:00.0")->boot_vga, PROTO_YES);
	assert_int_equal(proto_find_func(&resp, "0000:e3:00.0")->iommu_group, 118);
	proto_response_release(&resp);
	strbuf_release(&root);
}

/* Every shape: no errors, every function's group lists it. */
static void
test_fixture_all_shapes(void **state)
{
	static const char *const shapes[] = {
		"seed-intel-ubuntu", "amd-radeon", "two-identical-nvidia",
		"shared-group", "iommu-off", "no-intremap", "vfio-builtin",
		"already-configured", "rhel-like", "boot-vga-only", "proxmox",
		"large-dgx",
	};
	struct strbuf root = STRBUF_INIT;

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct proto_response resp;

		fixture_root(&root, shapes[s]);
		proto_response_init(&resp, PROTO_OP_FACTS);
		print_message("  shape %s\n", shapes[s]);
		assert_int_equal(pci_discover(root.buf, &resp), 0);
		print_errors(&resp);
		assert_int_equal(resp.nerrors, 0);
		assert_true(resp.nfuncs > 0);
		for (size_t i = 0; i < resp.nfuncs; i++) {
			const struct proto_pci_func *f = &resp.funcs[i];
			const struct proto_iommu_group *g;
			bool listed = false;

			assert_non_null(f->vendor_name);
			if (f->iommu_group < 0)
				continue;
			g = find_group(&resp, f->iommu_group);
			assert_non_null(g);
			for (size_t m = 0; m < g->nmembers; m++)
				listed |= strcmp(g->members[m], f->address) == 0;
			assert_true(listed);
		}
		proto_response_release(&resp);
	}
	strbuf_release(&root);
}

/* --- the scan split over several workers --- */

static void
assert_str_same(const char *a, const char *b)
{
	if (!a || !b)
		assert_true(a == b);
	else
		assert_string_equal(a, b);
}

/* Same functions, fields, groups and errors, whatever the split. */
static void
assert_same_answer(const struct proto_response *a,
		   const struct proto_response *b)
{
	assert_int_equal(a->nfuncs, b->nfuncs);
	for (size_t i = 0; i < a->nfuncs; i++) {
		const struct proto_pci_func *x = &a->funcs[i], *y = &b->funcs[i];

		assert_string_equal(x->address, y->address);
		assert_int_equal(x->class_code, y->class_code);
		assert_int_equal(x->vendor_id, y->vendor_id);
		assert_int_equal(x->device_id, y->device_id);
		assert_int_equal(x->subsys_vendor_id, y->subsys_vendor_id);
		assert_int_equal(x->subsys_device_id, y->subsys_device_id);
		assert_int_equal(x->revision, y->revision);
		assert_str_same(x->class_name, y->class_name);
		assert_str_same(x->vendor_name, y->vendor_name);
		assert_str_same(x->device_name, y->device_name);
		assert_str_same(x->subsys_name, y->subsys_name);
		assert_str_same(x->driver, y->driver);
		assert_str_same(x->driver_override, y->driver_override);
		assert_int_equal(x->iommu_group, y->iommu_group);
		assert_int_equal(x->boot_vga, y->boot_vga);
		assert_int_equal(x->numa_node, y->numa_node);
		assert_str_same(x->reset_method, y->reset_method);
		assert_int_equal(x->sriov_totalvfs, y->sriov_totalvfs);
		assert_str_same(x->link_speed, y->link_speed);
		assert_int_equal(x->link_width, y->link_width);
	}
	assert_int_equal(a->ngroups, b->ngroups);
	for (size_t i = 0; i < a->ngroups; i++) {
		assert_int_equal(a->groups[i].id, b->groups[i].id);
		assert_int_equal(a->groups[i].nmembers, b->groups[i].nmembers);
		for (size_t m = 0; m < a->groups[i].nmembers; m++)
			assert_string_equal(a->groups[i].members[m],
					    b->groups[i].members[m]);
	}
	assert_int_equal(a->nerrors, b->nerrors);
}

static void
test_workers_same_answer(void **state)
{
	static const char *const shapes[] = { "large-dgx", "shared-group" };
	struct strbuf root = STRBUF_INIT;

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct proto_response one;

		fixture_root(&root, shapes[s]);
		proto_response_init(&one, PROTO_OP_FACTS);
		assert_int_equal(pci_discover_workers(root.buf, &one, 1), 0);
		for (unsigned int n = 2; n <= 4; n++) {
			struct proto_response many;

			proto_response_init(&many, PROTO_OP_FACTS);
			assert_int_equal(pci_discover_workers(root.buf, &many, n), 0);
			assert_same_answer(&one, &many);
			proto_response_release(&many);
		}
		proto_response_release(&one);
	}
	strbuf_release(&root);
}

/* Errors every worker meets are reported once; per-function ones once. */
static void
test_workers_errors_once(void **state)
{
	struct tree *t = *state;
	struct proto_response resp;
	struct strbuf path = STRBUF_INIT;

	tree_good(t);
	tree_rm(t, "sys/bus/pci/devices/0000:0e:00.1/vendor");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover_workers(t->root, &resp, 3), -EIO);
	assert_int_equal(resp.nerrors, 1);
	assert_int_equal(resp.nfuncs, 3);
	assert_string_equal(resp.funcs[2].device_name, "GP106 [GeForce GTX 1060 6GB]");
	proto_response_release(&resp);

	tree_put(t, "sys/bus/pci/devices/garbage/vendor", "0x10de\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover_workers(t->root, &resp, 4), -EIO);
	print_errors(&resp);
	assert_int_equal(resp.nerrors, 1);
	assert_non_null(strstr(resp.errors[0].message, "garbage"));
	proto_response_release(&resp);

	tree_rm(t, "sys/bus/pci/devices/garbage/vendor");
	strbuf_addf(&path, "%s/sys/bus/pci/devices/garbage", t->root);
	assert_int_equal(rmdir(path.buf), 0);
	strbuf_release(&path);
	tree_rm(t, "usr/share/misc/pci.ids");
	tree_put(t, "usr/share/misc/pci.ids", "10de  NVIDIA\n\t\t\tnonsense\n");
	proto_response_init(&resp, PROTO_OP_FACTS);
	assert_int_equal(pci_discover_workers(t->root, &resp, 2), -EIO);
	assert_non_null(find_error(&resp, "pci-ids", "/usr/share/misc/pci.ids"));
	assert_int_equal(resp.nerrors, 2);	/* pci.ids, and the vendor */
	assert_int_equal(resp.nfuncs, 3);
	proto_response_release(&resp);
}

/*
 * Out of processes: with room for one worker, a split scan falls back to
 * one worker and still answers in full; with none, one clear error. Run as
 * an unused uid, since root is not bound by RLIMIT_NPROC.
 */
static int
fork_limit_child(const char *root)
{
	const uid_t uid = 54321;
	struct rlimit rl = { 2, 2 };	/* this process and one worker */
	struct proto_response resp;
	int bad = 0;

	if (setgid(uid) != 0 || setuid(uid) != 0 ||
	    setrlimit(RLIMIT_NPROC, &rl) != 0)
		return 10;
	proto_response_init(&resp, PROTO_OP_FACTS);
	if (pci_discover_workers(root, &resp, 3) != 0 || resp.nfuncs != 4 ||
	    resp.nerrors != 0)
		bad |= 1;
	proto_response_release(&resp);

	rl.rlim_cur = rl.rlim_max = 1;	/* no worker at all */
	if (setrlimit(RLIMIT_NPROC, &rl) != 0)
		return 10;
	proto_response_init(&resp, PROTO_OP_FACTS);
	if (pci_discover_workers(root, &resp, 2) != -EIO || resp.nfuncs != 0 ||
	    resp.nerrors != 1 || strcmp(resp.errors[0].code, "pci-scan") != 0 ||
	    !strstr(resp.errors[0].message, "fork"))
		bad |= 2;
	/* The groups are walked regardless. */
	if (resp.ngroups != 3)
		bad |= 4;
	proto_response_release(&resp);
	return bad;
}

static void
test_fork_limit(void **state)
{
	struct tree *t = *state;
	int status;
	pid_t pid;

	tree_good(t);
	assert_int_equal(chmod(t->root, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fork_limit_child(t->root));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_tree, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_ids_locations, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_missing_vendor, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_garbled_class, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_garbled_optional, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_dangling_group_link, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_unreadable_dirs, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_libpci_error_contained, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_no_sysfs, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_bad_ids_elsewhere, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_ids_cut_same_names, setup_tree, teardown_tree),
		cmocka_unit_test(test_ids_cut_refused),
		cmocka_unit_test(test_fixture_seed),
		cmocka_unit_test(test_fixture_shared_group),
		cmocka_unit_test(test_fixture_large_dgx),
		cmocka_unit_test(test_fixture_all_shapes),
		cmocka_unit_test(test_workers_same_answer),
		cmocka_unit_test_setup_teardown(test_workers_errors_once, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_fork_limit, setup_tree, teardown_tree),
	};

	return cmocka_run_group_tests_name("agent/pci", tests, NULL, NULL);
}
