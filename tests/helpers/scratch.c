#include "scratch.h"

#include <ftw.h>
#include <stdio.h>

static int
scratch_remove_one(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int
scratch_remove(const char *dir)
{
	return nftw(dir, scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
