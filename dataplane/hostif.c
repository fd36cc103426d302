/* SPDX-License-Identifier: BSD-3-Clause */
/* Host ports: a TAP per interface, kept in step with the configuration over rtnetlink
 * (the contract is hostif.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include "npr/addr.h"
#include "npr/proto.h"
#include "npr/util.h"
#include "cfg.h"
#include "hostif.h"

#define PROG "nprouter-dataplane"
#define ADDR_MAX (NPR_MAX_IFACES * 4u) /* addresses followed: as many as the slow path does */
#define FULL_NS 1000000000ull	       /* a full look (and retries) once a second */
#define IP6_MIN_MTU 1280u	       /* below it Linux turns IPv6 off on the device */
#define NL_BUF 8192u

/* One interface's TAP, as the kernel has it (what was last asked for). */
struct hif {
	int fd; /* -1: no TAP */
	int ifindex;
	char name[NPR_NAME_LEN]; /* the TAP's; or, with failed, the name refused */
	bool failed;		 /* that name could not be had: said once, tried again */
	bool up;		 /* admin state */
	bool v6;		 /* it keeps IPv6 addresses: up, MTU >= 1280 */
	uint16_t mtu;		 /* 0: not set yet */
	uint8_t mac[6];
};

struct hostif {
	const struct cfg *cfg;
	struct mnl_socket *nl;
	uint32_t seq;
	int ep; /* epoll over the TAPs, data.u32 = ifid */
	bool synced;
	uint64_t version, last_full;
	struct hif ifs[NPR_MAX_IFACES];
	struct cfg_iface conf[NPR_MAX_IFACES]; /* the configuration's, while syncing */
	bool have[NPR_MAX_IFACES];
	/* the addresses on the TAPs, sorted (addr_cmp); the configuration's while syncing */
	struct cfg_addr *inst, *want;
	unsigned n_inst;
	uint32_t nlbuf[NL_BUF / 4];
	uint8_t frame[65536]; /* the largest frame a TAP gives */
};

static void __attribute__((format(printf, 3, 4)))
hlog(FILE *out, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, PROG ": host port %s: ", name);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

/* ---------------------------------------------------------------------------------------- */
/* rtnetlink */

/* Send one request and read its acknowledgement: 0 or the kernel's -errno. The kernel
 * handles a route netlink request inside sendmsg, so the answer is normally there already;
 * otherwise it is waited for at most HOSTIF_NL_WAIT_MS. */
static int
nl_call(struct hostif *h, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++h->seq;
	if (mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	uint64_t deadline = npr_now_ns() + HOSTIF_NL_WAIT_MS * 1000000ull;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(h->nl, h->nlbuf, sizeof(h->nlbuf));
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS) /* ENOBUFS: older answers lost */
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			uint64_t t = npr_now_ns();
			if (t >= deadline)
				return -ETIMEDOUT;
			struct pollfd p = { .fd = mnl_socket_get_fd(h->nl), .events = POLLIN };
			poll(&p, 1, (int)((deadline - t) / 1000000u) + 1);
			continue;
		}
		const struct nlmsghdr *r = (const struct nlmsghdr *)h->nlbuf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(r, len); r = mnl_nlmsg_next(r, &len)) {
			/* answers to earlier requests that timed out are skipped */
			if (r->nlmsg_seq != nlh->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR ||
			    r->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(r);
			return e->error;
		}
	}
}

/* MTU (0: unchanged), MAC (NULL: unchanged) and admin state (up < 0: unchanged) of a link. */
static int
nl_link(struct hostif *h, int ifindex, unsigned mtu, const uint8_t *mac, int up)
{
	uint32_t buf[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = up < 0 ? 0 : IFF_UP;
	ifi->ifi_flags = up > 0 ? IFF_UP : 0;
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (mac != NULL)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	return nl_call(h, nlh);
}

/* Add (or replace: adding twice is no error) or remove an address. IPv6 ones skip duplicate
 * address detection: the data plane defends them. */
static int
nl_addr(struct hostif *h, int ifindex, const struct cfg_addr *a, bool add)
{
	uint32_t buf[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	bool v4 = a->family == NPR_AF_INET;
	unsigned al = v4 ? 4 : 16;

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	if (add)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = v4 ? AF_INET : AF_INET6;
	ifa->ifa_prefixlen = a->plen;
	ifa->ifa_flags = v4 ? 0 : IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE; /* IPv6: the kernel derives it from the address */
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, al, a->a);
	mnl_attr_put(nlh, IFA_ADDRESS, al, a->a);
	if (add && v4 && a->plen < 31) { /* the subnet's broadcast, as `ip addr add ... brd +` */
		uint8_t b[4];
		memcpy(b, a->a, 4);
		for (unsigned i = a->plen; i < 32; i++)
			b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
		mnl_attr_put(nlh, IFA_BROADCAST, 4, b);
	}
	return nl_call(h, nlh);
}

/* ---------------------------------------------------------------------------------------- */
/* addresses */

static int
addr_cmp(const void *pa, const void *pb)
{
	const struct cfg_addr *a = pa, *b = pb;

	if (a->ifid != b->ifid)
		return a->ifid < b->ifid ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->a, b->a, 16);
	if (c != 0)
		return c;
	return (int)a->plen - (int)b->plen;
}

/* Forget the installed addresses of ifid (family 0: all): the kernel removed them. */
static void
inst_forget(struct hostif *h, unsigned ifid, unsigned family)
{
	unsigned k = 0;

	for (unsigned i = 0; i < h->n_inst; i++) {
		const struct cfg_addr *a = &h->inst[i];
		if (a->ifid == ifid && (family == 0 || a->family == family))
			continue;
		h->inst[k++] = *a;
	}
	h->n_inst = k;
}

static void
addr_change(struct hostif *h, const struct cfg_addr *a, bool add)
{
	const struct hif *x = &h->ifs[a->ifid];
	char s[NPR_PREFIX_STRLEN];
	int rc = nl_addr(h, x->ifindex, a, add);

	/* removing what is not there any more is done */
	if (rc < 0 && !(!add && (rc == -EADDRNOTAVAIL || rc == -ENOENT || rc == -ENODEV)))
		hlog(stderr, x->name, "cannot %s address %s: %s", add ? "add" : "remove",
		     npr_format_prefix(a->family, a->a, a->plen, s, sizeof(s)), strerror(-rc));
}

/* Bring the TAPs' addresses to the configuration's: both lists sorted, one merge. What could
 * not be added is said and counted as done (tried again when the configuration changes). */
static void
addr_sync(struct hostif *h)
{
	unsigned n = cfg_addrs(h->cfg, h->want, ADDR_MAX), k = 0;

	if (n > ADDR_MAX)
		n = ADDR_MAX;
	for (unsigned i = 0; i < n; i++) {
		const struct cfg_addr *a = &h->want[i];
		const struct hif *x = &h->ifs[a->ifid];
		if (x->fd >= 0 && (a->family == NPR_AF_INET || x->v6))
			h->want[k++] = *a;
	}
	n = k;
	qsort(h->want, n, sizeof(*h->want), addr_cmp);
	unsigned i = 0, j = 0;
	while (i < h->n_inst || j < n) {
		int c = i == h->n_inst ? 1 : j == n ? -1 : addr_cmp(&h->inst[i], &h->want[j]);
		if (c < 0)
			addr_change(h, &h->inst[i++], false);
		else if (c > 0)
			addr_change(h, &h->want[j++], true);
		else
			i++, j++;
	}
	struct cfg_addr *t = h->inst;
	h->inst = h->want;
	h->want = t;
	h->n_inst = n;
}

/* ---------------------------------------------------------------------------------------- */
/* TAPs */

/* A Linux name: what dev_valid_name takes (our names are printable, without spaces). */
static bool
name_ok(const char *name)
{
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && strpbrk(name, "/:") == NULL;
}

/* Best effort: the data plane does router discovery's and DAD's part on the link. */
static void
ip6_conf(const char *name, const char *key, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", name, key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no IPv6 in this kernel */
	if (write(fd, val, strlen(val)) < 0)
		hlog(stderr, name, "cannot set %s: %s", path, strerror(errno));
	close(fd);
}

/* 0, or -EEXIST: a netdev has that name; another -errno. */
static int
tap_open(struct hostif *h, unsigned ifid, const char *name)
{
	struct hif *x = &h->ifs[ifid];
	struct ifreq ifr;
	int fd, rc;

	if (!name_ok(name))
		return -EINVAL;
	if (if_nametoindex(name) != 0)
		return -EEXIST;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	/* TUN_EXCL: never attach to a TAP that exists (someone else's persistent one) */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = errno == EBUSY ? -EEXIST : -errno;
		close(fd);
		return rc;
	}
	int idx = (int)if_nametoindex(name);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = ifid };
	if (idx == 0 || epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ip6_conf(name, "accept_ra", "0");
	ip6_conf(name, "accept_dad", "0");
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->ifindex = idx;
	snprintf(x->name, sizeof(x->name), "%s", name);
	return 0;
}

static void
tap_close(struct hostif *h, unsigned ifid, const char *why)
{
	struct hif *x = &h->ifs[ifid];

	close(x->fd); /* the TAP goes with its only descriptor; epoll forgets it */
	inst_forget(h, ifid, 0);
	printf(PROG ": host port %s removed (%s)\n", x->name, why);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

/* The TAP's link to the interface's: MTU, MAC, admin state. */
static void
link_sync(struct hostif *h, unsigned ifid, const struct cfg_iface *ci)
{
	struct hif *x = &h->ifs[ifid];

	if (x->mtu != ci->mtu || memcmp(x->mac, ci->mac, 6) != 0 || x->up != ci->up) {
		int rc = nl_link(h, x->ifindex, ci->mtu, ci->mac, ci->up ? 1 : 0);
		if (rc < 0) {
			char m[NPR_MAC_STRLEN];
			hlog(stderr, x->name, "cannot set MTU %u, MAC %s, %s: %s", ci->mtu,
			     npr_format_mac(ci->mac, m), ci->up ? "up" : "down", strerror(-rc));
		}
		x->mtu = ci->mtu;
		memcpy(x->mac, ci->mac, 6);
		x->up = ci->up;
	}
	bool v6 = x->up && x->mtu >= IP6_MIN_MTU;
	if (x->v6 && !v6) /* Linux drops a link's IPv6 addresses when it goes down */
		inst_forget(h, ifid, NPR_AF_INET6);
	x->v6 = v6;
}

/* cfg_version moves with every publish. The full look once a second may see a batch that is
 * still open (cfg shows its staged objects); the next look after its commit or abort puts
 * the TAPs right. */
void
hostif_sync(struct hostif *h, uint64_t now)
{
	struct cfg_iface *want = h->conf;
	bool *have = h->have;
	uint64_t v = cfg_version(h->cfg);

	if (h->synced && v == h->version && now - h->last_full < FULL_NS)
		return;
	h->synced = true;
	h->version = v;
	h->last_full = now;
	/* TAPs of interfaces gone or renamed go first: a name may pass from one interface to
	 * another in one change */
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++) {
		struct hif *x = &h->ifs[i];
		have[i] = cfg_iface_get(h->cfg, i, &want[i]) == 0;
		bool same = have[i] && strcmp(x->name, want[i].name) == 0;
		if (x->fd >= 0 && !same)
			tap_close(h, i, have[i] ? "interface renamed" : "interface deleted");
		if (x->failed && !same)
			x->failed = false;
	}
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++) {
		struct hif *x = &h->ifs[i];
		if (!have[i])
			continue;
		if (x->fd < 0) {
			int rc = tap_open(h, i, want[i].name);
			if (rc < 0) {
				if (!x->failed)
					hlog(stderr, want[i].name,
					     "%s; interface %u (%s) has no host port%s",
					     rc == -EEXIST
						     ? "a Linux netdev of that name exists, not "
						       "touched"
					     : rc == -EINVAL ? "not a valid Linux interface name"
							     : strerror(-rc),
					     i, want[i].name,
					     rc == -EEXIST ? " until the name is free" : "");
				x->failed = true;
				snprintf(x->name, sizeof(x->name), "%s", want[i].name);
				continue;
			}
			printf(PROG ": host port %s: TAP created (ifindex %d) for interface %u\n",
			       x->name, x->ifindex, i);
		}
		link_sync(h, i, &want[i]);
	}
	addr_sync(h);
}

unsigned
hostif_poll(struct hostif *h, hostif_rx_fn rx, void *ctx)
{
	struct epoll_event ev[32];
	unsigned total = 0;
	int n = epoll_wait(h->ep, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);

	for (int e = 0; e < n; e++) {
		unsigned ifid = ev[e].data.u32;
		/* level-triggered: what is left after a burst is seen on the next poll */
		for (unsigned k = 0; k < HOSTIF_BURST && ifid < NPR_MAX_IFACES; k++) {
			int fd = h->ifs[ifid].fd;
			if (fd < 0)
				break;
			ssize_t r = read(fd, h->frame, sizeof(h->frame));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break; /* EAGAIN: empty */
			rx(ctx, ifid, h->frame, (uint32_t)r);
			total++;
		}
	}
	return total;
}

int
hostif_write(struct hostif *h, unsigned ifid, const void *frame, uint32_t len)
{
	if (ifid >= NPR_MAX_IFACES || h->ifs[ifid].fd < 0)
		return -ENODEV;
	ssize_t n = write(h->ifs[ifid].fd, frame, len);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		return -EIO;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

int
hostif_ifindex(const struct hostif *h, unsigned ifid)
{
	return ifid < NPR_MAX_IFACES && h->ifs[ifid].fd >= 0 ? h->ifs[ifid].ifindex : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* create, free */

struct hostif *
hostif_create(const struct cfg *cfg, char *err, size_t errlen)
{
	struct hostif *h;
	int fd, rc;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(rc));
		errno = rc;
		return NULL;
	}
	close(fd);
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	h->cfg = cfg;
	h->ep = -1;
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++)
		h->ifs[i].fd = -1;
	h->inst = calloc(ADDR_MAX, sizeof(*h->inst));
	h->want = calloc(ADDR_MAX, sizeof(*h->want));
	if (h->inst == NULL || h->want == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = ENOMEM;
		goto fail;
	}
	h->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (h->nl == NULL || mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = errno;
		snprintf(err, errlen, "rtnetlink: %s", strerror(rc));
		goto fail;
	}
	/* Changing links needs CAP_NET_ADMIN: ask for nothing on the loopback (ifindex 1 in
	 * every namespace) to know now rather than at the first interface. */
	rc = -nl_link(h, 1, 0, NULL, -1);
	if (rc != 0) {
		snprintf(err, errlen, "cannot change links (%s)%s", strerror(rc),
			 rc == EPERM ? ": CAP_NET_ADMIN is needed" : "");
		goto fail;
	}
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->ep < 0) {
		rc = errno;
		snprintf(err, errlen, "epoll: %s", strerror(rc));
		goto fail;
	}
	return h;
fail:
	hostif_free(h);
	errno = rc;
	return NULL;
}

void
hostif_free(struct hostif *h)
{
	if (h == NULL)
		return;
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++)
		if (h->ifs[i].fd >= 0)
			close(h->ifs[i].fd);
	if (h->ep >= 0)
		close(h->ep);
	if (h->nl != NULL)
		mnl_socket_close(h->nl);
	free(h->inst);
	free(h->want);
	free(h);
}
