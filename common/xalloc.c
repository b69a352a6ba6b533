#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
xalloc_oom(size_t n)
{
	fprintf(stderr, "vfleet: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		xalloc_oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		xalloc_oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		xalloc_oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
xgrow(void **arr, size_t *alloc, size_t need, size_t elsize)
{
	size_t n = *alloc;

	if (need <= n)
		return;
	n = n ? n : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elsize)
			xalloc_oom(SIZE_MAX);
		n *= 2;
	}
	*arr = xrealloc(*arr, n * elsize);
	memset((char *)*arr + *alloc * elsize, 0, (n - *alloc) * elsize);
	*alloc = n;
}
