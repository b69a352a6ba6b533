/* fuzz_hostfiles: the agent's readers of host text files: shell
 * assignments (os-release, /etc/default/grub, dracut.conf), kernel command
 * lines, kernel releases, /proc/cpuinfo, modules.builtin, and the GRUB
 * variable expansion that computes the configured command line.
 *
 * agent/host.c and agent/bootcfg.c keep their line readers static, so both
 * are included here. The input is run through every line reader, line by
 * line, as cfgfile_foreach_line() would hand it over. Promises checked: no
 * crash or leak; memory stays bounded (libFuzzer's -rss_limit_mb and
 * -malloc_limit_mb catch a blow-up); cfgfile_assignment() names are shell
 * identifiers; a parameter cfgfile_cmdline_has() finds is also found by
 * cfgfile_cmdline_param().
 */
#include "../agent/host.c"
#include "../agent/bootcfg.c"

#include "fuzz.h"

static bool
is_ident(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const params[][2] = {
		{ "intel_iommu", "on" }, { "iommu", "pt" },
		{ "vfio-pci.ids", "10de:1c03" }, { "pcie_acs_override", "downstream" },
	};
	struct strbuf text = STRBUF_INIT, name = STRBUF_INIT, value = STRBUF_INIT;
	struct strbuf v = STRBUF_INIT;
	struct host_osrel_ctx osrel = { 0 };
	struct host_cpu_ctx cpu = { 0 };
	struct bootcfg_grub_ctx grub = { STRBUF_INIT, STRBUF_INIT };
	struct bootcfg_ov_ctx ov = { .path = "/etc/default/grub.d/fuzz.cfg" };
	unsigned lineno = 0;
	int ma, mi;
	bool app;

	fuzz_cstr(&text, data, size);

	/* The whole input as one command line / kernel release. */
	for (size_t i = 0; i < sizeof(params) / sizeof(*params); i++) {
		bool has = cfgfile_cmdline_has(text.buf, params[i][0], params[i][1]);
		bool present = cfgfile_cmdline_param(text.buf, params[i][0], &v);

		FUZZ_ASSERT(!has || present);
	}
	if (cfgfile_kernel_version(text.buf, &ma, &mi))
		FUZZ_ASSERT(ma >= 0 && ma <= 1000 && mi >= 0 && mi <= 1000);
	(void)cfgfile_kernel_at_least(text.buf, 6, 2);
	(void)cfgfile_has_word(text.buf, "vfio_pci");

	/* Line by line, as cfgfile_foreach_line() splits a file. */
	for (char *line = text.buf, *nl; line; line = nl) {
		size_t l;

		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		lineno++;
		(void)cfgfile_is_comment(line);
		if (cfgfile_assignment(line, &name, &value, &app))
			FUZZ_ASSERT(is_ident(name.buf));
		else
			FUZZ_ASSERT(name.len == 0);
		host_osrel_line(line, lineno, &osrel);
		host_cpu_line(line, lineno, &cpu);
		(void)host_names_vfio_pci(line);
		bootcfg_grub_line(line, lineno, &grub);
		bootcfg_ov_line(line, lineno, &ov);
		if (!nl || !*nl)
			break;
	}
	for (size_t i = 0; i < ov.n; i++)
		FUZZ_ASSERT(bootcfg_is_cmdline_var(ov.list[i].var));

	bootcfg_overrides_free(ov.list, ov.n);
	free(osrel.id);
	free(osrel.pretty);
	free(osrel.name);
	free(cpu.vendor);
	free(cpu.model);
	free(cpu.arch);
	free(cpu.implementer);
	strbuf_release(&grub.linux_);
	strbuf_release(&grub.linux_default);
	strbuf_release(&text);
	strbuf_release(&name);
	strbuf_release(&value);
	strbuf_release(&v);
	return 0;
}
