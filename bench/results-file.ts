import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes a benchmark's report to bench/results/`name` and returns the path written. */
export function writeResults(name: string, report: string): string {
  const file = path.resolve(__dirname, 'results', name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, report);
  return file;
}

/** Returns the nearest-rank percentile of `values` at `fraction` (0.99 for p99), or NaN for no values. */
export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}
