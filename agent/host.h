/* host: the host-wide facts of a discovery (struct proto_host_facts).
 *
 * Every path goes through the --root prefix; nothing here calls uname() or
 * runs a command, so a fixture tree gives the same facts as the host it was
 * captured from. Inputs that are absent leave their fact unknown (NULL or
 * PROTO_UNKNOWN); inputs that exist but cannot be read add a
 * proto_add_error() entry ("host-unreadable", or "kmsg-unreadable" for the
 * kernel log) naming the path, and discovery goes on.
 */
#ifndef VF_HOST_H
#define VF_HOST_H

#include "kmsg.h"
#include "proto.h"
#include "strbuf.h"

/* GPU and vfio modules reported in host.modules_loaded, in this order. */
extern const char *const host_watched_modules[];

/*
 * Fill resp->host for the tree at root (NULL or "/" for the running host).
 * Returns 0; problems are reported as resp->errors.
 */
int host_discover(const char *root, struct proto_response *resp);

/*
 * Interrupt remapping as the running kernel reports it: "intremap=off" or
 * "nointremap" on cmdline, else the kernel log's own messages (vfio's
 * "No interrupt remapping support", the Intel erratum and failure messages,
 * "DMAR-IR: Enabled IRQ remapping", "AMD-Vi: Interrupt remapping enabled").
 * why (may be NULL; reset first) gets the evidence: "/proc/cmdline: ..." or
 * "kmsg: <message>". log may be NULL.
 */
enum proto_tristate host_intremap(const char *cmdline,
				  const struct kmsg_log *log,
				  struct strbuf *why);

#endif
