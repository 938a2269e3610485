/**
 * PosPlugin: the server half of the point-of-sale integration.
 *
 * Adds to the shop: custom fields (Order: source, posSaleId, posTerminalId, posReceiptNumber,
 * posPickupLocationId; ProductVariant: barcode; ShippingMethod: posPickupLocationId), the
 * `PosTerminal` permission, the plugin's tables (Z reports, the gift-card ledger, sale documents and
 * returns included), the Admin API operations in api.ts, gift-card-api.ts and returns-api.ts (with a
 * 16 MB JSON body limit on the Admin API), the Shop API's `giftCardBalance`, the `pos-gift-card`
 * payment handler and the SSE endpoint `GET /pos/events`.
 */
import { LanguageCode, PluginCommonModule, VendurePlugin } from '@vendure/core';
import { json } from 'express';
import gql from 'graphql-tag';

import { adminSchema, PosResolver } from './api';
import { CatalogProjection } from './catalog';
import { ChangeLog } from './change-log';
import { PosChange, PosOperation, PosSetting, PosStockConflict, PosTerminal, PosZReport } from './entities';
import { PosEventsController } from './events.controller';
import { GiftCardAdminResolver, giftCardAdminSchema, GiftCardShopResolver, giftCardShopSchema } from './gift-card-api';
import { GiftCardLedger } from './gift-card';
import { PosGiftCard, PosGiftCardEntry } from './gift-card-entities';
import { giftCardPaymentHandler } from './gift-card-payment';
import { OrderProjection } from './orders';
import { posTerminalPermission } from './permission';
import { ReturnLedger, SaleForReturnLookup } from './returns';
import { PosReturnResolver, returnsAdminSchema } from './returns-api';
import { PosReturn, PosSaleDocument } from './returns-entities';
import { SaleRecorder } from './sale';
import { StockLedger } from './stock';
import { TerminalDirectory } from './terminals';
import { ZReportLedger } from './z-report';

const label = (value: string) => [{ languageCode: LanguageCode.en, value }];

/** JSON body limit of the Admin API: room for a batch of sales or a return with 1 MB documents. */
export const ADMIN_API_BODY_LIMIT = '16mb';

@VendurePlugin({
    imports: [PluginCommonModule],
    compatibility: '^3.0.0',
    entities: [PosChange, PosOperation, PosStockConflict, PosTerminal, PosSetting, PosZReport, PosGiftCard, PosGiftCardEntry, PosSaleDocument, PosReturn],
    providers: [ChangeLog, TerminalDirectory, StockLedger, SaleRecorder, CatalogProjection, OrderProjection, ZReportLedger, GiftCardLedger, ReturnLedger, SaleForReturnLookup],
    controllers: [PosEventsController],
    adminApiExtensions: {
        schema: gql`${adminSchema}${giftCardAdminSchema}${returnsAdminSchema}`,
        resolvers: [PosResolver, GiftCardAdminResolver, PosReturnResolver],
    },
    shopApiExtensions: { schema: giftCardShopSchema, resolvers: [GiftCardShopResolver] },
    configuration: config => {
        config.authOptions.customPermissions.push(posTerminalPermission);
        config.paymentOptions.paymentMethodHandlers.push(giftCardPaymentHandler);
        // Sale and return documents may be up to 1 MB each (returns.ts); Vendure's JSON body limit is
        // 100 kB. Raised for the Admin API only; a parser the owner configured for all routes runs first.
        config.apiOptions.middleware.push({
            route: `/${config.apiOptions.adminApiPath}`,
            handler: json({ limit: ADMIN_API_BODY_LIMIT }),
            beforeListen: true,
        });
        config.customFields.Order.push(
            {
                name: 'source',
                type: 'string',
                defaultValue: 'web',
                options: [{ value: 'web' }, { value: 'pos' }],
                public: true,
                readonly: true,
                label: label('Sales channel (web or pos)'),
            },
            { name: 'posSaleId', type: 'string', nullable: true, unique: true, public: false, readonly: true, label: label('POS sale id') },
            { name: 'posTerminalId', type: 'string', nullable: true, public: false, readonly: true, label: label('POS terminal') },
            { name: 'posReceiptNumber', type: 'string', nullable: true, public: false, readonly: true, label: label('POS receipt number') },
            {
                name: 'posPickupLocationId',
                type: 'string',
                nullable: true,
                public: true,
                label: label('Click & collect: stock location id of the pickup store'),
            },
        );
        config.customFields.ProductVariant.push({
            name: 'barcode',
            type: 'string',
            nullable: true,
            public: true,
            label: label('Barcodes (GTIN/EAN/UPC; several separated by commas)'),
        });
        config.customFields.ShippingMethod.push({
            name: 'posPickupLocationId',
            type: 'string',
            nullable: true,
            public: true,
            label: label('Click & collect: stock location id of the pickup store'),
        });
        return config;
    },
})
export class PosPlugin {}
