/* The parts of linux.resources beyond memory, cpu and pids, each read by
 * its own file for spec_parse_resources.c. */
#ifndef TM_CONTAINER_SPEC_PARSE_RESOURCES_H
#define TM_CONTAINER_SPEC_PARSE_RESOURCES_H

#include "container/spec_internal.h"

/* linux.resources.devices (spec_parse_device_rules.c) */
int tm_spec_parse_device_rules(json_t *list, struct tm_cgroup_limits *lim, tm_error *err);

/* blockIO, hugepageLimits, network, unified; rdma refused (spec_parse_blkio.c) */
int tm_spec_parse_resources_more(json_t *res, const tm_jpath *at, struct tm_cgroup_limits *lim,
                                 tm_error *err);

#endif
