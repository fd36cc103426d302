/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus exposition (control/metrics.c) from hand-made npr_stats / npr_info: the
 * lines a scrape must have, the format's rules (HELP and TYPE once per family, before its
 * samples; counters end in _total; label values escaped), and the page of a data plane that
 * is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static struct npr_stats st;
static struct npr_info info;
static struct npr_dump_port ports[2];

static void
fill(void)
{
	memset(&st, 0, sizeof(st));
	memset(&info, 0, sizeof(info));
	memset(ports, 0, sizeof(ports));
	st.tsc_hz = 2000000000ull;
	st.uptime_ns = 12500000000ull;
	st.counted_ns = 10000000000ull;
	st.n_ports = 2;
	st.n_workers = 2;
	st.msgs_ok = 46;
	st.msgs_err = 3;
	st.ring_resets = 1;
	st.mbufs_total = 16383;
	st.mbufs_in_use = 2100;
	st.port[0].port_id = 0;
	st.port[0].link_up = 1;
	st.port[0].ipackets = 1000;
	st.port[0].ibytes = 64000;
	st.port[0].imissed = 7;
	st.port[0].q_ipackets[1] = 400;
	st.port[1].port_id = 3;
	st.port[1].flags = NPR_PORT_F_UNSEEN;
	st.port[1].rx_unseen = 5;
	st.port[1].link_downs = 2;
	st.port[1].opackets = 990;
	st.worker[0].lcore_id = 1;
	st.worker[0].rx_pkts = 600;
	st.worker[0].fwd4_pkts = 550;
	st.worker[0].polls = 100000;
	st.worker[0].busy_polls = 300;
	st.worker[0].naps = 40;
	st.worker[0].nap_cycles = 3000000000ull; /* 1.5 s at 2 GHz */
	st.worker[0].drop[NPR_DROP_NO_ROUTE] = 12;
	st.worker[1].lcore_id = 2;
	st.worker[1].rx_pkts = 400;
	st.worker[1].fwd6_pkts = 380;
	st.worker[1].exc[NPR_EXC_ARP] = 4;
	st.worker[1].policed[NPR_PUNT_ICMP_ERR] = 9;
	st.slow[NPR_SLOW_ARP_REPLY_TX] = 4;
	st.slow[NPR_SLOW_NS_TX] = 6;

	info.instance_id = 0x0123456789abcdefull;
	info.abi_version = NPR_ABI_VERSION;
	info.n_ports = 2;
	info.n_workers = 2;
	info.n_ifaces = 2;
	info.nh_max = 4096;
	info.group_max = 1024;
	info.route4_max = 1000000;
	info.route6_max = 200000;
	info.route4_count = 901899;
	info.fib4_bytes = 5900000;
	info.route4_by_origin[NPR_ORIGIN_NONE] = 4;
	info.route4_by_origin[NPR_ORIGIN_ZEBRA] = 901895;
	info.route6_by_origin[NPR_ORIGIN_CONFIG] = 3;
	info.txn[NPR_ORIGIN_CONFIG].generation = 5;
	info.txn[NPR_ORIGIN_CONFIG].failed = 1;
	info.txn[NPR_ORIGIN_CONFIG].commit_unix_ns = 1796641200500000000ull;
	info.txn[NPR_ORIGIN_CONFIG].failed_unix_ns = 1796641100000000000ull;
	info.txn[NPR_ORIGIN_CONFIG].last_status = 0;
	info.txn[NPR_ORIGIN_CLI].failed = 1;
	info.txn[NPR_ORIGIN_CLI].failed_unix_ns = 1796641000000000000ull;
	info.txn[NPR_ORIGIN_CLI].last_status = -2; /* ENOENT */

	ports[0].port_id = 0;
	snprintf(ports[0].name, sizeof(ports[0].name), "net_pcap0");
	ports[1].port_id = 3;
	/* a device name the format must escape: backslash, quote (and no NUL in 48 bytes) */
	memset(ports[1].name, 'x', sizeof(ports[1].name));
	memcpy(ports[1].name, "we\\ird\"dev", 10);
}

static char *
format(bool up)
{
	struct mtext t = { 0 };
	struct metrics_input in = { .up = up,
				    .st = &st,
				    .info = &info,
				    .ports = ports,
				    .n_ports = 2,
				    .scrape_seconds = 0.00025 };
	assert_int_equal(metrics_format(&t, &in), 0);
	assert_false(t.oom);
	assert_non_null(t.s);
	assert_int_equal(strlen(t.s), t.len);
	return t.s;
}

/* The page has this whole line. */
static void
has_line(const char *page, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = page; (p = strstr(p, line)) != NULL; p++)
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("missing line: %s", line);
}

static void
test_lines(void **state)
{
	(void)state;
	fill();
	char *page = format(true);
	static const char *const want[] = {
		"# HELP nprouter_up 1 if the data plane answered this scrape, 0 if it is not "
		"running or did not answer in time.",
		"# TYPE nprouter_up gauge",
		"nprouter_up 1",
		"nprouter_info{instance_id=\"0123456789abcdef\",abi=\"4\"} 1",
		"nprouter_uptime_seconds 12.5",
		"nprouter_counters_age_seconds 10",
		"# TYPE nprouter_messages_applied_total counter",
		"nprouter_messages_applied_total 46",
		"nprouter_messages_rejected_total 3",
		"nprouter_ring_resets_total 1",
		"nprouter_mbufs_in_use 2100",
		"nprouter_mbufs_capacity 16383",
		"nprouter_port_info{port=\"0\",device=\"net_pcap0\"} 1",
		"# TYPE nprouter_port_rx_packets_total counter",
		"nprouter_port_rx_packets_total{port=\"0\"} 1000",
		"nprouter_port_rx_packets_total{port=\"3\"} 0",
		"nprouter_port_tx_packets_total{port=\"3\"} 990",
		"nprouter_port_rx_bytes_total{port=\"0\"} 64000",
		"nprouter_port_rx_missed_total{port=\"0\"} 7",
		"nprouter_port_rx_unseen_total{port=\"3\"} 5",
		"nprouter_port_link_up{port=\"0\"} 1",
		"nprouter_port_link_up{port=\"3\"} 0",
		"nprouter_port_link_downs_total{port=\"3\"} 2",
		"nprouter_port_queue_rx_packets_total{port=\"0\",queue=\"1\"} 400",
		"nprouter_port_queue_tx_packets_total{port=\"3\",queue=\"0\"} 0",
		"nprouter_worker_info{worker=\"1\",lcore=\"2\"} 1",
		"nprouter_worker_rx_packets_total{worker=\"0\"} 600",
		"nprouter_worker_rx_packets_total{worker=\"1\"} 400",
		"nprouter_worker_forwarded_packets_total{worker=\"0\",family=\"ipv4\"} 550",
		"nprouter_worker_forwarded_packets_total{worker=\"1\",family=\"ipv6\"} 380",
		"nprouter_worker_polls_total{worker=\"0\"} 100000",
		"nprouter_worker_busy_polls_total{worker=\"0\"} 300",
		"nprouter_worker_naps_total{worker=\"0\"} 40",
		"nprouter_worker_nap_seconds_total{worker=\"0\"} 1.5",
		"nprouter_worker_drops_total{worker=\"0\",reason=\"no_route\"} 12",
		"nprouter_worker_drops_total{worker=\"1\",reason=\"link_down\"} 0",
		"nprouter_worker_exceptions_total{worker=\"1\",reason=\"arp\"} 4",
		"nprouter_worker_policed_total{worker=\"1\",class=\"icmp_err\"} 9",
		"# HELP nprouter_slowpath_arp_reply_tx_total Slow path: ARP replies sent.",
		"nprouter_slowpath_arp_reply_tx_total 4",
		"nprouter_slowpath_solicitations_tx_total 6",
		"nprouter_nexthops_capacity 4095",
		"nprouter_routes_capacity{family=\"ipv4\"} 1000000",
		"nprouter_routes{family=\"ipv4\",origin=\"zebra\"} 901895",
		"nprouter_routes{family=\"ipv4\",origin=\"connected\"} 4",
		"nprouter_routes{family=\"ipv6\",origin=\"config\"} 3",
		"nprouter_fib_routes{family=\"ipv4\"} 901899",
		"nprouter_fib_memory_bytes{family=\"ipv4\"} 5900000",
		"nprouter_config_generation{origin=\"config\"} 5",
		"nprouter_config_generation{origin=\"zebra\"} 0",
		"nprouter_config_failures_total{origin=\"cli\"} 1",
		"nprouter_config_last_success{origin=\"config\"} 1",
		"nprouter_config_last_success{origin=\"cli\"} 0",
		"nprouter_config_last_status{origin=\"cli\"} 2",
		"nprouter_config_last_commit_timestamp_seconds{origin=\"config\"} 1796641200.5",
		"nprouter_config_last_failure_timestamp_seconds{origin=\"cli\"} 1796641000",
		"nprouter_scrape_duration_seconds 0.00025",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		has_line(page, want[i]);
	/* the whole 48-byte name, escaped */
	char dev[160] = "nprouter_port_info{port=\"3\",device=\"we\\\\ird\\\"dev";
	memset(dev + strlen(dev), 'x', sizeof(ports[1].name) - 10);
	strcat(dev, "\"} 1");
	has_line(page, dev);
	/* origins without a transaction have no last-* samples; the data plane's own origin
	 * none at all */
	assert_null(strstr(page, "nprouter_config_last_success{origin=\"zebra\"}"));
	assert_null(strstr(page, "last_commit_timestamp_seconds{origin=\"cli\"}"));
	assert_null(strstr(page, "nprouter_config_generation{origin=\"connected\"}"));
	/* workers and queues beyond n_workers, ports beyond n_ports: not there */
	assert_null(strstr(page, "worker=\"2\""));
	assert_null(strstr(page, "queue=\"2\""));
	assert_null(strstr(page, "port=\"1\""));
	/* rx_unseen only where the port knows it */
	assert_null(strstr(page, "nprouter_port_rx_unseen_total{port=\"0\"}"));
	free(page);
}

/* Format rules, line by line: every sample's family was announced by HELP then TYPE just
 * before its first sample, no family is announced twice, counters (and only they) end in
 * _total, every line ends in a newline, no sample value is empty. */
static void
test_format_rules(void **state)
{
	(void)state;
	fill();
	char *page = format(true);
	char fams[512][96];
	size_t nf = 0;
	char cur[96] = "", cur_type[64] = "";
	bool help_seen = false;
	assert_int_equal(page[strlen(page) - 1], '\n');
	for (char *line = strtok(page, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char name[96], rest[64];
		if (sscanf(line, "# HELP %95s", name) == 1) {
			for (size_t i = 0; i < nf; i++)
				if (strcmp(fams[i], name) == 0)
					fail_msg("family %s announced twice", name);
			assert_true(nf < 512);
			snprintf(fams[nf++], sizeof(fams[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			assert_true(strlen(line) > strlen("# HELP ") + strlen(name) + 1);
			help_seen = true;
			cur_type[0] = '\0';
			continue;
		}
		if (sscanf(line, "# TYPE %95s %63s", name, rest) == 2) {
			assert_true(help_seen);
			assert_string_equal(name, cur);
			snprintf(cur_type, sizeof(cur_type), "%s", rest);
			size_t n = strlen(name);
			bool total = n > 6 && strcmp(name + n - 6, "_total") == 0;
			if (strcmp(rest, "counter") == 0)
				assert_true(total);
			else
				assert_false(total);
			continue;
		}
		assert_true(line[0] != '#');
		/* a sample: name up to '{' or ' ', of the family announced last */
		size_t n = strcspn(line, "{ ");
		assert_int_equal(n, strlen(cur));
		assert_memory_equal(line, cur, n);
		assert_true(cur_type[0] != '\0');
		const char *v = strrchr(line, ' ');
		assert_non_null(v);
		assert_true(v[1] >= '0' && v[1] <= '9');
	}
	assert_true(nf > 60);
	free(page);
}

/* The data plane is not there: nprouter_up 0 and nothing else read. */
static void
test_down(void **state)
{
	(void)state;
	struct mtext t = { 0 };
	struct metrics_input in = { .up = false };
	assert_int_equal(metrics_format(&t, &in), 0);
	assert_string_equal(t.s, "# HELP nprouter_up 1 if the data plane answered this scrape, 0 "
				 "if it is not running or did not answer in time.\n"
				 "# TYPE nprouter_up gauge\n"
				 "nprouter_up 0\n");
	mtext_free(&t);
	assert_null(t.s);
}

/* The buffer grows past its first allocation and keeps what came before. */
static void
test_mtext(void **state)
{
	(void)state;
	struct mtext t = { 0 };
	char big[40000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mtext_printf(&t, "start %d\n", 1);
	mtext_printf(&t, "%s", big);
	mtext_printf(&t, "%s", "");
	mtext_printf(&t, "\nend\n");
	assert_false(t.oom);
	assert_int_equal(t.len, 8 + sizeof(big) - 1 + 5);
	assert_int_equal(strncmp(t.s, "start 1\naaa", 11), 0);
	assert_string_equal(t.s + t.len - 5, "\nend\n");
	mtext_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_format_rules),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_mtext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
