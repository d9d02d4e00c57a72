/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcapng writer: one section (SHB), one IDB per hook point, an EPB per packet and exactly one ISB
 * per IDB when the file is closed (Wireshark shows an interface's drops only when it has exactly
 * one ISB). Written here because no C library in Debian writes pcapng: libpcap writes only
 * classic pcap, libwiretap is GPL and heavy, DPDK's rte_pcapng needs an EAL process.
 *
 * Interfaces are declared up front but each IDB is written just before its interface's first
 * packet (pcapng allows an IDB anywhere before its first use), so the interface ids of the file
 * follow the order of first packets, not of declaration. A file whose packets all have one link
 * type then has IDBs of that type only, and libpcap 1.10 (tcpdump) reads it: it refuses a file
 * whose IDBs differ in link type or snap length, or that has two raw-IP IDBs. At the end, the
 * interfaces that carried no packet get their IDB (and ISB) when libpcap still reads the file
 * with it, or when their counters show a loss, which the file must report either way.
 *
 * Output goes through stdio with a large buffer, in the machine's byte order, to a file, a FIFO,
 * a pipe or stdout; nothing seeks, so a reader can follow the stream. Data reaches the reader at
 * nc_pcapng_flush() or nc_pcapng_close().
 *
 * Errors: every call returns 0 or a negative errno and, on failure, writes one line into err
 * (errlen bytes, may be NULL). A write error is sticky: every later call fails with the same
 * errno. Nothing here prints or exits. A writer is not thread-safe.
 *
 * Format: https://github.com/pcapng/pcapng (draft-ietf-opsawg-pcapng).
 */
#ifndef NC_PCAPNG_H
#define NC_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types as written in files (LINKTYPE_*, not the platform's DLT_* values). */
#define NC_LINKTYPE_ETHERNET 1
#define NC_LINKTYPE_RAW	     101

/* Longest string option (the option length field is 16 bits). */
#define NC_PCAPNG_OPT_MAX 65535

struct nc_pcapng;

/* Section header options. NULL or "" leaves an option out, except where a default is given. */
struct nc_pcapng_section {
	const char *comment;  /* opt_comment, e.g. the command line */
	const char *userappl; /* shb_userappl; NULL = "netcap " NETCAP_VERSION */
	const char *os;	      /* shb_os; NULL = the running kernel's release (uname -r) */
	const char *hardware; /* shb_hardware */
};

/*
 * One capture interface (an IDB). Strings: NULL or "" leaves the option out.
 * Wireshark reads any mix of link types and snap lengths in one file; libpcap 1.10 (tcpdump)
 * refuses a file whose IDBs differ in either ("an interface has a type 101 different from the
 * type of the first interface"); nc_pcapng_libpcap_refuses() says whether a file is such.
 */
struct nc_pcapng_iface {
	uint16_t linktype;	 /* NC_LINKTYPE_ETHERNET or NC_LINKTYPE_RAW */
	uint32_t snaplen;	 /* 0 = no limit */
	const char *name;	 /* if_name, e.g. "l2fwd[123]:port0:rx" */
	const char *description; /* if_description */
	const char *filter;	 /* if_filter as a libpcap filter string */
	const char *os;		 /* if_os; NULL = the SHB's shb_os */
};

enum nc_pcapng_direction {
	NC_PCAPNG_DIR_NONE = 0, /* no epb_flags option */
	NC_PCAPNG_DIR_INBOUND = 1,
	NC_PCAPNG_DIR_OUTBOUND = 2,
};

/* One packet (an EPB). Options are written only when present. */
struct nc_pcapng_packet {
	uint32_t iface_id; /* as nc_pcapng_add_interface() returned it (the file's may differ) */
	uint64_t ts_ns;	   /* nanoseconds since 1970-01-01 00:00:00 UTC */
	uint32_t caplen;   /* bytes at data; at most wirelen and the interface's snaplen */
	uint32_t wirelen;  /* length on the wire */
	const void *data;
	enum nc_pcapng_direction direction; /* epb_flags bits 0-1 */
	bool has_queue;
	uint32_t queue; /* epb_queue */
	bool has_packetid;
	uint64_t packetid; /* epb_packetid */
	bool has_dropcount;
	uint64_t dropcount;  /* epb_dropcount: lost since the previous packet of this interface */
	const char *comment; /* opt_comment (UTF-8); NULL or "" = none */
};

/* One interface's counters for its ISB. */
struct nc_pcapng_stats {
	uint64_t start_ns;     /* isb_starttime; 0 = unknown, left out */
	uint64_t end_ns;       /* isb_endtime and the ISB's timestamp; 0 = unknown (the ISB then
				  carries the time of nc_pcapng_close()) */
	uint64_t ifrecv;       /* isb_ifrecv: packets seen at the hook */
	uint64_t ifdrop;       /* isb_ifdrop: lost by netcap (ring full, read errors) */
	uint64_t filteraccept; /* isb_filteraccept: passed the capture filter */
	uint64_t osdrop;       /* isb_osdrop: lost by the operating system */
	const char *comment;   /* opt_comment, or NULL */
};

/*
 * Creates path ("-" = standard output, written through a duplicate of fd 1) and writes the SHB.
 * A FIFO blocks here until a reader opens it. Returns 0 and *out, or a negative errno with a
 * message naming path; *out is untouched on failure.
 */
int nc_pcapng_open(const char *path, const struct nc_pcapng_section *shb, struct nc_pcapng **out,
		   char *err, size_t errlen);

/*
 * Same as nc_pcapng_open() on an open file descriptor (a pipe, a FIFO, a socket). The writer
 * owns fd from this call on, also on failure: nc_pcapng_close() (or the failed call) closes it.
 */
int nc_pcapng_fdopen(int fd, const struct nc_pcapng_section *shb, struct nc_pcapng **out, char *err,
		     size_t errlen);

/*
 * Declares an interface, whose IDB (if_tsresol = 9, nanoseconds, and the set options; the
 * strings are copied) is written before its first packet or by nc_pcapng_finish(); *id
 * receives the id packets and statistics name it by (0, 1, ... in call order; the id in the
 * file is given when its IDB is written, in that order). -EINVAL for a string longer than
 * NC_PCAPNG_OPT_MAX bytes, with nothing declared.
 */
int nc_pcapng_add_interface(struct nc_pcapng *w, const struct nc_pcapng_iface *iface, uint32_t *id,
			    char *err, size_t errlen);

/*
 * Writes an EPB, after its interface's IDB if this is the interface's first packet. -EINVAL,
 * with nothing written, for an unknown interface id, caplen larger than wirelen or the
 * interface's snaplen, a comment longer than NC_PCAPNG_OPT_MAX bytes, or a packet after
 * nc_pcapng_finish().
 */
int nc_pcapng_packet(struct nc_pcapng *w, const struct nc_pcapng_packet *pkt, char *err,
		     size_t errlen);

/*
 * For a caller that makes EPBs itself (struct nc_pcap_batch with pcapng): the id in the file of
 * declared interface iface_id, its IDB written first if it is not yet (as nc_pcapng_packet()
 * does before an interface's first packet). Refused after nc_pcapng_finish().
 */
int nc_pcapng_file_id(struct nc_pcapng *w, uint32_t iface_id, uint32_t *file_id, char *err,
		      size_t errlen);

/*
 * EPBs made elsewhere, `packets` of them in len bytes, whole and in this file's byte order, each
 * for an interface whose file id nc_pcapng_file_id() gave: appended as they are (stdio flushed,
 * then write(2)), one block for the cut-back of a failed write; delivered[i] (n_delivered
 * entries, by declared interface) is added to each one's isb_usrdeliv.
 */
int nc_pcapng_epbs(struct nc_pcapng *w, const void *buf, size_t len, uint64_t packets,
		   const uint64_t *delivered, uint32_t n_delivered, char *err, size_t errlen);

/* Hands buffered blocks to the kernel (fflush; never fsync, which a pipe refuses). */
int nc_pcapng_flush(struct nc_pcapng *w, char *err, size_t errlen);

/*
 * Ends the capture: writes the IDBs of the interfaces that carried no packet where the file
 * should have them (in declaration order: those whose stats show a loss, ifdrop or osdrop
 * above 0, and those libpcap reads beside the IDBs already written: the same link type and
 * snap length as the file's first IDB, and not a second raw-IP one; the first declared one
 * when the file has none), then one ISB per IDB in the file's interface order. stats is NULL
 * or an array with one entry per declared interface, in declaration order; without it the
 * ISBs carry only the close time and isb_usrdeliv. Every ISB carries isb_usrdeliv, the number
 * of EPBs written for its interface. Later packets are refused; a second call does nothing.
 */
int nc_pcapng_finish(struct nc_pcapng *w, const struct nc_pcapng_stats *stats, char *err,
		     size_t errlen);

/*
 * nc_pcapng_finish(w, stats) unless it was called, then flushes and closes the output and
 * frees w (always, also on failure; NULL is a no-op). Returns 0 or the first error of the
 * writer's life (a failed write, flush or close), so a full disk is reported here at the
 * latest.
 */
int nc_pcapng_close(struct nc_pcapng *w, const struct nc_pcapng_stats *stats, char *err,
		    size_t errlen);

/* Number of interfaces declared so far (the length nc_pcapng_finish() expects of stats). */
uint32_t nc_pcapng_interface_count(const struct nc_pcapng *w);

/*
 * Why libpcap 1.10 (tcpdump, and every tool built on it) refuses the IDBs written so far, as a
 * static phrase that follows "the file": "has Ethernet and raw-IP interfaces", "has interfaces
 * of different snap lengths", "has more than one raw-IP interface"; NULL when it reads them.
 * Wireshark and tshark read every file. Ask after nc_pcapng_finish() for the whole file.
 */
const char *nc_pcapng_libpcap_refuses(const struct nc_pcapng *w);

#endif
