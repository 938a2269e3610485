/**
 * Stock writes for terminals: relative deltas (sales, returns, write-offs, counts) and the one
 * absolute write reconciliation may make, a compare-and-set.
 *
 * Invariants:
 * - stockOnHand only ever changes by an atomic `SET stockOnHand = stockOnHand + delta` (never
 *   read-modify-write), so concurrent terminals and web orders cannot lose each other's updates.
 * - Every change is also a Vendure StockMovement (a StockAdjustment, or a Sale for POS orders),
 *   so the shop's stock history adds up, and a `STOCK` change-log row in the same transaction.
 * - A decrease is never refused; going below what is sellable records a PosStockConflict.
 * - Idempotent operations claim their key in `pos_operation` first: a concurrent repeat blocks
 *   on the unique index (PostgreSQL) or waits for the single writer (SQLite), then returns the
 *   stored first result.
 */
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
    EventBus,
    GlobalSettingsService,
    ID,
    ProductVariant,
    RequestContext,
    StockAdjustment,
    StockLevel,
    StockMovementEvent,
    Logger,
    TransactionalConnection,
    UserInputError,
} from '@vendure/core';
import { GlobalFlag } from '@vendure/common/lib/generated-types';
import { In, IsNull } from 'typeorm';

import { ChangeLog } from './change-log';
import { PosOperation, PosStockConflict } from './entities';
import { TerminalDirectory } from './terminals';

export type StockReason = 'SALE' | 'RETURN' | 'WRITE_OFF' | 'COUNT';

export interface StockSnapshot {
    variantId: string;
    sku: string;
    locationId: string;
    stockOnHand: number;
    stockAllocated: number;
    sellable: number;
}

export interface AdjustStockResult {
    status: 'APPLIED' | 'UNKNOWN_SKU';
    duplicate: boolean;
    idempotencyKey: string;
    sku: string;
    delta: number;
    reason: StockReason;
    stock: StockSnapshot | null;
    conflict: ConflictView | null;
}

export interface SetStockResult {
    status: 'APPLIED' | 'STALE' | 'UNKNOWN_SKU';
    duplicate: boolean;
    idempotencyKey: string;
    sku: string;
    expectedStockOnHand: number;
    newStockOnHand: number;
    /** The stockOnHand found (after the write when APPLIED; the differing value when STALE). */
    currentStockOnHand: number | null;
    stock: StockSnapshot | null;
}

export interface ConflictView {
    id: string;
    saleId: string | null;
    terminalId: string | null;
    sku: string;
    variantId: string | null;
    locationId: string | null;
    reason: string;
    requested: number;
    availableBefore: number | null;
    at: string;
    resolvedAt: string | null;
    resolution: string | null;
}

export function conflictView(c: PosStockConflict): ConflictView {
    return {
        id: String(c.id),
        saleId: c.saleId,
        terminalId: c.terminalId,
        sku: c.sku,
        variantId: c.variantId,
        locationId: c.locationId,
        reason: c.reason,
        requested: c.requested,
        availableBefore: c.availableBefore,
        at: c.at,
        resolvedAt: c.resolvedAt,
        resolution: c.resolution,
    };
}

export function isUniqueViolation(e: any): boolean {
    const code = e?.driverError?.code ?? e?.code;
    return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

@Injectable()
export class StockLedger implements OnApplicationBootstrap {
    constructor(
        private connection: TransactionalConnection,
        private eventBus: EventBus,
        private globalSettings: GlobalSettingsService,
        private changeLog: ChangeLog,
        private terminals: TerminalDirectory,
    ) {}

    /**
     * Every POS sale and stock adjustment finds its variants by SKU, and Vendure has no index on
     * product_variant.sku: with 100,000 variants each lookup scanned the table (16–20 ms of shop
     * CPU per sale; 9 ms with the index). Created once, on SQLite and PostgreSQL alike; a
     * database that refuses (or has its own) only logs it.
     */
    async onApplicationBootstrap() {
        try {
            await this.connection.rawConnection.query(
                'CREATE INDEX IF NOT EXISTS pos_product_variant_sku ON product_variant (sku)',
            );
        } catch (e) {
            Logger.warn(`could not create the index on product_variant.sku: ${e}`, 'PosPlugin');
        }
    }

    /** Live variant (not deleted) by SKU; the lowest id wins if a shop has duplicate SKUs. */
    async variantsBySku(ctx: RequestContext, skus: string[]): Promise<Map<string, ProductVariant>> {
        const found = skus.length
            ? await this.connection.getRepository(ctx, ProductVariant).find({
                  where: { sku: In([...new Set(skus)]), deletedAt: IsNull() },
                  order: { id: 'ASC' },
              })
            : [];
        const map = new Map<string, ProductVariant>();
        for (const v of found) if (!map.has(v.sku)) map.set(v.sku, v);
        return map;
    }

    async tracksInventory(ctx: RequestContext, variant: ProductVariant): Promise<boolean> {
        if (variant.trackInventory === GlobalFlag.TRUE) return true;
        if (variant.trackInventory === GlobalFlag.FALSE) return false;
        return (await this.globalSettings.getSettings(ctx)).trackInventory;
    }

    /**
     * Adds `delta` to stockOnHand of each variant at the location, atomically, creating the
     * StockLevel row if the variant had none there. Returns the levels after the change.
     * Callers sort by variant id so that two transactions lock rows in the same order.
     */
    async applyDeltas(
        ctx: RequestContext,
        locationId: ID,
        deltas: Array<{ variantId: ID; delta: number }>,
    ): Promise<Map<string, { stockOnHand: number; stockAllocated: number }>> {
        const repo = this.connection.getRepository(ctx, StockLevel);
        const sorted = [...deltas].sort((a, b) => compareIds(a.variantId, b.variantId));
        for (const { variantId, delta } of sorted) {
            const res = await repo.increment(
                { productVariantId: variantId, stockLocationId: locationId } as any,
                'stockOnHand',
                delta,
            );
            if (!res.affected) {
                await repo.insert({
                    productVariantId: variantId,
                    stockLocationId: locationId,
                    stockOnHand: delta,
                    stockAllocated: 0,
                } as any);
            }
        }
        return this.levels(ctx, locationId, sorted.map(d => d.variantId));
    }

    async levels(
        ctx: RequestContext,
        locationId: ID,
        variantIds: ID[],
    ): Promise<Map<string, { stockOnHand: number; stockAllocated: number }>> {
        const map = new Map<string, { stockOnHand: number; stockAllocated: number }>();
        if (!variantIds.length) return map;
        const rows = await this.connection.getRepository(ctx, StockLevel).find({
            where: { productVariantId: In(variantIds), stockLocationId: locationId } as any,
        });
        for (const r of rows) {
            map.set(String(r.productVariantId), { stockOnHand: r.stockOnHand, stockAllocated: r.stockAllocated });
        }
        return map;
    }

    async snapshot(ctx: RequestContext, variant: ProductVariant, locationId: ID): Promise<StockSnapshot> {
        const level = (await this.levels(ctx, locationId, [variant.id])).get(String(variant.id));
        return toSnapshot(variant, locationId, level);
    }

    async adjust(
        ctx: RequestContext,
        input: { idempotencyKey: string; sku: string; delta: number; reason: StockReason; note?: string | null; locationId?: ID | null },
    ): Promise<AdjustStockResult> {
        if (!input.idempotencyKey) throw new UserInputError('idempotencyKey is required');
        if (!Number.isInteger(input.delta)) throw new UserInputError('delta must be an integer');
        const result = await this.once<AdjustStockResult>(ctx, 'adjust', input.idempotencyKey, input, async tctx => {
            const variant = (await this.variantsBySku(tctx, [input.sku])).get(input.sku);
            if (!variant) {
                return {
                    status: 'UNKNOWN_SKU', duplicate: false, idempotencyKey: input.idempotencyKey, sku: input.sku,
                    delta: input.delta, reason: input.reason, stock: null, conflict: null,
                };
            }
            const locationId = await this.terminals.locationFor(tctx, input.locationId);
            const after = (await this.applyDeltas(tctx, locationId, [{ variantId: variant.id, delta: input.delta }])).get(
                String(variant.id),
            );
            const stock = toSnapshot(variant, locationId, after);
            let conflict: ConflictView | null = null;
            if (input.delta < 0 && stock.sellable < 0 && (await this.tracksInventory(tctx, variant))) {
                const saved = await this.connection.getRepository(tctx, PosStockConflict).save(
                    this.connection.getRepository(tctx, PosStockConflict).create({
                        saleId: null,
                        terminalId: (await this.terminals.terminalOf(tctx))?.terminalId ?? null,
                        sku: variant.sku,
                        variantId: String(variant.id),
                        locationId: String(locationId),
                        reason: 'INSUFFICIENT_STOCK',
                        requested: -input.delta,
                        availableBefore: stock.sellable - input.delta,
                        at: new Date().toISOString(),
                        resolvedAt: null,
                        resolution: null,
                    }),
                );
                conflict = conflictView(saved);
            }
            await this.recordAdjustment(tctx, variant.id, locationId, input.delta);
            return {
                status: 'APPLIED', duplicate: false, idempotencyKey: input.idempotencyKey, sku: input.sku,
                delta: input.delta, reason: input.reason, stock, conflict,
            };
        });
        return result;
    }

    async setIfUnchanged(
        ctx: RequestContext,
        input: { idempotencyKey: string; sku: string; expectedStockOnHand: number; newStockOnHand: number; locationId?: ID | null },
    ): Promise<SetStockResult> {
        if (!input.idempotencyKey) throw new UserInputError('idempotencyKey is required');
        return this.once<SetStockResult>(ctx, 'set', input.idempotencyKey, { ...input, reason: 'COUNT' }, async tctx => {
            const base = {
                duplicate: false, idempotencyKey: input.idempotencyKey, sku: input.sku,
                expectedStockOnHand: input.expectedStockOnHand, newStockOnHand: input.newStockOnHand,
            };
            const variant = (await this.variantsBySku(tctx, [input.sku])).get(input.sku);
            if (!variant) return { ...base, status: 'UNKNOWN_SKU', currentStockOnHand: null, stock: null };
            const locationId = await this.terminals.locationFor(tctx, input.locationId);
            const repo = this.connection.getRepository(tctx, StockLevel);
            const res = await repo
                .createQueryBuilder()
                .update(StockLevel)
                .set({ stockOnHand: input.newStockOnHand })
                .where('productVariantId = :v AND stockLocationId = :l AND stockOnHand = :e', {
                    v: variant.id,
                    l: locationId,
                    e: input.expectedStockOnHand,
                })
                .execute();
            let applied = !!res.affected;
            if (!applied && input.expectedStockOnHand === 0) {
                // No StockLevel row at this location counts as 0 on hand.
                const exists = await repo.findOne({ where: { productVariantId: variant.id, stockLocationId: locationId } as any });
                if (!exists) {
                    await repo.insert({
                        productVariantId: variant.id, stockLocationId: locationId,
                        stockOnHand: input.newStockOnHand, stockAllocated: 0,
                    } as any);
                    applied = true;
                }
            }
            const stock = await this.snapshot(tctx, variant, locationId);
            if (!applied) {
                return { ...base, status: 'STALE', currentStockOnHand: stock.stockOnHand, stock };
            }
            const delta = input.newStockOnHand - input.expectedStockOnHand;
            if (delta !== 0) await this.recordAdjustment(tctx, variant.id, locationId, delta);
            return { ...base, status: 'APPLIED', currentStockOnHand: stock.stockOnHand, stock };
        }, r => r.status !== 'STALE');
    }

    /** StockAdjustment movement + STOCK change row + StockMovementEvent for other plugins. */
    private async recordAdjustment(ctx: RequestContext, variantId: ID, locationId: ID, delta: number) {
        const adjustment = await this.connection.getRepository(ctx, StockAdjustment).save(
            new StockAdjustment({
                quantity: delta,
                stockLocation: { id: locationId },
                productVariant: { id: variantId },
            }),
        );
        await this.changeLog.appendInTransaction(ctx, [{ kind: 'STOCK', entityId: String(variantId) }]);
        await this.eventBus.publish(this.changeLog.markSelfPublished(new StockMovementEvent(ctx, [adjustment])));
    }

    /**
     * Runs `work` once per (kind, key). The key row is claimed before the work, so a concurrent
     * repeat waits for (or collides with) the first and then returns its stored result.
     * `keep(result)` false means the result is not final (e.g. a STALE compare-and-set): the key
     * is released so the caller can retry it with fresh numbers.
     */
    async once<T extends { duplicate: boolean }>(
        ctx: RequestContext,
        kind: string,
        key: string,
        input: { sku?: string; reason?: string; note?: string | null },
        work: (ctx: RequestContext) => Promise<T>,
        keep: (result: T) => boolean = () => true,
    ): Promise<T> {
        const stored = await this.storedResult<T>(ctx, kind, key);
        if (stored) return stored;
        try {
            const result = await this.connection.withTransaction(ctx, async tctx => {
                const repo = this.connection.getRepository(tctx, PosOperation);
                const again = await this.storedResult<T>(tctx, kind, key);
                if (again) return again;
                const claimed = await repo.insert({
                    kind, idempotencyKey: key, sku: input.sku ?? null, reason: input.reason ?? null,
                    note: input.note ?? null, result: '',
                });
                const out = await work(tctx);
                const id = claimed.identifiers[0].id;
                if (keep(out) && (out as any).status !== 'UNKNOWN_SKU') {
                    await repo.update(id, { result: JSON.stringify(out) });
                } else {
                    await repo.delete(id);
                }
                return out;
            });
            if (!result.duplicate) await this.changeLog.notify();
            return result;
        } catch (e) {
            if (isUniqueViolation(e)) {
                const first = await this.storedResult<T>(ctx, kind, key);
                if (first) return first;
            }
            throw e;
        }
    }

    private async storedResult<T extends { duplicate: boolean }>(ctx: RequestContext, kind: string, key: string): Promise<T | null> {
        const row = await this.connection
            .getRepository(ctx, PosOperation)
            .findOne({ where: { kind, idempotencyKey: key } });
        if (!row || !row.result) return null;
        return { ...(JSON.parse(row.result) as T), duplicate: true };
    }
}

export function toSnapshot(
    variant: ProductVariant,
    locationId: ID,
    level: { stockOnHand: number; stockAllocated: number } | undefined,
): StockSnapshot {
    const stockOnHand = level?.stockOnHand ?? 0;
    const stockAllocated = level?.stockAllocated ?? 0;
    return {
        variantId: String(variant.id),
        sku: variant.sku,
        locationId: String(locationId),
        stockOnHand,
        stockAllocated,
        sellable: stockOnHand - stockAllocated,
    };
}

function compareIds(a: ID, b: ID): number {
    const na = Number(a);
    const nb = Number(b);
    if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
    return String(a).localeCompare(String(b));
}
