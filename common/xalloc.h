/* xalloc: allocation that never returns NULL.
 *
 * Every allocation in vfleet goes through these wrappers. Running out of
 * memory calls one handler, which prints and aborts: a half-built fleet
 * report is worse than a clean crash with a message.
 */
#ifndef VF_XALLOC_H
#define VF_XALLOC_H

#include <stddef.h>

/* Return a new block the caller owns; never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* Resize p (caller's block); the old pointer is no longer valid. */
void *xrealloc(void *p, size_t n);
/* Return a copy of s the caller owns; s may not be NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Grow *arr (of *alloc elements of elsize) so that it holds at least need. */
void xgrow(void **arr, size_t *alloc, size_t need, size_t elsize);

#define XGROW(arr, alloc, need) \
	xgrow((void **)&(arr), &(alloc), (need), sizeof(*(arr)))

#endif
