/**
 * The Admin API extension: every operation a terminal uses, all behind the `PosTerminal`
 * permission (SuperAdmin passes too). README.md documents each one with examples.
 */
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, ID, Order, Permission, ProductVariant, RequestContext, TransactionalConnection, UserInputError } from '@vendure/core';
import gql from 'graphql-tag';
import { In } from 'typeorm';

import { CatalogProjection } from './catalog';
import { ChangeLog } from './change-log';
import { PosStockConflict, PosTerminal } from './entities';
import { OrderProjection } from './orders';
import { posTerminalPermission } from './permission';
import { SaleRecorder } from './sale';
import { conflictView, StockLedger, toSnapshot } from './stock';
import { TerminalDirectory } from './terminals';
import { ZReportLedger } from './z-report';

export const adminSchema = gql`
    enum PosStockReason { SALE RETURN WRITE_OFF COUNT }
    enum PosWriteStatus { APPLIED STALE UNKNOWN_SKU }
    enum PosChangeKind { VARIANT STOCK ORDER }
    enum PosCollectStatus { COLLECTED ALREADY_COLLECTED NOT_FOUND NOT_A_PICKUP NOT_READY }

    input PosSaleLineInput { sku: String!, quantity: Int!, unitPriceMinor: Int!, lineTotalMinor: Int!, taxRateBps: Int! }
    input PosSaleTotalsInput { totalMinor: Int!, taxMinor: Int! }
    input PosPaymentInput { method: String!, amountMinor: Int! }
    input PosSaleInput {
        saleId: String!
        terminalId: String!
        receiptNumber: String!
        occurredAt: DateTime!
        currencyCode: CurrencyCode!
        pricesIncludeTax: Boolean
        lines: [PosSaleLineInput!]!
        totals: PosSaleTotalsInput!
        payments: [PosPaymentInput!]!
        locationId: ID
        "The register's CompletedSale JSON, kept verbatim for returns at any terminal (at most 1 MB)."
        document: String
    }
    input PosAdjustStockInput {
        idempotencyKey: String!
        sku: String!
        delta: Int!
        reason: PosStockReason!
        note: String
        locationId: ID
    }
    input PosCreateTerminalInput { terminalId: String!, password: String!, name: String, stockLocationId: ID }
    input PosZReportInput {
        idempotencyKey: String!
        terminalCode: String!
        number: Int!
        openedAt: DateTime!
        closedAt: DateTime!
        currency: String!
        totalSalesMinor: Int!
        overShortMinor: Int!
        report: String!
    }

    type PosStockConflict {
        id: ID!
        saleId: String
        terminalId: String
        sku: String!
        variantId: ID
        locationId: ID
        reason: String!
        requested: Int!
        availableBefore: Int
        at: String!
        resolvedAt: String
        resolution: String
    }
    type PosSaleResult { saleId: String!, orderId: ID!, orderCode: String!, duplicate: Boolean!, conflicts: [PosStockConflict!]! }
    type PosSaleBatchItem { saleId: String!, result: PosSaleResult, error: String }
    type PosStock { variantId: ID!, sku: String!, locationId: ID!, stockOnHand: Int!, stockAllocated: Int!, sellable: Int! }
    type PosAdjustStockResult {
        status: PosWriteStatus!
        duplicate: Boolean!
        idempotencyKey: String!
        sku: String!
        delta: Int!
        reason: PosStockReason!
        stock: PosStock
        conflict: PosStockConflict
    }
    type PosSetStockResult {
        status: PosWriteStatus!
        duplicate: Boolean!
        idempotencyKey: String!
        sku: String!
        expectedStockOnHand: Int!
        newStockOnHand: Int!
        currentStockOnHand: Int
        stock: PosStock
    }
    type PosTranslation { languageCode: String!, name: String!, productName: String!, description: String! }
    type PosVariant {
        id: ID!
        productId: ID!
        sku: String!
        name: String!
        productName: String!
        description: String!
        translations: [PosTranslation!]!
        barcodes: [String!]!
        enabled: Boolean!
        deleted: Boolean!
        currencyCode: String!
        priceMinor: Int!
        priceWithTaxMinor: Int!
        pricesIncludeTax: Boolean!
        taxCategoryId: ID
        taxCategoryName: String
        taxRateBps: Int!
        imageUrl: String
        stock: PosStock!
        updatedAt: DateTime!
    }
    type PosOrderLine { sku: String!, name: String!, quantity: Int!, unitPriceWithTaxMinor: Int!, linePriceWithTaxMinor: Int! }
    type PosPickupLocation { locationId: ID!, locationName: String! }
    type PosOrder {
        id: ID!
        code: String!
        state: String!
        source: String!
        posSaleId: String
        posTerminalId: String
        placedAt: DateTime
        updatedAt: DateTime!
        customerName: String
        customerEmail: String
        currencyCode: String!
        totalWithTaxMinor: Int!
        lines: [PosOrderLine!]!
        pickup: PosPickupLocation
        collected: Boolean!
    }
    type PosChange {
        cursor: String!
        kind: PosChangeKind!
        entityId: ID!
        at: DateTime!
        variant: PosVariant
        stock: PosStock
        order: PosOrder
    }
    type PosChangePage { items: [PosChange!]!, nextCursor: String!, hasMore: Boolean!, resetRequired: Boolean! }
    type PosCatalogPage { items: [PosVariant!]!, nextAfter: ID, hasMore: Boolean!, totalItems: Int! }
    type PosCollectResult { status: PosCollectStatus!, duplicate: Boolean!, orderCode: String!, message: String, order: PosOrder }
    type PosTerminalInfo { id: ID!, terminalId: String!, name: String!, administratorId: ID!, stockLocationId: ID, createdAt: DateTime! }
    type PosWhoAmI { terminal: PosTerminalInfo, stockLocationId: ID!, latestCursor: String! }
    type PosPruneResult { deleted: Int!, horizonCursor: String! }
    type PosZReport {
        id: ID!
        idempotencyKey: String!
        terminalCode: String!
        number: Int!
        openedAt: DateTime!
        closedAt: DateTime!
        currency: String!
        totalSalesMinor: Int!
        overShortMinor: Int!
        report: String!
        recordedBy: String
        recordedAt: DateTime!
    }
    type PosZReportResult { duplicate: Boolean!, zReport: PosZReport! }

    extend type Query {
        posWhoAmI: PosWhoAmI!
        posCatalogCount: Int!
        posCatalogPage(after: ID, skip: Int, take: Int): PosCatalogPage!
        posChanges(after: String, limit: Int): PosChangePage!
        posStock(skus: [String!]!, locationId: ID): [PosStock!]!
        posStockConflicts(includeResolved: Boolean): [PosStockConflict!]!
        posPickups(locationId: ID, terminalId: String, includeCollected: Boolean): [PosOrder!]!
        posOrder(code: String!): PosOrder
        posTerminals: [PosTerminalInfo!]!
        posZReports(terminalCode: String, from: DateTime, to: DateTime, take: Int): [PosZReport!]!
    }
    extend type Mutation {
        posRecordSale(input: PosSaleInput!): PosSaleResult!
        posRecordSales(inputs: [PosSaleInput!]!): [PosSaleBatchItem!]!
        posAdjustStock(input: PosAdjustStockInput!): PosAdjustStockResult!
        posSetStockIfUnchanged(sku: String!, expectedStockOnHand: Int!, newStockOnHand: Int!, idempotencyKey: String!, locationId: ID): PosSetStockResult!
        posResolveStockConflict(id: ID!, resolution: String!): PosStockConflict!
        posMarkCollected(orderCode: String!, idempotencyKey: String!): PosCollectResult!
        posCreateTerminal(input: PosCreateTerminalInput!): PosTerminalInfo!
        posPruneChangeLog(olderThanSeconds: Int!): PosPruneResult!
        posRecordZReport(input: PosZReportInput!): PosZReportResult!
    }
`;

const POS = posTerminalPermission.Permission;

@Resolver()
export class PosResolver {
    constructor(
        private connection: TransactionalConnection,
        private sales: SaleRecorder,
        private stock: StockLedger,
        private catalog: CatalogProjection,
        private orders: OrderProjection,
        private changeLog: ChangeLog,
        private terminals: TerminalDirectory,
        private zReports: ZReportLedger,
    ) {}

    @Query()
    @Allow(POS)
    async posWhoAmI(@Ctx() ctx: RequestContext) {
        return {
            terminal: await this.terminals.terminalOf(ctx),
            stockLocationId: await this.terminals.locationFor(ctx),
            latestCursor: this.changeLog.cursorFor(await this.changeLog.maxId()),
        };
    }

    @Query()
    @Allow(POS)
    posCatalogCount(@Ctx() ctx: RequestContext) {
        return this.catalog.count(ctx);
    }

    @Query()
    @Allow(POS)
    async posCatalogPage(@Ctx() ctx: RequestContext, @Args() args: { after?: ID; skip?: number; take?: number }) {
        const page = await this.catalog.page(ctx, Number(args.after ?? 0), args.skip ?? 0, args.take ?? 500);
        return { ...page, totalItems: await this.catalog.count(ctx) };
    }

    @Query()
    @Allow(POS)
    async posChanges(@Ctx() ctx: RequestContext, @Args() args: { after?: string; limit?: number }) {
        const page = await this.changeLog.page(ctx, args.after, args.limit ?? 500);
        const ids = (kind: string) => page.rows.filter(r => r.kind === kind).map(r => r.entityId);
        const variants = new Map((await this.catalog.load(ctx, ids('VARIANT'))).map(v => [v.id, v]));
        const orders = new Map((await this.orders.load(ctx, ids('ORDER'))).map(o => [o.id, o]));
        const stockIds = ids('STOCK');
        const stocks = new Map<string, ReturnType<typeof toSnapshot>>();
        if (stockIds.length) {
            const location = await this.terminals.locationFor(ctx);
            const found = await this.connection.getRepository(ctx, ProductVariant).find({
                select: { id: true, sku: true },
                where: { id: In(stockIds) },
            });
            const levels = await this.stock.levels(ctx, location, stockIds);
            for (const v of found) stocks.set(String(v.id), toSnapshot(v, location, levels.get(String(v.id))));
        }
        return {
            items: page.rows.map(r => ({
                cursor: this.changeLog.cursorFor(r.id),
                kind: r.kind,
                entityId: r.entityId,
                at: new Date(r.atMs),
                variant: r.kind === 'VARIANT' ? variants.get(r.entityId) ?? null : null,
                stock: r.kind === 'STOCK' ? stocks.get(r.entityId) ?? null : (r.kind === 'VARIANT' ? variants.get(r.entityId)?.stock ?? null : null),
                order: r.kind === 'ORDER' ? orders.get(r.entityId) ?? null : null,
            })),
            nextCursor: page.nextCursor,
            hasMore: page.hasMore,
            resetRequired: page.resetRequired,
        };
    }

    @Query()
    @Allow(POS)
    async posStock(@Ctx() ctx: RequestContext, @Args() args: { skus: string[]; locationId?: ID }) {
        const location = await this.terminals.locationFor(ctx, args.locationId);
        const variants = [...(await this.stock.variantsBySku(ctx, args.skus)).values()];
        const levels = await this.stock.levels(ctx, location, variants.map(v => v.id));
        return variants.map(v => toSnapshot(v, location, levels.get(String(v.id))));
    }

    @Query()
    @Allow(POS)
    async posStockConflicts(@Ctx() ctx: RequestContext, @Args() args: { includeResolved?: boolean }) {
        const rows = await this.connection.getRepository(ctx, PosStockConflict).find({ order: { id: 'ASC' } });
        return rows.filter(c => args.includeResolved || !c.resolvedAt).map(conflictView);
    }

    @Query()
    @Allow(POS)
    async posPickups(@Ctx() ctx: RequestContext, @Args() args: { locationId?: ID; terminalId?: string; includeCollected?: boolean }) {
        let locationId = args.locationId;
        if (locationId == null && args.terminalId) {
            const terminal = await this.connection.getRepository(ctx, PosTerminal).findOne({ where: { terminalId: args.terminalId } });
            if (!terminal) throw new UserInputError(`Unknown terminal ${args.terminalId}`);
            locationId = terminal.stockLocationId ?? undefined;
        }
        return this.orders.pickups(ctx, locationId, !!args.includeCollected);
    }

    @Query()
    @Allow(POS)
    async posOrder(@Ctx() ctx: RequestContext, @Args() args: { code: string }) {
        const found = await this.connection.getRepository(ctx, Order).findOne({ where: { code: args.code }, select: { id: true } });
        if (!found) return null;
        return (await this.orders.load(ctx, [found.id]))[0] ?? null;
    }

    @Query()
    @Allow(Permission.ReadAdministrator)
    posTerminals(@Ctx() ctx: RequestContext) {
        return this.terminals.list(ctx);
    }

    @Mutation()
    @Allow(POS)
    posRecordSale(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.sales.record(ctx, args.input);
    }

    @Mutation()
    @Allow(POS)
    async posRecordSales(@Ctx() ctx: RequestContext, @Args() args: { inputs: any[] }) {
        if (args.inputs.length > 200) throw new UserInputError('at most 200 sales per call');
        const out = [];
        for (const input of args.inputs) {
            try {
                out.push({ saleId: input.saleId, result: await this.sales.record(ctx, input), error: null });
            } catch (e: any) {
                out.push({ saleId: input.saleId, result: null, error: String(e?.message ?? e) });
            }
        }
        return out;
    }

    @Mutation()
    @Allow(POS)
    posAdjustStock(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.stock.adjust(ctx, args.input);
    }

    @Mutation()
    @Allow(POS)
    posSetStockIfUnchanged(
        @Ctx() ctx: RequestContext,
        @Args() args: { sku: string; expectedStockOnHand: number; newStockOnHand: number; idempotencyKey: string; locationId?: ID },
    ) {
        return this.stock.setIfUnchanged(ctx, args);
    }

    @Mutation()
    @Allow(POS)
    async posResolveStockConflict(@Ctx() ctx: RequestContext, @Args() args: { id: ID; resolution: string }) {
        const repo = this.connection.getRepository(ctx, PosStockConflict);
        const conflict = await repo.findOne({ where: { id: Number(args.id) } });
        if (!conflict) throw new UserInputError(`No stock conflict ${args.id}`);
        if (!conflict.resolvedAt) {
            conflict.resolvedAt = new Date().toISOString();
            conflict.resolution = args.resolution;
            await repo.save(conflict);
        }
        return conflictView(conflict);
    }

    @Mutation()
    @Allow(POS)
    async posMarkCollected(@Ctx() ctx: RequestContext, @Args() args: { orderCode: string; idempotencyKey: string }) {
        const result = await this.orders.markCollected(ctx, args.orderCode, args.idempotencyKey);
        return { ...result, order: await this.posOrder(ctx, { code: args.orderCode }) };
    }

    @Mutation()
    @Allow(Permission.CreateAdministrator)
    posCreateTerminal(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.terminals.create(ctx, args.input);
    }

    /** Prunes the change log now (it is also pruned hourly by the retention window). */
    @Mutation()
    @Allow(Permission.UpdateSettings)
    posPruneChangeLog(@Args() args: { olderThanSeconds: number }) {
        return this.changeLog.prune(Math.max(0, args.olderThanSeconds) * 1000);
    }

    /** A register's Z report, exactly once per key; never overwritten (see z-report.ts). */
    @Mutation()
    @Allow(POS)
    posRecordZReport(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.zReports.record(ctx, args.input);
    }

    /** Z reports for the unified reports: by terminal and closing time (from inclusive, to exclusive). */
    @Query()
    @Allow(POS, Permission.ReadOrder)
    posZReports(@Ctx() ctx: RequestContext, @Args() args: { terminalCode?: string; from?: Date; to?: Date; take?: number }) {
        return this.zReports.list(ctx, args);
    }
}
