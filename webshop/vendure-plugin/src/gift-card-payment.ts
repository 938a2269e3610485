/**
 * The "gift card" payment method for storefronts: `addPaymentToOrder(input: { method: <the
 * PaymentMethod's code>, metadata: { code: "…", amount?: 1500, idempotencyKey?: "…" } })`
 * takes as much as the card has (at most what is still due, at most `amount`) from the ledger
 * the registers use, in the same transaction as the Vendure payment. A partial payment leaves
 * the order in ArrangingPayment for another method to pay the rest.
 *
 * Invariants: the debit is keyed `web:<idempotencyKey>` (default `web:<order code>:<number of
 * payments so far>`), so a retried call does not debit twice; an unusable card or an empty
 * balance declines the payment and debits nothing; a refund gives the refunded amount back
 * to the card once per refund.
 */
import { Injector, LanguageCode, PaymentMethodHandler } from '@vendure/core';

import { GiftCardLedger, maskCode, normalizeCode } from './gift-card';

let ledger: GiftCardLedger | undefined;

function theLedger(): GiftCardLedger {
    if (!ledger) throw new Error('the gift-card payment handler is not initialised (is PosPlugin installed?)');
    return ledger;
}

export const GIFT_CARD_HANDLER_CODE = 'pos-gift-card';

export const giftCardPaymentHandler = new PaymentMethodHandler({
    code: GIFT_CARD_HANDLER_CODE,
    description: [{ languageCode: LanguageCode.en, value: 'Gift card (the same cards as the store registers)' }],
    args: {},
    init(injector: Injector) {
        ledger = injector.get(GiftCardLedger);
    },
    createPayment: async (ctx, order, amount, _args, metadata) => {
        const code = normalizeCode(String(metadata?.code ?? ''));
        const wanted = metadata?.amount != null ? Math.min(Number(metadata.amount), amount) : amount;
        if (!code || !Number.isSafeInteger(wanted) || wanted <= 0) {
            return { amount, state: 'Declined' as const, errorMessage: 'a gift card number and a positive amount are required' };
        }
        const key = metadata?.idempotencyKey
            ? `web:${String(metadata.idempotencyKey).slice(0, 120)}`
            : `web:${order.code}:${order.payments?.length ?? 0}`;
        const r = await theLedger().redeemUpTo(ctx, { idempotencyKey: key, code, maxMinor: wanted, currency: order.currencyCode }, 'storefront');
        if (r.status !== 'OK' || !r.entry) {
            return {
                amount,
                state: 'Declined' as const,
                errorMessage: `gift card ${maskCode(code)}: ${r.status}`,
                metadata: { giftCardStatus: r.status },
            };
        }
        return {
            amount: -r.entry.amountMinor,
            state: 'Settled' as const,
            transactionId: r.entry.idempotencyKey,
            metadata: {
                giftCardCode: r.entry.code,
                public: { giftCard: maskCode(r.entry.code), balanceAfterMinor: r.entry.balanceAfterMinor },
            },
        };
    },
    settlePayment: () => ({ success: true }),
    createRefund: async (ctx, _input, amount, _order, payment) => {
        const code = String(payment.metadata?.giftCardCode ?? '');
        const key = `refund:${payment.id}:${Date.now()}`;
        const r = await theLedger().topUp(ctx, { idempotencyKey: key, code, amountMinor: amount }, 'storefront');
        return r.status === 'OK' ? { state: 'Settled' as const, transactionId: key } : { state: 'Failed' as const, metadata: { giftCardStatus: r.status } };
    },
});
