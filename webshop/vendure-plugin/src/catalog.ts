/**
 * What a terminal needs to know about a variant, read in bulk: the initial import pages
 * (`posCatalogPage`) and the current state behind `VARIANT`/`STOCK` change-feed items.
 *
 * Invariants:
 * - One page costs a fixed number of queries (ids, variants with relations loaded per relation,
 *   stock levels), whatever its size; no per-variant query.
 * - Stock is the sellable stock at the caller's stock location (the terminal's, else the channel
 *   default): stockOnHand − stockAllocated.
 * - Prices are the channel price as the shop's price strategies compute it, with and without tax.
 */
import { Injectable } from '@nestjs/common';
import {
    Asset,
    ConfigService,
    ID,
    Product,
    ProductPriceApplicator,
    ProductTranslation,
    ProductVariant,
    ProductVariantPrice,
    ProductVariantTranslation,
    RequestContext,
    TaxCategory,
    TransactionalConnection,
} from '@vendure/core';
import { ObjectLiteral } from 'typeorm';

import { StockLedger, StockSnapshot, toSnapshot } from './stock';
import { TerminalDirectory } from './terminals';

export interface VariantView {
    id: string;
    productId: string;
    sku: string;
    name: string;
    productName: string;
    description: string;
    translations: Array<{ languageCode: string; name: string; productName: string; description: string }>;
    barcodes: string[];
    enabled: boolean;
    deleted: boolean;
    currencyCode: string;
    priceMinor: number;
    priceWithTaxMinor: number;
    pricesIncludeTax: boolean;
    taxCategoryId: string | null;
    taxCategoryName: string | null;
    taxRateBps: number;
    imageUrl: string | null;
    stock: StockSnapshot;
    updatedAt: Date;
}

export function splitBarcodes(raw: unknown): string[] {
    if (typeof raw !== 'string') return [];
    return raw
        .split(/[,;\s]+/)
        .map(s => s.trim())
        .filter(Boolean);
}

@Injectable()
export class CatalogProjection {
    constructor(
        private connection: TransactionalConnection,
        private priceApplicator: ProductPriceApplicator,
        private configService: ConfigService,
        private stock: StockLedger,
        private terminals: TerminalDirectory,
    ) {}

    private readonly counts = new Map<string, { value: number; until: number }>();

    /** Count of live variants in the channel (the import's progress-bar total); cached for 10 s. */
    async count(ctx: RequestContext): Promise<number> {
        const key = String(ctx.channelId);
        const cached = this.counts.get(key);
        if (cached && cached.until > Date.now()) return cached.value;
        const value = await this.liveIdsQuery(ctx).getCount();
        this.counts.set(key, { value, until: Date.now() + 10_000 });
        return value;
    }

    /** Live variants after `afterId` in id order; `nextAfter` is null on the last page. */
    async page(ctx: RequestContext, afterId: number, skip: number, take: number) {
        const size = Math.max(1, Math.min(take || 500, 1000));
        const rows = await this.liveIdsQuery(ctx)
            .select('variant.id', 'id')
            .andWhere('variant.id > :after', { after: afterId })
            .orderBy('variant.id', 'ASC')
            .offset(skip || 0)
            .limit(size + 1)
            .getRawMany();
        const ids = rows.slice(0, size).map(r => r.id as ID);
        const items = await this.load(ctx, ids);
        const hasMore = rows.length > size;
        return { items, hasMore, nextAfter: hasMore && ids.length ? String(ids[ids.length - 1]) : null };
    }

    /**
     * Current state of the given variants (deleted ones included, flagged), in the given order.
     * Reads plain columns (no entity hydration: TypeORM's `find` with these relations took
     * ~1.1 s per 500 variants, these seven queries take a few tens of ms).
     */
    async load(ctx: RequestContext, ids: ID[]): Promise<VariantView[]> {
        if (!ids.length) return [];
        const repo = <T extends ObjectLiteral>(e: new (...args: any[]) => T) => this.connection.getRepository(ctx, e);
        const rows = await repo(ProductVariant)
            .createQueryBuilder('v')
            .select('v.id', 'id')
            .addSelect('v.sku', 'sku')
            .addSelect('v.enabled', 'enabled')
            .addSelect('v.deletedAt', 'deletedAt')
            .addSelect('v.updatedAt', 'updatedAt')
            .addSelect('v.productId', 'productId')
            .addSelect('v.taxCategoryId', 'taxCategoryId')
            .addSelect('v.featuredAssetId', 'featuredAssetId')
            .addSelect('v.customFields.barcode', 'barcode')
            .where('v.id IN (:...ids)', { ids })
            .getRawMany();
        const productIds = [...new Set(rows.map(r => r.productId))];
        const [variantTr, products, productTr, prices, taxCategories] = await Promise.all([
            repo(ProductVariantTranslation)
                .createQueryBuilder('t')
                .select('t.base', 'baseId')
                .addSelect('t.languageCode', 'languageCode')
                .addSelect('t.name', 'name')
                .where('t.base IN (:...ids)', { ids })
                .getRawMany(),
            productIds.length
                ? repo(Product)
                      .createQueryBuilder('p')
                      .select('p.id', 'id')
                      .addSelect('p.enabled', 'enabled')
                      .addSelect('p.deletedAt', 'deletedAt')
                      .addSelect('p.featuredAssetId', 'featuredAssetId')
                      .where('p.id IN (:...productIds)', { productIds })
                      .getRawMany()
                : [],
            productIds.length
                ? repo(ProductTranslation)
                      .createQueryBuilder('t')
                      .select('t.base', 'baseId')
                      .addSelect('t.languageCode', 'languageCode')
                      .addSelect('t.name', 'name')
                      .addSelect('t.description', 'description')
                      .where('t.base IN (:...productIds)', { productIds })
                      .getRawMany()
                : [],
            repo(ProductVariantPrice)
                .createQueryBuilder('pr')
                .select('pr.variant', 'variantId')
                .addSelect('pr.price', 'price')
                .addSelect('pr.currencyCode', 'currencyCode')
                .addSelect('pr.channelId', 'channelId')
                .where('pr.variant IN (:...ids)', { ids })
                .andWhere('pr.channelId = :channelId', { channelId: ctx.channelId })
                .getRawMany(),
            repo(TaxCategory).find(),
        ]);
        const productById = new Map(products.map(p => [String(p.id), p]));
        const assetIds = [
            ...new Set(
                rows
                    .map(r => r.featuredAssetId ?? productById.get(String(r.productId))?.featuredAssetId)
                    .filter(id => id != null),
            ),
        ];
        const assets = assetIds.length
            ? await repo(Asset)
                  .createQueryBuilder('a')
                  .select('a.id', 'id')
                  .addSelect('a.preview', 'preview')
                  .where('a.id IN (:...assetIds)', { assetIds })
                  .getRawMany()
            : [];
        const locationId = await this.terminals.locationFor(ctx);
        const levels = await this.stock.levels(ctx, locationId, ids);

        const group = <T extends { baseId?: unknown; variantId?: unknown }>(list: T[], key: 'baseId' | 'variantId') => {
            const m = new Map<string, T[]>();
            for (const item of list) {
                const k = String(item[key]);
                const arr = m.get(k);
                if (arr) arr.push(item);
                else m.set(k, [item]);
            }
            return m;
        };
        const variantTrBy = group(variantTr, 'baseId');
        const productTrBy = group(productTr, 'baseId');
        const pricesBy = group(prices, 'variantId');
        const taxById = new Map(taxCategories.map(t => [String(t.id), t]));
        const assetById = new Map(assets.map(a => [String(a.id), a.preview as string]));
        const rowById = new Map(rows.map(r => [String(r.id), r]));

        const out: VariantView[] = [];
        for (const id of ids) {
            const r = rowById.get(String(id));
            if (!r) continue;
            const product = productById.get(String(r.productId));
            const variant = new ProductVariant({
                id: r.id,
                sku: r.sku,
                productVariantPrices: (pricesBy.get(String(r.id)) ?? []).map(
                    p => new ProductVariantPrice({ price: Number(p.price), currencyCode: p.currencyCode, channelId: p.channelId }),
                ),
                taxCategory: taxById.get(String(r.taxCategoryId)),
            });
            out.push(
                await this.view(ctx, {
                    variant,
                    row: r,
                    product,
                    variantTranslations: variantTrBy.get(String(r.id)) ?? [],
                    productTranslations: productTrBy.get(String(r.productId)) ?? [],
                    preview: assetById.get(String(r.featuredAssetId ?? product?.featuredAssetId)) ?? null,
                    locationId,
                    level: levels.get(String(r.id)),
                }),
            );
        }
        return out;
    }

    private liveIdsQuery(ctx: RequestContext) {
        return this.connection
            .getRepository(ctx, ProductVariant)
            .createQueryBuilder('variant')
            .innerJoin('variant.channels', 'channel', 'channel.id = :channelId', { channelId: ctx.channelId })
            .innerJoin('variant.product', 'product')
            .where('variant.deletedAt IS NULL')
            .andWhere('product.deletedAt IS NULL');
    }

    private async view(
        ctx: RequestContext,
        d: {
            variant: ProductVariant;
            row: any;
            product: any;
            variantTranslations: Array<{ languageCode: string; name: string }>;
            productTranslations: Array<{ languageCode: string; name: string; description: string }>;
            preview: string | null;
            locationId: ID;
            level: { stockOnHand: number; stockAllocated: number } | undefined;
        },
    ): Promise<VariantView> {
        const v = d.variant;
        let priceMinor = 0;
        let priceWithTaxMinor = 0;
        let taxRateBps = 0;
        let includesTax = ctx.channel.pricesIncludeTax;
        let currencyCode: string = ctx.currencyCode;
        if (v.taxCategory) {
            await this.priceApplicator.applyChannelPriceAndTax(v, ctx);
            priceMinor = v.price;
            priceWithTaxMinor = v.priceWithTax;
            taxRateBps = Math.round(Number(v.taxRateApplied?.value ?? 0) * 100);
            includesTax = v.listPriceIncludesTax;
            currencyCode = v.currencyCode;
        }
        const productTr = new Map(d.productTranslations.map(t => [t.languageCode, t]));
        const variantTr = new Map(d.variantTranslations.map(t => [t.languageCode, t]));
        const languages = [...new Set([...variantTr.keys(), ...productTr.keys()])].sort();
        const translations = languages.map(languageCode => ({
            languageCode,
            name: variantTr.get(languageCode)?.name ?? '',
            productName: productTr.get(languageCode)?.name ?? '',
            description: productTr.get(languageCode)?.description ?? '',
        }));
        const pick = translations.find(t => t.languageCode === ctx.languageCode) ?? translations[0];
        const r = d.row;
        return {
            id: String(r.id),
            productId: String(r.productId),
            sku: r.sku,
            name: pick?.name ?? '',
            productName: pick?.productName ?? '',
            description: pick?.description ?? '',
            translations,
            barcodes: splitBarcodes(r.barcode),
            enabled: truthy(r.enabled) && (d.product ? truthy(d.product.enabled) : true),
            deleted: r.deletedAt != null || d.product?.deletedAt != null,
            currencyCode,
            priceMinor,
            priceWithTaxMinor,
            pricesIncludeTax: includesTax,
            taxCategoryId: v.taxCategory ? String(v.taxCategory.id) : null,
            taxCategoryName: v.taxCategory?.name ?? null,
            taxRateBps,
            imageUrl: d.preview ? this.assetUrl(ctx, d.preview) : null,
            stock: toSnapshot(v, d.locationId, d.level),
            updatedAt: toDate(r.updatedAt),
        };
    }

    private assetUrl(ctx: RequestContext, preview: string): string {
        const strategy = this.configService.assetOptions.assetStorageStrategy;
        if (strategy.toAbsoluteUrl && ctx.req) return strategy.toAbsoluteUrl(ctx.req as any, preview);
        return preview;
    }
}

/** SQLite returns booleans as 0/1, PostgreSQL as true/false. */
function truthy(v: unknown): boolean {
    return v === true || v === 1 || v === '1' || v === 't' || v === 'true';
}

/** SQLite returns UTC datetimes as 'YYYY-MM-DD HH:MM:SS.sss' strings, PostgreSQL as Dates. */
function toDate(v: unknown): Date {
    if (v instanceof Date) return v;
    const s = String(v);
    return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s.replace(' ', 'T') + 'Z');
}
