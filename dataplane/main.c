/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nprouter-dataplane [EAL options] -- [options]
 *
 * The main lcore is the control thread: it serves the shared-memory ring (cfg/ is the single
 * FIB writer), reclaims memory after QSBR grace periods, runs the slow path (slowpath/: ARP,
 * ND, ICMP) on the exceptions and hands what it sends to the workers' inject rings, and
 * reports counters. Every other EAL lcore is a worker (fwd.c) that owns one RX queue and one
 * TX queue on every port. With host ports (hostif.c) it also keeps a Linux TAP per interface
 * and moves frames between the TAPs and the slow path. memif ports are behind the port gate
 * (portgate.c): the workers keep out of their queues while the driver changes them.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "npr/shm.h"
#include "npr/util.h"
#include "capture.h"
#include "cfg.h"
#include "fwd.h"
#include "hostif.h"
#include "portgate.h"
#include "punt.h"
#include "shm_server.h"
#include "slowpath.h"
#include "stats.h"
#include "telemetry.h"

#define PROG "nprouter-dataplane"
/* room for the punt classes' bursts (punt.c) and for ~0.5 s of their rates while the control
 * thread is descheduled: on a shared machine a flood otherwise ends as EXC_FULL */
#define EXC_RING_SIZE 4096u
#define INJECT_RING_SIZE 1024u
/* What a frame carries besides its IP packet, as ethdev counts it (Ethernet header and CRC).
 * Tagged frames are not for us (BAD_ETHERTYPE): no VLAN allowance. */
#define ETH_OVERHEAD (RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN)
/* af_packet (TPACKET_V2 ring): the kernel puts a frame's Ethernet header at
 * TPACKET_ALIGN(TPACKET2_HDRLEN + 16) - 14 bytes into its ring frame and cuts what does not
 * fit (tpacket_rcv); the PMD passes the cut frame on as it is. So the IP packet ends at most
 * framesz bytes into the ring frame, and starts here: */
#define AFP_IP_OFFSET TPACKET_ALIGN(TPACKET2_HDRLEN + 16)
#define AFP_FRAMESZ_DEFAULT 2048u /* the PMD's default framesz (DFLT_FRAME_SIZE) */

static volatile int stop_flag;
static volatile sig_atomic_t got_signal;

struct opts {
	const char *shm_name;
	mode_t shm_mode;
	gid_t shm_gid;
	uint64_t ring_size;
	uint32_t nh_max;
	uint32_t group_max;
	uint32_t route4_max;
	uint32_t route6_max;
	uint32_t mbufs;
	uint32_t mbuf_size; /* frame bytes one packet buffer holds (data room less headroom) */
	uint16_t rxd;
	uint16_t txd;
	unsigned stats_interval; /* seconds; 0: only at exit */
	int promisc;
	int host_ports; /* -1: when /dev/net/tun is usable; 0: off; 1: on or fail */
	/* slow path (0: its defaults) */
	uint32_t icmp_rate, icmp_burst, neigh_retry_ms, neigh_retries, neigh_reachable_ms;
	struct punt_conf punt;
	int idle_adaptive; /* --idle adaptive (default) / poll */
};

struct dp {
	struct opts o;
	unsigned n_ports;
	uint16_t port_ids[NPR_MAX_PORTS];
	unsigned n_workers;
	struct fwd_worker *workers[NPR_MAX_WORKERS];
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct cfg *cfg;
	struct shm_server *shm;
	struct slowpath *sp;
	struct hostif *host; /* NULL: host ports off */
	struct stats stats;
};

static void
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/* die() exits from anywhere during start-up: never leave the segment behind. */
static struct shm_server *shm_for_exit;
static void
remove_shm(void)
{
	if (shm_for_exit != NULL)
		shm_server_destroy(shm_for_exit);
	shm_for_exit = NULL;
}

static void
on_signal(int sig)
{
	got_signal = sig;
	stop_flag = 1;
}

static void
usage(void)
{
	printf("usage: " PROG " [EAL options] -- [options]\n"
	       "\n"
	       "Every probed DPDK port is used (PCI, or --vdev=net_pcap0,...). The main lcore is "
	       "the\n"
	       "control thread; every other lcore of -l is a forwarding worker.\n"
	       "\n"
	       "options:\n"
	       "  --shm NAME            shared-memory name for nprouter-control (default %s)\n"
	       "  --shm-group GROUP     let GROUP use nprouter-control (mode 0660)\n"
	       "  --shm-mode MODE       octal mode of the segment (default 0600)\n"
	       "  --nexthops N          next hop table size (default 65536)\n"
	       "  --groups N            ECMP group table size (default 4096)\n"
	       "  --routes4 N           IPv4 route capacity (default 2097152)\n"
	       "  --routes6 N           IPv6 route capacity (default 524288)\n"
	       "  --mbufs N             packet buffers (default: derived from ports and queues)\n"
	       "  --mbuf-size BYTES     frame bytes a buffer holds (default 2048): ports carry\n"
	       "                        IP packets up to BYTES - 18 (9018 for MTU 9000)\n"
	       "  --rxd N / --txd N     descriptors per RX / TX queue (default 1024)\n"
	       "  --stats-interval S    print counters every S seconds (default 0: at exit only)\n"
	       "  --icmp-rate N         ICMP errors per second, token bucket (default 100)\n"
	       "  --icmp-burst N        ICMP error bucket depth (default 50)\n"
	       "  --neigh-retry-ms N    ARP/ND: interval between requests (default 1000)\n"
	       "  --neigh-retries N     ARP/ND: requests before giving up (default 3)\n"
	       "  --neigh-reachable-ms N  learnt neighbours are re-checked after this (default "
	       "30000)\n"
	       "  --idle adaptive|poll  idle workers nap, back online within 1 ms (default), or\n"
	       "                        always poll (lowest latency, a full CPU each)\n"
	       "  --punt-rate CLASS=RATE[/BURST][,...]  police what goes to the slow path, per\n"
	       "                        class: RATE packets/s per port (0: no limit), BURST\n"
	       "                        per worker; classes arp, nd, mcast, echo, bgp, local,\n"
	       "                        resolve, icmp_err, too_big (defaults: see README)\n"
	       "  --no-promisc          do not put ports in promiscuous mode\n"
	       "  --host-ports          a Linux TAP named like each interface for the host stack:\n"
	       "                        what the router does not answer itself goes there\n"
	       "                        (default: on when /dev/net/tun is usable)\n"
	       "  --no-host-ports       no TAPs; packets for the router with no service are "
	       "dropped\n"
	       "  -h, --help            this text\n",
	       NPR_SHM_DEFAULT_NAME);
}

static unsigned long
parse_num(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		die("%s: '%s' is not a number in %lu..%lu", opt, s, lo, hi);
	return v;
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "shm", required_argument, NULL, 's' },
		{ "shm-group", required_argument, NULL, 'g' },
		{ "shm-mode", required_argument, NULL, 'M' },
		{ "nexthops", required_argument, NULL, 'n' },
		{ "groups", required_argument, NULL, 'G' },
		{ "routes4", required_argument, NULL, '4' },
		{ "routes6", required_argument, NULL, '6' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "mbuf-size", required_argument, NULL, 'S' },
		{ "rxd", required_argument, NULL, 'r' },
		{ "txd", required_argument, NULL, 't' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "no-promisc", no_argument, NULL, 'P' },
		{ "host-ports", no_argument, NULL, 'H' },
		{ "no-host-ports", no_argument, NULL, 'K' },
		{ "icmp-rate", required_argument, NULL, 'R' },
		{ "icmp-burst", required_argument, NULL, 'B' },
		{ "neigh-retry-ms", required_argument, NULL, 'T' },
		{ "neigh-retries", required_argument, NULL, 'N' },
		{ "neigh-reachable-ms", required_argument, NULL, 'A' },
		{ "punt-rate", required_argument, NULL, 'U' },
		{ "idle", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *punt[32];
	unsigned n_punt = 0;
	char err[256];
	int c;

	*o = (struct opts){
		.shm_name = NPR_SHM_DEFAULT_NAME,
		.shm_mode = 0600,
		.shm_gid = (gid_t)-1,
		.ring_size = NPR_SHM_RING_SIZE,
		.nh_max = 65536,
		.group_max = 4096,
		.route4_max = 2u << 20,
		.route6_max = 512u << 10,
		.mbuf_size = RTE_MBUF_DEFAULT_DATAROOM,
		.rxd = 1024,
		.txd = 1024,
		.promisc = 1,
		.host_ports = -1,
		.idle_adaptive = 1,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->shm_name = optarg;
			break;
		case 'g': {
			struct group *g = getgrnam(optarg);
			if (g == NULL)
				die("--shm-group: no group named '%s'", optarg);
			o->shm_gid = g->gr_gid;
			if (o->shm_mode == 0600)
				o->shm_mode = 0660;
			break;
		}
		case 'M':
			o->shm_mode = (mode_t)parse_num("--shm-mode", optarg, 0, 0777);
			break;
		case 'n':
			o->nh_max = (uint32_t)parse_num("--nexthops", optarg, 16, 1u << 24);
			break;
		case 'G':
			o->group_max = (uint32_t)parse_num("--groups", optarg, 2, 1u << 20);
			break;
		case '4':
			o->route4_max = (uint32_t)parse_num("--routes4", optarg, 16, 1u << 26);
			break;
		case '6':
			o->route6_max = (uint32_t)parse_num("--routes6", optarg, 16, 1u << 24);
			break;
		case 'm':
			o->mbufs = (uint32_t)parse_num("--mbufs", optarg, 1024, 1u << 24);
			break;
		case 'S':
			o->mbuf_size = (uint32_t)parse_num("--mbuf-size", optarg, 1024,
							   UINT16_MAX - RTE_PKTMBUF_HEADROOM);
			break;
		case 'r':
			o->rxd = (uint16_t)parse_num("--rxd", optarg, 32, 32768);
			break;
		case 't':
			o->txd = (uint16_t)parse_num("--txd", optarg, 32, 32768);
			break;
		case 'i':
			o->stats_interval =
				(unsigned)parse_num("--stats-interval", optarg, 0, 86400);
			break;
		case 'P':
			o->promisc = 0;
			break;
		case 'H':
			o->host_ports = 1;
			break;
		case 'K':
			o->host_ports = 0;
			break;
		case 'R':
			o->icmp_rate = (uint32_t)parse_num("--icmp-rate", optarg, 1, 1000000000);
			break;
		case 'B':
			o->icmp_burst = (uint32_t)parse_num("--icmp-burst", optarg, 1, 1000000);
			break;
		case 'T':
			o->neigh_retry_ms =
				(uint32_t)parse_num("--neigh-retry-ms", optarg, 1, 60000);
			break;
		case 'N':
			o->neigh_retries = (uint32_t)parse_num("--neigh-retries", optarg, 1, 100);
			break;
		case 'A':
			o->neigh_reachable_ms =
				(uint32_t)parse_num("--neigh-reachable-ms", optarg, 10, 86400000);
			break;
		case 'I':
			if (strcmp(optarg, "adaptive") == 0)
				o->idle_adaptive = 1;
			else if (strcmp(optarg, "poll") == 0)
				o->idle_adaptive = 0;
			else
				die("--idle: '%s': adaptive or poll", optarg);
			break;
		case 'U':
			if (n_punt == sizeof(punt) / sizeof(punt[0]))
				die("--punt-rate: at most %u times", n_punt);
			punt[n_punt++] = optarg;
			break;
		case 'h':
			usage();
			exit(EXIT_SUCCESS);
		default:
			usage();
			exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	/* after --icmp-rate / --icmp-burst, whatever the order: they are ICMP_ERR's defaults */
	punt_defaults(&o->punt, o->icmp_rate, o->icmp_burst);
	for (unsigned i = 0; i < n_punt; i++)
		if (punt_parse(&o->punt, punt[i], err, sizeof(err)) < 0)
			die("--punt-rate: %s", err);
}

/* EAL's own message for missing hugepages is several log lines deep; say it plainly first. */
static void
check_hugepages(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--no-huge") == 0 || strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return;
	}
	glob_t g;
	unsigned long free_pages = 0;
	if (glob("/sys/kernel/mm/hugepages/hugepages-*/free_hugepages", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			FILE *f = fopen(g.gl_pathv[i], "r");
			unsigned long n = 0;
			if (f != NULL) {
				if (fscanf(f, "%lu", &n) == 1)
					free_pages += n;
				fclose(f);
			}
		}
		globfree(&g);
	}
	if (free_pages == 0)
		die("no free hugepages: reserve some (tools/setup.sh does: echo 1024 > "
		    "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; mount -t hugetlbfs "
		    "nodev /dev/hugepages) or run with the EAL option --no-huge -m 1024");
}

static bool
is_af_packet(const struct rte_eth_dev_info *info)
{
	return info->driver_name != NULL && strcmp(info->driver_name, "net_af_packet") == 0;
}

/* A numeric devarg of a port (as the af_packet PMD reads them: decimal), or def. */
static unsigned
devarg_num(const struct rte_eth_dev_info *info, const char *key, unsigned def)
{
	const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	unsigned v = def;

	if (da == NULL || da->args == NULL)
		return v;
	struct rte_kvargs *kv = rte_kvargs_parse(da->args, NULL);
	if (kv == NULL)
		return v;
	const char *s = rte_kvargs_get(kv, key);
	if (s != NULL)
		v = (unsigned)strtoul(s, NULL, 10);
	rte_kvargs_free(kv);
	return v;
}

/* An af_packet port's ring frame size: its devarg framesz, or the PMD's default. */
static unsigned
afp_framesz(const struct rte_eth_dev_info *info)
{
	return devarg_num(info, "framesz", AFP_FRAMESZ_DEFAULT);
}

/* The Linux netdev a port is bound to (af_packet, tap, pcap on an interface): its name in
 * name (IF_NAMESIZE) and its MTU; 0 if there is none. */
static unsigned
kernel_netdev(unsigned if_index, char *name)
{
	struct ifreq ifr;

	name[0] = '\0';
	memset(&ifr, 0, sizeof(ifr));
	if (if_index == 0 || if_indextoname(if_index, ifr.ifr_name) == NULL)
		return 0;
	snprintf(name, IF_NAMESIZE, "%s", ifr.ifr_name);
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return 0;
	int rc = ioctl(sk, SIOCGIFMTU, &ifr);
	close(sk);
	return rc == 0 && ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
}

/* cp->max_mtu = mtu, with its reason, if that is lower. */
static void __attribute__((format(printf, 3, 4)))
limit_to(struct cfg_port *cp, unsigned mtu, const char *fmt, ...)
{
	va_list ap;

	if (mtu >= cp->max_mtu)
		return;
	cp->max_mtu = (uint16_t)mtu;
	va_start(ap, fmt);
	vsnprintf(cp->mtu_why, sizeof(cp->mtu_why), fmt, ap);
	va_end(ap);
}

/* The largest IP packet a port carries whole: the least of what the device takes, what one
 * buffer holds (scatter RX is not used: the slow path fragments and quotes packets from one
 * buffer), an af_packet port's ring frame, and nprouter's maximum. */
static void
port_limit(const struct dp *dp, const struct rte_eth_dev_info *info, struct cfg_port *cp)
{
	cp->max_mtu = NPR_MTU_MAX;
	snprintf(cp->mtu_why, sizeof(cp->mtu_why), "nprouter's maximum");
	/* ethdev's own rule for the L2 overhead (eth_dev_get_overhead_len) */
	uint32_t ovh = info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu
			       ? info->max_rx_pktlen - info->max_mtu
			       : ETH_OVERHEAD;
	if (info->max_mtu != UINT16_MAX)
		limit_to(cp, info->max_mtu, "device max_mtu %u", info->max_mtu);
	if (info->max_rx_pktlen > ovh)
		limit_to(cp, info->max_rx_pktlen - ovh, "max_rx_pktlen %" PRIu32 " - %" PRIu32,
			 info->max_rx_pktlen, ovh);
	else
		limit_to(cp, 0, "max_rx_pktlen %" PRIu32, info->max_rx_pktlen);
	limit_to(cp, dp->o.mbuf_size - ETH_OVERHEAD, "mbuf data room %u - %u", dp->o.mbuf_size,
		 ETH_OVERHEAD);
	if (is_af_packet(info)) {
		unsigned fs = afp_framesz(info);
		limit_to(cp, fs > AFP_IP_OFFSET ? fs - AFP_IP_OFFSET : 0,
			 "af_packet framesz %u - %u", fs, (unsigned)AFP_IP_OFFSET);
	}
}

/* How to give a virtual device more queues, for the error above. */
static const char *
more_queues_hint(const char *driver)
{
	static const struct {
		const char *driver, *hint;
	} hints[] = {
		{ "net_pcap", " (net_pcap: one rx_pcap= and one tx_pcap= per queue)" },
		{ "net_af_packet", " (net_af_packet: qpairs=N)" },
	};
	for (size_t i = 0; driver != NULL && i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(driver, hints[i].driver) == 0)
			return hints[i].hint;
	return "";
}

static void
port_init(struct dp *dp, uint16_t port, unsigned idx, struct cfg_port *cp)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = { 0 };
	char name[RTE_ETH_NAME_MAX_LEN], kif[IF_NAMESIZE];
	int rc;

	rte_eth_dev_get_name_by_port(port, name);
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		die("port %u (%s): cannot read device info: %s", port, name, rte_strerror(-rc));
	unsigned nq = dp->n_workers;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq)
		die("port %u (%s) has %u rx / %u tx queues, %u workers need one of each; run fewer "
		    "workers (-l) or give the device more queues%s",
		    port, name, info.max_rx_queues, info.max_tx_queues, nq,
		    more_queues_hint(info.driver_name));
	if (is_af_packet(&info)) {
		/* the PMD reads ring frame i at i * framesz, where the kernel puts it only if
		 * framesz divides the block size (else it receives nothing useful) */
		unsigned fs = afp_framesz(&info);
		unsigned bs = devarg_num(&info, "blocksz", (unsigned)getpagesize());
		if (fs <= AFP_IP_OFFSET || bs % fs != 0)
			die("port %u (%s): af_packet framesz %u does not divide blocksz %u, or is "
			    "not above %u: the PMD would read its ring at the wrong places "
			    "(blocksz: a multiple of the page size, %u by default)",
			    port, name, fs, bs, (unsigned)AFP_IP_OFFSET, (unsigned)getpagesize());
		/* the PMD copies a whole ring frame (less its header) into one buffer */
		unsigned need = fs - (unsigned)TPACKET_ALIGN(sizeof(struct tpacket2_hdr));
		if (need > dp->o.mbuf_size)
			die("port %u (%s): af_packet framesz %u needs buffers of %u bytes: start "
			    "with --mbuf-size %u or a smaller framesz",
			    port, name, fs, need, need);
	}
	port_limit(dp, &info, cp);
	if (cp->max_mtu < NPR_MTU_MIN)
		die("port %u (%s) carries IP packets of at most %u bytes (%s), less than %u", port,
		    name, cp->max_mtu, cp->mtu_why, NPR_MTU_MIN);
	if (nq > 1) {
		/* RSS where the device hashes flows; else the device (or its peer) chooses each
		 * packet's queue: one file per queue (net_pcap), the peer's queue (net_memif),
		 * the kernel's fanout hash (net_af_packet qpairs) */
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			      info.flow_type_rss_offloads;
		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			printf(PROG ": port %u (%s): no RSS; %u queues, the device chooses each "
				    "packet's queue\n",
			       port, name, nq);
		}
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	/* the port takes every frame it can carry; interface MTUs (at most this) limit what
	 * is sent */
	conf.rxmode.mtu = cp->max_mtu;
	rc = rte_eth_dev_configure(port, (uint16_t)nq, (uint16_t)nq, &conf);
	if (rc != 0)
		die("port %u (%s): configure failed: %s", port, name, rte_strerror(-rc));
	/* configure only records the MTU; set_mtu has the PMD apply it (af_packet and tap set
	 * their Linux netdev's, which limits what the kernel passes them and lets them send) */
	rc = rte_eth_dev_set_mtu(port, cp->max_mtu);
	if (rc != 0 && rc != -ENOTSUP)
		printf(PROG ": port %u (%s): cannot set MTU %u: %s\n", port, name, cp->max_mtu,
		       rte_strerror(-rc));
	/* a bound Linux netdev's MTU bounds the frames it passes (and takes) */
	unsigned kmtu = kernel_netdev(info.if_index, kif);
	if (kmtu != 0)
		limit_to(cp, kmtu, "MTU of Linux %s", kif);
	if (cp->max_mtu < NPR_MTU_MIN)
		die("port %u (%s) carries IP packets of at most %u bytes (%s), less than %u", port,
		    name, cp->max_mtu, cp->mtu_why, NPR_MTU_MIN);
	uint16_t rxd = dp->o.rxd, txd = dp->o.txd;
	rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
	for (unsigned q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, (uint16_t)q, rxd, rte_eth_dev_socket_id(port),
					    NULL, dp->pool);
		if (rc != 0)
			die("port %u (%s): rx queue %u: %s", port, name, q, rte_strerror(-rc));
		rc = rte_eth_tx_queue_setup(port, (uint16_t)q, txd, rte_eth_dev_socket_id(port),
					    NULL);
		if (rc != 0)
			die("port %u (%s): tx queue %u: %s", port, name, q, rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		die("port %u (%s): start failed: %s", port, name, rte_strerror(-rc));
	if (dp->o.promisc)
		rte_eth_promiscuous_enable(port); /* not every vdev supports it: not fatal */
	/* af_packet: what its netdev received and the port did not pass on nprouter never saw
	 * (ring overruns, IPv4 fragments the kernel reassembled first), and DPDK 22.11 does not
	 * count it: the two counters are compared (rx_unseen) */
	if (is_af_packet(&info) && kif[0] != '\0')
		stats_watch_netdev(&dp->stats, idx, kif);

	for (unsigned w = 0; w < dp->n_workers; w++) {
		struct fwd_worker *wk = dp->workers[w];
		wk->rxq[wk->n_rxq].port = port;
		wk->rxq[wk->n_rxq].queue = (uint16_t)w;
		wk->n_rxq++;
		wk->txq[port] = (uint16_t)w;
	}
}

/* The slow path's frames go to one worker per port (so that they keep their order); the
 * worker sends them with its own tx queue. Single producer: this thread. */
static int
inject_tx(void *ctx, struct rte_mbuf *m)
{
	struct dp *dp = ctx;
	struct fwd_worker *w = dp->workers[m->port % dp->n_workers];

	return rte_ring_sp_enqueue(w->inject, m) == 0 ? 0 : -ENOBUFS;
}

/* Host ports: the slow path gives the host stack a frame; the host stack sent one. */
static int
host_tx(void *ctx, unsigned ifid, const void *frame, uint32_t len)
{
	return hostif_write(ctx, ifid, frame, len);
}

static void
host_rx(void *ctx, unsigned ifid, const void *frame, uint32_t len)
{
	struct dp *dp = ctx;

	sp_host_input(dp->sp, ifid, frame, len, npr_now_ns());
}

/* One line either way: whether the host stack gets the router's interfaces. */
static void
host_ports_start(struct dp *dp)
{
	char err[160];

	if (dp->o.host_ports == 0) {
		printf(PROG ": host ports off (--no-host-ports): packets for the router that it "
			    "does not answer itself are dropped\n");
		return;
	}
	dp->host = hostif_create(dp->cfg, err, sizeof(err));
	if (dp->host == NULL && dp->o.host_ports == 1)
		die("--host-ports: %s", err);
	if (dp->host == NULL) {
		printf(PROG ": host ports off: %s; packets for the router that it does not answer "
			    "itself are dropped\n",
		       err);
		return;
	}
	printf(PROG ": host ports on: each interface gets a Linux TAP of its name for the host "
		    "stack (--no-host-ports: off)\n");
}

/* Exceptions go to the slow path (which frees or sends every one); without one (shutting
 * down) they are counted and freed. */
static unsigned
drain_exceptions(struct dp *dp)
{
	struct rte_mbuf *m[64];
	unsigned total = 0;
	for (unsigned w = 0; w < dp->n_workers; w++) {
		unsigned n = rte_ring_sc_dequeue_burst(dp->workers[w]->exc, (void **)m, 64, NULL);
		uint64_t now = n > 0 ? npr_now_ns() : 0;
		for (unsigned i = 0; i < n; i++) {
			if (dp->sp != NULL)
				sp_input(dp->sp, m[i], now);
			else
				rte_pktmbuf_free(m[i]);
		}
		dp->stats.exc_handled += n;
		total += n;
	}
	return total;
}

/* What telemetry's commands answer (telemetry.h): the control thread's own reads, copied. */
static void
publish_telemetry(struct dp *dp)
{
	static struct npr_stats st; /* tens of KiB: not on the stack */
	struct npr_info in;

	cfg_info(dp->cfg, &in);
	cfg_stats(dp->cfg, &st);
	telemetry_publish(&in, &st, npr_now_ns());
}

static uint64_t
new_instance_id(void)
{
	uint64_t id = 0;
	FILE *f = fopen("/dev/urandom", "r");
	if (f != NULL) {
		if (fread(&id, sizeof(id), 1, f) != 1)
			id = 0;
		fclose(f);
	}
	if (id == 0)
		id = npr_now_ns() ^ ((uint64_t)getpid() << 32);
	return id;
}

int
main(int argc, char **argv)
{
	static struct dp dp;
	char err[256];
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Options after "--" are ours: parse them first so that a typo fails before EAL. */
	int sep = argc;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	{
		char *app_argv[argc + 1];
		int app_argc = 0;
		app_argv[app_argc++] = argv[0];
		for (int i = sep + 1; i < argc; i++)
			app_argv[app_argc++] = argv[i];
		app_argv[app_argc] = NULL;
		parse_opts(&dp.o, app_argc, app_argv);
	}
	/* The segment first: a second data plane on the same name stops here, before EAL. */
	uint64_t instance_id = new_instance_id();
	dp.shm = shm_server_create(dp.o.shm_name, dp.o.shm_mode, dp.o.shm_gid, dp.o.ring_size,
				   instance_id, err, sizeof(err));
	if (dp.shm == NULL)
		die("%s", err);
	shm_for_exit = dp.shm;
	atexit(remove_shm);
	check_hugepages(sep, argv);

	rc = rte_eal_init(sep, argv);
	if (rc < 0)
		die("DPDK EAL initialisation failed: %s (see the EAL messages above; hugepages, "
		    "--no-huge, --no-pci, -l)",
		    rte_strerror(rte_errno));

	stats_init(&dp.stats);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid)
	{
		if (dp.n_ports == NPR_MAX_PORTS)
			die("more than %u ports", NPR_MAX_PORTS);
		dp.port_ids[dp.n_ports++] = pid;
	}
	if (dp.n_ports == 0)
		die("no ports: give DPDK a device (a NIC bound to vfio-pci, or e.g. "
		    "--vdev=net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap)");
	dp.n_workers = rte_lcore_count() - 1;
	if (dp.n_workers == 0)
		die("no worker lcores: give EAL at least two lcores (e.g. -l 0,1); the main lcore "
		    "is the control thread");
	if (dp.n_workers > NPR_MAX_WORKERS)
		die("more than %u workers", NPR_MAX_WORKERS);

	/* QSBR: one thread id per worker; the control thread is the writer, never a reader. */
	size_t qsz = rte_rcu_qsbr_get_memsize(dp.n_workers);
	dp.qsbr = rte_zmalloc("qsbr", qsz, RTE_CACHE_LINE_SIZE);
	if (dp.qsbr == NULL || rte_rcu_qsbr_init(dp.qsbr, dp.n_workers) != 0)
		die("cannot allocate the RCU state");

	unsigned w = 0, lcore;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct fwd_worker *wk =
			rte_zmalloc_socket("worker", sizeof(*wk), RTE_CACHE_LINE_SIZE,
					   (int)rte_lcore_to_socket_id(lcore));
		if (wk == NULL)
			die("out of memory for worker %u", w);
		char rname[RTE_RING_NAMESIZE];
		snprintf(rname, sizeof(rname), "exc%u", w);
		wk->exc = rte_ring_create(rname, EXC_RING_SIZE, (int)rte_lcore_to_socket_id(lcore),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (wk->exc == NULL)
			die("cannot create exception ring %s: %s", rname, rte_strerror(rte_errno));
		snprintf(rname, sizeof(rname), "inj%u", w);
		wk->inject =
			rte_ring_create(rname, INJECT_RING_SIZE, (int)rte_lcore_to_socket_id(lcore),
					RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (wk->inject == NULL)
			die("cannot create inject ring %s: %s", rname, rte_strerror(rte_errno));
		wk->idx = w;
		wk->stats.lcore_id = lcore;
		wk->stop = &stop_flag;
		wk->idle_adaptive = (unsigned)dp.o.idle_adaptive;
		wk->port_closed = portgate_closed();
		rte_rcu_qsbr_thread_register(dp.qsbr, w);
		dp.workers[w++] = wk;
	}
	punt_apply(&dp.o.punt, dp.workers, dp.n_workers, rte_get_tsc_hz());
	{
		char pl[512];
		punt_format(&dp.o.punt, pl, sizeof(pl));
		printf(PROG ": punt policing, packets/s per port / burst per worker: %s\n", pl);
	}

	/* Buffers: every RX and TX ring full, plus what each worker can hold in flight. */
	unsigned nq = dp.n_workers;
	uint32_t mbufs = dp.o.mbufs;
	if (mbufs == 0)
		mbufs = dp.n_ports * nq * (dp.o.rxd + dp.o.txd) +
			dp.n_workers *
				(FWD_BURST * (dp.n_ports + 2) + EXC_RING_SIZE + INJECT_RING_SIZE) +
			(rte_lcore_count() * 512) + 4096 + 2048 /* slow path queues */;
	unsigned room = dp.o.mbuf_size + RTE_PKTMBUF_HEADROOM;
	dp.pool = rte_pktmbuf_pool_create("mbufs", mbufs, 256, 0, (uint16_t)room,
					  (int)rte_socket_id());
	if (dp.pool == NULL)
		die("cannot allocate %u packet buffers of %u bytes (%u MiB): %s; reserve more "
		    "hugepages, raise -m or lower --mbufs / --mbuf-size",
		    mbufs, dp.o.mbuf_size, (unsigned)((uint64_t)mbufs * (room + 192) >> 20),
		    rte_strerror(rte_errno));

	struct cfg_conf cc = {
		.nh_max = dp.o.nh_max,
		.group_max = dp.o.group_max,
		.route4_max = dp.o.route4_max,
		.route6_max = dp.o.route6_max,
		.instance_id = instance_id,
		.n_ports = dp.n_ports,
		.n_workers = dp.n_workers,
		.qsbr = dp.qsbr,
		.stats = &dp.stats,
	};
	for (unsigned i = 0; i < dp.n_ports; i++) {
		struct rte_ether_addr mac;
		cc.port[i].port_id = dp.port_ids[i];
		cc.port[i].n_rxq = (uint16_t)nq;
		cc.port[i].n_txq = (uint16_t)nq;
		rte_eth_dev_get_name_by_port(dp.port_ids[i], cc.port[i].name);
		if (rte_eth_macaddr_get(dp.port_ids[i], &mac) == 0)
			memcpy(cc.port[i].mac, mac.addr_bytes, 6);
	}

	for (unsigned i = 0; i < dp.n_ports; i++)
		port_init(&dp, dp.port_ids[i], i, &cc.port[i]);

	dp.cfg = cfg_create(&cc);
	if (dp.cfg == NULL)
		die("cannot create the forwarding tables (%u next hops, %u routes v4, %u v6): %s",
		    cc.nh_max, cc.route4_max, cc.route6_max, strerror(errno));
	for (w = 0; w < dp.n_workers; w++)
		dp.workers[w]->t = cfg_tables(dp.cfg);
	host_ports_start(&dp);
	struct sp_conf spc = {
		.cfg = dp.cfg,
		.pool = dp.pool,
		.tx = inject_tx,
		.tx_ctx = &dp,
		.icmp_rate = dp.o.icmp_rate,
		.icmp_burst = dp.o.icmp_burst,
		.retry_ms = dp.o.neigh_retry_ms,
		.retries = dp.o.neigh_retries,
		.reachable_ms = dp.o.neigh_reachable_ms,
		.host_tx = dp.host != NULL ? host_tx : NULL,
		.host_ctx = dp.host,
	};
	dp.sp = sp_create(&spc);
	if (dp.sp == NULL)
		die("cannot create the slow path: %s", strerror(errno));
	dp.stats.n_ports = dp.n_ports;
	memcpy(dp.stats.port_id, dp.port_ids, sizeof(dp.stats.port_id));
	dp.stats.n_workers = dp.n_workers;
	dp.stats.workers = dp.workers;
	dp.stats.sp = dp.sp;
	dp.stats.shm = dp.shm;
	dp.stats.link_downs = portgate_link_downs;
	dp.stats.pool = dp.pool;

	/* DPDK telemetry: the commands read the snapshots the control loop publishes */
	if (telemetry_init(cc.port, dp.n_ports, err, sizeof(err)) != 0)
		die("%s", err);
	publish_telemetry(&dp);
	{
		char why[200];
		bool on = capture_start(sep, argv, why, sizeof(why));
		printf(PROG ": packet capture %s: %s\n", on ? "available" : "off", why);
	}

	/* memif ports: no worker inside their queues while their peer connects or leaves */
	if (portgate_arm(dp.qsbr, dp.port_ids, dp.n_ports, err, sizeof(err)) != 0)
		die("%s", err);

	w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		rc = rte_eal_remote_launch(fwd_worker_main, dp.workers[w], lcore);
		if (rc != 0)
			die("cannot launch worker %u on lcore %u: %s", w, lcore, rte_strerror(-rc));
		w++;
	}
	printf(PROG ": %u port(s), %u worker(s), control on /dev/shm/%s, instance %016" PRIx64 "\n",
	       dp.n_ports, dp.n_workers, dp.o.shm_name, cc.instance_id);
	for (unsigned i = 0; i < dp.n_ports; i++)
		printf("  port %u %s %02x:%02x:%02x:%02x:%02x:%02x, MTU up to %u (%s)\n",
		       cc.port[i].port_id, cc.port[i].name, cc.port[i].mac[0], cc.port[i].mac[1],
		       cc.port[i].mac[2], cc.port[i].mac[3], cc.port[i].mac[4], cc.port[i].mac[5],
		       cc.port[i].max_mtu, cc.port[i].mtu_why);
	/* how each core is used: which queues each worker polls, and how it idles */
	for (w = 0; w < dp.n_workers; w++) {
		const struct fwd_worker *wk = dp.workers[w];
		char qs[512] = "";
		size_t o = 0;
		for (unsigned q = 0; q < wk->n_rxq && o < sizeof(qs); q++)
			o += (size_t)snprintf(qs + o, sizeof(qs) - o, "%s%u:%u", q ? " " : "",
					      wk->rxq[q].port, wk->rxq[q].queue);
		printf("  worker %u lcore %u (CPU %d): rx queues (port:queue) %s; %s\n", w,
		       wk->stats.lcore_id, rte_lcore_to_cpu_id((int)wk->stats.lcore_id),
		       qs[0] != '\0' ? qs : "none",
		       wk->idle_adaptive ? "naps when idle (--idle adaptive)"
					 : "polls always (--idle poll)");
	}

	shm_server_ready(dp.shm);

	/* Control loop: requests first (bounded per round so exceptions keep flowing), then
	 * exceptions, frames from the host stack (bounded per TAP), housekeeping (following the
	 * configuration with the TAPs too); nap briefly when idle. */
	uint64_t last_periodic = 0, last_stats = npr_now_ns(), idle = 0, nap_ns = 50000;
	while (!stop_flag) {
		unsigned n = shm_server_poll(dp.shm, dp.cfg, 64);
		n += drain_exceptions(&dp);
		if (dp.host != NULL)
			n += hostif_poll(dp.host, host_rx, &dp);
		uint64_t t = npr_now_ns();
		if (t - last_periodic > 1000000) {
			cfg_periodic(dp.cfg);
			sp_periodic(dp.sp, t);
			if (dp.host != NULL)
				hostif_sync(dp.host, t);
			portgate_report(stdout);
			last_periodic = t;
		}
		if (telemetry_due(t))
			publish_telemetry(&dp);
		if (dp.o.stats_interval != 0 &&
		    t - last_stats > (uint64_t)dp.o.stats_interval * 1000000000ull) {
			stats_print(&dp.stats, stdout);
			last_stats = t;
		}
		/* idle: naps of 50 us, doubling up to 1 ms while nothing comes (a request or an
		 * exception waits at most that; the workers' rings hold what arrives meanwhile) */
		if (n == 0) {
			if (++idle > 1000) {
				struct timespec nap = { 0, (long)nap_ns };
				nanosleep(&nap, NULL);
				nap_ns = nap_ns * 2 > 1000000 ? 1000000 : nap_ns * 2;
			}
		} else {
			idle = 0;
			nap_ns = 50000;
		}
	}

	printf(PROG ": %s, stopping\n", got_signal == SIGINT ? "SIGINT" : "SIGTERM");
	rte_eal_mp_wait_lcore();
	portgate_disarm();
	drain_exceptions(&dp);
	/* what the slow path still holds or queued for the workers goes back to the pool */
	for (w = 0; w < dp.n_workers; w++) {
		struct rte_mbuf *m;
		while (rte_ring_sc_dequeue(dp.workers[w]->inject, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	stats_print(&dp.stats, stdout);
	publish_telemetry(&dp); /* the last counters; the commands answer until exit */
	capture_stop();
	hostif_free(dp.host); /* the TAPs stay for the next start */
	dp.host = NULL;
	sp_free(dp.sp);
	dp.sp = NULL;
	dp.stats.sp = NULL;
	shm_for_exit = NULL;
	shm_server_destroy(dp.shm);
	dp.stats.shm = NULL;
	uint64_t intr_waits = portgate_intr_waits();
	for (unsigned i = 0; i < dp.n_ports; i++) {
		rte_eth_dev_stop(dp.port_ids[i]);
		rte_eth_dev_close(dp.port_ids[i]);
	}
	portgate_settle(intr_waits); /* before rte_eal_cleanup unmaps memory (portgate.h) */
	cfg_free(dp.cfg);
	for (w = 0; w < dp.n_workers; w++) {
		rte_ring_free(dp.workers[w]->exc);
		rte_ring_free(dp.workers[w]->inject);
		rte_free(dp.workers[w]);
	}
	dp.stats.pool = NULL;
	rte_mempool_free(dp.pool);
	rte_free(dp.qsbr);
	rte_eal_cleanup();
	return 0;
}
