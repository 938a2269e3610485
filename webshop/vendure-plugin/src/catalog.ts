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
    ConfigService,
    ID,
    ProductPriceApplicator,
    ProductVariant,
    RequestContext,
    TransactionalConnection,
} from '@vendure/core';
import { In } from 'typeorm';

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

    /** Current state of the given variants (deleted ones included, flagged), in the given order. */
    async load(ctx: RequestContext, ids: ID[]): Promise<VariantView[]> {
        if (!ids.length) return [];
        const variants = await this.connection.getRepository(ctx, ProductVariant).find({
            where: { id: In(ids) },
            relations: {
                translations: true,
                taxCategory: true,
                featuredAsset: true,
                productVariantPrices: true,
                product: { translations: true, featuredAsset: true },
            },
            relationLoadStrategy: 'query',
        });
        const locationId = await this.terminals.locationFor(ctx);
        const levels = await this.stock.levels(ctx, locationId, ids);
        const byId = new Map(variants.map(v => [String(v.id), v]));
        const out: VariantView[] = [];
        for (const id of ids) {
            const v = byId.get(String(id));
            if (v) out.push(await this.view(ctx, v, locationId, levels.get(String(v.id))));
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
        v: ProductVariant,
        locationId: ID,
        level: { stockOnHand: number; stockAllocated: number } | undefined,
    ): Promise<VariantView> {
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
        const lang = ctx.languageCode;
        const product = v.product;
        const productTr = new Map((product?.translations ?? []).map(t => [t.languageCode as string, t]));
        const variantTr = new Map((v.translations ?? []).map(t => [t.languageCode as string, t]));
        const languages = [...new Set([...variantTr.keys(), ...productTr.keys()])].sort();
        const translations = languages.map(languageCode => ({
            languageCode,
            name: variantTr.get(languageCode)?.name ?? '',
            productName: productTr.get(languageCode)?.name ?? '',
            description: productTr.get(languageCode)?.description ?? '',
        }));
        const pick = translations.find(t => t.languageCode === lang) ?? translations[0];
        const asset = v.featuredAsset ?? product?.featuredAsset;
        return {
            id: String(v.id),
            productId: String(v.productId),
            sku: v.sku,
            name: pick?.name ?? '',
            productName: pick?.productName ?? '',
            description: pick?.description ?? '',
            translations,
            barcodes: splitBarcodes((v.customFields as any)?.barcode),
            enabled: v.enabled && (product?.enabled ?? true),
            deleted: v.deletedAt != null || product?.deletedAt != null,
            currencyCode,
            priceMinor,
            priceWithTaxMinor,
            pricesIncludeTax: includesTax,
            taxCategoryId: v.taxCategory ? String(v.taxCategory.id) : null,
            taxCategoryName: v.taxCategory?.name ?? null,
            taxRateBps,
            imageUrl: asset ? this.assetUrl(ctx, asset.preview) : null,
            stock: toSnapshot(v, locationId, level),
            updatedAt: v.updatedAt,
        };
    }

    private assetUrl(ctx: RequestContext, preview: string): string {
        const strategy = this.configService.assetOptions.assetStorageStrategy;
        if (strategy.toAbsoluteUrl && ctx.req) return strategy.toAbsoluteUrl(ctx.req as any, preview);
        return preview;
    }
}
