/* scratch: the unit tests' temporary trees. */
#ifndef VF_TEST_SCRATCH_H
#define VF_TEST_SCRATCH_H

/* Remove dir and everything below it, never following symlinks (no shell,
 * so no quoting): 0, or -1 when something could not be removed. */
int scratch_remove(const char *dir);

#endif
