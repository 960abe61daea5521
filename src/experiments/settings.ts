/**
 * Choosing the "main" setting of a sweep for a figure: a robustness curve
 * varies the ratio but must hold shots, α, λ, fusion and backbone fixed. The
 * choice is made per method, because baselines have no α, λ or fusion.
 */
import type { ColumnTable } from 'arquero';
import { filterRows, rowsOf, SETTING_KEYS, type SettingKey } from './tables.ts';

export type Setting = Partial<Record<SettingKey, unknown>>;

/** The paper's main setting (METHOD defaults): used when a sweep holds it. */
export const DEFAULT_SETTING: Setting = { ratio: 0.1, shots: 10, alpha: 0.1, lambda: 0.1, fusion: '0.5/0.2/0.3' };

export interface SelectedSetting {
  table: ColumnTable;
  /** Per method, the value chosen for each key that had several (keys with one value are absent). */
  chosen: Record<string, Setting>;
}

/**
 * Keep, per method, one value of every setting key not in `vary`: `fixed`'s
 * value, else DEFAULT_SETTING's, when the method has it; else the method's
 * most frequent value (ties: the smallest). Keys with a single value are left.
 */
export function selectSetting(table: ColumnTable, opts: { vary?: readonly SettingKey[]; fixed?: Setting } = {}): SelectedSetting {
  const vary = new Set(opts.vary ?? []);
  const rows = rowsOf(table);
  const chosen: Record<string, Setting> = {};
  for (const method of new Set(rows.map((r) => r.method as string))) {
    const own = rows.filter((r) => r.method === method);
    const setting: Setting = {};
    for (const key of SETTING_KEYS) {
      if (vary.has(key)) continue;
      const counts = new Map<unknown, number>();
      for (const r of own) counts.set(r[key], (counts.get(r[key]) ?? 0) + 1);
      if (counts.size < 2) continue;
      const preferred = [opts.fixed?.[key], DEFAULT_SETTING[key]].find((v) => v !== undefined && counts.has(v));
      setting[key] = preferred !== undefined ? preferred : mostFrequent(counts);
    }
    chosen[method] = setting;
  }
  const kept = filterRows(table, (d) => {
    const setting = chosen[d.method as string];
    return Object.entries(setting).every(([k, v]) => d[k] === v);
  });
  return { table: kept, chosen };
}

function mostFrequent(counts: Map<unknown, number>): unknown {
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || compareValues(a[0], b[0]))[0][0];
}

function compareValues(a: unknown, b: unknown): number {
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** "shots 10, α 0.1" for a figure subtitle: the values chosen for the listed methods. */
export function describeSetting(chosen: Record<string, Setting>): string {
  const parts = new Map<string, Set<string>>();
  for (const setting of Object.values(chosen)) {
    for (const [key, value] of Object.entries(setting)) {
      const label = SETTING_LABELS[key as SettingKey];
      if (!parts.has(label)) parts.set(label, new Set());
      parts.get(label)!.add(key === 'ratio' ? `${Number(((value as number) * 100).toFixed(1))}%` : String(value));
    }
  }
  return [...parts.entries()].map(([label, values]) => `${label} ${[...values].join('/')}`).join(', ');
}

const SETTING_LABELS: Record<SettingKey, string> = {
  backbone: 'backbone',
  ratio: 'contamination',
  shots: 'k =',
  alpha: 'α =',
  lambda: 'λ =',
  fusion: 'fusion',
};
