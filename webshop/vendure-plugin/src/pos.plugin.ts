/**
 * PosPlugin: the server half of the point-of-sale integration.
 *
 * Adds to the shop: custom fields (Order: source, posSaleId, posTerminalId, posReceiptNumber,
 * posPickupLocationId; ProductVariant: barcode; ShippingMethod: posPickupLocationId), the
 * `PosTerminal` permission, the plugin's tables (Z reports and the gift-card ledger included), the Admin API operations in
 * api.ts and gift-card-api.ts, the Shop API's `giftCardBalance`, the `pos-gift-card` payment handler and the SSE
 * endpoint `GET /pos/events`.
 */
import { LanguageCode, PluginCommonModule, VendurePlugin } from '@vendure/core';
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
import { SaleRecorder } from './sale';
import { StockLedger } from './stock';
import { TerminalDirectory } from './terminals';
import { ZReportLedger } from './z-report';

const label = (value: string) => [{ languageCode: LanguageCode.en, value }];

@VendurePlugin({
    imports: [PluginCommonModule],
    compatibility: '^3.0.0',
    entities: [PosChange, PosOperation, PosStockConflict, PosTerminal, PosSetting, PosZReport, PosGiftCard, PosGiftCardEntry],
    providers: [ChangeLog, TerminalDirectory, StockLedger, SaleRecorder, CatalogProjection, OrderProjection, ZReportLedger, GiftCardLedger],
    controllers: [PosEventsController],
    adminApiExtensions: { schema: gql`${adminSchema}${giftCardAdminSchema}`, resolvers: [PosResolver, GiftCardAdminResolver] },
    shopApiExtensions: { schema: giftCardShopSchema, resolvers: [GiftCardShopResolver] },
    configuration: config => {
        config.authOptions.customPermissions.push(posTerminalPermission);
        config.paymentOptions.paymentMethodHandlers.push(giftCardPaymentHandler);
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
