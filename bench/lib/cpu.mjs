// CPU time of another process, from /proc (Linux). On a shared machine CPU time per request is steadier
// than requests per second, which also count the time a neighbour held the core.
import { readFileSync } from 'node:fs';

/** User + system CPU milliseconds used so far by process `pid`, or NaN where /proc is unavailable. */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (USER_HZ, 100 on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}
