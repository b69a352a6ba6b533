/* diff: unified diffs of two texts, as `diff -u` prints them.
 *
 * For plan (what apply would change) and apply (what it changed). The
 * texts are configuration files: the common head and tail are cut first,
 * and the rest is compared line by line (LCS); beyond DIFF_CELLS_MAX
 * comparisons the middle becomes one replace hunk, still a correct diff.
 */
#ifndef VF_DIFF_H
#define VF_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define DIFF_CONTEXT 3
#define DIFF_CELLS_MAX (16u << 20)

/*
 * Append the unified diff turning old into new to out, with the headers
 * "--- a<path>" / "+++ b<path>" ("/dev/null" for a side that does not
 * exist: old_exists / new_exists false). Nothing is appended when the texts
 * are equal. Returns true when something was appended.
 */
bool diff_unified(const char *path, const char *old, size_t old_len,
		  bool old_exists, const char *new_, size_t new_len,
		  bool new_exists, struct strbuf *out);

#endif
