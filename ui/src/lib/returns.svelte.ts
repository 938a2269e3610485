/**
 * The returns screen (⇧F12; issue 6): find the sale by scanning its receipt's QR code, typing
 * its number or searching; pick the lines and quantities to return (each back to stock or
 * written off with a reason); choose where the money goes (the original tenders by default,
 * or a customer's store credit, or cash); refund and print. Without a receipt: pick the goods
 * from the catalog; it needs the refund permission or a manager's PIN.
 *
 * Nothing here computes money: every total, tax and refund is the register's answer to
 * `returnsPreview` / `returnsCommit`. The screen holds only what the cashier is choosing.
 */
import type {
  ApiError,
  CustomerDto,
  ProductDto,
  RefundToDto,
  ReturnDoneDto,
  ReturnPreviewDto,
  ReturnRequestDto,
  ReturnSaleDto,
  SaleFoundDto,
} from './bindings';
import { toApiError } from './errors';
import { parseAmount } from './format';
import { register } from './register.svelte';
import { beep } from './sound';

/** pos_core::returns::WRITE_OFF_REASONS. */
export const WRITE_OFF_REASONS = ['damaged', 'expired', 'defective', 'opened', 'other'] as const;

/** What a receipt's QR code holds: series, dash, number ("T01-000123"). */
export const RECEIPT_CODE = /^[A-Za-z0-9_-]+-\d{1,12}$/;

export type ReturnsStep = 'find' | 'sale' | 'done';
export type RefundChoice = 'original' | 'store_credit' | 'cash';

class Returns {
  open = $state(false);
  step = $state<ReturnsStep>('find');
  code = $state('');
  query = $state({ date: '', total: '', cardLast4: '', customer: '', receipt: '' });
  found = $state.raw<SaleFoundDto[] | null>(null);
  sale = $state.raw<ReturnSaleDto | null>(null);
  /** A return without a receipt: the goods picked from the catalog. */
  noReceipt = $state(false);
  items = $state<{ product: ProductDto; quantity: number; writeOff: string | null }[]>([]);
  /** Per sale line: the quantity to return and its write-off reason (null: back to stock). */
  qty = $state<Record<number, number>>({});
  writeOff = $state<Record<number, string | null>>({});
  refundTo = $state<RefundChoice>('original');
  customer = $state.raw<CustomerDto | null>(null);
  customers = $state.raw<CustomerDto[]>([]);
  preview = $state.raw<ReturnPreviewDto | null>(null);
  done = $state.raw<ReturnDoneDto | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  /** A manager's PIN is asked for (after `auth.approval_required`). */
  approval = $state<{ pin: string; exchange: boolean } | null>(null);

  private get b() {
    return register.backend!;
  }

  show(code?: string): void {
    this.reset();
    this.setOpen(true);
    if (code) void this.find(code);
  }

  close(): void {
    this.setOpen(false);
    this.approval = null;
  }

  /** Opens or closes the screen; the register then keeps a scanner device's scans for it. */
  private setOpen(open: boolean): void {
    this.open = open;
    void this.b.returnsScreen(open).catch(() => {});
  }

  reset(): void {
    this.step = 'find';
    this.code = '';
    this.found = null;
    this.sale = null;
    this.noReceipt = false;
    this.items = [];
    this.qty = {};
    this.writeOff = {};
    this.refundTo = 'original';
    this.customer = null;
    this.customers = [];
    this.preview = null;
    this.done = null;
    this.error = null;
    this.approval = null;
  }

  /** Esc: out of the PIN prompt, then back to finding a sale, then out of the screen. */
  back(): void {
    if (this.approval) this.approval = null;
    else if (this.step !== 'find') this.reset();
    else this.close();
  }

  private async run<T>(f: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await f();
    } catch (e) {
      this.error = toApiError(e);
      beep(this.error.code === 'auth.approval_required' ? 'approval' : 'error');
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** A scan while the screen is open: a receipt's code finds its sale; without a receipt, a
   *  product's barcode adds the product brought back. */
  scan(code: string): void {
    if (this.noReceipt && this.step === 'sale' && !RECEIPT_CODE.test(code)) {
      void this.scanProduct(code);
      return;
    }
    if (this.step === 'done') this.reset();
    void this.find(code);
  }

  private async scanProduct(code: string): Promise<void> {
    const hits = await this.run(() => this.b.searchProducts(code.trim(), 5));
    const hit = hits?.find((p) => p.barcode === code.trim() || p.sku === code.trim());
    if (hit) this.addItem(hit);
    else {
      this.error = { code: 'scan.unknown_code', message: '', params: { code: code.trim() } };
      beep('error');
    }
  }

  async find(code: string): Promise<void> {
    const sale = await this.run(() => this.b.returnsFindReceipt(code.trim()));
    if (sale) this.openSale(sale);
  }

  async search(): Promise<void> {
    const q = this.query;
    const total = q.total.trim() ? parseAmount(q.total, register.currency) : null;
    const s = (v: string) => (v.trim() ? v.trim() : null);
    const found = await this.run(() =>
      this.b.returnsSearch({ date: s(q.date), total, cardLast4: s(q.cardLast4), customer: s(q.customer), receipt: s(q.receipt) }),
    );
    if (found) this.found = found;
  }

  async openFound(saleId: string): Promise<void> {
    const sale = await this.run(() => this.b.returnsOpenSale(saleId));
    if (sale) this.openSale(sale);
  }

  private openSale(sale: ReturnSaleDto): void {
    this.sale = sale;
    this.noReceipt = false;
    this.qty = {};
    this.writeOff = {};
    // A web order's online payment cannot be refunded here: cash (or store credit) instead.
    this.refundTo = sale.paidOnline ? 'cash' : 'original';
    this.step = 'sale';
    this.preview = null;
  }

  startWithoutReceipt(): void {
    this.reset();
    if (!this.open) this.setOpen(true);
    this.noReceipt = true;
    this.refundTo = 'store_credit';
    this.step = 'sale';
  }

  addItem(product: ProductDto): void {
    const have = this.items.find((i) => i.product.variantId === product.variantId && !product.byWeight);
    if (have) have.quantity += 1;
    else this.items.push({ product, quantity: product.byWeight ? 1000 : 1, writeOff: null });
    void this.refresh();
  }

  /** Without a receipt: one more or one less of an item brought back (none left removes it). */
  stepItem(index: number, by: number): void {
    const it = this.items[index];
    if (!it) return;
    const step = it.product.byWeight ? 100 * by : by;
    it.quantity += step;
    if (it.quantity <= 0) this.items.splice(index, 1);
    void this.refresh();
  }

  setQty(lineNo: number, q: number): void {
    const line = this.sale?.lines.find((l) => l.lineNo === lineNo);
    if (!line) return;
    this.qty[lineNo] = Math.max(0, Math.min(line.returnable, Math.round(q)));
    void this.refresh();
  }

  /** Every line, everything that can still be returned. */
  all(): void {
    for (const l of this.sale?.lines ?? []) this.qty[l.lineNo] = l.returnable;
    void this.refresh();
  }

  setWriteOff(lineNo: number, reason: string | null): void {
    this.writeOff[lineNo] = reason;
    void this.refresh();
  }

  choose(to: RefundChoice): void {
    this.refundTo = to;
    void this.refresh();
  }

  async findCustomers(q: string): Promise<void> {
    if (!q.trim()) {
      this.customers = [];
      return;
    }
    const found = await this.run(() => this.b.findCustomers(q, 8));
    if (found) this.customers = found;
  }

  async createCustomer(name: string): Promise<void> {
    const c = await this.run(() => this.b.createCustomer(name.trim(), null, null));
    if (c) this.pickCustomer(c);
  }

  pickCustomer(c: CustomerDto): void {
    this.customer = c;
    this.customers = [];
    this.refundTo = 'store_credit';
    void this.refresh();
  }

  request(): ReturnRequestDto | null {
    let refundTo: RefundToDto;
    if (this.refundTo === 'store_credit') {
      if (!this.customer) return null;
      refundTo = { kind: 'store_credit', customerId: this.customer.id };
    } else refundTo = { kind: this.refundTo };
    if (this.noReceipt) {
      if (this.items.length === 0) return null;
      return {
        saleId: null,
        lines: [],
        items: this.items.map((i) => ({ variantId: i.product.variantId, quantity: i.quantity, writeOff: i.writeOff })),
        refundTo,
      };
    }
    if (!this.sale) return null;
    const lines = Object.entries(this.qty)
      .filter(([, q]) => q > 0)
      .map(([no, q]) => ({ lineNo: Number(no), quantity: q, writeOff: this.writeOff[Number(no)] ?? null }));
    if (lines.length === 0) return null;
    return { saleId: this.sale.saleId, lines, items: [], refundTo };
  }

  /** The register's figures for what is chosen now. */
  async refresh(): Promise<void> {
    const req = this.request();
    if (!req) {
      this.preview = null;
      return;
    }
    const p = await this.run(() => this.b.returnsPreview(req));
    this.preview = p ?? null;
  }

  /** Makes the return; asks for a manager's PIN when the register wants one. An exchange
   *  (F8): the return pays for the sale in progress, then the screen closes on its payment. */
  async commit(pin: string | null = null, exchange = this.approval?.exchange ?? false): Promise<void> {
    const req = this.request();
    if (!req) {
      this.error = { code: this.refundTo === 'store_credit' && !this.customer ? 'returns.needs_customer' : 'returns.nothing_selected', message: '', params: {} };
      beep('error');
      return;
    }
    const done = await this.run(() => (exchange ? this.b.returnsExchange(req, pin) : this.b.returnsCommit(req, pin)));
    if (done?.exchange) {
      // The sale screen takes over: the difference is paid there (or the sale is complete).
      register.applySale(done.exchange.sale);
      if (done.exchange.completed) register.completed = done.exchange.completed;
      else register.say('ok', 'ret.exchanged', { number: done.number });
      this.close();
    } else if (done) {
      this.done = done;
      this.approval = null;
      this.step = 'done';
      beep('added');
    } else if (this.error?.code === 'auth.approval_required') {
      this.approval = { pin: '', exchange };
    } else if (this.error?.code === 'returns.unfinished') {
      // The interrupted return is finished first (its money already moved).
      this.approval = null;
    } else if (this.approval) {
      this.approval.pin = '';
    }
  }

  /**
   * A receipt's code scanned outside this screen (the sale screen, or a scanner device whose
   * scan the register refused as an unknown product): when it is a receipt of this terminal,
   * the returns screen opens on its sale; anything else goes on as a product scan.
   */
  async scannedElsewhere(code: string, asProduct: () => void): Promise<void> {
    if (!RECEIPT_CODE.test(code.trim()) || !register.session || register.paying) return asProduct();
    try {
      const sale = await this.b.returnsFindReceipt(code.trim());
      this.reset();
      this.setOpen(true);
      register.message = null;
      this.openSale(sale);
    } catch {
      asProduct();
    }
  }

  /** Device scans the register refused as products may be receipts (see `scannedElsewhere`). */
  watch(): () => void {
    return this.b.on('scan_rejected', (e) => {
      const code = e.params.code;
      if (e.code === 'returns.scanned' && code) {
        if (this.open) this.scan(code);
        return;
      }
      if (e.code !== 'scan.unknown_code' || !code) return;
      if (!this.open) void this.scannedElsewhere(code, () => {});
      else if (RECEIPT_CODE.test(code)) {
        // The sale screen under this one showed the refusal: it was meant for this screen.
        register.message = null;
        this.scan(code);
      }
    });
  }

  async resume(): Promise<void> {
    const done = await this.run(() => this.b.returnsResume());
    if (done) {
      this.done = done;
      this.step = 'done';
    }
  }
}

export const returns = new Returns();
