import { describe, expect, it } from 'vitest';
import { WedgeDetector, type WedgeOptions } from './wedge';

const OPTS: WedgeOptions = { maxGapMs: 35, minLength: 4, holdMs: 50 };

/** Feeds keys at given times, runs the timer like the window binding does, records output. */
function run(keys: [string, number][], opts = OPTS) {
  const out: string[] = [];
  const decisions: string[] = [];
  const d = new WedgeDetector(
    {
      onScan: (c) => out.push(`scan:${c}`),
      onRelease: (t) => out.push(`type:${t}`),
      onRetract: (t) => out.push(`untype:${t}`),
    },
    opts,
  );
  for (const [k, t] of keys) {
    // the timer fires before a later key if its deadline passed
    const dl = d.deadline();
    if (dl !== null && dl <= t) d.flush(dl);
    decisions.push(d.key(k, t));
  }
  const dl = d.deadline();
  if (dl !== null) d.flush(dl);
  return { out, decisions };
}

function burst(code: string, start: number, gap: number, end = 'Enter'): [string, number][] {
  const keys: [string, number][] = [...code].map((c, i) => [c, start + i * gap]);
  keys.push([end, start + code.length * gap]);
  return keys;
}

describe('keyboard-wedge detector', () => {
  it('reports a fast burst ending in Enter as a scan and lets nothing through', () => {
    const { out, decisions } = run(burst('8400000000019', 0, 5));
    expect(out).toEqual(['scan:8400000000019']);
    expect(decisions.every((x) => x === 'consume')).toBe(true);
  });

  it('accepts Tab as a terminator and gaps just under the limit', () => {
    expect(run(burst('12345678', 100, 34, 'Tab')).out).toEqual(['scan:12345678']);
  });

  it('releases slow typing to the field, in order, and passes Enter through', () => {
    const { out, decisions } = run(burst('12345678', 0, 120));
    expect(out).toEqual(['type:1', 'type:2', 'type:3', 'type:4', 'type:5', 'type:6', 'type:7', 'type:8']);
    expect(decisions.at(-1)).toBe('pass');
  });

  it('an average gap at the limit is typing, not a scan', () => {
    const { out } = run(burst('12345678', 0, 35));
    expect(out.some((o) => o.startsWith('scan:'))).toBe(false);
    expect(out.join('').replace(/type:/g, '')).toBe('12345678');
  });

  it('one late key from a busy machine does not split a scan', () => {
    // 13 digits 5 ms apart, but the 4th key arrives 40 ms late (under the hold time)
    const keys: [string, number][] = [...'8400000000017'].map((c, i) => [c, i * 5 + (i >= 3 ? 40 : 0)]);
    keys.push(['Enter', 13 * 5 + 40]);
    expect(run(keys).out).toEqual(['scan:8400000000017']);
  });

  it('a pause as long as the hold time splits a burst: the first part is typing', () => {
    const keys: [string, number][] = [['1', 0], ['2', 5], ['3', 55], ['4', 60], ['5', 65], ['6', 70], ['Enter', 75]];
    expect(run(keys).out).toEqual(['type:12', 'scan:3456']);
  });

  it('fast typists: four letters at 60 ms then Enter are typing', () => {
    const { out } = run(burst('pan1', 0, 60));
    expect(out.join('').replace(/type:/g, '')).toBe('pan1');
  });

  it('needs at least minLength characters', () => {
    const { out } = run(burst('123', 0, 5));
    expect(out).toEqual(['type:123']);
  });

  it('a burst without a terminator is released as typing after the hold time', () => {
    const { out } = run([['a', 0], ['b', 5], ['c', 10], ['d', 15], ['e', 20]]);
    expect(out).toEqual(['type:abcde']);
  });

  it('a person typing then a scanner burst: typed text goes to the field, the code to the sale', () => {
    const keys: [string, number][] = [
      ['l', 0],
      ['e', 150],
      ['c', 300],
      ...burst('8400000000026', 1000, 4),
    ];
    expect(run(keys).out).toEqual(['type:l', 'type:e', 'type:c', 'scan:8400000000026']);
  });

  it('typed key just before a burst (within the hold) is kept out of the scan', () => {
    // "x" at 0, then the scanner starts 40 ms later (>= maxGap but < hold): x is typed, not scanned
    const keys: [string, number][] = [['x', 0], ...burst('4901234567894', 40, 5)];
    expect(run(keys).out).toEqual(['type:x', 'scan:4901234567894']);
  });

  it('a late terminator turns the burst into typing', () => {
    const keys: [string, number][] = [['1', 0], ['2', 5], ['3', 10], ['4', 15], ['Enter', 66]];
    const { out, decisions } = run(keys);
    expect(out).toEqual(['type:1234']);
    expect(decisions.at(-1)).toBe('pass');
  });

  it('a non-code key releases held characters first, so order is kept', () => {
    const d = new WedgeDetector({ onScan: () => {}, onRelease: (t) => out.push(t) }, OPTS);
    const out: string[] = [];
    expect(d.key('1', 0)).toBe('consume');
    expect(d.key('2', 10)).toBe('consume');
    expect(d.key('Backspace', 20)).toBe('pass');
    expect(out).toEqual(['12']);
    expect(d.holding).toBe(false);
  });

  it('modified keys and IME composition are never held', () => {
    const d = new WedgeDetector({ onScan: () => {}, onRelease: () => {} }, OPTS);
    expect(d.key('a', 0, false)).toBe('pass');
    expect(d.holding).toBe(false);
  });

  it('+, - and * are shortcuts, not code characters', () => {
    const { decisions } = run([['+', 0], ['-', 10], ['*', 20]]);
    expect(decisions).toEqual(['pass', 'pass', 'pass']);
  });

  it('two scans back to back are two scans', () => {
    const keys = [...burst('8400000000019', 0, 3), ...burst('8400000000026', 60, 3)];
    expect(run(keys).out).toEqual(['scan:8400000000019', 'scan:8400000000026']);
  });

  it('flush before the deadline keeps holding; at the deadline releases', () => {
    const out: string[] = [];
    const d = new WedgeDetector({ onScan: () => {}, onRelease: (t) => out.push(t) }, OPTS);
    d.key('7', 100);
    d.flush(149);
    expect(out).toEqual([]);
    d.flush(150);
    expect(out).toEqual(['7']);
  });

  it('keys delayed on their way (busy machine) are taken back when the burst goes on', () => {
    // Timestamps 5 ms apart, but after "8400" the page gets the rest 120 ms later: the timer
    // releases "8400" first; the next key's timestamp shows it is the same burst.
    const out: string[] = [];
    const d = new WedgeDetector(
      { onScan: (c) => out.push(`scan:${c}`), onRelease: (t) => out.push(`type:${t}`), onRetract: (t) => out.push(`untype:${t}`) },
      OPTS,
    );
    const code = '8400000000017';
    [...code].forEach((c, i) => {
      const handled = i < 4 ? i * 5 : 120 + i;
      if (i === 4) d.flush(15 + OPTS.holdMs); // the timer fired in the pause
      d.key(c, i * 5, true, handled);
    });
    expect(d.key('Enter', 65, true, 140)).toBe('consume');
    expect(out).toEqual(['type:8400', 'untype:8400', 'scan:8400000000017']);
  });

  it('a person typing after a timer release is never taken back', () => {
    const out: string[] = [];
    const d = new WedgeDetector(
      { onScan: (c) => out.push(`scan:${c}`), onRelease: (t) => out.push(`type:${t}`), onRetract: (t) => out.push(`untype:${t}`) },
      OPTS,
    );
    d.key('p', 0);
    d.flush(50);
    d.key('a', 140);
    d.flush(190);
    expect(out).toEqual(['type:p', 'type:a']);
  });
});
