# protocol/: C structs <-> JSON; the only folder that includes json-c.
# inventory_json.c serves the controller's inventory only, so it stays out
# of the agent.
protocol_CTL_SRCS := protocol/inventory_json.c
protocol_SRCS := $(filter-out $(protocol_CTL_SRCS),$(wildcard protocol/*.c))
