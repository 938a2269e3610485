/**
 * The gift-card ledger shared by the store registers (Admin API, `PosTerminal`) and the web
 * storefront (Shop API balance + the `pos-gift-card` payment handler).
 *
 * Invariants:
 * - Every movement is idempotent by a caller's key: the first call writes one entry, a repeat
 *   (also a concurrent one) returns that entry with `duplicate: true` and changes nothing.
 * - A redeem never takes more than the balance: the balance is lowered by one conditional
 *   `UPDATE … SET balance = balance - x WHERE id = … AND balance >= x` (atomic on SQLite and
 *   PostgreSQL; a concurrent writer on PostgreSQL waits for the row lock and re-checks the
 *   condition), and the entry is inserted in the same transaction. So the balance is never
 *   negative and always equals the sum of the card's entries.
 * - Refusals (unknown card, inactive, insufficient balance, wrong currency) write nothing and
 *   are typed results, not errors; the same key may be retried later.
 * - A release gives back exactly the redeem under a key, at most once (its key is
 *   `release:<redeem key>`).
 */
import { Injectable } from '@nestjs/common';
import { RequestContext, TransactionalConnection, UserInputError } from '@vendure/core';
import { randomInt } from 'crypto';

import { GiftCardEntryKind, PosGiftCard, PosGiftCardEntry } from './gift-card-entities';
import { isUniqueViolation } from './stock';

export type GiftCardStatus =
    | 'OK'
    | 'UNKNOWN_CARD'
    | 'INACTIVE'
    | 'INSUFFICIENT_BALANCE'
    | 'CURRENCY_MISMATCH'
    | 'CODE_IN_USE'
    | 'NOT_REDEEMED';

export interface GiftCardView {
    code: string;
    currency: string;
    balanceMinor: number;
    active: boolean;
    createdAt: Date;
}

export interface GiftCardEntryView {
    id: string;
    code: string;
    kind: GiftCardEntryKind;
    idempotencyKey: string;
    amountMinor: number;
    balanceAfterMinor: number;
    channel: string;
    releases: string | null;
    createdAt: Date;
}

export interface GiftCardResult {
    status: GiftCardStatus;
    duplicate: boolean;
    card: GiftCardView | null;
    entry: GiftCardEntryView | null;
}

/** Upper case, without spaces and dashes (as the register normalizes a typed or scanned number). */
export function normalizeCode(raw: string): string {
    return String(raw ?? '')
        .replace(/[\s-]/g, '')
        .toUpperCase();
}

/** "****0017": what a storefront or a receipt may show. */
export function maskCode(code: string): string {
    return `****${code.slice(-4)}`;
}

function cardView(c: PosGiftCard): GiftCardView {
    return { code: c.code, currency: c.currency, balanceMinor: Number(c.balance), active: !!c.active, createdAt: c.createdAt };
}

function entryView(e: PosGiftCardEntry, code: string): GiftCardEntryView {
    return {
        id: String(e.id),
        code,
        kind: e.kind,
        idempotencyKey: e.idempotencyKey,
        amountMinor: Number(e.amount),
        balanceAfterMinor: Number(e.balanceAfter),
        channel: e.channel,
        releases: e.releases ?? null,
        createdAt: e.createdAt,
    };
}

function positiveAmount(v: number, field = 'amountMinor'): number {
    if (!Number.isSafeInteger(v) || v <= 0) throw new UserInputError(`${field} must be a positive integer (minor units)`);
    return v;
}

function checkKey(key: string): string {
    if (!key || key.length > 128) throw new UserInputError('idempotencyKey is required (at most 128 characters)');
    return key;
}

function checkCurrency(c: string): string {
    if (!/^[A-Z]{3}$/.test(c ?? '')) throw new UserInputError('currency must be an ISO 4217 code such as EUR');
    return c;
}

const refused = (status: GiftCardStatus, card: PosGiftCard | null = null): GiftCardResult => ({
    status,
    duplicate: false,
    card: card ? cardView(card) : null,
    entry: null,
});

@Injectable()
export class GiftCardLedger {
    constructor(private connection: TransactionalConnection) {}

    async card(ctx: RequestContext, code: string): Promise<GiftCardView | null> {
        const card = await this.cards(ctx).findOne({ where: { code: normalizeCode(code) } });
        return card ? cardView(card) : null;
    }

    /** The card's entries, oldest first. */
    async entries(ctx: RequestContext, code: string): Promise<GiftCardEntryView[]> {
        const card = await this.cards(ctx).findOne({ where: { code: normalizeCode(code) } });
        if (!card) return [];
        const rows = await this.connection.getRepository(ctx, PosGiftCardEntry).find({ where: { cardId: card.id }, order: { id: 'ASC' } });
        return rows.map(e => entryView(e, card.code));
    }

    /** A new card with `amountMinor` on it; `code` given (a physical card) or generated (16 digits). */
    async issue(
        ctx: RequestContext,
        input: { idempotencyKey: string; code?: string | null; currency: string; amountMinor: number },
        channel: string,
    ): Promise<GiftCardResult> {
        const key = checkKey(input.idempotencyKey);
        const amount = positiveAmount(input.amountMinor);
        const currency = checkCurrency(input.currency);
        const given = input.code != null && input.code !== '' ? normalizeCode(input.code) : null;
        if (given != null && !/^[0-9A-Z]{4,64}$/.test(given)) throw new UserInputError('code must be 4 to 64 letters or digits');
        const result = await this.once(ctx, key, async tctx => {
            let code = given;
            if (code == null) {
                for (let i = 0; i < 10 && code == null; i++) {
                    const candidate = Array.from({ length: 16 }, () => randomInt(10)).join('');
                    if (!(await this.cards(tctx).findOne({ where: { code: candidate } }))) code = candidate;
                }
                if (code == null) throw new Error('could not generate a free gift card number');
            } else if (await this.cards(tctx).findOne({ where: { code } })) {
                return refused('CODE_IN_USE');
            }
            const saved = await this.cards(tctx).save(this.cards(tctx).create({ code, currency, balance: amount, active: true }));
            return this.append(tctx, saved, 'ISSUE', key, amount, amount, channel, null);
        });
        return result;
    }

    async topUp(ctx: RequestContext, input: { idempotencyKey: string; code: string; amountMinor: number }, channel: string): Promise<GiftCardResult> {
        const key = checkKey(input.idempotencyKey);
        const amount = positiveAmount(input.amountMinor);
        return this.once(ctx, key, async tctx => {
            const card = await this.cards(tctx).findOne({ where: { code: normalizeCode(input.code) } });
            if (!card) return refused('UNKNOWN_CARD');
            if (!card.active) return refused('INACTIVE', card);
            return this.move(tctx, card, 'TOP_UP', key, amount, channel, null);
        });
    }

    /** Takes exactly `amountMinor` off the card, or refuses (never more than the balance). */
    async redeem(
        ctx: RequestContext,
        input: { idempotencyKey: string; code: string; amountMinor: number; currency?: string | null },
        channel: string,
    ): Promise<GiftCardResult> {
        const key = checkKey(input.idempotencyKey);
        const amount = positiveAmount(input.amountMinor);
        return this.once(ctx, key, tctx => this.redeemIn(tctx, key, normalizeCode(input.code), amount, input.currency ?? null, channel));
    }

    /**
     * Takes as much as the card has, at most `maxMinor` (a storefront paying part of an order
     * with the card). A concurrent redeem that lowers the balance in between is retried with the
     * new balance.
     */
    async redeemUpTo(
        ctx: RequestContext,
        input: { idempotencyKey: string; code: string; maxMinor: number; currency: string },
        channel: string,
    ): Promise<GiftCardResult> {
        const key = checkKey(input.idempotencyKey);
        const max = positiveAmount(input.maxMinor, 'amount');
        const code = normalizeCode(input.code);
        for (let attempt = 0; attempt < 5; attempt++) {
            const card = await this.cards(ctx).findOne({ where: { code } });
            const take = card ? Math.min(Number(card.balance), max) : max;
            if (card && take <= 0) {
                const first = await this.byKey(ctx, key);
                return first ?? refused(card.active ? 'INSUFFICIENT_BALANCE' : 'INACTIVE', card);
            }
            const r = await this.once(ctx, key, tctx => this.redeemIn(tctx, key, code, take, input.currency, channel));
            if (r.status !== 'INSUFFICIENT_BALANCE') return r;
        }
        return refused('INSUFFICIENT_BALANCE', await this.cards(ctx).findOne({ where: { code } }));
    }

    /** Gives back the redeem under `redeemKey` once; NOT_REDEEMED when there is none. */
    async release(ctx: RequestContext, redeemKey: string, channel: string): Promise<GiftCardResult> {
        checkKey(redeemKey);
        const key = `release:${redeemKey}`;
        return this.once(ctx, key, async tctx => {
            const redeem = await this.connection.getRepository(tctx, PosGiftCardEntry).findOne({ where: { idempotencyKey: redeemKey } });
            if (!redeem || redeem.kind !== 'REDEEM') return refused('NOT_REDEEMED');
            const card = await this.cards(tctx).findOneOrFail({ where: { id: redeem.cardId } });
            return this.move(tctx, card, 'RELEASE', key, -Number(redeem.amount), channel, redeemKey);
        });
    }

    private async redeemIn(
        tctx: RequestContext,
        key: string,
        code: string,
        amount: number,
        currency: string | null,
        channel: string,
    ): Promise<GiftCardResult> {
        const card = await this.cards(tctx).findOne({ where: { code } });
        if (!card) return refused('UNKNOWN_CARD');
        if (!card.active) return refused('INACTIVE', card);
        if (currency && currency !== card.currency) return refused('CURRENCY_MISMATCH', card);
        const res = await this.cards(tctx)
            .createQueryBuilder()
            .update(PosGiftCard)
            .set({ balance: () => `balance - ${amount}` })
            .where('id = :id AND balance >= :amount', { id: card.id, amount })
            .execute();
        if (!res.affected) {
            // A concurrent repeat of this key may have won while we waited for the row.
            const first = await this.byKey(tctx, key);
            if (first) return first;
            return refused('INSUFFICIENT_BALANCE', await this.cards(tctx).findOne({ where: { id: card.id } }));
        }
        const after = await this.cards(tctx).findOneOrFail({ where: { id: card.id } });
        return this.append(tctx, after, 'REDEEM', key, -amount, Number(after.balance), channel, null);
    }

    /** Adds `amount` (> 0) to the balance and appends the entry. */
    private async move(
        tctx: RequestContext,
        card: PosGiftCard,
        kind: GiftCardEntryKind,
        key: string,
        amount: number,
        channel: string,
        releases: string | null,
    ): Promise<GiftCardResult> {
        await this.cards(tctx)
            .createQueryBuilder()
            .update(PosGiftCard)
            .set({ balance: () => `balance + ${amount}` })
            .where('id = :id', { id: card.id })
            .execute();
        const after = await this.cards(tctx).findOneOrFail({ where: { id: card.id } });
        return this.append(tctx, after, kind, key, amount, Number(after.balance), channel, releases);
    }

    private async append(
        tctx: RequestContext,
        card: PosGiftCard,
        kind: GiftCardEntryKind,
        key: string,
        amount: number,
        balanceAfter: number,
        channel: string,
        releases: string | null,
    ): Promise<GiftCardResult> {
        const repo = this.connection.getRepository(tctx, PosGiftCardEntry);
        const saved = await repo.save(repo.create({ cardId: card.id, kind, idempotencyKey: key, amount, balanceAfter, channel: channel.slice(0, 128), releases }));
        const entry = await repo.findOneOrFail({ where: { id: saved.id } });
        return { status: 'OK', duplicate: false, card: cardView(card), entry: entryView(entry, card.code) };
    }

    /** Runs `work` once per key in a transaction; a repeat or a lost race returns the first entry. */
    private async once(ctx: RequestContext, key: string, work: (tctx: RequestContext) => Promise<GiftCardResult>): Promise<GiftCardResult> {
        const first = await this.byKey(ctx, key);
        if (first) return first;
        try {
            return await this.connection.withTransaction(ctx, async tctx => (await this.byKey(tctx, key)) ?? work(tctx));
        } catch (e) {
            if (isUniqueViolation(e)) {
                const winner = await this.byKey(ctx, key);
                if (winner) return winner;
                return refused('CODE_IN_USE');
            }
            throw e;
        }
    }

    private async byKey(ctx: RequestContext, key: string): Promise<GiftCardResult | null> {
        const entry = await this.connection.getRepository(ctx, PosGiftCardEntry).findOne({ where: { idempotencyKey: key } });
        if (!entry) return null;
        const card = await this.cards(ctx).findOneOrFail({ where: { id: entry.cardId } });
        return { status: 'OK', duplicate: true, card: cardView(card), entry: entryView(entry, card.code) };
    }

    private cards(ctx: RequestContext) {
        return this.connection.getRepository(ctx, PosGiftCard);
    }
}
