# vfleet: one non-recursive Makefile. Each folder contributes its sources
# through its own build.mk (included below); nothing runs $(MAKE) -C.
#
#   make                 ./vfleet (controller) and ./vfleet-agent (static, musl)
#   make test            unit + integration tests
#   make check           the tests under ASan+UBSan (agent built dynamic)
#   make bench           benchmarks under bench/
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   V=1                  show the commands; DEVELOPER=1 adds -Werror

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/vfleet
DESTDIR    ?=

# O: objects and caches; OUT: where the two binaries land.
O   ?= build
OUT ?= .

CC      ?= cc
MUSL_CC ?= musl-gcc
CFLAGS  ?= -O2 -g
SANITIZE ?=
# AGENT_STATIC=1: agent built with musl against libs built from source
# (tools/build-deps.sh). 0: a normal dynamic build (sanitizers need that).
AGENT_STATIC ?= $(if $(SANITIZE),0,1)

VERSION := 0.1.0

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
INCLUDES := -Icommon -Iprotocol -Iagent -Icontroller -Iinventory
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DVFLEET_VERSION='"$(VERSION)"' \
	-DVFLEET_LIBEXECDIR='"$(LIBEXECDIR)"' \
	$(WARN) $(INCLUDES) -MMD -MP
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

HOST_CFLAGS := $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS) \
	$(shell pkg-config --cflags json-c libpci 2>/dev/null)
HOST_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)
HOST_LIBS := -lssh $(shell pkg-config --libs json-c libpci 2>/dev/null || echo -ljson-c -lpci) -lpthread

DEPS := $(O)/deps
MUSL_CFLAGS := $(BASE_CFLAGS) -Os -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables \
	-isystem $(DEPS)/include
MUSL_LDFLAGS := -static -Wl,--gc-sections -Wl,--build-id=none -s
MUSL_LIBS := $(DEPS)/lib/libpci.a $(DEPS)/lib/libjson-c.a

all: $(OUT)/vfleet $(OUT)/vfleet-agent

# Objects: $(O)/host/x.o for the controller and tests, $(O)/musl/x.o for
# the static agent. Defined before the folders' build.mk files: their rules'
# prerequisites call these as they are read.
host_obj = $(patsubst %.c,$(O)/host/%.o,$(1))
musl_obj = $(patsubst %.c,$(O)/musl/%.o,$(1))

include common/build.mk
include protocol/build.mk
include inventory/build.mk
include agent/build.mk
include controller/build.mk
include tests/build.mk
include bench/build.mk
-include fuzz/build.mk

$(O)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -c -o $@ $<

$(O)/musl/%.o: %.c | $(DEPS)/.stamp
	@mkdir -p $(dir $@)
	$(call msg,MUSLCC,$@)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -c -o $@ $<

$(DEPS)/.stamp: tools/build-deps.sh
	$(call msg,DEPS,$(DEPS))
	$(Q)tools/build-deps.sh $(DEPS)

# Everything but the two mains, for the controller and the unit tests.
LIB_SRCS := $(common_SRCS) $(protocol_SRCS) $(protocol_CTL_SRCS) $(inventory_SRCS) \
	$(agent_SRCS) $(controller_SRCS)
$(O)/libvfleet.a: $(call host_obj,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/vfleet: $(call host_obj,$(controller_MAIN)) $(O)/libvfleet.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

AGENT_ALL := $(agent_MAIN) $(agent_SRCS) $(common_SRCS) $(protocol_SRCS)
ifeq ($(AGENT_STATIC),1)
$(OUT)/vfleet-agent: $(call musl_obj,$(AGENT_ALL))
	$(call msg,LD,$@)
	$(Q)$(MUSL_CC) $(MUSL_LDFLAGS) -o $@ $^ $(MUSL_LIBS)
else
$(OUT)/vfleet-agent: $(call host_obj,$(AGENT_ALL))
	$(call msg,LD,$@)
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)
endif

# The README's first command: dependencies, build, the product at work.
demo:
	$(Q)tools/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh

check:
	$(MAKE) O=build/san OUT=build/san SANITIZE=address,undefined test

install: all
	install -v -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBEXECDIR)"
	install -v -m 0755 $(OUT)/vfleet "$(DESTDIR)$(BINDIR)/vfleet"
	install -v -m 0755 $(OUT)/vfleet-agent "$(DESTDIR)$(LIBEXECDIR)/vfleet-agent"

clean:
	rm -rf $(O)/host $(O)/musl $(O)/tests $(O)/san $(O)/libvfleet.a \
		$(OUT)/vfleet $(OUT)/vfleet-agent

distclean: clean
	rm -rf $(O)

.PHONY: all demo check install clean distclean
.DELETE_ON_ERROR:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
