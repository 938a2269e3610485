/**
 * Returns across terminals: any register finds a sale (its own, another terminal's, or a web
 * order) to return it, and every terminal's returns are recorded here so the returnable quantity
 * of a line is known across all terminals.
 *
 * Invariants:
 * - At most one PosReturn per returnId, also under concurrency: the row's unique index decides,
 *   a repeat (sequential or concurrent) returns the first result with `duplicate: true`.
 * - A return is never refused for quantities (the money already went back at the register, maybe
 *   offline). When, for a line of the sale, the quantities of all recorded returns (this one
 *   included) exceed what was sold, a RETURN_EXCEEDS_SALE PosStockConflict is added for a manager.
 *   Returns of one sale are serialized (a transaction-scoped advisory lock on PostgreSQL; SQLite
 *   has a single writer), so two terminals returning the last unit at once cannot both miss it.
 * - A return touches neither stock (registers send posAdjustStock RETURN/WRITE_OFF) nor the change log.
 * - Documents are opaque JSON text, stored and returned verbatim.
 */
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CurrencyCode, Logger, Order, OrderLine, RequestContext, StockLocationService, TransactionalConnection, UserInputError } from '@vendure/core';
import { DEFAULT_CHANNEL_CODE } from '@vendure/common/lib/shared-constants';
import { In, Like } from 'typeorm';

import { PosStockConflict, PosTerminal } from './entities';
import { PosGiftCard, PosGiftCardEntry } from './gift-card-entities';
import { PosReturn, PosSaleDocument } from './returns-entities';
import { checkDocument } from './sale-document';
import { ConflictView, conflictView, isUniqueViolation, StockLedger } from './stock';
import { TerminalDirectory } from './terminals';

export interface PosReturnLineInput {
    saleLineNo: number;
    sku: string;
    quantity: number;
    soldQuantity: number;
}

export interface PosReturnInput {
    returnId: string;
    saleId?: string | null;
    orderCode?: string | null;
    terminalId: string;
    returnNumber: string;
    occurredAt: Date | string;
    currencyCode: CurrencyCode | string;
    totalMinor: number;
    lines: PosReturnLineInput[];
    document: string;
}

export interface PosReturnResult {
    returnId: string;
    duplicate: boolean;
    conflicts: ConflictView[];
}

export interface ReturnRecordView {
    returnId: string;
    terminalId: string;
    returnNumber: string;
    occurredAt: string;
    lines: PosReturnLineInput[];
    document: string;
}

export interface OnlineOrderView {
    code: string;
    state: string;
    orderPlacedAt: string | null;
    currencyCode: string;
    pricesIncludeTax: boolean;
    totalWithTaxMinor: number;
    customerEmail: string | null;
    customerName: string | null;
    lines: Array<{
        lineNo: number;
        sku: string;
        name: string;
        quantity: number;
        unitPriceWithTaxMinor: number;
        linePriceWithTaxMinor: number;
        /** Without tax (for a store whose prices exclude tax). */
        unitPriceMinor: number;
        linePriceMinor: number;
        taxRateBps: number;
    }>;
    payments: Array<{ method: string; amountMinor: number; state: string; transactionId: string | null; giftCardCode: string | null }>;
}

export interface SaleForReturnView {
    source: 'POS' | 'ONLINE';
    saleId: string | null;
    orderCode: string;
    terminalId: string | null;
    receiptNumber: string | null;
    document: string | null;
    order: OnlineOrderView | null;
    returns: ReturnRecordView[];
    /** POS: the shop's gift cards that paid the sale, by redeem key (`<saleId>-<tender position>`). */
    giftCardRedeems: Array<{ idempotencyKey: string; code: string }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Web-order states in which the order is paid, so its lines can be returned. */
export const PAID_STATES = new Set(['PaymentSettled', 'PartiallyShipped', 'Shipped', 'PartiallyDelivered', 'Delivered']);

export const RETURN_EXCEEDS_SALE = 'RETURN_EXCEEDS_SALE';

@Injectable()
export class ReturnLedger {
    constructor(
        private connection: TransactionalConnection,
        private stock: StockLedger,
    ) {}

    async record(ctx: RequestContext, raw: PosReturnInput): Promise<PosReturnResult> {
        const input = validate(raw);
        const first = await this.existing(ctx, input.returnId);
        if (first) return first;
        try {
            return await this.connection.withTransaction(ctx, tctx => this.insert(tctx, input));
        } catch (e) {
            if (isUniqueViolation(e)) {
                const winner = await this.existing(ctx, input.returnId);
                if (winner) return winner;
            }
            throw e;
        }
    }

    private async existing(ctx: RequestContext, returnId: string): Promise<PosReturnResult | null> {
        const row = await this.connection.getRepository(ctx, PosReturn).findOne({ where: { returnId }, select: { id: true, conflictIds: true } });
        if (!row) return null;
        const ids = JSON.parse(row.conflictIds || '[]') as number[];
        const conflicts = ids.length
            ? await this.connection.getRepository(ctx, PosStockConflict).find({ where: { id: In(ids) }, order: { id: 'ASC' } })
            : [];
        return { returnId, duplicate: true, conflicts: conflicts.map(conflictView) };
    }

    private async insert(ctx: RequestContext, input: ValidReturn): Promise<PosReturnResult> {
        const target = input.saleId ? { saleId: input.saleId } : { orderCode: input.orderCode };
        if (this.connection.rawConnection.options.type === 'postgres') {
            // Returns of the same sale wait for each other, so each sees the ones before it.
            await this.connection
                .getRepository(ctx, PosReturn)
                .query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pos_return:${input.saleId ?? `order:${input.orderCode}`}`]);
        }
        const again = await this.existing(ctx, input.returnId);
        if (again) return again;

        const repo = this.connection.getRepository(ctx, PosReturn);
        const earlier = await repo.find({ where: target as any, select: { id: true, lines: true } });
        const returnedBefore = new Map<number, number>();
        for (const r of earlier) {
            for (const l of JSON.parse(r.lines) as PosReturnLineInput[]) {
                returnedBefore.set(l.saleLineNo, (returnedBefore.get(l.saleLineNo) ?? 0) + l.quantity);
            }
        }
        const mine = new Map<number, { sku: string; quantity: number; soldQuantity: number }>();
        for (const l of input.lines) {
            const m = mine.get(l.saleLineNo);
            if (m) {
                m.quantity += l.quantity;
                m.soldQuantity = Math.max(m.soldQuantity, l.soldQuantity);
            } else {
                mine.set(l.saleLineNo, { sku: l.sku, quantity: l.quantity, soldQuantity: l.soldQuantity });
            }
        }
        const over = [...mine].filter(([no, m]) => (returnedBefore.get(no) ?? 0) + m.quantity > m.soldQuantity);
        const variants = over.length ? await this.stock.variantsBySku(ctx, over.map(([, m]) => m.sku)) : new Map();
        const at = new Date().toISOString();
        const conflicts = over.length
            ? await this.connection.getRepository(ctx, PosStockConflict).save(
                  over.map(([no, m]) =>
                      this.connection.getRepository(ctx, PosStockConflict).create({
                          saleId: input.saleId,
                          terminalId: input.terminalId,
                          sku: m.sku,
                          variantId: variants.has(m.sku) ? String(variants.get(m.sku)!.id) : null,
                          locationId: null,
                          reason: RETURN_EXCEEDS_SALE,
                          requested: m.quantity,
                          availableBefore: Math.max(0, m.soldQuantity - (returnedBefore.get(no) ?? 0)),
                          at,
                          resolvedAt: null,
                          resolution: null,
                      }),
                  ),
              )
            : [];
        await repo.insert({
            returnId: input.returnId,
            saleId: input.saleId,
            orderCode: input.orderCode,
            terminalId: input.terminalId,
            returnNumber: input.returnNumber,
            occurredAt: input.occurredAt,
            currencyCode: input.currencyCode,
            totalMinor: input.totalMinor,
            lines: JSON.stringify(input.lines),
            document: input.document,
            conflictIds: JSON.stringify(conflicts.map(c => c.id)),
        });
        return { returnId: input.returnId, duplicate: false, conflicts: conflicts.map(conflictView) };
    }
}

/** Finds a sale to return by receipt number, POS sale UUID or order code (see `find`). */
@Injectable()
export class SaleForReturnLookup implements OnApplicationBootstrap {
    constructor(
        private connection: TransactionalConnection,
        private terminals: TerminalDirectory,
        private stockLocations: StockLocationService,
    ) {}

    /**
     * A sale recorded without a document is found by the receipt number on its order, and every
     * miss (an unknown code) looks there last: an index keeps that from scanning all orders.
     * Created once; a database that refuses only logs it.
     */
    async onApplicationBootstrap() {
        try {
            await this.connection.rawConnection.query(
                'CREATE INDEX IF NOT EXISTS pos_order_receipt_number ON "order" ("customFieldsPosreceiptnumber")',
            );
        } catch (e) {
            Logger.warn(`could not create the index on order.customFieldsPosreceiptnumber: ${e}`, 'PosPlugin');
        }
    }

    /**
     * `code` is a POS sale UUID, a receipt number as printed, or a Vendure order code, tried in
     * that order; a POS order's code resolves to its POS sale. Null when nothing matches.
     */
    async find(ctx: RequestContext, rawCode: string): Promise<SaleForReturnView | null> {
        const code = rawCode.trim();
        if (!code) return null;
        if (UUID.test(code)) {
            const sale = await this.posSale(ctx, code.toLowerCase());
            if (sale) return sale;
        }
        const docs = await this.connection.getRepository(ctx, PosSaleDocument).find({
            where: { receiptNumber: code },
            select: { id: true, saleId: true, terminalId: true },
            order: { id: 'DESC' },
            take: 20,
        });
        const doc = docs.length > 1 ? await this.sameStoreFirst(ctx, docs) : docs[0];
        if (doc) {
            const sale = await this.posSale(ctx, doc.saleId);
            if (sale) return sale;
        }
        const orders = this.connection.getRepository(ctx, Order);
        const order = await orders.findOne({ where: { code } });
        if (order) {
            const cf = (order.customFields ?? {}) as any;
            if (cf.source === 'pos' && cf.posSaleId) return this.posSale(ctx, String(cf.posSaleId), order);
            return this.online(ctx, order.id);
        }
        // A sale recorded before documents existed is still found by the receipt number on its order.
        const byReceipt = await orders.findOne({
            where: { customFields: { posReceiptNumber: code, source: 'pos' } } as any,
            order: { id: 'DESC' },
        });
        const saleId = (byReceipt?.customFields as any)?.posSaleId;
        return saleId ? this.posSale(ctx, String(saleId), byReceipt!) : null;
    }

    /**
     * Receipt numbers repeat across stores (each has its "T01") and after a register is
     * reinstalled: the asking terminal's own store (stock location) first, then the latest.
     */
    private async sameStoreFirst(ctx: RequestContext, docs: PosSaleDocument[]): Promise<PosSaleDocument> {
        const here = String(await this.terminals.locationFor(ctx));
        const terminals = await this.connection
            .getRepository(ctx, PosTerminal)
            .find({ where: { terminalId: In([...new Set(docs.map(d => d.terminalId))]) } });
        const locationOf = new Map(terminals.map(t => [t.terminalId, t.stockLocationId]));
        const defaultLocation = String((await this.stockLocations.defaultStockLocation(ctx)).id);
        const storeOf = (d: PosSaleDocument) => String(locationOf.get(d.terminalId) ?? defaultLocation);
        return docs.find(d => storeOf(d) === here) ?? docs[0];
    }

    private async posSale(ctx: RequestContext, saleId: string, known?: Order): Promise<SaleForReturnView | null> {
        const order = known ?? (await this.connection.getRepository(ctx, Order).findOne({ where: { customFields: { posSaleId: saleId } } as any }));
        if (!order) return null;
        const cf = (order.customFields ?? {}) as any;
        const doc = await this.connection.getRepository(ctx, PosSaleDocument).findOne({ where: { saleId } });
        return {
            source: 'POS',
            saleId,
            orderCode: order.code,
            terminalId: doc?.terminalId ?? cf.posTerminalId ?? null,
            receiptNumber: doc?.receiptNumber ?? cf.posReceiptNumber ?? null,
            document: doc?.document ?? null,
            order: null,
            returns: await this.returns(ctx, { saleId }),
            giftCardRedeems: await this.giftCardRedeems(ctx, saleId),
        };
    }

    /** The gift cards a register redeemed for this sale (its tender keys are `<saleId>-<n>`). */
    private async giftCardRedeems(ctx: RequestContext, saleId: string): Promise<Array<{ idempotencyKey: string; code: string }>> {
        const entries = await this.connection.getRepository(ctx, PosGiftCardEntry).find({
            where: { kind: 'REDEEM', idempotencyKey: Like(`${saleId}-%`) },
            order: { id: 'ASC' },
        });
        if (!entries.length) return [];
        const cards = await this.connection.getRepository(ctx, PosGiftCard).find({ where: { id: In(entries.map(e => e.cardId)) } });
        const codeOf = new Map(cards.map(c => [c.id, c.code]));
        return entries.filter(e => codeOf.has(e.cardId)).map(e => ({ idempotencyKey: e.idempotencyKey, code: codeOf.get(e.cardId)! }));
    }

    private async online(ctx: RequestContext, orderId: Order['id']): Promise<SaleForReturnView | null> {
        const order = await this.connection.getRepository(ctx, Order).findOne({
            where: { id: orderId },
            relations: { lines: { productVariant: { translations: true } }, payments: true, customer: true, channels: true },
            relationLoadStrategy: 'query',
        });
        if (!order) return null;
        const paid = PAID_STATES.has(order.state);
        const channel = (order.channels ?? []).find(ch => ch.code !== DEFAULT_CHANNEL_CODE) ?? order.channels?.[0];
        const customerName = order.customer ? `${order.customer.firstName ?? ''} ${order.customer.lastName ?? ''}`.trim() : '';
        const lines = [...(order.lines ?? [])].sort((a, b) => compareIds(a.id, b.id));
        return {
            source: 'ONLINE',
            saleId: null,
            orderCode: order.code,
            terminalId: null,
            receiptNumber: null,
            document: null,
            order: {
                code: order.code,
                state: order.state,
                orderPlacedAt: order.orderPlacedAt ? new Date(order.orderPlacedAt).toISOString() : null,
                currencyCode: order.currencyCode,
                pricesIncludeTax: channel?.pricesIncludeTax ?? ctx.channel.pricesIncludeTax,
                totalWithTaxMinor: order.totalWithTax,
                customerEmail: order.customer?.emailAddress ?? null,
                customerName: customerName || null,
                lines: paid ? lines.map((l, i) => onlineLine(ctx, l, i + 1)) : [],
                payments: paid
                    ? (order.payments ?? [])
                          .filter(p => p.state === 'Settled')
                          .sort((a, b) => compareIds(a.id, b.id))
                          .map(p => ({
                              method: p.method,
                              amountMinor: p.amount,
                              state: p.state,
                              transactionId: p.transactionId ?? null,
                              // Paid with one of the shop's gift cards (the pos-gift-card handler keeps its number).
                              giftCardCode: typeof p.metadata?.giftCardCode === 'string' ? p.metadata.giftCardCode : null,
                          }))
                    : [],
            },
            returns: await this.returns(ctx, { orderCode: order.code }),
            giftCardRedeems: [],
        };
    }

    private async returns(ctx: RequestContext, where: { saleId: string } | { orderCode: string }): Promise<ReturnRecordView[]> {
        const rows = await this.connection.getRepository(ctx, PosReturn).find({ where, order: { occurredAt: 'ASC', id: 'ASC' } });
        return rows.map(r => ({
            returnId: r.returnId,
            terminalId: r.terminalId,
            returnNumber: r.returnNumber,
            occurredAt: r.occurredAt,
            lines: JSON.parse(r.lines),
            document: r.document,
        }));
    }
}

function onlineLine(ctx: RequestContext, l: OrderLine, lineNo: number): OnlineOrderView['lines'][number] {
    const tr = l.productVariant?.translations ?? [];
    return {
        lineNo,
        sku: l.productVariant?.sku ?? '',
        name: (tr.find(t => t.languageCode === ctx.languageCode) ?? tr[0])?.name ?? '',
        quantity: l.quantity,
        unitPriceWithTaxMinor: l.unitPriceWithTax,
        linePriceWithTaxMinor: l.proratedLinePriceWithTax,
        unitPriceMinor: l.unitPrice,
        linePriceMinor: l.proratedLinePrice,
        taxRateBps: Math.round(l.taxRate * 100),
    };
}

function compareIds(a: string | number, b: string | number): number {
    const na = Number(a);
    const nb = Number(b);
    if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
    return String(a).localeCompare(String(b));
}

interface ValidReturn {
    returnId: string;
    saleId: string | null;
    orderCode: string | null;
    terminalId: string;
    returnNumber: string;
    occurredAt: string;
    currencyCode: string;
    totalMinor: number;
    lines: PosReturnLineInput[];
    document: string;
}

function validate(input: PosReturnInput): ValidReturn {
    if (!UUID.test(input.returnId ?? '')) throw new UserInputError('returnId must be a UUID');
    const saleId = input.saleId ? input.saleId.trim() : '';
    const orderCode = input.orderCode ? input.orderCode.trim() : '';
    if (!!saleId === !!orderCode) {
        throw new UserInputError('give exactly one of saleId (a POS sale) or orderCode (a web order)');
    }
    if (saleId && !UUID.test(saleId)) throw new UserInputError('saleId must be a UUID');
    if (orderCode.length > 255) throw new UserInputError('orderCode is at most 255 characters');
    if (!input.terminalId || input.terminalId.length > 128) throw new UserInputError('terminalId is required (at most 128 characters)');
    if (!input.returnNumber || input.returnNumber.length > 64) throw new UserInputError('returnNumber is required (at most 64 characters)');
    const occurredAt = new Date(input.occurredAt);
    if (Number.isNaN(occurredAt.getTime())) throw new UserInputError('occurredAt must be an ISO date-time');
    if (!Number.isSafeInteger(input.totalMinor) || input.totalMinor < 0) {
        throw new UserInputError('totalMinor is the amount refunded: a non-negative integer (minor units)');
    }
    if (!input.lines?.length) throw new UserInputError('a return needs at least one line');
    for (const l of input.lines) {
        if (!l.sku) throw new UserInputError('every return line needs a sku');
        if (!Number.isInteger(l.saleLineNo) || l.saleLineNo < 0) throw new UserInputError('saleLineNo must be a line number of the sale (>= 0)');
        if (!Number.isInteger(l.quantity) || l.quantity <= 0) throw new UserInputError(`quantity of ${l.sku} must be a positive integer`);
        if (!Number.isInteger(l.soldQuantity) || l.soldQuantity <= 0) throw new UserInputError(`soldQuantity of ${l.sku} must be a positive integer`);
    }
    if (typeof input.document !== 'string') throw new UserInputError('document is required');
    checkDocument(input.document);
    return {
        returnId: input.returnId.toLowerCase(),
        saleId: saleId ? saleId.toLowerCase() : null,
        orderCode: orderCode || null,
        terminalId: input.terminalId,
        returnNumber: input.returnNumber,
        occurredAt: occurredAt.toISOString(),
        currencyCode: String(input.currencyCode),
        totalMinor: input.totalMinor,
        lines: input.lines.map(l => ({ saleLineNo: l.saleLineNo, sku: l.sku, quantity: l.quantity, soldQuantity: l.soldQuantity })),
        document: input.document,
    };
}
