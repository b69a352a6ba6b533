# controller/: vfleet, the fleet-side program.
controller_MAIN := controller/main.c
controller_SRCS := $(filter-out $(controller_MAIN),$(wildcard controller/*.c))
