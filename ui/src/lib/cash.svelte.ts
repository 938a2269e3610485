/**
 * The cash screen (F1; issue 6): open the register with a float counted by denomination, cash
 * in and out with a reason, a no-sale drawer opening, the X report, and the end of day — a
 * blind count, then over/short and the Z report. The register decides who may do what; when it
 * answers `auth.approval_required`, the screen asks for a manager's PIN and sends the same action
 * again with it. Nothing here computes what the drawer should hold: the end-of-day count is
 * blind, and the expected amount is only ever shown in a report the register made.
 */
import type { ApiError, CashReportDto, CashStatusDto, DenominationCountDto, ReasonDto } from './bindings';
import { toApiError } from './errors';
import { parseAmount } from './format';
import { register } from './register.svelte';
import { beep } from './sound';

export type CashStep =
  | { kind: 'home' }
  | { kind: 'open' }
  | { kind: 'move'; direction: 'in' | 'out' }
  | { kind: 'no_sale' }
  | { kind: 'count' }
  | { kind: 'report'; report: CashReportDto };

/** A denomination count as keyed: quantity per value (minor units). */
export type Counts = Record<number, number>;

/** The total of a count, in minor units (for the live total while counting). */
export function countTotal(counts: Counts): number {
  let total = 0;
  for (const [value, qty] of Object.entries(counts)) total += Number(value) * (Number.isFinite(qty) ? qty : 0);
  return total;
}

export function countList(counts: Counts): DenominationCountDto[] {
  return Object.entries(counts)
    .map(([value, quantity]) => ({ value: Number(value), quantity }))
    .filter((c) => c.quantity > 0);
}

class Cash {
  open = $state(false);
  status = $state.raw<CashStatusDto | null>(null);
  step = $state.raw<CashStep>({ kind: 'home' });
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  /** A manager's PIN is asked for the action being sent (after `auth.approval_required`). */
  approval = $state<{ pin: string; retry: (pin: string) => Promise<void> } | null>(null);
  /** What was done last, for a short confirmation line. */
  done = $state<'opened' | 'moved' | 'no_sale' | 'printed' | 'setting' | null>(null);

  private get b() {
    return register.backend!;
  }

  async show(): Promise<void> {
    this.open = true;
    this.step = { kind: 'home' };
    this.error = null;
    this.done = null;
    this.approval = null;
    await this.refresh();
  }

  close(): void {
    this.open = false;
    this.approval = null;
  }

  /** Esc: out of the PIN prompt, then back to the cash home, then out of the screen. */
  back(): void {
    if (this.approval) this.approval = null;
    else if (this.step.kind !== 'home') {
      this.step = { kind: 'home' };
      this.error = null;
    } else this.close();
  }

  async refresh(): Promise<void> {
    try {
      this.status = await this.b.cashStatus();
    } catch (e) {
      this.error = toApiError(e);
    }
  }

  go(step: CashStep): void {
    this.step = step;
    this.error = null;
    this.done = null;
    this.approval = null;
  }

  private async run<T>(f: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await f();
    } catch (e) {
      this.error = toApiError(e);
      beep(this.error.code === 'auth.approval_required' || this.error.code === 'cash.forbidden' ? 'approval' : 'error');
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Sends an action that a manager may approve; asks for the PIN when the register wants it. */
  private async approvable(send: (pin: string | null) => Promise<CashStatusDto>, done: Cash['done']): Promise<void> {
    const attempt = async (pin: string | null) => {
      const s = await this.run(() => send(pin));
      if (s) {
        this.status = s;
        this.approval = null;
        this.step = { kind: 'home' };
        this.done = done;
      } else if (this.error?.code === 'auth.approval_required') {
        this.approval = { pin: '', retry: (p) => attempt(p) };
      } else if (this.approval) {
        this.approval.pin = '';
      }
    };
    await attempt(null);
  }

  async openRegister(counts: Counts): Promise<void> {
    const s = await this.run(() => this.b.openRegister(countList(counts)));
    if (s) {
      this.status = s;
      this.step = { kind: 'home' };
      this.done = 'opened';
    }
  }

  async move(direction: 'in' | 'out', amountText: string, reason: ReasonDto): Promise<void> {
    const amount = parseAmount(amountText, register.currency);
    if (amount === null || amount <= 0) {
      this.error = { code: 'cash.non_positive_amount', message: '', params: {} };
      beep('error');
      return;
    }
    await this.approvable((pin) => this.b.cashMovement(direction, amount, reason, pin), 'moved');
  }

  async noSale(reason: ReasonDto): Promise<void> {
    await this.approvable((pin) => this.b.noSale(reason, pin), 'no_sale');
  }

  async xReport(): Promise<void> {
    const r = await this.run(() => this.b.xReport(false));
    if (r) this.step = { kind: 'report', report: r };
  }

  async print(report: CashReportDto): Promise<void> {
    const r = await this.run(() => (report.zNumber === null ? this.b.xReport(true) : this.b.zReport(report.zNumber!, true)));
    if (r) {
      this.step = { kind: 'report', report: r };
      this.done = 'printed';
    }
  }

  async closeRegister(counts: Counts): Promise<void> {
    const r = await this.run(() => this.b.closeRegister(countList(counts)));
    if (r) {
      this.step = { kind: 'report', report: r };
      await this.refresh();
    }
  }

  /** Shows Z report `number` (the last one when not given). */
  async showZ(number?: number): Promise<void> {
    const n = number ?? this.status?.lastZNumber ?? 0;
    if (!Number.isInteger(n) || n < 1) return;
    const r = await this.run(() => this.b.zReport(n, false));
    if (r) this.step = { kind: 'report', report: r };
  }

  /** Sets the recount tolerance from what an administrator typed (empty: off). */
  async setRecountTolerance(text: string): Promise<void> {
    const trimmed = text.trim();
    const minor = trimmed === '' ? null : parseAmount(trimmed, register.currency);
    if (trimmed !== '' && minor === null) {
      this.error = { code: 'cash.overflow', message: '', params: {} };
      beep('error');
      return;
    }
    const s = await this.run(() => this.b.setRecountTolerance(minor));
    if (s) {
      this.status = s;
      this.done = 'setting';
    }
  }

  async setRequireFloat(on: boolean): Promise<void> {
    const s = await this.run(() => this.b.setRequireOpeningFloat(on));
    if (s) {
      this.status = s;
      this.done = 'setting';
    }
  }

  can(permission: string): boolean {
    return register.session?.permissions.includes(permission) ?? false;
  }
}

export const cash = new Cash();
