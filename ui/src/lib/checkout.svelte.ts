/**
 * The sale-editing actions with permissions (issue 5): line and sale discounts, price
 * overrides, voiding the sale, parking and resuming, reprinting a copy, and the manager's
 * approval on the spot. The register decides who may do what: the UI sends the action, and
 * when the answer is `auth.approval_required` it opens the approval dialog and sends the same
 * action again with the manager's PIN. Nothing here computes money; the sale shown is the one
 * the register answered.
 */
import type { ApiError, DiscountDto, ParkedSaleDto, ReasonDto, SaleDto } from './bindings';
import { toApiError } from './errors';
import { parseAmount } from './format';
import { money, t, type MessageKey } from './i18n/index.svelte';
import { lineName, register } from './register.svelte';
import { beep } from './sound';

/** The reasons offered (pos_core::auth::ADJUSTMENT_REASONS). */
export const REASONS = ['damaged', 'price_match', 'customer_care', 'staff', 'promotion', 'other'] as const;
export type ReasonCode = (typeof REASONS)[number];

export type EditKind = 'line_discount' | 'order_discount' | 'override' | 'void_sale';

export interface EditDialog {
  kind: EditKind;
  lineId: number | null;
  /** Discounts: percent or amount. */
  mode: 'percent' | 'amount';
  text: string;
  reason: ReasonCode | null;
  note: string;
  error: ApiError | null;
  /** A typing mistake caught before anything is sent. */
  hint: MessageKey | null;
  busy: boolean;
}

export interface Approval {
  /** What is asked, in words, for the manager to read. */
  what: string;
  reason: string;
  /** Sends the action again with the PIN. */
  send: (pin: string) => Promise<SaleDto>;
  done: MessageKey;
  pin: string;
  error: ApiError | null;
  busy: boolean;
}

class Checkout {
  edit = $state<EditDialog | null>(null);
  approval = $state<Approval | null>(null);
  parked = $state<{ list: ParkedSaleDto[] | null; error: ApiError | null } | null>(null);
  /** How many sales are parked on this terminal (shown on the button). */
  parkedCount = $state(0);

  get open(): boolean {
    return !!(this.edit || this.approval || this.parked);
  }

  private get b() {
    if (!register.backend) throw new Error('backend not started');
    return register.backend;
  }

  private canEdit(): boolean {
    return !!register.session && !register.paying && !register.completed && !register.qtyEntry;
  }

  /** Opens the discount, price or void dialog for the selected line or the sale. */
  start(kind: EditKind): void {
    if (!this.canEdit()) return;
    const line = register.selectedLine;
    if ((kind === 'line_discount' || kind === 'override') && !line) return;
    if (!register.sale?.lines.length) return;
    this.edit = {
      kind,
      lineId: kind === 'line_discount' || kind === 'override' ? line!.id : null,
      mode: 'percent',
      text: '',
      reason: null,
      note: '',
      error: null,
      hint: null,
      busy: false,
    };
  }

  close(): void {
    if (this.approval) this.approval = null;
    else if (this.edit) this.edit = null;
    else this.parked = null;
  }

  private reasonDto(e: EditDialog): ReasonDto | null {
    return e.reason ? { code: e.reason, note: e.note.trim() || null } : null;
  }

  private lineOf(id: number | null) {
    return register.sale?.lines.find((l) => l.id === id) ?? null;
  }

  /** Applies the dialog; asks for approval when the register says so. */
  async submit(): Promise<void> {
    const e = this.edit;
    if (!e || e.busy) return;
    const reason = this.reasonDto(e);
    const currency = register.currency;
    let send: (pin: string | null) => Promise<SaleDto>;
    let what = '';
    let done: MessageKey = 'co.msg.applied';
    const line = this.lineOf(e.lineId);
    const name = line ? lineName(line.names, line.sku) : '';
    if (e.kind === 'void_sale') {
      send = (pin) => this.b.voidSale(reason, pin);
      what = t('co.what.void_sale', { total: register.sale ? money(register.sale.total) : '' });
      done = 'co.msg.voided';
    } else {
      const n = e.mode === 'percent' && e.kind !== 'override' ? parseAmount(e.text, 'EUR') : parseAmount(e.text, currency);
      if (n === null) {
        e.hint = 'co.invalid_number';
        return;
      }
      if (e.kind === 'override') {
        send = (pin) => this.b.overridePrice(e.lineId!, n, reason, pin);
        what = t('co.what.override', {
          name,
          from: line ? money(line.unitPrice) : '',
          to: money({ minor: n, currency }),
        });
      } else {
        // Percent typed as "10" or "12,5" → basis points (parsed with two decimals).
        const discount: DiscountDto = e.mode === 'percent' ? { kind: 'percent', bps: n } : { kind: 'amount', minor: n };
        const amount = e.mode === 'percent' ? `${e.text.trim()} %` : money({ minor: n, currency });
        if (e.kind === 'line_discount') {
          send = (pin) => this.b.setLineDiscount(e.lineId!, discount, reason, pin);
          what = t('co.what.line_discount', { amount, name });
        } else {
          send = (pin) => this.b.setOrderDiscount(discount, reason, pin);
          what = t('co.what.order_discount', { amount });
        }
      }
    }
    e.busy = true;
    e.error = null;
    e.hint = null;
    try {
      register.applySale(await send(null));
      this.edit = null;
      register.say('ok', done);
    } catch (err) {
      const a = toApiError(err);
      if (a.code === 'auth.approval_required') {
        beep('approval');
        const reasonText = e.reason ? t(`co.reason.${e.reason}` as MessageKey) + (e.note.trim() ? ` — ${e.note.trim()}` : '') : '';
        this.approval = { what, reason: reasonText, send: (pin) => send(pin), done, pin: '', error: null, busy: false };
      } else {
        // Shown in the dialog, which stays open to correct it.
        e.error = a;
        beep('error');
      }
    } finally {
      e.busy = false;
    }
  }

  /** Takes a discount off the selected line or the sale (no permission needed). */
  async removeDiscount(): Promise<void> {
    const e = this.edit;
    if (!e) return;
    try {
      const s =
        e.kind === 'line_discount'
          ? await this.b.setLineDiscount(e.lineId!, null, null, null)
          : await this.b.setOrderDiscount(null, null, null);
      register.applySale(s);
      this.edit = null;
      register.say('ok', 'co.msg.applied');
    } catch (err) {
      e.error = toApiError(err);
    }
  }

  /** The manager typed their PIN. A wrong PIN keeps the dialog open with the message. */
  async approve(): Promise<void> {
    const a = this.approval;
    if (!a || a.busy) return;
    a.busy = true;
    try {
      register.applySale(await a.send(a.pin));
      this.approval = null;
      this.edit = null;
      register.say('ok', a.done);
    } catch (err) {
      a.error = toApiError(err);
      a.pin = '';
      beep('error');
    } finally {
      a.busy = false;
    }
  }

  async park(): Promise<void> {
    if (!this.canEdit() || !register.sale?.lines.length) return;
    try {
      register.applySale(await this.b.parkSale());
      register.say('ok', 'co.msg.parked');
      await this.refreshCount();
    } catch (e) {
      register.fail(e);
    }
  }

  async refreshCount(): Promise<ParkedSaleDto[]> {
    const list = await this.b.parkedSales();
    this.parkedCount = list.length;
    return list;
  }

  async showParked(): Promise<void> {
    if (!this.canEdit()) return;
    this.parked = { list: null, error: null };
    try {
      const list = await this.refreshCount();
      if (this.parked) this.parked.list = list;
    } catch (e) {
      if (this.parked) this.parked.error = toApiError(e);
    }
  }

  async resume(id: string): Promise<void> {
    try {
      register.applySale(await this.b.resumeSale(id));
      this.parked = null;
      register.say('ok', 'co.msg.resumed');
      await this.refreshCount();
    } catch (e) {
      if (this.parked) this.parked.error = toApiError(e);
      register.fail(e);
    }
  }

  async reprint(): Promise<void> {
    if (!register.session) return;
    try {
      const r = await this.b.reprintLastReceipt();
      register.receiptView = { receipt: r };
      register.say('ok', 'co.msg.reprinted', { number: r.receiptNumber });
    } catch (e) {
      register.fail(e);
    }
  }
}

export const checkout = new Checkout();

/** Parses a weight typed in kilograms ("0,350", "1.2", "2") into grams; null if not one. */
export function parseKilograms(text: string): number | null {
  const m = /^(\d{1,3})(?:[.,](\d{0,3}))?$/.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0') || '0');
}
