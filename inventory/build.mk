# inventory/: Ansible-style inventories and --limit patterns.
inventory_SRCS := $(wildcard inventory/*.c)
