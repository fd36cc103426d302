/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host ports: a Linux TAP netdev for each nprouter interface, with the interface's name, so
 * that the host's own stack, and the daemons on it (bgpd, sshd...), see the router's
 * interfaces and talk through them.
 *
 *   hostif_sync   follows the configuration (cfg.h services: cfg_version, cfg_iface_get,
 *                 cfg_addrs): opens the TAP of a new interface and keeps its MAC, MTU, admin
 *                 state (down when the interface is) and addresses with their prefix lengths
 *                 in step over rtnetlink (libmnl); removes it when the interface goes or is
 *                 renamed. TAPs are persistent and marked with the alias HOSTIF_ALIAS: when
 *                 the data plane stops or dies they stay, without carrier, and keep their
 *                 ifindex, addresses and the host's sockets; the next data plane takes them
 *                 over by name and changes only what differs, so a restart looks to the host
 *                 stack (zebra, bgpd) like a link flap rather than interfaces replaced.
 *   hostif_write  a frame from the wire to the host stack (the slow path's conf.host_tx).
 *   hostif_poll   frames the host stack sent, for the slow path (sp_host_input).
 *
 * Which frames go where is the slow path's business (slowpath/host.c); this room only moves
 * them. A name that a Linux netdev has already (the veth an af_packet port is bound to,
 * another program's device, a TAP not marked as ours or in use by another data plane) is never
 * touched: one error line names the interface, it gets no
 * host port, and its name is tried again every second until it is free. The TAPs' IPv6 side
 * leaves router discovery and duplicate address detection to the data plane (accept_ra and
 * accept_dad 0); its addresses are added without DAD.
 *
 * Thread: the control thread only; it makes every syscall here and none waits long: the TAP
 * descriptors and the netlink socket are non-blocking, and rtnetlink answers a request before
 * sendmsg returns, so each acknowledgement is read at once (at most HOSTIF_NL_WAIT_MS if not).
 */
#ifndef NPR_HOSTIF_H
#define NPR_HOSTIF_H

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct hostif;

#define HOSTIF_BURST 32u		  /* frames read from one host port per poll */
#define HOSTIF_NL_WAIT_MS 100		  /* the longest wait for one netlink acknowledgement */
#define HOSTIF_ALIAS "nprouter host port" /* the ifalias that marks a TAP as ours */

/* NULL with errno set and the reason in err: no /dev/net/tun, no rtnetlink, or no right to
 * change links (CAP_NET_ADMIN). */
struct hostif *hostif_create(const struct cfg *cfg, char *err, size_t errlen);
/* Lets go of every TAP: they stay, without carrier, for the next data plane. NULL: nothing. */
void hostif_free(struct hostif *h);
/* Follow the configuration. Cheap when its version did not change, except once a second (now,
 * ns): a full look then, which retries the names that were taken. */
void hostif_sync(struct hostif *h, uint64_t now);

typedef void (*hostif_rx_fn)(void *ctx, unsigned ifid, const void *frame, uint32_t len);
/* Up to HOSTIF_BURST frames from every host port that has some, each to rx (the frame is
 * valid during the call only). Returns how many. */
unsigned hostif_poll(struct hostif *h, hostif_rx_fn rx, void *ctx);
/* One frame to the host stack through ifid's TAP: 0; -ENODEV: no host port there; -EAGAIN:
 * its queue is full; another -errno: the write failed. */
int hostif_write(struct hostif *h, unsigned ifid, const void *frame, uint32_t len);
/* The Linux ifindex of ifid's TAP, 0 if it has none. */
int hostif_ifindex(const struct hostif *h, unsigned ifid);

#endif
