/**
 * The change log behind `posChanges` and the SSE hint.
 *
 * Vendure's own timestamps are no cursor (a variant's updatedAt does not move when an order takes
 * its stock; an order's updatedAt has one-second precision on SQLite), so every change a terminal
 * must see is appended to `pos_change`: by EventBus subscribers for what happens in the shop, and
 * by this plugin's own mutations inside their transactions.
 *
 * Invariants:
 * - A cursor is `<epoch>.<id>`; the epoch is random per database, so a terminal that talks to a
 *   re-created shop gets `resetRequired` instead of silently skipping changes.
 * - A page never hands out a cursor past an id gap younger than `GAP_GRACE_MS`: on PostgreSQL a
 *   transaction that took id 10 can commit after the one that took id 11, and a reader that moved
 *   its cursor to 11 would lose 10 forever. Gaps older than that are rolled-back ids.
 * - Pruning (rows older than the retention window, see `prune`) first records the horizon (the
 *   newest pruned id, setting `feedPrunedThrough`) and then deletes up to it. A cursor below the
 *   horizon gets `resetRequired` (re-import), never a page with changes silently missing; a cursor
 *   at or above it reads on. The horizon is read from the database on every page, so every
 *   server process agrees. A reader without a cursor (from the beginning) reads what is kept.
 */
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
    EventBus,
    Logger,
    OrderPlacedEvent,
    OrderStateTransitionEvent,
    ProductEvent,
    ProductVariant,
    ProductVariantEvent,
    ProductVariantPriceEvent,
    RequestContext,
    StockMovementEvent,
    TaxRateModificationEvent,
    TransactionalConnection,
    VendureEvent,
} from '@vendure/core';
import { randomUUID } from 'crypto';
import { Subject } from 'rxjs';
import { In, MoreThan } from 'typeorm';

import { PosChange, PosChangeKind, PosSetting } from './entities';

const LOG = 'PosChangeLog';
export const GAP_GRACE_MS = 5000;
const PRUNED_THROUGH = 'feedPrunedThrough';
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * How long change-log rows are kept (ms). A terminal offline for longer re-imports its catalog.
 * `POS_CHANGE_LOG_RETENTION_DAYS` (default 30; 0 keeps everything).
 */
export function retentionMs(): number {
    const days = Number(process.env.POS_CHANGE_LOG_RETENTION_DAYS ?? 30);
    return Number.isFinite(days) && days > 0 ? days * 24 * 60 * 60 * 1000 : 0;
}

export interface PruneResult {
    deleted: number;
    /** Cursor of the newest pruned change: cursors below it must re-import. */
    horizonCursor: string;
}
/** States of an order that is still a cart: nothing a terminal needs to know yet. */
const CART_STATES = new Set(['Created', 'Draft', 'AddingItems', 'ArrangingPayment']);

export interface ChangeEntry {
    kind: PosChangeKind;
    entityId: string;
}

export interface ChangeRow {
    id: number;
    kind: PosChangeKind;
    entityId: string;
    atMs: number;
}

export interface ChangePage {
    /** Changes after the cursor, deduplicated by (kind, entityId), keeping each one's last id. */
    rows: ChangeRow[];
    nextCursor: string;
    hasMore: boolean;
    resetRequired: boolean;
}

@Injectable()
export class ChangeLog implements OnApplicationBootstrap, OnApplicationShutdown {
    /** Emits the newest change id after each commit; the SSE controller listens. */
    readonly latest$ = new Subject<number>();
    private epoch = '';
    private latestId = 0;
    /** Events this plugin published itself and already logged inside its own transaction. */
    private readonly selfPublished = new WeakSet<VendureEvent>();
    private poller?: NodeJS.Timeout;
    private pruner?: NodeJS.Timeout;

    constructor(private connection: TransactionalConnection, private eventBus: EventBus) {}

    async onApplicationBootstrap() {
        await this.loadEpoch();
        this.latestId = await this.maxId();
        // While SSE clients listen, re-read the newest id every 2 s: changes written by another
        // server process (a worker, a second instance) reach this process's listeners too.
        this.poller = setInterval(() => {
            if (this.latest$.observed) this.notify().catch(() => undefined);
        }, 2000);
        this.poller.unref();
        const keep = retentionMs();
        if (keep > 0) {
            const prune = () => this.prune(keep).catch(e => Logger.error(`change log pruning failed: ${e}`, LOG));
            void prune();
            this.pruner = setInterval(prune, PRUNE_EVERY_MS);
            this.pruner.unref();
        }
        const log = (entries: ChangeEntry[]) =>
            this.appendCommitted(entries).catch(e => Logger.error(`change log write failed: ${e}`, LOG));
        this.eventBus.ofType(ProductVariantEvent).subscribe(e => {
            log(e.entity.map(v => ({ kind: 'VARIANT', entityId: String(v.id) })));
        });
        this.eventBus.ofType(ProductVariantPriceEvent).subscribe(e => {
            log(e.entity.map(p => ({ kind: 'VARIANT', entityId: String(p.variant?.id ?? (p as any).variantId) })));
        });
        this.eventBus.ofType(ProductEvent).subscribe(e => {
            this.variantIdsOfProduct(e.entity.id)
                .then(ids => log(ids.map(id => ({ kind: 'VARIANT', entityId: id }))))
                .catch(err => Logger.error(`product change lookup failed: ${err}`, LOG));
        });
        this.eventBus.ofType(TaxRateModificationEvent).subscribe(e => {
            this.variantIdsOfTaxCategory(e.taxRate.categoryId)
                .then(ids => log(ids.map(id => ({ kind: 'VARIANT', entityId: id }))))
                .catch(err => Logger.error(`tax change lookup failed: ${err}`, LOG));
        });
        this.eventBus.ofType(StockMovementEvent).subscribe(e => {
            if (this.selfPublished.has(e)) return;
            const ids = new Set(e.stockMovements.map(m => String(m.productVariant?.id ?? (m as any).productVariantId)));
            log([...ids].map(id => ({ kind: 'STOCK', entityId: id })));
        });
        this.eventBus.ofType(OrderStateTransitionEvent).subscribe(e => {
            if (CART_STATES.has(e.toState)) return;
            log([{ kind: 'ORDER', entityId: String(e.order.id) }]);
        });
        this.eventBus.ofType(OrderPlacedEvent).subscribe(e => {
            log([{ kind: 'ORDER', entityId: String(e.order.id) }]);
        });
    }

    onApplicationShutdown() {
        if (this.poller) clearInterval(this.poller);
        if (this.pruner) clearInterval(this.pruner);
    }

    /** Marks an event this plugin publishes after logging its changes itself. */
    markSelfPublished<T extends VendureEvent>(event: T): T {
        this.selfPublished.add(event);
        return event;
    }

    /** Appends inside the caller's transaction (ctx); call `notify()` after the commit. */
    async appendInTransaction(ctx: RequestContext, entries: ChangeEntry[]): Promise<void> {
        if (!entries.length) return;
        const now = Date.now();
        await this.connection
            .getRepository(ctx, PosChange)
            .insert(entries.map(e => ({ kind: e.kind, entityId: e.entityId, atMs: now })));
    }

    /** Appends outside any transaction (from event subscribers, which run after the commit). */
    async appendCommitted(entries: ChangeEntry[]): Promise<void> {
        const unique = dedupe(entries.filter(e => e.entityId && e.entityId !== 'undefined'));
        if (!unique.length) return;
        const now = Date.now();
        const repo = this.connection.rawConnection.getRepository(PosChange);
        for (let i = 0; i < unique.length; i += 500) {
            await repo.insert(unique.slice(i, i + 500).map(e => ({ kind: e.kind, entityId: e.entityId, atMs: now })));
        }
        await this.notify();
    }

    /** Tells SSE listeners the newest id. Cheap: one indexed MAX(id). */
    async notify(): Promise<void> {
        const id = await this.maxId();
        if (id > this.latestId) this.latestId = id;
        this.latest$.next(this.latestId);
    }

    currentCursor(): string {
        return this.cursorFor(this.latestId);
    }

    cursorFor(id: number): string {
        return `${this.epoch}.${id}`;
    }

    async maxId(): Promise<number> {
        const row = await this.connection.rawConnection
            .getRepository(PosChange)
            .createQueryBuilder('c')
            .select('MAX(c.id)', 'max')
            .getRawOne();
        return Number(row?.max ?? 0);
    }

    /** Reads one page of the log after `cursor` (null = from the beginning). */
    async page(ctx: RequestContext, cursor: string | null | undefined, limit: number): Promise<ChangePage> {
        let after = 0;
        let resetRequired = false;
        if (cursor) {
            const [epoch, id] = cursor.split('.');
            if (epoch !== this.epoch || !/^\d+$/.test(id ?? '')) {
                resetRequired = true;
            } else {
                after = Number(id);
            }
        }
        if (cursor && !resetRequired && after < (await this.prunedThrough())) {
            // Changes after this cursor were pruned: reading on would skip them.
            resetRequired = true;
        }
        const take = Math.max(1, Math.min(limit || 500, 1000));
        const rows = await this.connection.getRepository(ctx, PosChange).find({
            where: { id: MoreThan(after) },
            order: { id: 'ASC' },
            take: take + 1,
        });
        let hasMore = rows.length > take;
        let scanned = rows.slice(0, take);
        // Stop before a young gap: an id below it may still be committing.
        const now = Date.now();
        let expected = after + 1;
        for (let i = 0; i < scanned.length; i++) {
            const row = scanned[i];
            if (row.id !== expected && now - row.atMs < GAP_GRACE_MS) {
                scanned = scanned.slice(0, i);
                hasMore = true;
                break;
            }
            expected = row.id + 1;
        }
        const last = scanned.length ? scanned[scanned.length - 1].id : after;
        const byKey = new Map<string, ChangeRow>();
        for (const row of scanned) {
            const key = `${row.kind}:${row.entityId}`;
            byKey.delete(key);
            byKey.set(key, { id: row.id, kind: row.kind, entityId: row.entityId, atMs: row.atMs });
        }
        return { rows: [...byKey.values()], nextCursor: this.cursorFor(last), hasMore, resetRequired };
    }

    /** The newest pruned change id (0: nothing pruned yet). */
    async prunedThrough(): Promise<number> {
        const row = await this.connection.rawConnection
            .getRepository(PosSetting)
            .findOne({ where: { name: PRUNED_THROUGH } });
        return Number(row?.value ?? 0);
    }

    /**
     * Deletes the changes older than `olderThanMs`. The horizon is stored before the rows go, so a
     * reader never sees rows missing without also seeing the horizon that tells it to re-import.
     */
    async prune(olderThanMs: number): Promise<PruneResult> {
        const repo = this.connection.rawConnection.getRepository(PosChange);
        const cutoff = Date.now() - Math.max(0, olderThanMs);
        const row = await repo
            .createQueryBuilder('c')
            .select('MAX(c.id)', 'max')
            .where('c.atMs < :cutoff', { cutoff })
            .getRawOne();
        const horizon = Number(row?.max ?? 0);
        const before = await this.prunedThrough();
        if (horizon <= before) return { deleted: 0, horizonCursor: this.cursorFor(before) };
        const settings = this.connection.rawConnection.getRepository(PosSetting);
        const updated = await settings.update({ name: PRUNED_THROUGH }, { value: String(horizon) });
        if (!updated.affected) {
            try {
                await settings.insert({ name: PRUNED_THROUGH, value: String(horizon) });
            } catch {
                // Another process inserted it meanwhile: take the larger horizon.
                await settings.update({ name: PRUNED_THROUGH }, { value: String(horizon) });
            }
        }
        const result = await repo
            .createQueryBuilder()
            .delete()
            .from(PosChange)
            .where('id <= :horizon', { horizon })
            .execute();
        const deleted = Number(result.affected ?? 0);
        Logger.info(`pruned ${deleted} change log rows through id ${horizon}`, LOG);
        return { deleted, horizonCursor: this.cursorFor(horizon) };
    }

    private async loadEpoch() {
        const repo = this.connection.rawConnection.getRepository(PosSetting);
        const existing = await repo.findOne({ where: { name: 'feedEpoch' } });
        if (existing) {
            this.epoch = existing.value;
            return;
        }
        const fresh = randomUUID().replace(/-/g, '').slice(0, 12);
        try {
            await repo.insert({ name: 'feedEpoch', value: fresh });
            this.epoch = fresh;
        } catch {
            // Another process (the worker) created it at the same moment.
            this.epoch = (await repo.findOneOrFail({ where: { name: 'feedEpoch' } })).value;
        }
    }

    private async variantIdsOfProduct(productId: string | number): Promise<string[]> {
        const rows = await this.connection.rawConnection
            .getRepository(ProductVariant)
            .find({ select: { id: true }, where: { productId: productId as any }, withDeleted: true });
        return rows.map(r => String(r.id));
    }

    private async variantIdsOfTaxCategory(taxCategoryId: string | number): Promise<string[]> {
        const rows = await this.connection.rawConnection
            .getRepository(ProductVariant)
            .find({ select: { id: true }, where: { taxCategoryId: In([taxCategoryId]) as any } });
        return rows.map(r => String(r.id));
    }
}

function dedupe(entries: ChangeEntry[]): ChangeEntry[] {
    const seen = new Set<string>();
    return entries.filter(e => {
        const key = `${e.kind}:${e.entityId}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}
