/**
 * The screen state of the register and the actions the screens call. The sale shown is always
 * the last `SaleDto` the backend returned or pushed (the backend owns the sale; the UI never
 * computes totals). Every failure becomes a message in the cashier's language and a tone; a
 * refused action leaves the screen showing the unchanged sale.
 */
import type {
  ApiError,
  AppInfoDto,
  CompletedSaleDto,
  LineDto,
  ProductDto,
  ReceiptPreviewDto,
  SaleDto,
  SessionDto,
  StatusDto,
  TenderKindDto,
} from './bindings';
import type { Backend } from './backend/backend';
import { toApiError } from './errors';
import { ean13 } from './gtin';
import { defaultLocale, i18n, type MessageKey } from './i18n/index.svelte';
import { beep } from './sound';

export type Message =
  | { kind: 'error'; error: ApiError }
  | { kind: 'info' | 'ok'; key: MessageKey; params?: Record<string, string | number>; names?: Record<string, string> };

/** Tenders the register takes today. Until the register reports it (see the report to the
 * lead: an `AppInfoDto.tenders` field), only cash is offered; the others show greyed. */
export const SUPPORTED_TENDERS: TenderKindDto[] = ['cash'];
export const ALL_TENDERS: TenderKindDto[] = ['cash', 'card', 'gift_card', 'store_credit', 'account'];

export type QtyEntry = { lineId: number; byWeight: boolean; text: string; error: ApiError | null } | {
  /** Weight for a by-weight product picked from search (not yet a line). */
  productWeight: ProductDto;
  byWeight: true;
  text: string;
  error: ApiError | null;
};

export function lineName(names: Record<string, string>, sku = ''): string {
  return names[i18n.locale] ?? names.en ?? Object.values(names)[0] ?? sku;
}

class Register {
  backend = $state.raw<Backend | null>(null);
  info = $state.raw<AppInfoDto | null>(null);
  session = $state.raw<SessionDto | null>(null);
  sale = $state.raw<SaleDto | null>(null);
  status = $state.raw<StatusDto | null>(null);
  completed = $state.raw<CompletedSaleDto | null>(null);
  selectedLineId = $state<number | null>(null);
  message = $state.raw<Message | null>(null);
  qtyEntry = $state<QtyEntry | null>(null);
  receiptView = $state.raw<{ receipt: ReceiptPreviewDto | null } | null>(null);
  devPanel = $state(false);
  /** Settings → Devices is open (managers and admins). */
  devicesView = $state(false);
  /** The web shop overlay (sync details, pickups, conflicts, Settings → Web shop), if open. */
  shopView = $state<'panel' | 'settings' | 'pickups' | 'conflicts' | null>(null);
  loginBusy = $state(false);
  /** The PIN being entered on the login screen (digits only, never shown). */
  pin = $state('');
  fatal = $state.raw<ApiError | null>(null);
  /** tenders: while a gift-card number is being entered, scans fill it instead of the sale. */
  scanTarget: ((code: string) => void) | null = null;
  private unsubscribe: (() => void)[] = [];

  get currency(): string {
    return this.info?.store.currency ?? 'EUR';
  }

  get japan(): boolean {
    return this.info?.store.country === 'JP';
  }

  get selectedLine(): LineDto | null {
    const s = this.sale;
    if (!s) return null;
    return s.lines.find((l) => l.id === this.selectedLineId) ?? null;
  }

  get paying(): boolean {
    return this.sale?.stage === 'paying';
  }

  async start(backend: Backend): Promise<void> {
    this.backend = backend;
    try {
      this.info = await backend.appInfo();
      defaultLocale(this.info.store.locale);
      this.unsubscribe.push(
        backend.on('sale_changed', (s) => this.deviceSale(s)),
        // returns: a scan meant for the returns screen is not a refusal (returns.svelte.ts).
        backend.on('scan_rejected', (e) => e.code !== 'returns.scanned' && this.fail(e)),
        backend.on('status_changed', (s) => (this.status = s)),
      );
      this.status = await backend.status();
      const session = await backend.session();
      if (session) this.applySale(await backend.currentSale());
      this.session = session;
    } catch (e) {
      this.fatal = toApiError(e);
    }
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  private get b(): Backend {
    if (!this.backend) throw new Error('backend not started');
    return this.backend;
  }

  fail(e: unknown, tone: 'error' | 'none' = 'error'): void {
    const err = toApiError(e);
    this.message = { kind: 'error', error: err };
    // A refusal that a manager can lift sounds different from a plain error.
    if (tone === 'error') beep(err.code === 'auth.forbidden' ? 'approval' : 'error');
    // checkout: a product sold by weight scanned by its plain EAN (keyboard or scanner device).
    if (err.code === 'cart.needs_weight' && err.params.barcode) void this.askWeight(err.params.barcode);
  }

  say(kind: 'info' | 'ok', key: MessageKey, params?: Record<string, string | number>, names?: Record<string, string>): void {
    this.message = { kind, key, params, names };
  }

  private requested = 0;
  private applied = 0;

  /**
   * Runs a command that answers with the sale and shows that sale — unless the answer to a
   * later command is already on screen (answers can overtake each other over IPC).
   * (A `SaleDto.revision` from the register would make this exact; see the report.)
   */
  private async saleCall<T>(call: () => Promise<T>, pick: (r: T) => SaleDto = (r) => r as SaleDto): Promise<T> {
    const seq = ++this.requested;
    const r = await call();
    if (seq > this.applied) {
      this.applied = seq;
      this.applySale(pick(r));
    }
    return r;
  }

  applySale(s: SaleDto): void {
    this.sale = s;
    if (s.lastLineId !== null && s.lines.some((l) => l.id === s.lastLineId)) {
      this.selectedLineId = s.lastLineId;
    } else if (!s.lines.some((l) => l.id === this.selectedLineId)) {
      this.selectedLineId = s.lines.at(-1)?.id ?? null;
    }
  }

  /** A sale pushed by the register (a device scan): rendered like a scan from the keyboard. */
  private deviceSale(s: SaleDto): void {
    const before = this.sale;
    this.completed = null;
    this.applySale(s);
    const line = s.lines.find((l) => l.id === s.lastLineId);
    if (line && s !== before) {
      beep('added');
      this.say('ok', 'msg.added', {}, line.names);
    }
  }

  // ---- login ----------------------------------------------------------------------------

  /** Digits typed on a physical keyboard into the PIN. */
  typePin(text: string): void {
    this.pin = (this.pin + text.replace(/\D/g, '')).slice(0, 8);
  }

  /** Takes back digits that turned out to be the start of a scan. */
  untypePin(text: string): void {
    const digits = text.replace(/\D/g, '');
    if (digits && this.pin.endsWith(digits)) this.pin = this.pin.slice(0, -digits.length);
  }

  async login(pin: string): Promise<boolean> {
    if (this.loginBusy) return false;
    this.loginBusy = true;
    try {
      const session = await this.b.login(pin);
      // The sale first, then the screen: a scan right after login must not be overwritten by
      // the sale as it was before the scan.
      const sale = await this.b.currentSale();
      this.session = session;
      this.message = null;
      this.applySale(sale);
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    } finally {
      this.loginBusy = false;
    }
  }

  async logout(): Promise<void> {
    try {
      await this.b.logout();
    } catch (e) {
      this.fail(e);
      return;
    }
    this.session = null;
    this.completed = null;
    this.qtyEntry = null;
    this.receiptView = null;
    this.devicesView = false;
    this.message = null;
  }

  /** Managers and admins may open Settings → Devices; only admins may save it. */
  get canSeeDevices(): boolean {
    return this.session?.permissions.includes('end_of_day') ?? false;
  }

  get canSaveDevices(): boolean {
    return this.session?.permissions.includes('manage_settings') ?? false;
  }

  // ---- ringing up -----------------------------------------------------------------------

  /** A scan from the keyboard wedge or a barcode typed + Enter. */
  async scan(code: string): Promise<void> {
    if (!this.session) {
      this.say('info', 'login.scan_refused');
      beep('error');
      return;
    }
    if (this.scanTarget) {
      this.scanTarget(code);
      return;
    }
    if (this.completed) this.completed = null;
    try {
      const s = await this.saleCall(() => this.b.scan(code));
      this.qtyEntry = null;
      const line = s.lines.find((l) => l.id === s.lastLineId);
      beep('added');
      if (line) this.say('ok', 'msg.added', {}, line.names);
    } catch (e) {
      this.fail(e);
    }
  }

  /** checkout: a product sold by weight scanned by its plain EAN: the weight entry opens for it. */
  private async askWeight(code: string): Promise<void> {
    try {
      const hit = (await this.b.searchProducts(code.trim(), 5)).find((p) => p.byWeight && p.barcode === code.trim());
      if (hit && !this.paying) this.qtyEntry = { productWeight: hit, byWeight: true, text: '', error: null };
    } catch {
      /* the message about the weight is already on screen */
    }
  }

  async addProduct(p: ProductDto): Promise<boolean> {
    if (this.completed) this.completed = null;
    if (p.byWeight) {
      // The weight is typed: for a product keyed by a scale label it makes the label the scale
      // would print; for a plain EAN it is sent in grams (checkout).
      this.qtyEntry = { productWeight: p, byWeight: true, text: '', error: null };
      return false;
    }
    try {
      await this.saleCall(() => this.b.addProduct(p.variantId, null));
      beep('added');
      this.say('ok', 'msg.added', {}, p.names);
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  selectBy(delta: number): void {
    const lines = this.sale?.lines ?? [];
    if (!lines.length) return;
    const i = lines.findIndex((l) => l.id === this.selectedLineId);
    const next = i < 0 ? (delta > 0 ? 0 : lines.length - 1) : Math.min(lines.length - 1, Math.max(0, i + delta));
    this.selectedLineId = lines[next].id;
  }

  async changeQuantity(delta: number): Promise<void> {
    const l = this.selectedLine;
    if (!l) return;
    if (l.byWeight) {
      this.openQuantityEntry();
      return;
    }
    await this.setQuantity(l.id, l.quantity + delta);
  }

  async setQuantity(lineId: number, quantity: number): Promise<boolean> {
    try {
      await this.saleCall(() => this.b.setQuantity(lineId, quantity));
      this.message = null;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  openQuantityEntry(): void {
    const l = this.selectedLine;
    if (!l || this.paying) return;
    this.qtyEntry = { lineId: l.id, byWeight: l.byWeight, text: '', error: null };
  }

  /** Confirms the quantity entry; on a refusal the entry stays open with the message. */
  async confirmQuantity(): Promise<void> {
    const q = this.qtyEntry;
    if (!q) return;
    const text = q.text.trim();
    if (!/^\d{1,15}$/.test(text)) {
      q.error = { code: 'cart.quantity_out_of_range', message: '', params: { max: q.byWeight ? '100000' : '9999' } };
      if (q.byWeight) q.error.code = 'cart.weight_out_of_range';
      this.fail(q.error);
      return;
    }
    const n = Number(text);
    if ('productWeight' in q) {
      // No "add with weight" command yet: weigh it like the scale would, through a
      // weight-embedded label (prefix 25: grams) — the register decodes it the same way.
      if (n < 1 || n > 99_999) {
        q.error = { code: 'cart.weight_out_of_range', message: '', params: { max: '99999' } };
        this.fail(q.error);
        return;
      }
      const code = weightLabel(q.productWeight.barcode, n);
      if (!code) {
        // checkout: a plain EAN — the register takes the typed weight in grams.
        const p = q.productWeight;
        try {
          await this.saleCall(() => this.b.addProduct(p.variantId, n));
          this.qtyEntry = null;
          beep('added');
          this.say('ok', 'msg.added', {}, p.names);
        } catch (e) {
          this.fail(e);
          q.error = toApiError(e);
        }
        return;
      }
      const before = this.sale;
      await this.scan(code);
      if (this.sale !== before && this.message?.kind !== 'error') this.qtyEntry = null;
      else if (this.message?.kind === 'error') q.error = this.message.error;
      return;
    }
    if (await this.setQuantity(q.lineId, n)) this.qtyEntry = null;
    else if (this.message?.kind === 'error') q.error = this.message.error;
  }

  async removeSelected(): Promise<void> {
    const l = this.selectedLine;
    if (!l) return;
    try {
      await this.saleCall(() => this.b.removeLine(l.id));
      this.say('info', 'msg.removed', {}, l.names);
    } catch (e) {
      this.fail(e);
    }
  }

  // ---- payment --------------------------------------------------------------------------

  async startPayment(): Promise<void> {
    if (this.paying) return;
    this.qtyEntry = null;
    try {
      await this.saleCall(() => this.b.startPayment());
      this.message = null;
    } catch (e) {
      this.fail(e);
    }
  }

  async cancelPayment(): Promise<void> {
    try {
      await this.saleCall(() => this.b.cancelPayment());
      this.say('info', 'msg.payment_cancelled');
    } catch (e) {
      this.fail(e);
    }
  }

  /** Takes a tender; once covered, shows the completed sale. */
  async pay(kind: TenderKindDto, amount: number): Promise<void> {
    try {
      const r = await this.saleCall(() => this.b.pay(kind, amount), (x) => x.sale);
      this.message = null;
      if (r.completed) this.completed = r.completed;
    } catch (e) {
      this.fail(e);
    }
  }

  async payExactCash(): Promise<void> {
    const due = this.sale?.payment.remainingCash.minor ?? 0;
    if (due > 0) await this.pay('cash', due);
  }

  newSale(): void {
    this.completed = null;
    this.message = null;
  }

  async showLastReceipt(): Promise<void> {
    try {
      this.receiptView = { receipt: await this.b.lastReceipt() };
    } catch (e) {
      this.fail(e);
    }
  }

  async simulateScan(code: string): Promise<void> {
    try {
      await this.b.simulateScan(code);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Developer panel: paper out, cover open, drawer closed… on the simulated devices. */
  async simulateDevice(command: string): Promise<void> {
    try {
      await this.b.simulateDevice(command, null);
    } catch (e) {
      this.fail(e);
    }
  }
}

/** A scale's weight label for a by-weight product keyed `25 IIIII 00000 C`. */
export function weightLabel(barcode: string | null, grams: number): string | null {
  if (!barcode || !/^(02|2[5-9])\d{11}$/.test(barcode) || !Number.isInteger(grams) || grams < 0 || grams > 99_999) {
    return null;
  }
  return ean13(barcode.slice(0, 7) + String(grams).padStart(5, '0'));
}

export const register = new Register();
