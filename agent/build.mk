# agent/: vfleet-agent, the static binary that runs on each host.
agent_MAIN := agent/main.c
agent_SRCS := $(filter-out $(agent_MAIN),$(wildcard agent/*.c))
