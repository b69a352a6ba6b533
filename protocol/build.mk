# protocol/: C structs <-> JSON; the only folder that includes json-c.
protocol_SRCS := $(wildcard protocol/*.c)
