/**
 * Recording a POS sale as one Vendure order, exactly once per sale UUID.
 *
 * The order is written directly (one transaction, about a dozen statements) instead of through
 * the cart API: an in-store sale is already paid and handed over, so it is created in the
 * `Delivered` state with `Settled` payments and `Sale` stock movements, and the POS's own prices,
 * taxes and totals are kept as charged.
 *
 * Invariants:
 * - At most one order per `posSaleId` (unique column). The order row is inserted before any
 *   stock is touched, so a concurrent duplicate blocks on / collides with the unique index and
 *   never moves stock; it then returns the first order.
 * - Never refused for stock: lines beyond what was sellable, and unknown SKUs, still record the
 *   sale and add a PosStockConflict for a manager.
 * - stockOnHand drops by exactly the sold quantity at the sale's stock location (stockAllocated
 *   is untouched), so sellable = stockOnHand − stockAllocated drops by the same amount.
 */
import { Injectable } from '@nestjs/common';
import {
    ChannelService,
    ConfigService,
    CurrencyCode,
    EventBus,
    ID,
    Order,
    OrderLine,
    Payment,
    RequestContext,
    Sale,
    StockMovementEvent,
    TransactionalConnection,
    UserInputError,
} from '@vendure/core';

import { AdjustmentType, OrderType } from '@vendure/common/lib/generated-types';
import { Not } from 'typeorm';

import { ChangeLog } from './change-log';
import { PosStockConflict } from './entities';
import { RETURN_EXCEEDS_SALE } from './returns';
import { checkSaleDocument, fillInSaleDocument, insertSaleDocument } from './sale-document';
import { ConflictView, conflictView, isUniqueViolation, StockLedger } from './stock';
import { TerminalDirectory } from './terminals';

export interface PosSaleLineInput {
    sku: string;
    quantity: number;
    unitPriceMinor: number;
    lineTotalMinor: number;
    taxRateBps: number;
}

export interface PosSaleInput {
    saleId: string;
    terminalId: string;
    receiptNumber: string;
    occurredAt: Date | string;
    currencyCode: CurrencyCode;
    pricesIncludeTax?: boolean | null;
    lines: PosSaleLineInput[];
    totals: { totalMinor: number; taxMinor: number };
    payments: Array<{ method: string; amountMinor: number }>;
    locationId?: ID | null;
    /** The register's CompletedSale JSON, kept verbatim in PosSaleDocument (see sale-document.ts). */
    document?: string | null;
}

export interface PosSaleResult {
    saleId: string;
    orderId: string;
    orderCode: string;
    duplicate: boolean;
    conflicts: ConflictView[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class SaleRecorder {
    constructor(
        private connection: TransactionalConnection,
        private configService: ConfigService,
        private channelService: ChannelService,
        private eventBus: EventBus,
        private changeLog: ChangeLog,
        private stock: StockLedger,
        private terminals: TerminalDirectory,
    ) {}

    async record(ctx: RequestContext, input: PosSaleInput): Promise<PosSaleResult> {
        validate(input);
        const saleId = input.saleId.toLowerCase();
        const first = await this.existing(ctx, saleId);
        if (first) {
            await fillInSaleDocument(this.connection, ctx, { ...input, saleId });
            return first;
        }
        try {
            const result = await this.connection.withTransaction(ctx, tctx => this.insert(tctx, { ...input, saleId }));
            if (!result.duplicate) await this.changeLog.notify();
            else await fillInSaleDocument(this.connection, ctx, { ...input, saleId });
            return result;
        } catch (e) {
            if (isUniqueViolation(e)) {
                const winner = await this.existing(ctx, saleId);
                if (winner) {
                    await fillInSaleDocument(this.connection, ctx, { ...input, saleId });
                    return winner;
                }
            }
            throw e;
        }
    }

    private async existing(ctx: RequestContext, saleId: string): Promise<PosSaleResult | null> {
        const order = await this.connection
            .getRepository(ctx, Order)
            .findOne({ where: { customFields: { posSaleId: saleId } } as any, select: { id: true, code: true } });
        if (!order) return null;
        const conflicts = await this.connection
            .getRepository(ctx, PosStockConflict)
            .find({ where: { saleId, reason: Not(RETURN_EXCEEDS_SALE) }, order: { id: 'ASC' } }); // the sale's own, not its returns'
        return { saleId, orderId: String(order.id), orderCode: order.code, duplicate: true, conflicts: conflicts.map(conflictView) };
    }

    private async insert(ctx: RequestContext, input: PosSaleInput): Promise<PosSaleResult> {
        // Serialized writers (SQLite) see the winner here; concurrent ones (PostgreSQL) collide on the index.
        const again = await this.existing(ctx, input.saleId);
        if (again) return again;
        const locationId = await this.terminals.locationFor(ctx, input.locationId);
        const variants = await this.stock.variantsBySku(ctx, input.lines.map(l => l.sku));
        const includeTax = input.pricesIncludeTax !== false;
        const defaultChannel = await this.channelService.getDefaultChannel(ctx);
        const channels = [defaultChannel];
        if (String(ctx.channelId) !== String(defaultChannel.id)) channels.push(ctx.channel);
        const code = await this.configService.orderOptions.orderCodeStrategy.generate(ctx);
        const occurredAt = new Date(input.occurredAt);

        const order = await this.connection.getRepository(ctx, Order).save(
            new Order({
                type: OrderType.Regular,
                code,
                state: 'Delivered',
                active: false,
                orderPlacedAt: occurredAt,
                currencyCode: input.currencyCode,
                couponCodes: [],
                shippingAddress: {},
                billingAddress: {},
                subTotal: input.totals.totalMinor - input.totals.taxMinor,
                subTotalWithTax: input.totals.totalMinor,
                shipping: 0,
                shippingWithTax: 0,
                channels,
                customFields: {
                    posSaleId: input.saleId,
                    posTerminalId: input.terminalId,
                    posReceiptNumber: input.receiptNumber,
                    source: 'pos',
                } as any,
            }),
        );

        await insertSaleDocument(this.connection, ctx, input);

        const known = input.lines.filter(l => variants.has(l.sku));
        const lines = known.map(l => {
            const variant = variants.get(l.sku)!;
            const rate = l.taxRateBps / 100;
            const line = new OrderLine({
                order: { id: order.id } as any,
                productVariant: { id: variant.id } as any,
                taxCategory: { id: variant.taxCategoryId } as any,
                featuredAsset: variant.featuredAssetId ? ({ id: variant.featuredAssetId } as any) : undefined,
                sellerChannel: { id: defaultChannel.id } as any,
                quantity: l.quantity,
                orderPlacedQuantity: l.quantity,
                listPrice: l.unitPriceMinor,
                initialListPrice: l.unitPriceMinor,
                listPriceIncludesTax: includeTax,
                taxLines: [{ description: `POS ${rate}%`, taxRate: rate }],
                adjustments: [],
            });
            const discount = l.lineTotalMinor - l.unitPriceMinor * l.quantity;
            if (discount !== 0) {
                const net = includeTax ? Math.round(discount / (1 + rate / 100)) : discount;
                line.adjustments = [
                    { adjustmentSource: 'POS', type: AdjustmentType.PROMOTION, description: 'POS line discount', amount: net, data: {} } as any,
                ];
            }
            return line;
        });
        const savedLines = lines.length ? await this.connection.getRepository(ctx, OrderLine).save(lines) : [];

        if (input.payments.length) {
            await this.connection.getRepository(ctx, Payment).save(
                input.payments.map(
                    p =>
                        new Payment({
                            method: p.method,
                            amount: p.amountMinor,
                            state: 'Settled',
                            transactionId: `${input.terminalId}/${input.receiptNumber}`,
                            metadata: { source: 'pos', saleId: input.saleId } as any,
                            order: { id: order.id } as any,
                        }),
                ),
            );
        }

        // Stock: one atomic decrement per variant, then one read of the levels.
        const qtyByVariant = new Map<string, number>();
        const tracked = new Set<string>();
        for (const l of known) {
            const v = variants.get(l.sku)!;
            if (!(await this.stock.tracksInventory(ctx, v))) continue;
            tracked.add(String(v.id));
            qtyByVariant.set(String(v.id), (qtyByVariant.get(String(v.id)) ?? 0) + l.quantity);
        }
        const after = await this.stock.applyDeltas(
            ctx,
            locationId,
            [...qtyByVariant].map(([variantId, qty]) => ({ variantId, delta: -qty })),
        );
        const sales = savedLines
            .filter(line => tracked.has(String(line.productVariant.id)))
            .map(
                line =>
                    new Sale({
                        productVariant: { id: line.productVariant.id } as any,
                        quantity: -line.quantity,
                        orderLine: { id: line.id } as any,
                        stockLocation: { id: locationId } as any,
                    }),
            );
        const savedSales = sales.length ? await this.connection.getRepository(ctx, Sale).save(sales) : [];

        const at = new Date().toISOString();
        const terminal = await this.terminals.terminalOf(ctx);
        const conflicts: Partial<PosStockConflict>[] = [];
        for (const [variantId, qty] of qtyByVariant) {
            const level = after.get(variantId)!;
            const availableBefore = level.stockOnHand + qty - level.stockAllocated;
            if (availableBefore < qty) {
                const variant = [...variants.values()].find(v => String(v.id) === variantId)!;
                conflicts.push({
                    saleId: input.saleId, terminalId: terminal?.terminalId ?? input.terminalId, sku: variant.sku,
                    variantId, locationId: String(locationId), reason: 'INSUFFICIENT_STOCK', requested: qty,
                    availableBefore, at, resolvedAt: null, resolution: null,
                });
            }
        }
        for (const l of input.lines.filter(x => !variants.has(x.sku))) {
            conflicts.push({
                saleId: input.saleId, terminalId: terminal?.terminalId ?? input.terminalId, sku: l.sku, variantId: null,
                locationId: String(locationId), reason: 'UNKNOWN_SKU', requested: l.quantity, availableBefore: null,
                at, resolvedAt: null, resolution: null,
            });
        }
        const savedConflicts = conflicts.length
            ? await this.connection.getRepository(ctx, PosStockConflict).save(conflicts as PosStockConflict[])
            : [];

        await this.changeLog.appendInTransaction(ctx, [
            ...[...qtyByVariant.keys()].map(id => ({ kind: 'STOCK' as const, entityId: id })),
            { kind: 'ORDER', entityId: String(order.id) },
        ]);
        if (savedSales.length) {
            await this.eventBus.publish(this.changeLog.markSelfPublished(new StockMovementEvent(ctx, savedSales)));
        }
        return {
            saleId: input.saleId,
            orderId: String(order.id),
            orderCode: order.code,
            duplicate: false,
            conflicts: (savedConflicts as PosStockConflict[]).map(conflictView),
        };
    }
}

function validate(input: PosSaleInput) {
    if (!UUID.test(input.saleId)) throw new UserInputError('saleId must be a UUID');
    if (!input.terminalId) throw new UserInputError('terminalId is required');
    if (!input.lines.length) throw new UserInputError('a sale needs at least one line');
    checkSaleDocument(input);
    if (Number.isNaN(new Date(input.occurredAt).getTime())) throw new UserInputError('occurredAt must be an ISO date-time');
    for (const l of input.lines) {
        if (!l.sku) throw new UserInputError('every line needs a sku');
        if (!Number.isInteger(l.quantity) || l.quantity <= 0) {
            throw new UserInputError(`quantity of ${l.sku} must be a positive integer (returns use posAdjustStock)`);
        }
        if (!Number.isInteger(l.taxRateBps) || l.taxRateBps < 0) throw new UserInputError('taxRateBps must be >= 0');
    }
}
