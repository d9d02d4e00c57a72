/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What every probe program shares: the counters, the ring, the per-CPU record being built, and
 * putting a record into the ring. Include once per object, after vmlinux.h and nc_record.h.
 */
#ifndef NC_CAPTURE_BPF_H
#define NC_CAPTURE_BPF_H

#define NC_SCRATCH_DATA (2 * NC_MAX_SNAPLEN) /* room for an offset < MAX plus a length <= MAX */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NC_MAX_HOOKS);
	__type(key, __u32);
	__type(value, struct nc_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NC_RING_BYTES_MIN); /* user space sets the real size */
} ring SEC(".maps");

/* A record being built: header, then the packet (the filter reads the start of data) */
struct scratch {
	struct nc_record rec;
	__u8 data[NC_SCRATCH_DATA];
	__u64 unchecked; /* bytes this CPU put into the ring since it last asked how full it is */
};

/* One slot per CPU, indexed by CPU id: a per-CPU array's value may not exceed 32 KiB. A probe
 * program does not run twice at once on one CPU (the kernel skips nested tracing programs). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/*
 * The capture window: user space sets it once every point of every probe is attached and clears
 * it before the first is detached, so that every point counts and captures over the same span
 * (attaching and detaching take milliseconds each). Checked before anything is counted.
 */
volatile __u32 nc_on;

static __always_inline struct nc_counters *nc_counters_of(__u32 hook)
{
	return bpf_map_lookup_elem(&counters, &hook);
}

static __always_inline struct scratch *nc_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch_map, &cpu);
}

/* Clamps a byte count for the verifier: at most NC_MAX_SNAPLEN */
static __always_inline __u32 nc_clamp(__u32 n)
{
	n &= NC_MAX_SNAPLEN - 1 | NC_MAX_SNAPLEN;
	return n > NC_MAX_SNAPLEN ? NC_MAX_SNAPLEN : n;
}

/*
 * Puts s->rec (its header filled by the caller except the common fields set here) and `copied`
 * bytes of s->data into the ring; the reader is woken only when wake_bytes are pending (checked
 * every wake_bytes / 16 written by this CPU). Counts written or ringfull.
 */
static __always_inline void nc_emit(struct scratch *s, struct nc_counters *cnt, __u64 object,
				    __u32 hook, __u32 wire, __u32 copied, __u64 wake_bytes)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	copied = nc_clamp(copied);
	s->rec.ts_ns = bpf_ktime_get_ns();
	s->rec.object = object;
	s->rec.hook = hook;
	s->rec.cpu = bpf_get_smp_processor_id();
	s->rec.pid = bpf_get_current_pid_tgid() >> 32;
	s->rec.tid = (__u32)bpf_get_current_pid_tgid();
	s->rec.wire_len = wire;
	s->rec.cap_len = copied;
	if (copied < wire)
		s->rec.flags |= NC_REC_TRUNCATED;
	/* how full the ring is, asked only every 1/16 of the wake-up threshold this CPU wrote
	 * (asking per record cost ~8 % of a capture; the reader also drains every 100 ms) */
	s->unchecked += sizeof(s->rec) + copied;
	if (s->unchecked >= wake_bytes / 16) {
		s->unchecked = 0;
		if (bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) >= wake_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&ring, s, sizeof(s->rec) + copied, flags)) {
		cnt->ringfull++;
		return;
	}
	cnt->written++;
}

#endif
