import { readFileSync } from 'node:fs';

/**
 * A memory figure of a process from /proc/<pid>/status, in bytes: VmHWM (the kernel's
 * high-water mark of its resident set) or VmRSS (now). Undefined once the process is gone.
 */
export function statusBytes(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
