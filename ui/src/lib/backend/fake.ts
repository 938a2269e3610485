/**
 * An in-browser fake of the register, with the same `Backend` interface as the Tauri one. It is
 * a test double for the UI tests and the browser demo, not the product: it mirrors the rules of
 * the Rust register (pos-core) closely enough that the screens can be exercised honestly —
 * GTIN check digits, variable-measure labels, quantity limits, tax per rate rounded once per
 * rate, cash settlement with change, PIN lockout — and keeps everything in memory.
 *
 * Invariant: a refused command changes nothing (every mutation is applied to a copy first).
 */
import type {
  DeviceStatusDto,
  AppInfoDto,
  ApiError,
  CompletedSaleDto,
  CustomerDto,
  EmailReceiptDto,
  GiftCardDto,
  DeviceSettingsDto,
  DiagnosisDto,
  Events,
  LineDto,
  MoneyDto,
  PayResultDto,
  ProductDto,
  ReceiptPreviewDto,
  RoleDto,
  SaleDto,
  SessionDto,
  StatusDto,
  TaxRowDto,
  TenderDto,
  TenderKindDto,
  // --- shop ---
  PickupDto,
  ShopImportDto,
  ShopSettingsDto,
  ShopTestDto,
  StockConflictDto,
  SyncDetailsDto,
  // --- checkout ---
  AdjustmentDto,
  DiscountDto,
  ParkedSaleDto,
  ReasonDto,
  // cash
  CashDirectionDto,
  CashMovementDto,
  CashReportDto,
  CashStatusDto,
  DenominationCountDto,
  // returns
  RefundDto,
  ReturnDoneDto,
  ReturnedLineDto,
  ReturnPreviewDto,
  ReturnRequestDto,
  ReturnSaleDto,
  ReturnSearchDto,
  SaleFoundDto,
  // devices
  ScanTestDto,
  SwipeTestDto,
  TestPaymentDto,
  // stored value
  AccountPaymentDto,
  AccountTenderDto,
  GiftCardBalanceDto,
  StatementDto,
  StoredValueInfoDto,
  // shop gift cards
  FlaggedGiftCardDto,
  GiftCardOfflinePolicyDto,
  GiftCardWaitingDto,
  // staff
  AuditPageDto,
  AuditVerifyDto,
  ClockDto,
  HoursReportDto,
  ShiftDto,
  StaffDto,
} from '../bindings';
import { apiError } from '../errors';
import { formatDate, formatMinor, formatTime } from '../format';
import { checkGtin, ean13, isGtinShaped } from '../gtin';
import type { Backend } from './backend';
import { buildCatalog, STORES, type FakeProduct, type StoreKind, type StoreSetup } from './fake-catalog';

export { FIXTURE_BARCODES } from './fake-catalog';

/** Limits of pos-core's cart. */
export const MAX_UNITS = 9_999;
export const MAX_GRAMS = 100_000;
export const MAX_LINES = 500;
export const MAX_MINOR = 10_000_000_000_000;
export const PIN_TRIES = 5;
export const LOCK_MS = 5 * 60 * 1000;

export interface FakeOptions {
  store: StoreKind;
  products: number;
  /** Simulated IPC latency per command, ms. */
  latencyMs: number;
  terminalId: string;
  simulatedDevices: boolean;
  /** The clock (tests may pin it). */
  now: () => Date;
  /** Cash rounding increment in minor units (1 = none; 5 = to 0,05 € as in Finland or the Netherlands). */
  cashIncrement: number;
  /** tenders: 'ask' prints a receipt only when the cashier picks Print (POS_RECEIPT_PRINT=ask). */
  printMode?: 'auto' | 'ask';
}

export function fakeOptionsFromUrl(search: string): Partial<FakeOptions> {
  const q = new URLSearchParams(search);
  const o: Partial<FakeOptions> = {};
  if (q.get('store') === 'jp') o.store = 'jp';
  const n = Number(q.get('products'));
  if (Number.isInteger(n) && n > 0) o.products = Math.min(n, 200_000);
  const l = Number(q.get('latency'));
  if (Number.isFinite(l) && l > 0) o.latencyMs = l;
  if (q.get('devices') === 'real') o.simulatedDevices = false;
  const inc = Number(q.get('cash'));
  if (Number.isInteger(inc) && inc > 1 && inc <= 100) o.cashIncrement = inc;
  if (q.get('print') === 'ask') o.printMode = 'ask'; // tenders
  return o;
}

/** staff: users are never deleted, only deactivated (`active: false`); roles are codes of ROLES. */
const USERS: { id: string; name: string; pin: string; role: string; active?: boolean }[] = [
  { id: 'u-ana', name: 'Ana', pin: '1234', role: 'cashier' },
  { id: 'u-marta', name: 'Marta', pin: '9999', role: 'manager' },
  { id: 'u-admin', name: 'Admin', pin: '0000', role: 'admin' },
];

const ALL_PERMISSIONS = [
  'sell', 'line_discount', 'order_discount', 'price_override', 'void_line', 'void_sale',
  'no_sale', 'refund', 'cash_in_out', 'end_of_day', 'manage_users', 'manage_settings',
  'open_register', // cash
  'manage_shifts', 'view_audit', // staff
  'customer_credit', // stored value
];

/** staff: the stored permission matrix (mirrors migration 0011 and pos_store::staff). */
const ROLES: { code: string; name: string; builtin: boolean; permissions: string[] }[] = (['cashier', 'manager', 'admin'] as RoleDto[]).map((code) => ({
  code,
  name: { cashier: 'Cashier', manager: 'Manager', admin: 'Administrator' }[code],
  builtin: true,
  permissions: defaultPermissions(code),
}));

/** Every permission check reads the matrix. */
function permissionsOf(role: string): string[] {
  const r = ROLES.find((x) => x.code === role);
  return r ? ALL_PERMISSIONS.filter((p) => r.permissions.includes(p)) : [];
}

function defaultPermissions(role: RoleDto): string[] {
  if (role === 'admin') return ALL_PERMISSIONS;
  if (role === 'manager') return ALL_PERMISSIONS.filter((p) => p !== 'manage_users' && p !== 'manage_settings');
  return ['sell', 'void_line', 'open_register'];
}

/** Variable-measure prefixes as in pos-core's default rules: 20–24 price, 02 and 25–29 grams. */
function readEmbedded(code: string): { lookup: string; kind: 'price' | 'grams'; value: number } | null {
  if (code.length !== 13) return null;
  const p2 = code.slice(0, 2);
  const n = Number(p2);
  if (p2 !== '02' && !(n >= 20 && n <= 29)) return null;
  return {
    lookup: ean13(code.slice(0, 7) + '00000'),
    kind: p2 === '02' || n >= 25 ? 'grams' : 'price',
    value: Number(code.slice(7, 12)),
  };
}

/** Rounds a / b (b > 0, both non-negative integers) half up or down. */
function divRound(a: number, b: number, mode: 'half_up' | 'down'): number {
  const q = Math.floor(a / b);
  const r = a - q * b;
  if (mode === 'down') return q;
  return r * 2 >= b ? q + 1 : q;
}

interface Line {
  id: number;
  product: FakeProduct;
  /** Units, or grams when by weight. */
  quantity: number;
  /** Price-embedded labels carry the line's amount. */
  embeddedAmount: number | null;
  /** checkout: the line's own discount and an overridden unit price. */
  discount?: FakeAdjustment | null;
  override?: { price: number; original: number; reason: string; approvedBy: string | null } | null;
  /** stored value: a gift card sold (no tax, no stock, not discountable). */
  voucher?: { kind: 'issue' | 'top_up'; number: string; printCode: boolean } | null;
}

interface SaleState {
  stage: 'open' | 'paying';
  lines: Line[];
  lastLineId: number | null;
  nextLineId: number;
  tenders: { kind: TenderKindDto; amount: number; reference?: string | null }[];
  /** checkout: the discount on the whole sale. */
  orderDiscount?: FakeAdjustment | null;
  /** stored value: the customer the sale is for. */
  customer?: { id: string; name: string } | null;
}

function emptySale(): SaleState {
  return { stage: 'open', lines: [], lastLineId: null, nextLineId: 1, tenders: [] };
}

function cloneSale(s: SaleState): SaleState {
  return { ...s, lines: s.lines.map((l) => ({ ...l })), tenders: s.tenders.map((t) => ({ ...t })) };
}

type Handlers = { [K in keyof Events]: Set<(p: Events[K]) => void> };

export class FakeRegister implements Backend {
  readonly opts: FakeOptions;
  readonly setup: StoreSetup;
  readonly catalog: FakeProduct[];
  private revision = 0;
  private byBarcode = new Map<string, FakeProduct>();
  private bySku = new Map<string, FakeProduct>();
  private byId = new Map<string, FakeProduct>();
  private sale: SaleState = emptySale();
  private sessionUser: (typeof USERS)[number] | null = null;
  private failedPins = 0;
  private lockedUntil: Date | null = null;
  private receiptSeq = 0;
  private last: ReceiptPreviewDto | null = null;
  private statusState: StatusDto;
  /** The saved device configuration (JSON text) and the test pages "printed". */
  private deviceConfig = '{}';
  readonly testPages: string[] = [];
  private handlers: Handlers = { sale_changed: new Set(), scan_rejected: new Set(), status_changed: new Set(), shop_import: new Set(), card_swiped: new Set() };

  constructor(opts: Partial<FakeOptions> = {}) {
    this.opts = {
      store: 'es',
      products: 300,
      latencyMs: 0,
      terminalId: 'T02',
      simulatedDevices: true,
      now: () => new Date(),
      cashIncrement: 0,
      ...opts,
    };
    const base = STORES[this.opts.store];
    this.setup =
      this.opts.cashIncrement > 1
        ? { ...base, store: { ...base.store, cashIncrement: this.opts.cashIncrement } }
        : base;
    this.catalog = buildCatalog(this.opts.store, this.opts.products);
    this.catalog.push(weighedByTypedWeight(this.opts.store, this.setup)); // checkout
    for (const p of this.catalog) {
      this.byBarcode.set(p.barcode, p);
      this.bySku.set(p.sku.toUpperCase(), p);
      this.byId.set(p.variantId, p);
    }
    const sim = this.opts.simulatedDevices;
    this.statusState = {
      devices: [
        { device: 'printer', state: 'ready', detail: null, simulated: sim },
        { device: 'drawer', state: 'ready', detail: 'drawer_closed', simulated: sim },
        { device: 'scanner', state: 'ready', detail: null, simulated: sim },
      ],
      sync: { configured: true, online: true, queued: 0, lastSuccess: null, conflicts: 1 },
    };
  }

  // ---- plumbing -------------------------------------------------------------------------

  private get currency(): string {
    return this.setup.store.currency;
  }

  private money(minor: number): MoneyDto {
    return { minor, currency: this.currency };
  }

  private async answer<T>(f: () => T): Promise<T> {
    if (this.opts.latencyMs > 0) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
    return f();
  }

  private emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const h of this.handlers[event]) (h as (p: Events[K]) => void)(payload);
  }

  on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): () => void {
    const set = this.handlers[event] as Set<(p: Events[K]) => void>;
    set.add(handler);
    return () => set.delete(handler);
  }

  private requireSession(): void {
    if (!this.sessionUser) throw apiError('auth.required', 'not logged in');
  }

  private requireOpen(): void {
    this.requireSession();
    this.cashGate(); // cash: no ringing up before the float is counted, when the store says so
    if (this.sale.stage === 'paying') {
      throw apiError('sale.payment_in_progress', 'the sale is at the payment step');
    }
  }

  /** Applies a change to a copy, validates the totals, then commits it. */
  private mutate(f: (s: SaleState) => void): SaleDto {
    const copy = cloneSale(this.sale);
    f(copy);
    const dto = this.saleDto(copy); // throws cart.overflow before anything is committed
    this.sale = copy;
    return dto;
  }

  // ---- pricing --------------------------------------------------------------------------

  private lineAmount(l: Line): number {
    if (l.embeddedAmount !== null) return l.embeddedAmount;
    const price = l.override?.price ?? l.product.price;
    if (l.product.byWeight) return divRound(price * l.quantity, 1000, 'half_up');
    return price * l.quantity;
  }

  private lineDto(l: Line, off: { own: number; order: number } = { own: 0, order: 0 }): LineDto {
    const extended = this.lineAmount(l);
    const amount = extended - off.own - off.order;
    return {
      id: l.id,
      variantId: l.product.variantId,
      sku: l.product.sku,
      names: { ...l.product.names },
      quantity: l.quantity,
      byWeight: l.product.byWeight,
      unitPrice: this.money(l.override?.price ?? l.product.price),
      extended: this.money(extended),
      discount: this.money(off.own + off.order),
      amount: this.money(amount),
      taxCode: l.product.tax.code,
      taxLabel: l.product.tax.label,
      reduced: l.product.tax.reduced,
      priceOverridden: !!l.override,
      note: null,
      lineDiscount: l.discount ? this.adjustmentDto(l.discount, off.own) : null,
      originalPrice: l.override ? this.money(l.override.original) : null,
      giftCard: l.voucher ? maskNumber(l.voucher.number) : null, // stored value
    };
  }

  private taxRows(s: SaleState): TaxRowDto[] {
    const by = new Map<string, { rate: FakeProduct['tax']; gross: number }>();
    const off = this.discountsOf(s);
    for (const l of s.lines) {
      if (l.voucher) continue; // stored value: a gift card sold is not taxed
      const e = by.get(l.product.tax.code) ?? { rate: l.product.tax, gross: 0 };
      const d = off.get(l.id)!;
      e.gross += this.lineAmount(l) - d.own - d.order;
      by.set(l.product.tax.code, e);
    }
    return [...by.values()]
      .sort((a, b) => b.rate.bps - a.rate.bps || a.rate.code.localeCompare(b.rate.code))
      .map(({ rate, gross }) => {
        // Tax-inclusive prices: tax = gross × r / (1 + r), rounded once per rate.
        const tax = divRound(gross * rate.bps, 10_000 + rate.bps, this.setup.taxRounding);
        return {
          code: rate.code,
          label: rate.label,
          reduced: rate.reduced,
          net: this.money(gross - tax),
          tax: this.money(tax),
          gross: this.money(gross),
        };
      });
  }

  private roundCash(minor: number): number {
    const inc = this.setup.store.cashIncrement;
    return inc <= 1 ? minor : divRound(minor, inc, 'half_up') * inc;
  }

  private settlement(s: SaleState, total: number) {
    const nonCash = s.tenders.filter((t) => t.kind !== 'cash').reduce((a, t) => a + t.amount, 0);
    const cash = s.tenders.filter((t) => t.kind === 'cash').reduce((a, t) => a + t.amount, 0);
    const dueByCash = this.roundCash(Math.max(0, total - nonCash));
    const remaining = Math.max(0, total - nonCash - cash);
    const remainingCash = Math.max(0, dueByCash - cash);
    const change = Math.max(0, cash - dueByCash);
    const complete = total > 0 && (remaining === 0 || (cash > 0 && remainingCash === 0));
    return { paid: nonCash + cash, remaining, remainingCash, change, complete };
  }

  private saleDto(s: SaleState): SaleDto {
    const off = this.discountsOf(s); // throws cart.discount_too_large
    const lines = s.lines.map((l) => this.lineDto(l, off.get(l.id)));
    const items = lines.reduce((a, l) => a + l.extended.minor, 0);
    if (items > MAX_MINOR) throw apiError('cart.overflow', 'amount out of range');
    const total = lines.reduce((a, l) => a + l.amount.minor, 0);
    const orderOff = [...off.values()].reduce((a, d) => a + d.order, 0);
    const taxes = this.taxRows(s);
    const taxTotal = taxes.reduce((a, r) => a + r.tax.minor, 0);
    const st = this.settlement(s, total);
    const tenders: TenderDto[] = s.tenders.map((t) => ({ kind: t.kind, amount: this.money(t.amount), reference: t.reference ?? null }));
    return {
      revision: ++this.revision,
      stage: s.stage,
      lines,
      lastLineId: s.lastLineId,
      itemCount: s.lines.reduce((a, l) => a + (l.product.byWeight ? 1 : l.quantity), 0),
      items: this.money(items),
      discounts: this.money(items - total),
      subtotal: this.money(total),
      taxes,
      taxTotal: this.money(taxTotal),
      total: this.money(total),
      priceMode: this.setup.store.priceMode,
      payment: {
        tenders,
        paid: this.money(st.paid),
        remaining: this.money(st.remaining),
        remainingCash: this.money(st.remainingCash),
        change: this.money(st.change),
        complete: st.complete,
      },
      orderDiscount: s.orderDiscount ? this.adjustmentDto(s.orderDiscount, orderOff) : null,
      customer: s.customer ? { ...s.customer } : null, // stored value
    };
  }

  private productDto(p: FakeProduct): ProductDto {
    return {
      variantId: p.variantId,
      sku: p.sku,
      names: { ...p.names },
      barcode: p.barcode,
      price: this.money(p.price),
      taxLabel: p.tax.label,
      reduced: p.tax.reduced,
      byWeight: p.byWeight,
      stock: p.stock,
    };
  }

  /** Adds units (or a weighed/priced label) of a product; merges units into its open line. */
  private addToSale(p: FakeProduct, grams: number | null, embeddedAmount: number | null): SaleDto {
    return this.mutate((s) => {
      if (p.byWeight && grams === null && embeddedAmount === null) {
        throw apiError('cart.needs_weight', 'weigh the item and enter its weight', {
          barcode: p.barcode, // checkout
          product: p.names[this.setup.store.locale as 'es' | 'ja'] ?? p.names.en,
        });
      }
      if (grams !== null && (grams < 1 || grams > MAX_GRAMS)) {
        throw apiError('cart.weight_out_of_range', `weight must be between 1 g and ${MAX_GRAMS} g`, { max: MAX_GRAMS });
      }
      const existing = !p.byWeight
        ? s.lines.find((l) => l.product.variantId === p.variantId && !l.discount && !l.override && l.embeddedAmount === null)
        : undefined;
      if (existing) {
        if (existing.quantity + 1 > MAX_UNITS) {
          throw apiError('cart.quantity_out_of_range', `quantity must be between 1 and ${MAX_UNITS}`, { max: MAX_UNITS });
        }
        existing.quantity += 1;
        s.lastLineId = existing.id;
        return;
      }
      if (s.lines.length >= MAX_LINES) {
        throw apiError('cart.too_many_lines', `the sale already has ${MAX_LINES} lines`, { max: MAX_LINES });
      }
      const id = s.nextLineId++;
      s.lines.push({ id, product: p, quantity: grams ?? 1, embeddedAmount });
      s.lastLineId = id;
    });
  }

  private scanNow(raw: string): SaleDto {
    this.requireOpen();
    const code = raw.trim();
    if (!code) throw apiError('scan.empty', 'barcode is empty');
    if (isGtinShaped(code)) {
      const c = checkGtin(code);
      if (!c.ok) {
        throw apiError('scan.check_digit', `wrong check digit: expected ${c.expected}, scanned ${c.found}`, {
          expected: c.expected,
          found: c.found,
        });
      }
      const emb = readEmbedded(code);
      if (emb) {
        const p = this.byBarcode.get(emb.lookup);
        if (!p) throw apiError('scan.unknown_code', `unknown code ${code}`, { code });
        if (emb.kind === 'grams') return this.addToSale(p, emb.value, null);
        return this.addToSale(p, p.byWeight ? 1 : null, emb.value);
      }
    }
    const p = this.byBarcode.get(code) ?? this.bySku.get(code.toUpperCase());
    if (!p) throw apiError('scan.unknown_code', `unknown code ${code}`, { code });
    return this.addToSale(p, null, null);
  }

  // ---- receipts -------------------------------------------------------------------------

  private receipt(s: SaleState, number: string, cashier: string, at: Date, change: number): ReceiptPreviewDto {
    const W = 42;
    const st = this.setup.store;
    const lang = st.locale === 'ja' ? 'ja' : 'es';
    const jp = st.country === 'JP';
    const m = (minor: number) => formatMinor(minor, this.currency, jp ? 'en' : 'es');
    const lines: string[] = [];
    const center = (t: string) => ' '.repeat(Math.max(0, Math.floor((W - width(t)) / 2))) + t;
    const row = (l: string, r: string) => l + ' '.repeat(Math.max(1, W - width(l) - width(r))) + r;
    const rule = '-'.repeat(W);
    lines.push(center(st.name));
    for (const a of st.address) lines.push(center(a));
    lines.push(center(jp ? `登録番号 ${st.taxId}` : `NIF ${st.taxId}`));
    lines.push(rule);
    lines.push(row(jp ? '領収書' : 'FACTURA SIMPLIFICADA', number));
    lines.push(row(`${formatDate(at, lang)} ${formatTime(at, lang)}`, jp ? `レジ ${this.opts.terminalId}` : `Caja ${this.opts.terminalId}`));
    lines.push(jp ? `担当 ${cashier}` : `Le atendió: ${cashier}`);
    if (s.customer) lines.push(jp ? `お客様 ${s.customer.name}` : `Cliente: ${s.customer.name}`); // stored value
    lines.push(rule);
    for (const l of s.lines) {
      const name = l.product.names[lang] + (jp && l.product.tax.reduced ? ' ※' : '');
      const amount = this.lineAmount(l);
      if (l.product.byWeight) {
        lines.push(row(name, m(amount)));
        lines.push(`  ${(l.quantity / 1000).toFixed(3).replace('.', jp ? '.' : ',')} kg x ${m(l.product.price)}/kg`);
      } else if (l.quantity !== 1) {
        lines.push(row(`${l.quantity} x ${name}`, m(amount)));
        lines.push(`  ${m(l.product.price)}`);
      } else {
        lines.push(row(name, m(amount)));
      }
    }
    lines.push(rule);
    const rows = this.taxRows(s);
    const total = this.saleDto(s).total.minor;
    lines.push(row(jp ? '合計' : 'TOTAL', m(total)));
    if (jp) {
      for (const r of rows) {
        lines.push(row(`(${r.label}対象 ${m(r.gross.minor)}`, `内消費税 ${m(r.tax.minor)})`));
      }
      if (rows.some((r) => r.reduced)) lines.push('※は軽減税率対象');
    } else {
      lines.push(row('IVA', 'Base      Cuota'));
      for (const r of rows) {
        lines.push(row(`  ${r.label}`, `${m(r.net.minor).padStart(9)} ${m(r.tax.minor).padStart(8)}`));
      }
      lines.push('IVA incluido');
    }
    lines.push(rule);
    for (const t of s.tenders) {
      const label = this.tenderLabel(t, jp);
      lines.push(row(label, m(t.amount)));
    }
    lines.push(row(jp ? 'お釣り' : 'Cambio', m(change)));
    lines.push(rule);
    lines.push(center(jp ? 'ありがとうございました' : 'Gracias por su compra'));
    lines.push(...this.svSlips(s, number, jp, W)); // stored value: the gift card note and barcode slips
    return { receiptNumber: number, lines, widthChars: W };
  }

  private setStatus(f: (s: StatusDto) => void): void {
    const next: StatusDto = structuredClone(this.statusState);
    f(next);
    this.statusState = next;
    this.emit('status_changed', structuredClone(next));
  }

  // ---- commands -------------------------------------------------------------------------

  appInfo(): Promise<AppInfoDto> {
    return this.answer(() => ({
      store: structuredClone(this.setup.store),
      terminalId: this.opts.terminalId,
      version: '0.1.0-fake',
      tenders: ['cash', 'card', 'gift_card', 'store_credit', 'account'],
      locales: ['en', 'es', 'ja'],
      simulatedDevices: this.opts.simulatedDevices,
    }));
  }

  login(pin: string): Promise<SessionDto> {
    return this.answer(() => {
      const now = this.opts.now();
      if (this.lockedUntil && now < this.lockedUntil) {
        throw apiError('auth.locked', 'login locked', { until: this.lockedUntil.toISOString() });
      }
      const user = USERS.find((u) => u.pin === pin && u.active !== false);
      if (!user) {
        this.audit('login_failed', null, { failure: 'wrong_pin' });
        this.failedPins += 1;
        if (this.failedPins >= PIN_TRIES) {
          this.failedPins = 0;
          this.lockedUntil = new Date(now.getTime() + LOCK_MS);
          throw apiError('auth.locked', 'too many wrong PINs', { until: this.lockedUntil.toISOString() });
        }
        throw apiError('auth.wrong_pin', 'wrong PIN', { attemptsLeft: PIN_TRIES - this.failedPins });
      }
      this.failedPins = 0;
      this.lockedUntil = null;
      this.sessionUser = user;
      return this.sessionDto()!;
    });
  }

  private sessionDto(): SessionDto | null {
    const u = this.sessionUser;
    return u ? { user: { id: u.id, name: u.name, role: u.role, roleName: ROLES.find((r) => r.code === u.role)?.name ?? u.role }, permissions: permissionsOf(u.role) } : null;
  }

  logout(): Promise<null> {
    return this.answer(() => {
      this.sessionUser = null;
      return null;
    });
  }

  session(): Promise<SessionDto | null> {
    return this.answer(() => this.sessionDto());
  }

  currentSale(): Promise<SaleDto> {
    return this.answer(() => this.saleDto(this.sale));
  }

  scan(code: string): Promise<SaleDto> {
    return this.answer(() => this.scanNow(code));
  }

  addProduct(variantId: string, quantity: number | null = null): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      const p = this.byId.get(variantId);
      if (!p) throw apiError('scan.unknown_code', `unknown product ${variantId}`, { code: variantId });
      // Like the register: a quantity is grams for a product sold by weight (a typed weight).
      if (p.byWeight && quantity !== null) return this.addToSale(p, quantity, null);
      return this.addToSale(p, null, null);
    });
  }

  searchProducts(query: string, limit: number): Promise<ProductDto[]> {
    return this.answer(() => {
      this.requireSession();
      const q = fold(query.trim());
      if (!q) return [];
      const out: ProductDto[] = [];
      for (const p of this.catalog) {
        if (out.length >= limit) break;
        const hit =
          fold(p.names.en).includes(q) ||
          fold(p.names.es).includes(q) ||
          fold(p.names.ja).includes(q) ||
          p.sku.toLowerCase().includes(q) ||
          p.barcode.includes(q);
        if (hit) out.push(this.productDto(p));
      }
      return out;
    });
  }

  setQuantity(lineId: number, quantity: number): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      this.svRefuseVoucher(lineId); // stored value
      return this.mutate((s) => {
        const l = s.lines.find((x) => x.id === lineId);
        if (!l) throw apiError('cart.no_such_line', `no line ${lineId}`);
        if (!Number.isSafeInteger(quantity)) throw apiError('app.bad_request', 'quantity must be an integer');
        if (l.product.byWeight) {
          if (quantity < 1 || quantity > MAX_GRAMS) {
            throw apiError('cart.weight_out_of_range', `weight must be between 1 g and ${MAX_GRAMS} g`, { max: MAX_GRAMS });
          }
          l.embeddedAmount = null;
        } else if (quantity < 1 || quantity > MAX_UNITS) {
          throw apiError('cart.quantity_out_of_range', `quantity must be between 1 and ${MAX_UNITS}`, { max: MAX_UNITS });
        }
        l.quantity = quantity;
        s.lastLineId = l.id;
      });
    });
  }

  removeLine(lineId: number): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      const before = this.sale;
      const dto = this.mutate((s) => {
        const i = s.lines.findIndex((x) => x.id === lineId);
        if (i < 0) throw apiError('cart.no_such_line', `no line ${lineId}`);
        s.lines.splice(i, 1);
        s.lastLineId = s.lines.length ? s.lines[Math.min(i, s.lines.length - 1)].id : null;
      });
      this.auditLineVoid(before, lineId);
      return dto;
    });
  }

  startPayment(): Promise<SaleDto> {
    return this.answer(() => {
      this.requireSession();
      if (this.sale.stage === 'paying') return this.saleDto(this.sale);
      if (this.sale.lines.length === 0) throw apiError('sale.empty', 'the sale is empty');
      return this.mutate((s) => {
        s.stage = 'paying';
      });
    });
  }

  cancelPayment(): Promise<SaleDto> {
    return this.answer(() => {
      this.requireSession();
      if (this.sale.tenders.length > 0) {
        throw apiError('pay.tenders_taken', 'payments were already taken: complete the sale');
      }
      return this.mutate((s) => {
        s.stage = 'open';
      });
    });
  }

  pay(kind: TenderKindDto, amount: number): Promise<PayResultDto> {
    // tenders: a card goes through the simulated terminal (see the tenders block below).
    if (kind === 'card') return this.payCard(amount);
    return this.answer(() => {
      this.requireSession();
      if (this.sale.lines.length === 0) throw apiError('sale.empty', 'scan something first');
      // Gift card, store credit and account have their own commands (they need a number or a customer).
      if (kind !== 'cash') throw apiError('pay.tender_unavailable', 'this tender is not available on this terminal');
      if (!Number.isSafeInteger(amount) || amount > MAX_MINOR) throw apiError('cart.overflow', 'amount out of range');
      if (amount <= 0) throw apiError('pay.non_positive', 'a tender amount must be positive');
      return this.takeTender({ kind, amount, reference: null });
    });
  }

  /** Drawer opens for cash; the sale waits in the outbox until the (simulated) sync runs. */
  private afterSale(cash: boolean): void {
    this.setStatus((s) => {
      s.sync.queued += 1;
      const drawer = s.devices.find((d) => d.device === 'drawer');
      if (cash && drawer) drawer.detail = 'drawer_open';
    });
    setTimeout(() => {
      this.setStatus((s) => {
        s.sync.queued = Math.max(0, s.sync.queued - 1);
        s.sync.lastSuccess = this.opts.now().toISOString();
        const drawer = s.devices.find((d) => d.device === 'drawer');
        if (drawer) drawer.detail = 'drawer_closed';
      });
    }, 3000);
  }

  lastReceipt(): Promise<ReceiptPreviewDto | null> {
    return this.answer(() => (this.last ? structuredClone(this.last) : null));
  }

  status(): Promise<StatusDto> {
    return this.answer(() => structuredClone(this.statusState));
  }

  simulateDevice(command: string, _value: number | null = null): Promise<null> {
    return this.answer(() => {
      if (!this.opts.simulatedDevices) throw apiError('device.not_simulated', 'no simulated devices');
      if (this.devicesSimulate(command)) return null;
      const printer: Record<string, [DeviceStatusDto['state'], string | null]> = {
        paper_out: ['error', 'paper_out'],
        paper_runs_out: ['error', 'paper_out'],
        paper_near_end: ['warning', 'paper_low'],
        paper_replaced: ['ready', null],
        cover_open: ['error', 'cover_open'],
        cover_closed: ['ready', null],
        printer_offline: ['offline', 'offline'],
        printer_online: ['ready', null],
      };
      const p = printer[command];
      if (!p && command !== 'close_drawer') throw apiError('device.bad_command', `unknown simulator command ${command}`);
      this.setStatus((s) => {
        for (const d of s.devices) {
          if (p && d.device === 'printer') [d.state, d.detail] = p;
          if (!p && d.device === 'drawer') [d.state, d.detail] = ['ready', 'drawer_closed'];
        }
      });
      return null;
    });
  }

  simulateScan(code: string): Promise<null> {
    return this.answer(() => {
      if (!this.opts.simulatedDevices) throw apiError('device.unavailable', 'no simulated scanner');
      // "Scan something now" in Settings → Devices takes the scan instead of the sale.
      if (this.devicesCaptureScan(code)) return null;
      // returns: the returns screen takes a device's scans while it is open.
      if (this.returnsScans) {
        setTimeout(() => this.emit('scan_rejected', apiError('returns.scanned', 'scanned on the returns screen', { code: code.trim() })), 0);
        return null;
      }
      // The device path: the result arrives as an event, like a real scanner's would.
      setTimeout(() => {
        try {
          this.emit('sale_changed', this.scanNow(code));
        } catch (e) {
          this.emit('scan_rejected', e as ApiError);
        }
      }, 0);
      return null;
    });
  }

  // ---- Settings → Devices ----------------------------------------------------------------

  private requireDeviceAccess(): void {
    this.requireSession();
    if (!permissionsOf(this.sessionUser!.role).includes('end_of_day')) throw apiError('auth.forbidden', 'managers and admins only');
  }

  private deviceSettingsDto(): DeviceSettingsDto {
    const c = JSON.parse(this.deviceConfig) as Record<string, { connection?: unknown }>;
    const describe = (v: unknown): string => {
      if (v === undefined || v === 'simulated') return 'simulated';
      if (typeof v === 'string') return v;
      const o = v as Record<string, unknown>;
      if (o.kind === 'serial') return `serial ${String(o.path)} @ ${String(o.baud ?? 9600)}`;
      if (o.kind === 'tcp') return `tcp ${String(o.host)}:${String(o.port ?? 9100)}`;
      return String(o.kind ?? 'simulated');
    };
    return {
      configJson: JSON.stringify(c, null, 2),
      devices: ['printer', 'drawer', 'scanner', 'card_reader', 'display', 'payment_terminal'].map((device) => ({
        device,
        connection: describe(c[device]?.connection),
      })),
      restartNeeded: this.deviceConfig !== '{}',
    };
  }

  deviceSettings(): Promise<DeviceSettingsDto> {
    return this.answer(() => {
      this.requireDeviceAccess();
      return this.deviceSettingsDto();
    });
  }

  diagnoseDevices(): Promise<DiagnosisDto> {
    return this.answer(() => {
      this.requireDeviceAccess();
      const sim = this.opts.simulatedDevices;
      return {
        serialPorts: [{ path: '/dev/ttyUSB0', description: 'usb 0403:6001 FTDI', looksLikeScanner: false, vid: null, pid: null }],
        usbPrinters: [{ path: 'usb 04b8:0e28 (bus 1 address 4)', description: 'EPSON TM-T20III', looksLikeScanner: false, vid: 0x04b8, pid: 0x0e28 }],
        usbError: null,
        inputDevices: [{ path: '/dev/input/by-id/usb-Honeywell_Scanner-event-kbd', description: 'Honeywell Scanner', looksLikeScanner: true, vid: null, pid: null }],
        configured: ['printer', 'drawer', 'scanner', 'card_reader', 'display', 'payment_terminal'].map((device) => ({
          device,
          connection: 'simulated',
          result: sim ? 'simulated' : 'failed',
          answers: sim,
          detail: null,
        })),
      };
    });
  }

  saveDeviceSettings(configJson: string): Promise<DeviceSettingsDto> {
    return this.answer(() => {
      this.requireDeviceAccess();
      if (!permissionsOf(this.sessionUser!.role).includes('manage_settings')) throw apiError('auth.forbidden', 'admins only');
      let parsed: unknown;
      try {
        parsed = JSON.parse(configJson);
      } catch (e) {
        throw apiError('device.config', String(e), { detail: String(e) });
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw apiError('device.config', 'the device configuration must be a JSON object', { detail: 'not an object' });
      }
      this.deviceConfig = JSON.stringify(parsed);
      return this.deviceSettingsDto();
    });
  }

  testDevice(device: string): Promise<null> {
    return this.answer(() => {
      this.requireDeviceAccess();
      if (device === 'printer') {
        this.testPages.push(`${this.setup.store.name}\n${this.opts.now().toISOString()}`);
      } else if (device === 'drawer') {
        this.setDevice('drawer', 'warning', 'drawer_open');
      } else if (device === 'payment_terminal') {
        throw apiError('pay.terminal_unavailable', 'no payment terminal in the browser fake');
      } else if (device !== 'display') {
        throw apiError('device.bad_command', `unknown device ${device}`);
      }
      return null;
    });
  }

  // ---- test and demo hooks (not part of Backend) ------------------------------------------

  /** Simulates a device state change (for the developer panel and issue 3's simulators). */
  setDevice(device: string, state: StatusDto['devices'][number]['state'], detail: string | null): void {
    this.setStatus((s) => {
      const d = s.devices.find((x) => x.device === device);
      if (d) {
        d.state = state;
        d.detail = detail;
      } else s.devices.push({ device, state, detail, simulated: true });
    });
  }

  setOnline(online: boolean): void {
    this.setStatus((s) => {
      s.sync.online = online;
    });
  }

  // ---- shop: web shop settings, sync details, pickups, stock conflicts --------------------

  private shop = {
    url: 'http://127.0.0.1:3000',
    identifier: 'till-1',
    password: 'terminal-secret',
    running: true,
    lastSuccess: null as string | null,
    lastError: null as { kind: string; text: string; at: string } | null,
  };
  private shopImportState: ShopImportDto = { running: false, done: 0, total: 0, finishedAt: null, error: null };
  /** Variants the fake shop has; the import reports them in pages of `shopPageSize`. */
  shopCatalogSize = 120;
  shopPageSize = 40;
  /** Delay between import pages, ms (the progress bar is visible meanwhile). */
  shopPageMs = 250;
  private shopPickups: PickupDto[] | null = null;
  private shopConflicts: StockConflictDto[] | null = null;

  private requireShopAdmin(): void {
    this.requireSession();
    if (!permissionsOf(this.sessionUser!.role).includes('manage_settings')) throw apiError('auth.forbidden', 'only an administrator may change the web shop settings');
  }

  /** Mirrors pos_sync::config::check_url: https, or plain http only to this machine. */
  private checkShopUrl(url: string): string {
    let u: URL;
    try {
      u = new URL(url.trim());
    } catch {
      throw apiError('shop.invalid_url', `refused shop URL ${url}`);
    }
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
    if (u.protocol === 'http:' && !local) throw apiError('shop.insecure_url', `refused shop URL ${url}: use https://`);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw apiError('shop.invalid_url', `refused shop URL ${url}`);
    return u.toString().replace(/\/$/, '');
  }

  private shopPassword(url: string, identifier: string, password: string | null): string {
    if (!identifier.trim()) throw apiError('shop.identifier_required', 'enter the terminal identifier');
    if (password) return password;
    if (url === this.shop.url && identifier === this.shop.identifier && this.shop.password) return this.shop.password;
    throw apiError('shop.password_required', 'enter the password');
  }

  private pickupFixtures(): PickupDto[] {
    const m = (minor: number) => this.money(minor);
    const [a, b] = this.catalog;
    return [
      {
        code: 'WEB-1001', customerName: 'Lucía Gómez', placedAt: '2026-03-02T08:10:00Z', state: 'PaymentSettled',
        locationName: 'Store', total: m(a.price * 2 + b.price), handedOver: false, handOverError: null,
        lines: [
          { sku: a.sku, name: a.names.en, quantity: 2, total: m(a.price * 2) },
          { sku: b.sku, name: b.names.en, quantity: 1, total: m(b.price) },
        ],
      },
      {
        code: 'WEB-1002', customerName: 'Kenji Ito', placedAt: '2026-03-02T08:40:00Z', state: 'PaymentAuthorized',
        locationName: 'Store', total: m(b.price), handedOver: false, handOverError: null,
        lines: [{ sku: b.sku, name: b.names.en, quantity: 1, total: m(b.price) }],
      },
    ];
  }

  private get pickupList(): PickupDto[] {
    this.shopPickups ??= this.pickupFixtures();
    return this.shopPickups;
  }

  private get conflictList(): StockConflictDto[] {
    const p = this.catalog[2];
    this.shopConflicts ??= [
      {
        id: 1, sku: p.sku, names: { ...p.names }, reason: 'INSUFFICIENT_STOCK', quantity: 2, availableBefore: 0,
        terminalId: this.opts.terminalId, receipt: `${this.opts.terminalId}-000007`, at: '2026-03-02T09:15:00Z',
        reviewedAt: null, reviewedBy: null,
      },
    ];
    return this.shopConflicts;
  }

  private openConflicts(): number {
    return this.conflictList.filter((c) => c.reviewedAt === null).length;
  }

  shopSettings(): Promise<ShopSettingsDto> {
    return this.answer(() => {
      this.requireDeviceAccess();
      return {
        url: this.shop.url, identifier: this.shop.identifier, passwordSaved: this.shop.password !== '',
        fromEnvironment: false, running: this.shop.running, canEdit: permissionsOf(this.sessionUser!.role).includes('manage_settings'),
      };
    });
  }

  testShopConnection(url: string, identifier: string, password: string | null): Promise<ShopTestDto> {
    return this.answer(() => {
      this.requireShopAdmin();
      const u = this.checkShopUrl(url);
      const pw = this.shopPassword(u, identifier, password);
      if (u.includes('unreachable')) throw apiError('shop.unreachable', 'the shop cannot be reached');
      if (pw === 'wrong') throw apiError('shop.unauthorized', 'the shop refused the terminal credential');
      return { stockLocationId: '1', millis: 42 };
    });
  }

  saveShopSettings(url: string, identifier: string, password: string | null): Promise<ShopSettingsDto> {
    return this.answer(() => {
      this.requireShopAdmin();
      const u = this.checkShopUrl(url);
      const pw = this.shopPassword(u, identifier, password);
      this.shop = { ...this.shop, url: u, identifier: identifier.trim(), password: pw, running: true };
      this.setStatus((s) => {
        s.sync.configured = true;
        s.sync.online = pw !== 'wrong';
      });
      return {
        url: u, identifier: identifier.trim(), passwordSaved: true, fromEnvironment: false, running: true, canEdit: true,
      };
    });
  }

  importShopCatalog(): Promise<ShopImportDto> {
    return this.answer(() => {
      this.requireShopAdmin();
      if (!this.shop.running) throw apiError('shop.not_configured', 'no web shop is set up');
      const total = this.shopCatalogSize;
      const step = (done: number) => {
        const finished = done >= total;
        this.shopImportState = {
          running: !finished, done, total,
          finishedAt: finished ? this.opts.now().toISOString() : this.shopImportState.finishedAt, error: null,
        };
        this.emit('shop_import', { ...this.shopImportState });
        if (!finished) setTimeout(() => step(Math.min(total, done + this.shopPageSize)), this.shopPageMs);
      };
      this.shopImportState = { ...this.shopImportState, running: true, done: 0, total: 0, error: null };
      setTimeout(() => step(Math.min(total, this.shopPageSize)), this.shopPageMs);
      return { ...this.shopImportState };
    });
  }

  syncDetails(): Promise<SyncDetailsDto> {
    return this.answer(() => {
      this.requireSession();
      const s = this.statusState.sync;
      return {
        configured: s.configured, online: s.online, queued: s.queued, lastSuccess: this.shop.lastSuccess,
        lastErrorKind: this.shop.lastError?.kind ?? null, lastError: this.shop.lastError?.text ?? null,
        lastErrorAt: this.shop.lastError?.at ?? null, conflicts: this.openConflicts(),
        pickups: this.pickupList.length, import: { ...this.shopImportState },
        giftCardRedemptionsQueued: 0, giftCardsWaiting: structuredClone(this.giftCardsWaiting),
      };
    });
  }

  /**
   * Gift cards sold whose money is not on the card yet (the shop went away as the sale was
   * paid); tests push rows here. Mirrors `retry_gift_card_activations` in api/src/shop.rs.
   */
  readonly giftCardsWaiting: GiftCardWaitingDto[] = [];

  retryGiftCardActivations(): Promise<SyncDetailsDto> {
    return this.answer(() => {
      this.requireSession();
      if (this.statusState.sync.online) this.giftCardsWaiting.splice(0);
      else for (const w of this.giftCardsWaiting) w.attempts += 1;
      return undefined;
    }).then(() => this.syncDetails());
  }

  pickups(): Promise<PickupDto[]> {
    return this.answer(() => {
      this.requireSession();
      return structuredClone(this.pickupList);
    });
  }

  handOverPickup(orderCode: string): Promise<PickupDto[]> {
    return this.answer(() => {
      this.requireSession();
      const p = this.pickupList.find((x) => x.code === orderCode.trim());
      if (!p) throw apiError('shop.pickup_not_found', 'not waiting here', { code: orderCode });
      if (p.handedOver) throw apiError('shop.already_handed_over', 'already handed over', { code: orderCode });
      p.handedOver = true;
      this.setStatus((s) => {
        s.sync.queued += 1;
      });
      this.deliverHandOvers();
      return structuredClone(this.pickupList);
    });
  }

  /** Online: the shop takes queued hand-overs after a moment and the orders leave the list. */
  private deliverHandOvers(): void {
    if (!this.statusState.sync.online) return;
    setTimeout(() => {
      if (!this.statusState.sync.online) return;
      const done = this.pickupList.filter((p) => p.handedOver);
      if (done.length === 0) return;
      this.shopPickups = this.pickupList.filter((p) => !p.handedOver);
      this.shop.lastSuccess = this.opts.now().toISOString();
      this.setStatus((s) => {
        s.sync.queued = Math.max(0, s.sync.queued - done.length);
        s.sync.lastSuccess = this.shop.lastSuccess;
      });
    }, 300);
  }

  stockConflicts(includeReviewed: boolean): Promise<StockConflictDto[]> {
    return this.answer(() => {
      this.requireDeviceAccess();
      return structuredClone(this.conflictList.filter((c) => includeReviewed || c.reviewedAt === null));
    });
  }

  reviewStockConflict(id: number): Promise<StockConflictDto[]> {
    return this.answer(() => {
      this.requireDeviceAccess();
      const c = this.conflictList.find((x) => x.id === id && x.reviewedAt === null);
      if (!c) throw apiError('shop.conflict_not_found', 'not open');
      c.reviewedAt = this.opts.now().toISOString();
      c.reviewedBy = this.sessionUser!.name;
      this.setStatus((s) => {
        s.sync.conflicts = this.openConflicts();
      });
      return structuredClone(this.conflictList.filter((x) => x.reviewedAt === null));
    });
  }

  /** Test hook: the shop goes away (or comes back); hand-overs queued meanwhile are delivered. */
  setShopReachable(reachable: boolean): void {
    if (!reachable) {
      this.shop.lastError = { kind: 'unreachable', text: 'the shop cannot be reached: connection refused', at: this.opts.now().toISOString() };
    }
    this.setOnline(reachable);
    if (reachable) this.deliverHandOvers();
  }

  // --- checkout: discounts, approvals, voids, park and resume, reprint (mirrors api/src/checkout.rs) ---

  /** The audit trail as the register writes it (`audit_log`), for tests. */
  readonly auditLog: { action: string; userId: string | null; approverId: string | null; detail: Record<string, unknown>; at?: string; terminalId?: string }[] = [];
  /** Receipt copies sent to the printer, as text, for tests. */
  readonly printedCopies: string[][] = [];
  private parked: { id: string; parkedAt: string; cashier: string; sale: SaleState }[] = [];
  private parkSeq = 0;

  private audit(action: string, approverId: string | null, detail: Record<string, unknown>): void {
    const row = { action, userId: this.sessionUser?.id ?? null, approverId, detail };
    // staff: when and where, for the audit viewer; not enumerable, so rows compare as before.
    Object.defineProperties(row, { at: { value: this.opts.now().toISOString() }, terminalId: { value: this.opts.terminalId } });
    this.auditLog.push(row);
  }

  private adjustmentDto(a: FakeAdjustment, amount: number): AdjustmentDto {
    return {
      percentBps: a.discount.kind === 'percent' ? a.discount.bps : null,
      amount: this.money(amount),
      reason: a.reason,
      approvedBy: a.approvedBy,
    };
  }

  /** Each line's own discount and its share of the order discount (largest remainder), as pos-core's cart. */
  private discountsOf(s: SaleState): Map<number, { own: number; order: number }> {
    const out = new Map<number, { own: number; order: number }>();
    const after: number[] = [];
    for (const l of s.lines) {
      const ext = this.lineAmount(l);
      const own = l.discount ? discountAmount(l.discount.discount, ext) : 0;
      out.set(l.id, { own, order: 0 });
      after.push(l.voucher ? 0 : ext - own); // stored value: no order discount on a gift card
    }
    const base = after.reduce((a, x) => a + x, 0);
    const order = s.orderDiscount ? discountAmount(s.orderDiscount.discount, base) : 0;
    allocate(order, after).forEach((share, i) => (out.get(s.lines[i].id)!.order = share));
    return out;
  }

  private lineFigures(s: SaleState, lineId: number): Record<string, unknown> | null {
    const l = s.lines.find((x) => x.id === lineId);
    if (!l) return null;
    const dto = this.saleDto(s).lines.find((x) => x.id === lineId)!;
    return { sku: l.product.sku, quantity: l.quantity, by_weight: l.product.byWeight, unit_price: dto.unitPrice.minor, amount: dto.amount.minor };
  }

  private auditLineVoid(before: SaleState, lineId: number): void {
    this.audit('line_void', null, {
      line: lineId,
      ...this.lineFigures(before, lineId),
      total_before: this.saleDto(before).total.minor,
      total_after: this.saleDto(this.sale).total.minor,
    });
  }

  /** Lets the action through for a user who may, or with the PIN of one who may; records failed approvals. */
  private authorize(permission: string, action: string, pin: string | null, what: Record<string, unknown>): (typeof USERS)[number] | null {
    const user = this.sessionUser!;
    if (permissionsOf(user.role).includes(permission)) return null;
    if (!pin) throw apiError('auth.approval_required', `${permission} needs a manager's approval`, { permission });
    const fail = (failure: string, approverId: string | null, e: ApiError): never => {
      this.audit('approval_failed', approverId, { for: action, permission, failure, what });
      throw e;
    };
    const now = this.opts.now();
    const locked = () => apiError('auth.locked', 'too many wrong PINs', { until: this.lockedUntil!.toISOString() });
    if (this.lockedUntil && now < this.lockedUntil) fail('locked', null, locked());
    const approver = USERS.find((u) => u.pin === pin && u.active !== false) ?? null;
    if (approver && permissionsOf(approver.role).includes(permission)) {
      this.failedPins = 0;
      return approver;
    }
    // A wrong PIN, or a right one of someone who may not approve: both count toward the lock.
    this.failedPins += 1;
    if (this.failedPins >= PIN_TRIES) {
      this.failedPins = 0;
      this.lockedUntil = new Date(now.getTime() + LOCK_MS);
      fail('locked', approver?.id ?? null, locked());
    }
    if (approver) fail('not_allowed', approver.id, apiError('auth.approver_not_allowed', 'that user may not approve this', { permission }));
    return fail('wrong_pin', null, apiError('auth.wrong_pin', 'wrong PIN', { attemptsLeft: PIN_TRIES - this.failedPins }));
  }

  /** A privileged change: checked on a copy, approved, recorded, then applied. */
  private privileged(
    permission: string,
    action: string,
    lineId: number | null,
    reason: { code: string; note: string | null },
    pin: string | null,
    change: (s: SaleState, approvedBy: string | null) => void,
  ): SaleDto {
    this.requireOpen();
    const probe = cloneSale(this.sale);
    change(probe, null);
    this.saleDto(probe); // refuses what pos-core's cart refuses
    const what = {
      line: lineId,
      before: lineId === null ? null : this.lineFigures(this.sale, lineId),
      after: lineId === null ? null : this.lineFigures(probe, lineId),
      total_before: this.saleDto(this.sale).total.minor,
      total_after: this.saleDto(probe).total.minor,
      reason: reason.code,
      note: reason.note,
    };
    const approver = this.authorize(permission, action, pin, what);
    const dto = this.mutate((s) => change(s, approver?.name ?? null));
    this.audit(action, approver?.id ?? null, what);
    return dto;
  }

  private fakeDiscount(d: DiscountDto | null): DiscountDto | null {
    if (!d || (d.kind === 'percent' ? d.bps : d.minor) === 0) return null;
    if (d.kind === 'percent' && d.bps > 10_000) throw apiError('cart.percent_out_of_range', 'a percentage discount must be between 0 and 100 %');
    if (d.kind === 'amount' && d.minor < 0) throw apiError('cart.negative_price', 'a price cannot be negative');
    if (d.kind === 'amount' && d.minor > MAX_MINOR) throw apiError('cart.overflow', 'amount out of range');
    return d;
  }

  setLineDiscount(lineId: number, discount: DiscountDto | null, reason: ReasonDto | null, approverPin: string | null): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      const line = this.sale.lines.find((l) => l.id === lineId);
      if (!line) throw apiError('cart.no_such_line', `no line ${lineId}`);
      this.svRefuseVoucher(lineId); // stored value
      const d = this.fakeDiscount(discount);
      if (!d) {
        if (!line.discount) return this.saleDto(this.sale);
        const before = this.lineFigures(this.sale, lineId);
        const dto = this.mutate((s) => (s.lines.find((l) => l.id === lineId)!.discount = null));
        this.audit('line_discount_removed', null, { line: lineId, before, after: this.lineFigures(this.sale, lineId) });
        return dto;
      }
      const r = parseReason(reason);
      return this.privileged('line_discount', 'line_discount', lineId, r, approverPin, (s, approvedBy) => {
        s.lines.find((l) => l.id === lineId)!.discount = { discount: d, reason: r.code, approvedBy };
        s.lastLineId = lineId;
      });
    });
  }

  setOrderDiscount(discount: DiscountDto | null, reason: ReasonDto | null, approverPin: string | null): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      if (this.sale.lines.length === 0) throw apiError('sale.empty', 'scan something first');
      const d = this.fakeDiscount(discount);
      if (!d) {
        if (!this.sale.orderDiscount) return this.saleDto(this.sale);
        const before = this.saleDto(this.sale).total.minor;
        const dto = this.mutate((s) => (s.orderDiscount = null));
        this.audit('order_discount_removed', null, { total_before: before, total_after: dto.total.minor });
        return dto;
      }
      const r = parseReason(reason);
      return this.privileged('order_discount', 'order_discount', null, r, approverPin, (s, approvedBy) => {
        s.orderDiscount = { discount: d, reason: r.code, approvedBy };
      });
    });
  }

  overridePrice(lineId: number, unitPrice: number, reason: ReasonDto | null, approverPin: string | null): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      const line = this.sale.lines.find((l) => l.id === lineId);
      if (!line) throw apiError('cart.no_such_line', `no line ${lineId}`);
      this.svRefuseVoucher(lineId); // stored value
      const r = parseReason(reason);
      if (!Number.isSafeInteger(unitPrice) || unitPrice > MAX_MINOR) throw apiError('cart.overflow', 'amount out of range');
      if (unitPrice < 0) throw apiError('cart.negative_price', 'a price cannot be negative');
      return this.privileged('price_override', 'price_override', lineId, r, approverPin, (s, approvedBy) => {
        const l = s.lines.find((x) => x.id === lineId)!;
        l.override = { price: unitPrice, original: l.override?.original ?? l.product.price, reason: r.code, approvedBy };
        l.embeddedAmount = null;
        s.lastLineId = lineId;
      });
    });
  }

  voidSale(reason: ReasonDto | null, approverPin: string | null): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      if (this.sale.lines.length === 0) throw apiError('sale.empty', 'scan something first');
      const r = parseReason(reason);
      const what = {
        lines: this.sale.lines.map((l) => this.lineFigures(this.sale, l.id)),
        line_count: this.sale.lines.length,
        total: this.saleDto(this.sale).total.minor,
        reason: r.code,
        note: r.note,
      };
      const approver = this.authorize('void_sale', 'sale_void', approverPin, what);
      this.audit('sale_void', approver?.id ?? null, what);
      // No receipt number is taken: numbers are only used by completed sales.
      this.sale = emptySale();
      return this.saleDto(this.sale);
    });
  }

  parkSale(): Promise<SaleDto> {
    return this.answer(() => this.parkNow());
  }

  private parkNow(): SaleDto {
    this.requireOpen();
    if (this.sale.lines.length === 0) throw apiError('sale.empty', 'scan something first');
    const total = this.saleDto(this.sale).total.minor;
    this.parkSeq += 1;
    this.parked.push({ id: `parked-${this.parkSeq}`, parkedAt: this.opts.now().toISOString(), cashier: this.sessionUser!.name, sale: cloneSale(this.sale) });
    this.audit('sale_parked', null, { line_count: this.sale.lines.length, total });
    this.sale = emptySale();
    return this.saleDto(this.sale);
  }

  parkedSales(): Promise<ParkedSaleDto[]> {
    return this.answer(() => {
      this.requireSession();
      return this.parked.map((p) => ({
        id: p.id,
        parkedAt: p.parkedAt,
        cashier: p.cashier,
        lineCount: p.sale.lines.length,
        total: this.saleDto(p.sale).total,
      }));
    });
  }

  resumeSale(parkedId: string): Promise<SaleDto> {
    return this.answer(() => {
      this.requireOpen();
      if (!this.parked.some((p) => p.id === parkedId)) throw apiError('park.not_found', 'that parked sale is not on this terminal');
      if (this.sale.lines.length > 0) this.parkNow();
      const i = this.parked.findIndex((p) => p.id === parkedId);
      const [p] = this.parked.splice(i, 1);
      this.sale = p.sale;
      this.sale.lastLineId = this.sale.lines.at(-1)?.id ?? null;
      this.audit('sale_resumed', null, { parked_id: parkedId, line_count: this.sale.lines.length });
      return this.saleDto(this.sale);
    });
  }

  reprintLastReceipt(): Promise<ReceiptPreviewDto> {
    return this.answer(() => {
      this.requireSession();
      if (!this.last) throw apiError('receipt.none', 'no sale has been completed on this terminal yet');
      const mark = this.opts.store === 'jp' ? '【再発行】' : '*** COPIA ***';
      const copy: ReceiptPreviewDto = { ...this.last, lines: [mark, ...this.last.lines] };
      this.printedCopies.push(copy.lines);
      this.audit('receipt_reprinted', null, { receipt: this.last.receiptNumber });
      return structuredClone(copy);
    });
  }

  // --- tenders: card with cancel, gift card, store credit, account, e-mailed receipts (mirrors api/src/tenders.rs, email.rs) ---

  /** Gift cards of the demo data (pos_store::demo::DEMO_GIFT_CARDS): minor units of the store's currency. */
  private giftCards = new Map<string, { balance: number; active: boolean }>([
    ['6006490000000017', { balance: 5_000, active: true }],
    ['6006490000000024', { balance: 500, active: true }],
    ['6006490000000031', { balance: 0, active: true }],
    ['6006490000000048', { balance: 2_000, active: false }],
    ['6036280000000017', { balance: 2_500, active: true }],
  ]);
  private fakeCustomers: { id: string; name: string; email: string | null; phone: string | null; credit: number; limit: number | null; owed: number }[] | null = null;
  private cardWait: { cancel: () => void } | null = null;
  private completedSales = new Set<string>();
  private emailsBySale = new Map<string, EmailReceiptDto[]>();
  /** Receipts printed through `printReceipt` or at completion (sale ids), once each. */
  readonly printedSales: string[] = [];

  /** The demo customers (pos_store::demo::demo_customers). */
  private customers() {
    if (!this.fakeCustomers) {
      const jp = this.opts.store === 'jp';
      this.fakeCustomers = [
        { id: 'c-0001', name: jp ? '佐藤 花子' : 'Lucía Martín', email: 'cliente@example.com', phone: '600 000 000', credit: 1_500, limit: 20_000, owed: 0 },
        { id: 'c-0002', name: jp ? '鈴木 一郎' : 'Pablo Ruiz', email: null, phone: '600 000 001', credit: 0, limit: null, owed: 0 },
        { id: 'c-0003', name: jp ? '喫茶さくら' : 'Bar El Sol', email: null, phone: '600 000 002', credit: 0, limit: 50_000, owed: 0 },
      ];
    }
    return this.fakeCustomers;
  }

  private customerDto(c: ReturnType<FakeRegister['customers']>[number]): CustomerDto {
    return {
      id: c.id,
      name: c.name,
      email: c.email,
      phone: c.phone,
      storeCredit: this.money(c.credit),
      hasAccount: c.limit !== null,
      accountLimit: c.limit === null ? null : this.money(c.limit),
      accountBalance: this.money(c.owed),
      accountAvailable: this.money(c.limit === null ? 0 : Math.max(0, c.limit - c.owed)),
    };
  }

  private tenderLabel(t: SaleState['tenders'][number], jp: boolean): string {
    const kinds: Record<TenderKindDto, [string, string]> = {
      cash: ['Efectivo', 'お預かり(現金)'],
      card: ['Tarjeta', 'クレジット'],
      gift_card: ['Tarjeta regalo', 'ギフトカード'],
      store_credit: ['Vale', 'ストアクレジット'],
      account: ['A cuenta', '売掛'],
    };
    const label = kinds[t.kind][jp ? 1 : 0];
    if (t.kind === 'gift_card' && t.reference) return `${label} ${t.reference}`;
    if ((t.kind === 'store_credit' || t.kind === 'account') && t.reference) return `${label} ${t.reference.split(' ').slice(1).join(' ')}`;
    return label;
  }

  /** Refuses a non-cash tender that is not allowed now; changes nothing. */
  private checkNonCash(amount: number): void {
    this.requireSession();
    if (this.sale.lines.length === 0) throw apiError('sale.empty', 'scan something first');
    if (!Number.isSafeInteger(amount) || amount > MAX_MINOR) throw apiError('cart.overflow', 'amount out of range');
    if (amount <= 0) throw apiError('pay.non_positive', 'a tender amount must be positive');
    if (amount > this.saleDto(this.sale).payment.remaining.minor) {
      throw apiError('pay.non_cash_overpaid', 'non-cash tenders exceed what is due; change is only given in cash');
    }
  }

  /** Adds a tender; completes the sale once it is paid (receipt number, stock, outbox). */
  private takeTender(tender: SaleState['tenders'][number]): PayResultDto {
    const next = cloneSale(this.sale);
    next.stage = 'paying';
    next.tenders.push(tender);
    const dto = this.saleDto(next);
    if (!dto.payment.complete) {
      this.sale = next;
      return { sale: dto, completed: null };
    }
    this.cashSessionForSale(); // cash: the first sale opens the register (zero float) unless a float is required
    this.receiptSeq += 1;
    const number = `${this.opts.terminalId}-${String(this.receiptSeq).padStart(6, '0')}`;
    const at = this.opts.now();
    const receipt = this.receipt(next, number, this.sessionUser!.name, at, dto.payment.change.minor);
    for (const l of next.lines) l.product.stock -= l.product.byWeight ? 0 : l.quantity;
    const saleId = `sale-${this.receiptSeq}`;
    const printed = this.opts.printMode !== 'ask';
    if (printed) this.printedSales.push(saleId);
    this.completedSales.add(saleId);
    const completed: CompletedSaleDto = {
      saleId,
      receiptNumber: number,
      total: dto.total,
      paid: dto.payment.paid,
      change: dto.payment.change,
      tenders: dto.payment.tenders,
      receipt,
      printed,
    };
    this.last = receipt;
    this.svAfterSale(next, number, at); // stored value: gift cards get their money, statement entries
    this.cashRecordSale(dto, number); // cash
    this.returnsRecordSale(saleId, number, at, next, dto); // returns
    this.sale = emptySale();
    const fresh = this.saleDto(this.sale);
    this.afterSale(next.tenders.some((t) => t.kind === 'cash'));
    return { sale: fresh, completed };
  }

  giftCardBalance(number: string): Promise<GiftCardDto> {
    return this.answer(() => {
      this.requireSession();
      const n = normalizeCardNumber(number);
      const c = this.giftCards.get(n);
      if (!c) throw apiError('gift_card.unknown', 'no gift card has this number', { card: maskNumber(n) });
      return { masked: maskNumber(n), balance: this.money(c.balance), active: c.active };
    });
  }

  findCustomers(query: string, limit: number): Promise<CustomerDto[]> {
    return this.answer(() => {
      this.requireSession();
      const q = fold(query.trim());
      if (!q) return [];
      return this.customers()
        .filter((c) => [c.name, c.email ?? '', c.phone ?? '', c.id].some((f) => fold(f).includes(q)))
        .slice(0, Math.max(1, Math.min(50, limit)))
        .map((c) => this.customerDto(c));
    });
  }

  payGiftCard(number: string, amount: number): Promise<PayResultDto> {
    return this.answer(() => {
      this.checkNonCash(amount);
      if (this.sale.lines.some((l) => l.voucher)) throw apiError('gift_card.buys_gift_card', 'a gift card cannot pay for another gift card'); // stored value
      const n = normalizeCardNumber(number);
      const c = this.giftCards.get(n);
      if (!c) throw apiError('gift_card.unknown', 'no gift card has this number', { card: maskNumber(n) });
      if (!c.active) throw apiError('gift_card.blocked', 'this gift card is blocked', { card: maskNumber(n) });
      if (amount > c.balance) throw apiError('gift_card.insufficient', 'not enough on the card', { balance: c.balance });
      const r = this.takeTender({ kind: 'gift_card', amount, reference: maskNumber(n) });
      c.balance -= amount;
      this.svGiftEntry(n, 'redeem', -amount, c.balance); // stored value: the balance check lists it
      return r;
    });
  }

  private payCustomer(kind: 'store_credit' | 'account', id: string, amount: number): PayResultDto {
    this.checkNonCash(amount);
    const c = this.customers().find((x) => x.id === id);
    if (!c) throw apiError('customer.unknown', 'no such customer');
    if (kind === 'store_credit' && amount > c.credit) {
      throw apiError('customer.credit_insufficient', 'not enough credit', { name: c.name, balance: c.credit });
    }
    if (kind === 'account') {
      if (c.limit === null) throw apiError('customer.no_account', 'no account', { name: c.name });
      if (c.owed + amount > c.limit) {
        throw apiError('customer.over_limit', 'over the limit', { name: c.name, available: Math.max(0, c.limit - c.owed) });
      }
    }
    const nextNumber = `${this.opts.terminalId}-${String(this.receiptSeq + 1).padStart(6, '0')}`;
    const r = this.takeTender({ kind, amount, reference: `${c.id} ${c.name}` });
    if (kind === 'store_credit') c.credit -= amount;
    else c.owed += amount;
    this.svEntry(c.id, kind, 'charge', kind === 'account' ? amount : -amount, r.completed?.receiptNumber ?? nextNumber); // stored value
    return r;
  }

  payStoreCredit(customerId: string, amount: number): Promise<PayResultDto> {
    return this.answer(() => this.payCustomer('store_credit', customerId, amount));
  }

  payOnAccount(customerId: string, amount: number): Promise<PayResultDto> {
    return this.answer(() => this.payCustomer('account', customerId, amount));
  }

  /**
   * The simulated payment terminal, like the ZVT simulator's amounts: ending in ,01 declines,
   * ,05 waits for a card for 10 s (cancellable), anything else is approved after 400 ms.
   */
  private payCard(amount: number): Promise<PayResultDto> {
    return this.answer(() => this.checkNonCash(amount)).then(
      () =>
        new Promise<PayResultDto>((resolve, reject) => {
          if (this.cardWait) {
            reject(apiError('pay.terminal_busy', 'the payment terminal is busy'));
            return;
          }
          // devices: an outcome set in the developer panel for this payment.
          const scripted = this.devicesTerminalOutcome();
          if (scripted) {
            reject(scripted);
            return;
          }
          const cents = amount % 100;
          // The terminal's state in the status bar, as the ZVT terminal reports it.
          this.setDevice('payment_terminal', 'busy', 'waiting_for_card');
          const finish = (f: () => void) => {
            clearTimeout(timer);
            this.cardWait = null;
            this.setDevice('payment_terminal', 'ready', cents === 1 ? 'declined' : null);
            f();
          };
          const timer = setTimeout(
            () =>
              finish(() => {
                if (cents === 1) {
                  reject(apiError('pay.card_declined', 'declined', { code: '5', text: 'Denegada' }));
                  return;
                }
                try {
                  resolve(this.takeTender({ kind: 'card', amount, reference: '123456 ************1234' }));
                } catch (e) {
                  reject(e);
                }
              }),
            cents === 5 ? 10_000 : 400,
          );
          this.cardWait = { cancel: () => finish(() => reject(apiError('pay.card_cancelled', 'the payment was cancelled'))) };
        }),
    );
  }

  cancelCardPayment(): Promise<boolean> {
    return this.answer(() => {
      this.requireSession();
      if (!this.cardWait) return false;
      this.cardWait.cancel();
      return true;
    });
  }

  emailReceipt(saleId: string, address: string): Promise<EmailReceiptDto> {
    return this.answer(() => {
      this.requireSession();
      const a = address.trim();
      if (!validEmail(a)) throw apiError('email.invalid_address', 'this is not an e-mail address', { address: a });
      if (!this.completedSales.has(saleId)) throw apiError('email.unknown_sale', 'no such sale');
      const list = this.emailsBySale.get(saleId) ?? [];
      let e = list.find((x) => x.recipient === a);
      if (!e) {
        e = { saleId, recipient: a, sent: false, attempts: 0, lastError: null, failed: false };
        list.push(e);
        this.emailsBySale.set(saleId, list);
        // The background sender: goes when online, waits (and retries) while offline.
        const mail = e;
        const timer = setInterval(() => {
          mail.attempts += 1;
          if (a.startsWith('nobody@')) {
            // Like a relay with no such user: refused for good (550), not retried.
            mail.failed = true;
            mail.lastError = '550 5.1.1 no such user';
            clearInterval(timer);
          } else if (this.statusState.sync.online) {
            mail.sent = true;
            mail.lastError = null;
            clearInterval(timer);
          } else mail.lastError = 'offline';
        }, 500);
      }
      return { ...e };
    });
  }

  emailReceipts(saleId: string): Promise<EmailReceiptDto[]> {
    return this.answer(() => {
      this.requireSession();
      return (this.emailsBySale.get(saleId) ?? []).map((e) => ({ ...e }));
    });
  }

  /** Test and demo hook: a gift card swiped on the (simulated) card reader. */
  swipeGiftCard(number: string): void {
    setTimeout(() => this.emit('card_swiped', normalizeCardNumber(number)), 0);
  }

  printReceipt(saleId: string): Promise<null> {
    return this.answer(() => {
      this.requireSession();
      if (!this.completedSales.has(saleId)) throw apiError('email.unknown_sale', 'no such sale');
      if (!this.printedSales.includes(saleId)) this.printedSales.push(saleId);
      return null;
    });
  }
  // ---- cash: register sessions, cash in/out, no sale, X and Z reports (mirrors api/src/cash.rs) ----

  /** The open register session; closed ones live on as their Z reports. */
  private cashSession: {
    id: string;
    openedAt: Date;
    openedBy: string;
    autoOpened: boolean;
    float: number;
    floatCounts: DenominationCountDto[];
    sales: { number: string; dto: SaleDto; cashier: string }[];
    movements: CashMovementDto[];
    /** Returns made in the session: what went back per tender and the tax they took back. */
    returns: { refunds: RefundDto[]; taxes: TaxRowDto[] }[];
  } | null = null;
  private cashRequireFloat = false;
  private cashTolerance: number | null = null;
  /** Blind counts of the open session so far. */
  private cashCountsMade = 0;
  readonly zReports: CashReportDto[] = [];
  /** Reports sent to the printer, for tests. */
  readonly printedReports: CashReportDto[] = [];

  private cashDenominations(): DenominationCountDto['value'][] {
    return this.currency === 'JPY'
      ? [10_000, 5_000, 2_000, 1_000, 500, 100, 50, 10, 5, 1]
      : [50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1];
  }

  private cashNotesFrom(): number {
    return this.currency === 'JPY' ? 1_000 : 500;
  }

  private cashGate(): void {
    if (this.cashRequireFloat && !this.cashSession) {
      throw apiError('cash.float_required', 'count the float and open the register before selling');
    }
  }

  private cashSessionForSale(): void {
    if (this.cashSession) return;
    this.cashGate();
    this.cashOpenNow(true, []); // no audit row: nobody chose anything (as the register)
  }

  private cashOpenNow(auto: boolean, counts: DenominationCountDto[]): void {
    this.cashSession = {
      id: `session-${this.zReports.length + 1}`,
      openedAt: this.opts.now(),
      openedBy: this.sessionUser!.name,
      autoOpened: auto,
      float: counts.reduce((a, c) => a + c.value * c.quantity, 0),
      floatCounts: counts,
      sales: [],
      movements: [],
      returns: [],
    };
    this.cashCountsMade = 0;
  }

  private cashRecordSale(dto: SaleDto, number: string): void {
    this.cashSession?.sales.push({ number, dto, cashier: this.sessionUser!.name });
  }

  private cashCounts(counts: DenominationCountDto[]): DenominationCountDto[] {
    const known = this.cashDenominations();
    const seen = new Set<number>();
    for (const c of counts) {
      if (!known.includes(c.value) || seen.has(c.value)) throw apiError('cash.bad_count', 'not a coin or note', { value: c.value });
      if (!Number.isSafeInteger(c.quantity) || c.quantity < 0 || c.quantity > 1_000_000) {
        throw apiError('cash.bad_count', 'quantity out of range', { value: c.value, max: 1_000_000 });
      }
      seen.add(c.value);
    }
    return counts.filter((c) => c.quantity > 0).sort((a, b) => b.value - a.value);
  }

  private cashRequire(permission: string): void {
    this.requireSession();
    if (!permissionsOf(this.sessionUser!.role).includes(permission)) {
      throw apiError('cash.forbidden', `${permission} is for managers and administrators`, { permission });
    }
  }

  private cashStatusDto(): CashStatusDto {
    const s = this.cashSession;
    const notesFrom = this.cashNotesFrom();
    return {
      currency: this.currency,
      denominations: this.cashDenominations().map((value) => ({ value, kind: value >= notesFrom ? 'note' : 'coin' })),
      session: s
        ? {
            id: s.id,
            openedAt: s.openedAt.toISOString(),
            openedBy: s.openedBy,
            autoOpened: s.autoOpened,
            float: this.money(s.float),
            floatCounts: s.floatCounts.map((c) => ({ ...c })),
          }
        : null,
      requireOpeningFloat: this.cashRequireFloat,
      recountTolerance: this.cashTolerance,
      lastZNumber: this.zReports.length,
      reasonsIn: ['change_top_up', 'float_correction', 'other'],
      reasonsOut: ['safe_drop', 'bank_deposit', 'petty_cash', 'supplier_payment', 'other'],
      reasonsNoSale: ['give_change', 'check_drawer', 'correct_change', 'other'],
    };
  }

  /** The X figures of the open session; with a count, the Z figures. */
  private cashReport(counted: number | null, zNumber: number | null): CashReportDto {
    const s = this.cashSession!;
    const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
    const tenders = new Map<TenderKindDto, { count: number; amount: number }>();
    const taxes = new Map<string, TaxRowDto>();
    let cashTaken = 0;
    let change = 0;
    for (const { dto } of s.sales) {
      change += dto.payment.change.minor;
      for (const kind of ['cash', 'card', 'gift_card', 'store_credit', 'account'] as TenderKindDto[]) {
        const paid = dto.payment.tenders.filter((t) => t.kind === kind);
        if (paid.length === 0) continue;
        let amount = sum(paid.map((t) => t.amount.minor));
        if (kind === 'cash') {
          cashTaken += amount;
          amount -= dto.payment.change.minor;
        }
        const row = tenders.get(kind) ?? { count: 0, amount: 0 };
        tenders.set(kind, { count: row.count + 1, amount: row.amount + amount });
      }
      for (const tx of dto.taxes) {
        const row = taxes.get(tx.code);
        if (!row) taxes.set(tx.code, structuredClone(tx));
        else {
          row.net.minor += tx.net.minor;
          row.tax.minor += tx.tax.minor;
          row.gross.minor += tx.gross.minor;
        }
      }
    }
    // Returns (as api/src/cash_report.rs): the net total and the tax to declare are net of
    // them, refunds are listed per tender, and cash refunds came out of the drawer.
    const refundRows = new Map<TenderKindDto, { count: number; amount: number }>();
    for (const r of s.returns) {
      for (const f of r.refunds) {
        const row = refundRows.get(f.kind) ?? { count: 0, amount: 0 };
        refundRows.set(f.kind, { count: row.count + 1, amount: row.amount + f.amount.minor });
      }
      for (const tx of r.taxes) {
        const row = taxes.get(tx.code);
        if (!row) continue;
        row.net.minor -= tx.net.minor;
        row.tax.minor -= tx.tax.minor;
        row.gross.minor -= tx.gross.minor;
      }
    }
    const refunded = sum(s.returns.map((r) => sum(r.refunds.map((f) => f.amount.minor))));
    const cashRefunded = refundRows.get('cash')?.amount ?? 0;
    const cashIn = sum(s.movements.filter((m) => m.kind === 'in').map((m) => m.amount.minor));
    const cashOut = sum(s.movements.filter((m) => m.kind === 'out').map((m) => m.amount.minor));
    const accountCash = sum(this.svAccountCash(s.id)); // stored value: account payments in cash
    const expected = s.float + cashTaken - change + cashIn - cashOut + accountCash - cashRefunded;
    const now = this.opts.now();
    const title = zNumber === null ? 'X' : `Z ${this.opts.terminalId}-Z${String(zNumber).padStart(4, '0')}`;
    const m = (minor: number) => formatMinor(minor, this.currency, this.opts.store === 'jp' ? 'ja' : 'es');
    const lines = [
      this.setup.store.name,
      title,
      `${s.sales.length} / ${m(sum(s.sales.map((x) => x.dto.total.minor)))}`,
      `${m(s.float)} + ${m(cashTaken)} - ${m(change)} + ${m(cashIn)} - ${m(cashOut)} = ${m(expected)}`,
      ...(counted === null ? [] : [`${m(counted)} (${m(counted - expected)})`]),
    ];
    return {
      zNumber,
      terminalId: this.opts.terminalId,
      openedAt: s.openedAt.toISOString(),
      until: now.toISOString(),
      openedBy: s.openedBy,
      closedBy: zNumber === null ? null : this.sessionUser!.name,
      autoOpened: s.autoOpened,
      firstReceipt: s.sales[0]?.number ?? null,
      lastReceipt: s.sales.at(-1)?.number ?? null,
      sales: s.sales.length,
      items: this.money(sum(s.sales.map((x) => x.dto.items.minor))),
      discounts: this.money(sum(s.sales.map((x) => x.dto.discounts.minor))),
      total: this.money(sum(s.sales.map((x) => x.dto.total.minor))),
      taxTotal: this.money(sum(s.sales.map((x) => x.dto.taxTotal.minor)) - sum(s.returns.map((r) => sum(r.taxes.map((t) => t.tax.minor))))),
      refunds: s.returns.length,
      refunded: this.money(refunded),
      netTotal: this.money(sum(s.sales.map((x) => x.dto.total.minor)) - refunded),
      tenderRefunds: [...refundRows].map(([kind, t]) => ({ kind, count: t.count, amount: this.money(t.amount) })),
      tenders: [...tenders].map(([kind, t]) => ({ kind, count: t.count, amount: this.money(t.amount) })),
      taxes: [...taxes.values()].sort((a, b) => b.tax.minor - a.tax.minor),
      cashiers: [...new Set(s.sales.map((x) => x.cashier))].sort().map((name) => {
        const mine = s.sales.filter((x) => x.cashier === name);
        return { name, sales: mine.length, total: this.money(sum(mine.map((x) => x.dto.total.minor))) };
      }),
      float: this.money(s.float),
      cashTaken: this.money(cashTaken),
      changeGiven: this.money(change),
      cashIn: this.money(cashIn),
      cashOut: this.money(cashOut),
      noSales: s.movements.filter((x) => x.kind === 'no_sale').length,
      movements: s.movements.map((x) => ({ ...x })),
      expected: this.money(expected),
      counted: counted === null ? null : this.money(counted),
      overShort: counted === null ? null : this.money(counted - expected),
      printed: { receiptNumber: title, lines, widthChars: 48 },
    };
  }

  private cashReason(r: ReasonDto | null, allowed: string[]): { code: string; note: string | null } {
    const code = r?.code.trim() ?? '';
    if (!code) throw apiError('checkout.reason_required', 'pick a reason');
    if (!allowed.includes(code)) throw apiError('checkout.reason_unknown', 'unknown reason');
    const note = r?.note?.trim().slice(0, 200) || null;
    if (code === 'other' && !note) throw apiError('checkout.reason_required', 'say why');
    return { code, note };
  }

  private cashMove(kind: 'in' | 'out' | 'no_sale', amount: number, reason: { code: string; note: string | null }, pin: string | null): CashStatusDto {
    if (!this.cashSession) throw apiError('cash.not_open', 'the register is not open');
    const permission = kind === 'no_sale' ? 'no_sale' : 'cash_in_out';
    const action = kind === 'no_sale' ? 'no_sale' : `cash_${kind}`;
    const approver = this.authorize(permission, action, pin, { amount, reason: reason.code });
    this.audit(action, approver?.id ?? null, { amount, reason: reason.code, note: reason.note });
    this.cashSession.movements.push({
      kind,
      amount: this.money(amount),
      reason: reason.code,
      note: reason.note,
      user: this.sessionUser!.name,
      at: this.opts.now().toISOString(),
    });
    this.setDevice('drawer', 'warning', 'drawer_open');
    return this.cashStatusDto();
  }

  cashStatus(): Promise<CashStatusDto> {
    return this.answer(() => {
      this.requireSession();
      return this.cashStatusDto();
    });
  }

  openRegister(counts: DenominationCountDto[]): Promise<CashStatusDto> {
    return this.answer(() => {
      this.cashRequire('open_register');
      const kept = this.cashCounts(counts);
      if (this.cashSession) throw apiError('cash.already_open', 'the register is already open');
      this.audit('register_opened', null, { auto: false, float: kept.reduce((a, c) => a + c.value * c.quantity, 0) });
      this.cashOpenNow(false, kept);
      return this.cashStatusDto();
    });
  }

  cashMovement(direction: CashDirectionDto, amount: number, reason: ReasonDto | null, approverPin: string | null): Promise<CashStatusDto> {
    return this.answer(() => {
      this.requireSession();
      if (!Number.isSafeInteger(amount) || amount <= 0) throw apiError('cash.non_positive_amount', 'the amount must be greater than zero');
      if (amount > MAX_MINOR) throw apiError('cash.overflow', 'amount out of range');
      const allowed = direction === 'in' ? this.cashStatusDto().reasonsIn : this.cashStatusDto().reasonsOut;
      return this.cashMove(direction, amount, this.cashReason(reason, allowed), approverPin);
    });
  }

  noSale(reason: ReasonDto | null, approverPin: string | null): Promise<CashStatusDto> {
    return this.answer(() => {
      this.requireSession();
      return this.cashMove('no_sale', 0, this.cashReason(reason, this.cashStatusDto().reasonsNoSale), approverPin);
    });
  }

  xReport(print: boolean): Promise<CashReportDto> {
    return this.answer(() => {
      this.cashRequire('end_of_day');
      if (!this.cashSession) throw apiError('cash.not_open', 'the register is not open');
      const r = this.cashReport(null, null);
      this.audit('x_report', null, { expected: r.expected.minor, printed: print });
      if (print) this.printedReports.push(r);
      return r;
    });
  }

  closeRegister(counts: DenominationCountDto[]): Promise<CashReportDto> {
    return this.answer(() => {
      this.cashRequire('end_of_day');
      const kept = this.cashCounts(counts);
      if (this.sale.lines.length > 0 || this.sale.tenders.length > 0) {
        throw apiError('cash.sale_in_progress', 'finish, park or void the sale in progress first');
      }
      if (!this.cashSession) throw apiError('cash.not_open', 'the register is not open');
      const counted = kept.reduce((a, c) => a + c.value * c.quantity, 0);
      this.cashCountsMade += 1;
      const expected = this.cashReport(null, null).expected.minor;
      if (this.cashTolerance !== null && this.cashCountsMade === 1 && Math.abs(counted - expected) > this.cashTolerance) {
        this.audit('recount_asked', null, { counted, expected, tolerance: this.cashTolerance });
        throw apiError('cash.recount', 'the count does not match: count the drawer again');
      }
      const z = this.cashReport(counted, this.zReports.length + 1);
      this.zReports.push(z);
      this.printedReports.push(z);
      this.cashSession = null;
      this.audit('register_closed', null, { z_number: z.zNumber, over_short: z.overShort?.minor });
      this.setStatus((s) => {
        s.sync.queued += 1; // the Z report waits in the outbox for the shop
      });
      return structuredClone(z);
    });
  }

  zReport(number: number, print: boolean): Promise<CashReportDto> {
    return this.answer(() => {
      this.cashRequire('end_of_day');
      const z = this.zReports[number - 1];
      if (!z) throw apiError('cash.no_such_report', `there is no Z report ${number}`, { number });
      if (print) this.printedReports.push(z);
      return structuredClone(z);
    });
  }

  setRecountTolerance(minor: number | null): Promise<CashStatusDto> {
    return this.answer(() => {
      this.cashRequire('manage_settings');
      if (minor !== null && (!Number.isSafeInteger(minor) || minor < 0 || minor > MAX_MINOR)) {
        throw apiError('cash.overflow', 'the tolerance must be between zero and the largest amount');
      }
      this.audit('setting_changed', null, { key: 'cash.recount_tolerance', value: minor });
      this.cashTolerance = minor;
      return this.cashStatusDto();
    });
  }

  setRequireOpeningFloat(on: boolean): Promise<CashStatusDto> {
    return this.answer(() => {
      this.cashRequire('manage_settings');
      this.audit('setting_changed', null, { key: 'cash.require_opening_float', value: on });
      this.cashRequireFloat = on;
      return this.cashStatusDto();
    });
  }

  // ---- devices: developer panel, scan-something-now, swipe-a-card, test payment (mirrors api/src/register/devices.rs) ----

  private scanCapture: ((code: string) => void) | null = null;
  private swipeCapture: ((result: SwipeTestDto) => void) | null = null;
  private terminalOutcomes: ApiError[] = [];
  private terminalReceipt = 0;
  /** The saved device configuration (for tests). */
  get savedDeviceConfig(): string {
    return this.deviceConfig;
  }

  /** Swipes and next-payment outcomes; false for the printer and drawer commands. */
  private devicesSimulate(command: string): boolean {
    const swipes: Record<string, SwipeTestDto> = {
      swipe_gift: { result: 'read', maskedNumber: '************0017', holder: 'GIFT/CARD' },
      swipe_loyalty: { result: 'read', maskedNumber: '************2345', holder: 'GARCIA/ANA' },
      swipe_bank: { result: 'bank_card_refused', maskedNumber: null, holder: null },
    };
    const outcomes: Record<string, ApiError | null> = {
      terminal_approve: null,
      terminal_decline: apiError('pay.card_declined', 'declined', { code: '5', text: 'Denegada' }),
      terminal_busy: apiError('pay.terminal_busy', 'the payment terminal is busy'),
      terminal_timeout: apiError('pay.terminal_timeout', 'the payment terminal did not answer in time; nothing was charged'),
      // The real register recovers the outcome: the payment goes through, charged once.
      terminal_lost_after_ack: null,
    };
    if (command in swipes) {
      const capture = this.swipeCapture;
      this.swipeCapture = null;
      capture?.(swipes[command]);
      return true;
    }
    if (command in outcomes) {
      const o = outcomes[command];
      if (o) this.terminalOutcomes.push(o);
      return true;
    }
    return false;
  }

  private devicesCaptureScan(code: string): boolean {
    const capture = this.scanCapture;
    this.scanCapture = null;
    capture?.(code);
    return capture !== null;
  }

  private devicesTerminalOutcome(): ApiError | undefined {
    return this.terminalOutcomes.shift();
  }

  private waitFor<T>(timeoutMs: number, install: (done: (v: T) => void) => void, uninstall: () => void, timeout: ApiError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        uninstall();
        reject(timeout);
      }, Math.max(100, timeoutMs));
      install((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  deviceScanTest(timeoutMs: number): Promise<ScanTestDto> {
    return this.answer(() => this.requireDeviceAccess()).then(() =>
      this.waitFor<string>(
        timeoutMs,
        (done) => (this.scanCapture = done),
        () => (this.scanCapture = null),
        apiError('device.no_scan', 'nothing was scanned in time'),
      ).then((code): ScanTestDto => {
        if (!isGtinShaped(code)) return { code, symbology: null, verdict: 'no_check_digit', expectedDigit: null, foundDigit: null };
        const c = checkGtin(code);
        return c.ok
          ? { code, symbology: null, verdict: 'valid', expectedDigit: null, foundDigit: null }
          : { code: null, symbology: null, verdict: 'wrong_check_digit', expectedDigit: c.expected, foundDigit: c.found };
      }),
    );
  }

  deviceSwipeTest(timeoutMs: number): Promise<SwipeTestDto> {
    return this.answer(() => this.requireDeviceAccess()).then(() =>
      this.waitFor<SwipeTestDto>(
        timeoutMs,
        (done) => (this.swipeCapture = done),
        () => (this.swipeCapture = null),
        apiError('device.no_swipe', 'no card was swiped in time'),
      ),
    );
  }

  deviceTestPayment(): Promise<TestPaymentDto> {
    return this.answer(() => {
      this.requireDeviceAccess();
      const scripted = this.devicesTerminalOutcome();
      if (scripted) throw scripted;
      this.terminalReceipt += 2;
      return {
        amount: this.money(10),
        receiptNo: this.terminalReceipt - 1,
        reversalReceiptNo: this.terminalReceipt,
        card: 'Mastercard ************1234',
      };
    });
  }

  // --- returns: returns, refunds and exchanges (mirrors api/src/returns.rs and pos_core::returns) ---

  /** Completed sales as the returns screen needs them (recorded by takeTender). */
  private returnsSales: {
    saleId: string;
    number: string;
    at: Date;
    cashier: string;
    total: number;
    lines: { product: FakeProduct; quantity: number; amount: number }[];
    tenders: { kind: TenderKindDto; paid: number; reference: string | null }[];
    returned: Map<number, number>;
    refunded: Map<number, number>;
    returns: string[];
    /** Where it was sold (another register's sale or a web order fetched from the shop). */
    soldAt?: 'terminal' | 'online';
    soldBy?: string;
  }[] = [];
  private returnsSeq = 0;
  /** The returns made, for tests: number, total and where the money went. */
  readonly returnsMade: ReturnDoneDto[] = [];

  private returnsRecordSale(saleId: string, number: string, at: Date, s: SaleState, dto: SaleDto): void {
    const total = dto.total.minor;
    const nonCash = s.tenders.filter((t) => t.kind !== 'cash').reduce((a, t) => a + t.amount, 0);
    let cashLeft = total - nonCash;
    this.returnsSales.push({
      saleId,
      number,
      at,
      cashier: this.sessionUser!.name,
      total,
      lines: s.lines.map((l, i) => ({ product: l.product, quantity: l.quantity, amount: dto.lines[i].amount.minor })),
      tenders: s.tenders.map((t) => {
        const paid = t.kind === 'cash' ? cashLeft : t.amount;
        if (t.kind === 'cash') cashLeft = 0;
        return { kind: t.kind, paid, reference: t.reference ?? null };
      }),
      returned: new Map(),
      refunded: new Map(),
      returns: [],
    });
  }

  private returnsSaleDto(s: FakeRegister['returnsSales'][number]): ReturnSaleDto {
    return {
      saleId: s.saleId,
      receiptNumber: s.number,
      at: s.at.toISOString(),
      cashier: s.cashier,
      customer: null,
      total: this.money(s.total),
      lines: s.lines.map((l, i) => ({
        lineNo: i + 1,
        sku: l.product.sku,
        names: l.product.names,
        sold: l.quantity,
        returnable: l.quantity - (s.returned.get(i + 1) ?? 0),
        byWeight: l.product.byWeight,
        unitPrice: this.money(l.product.price),
        amount: this.money(l.amount),
        reduced: l.product.tax.reduced,
      })),
      tenders: s.tenders.map((t, i) => ({
        position: i + 1,
        kind: t.kind,
        paid: this.money(t.paid),
        refundable: this.money(t.paid - (s.refunded.get(i + 1) ?? 0)),
        reference: t.reference,
      })),
      earlierReturns: [...s.returns],
      soldAt: s.soldAt ?? 'here',
      soldBy: s.soldBy ?? null,
      offlineCopy: false,
      paidOnline: s.tenders.some((t) => t.kind === 'card' && (t.reference ?? '').startsWith('online ')),
    };
  }

  /**
   * What the web shop knows of sales this register did not make (mirrors api/src/remote_returns.rs):
   * register T01's receipt T01-000042 (2 × milk, 1 T-shirt, paid by card) and the web order
   * WQ7Z2K9D (1 T-shirt, paid online). Found only while the shop is reachable.
   */
  private shopSale(code: string): FakeRegister['returnsSales'][number] | null {
    const milk = this.catalog[0];
    const shirt = this.catalog[1];
    const at = new Date(this.opts.now().getTime() - 86_400_000);
    if (code === 'T01-000042') {
      const total = 2 * milk.price + shirt.price;
      return {
        saleId: '0193a5c2-0000-7000-8000-000000000042', number: code, at, cashier: 'Luis', total,
        lines: [{ product: milk, quantity: 2, amount: 2 * milk.price }, { product: shirt, quantity: 1, amount: shirt.price }],
        tenders: [{ kind: 'card', paid: total, reference: 'Visa ************4242' }],
        returned: new Map(), refunded: new Map(), returns: [], soldAt: 'terminal', soldBy: 'T01',
      };
    }
    if (code.toUpperCase() === 'WQ7Z2K9D') {
      return {
        saleId: '6d1c3c6e-5a9b-5f1e-9c3e-0000000web01', number: 'WQ7Z2K9D', at, cashier: 'web', total: shirt.price,
        lines: [{ product: shirt, quantity: 1, amount: shirt.price }],
        tenders: [{ kind: 'card', paid: shirt.price, reference: 'online standard-payment' }],
        returned: new Map(), refunded: new Map(), returns: [], soldAt: 'online', soldBy: 'WQ7Z2K9D',
      };
    }
    return null;
  }

  private returnsSale(id: string) {
    const s = this.returnsSales.find((x) => x.saleId === id);
    if (!s) throw apiError('returns.unknown_sale', 'no such sale', { receipt: id });
    return s;
  }

  returnsFindReceipt(code: string): Promise<ReturnSaleDto> {
    return this.answer(() => {
      this.requireSession();
      const m = /^([A-Za-z0-9_-]+)-(\d{1,12})$/.exec(code.trim());
      const n = m ? Number(m[2]) : 0;
      const number = m && n > 0 ? `${m[1]}-${String(n).padStart(6, '0')}` : code.trim();
      const s = this.returnsSales.find((x) => !x.soldAt && x.number === number);
      if (s) return this.returnsSaleDto(s);
      if (this.returnsMade.some((r) => r.number === number)) throw apiError('returns.is_a_return', 'a return receipt', { receipt: number });
      // Not this register's: the web shop (another register's receipt, or a web order's code).
      const kept = this.returnsSales.find((x) => x.soldAt && x.number === number.toUpperCase());
      if (!this.statusState.sync.online) {
        if (kept) return { ...this.returnsSaleDto(kept), offlineCopy: true };
        if (m && n > 0) throw apiError('returns.shop_offline', 'the shop cannot be reached', { receipt: number });
      } else {
        if (kept) return this.returnsSaleDto(kept);
        const remote = this.shopSale(number);
        if (remote) {
          this.returnsSales.push(remote);
          return this.returnsSaleDto(remote);
        }
        if (m && n > 0) throw apiError('returns.unknown_anywhere', 'not on this register or in the shop', { receipt: number });
      }
      throw apiError('returns.bad_code', 'not a receipt code', { code: code.trim().slice(0, 40) });
    });
  }

  returnsSearch(q: ReturnSearchDto): Promise<SaleFoundDto[]> {
    return this.answer(() => {
      this.requireSession();
      if (q.date && !/^\d{4}-\d{2}-\d{2}$/.test(q.date.trim())) throw apiError('returns.bad_date', 'YYYY-MM-DD', { date: q.date });
      return this.returnsSales
        .filter((s) => !q.date?.trim() || s.at.toISOString().slice(0, 10) === q.date.trim())
        .filter((s) => q.total === null || s.total === q.total)
        .filter((s) => !q.receipt?.trim() || s.number.endsWith(q.receipt.trim()))
        .filter((s) => !q.cardLast4?.trim() || s.tenders.some((t) => t.kind === 'card' && (t.reference ?? '').endsWith(q.cardLast4!.trim())))
        .filter((s) => !q.customer?.trim() || s.tenders.some((t) => (t.reference ?? '').toLowerCase().includes(q.customer!.trim().toLowerCase())))
        .reverse()
        .map((s) => ({
          saleId: s.saleId,
          receiptNumber: s.number,
          at: s.at.toISOString(),
          total: this.money(s.total),
          itemCount: s.lines.reduce((a, l) => a + (l.product.byWeight ? 1 : l.quantity), 0),
          tenders: s.tenders.map((t) => t.kind),
          customer: null,
        }));
    });
  }

  returnsOpenSale(saleId: string): Promise<ReturnSaleDto> {
    return this.answer(() => {
      this.requireSession();
      return this.returnsSaleDto(this.returnsSale(saleId));
    });
  }

  /** Prices a request like pos_core::returns (cumulative, so pieces add up to the sale). */
  private returnsPlan(req: ReturnRequestDto, credit = 0) {
    const reasons = ['damaged', 'expired', 'defective', 'opened', 'other'];
    const perLine = (amount: number, n: number, k: number) => (k >= n ? amount : divRound(amount * k, n, 'half_up'));
    const lines: ReturnedLineDto[] = [];
    const rates = new Map<string, { rate: FakeProduct['tax']; before: number; after: number }>();
    const rate = (p: FakeProduct) => {
      const e = rates.get(p.tax.code) ?? { rate: p.tax, before: 0, after: 0 };
      rates.set(p.tax.code, e);
      return e;
    };
    const sale = req.saleId ? this.returnsSale(req.saleId) : null;
    const changes: { line: number; qty: number; product: FakeProduct; writeOff: string | null }[] = [];
    if (sale) {
      if (req.lines.length === 0) throw apiError('returns.nothing_selected', 'choose a line');
      const seen = new Set<number>();
      for (const r of req.lines) {
        const l = sale.lines[r.lineNo - 1];
        if (!l || seen.has(r.lineNo)) throw apiError('returns.no_such_line', 'no such line', { line: r.lineNo });
        seen.add(r.lineNo);
        if (r.writeOff && !reasons.includes(r.writeOff)) throw apiError('returns.write_off_reason', 'say why');
        if (!Number.isSafeInteger(r.quantity) || r.quantity <= 0) throw apiError('returns.non_positive', 'positive');
        const left = l.quantity - (sale.returned.get(r.lineNo) ?? 0);
        if (r.quantity > left) throw apiError('returns.more_than_returnable', 'too many', { line: r.lineNo, remaining: left });
      }
      sale.lines.forEach((l, i) => {
        const done = sale.returned.get(i + 1) ?? 0;
        const now = done + (req.lines.find((r) => r.lineNo === i + 1)?.quantity ?? 0);
        const e = rate(l.product);
        e.before += perLine(l.amount, l.quantity, done);
        e.after += perLine(l.amount, l.quantity, now);
        const r = req.lines.find((x) => x.lineNo === i + 1);
        if (r) {
          lines.push({
            lineNo: i + 1,
            sku: l.product.sku,
            names: l.product.names,
            quantity: r.quantity,
            byWeight: l.product.byWeight,
            amount: this.money(perLine(l.amount, l.quantity, now) - perLine(l.amount, l.quantity, done)),
            writeOff: r.writeOff,
          });
          changes.push({ line: i + 1, qty: r.quantity, product: l.product, writeOff: r.writeOff });
        }
      });
    } else {
      if (req.items.length === 0) throw apiError('returns.nothing_selected', 'choose an item');
      for (const it of req.items) {
        const p = this.byId.get(it.variantId);
        if (!p) throw apiError('scan.unknown_code', 'no such product', { code: it.variantId });
        const amount = p.byWeight ? divRound(p.price * it.quantity, 1000, 'half_up') : p.price * it.quantity;
        rate(p).after += amount;
        lines.push({ lineNo: null, sku: p.sku, names: p.names, quantity: it.quantity, byWeight: p.byWeight, amount: this.money(amount), writeOff: it.writeOff });
        changes.push({ line: 0, qty: it.quantity, product: p, writeOff: it.writeOff });
      }
    }
    const taxOf = (gross: number, bps: number) => divRound(gross * bps, 10_000 + bps, this.setup.taxRounding);
    const taxes: TaxRowDto[] = [...rates.values()]
      .filter((e) => e.after !== e.before)
      .sort((a, b) => b.rate.bps - a.rate.bps)
      .map((e) => {
        const gross = e.after - e.before;
        const tax = taxOf(e.after, e.rate.bps) - taxOf(e.before, e.rate.bps);
        return { code: e.rate.code, label: e.rate.label, reduced: e.rate.reduced, net: this.money(gross - tax), tax: this.money(tax), gross: this.money(gross) };
      });
    const total = taxes.reduce((a, t) => a + t.gross.minor, 0);
    let refunds: (RefundDto & { position: number | null })[];
    let needs: string | null = sale ? null : 'return_without_receipt';
    const to = req.refundTo;
    const rest = total - credit;
    if (rest === 0) {
      refunds = [];
    } else if (to.kind === 'original') {
      if (!sale) throw apiError('returns.needs_customer', 'refund to a customer');
      if (sale.tenders.some((t) => (t.reference ?? '').startsWith('online '))) throw apiError('returns.paid_online', 'paid online');
      refunds = [];
      let left = rest;
      const order = sale.tenders.map((t, i) => ({ ...t, position: i + 1 })).sort((a, b) => Number(a.kind === 'cash') - Number(b.kind === 'cash') || a.position - b.position);
      for (const t of order) {
        const take = Math.min(left, t.paid - (sale.refunded.get(t.position) ?? 0));
        if (take > 0) {
          refunds.push({ kind: t.kind, amount: this.money(take), reference: t.reference, originalReference: t.kind === 'card' ? '0001/000001' : null, position: t.position });
          left -= take;
        }
      }
    } else if (to.kind === 'store_credit') {
      const c = this.customers().find((x) => x.id === to.customerId);
      if (!c) throw apiError('customer.unknown', 'no such customer');
      refunds = [{ kind: 'store_credit', amount: this.money(rest), reference: `${c.id} ${c.name}`, originalReference: null, position: null }];
    } else {
      refunds = [{ kind: 'cash', amount: this.money(rest), reference: null, originalReference: null, position: null }];
      if (!sale || sale.tenders.some((t) => t.kind !== 'cash')) needs = needs ?? 'refund_to_cash';
    }
    if (credit > 0) refunds.unshift({ kind: 'store_credit', amount: this.money(credit), reference: 'exchange', originalReference: null, position: null });
    return { sale, lines, taxes, total, refunds, needs, changes };
  }

  returnsPreview(request: ReturnRequestDto): Promise<ReturnPreviewDto> {
    return this.answer(() => {
      this.requireSession();
      const p = this.returnsPlan(request);
      return {
        lines: p.lines,
        taxes: p.taxes,
        taxTotal: this.money(p.taxes.reduce((a, t) => a + t.tax.minor, 0)),
        total: this.money(p.total),
        refunds: p.refunds.map(({ position: _, ...r }) => r),
        needsApproval: p.needs !== null && !permissionsOf(this.sessionUser!.role).includes('refund'),
      };
    });
  }

  returnsCommit(request: ReturnRequestDto, approverPin: string | null): Promise<ReturnDoneDto> {
    return this.answer(() => this.returnsMake(request, approverPin, false));
  }

  /** An exchange: the return's value is a store-credit tender of the sale in progress. */
  returnsExchange(request: ReturnRequestDto, approverPin: string | null): Promise<ReturnDoneDto> {
    return this.answer(() => this.returnsMake(request, approverPin, true));
  }

  private returnsMake(request: ReturnRequestDto, approverPin: string | null, exchange: boolean): ReturnDoneDto {
    {
      this.requireSession();
      let credit = 0;
      if (exchange) {
        const due = this.sale.lines.length ? this.saleDto(this.sale).payment.remaining.minor : 0;
        if (due <= 0) throw apiError('returns.exchange_empty', 'ring up the new items first');
        credit = Math.min(this.returnsPlan(request).total, due);
      }
      const p = this.returnsPlan(request, credit);
      const approver = p.needs ? this.authorize('refund', p.needs, approverPin, { total: p.total }) : null;
      this.audit(p.sale ? 'return' : 'return_without_receipt', approver?.id ?? null, { total: p.total });
      if (p.refunds.some((r) => r.kind === 'cash')) this.cashSessionForSale();
      // Ledgers and stock, as the register's commit does.
      for (const r of p.refunds) {
        if (r.kind === 'gift_card') {
          const card = [...this.giftCards.entries()].find(([n]) => maskNumber(n) === r.reference);
          if (card) card[1].balance += r.amount.minor;
        } else if (r.reference === 'exchange') {
          // the credit goes to the sale in progress below
        } else if (r.kind === 'store_credit' || r.kind === 'account') {
          const c = this.customers().find((x) => x.id === r.reference?.split(' ')[0]);
          if (c && r.kind === 'store_credit') c.credit += r.amount.minor;
          if (c && r.kind === 'account') c.owed = Math.max(0, c.owed - r.amount.minor);
        }
        if (p.sale && r.position !== null) p.sale.refunded.set(r.position, (p.sale.refunded.get(r.position) ?? 0) + r.amount.minor);
      }
      for (const c of p.changes) {
        if (!c.writeOff && !c.product.byWeight) c.product.stock += c.qty;
        if (p.sale) p.sale.returned.set(c.line, (p.sale.returned.get(c.line) ?? 0) + c.qty);
      }
      this.returnsSeq += 1;
      const number = `${this.opts.terminalId}R-${String(this.returnsSeq).padStart(6, '0')}`;
      p.sale?.returns.push(number);
      const refunds = p.refunds.map(({ position: _, ...r }) => r);
      const cashOut = refunds.filter((r) => r.kind === 'cash').reduce((a, r) => a + r.amount.minor, 0);
      const done: ReturnDoneDto = {
        returnId: `return-${this.returnsSeq}`,
        number,
        original: p.sale?.number ?? null,
        total: this.money(p.total),
        refunds,
        receipt: this.returnsReceipt(number, p.sale?.number ?? null, p.lines, p.taxes, p.total, refunds),
        printed: true,
        exchange: credit > 0 ? this.takeTender({ kind: 'store_credit', amount: credit, reference: `exchange ${number}` }) : null,
      };
      this.returnsMade.push(done);
      this.cashSession?.returns.push({ refunds, taxes: p.taxes });
      if (!done.exchange?.completed) this.last = done.receipt;
      if (cashOut > 0) this.afterSale(true);
      return done;
    }
  }

  private returnsScans = false;

  returnsScreen(open: boolean): Promise<null> {
    return this.answer(() => {
      if (open) this.requireSession();
      this.returnsScans = open;
      return null;
    });
  }

  returnsResume(): Promise<ReturnDoneDto> {
    return this.answer(() => {
      throw apiError('returns.no_draft', 'there is no interrupted return');
    });
  }

  private returnsReceipt(number: string, original: string | null, lines: ReturnedLineDto[], taxes: TaxRowDto[], total: number, refunds: RefundDto[]): ReceiptPreviewDto {
    const W = 42;
    const jp = this.setup.store.country === 'JP';
    const lang = jp ? 'ja' : 'es';
    const m = (minor: number) => formatMinor(-minor, this.currency, jp ? 'en' : 'es');
    const row = (l: string, r: string) => l + ' '.repeat(Math.max(1, W - width(l) - width(r))) + r;
    const out = [this.setup.store.name, jp ? '返品レシート' : (original ? 'FACTURA RECTIFICATIVA (SIMPLIFICADA)' : 'FACTURA RECTIFICATIVA (SIMPLIFICADA) SIN TICKET')];
    out.push(row(jp ? '返品番号' : 'Nº rectificativa', number));
    if (original) out.push(row(jp ? '元レシート' : 'Rectifica a', original));
    out.push('-'.repeat(W));
    for (const l of lines) out.push(row(`${l.byWeight ? '' : `${l.quantity} x `}${l.names[lang] ?? l.sku}`, m(l.amount.minor)));
    out.push('-'.repeat(W));
    for (const t of taxes) out.push(row(jp ? `(${t.label}対象 ${m(t.gross.minor)}  内消費税)` : `Base ${t.label} ${m(t.net.minor)}  IVA`, m(t.tax.minor)));
    out.push(row(jp ? '返金合計' : 'TOTAL DEVUELTO', m(total)));
    const label: Record<TenderKindDto, [string, string]> = {
      cash: ['Devolución en efectivo', '現金返金'],
      card: ['Abono en tarjeta', 'クレジット返金'],
      gift_card: ['Abono en tarjeta regalo', 'ギフトカード返金'],
      store_credit: ['Vale de compra', 'ストアクレジット'],
      account: ['Abono en cuenta', '売掛返金'],
    };
    for (const r of refunds) out.push(row(label[r.kind][jp ? 1 : 0], m(r.amount.minor)));
    return { receiptNumber: number, lines: out, widthChars: W };
  }

  // --- stored value: gift cards sold, customers and their accounts (mirrors api/src/stored_value.rs) ---

  private svStatements = new Map<string, { ledger: 'store_credit' | 'account'; kind: 'charge' | 'payment' | 'credit'; amount: number; receipt: string | null; at: Date }[]>();
  private svPayments: { sessionId: string | null; tender: 'cash' | 'card'; amount: number }[] = [];
  private svPaymentSeq = 0;
  /** The demo cards were issued with their first balance, as pos-store's demo data writes them. */
  private svGiftEntries = new Map<string, { kind: string; amount: number; balanceAfter: number; at: Date }[]>(
    [...this.giftCards].map(([n, c]) => [n, [{ kind: 'issue', amount: c.balance, balanceAfter: c.balance, at: new Date() }]]),
  );
  readonly printedStatements: string[][] = [];

  private svRefuseVoucher(lineId: number): void {
    if (this.sale.lines.find((l) => l.id === lineId)?.voucher) throw apiError('cart.voucher_fixed', 'a gift card line cannot be discounted or changed');
  }

  private svEntry(customerId: string, ledger: 'store_credit' | 'account', kind: 'charge' | 'payment' | 'credit', amount: number, receipt: string | null): void {
    const list = this.svStatements.get(customerId) ?? [];
    list.push({ ledger, kind, amount, receipt, at: this.opts.now() });
    this.svStatements.set(customerId, list);
  }

  private svAccountCash(sessionId: string): number[] {
    return this.svPayments.filter((p) => p.sessionId === sessionId && p.tender === 'cash').map((p) => p.amount);
  }

  private svGiftEntry(number: string, kind: string, amount: number, balanceAfter: number): void {
    const list = this.svGiftEntries.get(number) ?? [];
    list.unshift({ kind, amount, balanceAfter, at: this.opts.now() });
    this.svGiftEntries.set(number, list);
  }

  /** The sale committed: its gift cards get their money; its customer is remembered. */
  private svAfterSale(s: SaleState, _number: string, _at: Date): void {
    for (const l of s.lines) {
      if (!l.voucher) continue;
      const amount = this.lineAmount(l);
      const card = this.giftCards.get(l.voucher.number);
      if (l.voucher.kind === 'issue' && !card) {
        this.giftCards.set(l.voucher.number, { balance: amount, active: true });
        this.svGiftEntry(l.voucher.number, 'issue', amount, amount);
      } else if (l.voucher.kind === 'top_up' && card) {
        card.balance += amount;
        this.svGiftEntry(l.voucher.number, 'top_up', amount, card.balance);
      }
    }
  }

  /** The receipt's gift-card note and, per generated card, its slip with the barcode and balance. */
  private svSlips(s: SaleState, number: string, jp: boolean, W: number): string[] {
    const out: string[] = [];
    if (!s.lines.some((l) => l.voucher)) return out;
    out.push(jp ? 'ギフトカードは不課税（利用時に課税）' : 'Tarjeta regalo: no sujeta a IVA hasta su uso');
    const m = (minor: number) => formatMinor(minor, this.currency, jp ? 'ja' : 'es');
    for (const l of s.lines) {
      if (!l.voucher?.printCode || l.voucher.kind !== 'issue') continue;
      out.push('--- cut ---');
      out.push(jp ? 'ギフトカード' : 'TARJETA REGALO');
      out.push(`${jp ? '番号' : 'Número'} ${l.voucher.number}`);
      out.push(`${jp ? 'レシート番号' : 'Nº factura'} ${number}`);
      out.push(`${jp ? '残高' : 'Saldo'} ${m(this.lineAmount(l))}`);
      out.push(`[CODE128: ${l.voucher.number}]`.padStart(Math.min(W, 30)));
    }
    return out;
  }

  private svMax(): number {
    return 100_000;
  }

  storedValueInfo(): Promise<StoredValueInfoDto> {
    return this.answer(() => {
      this.requireSession();
      const jp = this.currency === 'JPY';
      return { quickAmounts: jp ? [1_000, 3_000, 5_000, 10_000] : [1_000, 2_000, 2_500, 5_000, 10_000], maxAmount: this.money(this.svMax()) };
    });
  }

  private svSell(number: string | null, amount: number, topUp: boolean): SaleDto {
    this.requireOpen();
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > this.svMax()) throw apiError('gift_card.amount_range', 'the amount is out of range', { most: this.svMax() });
    let n = number ? normalizeCardNumber(number) : '';
    let printCode = false;
    if (!n) {
      if (topUp) throw apiError('gift_card.number_required', 'scan, swipe or type the card');
      const body = `96${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
      n = body + String(luhnDigit(body));
      printCode = true;
    }
    if (isBankCard(n)) throw apiError('gift_card.bank_card', 'a bank card was swiped: take it on the card terminal');
    const card = this.giftCards.get(n);
    if (!topUp && card) throw apiError('gift_card.already_issued', 'this gift card is already in use: top it up instead', { card: maskNumber(n) });
    if (topUp && !card) throw apiError('gift_card.unknown', 'no gift card has this number', { card: maskNumber(n) });
    if (topUp && card && !card.active) throw apiError('gift_card.blocked', 'this gift card is blocked', { card: maskNumber(n) });
    if (this.sale.lines.some((l) => l.voucher?.number === n)) throw apiError('gift_card.already_in_sale', 'this gift card is already in the sale', { card: maskNumber(n) });
    const masked = maskNumber(n);
    const names = topUp
      ? { en: `Gift card top-up ${masked}`, es: `Recarga tarjeta regalo ${masked}`, ja: `ギフトカード入金 ${masked}` }
      : { en: `Gift card ${masked}`, es: `Tarjeta regalo ${masked}`, ja: `ギフトカード ${masked}` };
    const product: FakeProduct = {
      variantId: 'gift-card',
      sku: 'GIFT-CARD',
      names,
      barcode: '',
      price: amount,
      tax: { code: 'NONE', bps: 0, label: '', reduced: false },
      byWeight: false,
      stock: 0,
    };
    return this.mutate((s) => {
      const id = s.nextLineId++;
      s.lines.push({ id, product, quantity: 1, embeddedAmount: amount, voucher: { kind: topUp ? 'top_up' : 'issue', number: n, printCode } });
      s.lastLineId = id;
    });
  }

  sellGiftCard(number: string | null, amount: number): Promise<SaleDto> {
    return this.answer(() => this.svSell(number, amount, false));
  }

  topUpGiftCard(number: string, amount: number): Promise<SaleDto> {
    return this.answer(() => this.svSell(number, amount, true));
  }

  checkGiftCard(number: string): Promise<GiftCardBalanceDto> {
    return this.answer(() => {
      this.requireSession();
      const n = normalizeCardNumber(number);
      const c = this.giftCards.get(n);
      if (!c) throw apiError('gift_card.unknown', 'no gift card has this number', { card: maskNumber(n) });
      const lang = this.opts.store === 'jp' ? 'ja' : 'es';
      return {
        masked: maskNumber(n),
        balance: this.money(c.balance),
        active: c.active,
        entries: (this.svGiftEntries.get(n) ?? []).slice(0, 10).map((e) => ({
          kind: e.kind,
          amount: this.money(e.amount),
          balanceAfter: this.money(e.balanceAfter),
          when: `${formatDate(e.at, lang)} ${formatTime(e.at, lang)}`,
        })),
      };
    });
  }

  private svCustomer(id: string) {
    const c = this.customers().find((x) => x.id === id);
    if (!c) throw apiError('customer.unknown', 'no such customer');
    return c;
  }

  customer(customerId: string): Promise<CustomerDto> {
    return this.answer(() => {
      this.requireSession();
      return this.customerDto(this.svCustomer(customerId));
    });
  }

  private svFields(name: string, email: string | null, phone: string | null) {
    const n = name.trim();
    if (!n || n.length > 120) throw apiError('customer.name_required', 'a customer needs a name (at most 120 characters)');
    const e = email?.trim() || null;
    if (e && !validEmail(e)) throw apiError('customer.bad_email', 'this e-mail address is not valid', { email: e });
    return { name: n, email: e, phone: phone?.trim() || null };
  }

  createCustomer(name: string, email: string | null, phone: string | null): Promise<CustomerDto> {
    return this.answer(() => {
      this.requireSession();
      const f = this.svFields(name, email, phone);
      const c = { id: `c-${Date.now().toString(36)}-${this.customers().length}`, ...f, credit: 0, limit: null, owed: 0 };
      this.customers().push(c);
      this.audit('customer_created', null, { customer: c.id });
      return this.customerDto(c);
    });
  }

  updateCustomer(customerId: string, name: string, email: string | null, phone: string | null): Promise<CustomerDto> {
    return this.answer(() => {
      this.requireSession();
      const c = this.svCustomer(customerId);
      Object.assign(c, this.svFields(name, email, phone));
      this.audit('customer_updated', null, { customer: c.id });
      return this.customerDto(c);
    });
  }

  setCustomerLimit(customerId: string, limit: number | null, approverPin: string | null): Promise<CustomerDto> {
    return this.answer(() => {
      this.requireSession();
      const c = this.svCustomer(customerId);
      if (limit !== null && (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_MINOR)) throw apiError('pay.non_positive', 'the limit is out of range');
      if ((limit ?? 0) < c.owed) throw apiError('customer.limit_below_balance', 'the limit cannot be lower than what the customer owes', { owed: c.owed });
      const what = { customer: c.id, limit_before: c.limit, limit_after: limit, owed: c.owed };
      const approver = this.authorize('customer_credit', 'customer_limit', approverPin, what);
      this.audit('customer_limit', approver?.id ?? null, what);
      c.limit = limit;
      return this.customerDto(c);
    });
  }

  customerStatement(customerId: string, storeCredit: boolean, print: boolean): Promise<StatementDto> {
    return this.answer(() => {
      this.requireSession();
      const c = this.svCustomer(customerId);
      const ledger = storeCredit ? 'store_credit' : 'account';
      const jp = this.opts.store === 'jp';
      const lang = jp ? 'ja' : 'es';
      const m = (minor: number) => formatMinor(minor, this.currency, jp ? 'ja' : 'es');
      const rows = (this.svStatements.get(c.id) ?? []).filter((e) => e.ledger === ledger);
      const closing = storeCredit ? c.credit : c.owed;
      const opening = closing - rows.reduce((a, e) => a + e.amount, 0);
      let running = opening;
      const entries = rows.map((e) => {
        running += e.amount;
        return { kind: e.kind, when: `${formatDate(e.at, lang)} ${formatTime(e.at, lang)}`, receipt: e.receipt, amount: this.money(e.amount), balance: this.money(running) };
      });
      const title = storeCredit ? (jp ? 'ストアクレジット明細' : 'EXTRACTO DE VALE') : jp ? '売掛金明細書' : 'EXTRACTO DE CUENTA';
      const lines = [
        this.setup.store.name,
        title,
        `${jp ? 'お客様' : 'Cliente'} ${c.name}`,
        ...entries.flatMap((e) => [`${e.when} ${e.receipt ?? ''}  ${m(e.amount.minor)}`, `  ${jp ? '残高' : 'Saldo'} ${m(e.balance.minor)}`]),
        `${storeCredit ? (jp ? 'ご利用可能残高' : 'SALDO DISPONIBLE') : jp ? 'ご請求残高' : 'SALDO PENDIENTE'} ${m(closing)}`,
      ];
      if (print) this.printedStatements.push(lines);
      return {
        customer: this.customerDto(c),
        ledger,
        opening: this.money(opening),
        closing: this.money(closing),
        entries,
        preview: { receiptNumber: `${c.id}-${ledger}`, lines, widthChars: 42 },
        printed: print,
      };
    });
  }

  payAccount(customerId: string, amount: number, tender: AccountTenderDto, tendered: number | null): Promise<AccountPaymentDto> {
    return this.answer(() => {
      this.requireSession();
      if (this.sale.stage === 'paying') throw apiError('sale.payment_in_progress', 'the sale is at the payment step');
      const c = this.svCustomer(customerId);
      if (c.limit === null) throw apiError('customer.no_account', 'no account', { name: c.name });
      if (!Number.isSafeInteger(amount) || amount <= 0) throw apiError('pay.non_positive', 'the amount must be positive');
      if (amount > c.owed) throw apiError('customer.pays_more_than_owed', 'the payment is more than the customer owes', { owed: c.owed });
      const handed = tender === 'cash' ? (tendered ?? amount) : amount;
      if (handed < amount) throw apiError('pay.insufficient', 'not enough cash', { remaining: amount - handed });
      if (tender === 'cash') this.cashSessionForSale();
      this.svPaymentSeq += 1;
      const document = `${this.opts.terminalId}-P-${String(this.svPaymentSeq).padStart(6, '0')}`;
      this.svPayments.push({ sessionId: this.cashSession?.id ?? null, tender, amount });
      c.owed -= amount;
      this.svEntry(c.id, 'account', 'payment', -amount, document);
      const jp = this.opts.store === 'jp';
      const m = (minor: number) => formatMinor(minor, this.currency, jp ? 'ja' : 'es');
      const lines = [
        this.setup.store.name,
        jp ? '売掛金入金票' : 'JUSTIFICANTE DE PAGO A CUENTA',
        document,
        `${jp ? 'お客様' : 'Cliente'} ${c.name}`,
        `${jp ? 'ご入金額' : 'Pago a cuenta'} ${m(amount)}`,
        `${jp ? 'ご請求残高' : 'Saldo pendiente'} ${m(c.owed)}`,
        `${tender === 'cash' ? (jp ? 'お預り' : 'Efectivo') : jp ? 'クレジット' : 'Tarjeta'} ${m(handed)}`,
        `[CODE128: ${document}]`,
      ];
      if (tender === 'cash') this.afterSale(true);
      return {
        document,
        customer: this.customerDto(c),
        tender,
        amount: this.money(amount),
        tendered: this.money(handed),
        change: this.money(handed - amount),
        receipt: { receiptNumber: document, lines, widthChars: 42 },
      };
    });
  }

  attachCustomer(customerId: string | null): Promise<SaleDto> {
    return this.answer(() => {
      this.requireSession();
      const c = customerId === null ? null : this.svCustomer(customerId);
      return this.mutate((s) => (s.customer = c ? { id: c.id, name: c.name } : null));
    });
  }

  // --- shop gift cards: offline policy, flagged redemptions (mirrors api/src/gift_card_shop.rs) ---

  /** The store's gift-card offline policy: null = refuse; else the most per card (minor units). */
  private gcOfflineLimit: number | null = null;
  private gcFlagged: FlaggedGiftCardDto[] = [];

  /** Test and demo hook (not part of Backend): a redemption taken offline that the shop refused. */
  flagGiftCardRedemption(number: string, amountMinor: number, shopBalanceMinor: number, reason = 'INSUFFICIENT_BALANCE'): void {
    const id = this.gcFlagged.length + 1;
    this.gcFlagged.unshift({
      id,
      card: maskNumber(normalizeCardNumber(number)),
      amount: this.money(amountMinor),
      tenderKey: `${crypto.randomUUID()}-1`,
      reason,
      shopBalance: this.money(shopBalanceMinor),
      takenAt: this.opts.now().toISOString(),
      reviewedAt: null,
      reviewedBy: null,
    });
  }

  private gcPolicyDto(): GiftCardOfflinePolicyDto {
    return {
      allowOffline: this.gcOfflineLimit !== null,
      limit: this.money(this.gcOfflineLimit ?? 0),
      shopKeepsCards: this.shop.running,
      canEdit: permissionsOf(this.sessionUser!.role).includes('manage_settings'),
    };
  }

  giftCardOfflinePolicy(): Promise<GiftCardOfflinePolicyDto> {
    return this.answer(() => {
      this.requireSession();
      return this.gcPolicyDto();
    });
  }

  setGiftCardOfflinePolicy(allowOffline: boolean, limit: number): Promise<GiftCardOfflinePolicyDto> {
    return this.answer(() => {
      this.requireSession();
      if (!permissionsOf(this.sessionUser!.role).includes('manage_settings')) {
        throw apiError('auth.forbidden', 'only a manager or administrator may change the gift-card offline policy');
      }
      if (allowOffline && !(limit > 0)) {
        throw apiError('gift_card.offline_limit_required', 'enter the most a card may pay while the shop cannot be reached');
      }
      this.gcOfflineLimit = allowOffline ? limit : null;
      return this.gcPolicyDto();
    });
  }

  flaggedGiftCards(includeReviewed: boolean): Promise<FlaggedGiftCardDto[]> {
    return this.answer(() => {
      this.requireDeviceAccess(); // EndOfDay: managers and admins
      return structuredClone(this.gcFlagged.filter((f) => includeReviewed || f.reviewedAt === null));
    });
  }

  reviewFlaggedGiftCard(id: number): Promise<FlaggedGiftCardDto[]> {
    return this.answer(() => {
      this.requireDeviceAccess();
      const f = this.gcFlagged.find((x) => x.id === id && x.reviewedAt === null);
      if (!f) throw apiError('gift_card.flag_not_found', 'that redemption is not open (already reviewed?)');
      f.reviewedAt = this.opts.now().toISOString();
      f.reviewedBy = this.sessionUser!.name;
      return structuredClone(this.gcFlagged.filter((x) => x.reviewedAt === null));
    });
  }

  // --- staff: users, roles and the permission matrix, clock in/out, hours, the audit trail (mirrors api/src/staff.rs) ---

  private shifts: { id: string; userId: string; terminalId: string; start: Date; end: Date | null; fixed: { start: Date; end: Date; reason: string } | null }[] = [];
  /** Audit rows edited behind the register's back (test hook), by seq. */
  private tamperedAudit = new Set<number>();

  private requirePermission(permission: string): (typeof USERS)[number] {
    this.requireSession();
    if (!permissionsOf(this.sessionUser!.role).includes(permission)) {
      throw apiError('auth.forbidden', `${permission} is needed`, { permission });
    }
    return this.sessionUser!;
  }

  private staffDto(): StaffDto {
    return {
      users: USERS.map((u) => ({
        id: u.id, name: u.name, role: u.role, roleName: ROLES.find((r) => r.code === u.role)?.name ?? u.role,
        active: u.active !== false, clockedIn: this.openShift(u.id) !== null,
      })),
      roles: ROLES.map((r) => ({ code: r.code, name: r.name, builtin: r.builtin, users: USERS.filter((u) => u.role === r.code).length, permissions: permissionsOf(r.code) })),
      permissions: [...ALL_PERMISSIONS],
      adminKeeps: ['manage_users', 'manage_settings'],
    };
  }

  private staffName(name: string): string {
    const n = name.trim();
    if (!n || [...n].length > 40) throw apiError('staff.name_required', 'a name is 1 to 40 characters');
    return n;
  }

  private staffPin(pin: string, again: string, except: string | null): void {
    if (!/^\d{4,8}$/.test(pin)) throw apiError('staff.pin_format', 'a PIN is 4 to 8 digits');
    if (pin !== again) throw apiError('staff.pin_mismatch', 'the two PINs are not the same');
    if (USERS.some((u) => u.active !== false && u.id !== except && u.pin === pin)) throw apiError('staff.pin_taken', 'another active user has this PIN');
  }

  private staffUser(id: string): (typeof USERS)[number] {
    const u = USERS.find((x) => x.id === id);
    if (!u) throw apiError('staff.no_such_user', 'no such user');
    return u;
  }

  private staffRole(code: string): (typeof ROLES)[number] {
    const r = ROLES.find((x) => x.code === code);
    if (!r) throw apiError('staff.no_such_role', 'no such role');
    return r;
  }

  /** Active users who could manage users after a change (nobody may lock the store out). */
  private userManagersAfter(user: { id: string; role: string | null } | null, role: { code: string; permissions: string[] } | null): number {
    return USERS.filter((u) => {
      const r = user && u.id === user.id ? user.role : u.active !== false ? u.role : null;
      if (r === null) return false;
      if (role && r === role.code) return role.permissions.includes('manage_users') || r === 'admin';
      return permissionsOf(r).includes('manage_users');
    }).length;
  }

  private staffAudit(action: string, detail: Record<string, unknown>, userId?: string): void {
    this.audit(action, null, detail);
    if (userId) this.auditLog[this.auditLog.length - 1].userId = userId;
  }

  /** Re-reads the logged-in user after a change (a deactivated one is logged out). */
  private refreshSessionUser(): void {
    if (this.sessionUser && this.sessionUser.active === false) this.sessionUser = null;
  }

  staffOverview(): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      return this.staffDto();
    });
  }

  createUser(name: string, role: string, pin: string, pinAgain: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const n = this.staffName(name);
      if (!/^\d{4,8}$/.test(pin)) throw apiError('staff.pin_format', 'a PIN is 4 to 8 digits');
      if (pin !== pinAgain) throw apiError('staff.pin_mismatch', 'the two PINs are not the same');
      this.staffRole(role);
      this.staffPin(pin, pinAgain, null);
      const id = `u-${crypto.randomUUID()}`;
      this.staffAudit('user_created', { subject: id, after: { name: n, role, active: true } });
      USERS.push({ id, name: n, pin, role, active: true });
      return this.staffDto();
    });
  }

  updateUser(userId: string, name: string, role: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const n = this.staffName(name);
      const u = this.staffUser(userId);
      this.staffRole(role);
      if (u.active !== false && this.userManagersAfter({ id: u.id, role }, null) === 0) {
        throw apiError('staff.last_user_manager', 'this would leave nobody who can manage users');
      }
      this.staffAudit('user_updated', { subject: u.id, before: { name: u.name, role: u.role }, after: { name: n, role } });
      u.name = n;
      u.role = role;
      return this.staffDto();
    });
  }

  resetUserPin(userId: string, pin: string, pinAgain: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const u = this.staffUser(userId);
      this.staffPin(pin, pinAgain, u.id);
      this.staffAudit('user_pin_reset', { subject: u.id });
      u.pin = pin;
      return this.staffDto();
    });
  }

  deactivateUser(userId: string): Promise<StaffDto> {
    return this.answer(() => {
      const me = this.requirePermission('manage_users');
      const u = this.staffUser(userId);
      if (u.id === me.id) throw apiError('staff.self_deactivate', 'you cannot deactivate yourself');
      if (this.userManagersAfter({ id: u.id, role: null }, null) === 0) throw apiError('staff.last_user_manager', 'this would leave nobody who can manage users');
      this.staffAudit('user_deactivated', { subject: u.id, before: { active: u.active !== false }, after: { active: false } });
      u.active = false;
      return this.staffDto();
    });
  }

  reactivateUser(userId: string, pin: string, pinAgain: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const u = this.staffUser(userId);
      this.staffPin(pin, pinAgain, u.id);
      this.staffAudit('user_reactivated', { subject: u.id, before: { active: u.active !== false }, after: { active: true } });
      u.pin = pin;
      u.active = true;
      return this.staffDto();
    });
  }

  createRole(name: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const n = this.staffName(name);
      if (ROLES.some((r) => r.name.toLowerCase() === n.toLowerCase())) throw apiError('staff.role_name_taken', 'a role has this name', { name: n });
      const slug = n.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
      const base = slug ? `custom_${slug}` : 'custom_role';
      let code = base;
      for (let i = 2; ROLES.some((r) => r.code === code); i++) code = `${base}_${i}`;
      this.staffAudit('role_created', { after: { name: n, permissions: [] } });
      ROLES.push({ code, name: n, builtin: false, permissions: [] });
      return this.staffDto();
    });
  }

  renameRole(code: string, name: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const n = this.staffName(name);
      const r = this.staffRole(code);
      if (r.builtin) throw apiError('staff.builtin_role', 'built-in roles keep their names');
      if (ROLES.some((x) => x.code !== code && x.name.toLowerCase() === n.toLowerCase())) throw apiError('staff.role_name_taken', 'a role has this name', { name: n });
      this.staffAudit('role_renamed', { role: code, before: { name: r.name }, after: { name: n } });
      r.name = n;
      return this.staffDto();
    });
  }

  deleteRole(code: string): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const r = this.staffRole(code);
      if (r.builtin) throw apiError('staff.builtin_role', 'built-in roles cannot be deleted');
      const users = USERS.filter((u) => u.role === code).length;
      if (users > 0) throw apiError('staff.role_in_use', 'users have this role', { users });
      this.staffAudit('role_deleted', { role: code, before: { name: r.name, permissions: r.permissions } });
      ROLES.splice(ROLES.indexOf(r), 1);
      return this.staffDto();
    });
  }

  setRolePermissions(code: string, permissions: string[]): Promise<StaffDto> {
    return this.answer(() => {
      this.requirePermission('manage_users');
      const unknown = permissions.find((p) => !ALL_PERMISSIONS.includes(p));
      if (unknown) throw apiError('staff.unknown_permission', 'unknown permission', { permission: unknown });
      if (code === 'admin' && !(permissions.includes('manage_users') && permissions.includes('manage_settings'))) {
        throw apiError('staff.admin_lockout', 'the administrator keeps manage_users and manage_settings');
      }
      const r = this.staffRole(code);
      const next = ALL_PERMISSIONS.filter((p) => permissions.includes(p));
      if (this.userManagersAfter(null, { code, permissions: next }) === 0) throw apiError('staff.last_user_manager', 'this would leave nobody who can manage users');
      this.staffAudit('role_permissions_changed', {
        role: code,
        before: { role: code, name: r.name, permissions: permissionsOf(code) },
        after: { role: code, name: r.name, permissions: next },
      });
      r.permissions = next;
      this.refreshSessionUser();
      return this.staffDto();
    });
  }

  private openShift(userId: string) {
    return this.shifts.find((s) => s.userId === userId && s.end === null && s.fixed === null) ?? null;
  }

  private shiftDto(s: (typeof this.shifts)[number]): ShiftDto {
    const local = (d: Date) => {
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    const start = s.fixed?.start ?? s.start;
    const end = s.fixed ? s.fixed.end : s.end;
    return {
      id: s.id, userId: s.userId, userName: USERS.find((u) => u.id === s.userId)?.name ?? s.userId, terminalId: s.terminalId,
      startedAt: local(start), endedAt: end ? local(end) : null,
      originalStartedAt: local(s.start), originalEndedAt: s.end ? local(s.end) : null,
      corrected: s.fixed !== null, minutes: end ? Math.floor((end.getTime() - start.getTime()) / 60_000) : 0,
    };
  }

  clockInOut(pin: string | null): Promise<ClockDto> {
    return this.answer(() => {
      let user: (typeof USERS)[number];
      if (pin) {
        const u = USERS.find((x) => x.pin === pin && x.active !== false);
        if (!u) {
          this.failedPins += 1;
          this.audit('login_failed', null, { failure: 'wrong_pin' });
          throw apiError('auth.wrong_pin', 'wrong PIN', { attemptsLeft: Math.max(PIN_TRIES - this.failedPins, 0) });
        }
        this.failedPins = 0;
        user = u;
      } else {
        this.requireSession();
        user = this.sessionUser!;
      }
      const now = this.opts.now();
      const open = this.openShift(user.id);
      if (open) {
        this.staffAudit('clock_out', { shift: open.id, user: user.id }, user.id);
        open.end = now;
        return { userName: user.name, clockedIn: false, shift: this.shiftDto(open) };
      }
      const s = { id: crypto.randomUUID(), userId: user.id, terminalId: this.opts.terminalId, start: now, end: null, fixed: null };
      this.staffAudit('clock_in', { shift: s.id, user: user.id }, user.id);
      this.shifts.push(s);
      return { userName: user.name, clockedIn: true, shift: this.shiftDto(s) };
    });
  }

  clockStatus(): Promise<ClockDto> {
    return this.answer(() => {
      this.requireSession();
      const open = this.openShift(this.sessionUser!.id);
      return { userName: this.sessionUser!.name, clockedIn: open !== null, shift: open ? this.shiftDto(open) : null };
    });
  }

  hoursReport(from: string, to: string, print: boolean): Promise<HoursReportDto> {
    return this.answer(() => {
      this.requirePermission('manage_shifts');
      const day = (s: string) => new Date(`${s}T00:00:00`);
      const a = day(from);
      const b = day(to);
      if (Number.isNaN(a.getTime()) || Number.isNaN(b.getTime())) throw apiError('staff.bad_time', 'not a date');
      if (b < a) throw apiError('staff.bad_range', 'the end date is before the start');
      const end = new Date(b.getTime() + 86_400_000);
      const key = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      const days = new Map<string, { userId: string; date: string; seconds: number; open: boolean }>();
      const shown = this.shifts.filter((s) => {
        const st = s.fixed?.start ?? s.start;
        const en = s.fixed ? s.fixed.end : s.end;
        return st < end && (en === null || en > a);
      });
      for (const s of shown) {
        const st = s.fixed?.start ?? s.start;
        const en = s.fixed ? s.fixed.end : s.end;
        if (en === null) {
          if (st >= a && st < end) {
            const k = `${s.userId}|${key(st)}`;
            days.set(k, { ...(days.get(k) ?? { userId: s.userId, date: key(st), seconds: 0 }), open: true });
          }
          continue;
        }
        let cursor = st;
        while (cursor < en) {
          const midnight = new Date(cursor.getFullYear(), cursor.getMonth(), cursor.getDate() + 1);
          const pieceEnd = midnight < en ? midnight : en;
          if (cursor >= a && cursor < end) {
            const k = `${s.userId}|${key(cursor)}`;
            const d = days.get(k) ?? { userId: s.userId, date: key(cursor), seconds: 0, open: false };
            d.seconds += Math.floor((pieceEnd.getTime() - cursor.getTime()) / 1000);
            days.set(k, d);
          }
          cursor = pieceEnd;
        }
      }
      const hm = (m: number) => `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
      const name = (id: string) => USERS.find((u) => u.id === id)?.name ?? id;
      const rows = [...days.values()]
        .sort((x, y) => (x.userId + x.date).localeCompare(y.userId + y.date))
        .map((d) => ({ userId: d.userId, userName: name(d.userId), date: d.date, minutes: Math.floor(d.seconds / 60), hours: hm(Math.floor(d.seconds / 60)), open: d.open }));
      const totals = [...new Set(rows.map((r) => r.userId))]
        .map((id) => {
          const mine = rows.filter((r) => r.userId === id);
          const minutes = mine.reduce((n, r) => n + r.minutes, 0);
          return { userId: id, userName: name(id), minutes, hours: hm(minutes), openShifts: mine.filter((r) => r.open).length };
        })
        .sort((x, y) => x.userName.localeCompare(y.userName));
      const report: HoursReportDto = { from, to, rows, totals, shifts: shown.map((s) => this.shiftDto(s)), printed: null };
      if (print) {
        const ja = this.setup.store.locale.startsWith('ja');
        const es = this.setup.store.locale.startsWith('es');
        const date = (s: string) => {
          const [y, m, d] = s.split('-');
          return ja ? `${y}年${Number(m)}月${Number(d)}日` : es ? `${d}/${m}/${y}` : s;
        };
        const w = 42;
        const line = (l: string, r: string) => `${l}${' '.repeat(Math.max(1, w - [...l].length - [...r].length))}${r}`;
        const lines = [
          this.setup.store.name,
          ja ? '勤務時間レポート' : es ? 'INFORME DE HORAS' : 'HOURS REPORT',
          '-'.repeat(w),
          line(ja ? '期間' : es ? 'Periodo' : 'Period', `${date(from)} - ${date(to)}`),
          '-'.repeat(w),
        ];
        for (const t of totals) {
          lines.push(line(t.userName, t.hours));
          for (const r of rows.filter((x) => x.userId === t.userId)) lines.push(line(`  ${date(r.date)}${r.open ? (ja ? ' (未退勤)' : es ? ' (abierto)' : ' (open)') : ''}`, r.hours));
        }
        lines.push('-'.repeat(w), line(ja ? '合計' : es ? 'Total' : 'Total', hm(totals.reduce((n, t) => n + t.minutes, 0))));
        report.printed = { receiptNumber: `${this.opts.terminalId}-H`, lines, widthChars: w };
      }
      return report;
    });
  }

  correctShift(shiftId: string, startedAt: string, endedAt: string, reason: string): Promise<ShiftDto> {
    return this.answer(() => {
      const me = this.requirePermission('manage_shifts');
      if (!reason.trim()) throw apiError('staff.reason_required', 'say why');
      const start = new Date(startedAt);
      const end = new Date(endedAt);
      if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start || end.getTime() > this.opts.now().getTime() + 60_000) {
        throw apiError('staff.bad_time', 'not a valid time');
      }
      const s = this.shifts.find((x) => x.id === shiftId);
      if (!s) throw apiError('staff.no_such_shift', 'no such shift');
      this.staffAudit('shift_corrected', { shift: s.id, subject: s.userId, reason: reason.trim(), by: me.id, before: this.shiftDto(s), after: { started_at: start.toISOString(), ended_at: end.toISOString() } });
      s.fixed = { start, end, reason: reason.trim() };
      return this.shiftDto(s);
    });
  }

  auditTrail(from: string | null, to: string | null, userId: string | null, action: string | null): Promise<AuditPageDto> {
    return this.answer(() => {
      this.requirePermission('view_audit');
      const a = from ? new Date(`${from}T00:00:00`).getTime() : -Infinity;
      const b = to ? new Date(`${to}T00:00:00`).getTime() + 86_400_000 : Infinity;
      const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
      const name = (id: string | null) => (id ? (USERS.find((u) => u.id === id)?.name ?? null) : null);
      const rows = this.auditLog
        .map((r, i) => ({ r, seq: i + 1 }))
        .filter(({ r }) => {
          const at = new Date(r.at ?? 0).getTime();
          return at >= a && at < b && (!userId || r.userId === userId || r.approverId === userId) && (!action || r.action === action);
        })
        .reverse()
        .map(({ r, seq }) => ({
          seq, at: r.at ?? new Date(0).toISOString(), terminalId: r.terminalId ?? this.opts.terminalId, action: r.action,
          userId: r.userId, userName: name(r.userId), approverId: r.approverId, approverName: name(r.approverId), saleRef: null,
          before: json(r.detail.before), after: json(r.detail.after), detail: JSON.stringify(r.detail),
        }));
      return {
        rows,
        actions: [...new Set(this.auditLog.map((r) => r.action))].sort(),
        users: USERS.map((u) => ({ id: u.id, name: u.name })),
      };
    });
  }

  verifyAudit(): Promise<AuditVerifyDto> {
    return this.answer(() => {
      this.requirePermission('view_audit');
      const broken = this.tamperedAudit.size ? Math.min(...this.tamperedAudit) : null;
      const out: AuditVerifyDto = { intact: broken === null, rows: broken ?? this.auditLog.length, firstBroken: broken, brokenAnchors: [] };
      this.audit('audit_verified', null, { intact: out.intact, rows: out.rows, first_broken: broken });
      return out;
    });
  }

  /** Test hook (not part of Backend): someone edits audit row `seq` in the file. */
  tamperAudit(seq: number, detail: Record<string, unknown>): void {
    const row = this.auditLog[seq - 1];
    if (!row) return;
    row.detail = detail;
    this.tamperedAudit.add(seq);
  }
}

// --- checkout: helpers of the fake (mirror pos-core) ---

type FakeAdjustment = { discount: DiscountDto; reason: string; approvedBy: string | null };

/** The reasons the approval dialog offers (pos_core::auth::ADJUSTMENT_REASONS). */
export const ADJUSTMENT_REASONS = ['damaged', 'price_match', 'customer_care', 'staff', 'promotion', 'other'] as const;

function parseReason(r: ReasonDto | null): { code: string; note: string | null } {
  const code = r?.code.trim() ?? '';
  if (!code) throw apiError('checkout.reason_required', 'pick a reason');
  if (!(ADJUSTMENT_REASONS as readonly string[]).includes(code)) throw apiError('checkout.reason_unknown', 'unknown reason');
  const note = r?.note?.trim().slice(0, 200) || null;
  if (code === 'other' && !note) throw apiError('checkout.reason_required', 'say why');
  return { code, note };
}

/** What a discount takes off `base` (percent rounded half up), refused when larger than `base`. */
function discountAmount(d: DiscountDto, base: number): number {
  const v = d.kind === 'percent' ? divRound(base * d.bps, 10_000, 'half_up') : d.minor;
  if (v > base) throw apiError('cart.discount_too_large', 'a discount cannot exceed what it applies to');
  return v;
}

/** Splits `amount` over `weights` in proportion by largest remainder (pos_core::cart::allocate). */
function allocate(amount: number, weights: number[]): number[] {
  const total = weights.reduce((a, w) => a + w, 0);
  if (amount === 0 || total <= 0) return weights.map(() => 0);
  const parts = weights.map((w) => Math.floor((amount * w) / total));
  const rems = weights.map((w, i) => [(amount * w) % total, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let left = amount - parts.reduce((a, x) => a + x, 0);
  for (const [, i] of rems) {
    if (left === 0) break;
    parts[i] += 1;
    left -= 1;
  }
  return parts;
}

/** A product sold by weight with a plain EAN (no weight in the code): the cashier types its weight. */
function weighedByTypedWeight(kind: StoreKind, setup: StoreSetup): FakeProduct {
  return {
    variantId: 'v-cherries',
    sku: 'FX-099',
    names: { en: 'Cherries (loose)', es: 'Cerezas a granel', ja: 'さくらんぼ(量り売り)' },
    barcode: ean13(kind === 'jp' ? '490000000999' : '840000000999'),
    price: kind === 'jp' ? 1280 : 599,
    tax: setup.rates.staple,
    byWeight: true,
    stock: 40,
  };
}

/** Case- and accent-insensitive form for search ("Café" matches "cafe"); kana and kanji kept. */
function fold(s: string): string {
  return s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** Display columns of a string on a receipt: CJK and full-width characters take two. */
export function width(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) || c === 0x203b
      ? 2
      : 1;
  }
  return w;
}

// --- tenders: helpers of the fake (mirror pos_store::gift_cards and api/src/email.rs) ---

/** Spaces and dashes dropped, upper case; a magnetic track (`;6006…=…?`, `%B…^…?`) gives its number. */
export function normalizeCardNumber(raw: string): string {
  const s = raw.trim();
  let body = s;
  if (s.startsWith(';')) body = s.slice(1).split(/[=?]/)[0];
  else if (/^%[Bb]/.test(s)) body = s.slice(2).split(/[\^?]/)[0];
  return body.replace(/[\s-]/g, '').toUpperCase();
}

/** "****0017": the last four characters only. */
export function maskNumber(n: string): string {
  return `****${n.slice(-4)}`;
}

/** An address a customer can receive mail at (api/src/email.rs `valid_address`). */
export function validEmail(a: string): boolean {
  const at = a.indexOf('@');
  if (at <= 0 || at !== a.lastIndexOf('@') || a.length > 254 || /[\s<>]/.test(a)) return false;
  const domain = a.slice(at + 1);
  return domain.includes('.') && !domain.startsWith('.') && !domain.endsWith('.') && !domain.includes('..');
}

/** The Luhn check digit of a string of digits (stored value: generated gift-card numbers). */
export function luhnDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** A bank card (pos-hardware's card::is_bank_card, main schemes): a scheme's IIN and a valid Luhn digit. */
export function isBankCard(n: string): boolean {
  if (!/^\d{12,19}$/.test(n)) return false;
  const p = (k: number) => Number(n.slice(0, k));
  const scheme =
    n[0] === '4' || (p(2) >= 51 && p(2) <= 55) || (p(4) >= 2221 && p(4) <= 2720) || p(2) === 34 || p(2) === 37 ||
    p(4) === 6011 || p(2) === 65 || (p(4) >= 3528 && p(4) <= 3589) || p(2) === 62;
  return scheme && luhnDigit(n.slice(0, -1)) === Number(n.slice(-1));
}
