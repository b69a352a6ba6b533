# common/: libc-only primitives shared by both binaries.
common_SRCS := $(wildcard common/*.c)
