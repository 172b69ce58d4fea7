import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU and memory of whole process groups, read from /proc. One scan per tick serves every
 * watched group, so a hundred continuous jobs cost one pass over /proc, not a hundred.
 * Where /proc does not exist (not Linux) samples are simply empty.
 */
export interface GroupSample {
  pids: number[];
  /** user + system CPU of the live members, plus what they collected from reaped children. */
  cpuMs: number;
  rssBytes: number;
}

interface StatFields {
  pid: number;
  state: string;
  pgrp: number;
  cpuTicks: number;
  startTicks: string;
  rssPages: number;
}

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

/** Parses /proc/pid/stat; the command name may hold spaces and parentheses, so split after the last ')'. */
function readStat(pid: number): StatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  // Fields from the 3rd on (state); index = field number - 3.
  const fields = text.slice(close + 2).split(" ");
  return {
    pid,
    state: fields[0],
    pgrp: Number(fields[2]),
    cpuTicks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    startTicks: fields[19],
    rssPages: Number(fields[21]),
  };
}

function listPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** Live members of a process group (zombies are dead and do not count). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== "Z") members.push(pid);
  }
  return members;
}

/** The process's start time in clock ticks since boot: tells a reused pid apart. */
export function processStartTicks(pid: number): string | null {
  const stat = readStat(pid);
  return stat && stat.state !== "Z" ? stat.startTicks : null;
}

/** Zombies are counted only when asked: an exited leader not yet reaped still shows its final CPU time. */
function sampleGroups(pgids: Set<number>, includeZombies = false): Map<number, GroupSample> {
  const samples = new Map<number, GroupSample>();
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (!stat || (stat.state === "Z" && !includeZombies) || !pgids.has(stat.pgrp)) continue;
    let sample = samples.get(stat.pgrp);
    if (!sample) {
      sample = { pids: [], cpuMs: 0, rssBytes: 0 };
      samples.set(stat.pgrp, sample);
    }
    sample.pids.push(pid);
    sample.cpuMs += (stat.cpuTicks * 1000) / CLOCK_TICKS_PER_SECOND;
    sample.rssBytes += stat.rssPages * PAGE_SIZE;
  }
  return samples;
}

export class ProcSampler {
  private readonly intervalMs: number;
  private readonly watchers = new Map<number, Set<(sample: GroupSample) => void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(options: { intervalMs?: number } = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
  }

  /** Calls `onSample` every tick while the group has live members; returns the unwatch function. */
  watch(pgid: number, onSample: (sample: GroupSample) => void): () => void {
    let set = this.watchers.get(pgid);
    if (!set) {
      set = new Set();
      this.watchers.set(pgid, set);
    }
    set.add(onSample);
    this.ensureTimer();
    return () => {
      const current = this.watchers.get(pgid);
      current?.delete(onSample);
      if (current && current.size === 0) this.watchers.delete(pgid);
      if (this.watchers.size === 0) this.clearTimer();
    };
  }

  /**
   * The leader alone, even exited but not yet reaped: its CPU time is then final and includes the
   * children it waited for. One file read, for the moment a process ends.
   */
  sampleLeader(pid: number): GroupSample | null {
    const stat = readStat(pid);
    if (!stat) return null;
    return {
      pids: [pid],
      cpuMs: (stat.cpuTicks * 1000) / CLOCK_TICKS_PER_SECOND,
      rssBytes: stat.rssPages * PAGE_SIZE,
    };
  }

  /** One sample of the whole group now, counting an exited but not yet reaped leader. */
  sampleNow(pgid: number): GroupSample | null {
    return sampleGroups(new Set([pgid]), true).get(pgid) ?? null;
  }

  stop(): void {
    this.watchers.clear();
    this.clearTimer();
  }

  private tick(): void {
    const samples = sampleGroups(new Set(this.watchers.keys()));
    for (const [pgid, sample] of samples) {
      for (const onSample of this.watchers.get(pgid) ?? []) onSample(sample);
    }
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
