/**
 * Stored value at the register (issue 6): the gift-card screen (⇧F2: sell a new card, top one
 * up, check a balance) and the customer screen (⇧F3: search, create, edit, attach to the sale,
 * the account's credit limit, the statement, paying the account). The register decides
 * everything (amounts allowed, who may change a limit, what the statement says); when it answers
 * `auth.approval_required`, the screen asks for a manager's PIN and sends the same call again.
 * A scan or a swipe while a gift-card screen is open fills its card number, never the sale.
 */
import type {
  AccountPaymentDto,
  AccountTenderDto,
  ApiError,
  CustomerDto,
  GiftCardBalanceDto,
  StatementDto,
  StoredValueInfoDto,
} from './bindings';
import { toApiError } from './errors';
import { parseAmount } from './format';
import { register } from './register.svelte';
import { beep } from './sound';

export type GiftMode = 'sell' | 'top_up' | 'balance';
export type CustomerView =
  | { kind: 'search' }
  | { kind: 'new' }
  | { kind: 'detail'; customer: CustomerDto }
  | { kind: 'statement'; statement: StatementDto }
  | { kind: 'pay'; customer: CustomerDto }
  | { kind: 'paid'; payment: AccountPaymentDto };

class StoredValue {
  giftOpen = $state(false);
  giftMode = $state<GiftMode>('sell');
  /** The card number field of the gift-card screen (a scan or swipe fills it). */
  number = $state('');
  amountText = $state('');
  info = $state.raw<StoredValueInfoDto | null>(null);
  balance = $state.raw<GiftCardBalanceDto | null>(null);

  customersOpen = $state(false);
  view = $state.raw<CustomerView>({ kind: 'search' });
  query = $state('');
  found = $state.raw<CustomerDto[]>([]);

  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  done = $state<'added' | 'saved' | 'limit' | 'attached' | 'detached' | 'printed' | null>(null);
  /** A manager's PIN is asked for the call being sent (after `auth.approval_required`). */
  approval = $state<{ pin: string; retry: (pin: string) => Promise<void> } | null>(null);

  private get b() {
    return register.backend!;
  }

  get open(): boolean {
    return this.giftOpen || this.customersOpen;
  }

  private async run<T>(f: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    this.done = null;
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

  // ---- gift cards ---------------------------------------------------------------------------

  async showGiftCards(mode: GiftMode = 'sell'): Promise<void> {
    if (register.paying || register.completed) return;
    this.customersOpen = false;
    this.giftOpen = true;
    this.setMode(mode);
    register.scanTarget = (code) => this.cardRead(code);
    if (!this.info) this.info = (await this.run(() => this.b.storedValueInfo())) ?? null;
  }

  setMode(mode: GiftMode): void {
    this.giftMode = mode;
    this.number = '';
    this.amountText = '';
    this.balance = null;
    this.error = null;
    this.done = null;
  }

  /** A scan or a swipe while the gift-card screen is open: the card's number. */
  cardRead(code: string): void {
    this.number = code;
    this.error = null;
    beep('added');
    if (this.giftMode === 'balance') void this.checkBalance();
  }

  closeGiftCards(): void {
    this.giftOpen = false;
    register.scanTarget = null;
  }

  setQuick(minor: number): void {
    const digits = register.currency === 'JPY' ? 0 : 2;
    this.amountText = digits === 0 ? String(minor) : (minor / 100).toFixed(2).replace('.', ',');
  }

  /** Adds the card sold (or the top-up) to the sale; it is loaded when the sale completes. */
  async addToSale(): Promise<void> {
    const amount = parseAmount(this.amountText, register.currency);
    if (amount === null || amount <= 0) {
      this.error = { code: 'pay.non_positive', message: '', params: {} };
      beep('error');
      return;
    }
    const number = this.number.trim() || null;
    const s = await this.run(() =>
      this.giftMode === 'top_up' ? this.b.topUpGiftCard(number ?? '', amount) : this.b.sellGiftCard(number, amount),
    );
    if (s) {
      register.applySale(s);
      beep('added');
      const line = s.lines.find((l) => l.id === s.lastLineId);
      if (line) register.say('ok', 'msg.added', {}, line.names);
      this.closeGiftCards();
    }
  }

  async checkBalance(): Promise<void> {
    if (!this.number.trim()) return;
    this.balance = (await this.run(() => this.b.checkGiftCard(this.number))) ?? null;
  }

  // ---- customers ----------------------------------------------------------------------------

  showCustomers(): void {
    if (register.paying || register.completed) return;
    this.closeGiftCards();
    this.customersOpen = true;
    this.error = null;
    this.done = null;
    this.approval = null;
    const attached = register.sale?.customer;
    if (attached) void this.openCustomer(attached.id);
    else this.view = { kind: 'search' };
  }

  closeCustomers(): void {
    this.customersOpen = false;
    this.approval = null;
  }

  /** Esc: out of the PIN prompt, then one view back, then out of the screen. */
  back(): void {
    if (this.approval) {
      this.approval = null;
      return;
    }
    if (this.giftOpen) {
      this.closeGiftCards();
      return;
    }
    const v = this.view;
    this.error = null;
    if (v.kind === 'statement' || v.kind === 'pay') void this.openCustomer(v.kind === 'pay' ? v.customer.id : v.statement.customer.id);
    else if (v.kind === 'paid') void this.openCustomer(v.payment.customer.id);
    else if (v.kind === 'search') this.closeCustomers();
    else this.view = { kind: 'search' };
  }

  async search(): Promise<void> {
    const q = this.query.trim();
    if (!q) {
      this.found = [];
      return;
    }
    this.found = (await this.run(() => this.b.findCustomers(q, 20))) ?? [];
  }

  async openCustomer(id: string): Promise<void> {
    const c = await this.run(() => this.b.customer(id));
    if (c) this.view = { kind: 'detail', customer: c };
  }

  async create(name: string, email: string, phone: string): Promise<void> {
    const c = await this.run(() => this.b.createCustomer(name, email.trim() || null, phone.trim() || null));
    if (c) {
      this.view = { kind: 'detail', customer: c };
      this.done = 'saved';
    }
  }

  async save(id: string, name: string, email: string, phone: string): Promise<void> {
    const c = await this.run(() => this.b.updateCustomer(id, name, email.trim() || null, phone.trim() || null));
    if (c) {
      this.view = { kind: 'detail', customer: c };
      this.done = 'saved';
    }
  }

  /** Sets the credit limit (empty text closes the account); asks for a manager's PIN if needed. */
  async setLimit(id: string, text: string): Promise<void> {
    const limit = text.trim() === '' ? null : parseAmount(text, register.currency);
    if (text.trim() !== '' && limit === null) {
      this.error = { code: 'pay.non_positive', message: '', params: {} };
      return;
    }
    const attempt = async (pin: string | null) => {
      const c = await this.run(() => this.b.setCustomerLimit(id, limit, pin));
      if (c) {
        this.approval = null;
        this.view = { kind: 'detail', customer: c };
        this.done = 'limit';
      } else if (this.error?.code === 'auth.approval_required') {
        this.approval = { pin: '', retry: (p) => attempt(p) };
      } else if (this.approval) {
        this.approval.pin = '';
      }
    };
    await attempt(null);
  }

  async attach(id: string | null): Promise<void> {
    const s = await this.run(() => this.b.attachCustomer(id));
    if (s) {
      register.applySale(s);
      this.done = id ? 'attached' : 'detached';
      if (id) this.closeCustomers();
    }
  }

  async statement(id: string, print: boolean, storeCredit = false): Promise<void> {
    const s = await this.run(() => this.b.customerStatement(id, storeCredit, print));
    if (s) {
      this.view = { kind: 'statement', statement: s };
      if (print) this.done = 'printed';
    }
  }

  startPayment(customer: CustomerDto): void {
    this.error = null;
    this.done = null;
    this.view = { kind: 'pay', customer };
  }

  async pay(customer: CustomerDto, amountText: string, tender: AccountTenderDto, tenderedText: string): Promise<void> {
    const amount = parseAmount(amountText, register.currency);
    if (amount === null || amount <= 0) {
      this.error = { code: 'pay.non_positive', message: '', params: {} };
      beep('error');
      return;
    }
    const tendered = tender === 'cash' && tenderedText.trim() ? parseAmount(tenderedText, register.currency) : null;
    const p = await this.run(() => this.b.payAccount(customer.id, amount, tender, tendered));
    if (p) this.view = { kind: 'paid', payment: p };
  }
}

export const storedValue = new StoredValue();
