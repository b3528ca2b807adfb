import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus } from 'node:os';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on Linux on every architecture Node supports
const GROUP_SAMPLE_INTERVAL_MS = 200;

/** Host processes to account for: by command name, optionally narrowed by their command line. */
export interface ProcessGroup {
  label: string;
  comm: string;
  accept?: (cmdline: string) => boolean;
}

function hostTimes(): { busyMs: number; totalMs: number } {
  let busyMs = 0;
  let totalMs = 0;
  for (const cpu of cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busyMs += user + nice + sys + irq;
    totalMs += user + nice + sys + irq + idle;
  }
  return { busyMs, totalMs };
}

/**
 * CPU time (ms, user + system) per process of the groups, from /proc; empty when /proc is not
 * readable (not Linux). Every process is looked at, or only `pids` (those found by an earlier call).
 */
function groupsCpuMs(groups: readonly ProcessGroup[], pids?: Iterable<string>): Map<string, { label: string; ms: number }> {
  const totals = new Map<string, { label: string; ms: number }>();
  let entries: Iterable<string>;
  try {
    entries = pids ?? readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return totals;
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const candidates = groups.filter((group) => group.comm === comm);
      if (candidates.length === 0) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const group = candidates.find((candidate) => !candidate.accept || candidate.accept(cmdline));
      if (!group) continue;
      const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
      const ticks = Number(fields[11]) + Number(fields[12]); // utime (14) + stime (15)
      totals.set(pid, { label: group.label, ms: (ticks * 1000) / CLOCK_TICKS_PER_SECOND });
    } catch {
      // exited meanwhile
    }
  }
  return totals;
}

/**
 * PostgreSQL's background processes plus the backends connected to `database` (other databases'
 * clients on a shared server are left out).
 */
export function postgresGroup(database: string): ProcessGroup {
  return {
    label: 'postgres',
    comm: 'postgres',
    accept: (cmdline) => cmdline.includes(` ${database} `) || !/\(\d+\)|\[local\]/.test(cmdline),
  };
}

export interface CpuUsed {
  /** This Node process, all threads. */
  processMs: number;
  /**
   * Per group label; a process that started meanwhile and still runs counts from zero, one that
   * ended counts up to the last sample (every 200 ms: pools close idle connections during a run);
   * one that both started and ended meanwhile is missed.
   */
  groupsMs: Record<string, number>;
  hostBusyMs: number;
  /** 100 = every core busy. */
  hostBusyPercent: number;
}

/** Starts measuring CPU; the returned function tells how much was used since. */
export function startCpuMeter(groups: readonly ProcessGroup[] = []): () => CpuUsed {
  const process0 = process.cpuUsage();
  const host0 = hostTimes();
  const first = groupsCpuMs(groups);
  const last = new Map(first);
  // In between, only the processes found at the start are read again (a few files, not all of
  // /proc: the sampler runs on the measured process's event loop); the last sample looks at all.
  const sample = (everyProcess: boolean) => {
    for (const [pid, seen] of groupsCpuMs(groups, everyProcess ? undefined : first.keys())) last.set(pid, seen);
  };
  const sampler = groups.length > 0 ? setInterval(() => sample(false), GROUP_SAMPLE_INTERVAL_MS).unref() : undefined;
  return () => {
    clearInterval(sampler);
    sample(true);
    const used = process.cpuUsage(process0);
    const host = hostTimes();
    const groupsMs = Object.fromEntries(groups.map((group) => [group.label, 0]));
    for (const [pid, { label, ms }] of last) groupsMs[label] = (groupsMs[label] ?? 0) + ms - (first.get(pid)?.ms ?? 0);
    const hostBusyMs = host.busyMs - host0.busyMs;
    return {
      processMs: (used.user + used.system) / 1000,
      groupsMs,
      hostBusyMs,
      hostBusyPercent: (hostBusyMs / (host.totalMs - host0.totalMs)) * 100,
    };
  };
}

/** Profiles `work` with the V8 sampling profiler when `path` is given (a .cpuprofile for Chrome DevTools). */
export async function profiled<T>(path: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!path) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
    session.disconnect();
    console.log(`wrote CPU profile ${path}`);
  }
}
