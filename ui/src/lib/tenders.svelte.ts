/**
 * The payment screen's tenders besides cash (card with cancel, gift card, store credit,
 * account) and the completed screen's receipt choice (Print, E-mail, both). Screen state
 * only: the register decides (balances, limits, what is due); every refusal arrives as an
 * ApiError shown in the cashier's language.
 */
import type { CustomerDto, EmailReceiptDto, GiftCardDto, PayResultDto, TenderKindDto } from './bindings';
import type { Backend } from './backend/backend';
import { toApiError } from './errors';
import { register } from './register.svelte';

export type TenderEntry = 'gift_card' | 'store_credit' | 'account';

class Tenders {
  /** The gift-card or customer panel open on the payment screen. */
  entry = $state<TenderEntry | null>(null);
  /** A card payment waiting for the terminal (amount in minor units). */
  cardPending = $state<{ amount: number } | null>(null);
  cancelling = $state(false);
  /** Completed screen: the e-mail address field is open. */
  emailOpen = $state(false);
  emails = $state.raw<EmailReceiptDto[]>([]);
  /** The e-mail of the customer who paid with store credit or on account, offered first. */
  suggestedAddress = $state('');
  printed = $state(false);
  /** A swiped card number for the gift-card panel to look up when it opens. */
  pendingNumber: string | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;

  private get b(): Backend {
    if (!register.backend) throw new Error('backend not started');
    return register.backend;
  }

  open(kind: TenderEntry): void {
    this.entry = kind;
  }

  close(): void {
    this.entry = null;
    register.scanTarget = null;
  }

  /** Runs a tender command and shows its outcome like `register.pay` does. */
  private async take(call: () => Promise<PayResultDto>): Promise<boolean> {
    try {
      const r = await call();
      register.applySale(r.sale);
      register.message = null;
      if (r.completed) {
        this.close();
        register.completed = r.completed;
      }
      return true;
    } catch (e) {
      register.fail(e);
      return false;
    }
  }

  /** Card through the terminal; can be cancelled (Esc) while it waits. */
  async payCard(amount: number): Promise<void> {
    if (this.cardPending || amount <= 0) return;
    this.cardPending = { amount };
    try {
      await register.pay('card', amount);
    } finally {
      this.cardPending = null;
      this.cancelling = false;
    }
  }

  async cancelCard(): Promise<void> {
    if (!this.cardPending || this.cancelling) return;
    this.cancelling = true;
    try {
      await this.b.cancelCardPayment();
    } catch (e) {
      this.cancelling = false;
      register.fail(e);
    }
  }

  async giftCard(number: string): Promise<GiftCardDto | null> {
    try {
      return await this.b.giftCardBalance(number);
    } catch (e) {
      register.fail(e);
      return null;
    }
  }

  payGiftCard(number: string, amount: number): Promise<boolean> {
    return this.take(() => this.b.payGiftCard(number, amount));
  }

  async findCustomers(query: string): Promise<CustomerDto[]> {
    if (!query.trim()) return [];
    try {
      return await this.b.findCustomers(query, 8);
    } catch (e) {
      register.fail(e);
      return [];
    }
  }

  payCustomer(kind: 'store_credit' | 'account', customerId: string, amount: number): Promise<boolean> {
    return this.take(() =>
      kind === 'store_credit' ? this.b.payStoreCredit(customerId, amount) : this.b.payOnAccount(customerId, amount),
    );
  }

  /** A gift card swiped on the card reader during payment: into the panel (opened if needed). */
  swiped(number: string): void {
    if (this.cardPending) return;
    if (this.entry === 'gift_card' && register.scanTarget) register.scanTarget(number);
    else {
      this.pendingNumber = number;
      this.entry = 'gift_card';
    }
  }

  /** Tender keys F1–F4 and buttons: card pays what is due; the others open their panel. */
  async tender(kind: TenderKindDto): Promise<void> {
    if (this.cardPending) return;
    const due = register.sale?.payment.remaining.minor ?? 0;
    if (kind === 'card') await this.payCard(due);
    else if (kind !== 'cash') this.open(kind);
  }

  // ---- the completed screen: Print, E-mail or both ------------------------------------------

  /** A new completed sale: nothing chosen yet. */
  reset(printed: boolean, tenderRefs: { kind: TenderKindDto; reference: string | null }[] = []): void {
    this.emailOpen = false;
    this.emails = [];
    this.printed = printed;
    this.suggestedAddress = '';
    this.stopPolling();
    // Store credit and account references are "<customer id> <name>": offer their e-mail.
    const id = tenderRefs.find((t) => (t.kind === 'store_credit' || t.kind === 'account') && t.reference)?.reference?.split(' ')[0];
    if (id) {
      void this.findCustomers(id).then((cs) => {
        this.suggestedAddress = cs.find((c) => c.id === id)?.email ?? '';
      });
    }
  }

  async print(saleId: string): Promise<void> {
    try {
      await this.b.printReceipt(saleId);
      this.printed = true;
    } catch (e) {
      register.fail(e);
    }
  }

  async choose(choice: 'print' | 'email' | 'both', saleId: string): Promise<void> {
    if (choice !== 'email' && !this.printed) await this.print(saleId);
    if (choice !== 'print') this.emailOpen = true;
  }

  async email(saleId: string, address: string): Promise<boolean> {
    try {
      const st = await this.b.emailReceipt(saleId, address.trim());
      this.emails = [...this.emails.filter((e) => e.recipient !== st.recipient), st];
      this.emailOpen = false;
      register.message = null;
      this.startPolling(saleId);
      return true;
    } catch (e) {
      register.fail(e);
      return false;
    }
  }

  /** Queued → sent: asks the register until every e-mail of the sale is sent. */
  private startPolling(saleId: string): void {
    this.stopPolling();
    this.poll = setInterval(async () => {
      try {
        this.emails = await this.b.emailReceipts(saleId);
        if (this.emails.every((e) => e.sent || e.failed)) this.stopPolling();
      } catch (e) {
        if (toApiError(e).code !== 'app.unreachable') this.stopPolling();
      }
    }, 400);
  }

  stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }
}

export const tenders = new Tenders();
