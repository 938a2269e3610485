import { describe, expect, it } from 'vitest';
import { FakeRegister } from './backend/fake';
import { countList, countTotal } from './cash.svelte';

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

describe('cash: the count grid and the fake register’s cash rules', () => {
  it('a count totals its pieces and sends only what was counted', () => {
    expect(countTotal({ 2000: 2, 100: 10, 1: 3 })).toBe(5003);
    expect(countTotal({})).toBe(0);
    expect(countList({ 2000: 2, 500: 0, 1: 3 })).toEqual([
      { value: 1, quantity: 3 },
      { value: 2000, quantity: 2 },
    ]);
  });

  it('mirrors the register: cashiers open, managers close; Z numbers follow on; over/short is counted − expected', async () => {
    const r = new FakeRegister();
    await r.login('1234');
    const opened = await r.openRegister([{ value: 2000, quantity: 5 }]);
    expect(opened.session?.float.minor).toBe(10_000);
    expect(await refusal(r.xReport(false))).toBe('cash.forbidden');
    expect(await refusal(r.closeRegister([]))).toBe('cash.forbidden');
    expect(await refusal(r.cashMovement('out', 1000, { code: 'safe_drop', note: null }, null))).toBe('auth.approval_required');
    expect(await refusal(r.openRegister([{ value: 3, quantity: 1 }]))).toBe('cash.bad_count');
    await r.cashMovement('out', 1000, { code: 'safe_drop', note: null }, '9999');
    await r.logout();

    await r.login('9999');
    const total = (await r.scan('8400000000024')).total.minor;
    await r.pay('cash', 5000);
    const x = await r.xReport(false);
    expect(x.expected.minor).toBe(10_000 - 1000 + total);
    const z = await r.closeRegister([{ value: 1, quantity: x.expected.minor - 25 }]);
    expect(z.zNumber).toBe(1);
    expect(z.overShort?.minor).toBe(-25);
    expect(z.changeGiven.minor).toBe(5000 - total);
    expect(await refusal(r.xReport(false))).toBe('cash.not_open');

    await r.openRegister([]);
    expect((await r.closeRegister([])).zNumber).toBe(2);
    expect((await r.cashStatus()).lastZNumber).toBe(2);
  });
});
