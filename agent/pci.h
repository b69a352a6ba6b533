/* pci: the PCI functions and IOMMU groups of one host.
 *
 * The only module that includes <pci/pci.h>. libpci's error hook must not
 * return (its default calls exit(1)), so the libpci part of the scan runs in
 * a forked child that sends framed records back over a pipe; whatever goes
 * wrong in there becomes an error entry in the response, never an exit.
 */
#ifndef VF_AGENT_PCI_H
#define VF_AGENT_PCI_H

#include "proto.h"

/*
 * Fill resp->funcs with every PCI function under ROOT/sys/bus/pci (root
 * NULL, "" or "/" is the running system), sorted by address, and
 * resp->groups with ROOT/sys/kernel/iommu_groups (sorted by id, members
 * sorted). Names come from ROOT/usr/share/misc/pci.ids, else
 * ROOT/usr/share/hwdata/pci.ids, else stay NULL.
 *
 * Problems are appended to resp->errors, each naming the file involved:
 *   "pci-scan"     the scan itself, or a function whose vendor, device or
 *                  class attribute is missing or garbled (it is left out);
 *   "pci-attr"     one garbled or unreadable optional attribute (the
 *                  function stays, the value stays unknown);
 *   "pci-ids"      a pci.ids file libpci refused (names stay NULL);
 *   "iommu-groups" an unreadable ROOT/sys/kernel/iommu_groups entry.
 * Everything added to resp is owned by resp. Returns 0 when no error was
 * added, -EIO otherwise.
 */
int pci_discover(const char *root, struct proto_response *resp);

/*
 * The same with the scan split over nworkers child processes (0: one per
 * CPU, at most 4, and one for fewer than 64 functions). The answer does
 * not depend on it; tests use it to run the split on any machine.
 */
int pci_discover_workers(const char *root, struct proto_response *resp,
			 unsigned int nworkers);

#endif
