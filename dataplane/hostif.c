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

typedef void (*nl_msg_fn)(const struct nlmsghdr *m, void *data);

/* Send one request and read its answer: each message of it to fn (if any), then 0 or the
 * kernel's -errno from the acknowledgement (or the end of a dump). The kernel handles a route
 * netlink request inside sendmsg, so the answer is normally there already; otherwise it is
 * waited for at most HOSTIF_NL_WAIT_MS. */
static int
nl_call_fn(struct hostif *h, struct nlmsghdr *nlh, nl_msg_fn fn, void *data)
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
			if (r->nlmsg_seq != nlh->nlmsg_seq)
				continue;
			if (r->nlmsg_type == NLMSG_DONE)
				return 0;
			if (r->nlmsg_type != NLMSG_ERROR) {
				if (fn != NULL)
					fn(r, data);
				continue;
			}
			if (r->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(r);
			return e->error;
		}
	}
}

static int
nl_call(struct hostif *h, struct nlmsghdr *nlh)
{
	return nl_call_fn(h, nlh, NULL, NULL);
}

/* What the kernel says of a link: enough to know a TAP of ours and take it over. */
struct nl_linkinfo {
	int ifindex; /* 0: no answer */
	bool up, tun, ours;
	unsigned mtu;
	uint8_t mac[6];
};

static void
linkinfo_parse(const struct nlmsghdr *m, void *data)
{
	struct nl_linkinfo *li = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(m);
	const struct nlattr *a, *b;

	if (m->nlmsg_type != RTM_NEWLINK || m->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return;
	li->ifindex = ifi->ifi_index;
	li->up = (ifi->ifi_flags & IFF_UP) != 0;
	mnl_attr_for_each(a, m, sizeof(*ifi))
	{
		switch (mnl_attr_get_type(a)) {
		case IFLA_MTU:
			if (mnl_attr_get_payload_len(a) >= 4)
				li->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6)
				memcpy(li->mac, mnl_attr_get_payload(a), 6);
			break;
		case IFLA_IFALIAS:
			li->ours = mnl_attr_get_payload_len(a) >= sizeof(HOSTIF_ALIAS) - 1 &&
				   strncmp(mnl_attr_get_payload(a), HOSTIF_ALIAS,
					   sizeof(HOSTIF_ALIAS) - 1) == 0;
			break;
		case IFLA_LINKINFO:
			mnl_attr_for_each_nested(b, a)
			{
				if (mnl_attr_get_type(b) == IFLA_INFO_KIND &&
				    strncmp(mnl_attr_get_payload(b), "tun",
					    mnl_attr_get_payload_len(b)) == 0 &&
				    mnl_attr_get_payload_len(b) >= 3)
					li->tun = true;
			}
			break;
		default:
			break;
		}
	}
}

static int
nl_getlink(struct hostif *h, const char *name, struct nl_linkinfo *li)
{
	uint32_t buf[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	memset(li, 0, sizeof(*li));
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	int rc = nl_call_fn(h, nlh, linkinfo_parse, li);
	return rc == 0 && li->ifindex == 0 ? -ENODEV : rc;
}

/* Mark a TAP as a host port of nprouter's, so that the next data plane takes it over. */
static int
nl_alias(struct hostif *h, int ifindex)
{
	uint32_t buf[128];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, HOSTIF_ALIAS);
	return nl_call(h, nlh);
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

struct addr_load {
	struct hostif *h;
	unsigned ifid;
	int ifindex;
};

static void
addr_load_one(const struct nlmsghdr *m, void *data)
{
	struct addr_load *l = data;
	struct hostif *h = l->h;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(m);
	const struct nlattr *a;
	struct cfg_addr c = { .ifid = (uint16_t)l->ifid };

	if (m->nlmsg_type != RTM_NEWADDR || m->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    (int)ifa->ifa_index != l->ifindex || h->n_inst >= ADDR_MAX)
		return;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	unsigned al = ifa->ifa_family == AF_INET ? 4 : 16;
	bool got = false;
	mnl_attr_for_each(a, m, sizeof(*ifa))
	{
		unsigned t = mnl_attr_get_type(a);
		/* IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer's on point-to-point) */
		if ((t == IFA_LOCAL || (t == IFA_ADDRESS && !got)) &&
		    mnl_attr_get_payload_len(a) == al) {
			memcpy(c.a, mnl_attr_get_payload(a), al);
			got = true;
		}
	}
	/* the kernel's own link-local addresses are not the configuration's to remove */
	if (!got || (al == 16 && c.a[0] == 0xfe && (c.a[1] & 0xc0) == 0x80))
		return;
	c.family = al == 4 ? NPR_AF_INET : NPR_AF_INET6;
	c.plen = ifa->ifa_prefixlen;
	h->inst[h->n_inst++] = c;
}

/* The addresses a TAP taken over has: installed, as far as addr_sync knows. */
static void
inst_load(struct hostif *h, unsigned ifid, int ifindex)
{
	uint32_t buf[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	struct addr_load l = { h, ifid, ifindex };

	inst_forget(h, ifid, 0);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	int rc = nl_call_fn(h, nlh, addr_load_one, &l);
	if (rc < 0)
		hlog(stderr, h->ifs[ifid].name, "cannot read its addresses: %s", strerror(-rc));
	qsort(h->inst, h->n_inst, sizeof(*h->inst), addr_cmp);
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

/* Attach fd to the TAP name, new (TUN_EXCL) or one of ours left by an earlier data plane. */
static int
tap_attach(int fd, const char *name, bool excl)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (excl ? IFF_TUN_EXCL : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		/* EBUSY: another process has it; EINVAL: a TUN, not a TAP */
		return errno == EBUSY || errno == EINVAL ? -EEXIST : -errno;
	return 0;
}

/* 0 (*adopted: it was there already), or -EEXIST: a netdev not ours has that name; another
 * -errno. A new TAP is persistent: it outlives this data plane (carrier off), so that the
 * host stack keeps its ifindex, addresses and sockets across a restart; the next data plane
 * takes it over by name, recognised by its alias. */
static int
tap_open(struct hostif *h, unsigned ifid, const char *name, bool *adopted)
{
	struct hif *x = &h->ifs[ifid];
	struct nl_linkinfo li = { 0 };
	int fd, rc;

	if (!name_ok(name))
		return -EINVAL;
	*adopted = if_nametoindex(name) != 0;
	if (*adopted && (nl_getlink(h, name, &li) != 0 || !li.tun || !li.ours))
		return -EEXIST;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = tap_attach(fd, name, !*adopted);
	if (rc == 0 && !*adopted && ioctl(fd, TUNSETPERSIST, 1) < 0)
		rc = -errno;
	int idx = rc == 0 ? (int)if_nametoindex(name) : 0;
	if (rc == 0 && idx == 0)
		rc = -errno;
	if (rc == 0 && !*adopted)
		rc = nl_alias(h, idx);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = ifid };
	if (rc == 0 && epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		rc = -errno;
	if (rc < 0) {
		if (!*adopted)
			(void)ioctl(fd, TUNSETPERSIST, 0);
		close(fd);
		return rc;
	}
	ip6_conf(name, "accept_ra", "0");
	ip6_conf(name, "accept_dad", "0");
	memset(x, 0, sizeof(*x));
	x->fd = fd;
	x->ifindex = idx;
	snprintf(x->name, sizeof(x->name), "%s", name);
	if (*adopted) { /* what it has, so that only what differs changes: no flap */
		x->up = li.up;
		x->mtu = (uint16_t)li.mtu;
		memcpy(x->mac, li.mac, 6);
		x->v6 = x->up && x->mtu >= IP6_MIN_MTU;
		inst_load(h, ifid, idx);
	}
	return 0;
}

/* The interface went: its TAP with it (not persistent any more, its last descriptor closed). */
static void
tap_close(struct hostif *h, unsigned ifid, const char *why)
{
	struct hif *x = &h->ifs[ifid];

	(void)ioctl(x->fd, TUNSETPERSIST, 0);
	close(x->fd); /* epoll forgets it */
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
			bool adopted;
			int rc = tap_open(h, i, want[i].name, &adopted);
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
			printf(PROG ": host port %s: TAP %s (ifindex %d) for interface %u\n",
			       x->name, adopted ? "taken over from an earlier run" : "created",
			       x->ifindex, i);
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
	unsigned kept = 0;
	for (unsigned i = 0; i < NPR_MAX_IFACES; i++)
		if (h->ifs[i].fd >= 0) {
			close(h->ifs[i].fd);
			kept++;
		}
	if (kept > 0)
		printf(PROG ": %u host port%s stay%s, without carrier, for the next start (ip link "
			    "del NAME removes one)\n",
		       kept, kept == 1 ? "" : "s", kept == 1 ? "s" : "");
	if (h->ep >= 0)
		close(h->ep);
	if (h->nl != NULL)
		mnl_socket_close(h->nl);
	free(h->inst);
	free(h->want);
	free(h);
}
