import { describe, expect, it } from 'vitest';
import { RECEIPT_CODE } from './returns.svelte';
import { WedgeDetector } from './scanner/wedge';

/** Feeds keys at given times (running the hold timer like the window binding); records output. */
function run(keys: [string, number][]) {
  const out: string[] = [];
  const d = new WedgeDetector({ onScan: (c) => out.push(`scan:${c}`), onRelease: (t) => out.push(`type:${t}`) });
  const decisions = keys.map(([k, t]) => {
    const dl = d.deadline();
    if (dl !== null && dl <= t) d.flush(dl);
    return d.key(k, t);
  });
  const dl = d.deadline();
  if (dl !== null) d.flush(dl);
  return { out, decisions };
}

describe("a receipt's QR code through a keyboard-wedge scanner", () => {
  it('is one scan, dash included', () => {
    const keys: [string, number][] = [...'T01-000123', 'Enter'].map((k, i) => [k, i * 5]);
    const { out, decisions } = run(keys);
    expect(out).toEqual(['scan:T01-000123']);
    expect(decisions.every((d) => d === 'consume')).toBe(true);
    expect(RECEIPT_CODE.test('T01-000123')).toBe(true);
  });

  it('leaves a dash typed on its own to the quantity key', () => {
    const { out, decisions } = run([['-', 0], ['-', 400]]);
    expect(decisions).toEqual(['pass', 'pass']);
    expect(out).toEqual([]);
  });

  it('releases a dash typed by a person after a letter', () => {
    const { out } = run([['T', 0], ['-', 200], ['1', 400]]);
    expect(out).toEqual(['type:T', 'type:1']);
  });
});
