/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * struct config: messages, freeing, and the checks against the running data plane (see
 * config.h). Loading is in config_yang.c, the walk in config_walk.c, next hop resolution in
 * config_resolve.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* ---- messages ---- */

void
config_msgs_add(struct config_msgs *m, const char *fmt, ...)
{
	m->n_total++;
	if (m->n >= CONFIG_MAX_REPORTED)
		return;
	if (m->line == NULL) {
		m->line = calloc(CONFIG_MAX_REPORTED, sizeof(*m->line));
		if (m->line == NULL)
			return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) >= 0)
		m->line[m->n++] = s;
	va_end(ap);
}

void
config_msgs_print(const struct config_msgs *m, FILE *f, const char *prefix)
{
	for (size_t i = 0; i < m->n; i++)
		fprintf(f, "%s%s\n", prefix, m->line[i]);
	if (m->n_total > m->n)
		fprintf(f, "%s... and %zu more\n", prefix, m->n_total - m->n);
}

void
config_msgs_free(struct config_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->line[i]);
	free(m->line);
	memset(m, 0, sizeof(*m));
}

/* ---- the configuration ---- */

void
config_free(struct config *cfg)
{
	free(cfg->iface);
	free(cfg->addr);
	free(cfg->neigh);
	free(cfg->nh);
	free(cfg->group);
	free(cfg->member);
	free(cfg->r4);
	free(cfg->r6);
	memset(cfg, 0, sizeof(*cfg));
}

int
config_port_index(const struct config_iface *ifc, const struct npr_dump_port *ports, size_t n_ports)
{
	for (size_t i = 0; i < n_ports; i++)
		if (strncmp(ports[i].name, ifc->port, sizeof(ports[i].name)) == 0)
			return (int)i;
	return -1;
}

uint16_t
config_iface_mtu(const struct config_iface *ifc, const struct npr_dump_port *port)
{
	if (ifc->has_mtu || port == NULL || port->max_mtu == 0 || port->max_mtu >= ifc->mtu)
		return ifc->mtu;
	return port->max_mtu;
}

int
config_check_dataplane(const struct config *cfg, const char *name,
		       const struct npr_dump_port *ports, size_t n_ports,
		       const struct npr_info *info, struct config_msgs *errs)
{
	size_t before = errs->n_total;
	for (size_t i = 0; i < cfg->n_iface; i++) {
		const struct config_iface *f = &cfg->iface[i];
		int pi = config_port_index(f, ports, n_ports);
		/* the data plane refuses it too, without the file's path */
		if (pi >= 0 && f->has_mtu && ports[pi].max_mtu != 0 && f->mtu > ports[pi].max_mtu)
			config_msgs_add(
				errs,
				"%s: /ietf-interfaces:interfaces/interface[name='%s']: MTU %u "
				"above what port %.*s carries: %u (%.*s)",
				name, f->name, f->mtu, (int)sizeof(ports[pi].name), ports[pi].name,
				ports[pi].max_mtu, (int)sizeof(ports[pi].mtu_why),
				ports[pi].mtu_why);
		if (pi >= 0)
			continue;
		char list[512] = "";
		for (size_t k = 0; k < n_ports; k++) {
			size_t n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%.*s", k > 0 ? ", " : "",
				 (int)sizeof(ports[k].name), ports[k].name);
		}
		config_msgs_add(
			errs,
			"%s: /ietf-interfaces:interfaces/interface[name='%s']/nprouter:port: "
			"the data plane has no port %s (its ports: %s)",
			name, cfg->iface[i].name, cfg->iface[i].port, n_ports > 0 ? list : "none");
	}
	if (info == NULL)
		return errs->n_total > before ? -EINVAL : 0;
	static const char *const opt[] = { "--nexthops", "--groups", "--routes4", "--routes6" };
	static const char *const leaf[] = { "nexthops", "groups", "routes4", "routes6" };
	const uint32_t want[] = { cfg->size_nh, cfg->size_group, cfg->size_r4, cfg->size_r6 };
	const uint32_t have[] = { info->nh_max, info->group_max, info->route4_max,
				  info->route6_max };
	/* ids 1..max-1 for next hops and groups */
	const uint64_t need[] = { cfg->n_nh + 1, cfg->n_group + 1, cfg->n4, cfg->n6 };
	for (int k = 0; k < 4; k++) {
		if (want[k] != 0 && have[k] < want[k])
			config_msgs_add(errs,
					"%s: /nprouter:dataplane/%s: the data plane runs with %s "
					"%" PRIu32 ", less than the %" PRIu32
					" configured: restart it with %s %" PRIu32,
					name, leaf[k], opt[k], have[k], want[k], opt[k], want[k]);
		else if (need[k] > have[k])
			config_msgs_add(
				errs,
				"%s: the configuration needs %" PRIu64 " %s, more than the data "
				"plane's %" PRIu32 " (%s)",
				name, need[k] - (k < 2), leaf[k], have[k] - (k < 2), opt[k]);
	}
	return errs->n_total > before ? -EINVAL : 0;
}
