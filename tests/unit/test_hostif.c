/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the host ports' Linux side (dataplane/hostif.c) over a real cfg (cfg/)
 * programmed with hand-encoded records, in a network namespace of the test's own (unshare):
 * a TAP appears with the interface's name, MAC, MTU, state and addresses, follows their
 * changes, is renamed and goes with the interface; a name already taken is left alone and
 * had once free; TAPs outlive the data plane and the next one takes them over (same ifindex,
 * addresses put right) but never a TAP not marked as ours; frames go both ways (ARP requests
 * written to the TAP are answered by the kernel, the answers read back, at most HOSTIF_BURST per
 * poll). What is checked is read back from the kernel with ioctl and getifaddrs. Skipped (77)
 * without the right to make a namespace or without /dev/net/tun. No EAL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "npr/proto.h"
#include "cfg.h"
#include "hostif.h"

#define SEC 1000000000ull

static struct cfg *C;
static struct hostif *H;
static struct npr_reply last;
static uint64_t now = 100 * SEC;

static const uint8_t P0[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 }; /* port 0's MAC */
static const uint8_t P1[6] = { 0x02, 0, 0, 0, 0x0b, 0x01 };
static const uint8_t M2[6] = { 0x02, 0, 0, 0, 0x0a, 0x02 }; /* an override */
static const uint8_t HM[6] = { 0x02, 0xaa, 0, 0, 0, 0x02 }; /* a host on the link */

/* ---- cfg, programmed as the control process would ---- */

static void
emit(void *ctx, const void *rec, uint32_t len)
{
	(void)ctx;
	const struct npr_msg_hdr *h = rec;
	if (h->type == NPR_MSG_REPLY && len == sizeof(last))
		memcpy(&last, rec, sizeof(last));
}

static int
send_rec(void *m, uint16_t type, uint32_t len)
{
	struct npr_msg_hdr *h = m;
	h->type = type;
	h->version = NPR_ABI_VERSION;
	h->len = len;
	cfg_handle(C, m, len, emit, NULL);
	return last.status;
}

#define OK(x)                                                                                      \
	do {                                                                                       \
		int rc_ = (x);                                                                     \
		if (rc_ != 0)                                                                      \
			fail_msg("%s: %d %s", #x, rc_, last.msg);                                  \
	} while (0)

static int
iface(unsigned ifid, unsigned port, const uint8_t *mac, unsigned mtu, bool up, const char *name)
{
	struct npr_msg_iface_set m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.port_id = (uint16_t)port;
	m.mtu = (uint16_t)mtu;
	m.flags = up ? NPR_IFACE_F_UP : 0;
	if (mac != NULL)
		memcpy(m.mac, mac, 6);
	snprintf(m.name, sizeof(m.name), "%s", name);
	return send_rec(&m, NPR_MSG_IFACE_SET, sizeof(m));
}

static int
iface_del(unsigned ifid)
{
	struct npr_msg_iface_del m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	return send_rec(&m, NPR_MSG_IFACE_DEL, sizeof(m));
}

static int
addr(uint16_t type, unsigned ifid, const char *a, unsigned plen)
{
	struct npr_msg_addr m;
	memset(&m, 0, sizeof(m));
	m.ifid = (uint16_t)ifid;
	m.family = strchr(a, ':') ? NPR_AF_INET6 : NPR_AF_INET;
	m.plen = (uint8_t)plen;
	assert_int_equal(inet_pton(m.family == NPR_AF_INET ? AF_INET : AF_INET6, a, m.addr), 1);
	return send_rec(&m, type, sizeof(m));
}

static void
host_sync(void)
{
	hostif_sync(H, now);
}

/* ---- what the kernel has ---- */

struct link {
	bool exists, up, running; /* running: up with carrier (a process holds the TAP) */
	unsigned mtu;
	uint8_t mac[6];
};

static struct link
link_of(const char *name)
{
	struct link l = { 0 };
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		l.exists = true;
		l.up = (ifr.ifr_flags & IFF_UP) != 0;
		l.running = (ifr.ifr_flags & IFF_RUNNING) != 0;
		assert_int_equal(ioctl(s, SIOCGIFMTU, &ifr), 0);
		l.mtu = (unsigned)ifr.ifr_mtu;
		assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
		memcpy(l.mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	close(s);
	return l;
}

/* The kernel's operational state follows carrier changes with a delay (linkwatch, up to a
 * second): wait up to 3 s for name's to be running or not. */
static bool
running_becomes(const char *name, bool want)
{
	for (int i = 0; i < 300; i++) {
		if (link_of(name).running == want)
			return true;
		usleep(10000);
	}
	return false;
}

/* name has address a (text) with prefix length plen */
static bool
has_addr(const char *name, const char *a, unsigned plen)
{
	struct ifaddrs *list, *i;
	bool found = false;
	int af = strchr(a, ':') ? AF_INET6 : AF_INET;
	uint8_t want[16];

	assert_int_equal(inet_pton(af, a, want), 1);
	assert_int_equal(getifaddrs(&list), 0);
	for (i = list; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != af ||
		    strcmp(i->ifa_name, name))
			continue;
		const uint8_t *x, *m;
		unsigned n = af == AF_INET ? 4 : 16, bits = 0;
		if (af == AF_INET) {
			x = (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			m = (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
		} else {
			x = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr.s6_addr;
			m = ((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr.s6_addr;
		}
		for (unsigned k = 0; k < n; k++)
			bits += (unsigned)__builtin_popcount(m[k]);
		found = memcmp(x, want, n) == 0 && bits == plen;
	}
	freeifaddrs(list);
	return found;
}

/* ---- fixtures ---- */

static int
setup(void **state)
{
	(void)state;
	struct cfg_conf cc = { .nh_max = 16,
			       .group_max = 4,
			       .route4_max = 100,
			       .route6_max = 100,
			       .instance_id = 1,
			       .n_ports = 2,
			       .n_workers = 1 };
	char err[160];

	for (unsigned p = 0; p < 2; p++) {
		cc.port[p].port_id = (uint16_t)p;
		cc.port[p].n_rxq = cc.port[p].n_txq = 1;
		memcpy(cc.port[p].mac, p == 0 ? P0 : P1, 6);
	}
	C = cfg_create(&cc);
	assert_non_null(C);
	H = hostif_create(C, err, sizeof(err));
	if (H == NULL)
		fail_msg("hostif_create: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	hostif_free(H);
	cfg_free(C);
	return 0;
}

/* ---- tests ---- */

/* The TAP follows the interface: MAC, MTU, state, addresses, name; it goes with it. */
static void
test_follow(void **state)
{
	struct link l;
	(void)state;

	OK(iface(0, 0, NULL, 1500, true, "npr0"));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "192.0.2.1", 24));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "2001:db8::1", 64));
	host_sync();
	l = link_of("npr0");
	assert_true(l.exists);
	assert_true(l.up);
	assert_int_equal(l.mtu, 1500);
	assert_memory_equal(l.mac, P0, 6); /* the port's, without an override */
	assert_int_equal(hostif_ifindex(H, 0), (int)if_nametoindex("npr0"));
	assert_true(has_addr("npr0", "192.0.2.1", 24));
	assert_true(has_addr("npr0", "2001:db8::1", 64));

	/* MTU and MAC, while up */
	OK(iface(0, 0, M2, 1400, true, "npr0"));
	host_sync();
	l = link_of("npr0");
	assert_int_equal(l.mtu, 1400);
	assert_memory_equal(l.mac, M2, 6);
	assert_true(l.up);

	/* down: the kernel drops the IPv6 addresses; up: they are back */
	OK(iface(0, 0, M2, 1400, false, "npr0"));
	host_sync();
	assert_false(link_of("npr0").up);
	assert_true(has_addr("npr0", "192.0.2.1", 24));
	assert_false(has_addr("npr0", "2001:db8::1", 64));
	OK(iface(0, 0, M2, 1400, true, "npr0"));
	host_sync();
	assert_true(link_of("npr0").up);
	assert_true(has_addr("npr0", "2001:db8::1", 64));

	/* below 1280 Linux has no IPv6 on a link; back above, the addresses come back */
	OK(iface(0, 0, M2, 1000, true, "npr0"));
	host_sync();
	assert_false(has_addr("npr0", "2001:db8::1", 64));
	OK(iface(0, 0, M2, 1500, true, "npr0"));
	host_sync();
	assert_true(has_addr("npr0", "2001:db8::1", 64));

	/* addresses come and go; a prefix length change is a new address */
	OK(addr(NPR_MSG_ADDR_ADD, 0, "198.51.100.1", 25));
	OK(addr(NPR_MSG_ADDR_DEL, 0, "192.0.2.1", 24));
	host_sync();
	assert_false(has_addr("npr0", "192.0.2.1", 24));
	assert_true(has_addr("npr0", "198.51.100.1", 25));

	/* renamed: a new TAP of the new name, with the addresses */
	OK(iface(0, 0, M2, 1500, true, "npr9"));
	host_sync();
	assert_false(link_of("npr0").exists);
	assert_true(link_of("npr9").exists);
	assert_true(has_addr("npr9", "198.51.100.1", 25));
	assert_true(has_addr("npr9", "2001:db8::1", 64));

	/* deleted: the TAP goes */
	OK(addr(NPR_MSG_ADDR_DEL, 0, "198.51.100.1", 25));
	OK(addr(NPR_MSG_ADDR_DEL, 0, "2001:db8::1", 64));
	OK(iface_del(0));
	host_sync();
	assert_false(link_of("npr9").exists);
	assert_int_equal(hostif_ifindex(H, 0), 0);
	assert_int_equal(hostif_write(H, 0, "x", 1), -ENODEV);
}

/* A name a netdev has already is not touched; once free, the interface gets its TAP. */
static void
test_taken(void **state)
{
	struct ifreq ifr;
	(void)state;

	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "taken");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	struct link before = link_of("taken");

	OK(iface(1, 1, NULL, 1400, true, "taken"));
	OK(addr(NPR_MSG_ADDR_ADD, 1, "203.0.113.1", 24));
	host_sync();
	assert_int_equal(hostif_ifindex(H, 1), 0);
	struct link after = link_of("taken");
	assert_false(after.up);
	assert_int_equal(after.mtu, before.mtu);
	assert_memory_equal(after.mac, before.mac, 6);
	assert_false(has_addr("taken", "203.0.113.1", 24));
	assert_int_equal(hostif_write(H, 1, "x", 1), -ENODEV);

	/* the other program leaves: a second later the name is ours */
	close(fd);
	now += 2 * SEC;
	host_sync();
	assert_true(hostif_ifindex(H, 1) > 0);
	after = link_of("taken");
	assert_true(after.up);
	assert_int_equal(after.mtu, 1400);
	assert_memory_equal(after.mac, P1, 6);
	assert_true(has_addr("taken", "203.0.113.1", 24));

	/* names Linux refuses get no TAP either, and no harm */
	OK(iface(0, 0, NULL, 1500, true, "a/b"));
	host_sync();
	assert_int_equal(hostif_ifindex(H, 0), 0);
}

/* A restart: the TAPs stay without carrier, keep ifindex and addresses; the next data plane
 * takes them over, puts right what changed meanwhile, and leaves a TAP not ours alone. */
static void
test_restart(void **state)
{
	char err[160];
	struct ifreq ifr;
	(void)state;

	OK(iface(0, 0, NULL, 1500, true, "npr0"));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "192.0.2.1", 24));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "2001:db8::1", 64));
	host_sync();
	int idx = (int)if_nametoindex("npr0");
	assert_true(idx > 0);
	assert_true(running_becomes("npr0", true));

	/* a TAP of the same kind, persistent but not ours, under the name another interface
	 * will want */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "notours");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
	close(fd);

	hostif_free(H); /* the data plane stops */
	H = NULL;
	struct link l = link_of("npr0");
	assert_true(l.exists);
	assert_true(l.up);
	assert_true(running_becomes("npr0", false));
	assert_int_equal((int)if_nametoindex("npr0"), idx);
	assert_true(has_addr("npr0", "192.0.2.1", 24));

	/* meanwhile: the configuration changes, someone adds an address by hand */
	OK(addr(NPR_MSG_ADDR_DEL, 0, "192.0.2.1", 24));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "198.51.100.1", 25));
	OK(iface(0, 0, M2, 1400, true, "npr0"));
	OK(iface(1, 1, NULL, 1500, true, "notours"));
	assert_int_equal(system("ip addr add 203.0.113.9/24 dev npr0"), 0);

	H = hostif_create(C, err, sizeof(err));
	if (H == NULL)
		fail_msg("hostif_create: %s", err);
	host_sync();
	assert_int_equal(hostif_ifindex(H, 0), idx);
	assert_true(running_becomes("npr0", true));
	l = link_of("npr0");
	assert_int_equal(l.mtu, 1400);
	assert_memory_equal(l.mac, M2, 6);
	assert_true(has_addr("npr0", "198.51.100.1", 25));
	assert_true(has_addr("npr0", "2001:db8::1", 64));
	assert_false(has_addr("npr0", "192.0.2.1", 24));
	assert_false(has_addr("npr0", "203.0.113.9", 24));
	/* not ours: untouched, no host port */
	assert_int_equal(hostif_ifindex(H, 1), 0);
	assert_false(link_of("notours").running);

	/* the interface deleted: its TAP goes for good */
	OK(addr(NPR_MSG_ADDR_DEL, 0, "198.51.100.1", 25));
	OK(addr(NPR_MSG_ADDR_DEL, 0, "2001:db8::1", 64));
	OK(iface_del(0));
	host_sync();
	assert_false(link_of("npr0").exists);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 0), 0);
	close(fd);
}

static unsigned n_rx, n_replies;

static void
rx(void *ctx, unsigned ifid, const void *frame, uint32_t len)
{
	const uint8_t *f = frame;
	(void)ctx;

	assert_int_equal(ifid, 0);
	n_rx++;
	/* an ARP reply from 192.0.2.1, with the interface's MAC, to the host */
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2 &&
	    memcmp(f + 28, (const uint8_t[]){ 192, 0, 2, 1 }, 4) == 0) {
		assert_memory_equal(f, HM, 6);
		assert_memory_equal(f + 6, P0, 6);
		assert_memory_equal(f + 22, P0, 6);
		n_replies++;
	}
}

/* Frames both ways: ARP requests in, the kernel's replies out, HOSTIF_BURST at a time. */
static void
test_frames(void **state)
{
	uint8_t f[42];
	(void)state;

	OK(iface(0, 0, NULL, 1500, true, "npr0"));
	OK(addr(NPR_MSG_ADDR_ADD, 0, "192.0.2.1", 24));
	host_sync();
	n_rx = n_replies = 0;
	while (hostif_poll(H, rx, NULL) != 0) /* what the kernel says on its own (MLD...) */
		;
	n_rx = 0;
	/* 40 hosts ask for 192.0.2.1 */
	for (unsigned i = 0; i < 40; i++) {
		static const uint8_t hdr[] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
		memset(f, 0xff, 6);
		memcpy(f + 6, HM, 6);
		f[12] = 0x08;
		f[13] = 0x06;
		memcpy(f + 14, hdr, 8);
		memcpy(f + 22, HM, 6);
		memcpy(f + 28, (const uint8_t[]){ 192, 0, 2, (uint8_t)(10 + i) }, 4);
		memset(f + 32, 0, 6);
		memcpy(f + 38, (const uint8_t[]){ 192, 0, 2, 1 }, 4);
		assert_int_equal(hostif_write(H, 0, f, sizeof(f)), 0);
	}
	/* the kernel answers inside write(): every reply is queued already */
	assert_int_equal(hostif_poll(H, rx, NULL), HOSTIF_BURST);
	for (unsigned k = 0; k < 100 && n_replies < 40; k++) {
		if (hostif_poll(H, rx, NULL) == 0) {
			struct timespec t = { 0, 1000000 };
			nanosleep(&t, NULL);
		}
	}
	assert_int_equal(n_replies, 40);
}

int
main(void)
{
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("SKIP: /dev/net/tun: %s\n", strerror(errno));
		return 77;
	}
	/* TAPs and addresses in a namespace of our own: nothing outside sees them */
	if (unshare(CLONE_NEWNET) != 0) {
		printf("SKIP: no network namespace of our own: %s\n", strerror(errno));
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frames, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
