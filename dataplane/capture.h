/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture: DPDK's pdump server, so that dpdk-dumpcap (a DPDK secondary process) can
 * capture a running data plane's ports into pcapng, with a filter:
 *
 *     dpdk-dumpcap --file-prefix PREFIX -i net_pcap1 -f 'udp port 53' -c 100 -w out.pcapng
 *
 * A secondary process needs the primary's shared configuration and memory: not with the EAL
 * options --no-shconf or --in-memory (no multi-process channel: DPDK refuses it), nor with
 * --no-huge (DPDK 22.11 keeps that memory in an unnamed memfd that no other process can map).
 * capture_start says which in one line.
 *
 * Cost: none while nothing captures. rte_pdump_init only registers a handler on the EAL's
 * multi-process channel (its own thread) and reserves a small statistics memzone; pdump adds
 * its rx/tx callbacks to the ports' queues when a capture starts and removes them when it
 * ends. While a capture runs, every packet of the captured queues is filtered (BPF) and
 * copied into the capturing process's mempool by the worker that receives or sends it.
 *
 * Thread: the control thread (main), before the workers start and after they stopped.
 */
#ifndef NPR_CAPTURE_H
#define NPR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

/* eal_argc/eal_argv: the EAL's part of the command line (what rte_eal_init was given), after
 * rte_eal_init. Returns whether capture is available; why says so, or why not, in a phrase. */
bool capture_start(int eal_argc, char **eal_argv, char *why, size_t len);
/* Undo capture_start (nothing if it was not available). */
void capture_stop(void);

#endif
