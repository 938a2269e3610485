/**
 * Orders as a terminal sees them (change feed `ORDER` items and the Pickups list), and handing a
 * click-and-collect order over.
 *
 * A pickup is an order whose custom field `posPickupLocationId` names a stock location. It is set
 * when the order is placed, from the chosen ShippingMethod's custom field `posPickupLocationId`
 * (the owner creates one "Pickup at <store>" shipping method per store), or by a storefront
 * directly through `setOrderCustomFields`.
 *
 * Handing over uses Vendure's own fulfillment flow: a fulfillment of every line with the
 * built-in `manual-fulfillment` handler (method "POS pickup"), moved Pending → Shipped →
 * Delivered, which moves the order to `Delivered` and turns its stock allocations into sales.
 * Authorized-but-unsettled payments (pay at pickup) are settled first.
 */
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
    EventBus,
    ID,
    isGraphQlErrorResult,
    Logger,
    Order,
    OrderPlacedEvent,
    OrderService,
    RequestContext,
    ShippingLine,
    StockLocation,
    TransactionalConnection,
} from '@vendure/core';
import { In, IsNull, Not } from 'typeorm';

import { ChangeLog } from './change-log';
import { StockLedger } from './stock';
import { TerminalDirectory } from './terminals';

export interface OrderView {
    id: string;
    code: string;
    state: string;
    source: string;
    posSaleId: string | null;
    posTerminalId: string | null;
    placedAt: Date | null;
    updatedAt: Date;
    customerName: string | null;
    customerEmail: string | null;
    currencyCode: string;
    totalWithTaxMinor: number;
    lines: Array<{ sku: string; name: string; quantity: number; unitPriceWithTaxMinor: number; linePriceWithTaxMinor: number }>;
    pickup: { locationId: string; locationName: string } | null;
    collected: boolean;
}

export interface CollectResult {
    status: 'COLLECTED' | 'ALREADY_COLLECTED' | 'NOT_FOUND' | 'NOT_A_PICKUP' | 'NOT_READY';
    duplicate: boolean;
    orderCode: string;
    message: string | null;
}

const NOT_READY_STATES = new Set(['Created', 'Draft', 'AddingItems', 'ArrangingPayment', 'Cancelled', 'Modifying', 'ArrangingAdditionalPayment']);

@Injectable()
export class OrderProjection implements OnApplicationBootstrap {
    constructor(
        private connection: TransactionalConnection,
        private eventBus: EventBus,
        private orderService: OrderService,
        private changeLog: ChangeLog,
        private stock: StockLedger,
        private terminals: TerminalDirectory,
    ) {}

    onApplicationBootstrap() {
        this.eventBus.ofType(OrderPlacedEvent).subscribe(e => {
            this.copyPickupLocation(e.order.id).catch(err => Logger.error(`pickup location copy failed: ${err}`, 'PosPickups'));
        });
    }

    /** Copies the pickup location of the order's shipping method onto the order, once placed. */
    private async copyPickupLocation(orderId: ID) {
        const raw = this.connection.rawConnection;
        const order = await raw.getRepository(Order).findOne({ where: { id: orderId } });
        if (!order || (order.customFields as any)?.posPickupLocationId) return;
        const lines = await raw.getRepository(ShippingLine).find({ where: { order: { id: orderId } } as any, relations: { shippingMethod: true } });
        const location = lines.map(l => (l.shippingMethod?.customFields as any)?.posPickupLocationId).find(Boolean);
        if (!location) return;
        await raw.getRepository(Order).update(orderId, { customFields: { posPickupLocationId: String(location) } } as any);
        await this.changeLog.appendCommitted([{ kind: 'ORDER', entityId: String(orderId) }]);
    }

    async load(ctx: RequestContext, ids: ID[]): Promise<OrderView[]> {
        if (!ids.length) return [];
        const orders = await this.connection.getRepository(ctx, Order).find({
            where: { id: In(ids) },
            relations: { lines: { productVariant: { translations: true } }, customer: true, surcharges: true },
            relationLoadStrategy: 'query',
        });
        const locationIds = [...new Set(orders.map(o => (o.customFields as any)?.posPickupLocationId).filter(Boolean))];
        const locations = locationIds.length
            ? await this.connection.getRepository(ctx, StockLocation).find({ where: { id: In(locationIds) } })
            : [];
        const names = new Map(locations.map(l => [String(l.id), l.name]));
        const byId = new Map(orders.map(o => [String(o.id), o]));
        return ids.map(id => byId.get(String(id))).filter((o): o is Order => !!o).map(o => this.view(ctx, o, names));
    }

    async pickups(ctx: RequestContext, locationId: ID | null | undefined, includeCollected: boolean): Promise<OrderView[]> {
        const location = await this.terminals.locationFor(ctx, locationId);
        const states = includeCollected ? ['Cancelled'] : ['Cancelled', 'Delivered'];
        const rows = await this.connection.getRepository(ctx, Order).find({
            select: { id: true },
            where: {
                customFields: { posPickupLocationId: String(location) },
                orderPlacedAt: Not(IsNull()),
                state: Not(In(states)),
            } as any,
            order: { orderPlacedAt: 'ASC' },
            take: 500,
        });
        return this.load(ctx, rows.map(r => r.id));
    }

    async markCollected(ctx: RequestContext, orderCode: string, idempotencyKey: string): Promise<CollectResult> {
        return this.stock.once<CollectResult>(
            ctx,
            'collect',
            idempotencyKey,
            { note: orderCode },
            async tctx => {
                const base = { duplicate: false, orderCode };
                const order = await this.connection.getRepository(tctx, Order).findOne({
                    where: { code: orderCode },
                    relations: { lines: true, payments: true },
                });
                if (!order) return { ...base, status: 'NOT_FOUND', message: `No order ${orderCode}` };
                if (!(order.customFields as any)?.posPickupLocationId) {
                    return { ...base, status: 'NOT_A_PICKUP', message: 'The order is not a click-and-collect order' };
                }
                if (order.state === 'Delivered') return { ...base, status: 'ALREADY_COLLECTED', message: null };
                if (NOT_READY_STATES.has(order.state)) {
                    return { ...base, status: 'NOT_READY', message: `The order is ${order.state}` };
                }
                for (const p of order.payments ?? []) {
                    if (p.state === 'Authorized') {
                        const settled = await this.orderService.settlePayment(tctx, p.id);
                        if (isGraphQlErrorResult(settled)) throw new Error(`Settling payment failed: ${settled.message}`);
                    }
                }
                const fulfillment = await this.orderService.createFulfillment(tctx, {
                    lines: order.lines.filter(l => l.quantity > 0).map(l => ({ orderLineId: l.id, quantity: l.quantity })),
                    handler: {
                        code: 'manual-fulfillment',
                        arguments: [
                            { name: 'method', value: 'POS pickup' },
                            { name: 'trackingCode', value: idempotencyKey },
                        ],
                    },
                });
                if (isGraphQlErrorResult(fulfillment)) throw new Error(`Fulfillment failed: ${fulfillment.message}`);
                for (const state of ['Shipped', 'Delivered'] as const) {
                    const moved = await this.orderService.transitionFulfillmentToState(tctx, fulfillment.id, state);
                    if (isGraphQlErrorResult(moved)) throw new Error(`Fulfillment to ${state} failed: ${moved.message}`);
                }
                await this.changeLog.appendInTransaction(tctx, [{ kind: 'ORDER', entityId: String(order.id) }]);
                return { ...base, status: 'COLLECTED', message: null };
            },
            r => r.status === 'COLLECTED' || r.status === 'ALREADY_COLLECTED',
        );
    }

    private view(ctx: RequestContext, o: Order, locationNames: Map<string, string>): OrderView {
        const cf = (o.customFields ?? {}) as any;
        const pickupId = cf.posPickupLocationId ? String(cf.posPickupLocationId) : null;
        const customerName = o.customer ? `${o.customer.firstName ?? ''} ${o.customer.lastName ?? ''}`.trim() : null;
        return {
            id: String(o.id),
            code: o.code,
            state: o.state,
            source: cf.source || 'web',
            posSaleId: cf.posSaleId ?? null,
            posTerminalId: cf.posTerminalId ?? null,
            placedAt: o.orderPlacedAt ?? null,
            updatedAt: o.updatedAt,
            customerName: customerName || null,
            customerEmail: o.customer?.emailAddress ?? null,
            currencyCode: o.currencyCode,
            totalWithTaxMinor: o.totalWithTax,
            lines: (o.lines ?? []).map(l => {
                const tr = l.productVariant?.translations ?? [];
                const name = (tr.find(t => t.languageCode === ctx.languageCode) ?? tr[0])?.name ?? '';
                return {
                    sku: l.productVariant?.sku ?? '',
                    name,
                    quantity: l.quantity,
                    unitPriceWithTaxMinor: l.unitPriceWithTax,
                    linePriceWithTaxMinor: l.linePriceWithTax,
                };
            }),
            pickup: pickupId ? { locationId: pickupId, locationName: locationNames.get(pickupId) ?? '' } : null,
            collected: !!pickupId && o.state === 'Delivered',
        };
    }
}
