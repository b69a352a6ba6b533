#include "policy.h"

#include <errno.h>
#include <string.h>

static int
policy_bool(const struct inv_vars *vars, const char *host, const char *key,
	    int cli, bool *out, struct strbuf *err)
{
	bool v = false;

	if (vars && inv_vars_get_bool(vars, host, key, false, &v, err) < 0)
		return -EINVAL;
	*out = v || cli;
	return 0;
}

static int
policy_argv(const struct inv_vars *vars, const char *host, const char *key,
	    char ***argv, size_t *n, struct strbuf *err)
{
	const char *v = vars ? inv_vars_get(vars, key) : NULL;
	const char *p = v;

	if (!v || !*v)
		return 0;
	while (*p) {
		size_t len;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (len) {
			char word[4096];

			if (len >= sizeof(word)) {
				strbuf_addf(err, "host %s: %s: word too long", host, key);
				return -EINVAL;
			}
			memcpy(word, p, len);
			word[len] = '\0';
			proto_strv_add(argv, n, word);
		}
		p += len;
	}
	if (*n && (*argv)[0][0] != '/') {
		strbuf_addf(err, "host %s: %s=%s: expected an absolute path first "
			    "(the command runs without a shell)", host, key, v);
		return -EINVAL;
	}
	return 0;
}

static void
policy_select_list(struct proto_policy *p, const char *list)
{
	const char *s = list;

	while (s && *s) {
		size_t len = strcspn(s, ", ");

		if (len) {
			char item[64];

			if (len < sizeof(item)) {
				memcpy(item, s, len);
				item[len] = '\0';
				proto_strv_add(&p->select, &p->nselect, item);
			}
		}
		s += len;
		s += strspn(s, ", ");
	}
}

int
policy_fill(struct proto_policy *p, const struct inv_vars *vars,
	    const char *host, const struct policy_cli *cli, struct strbuf *err)
{
	static const struct policy_cli none;
	int r = 0;

	if (!cli)
		cli = &none;
	if (vars)
		policy_select_list(p, inv_vars_get(vars, "vfleet_select"));
	for (size_t i = 0; i < cli->nselect; i++)
		policy_select_list(p, cli->select[i]);
	r |= policy_bool(vars, host, "vfleet_allow_unsafe_interrupts",
			 cli->allow_unsafe_interrupts, &p->allow_unsafe_interrupts, err);
	r |= policy_bool(vars, host, "vfleet_allow_group_not_viable",
			 cli->allow_group_not_viable, &p->allow_group_not_viable, err);
	r |= policy_bool(vars, host, "vfleet_allow_only_display",
			 cli->allow_only_display, &p->allow_only_display, err);
	r |= policy_bool(vars, host, "vfleet_allow_no_iommu",
			 cli->allow_no_iommu, &p->allow_no_iommu, err);
	r |= policy_bool(vars, host, "vfleet_allow_driver_in_use",
			 cli->allow_driver_in_use, &p->allow_driver_in_use, err);
	if (r)
		return -EINVAL;
	if (policy_argv(vars, host, "vfleet_cmd_bootloader_update",
			&p->cmd_bootloader_update, &p->ncmd_bootloader_update, err) < 0 ||
	    policy_argv(vars, host, "vfleet_cmd_initramfs",
			&p->cmd_initramfs, &p->ncmd_initramfs, err) < 0 ||
	    policy_argv(vars, host, "vfleet_cmd_reboot",
			&p->cmd_reboot, &p->ncmd_reboot, err) < 0)
		return -EINVAL;
	return 0;
}
