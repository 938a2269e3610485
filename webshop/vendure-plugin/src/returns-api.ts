/**
 * Admin API of returns across terminals (returns.ts): `posRecordReturn` and `posSaleForReturn`,
 * both behind the `PosTerminal` permission like every other pos* operation. The sale document
 * itself travels in `PosSaleInput.document` (api.ts). README.md documents both with examples.
 */
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, RequestContext } from '@vendure/core';
import gql from 'graphql-tag';

import { posTerminalPermission } from './permission';
import { PosReturnInput, ReturnLedger, SaleForReturnLookup } from './returns';

export const returnsAdminSchema = gql`
    input PosReturnLineInput { saleLineNo: Int!, sku: String!, quantity: Int!, soldQuantity: Int! }
    input PosReturnInput {
        "UUID of the return: the idempotency key."
        returnId: String!
        "UUID of the POS sale it corrects (null for an online order)."
        saleId: String
        "The web order's code, for a return of an online order."
        orderCode: String
        terminalId: String!
        returnNumber: String!
        occurredAt: DateTime!
        currencyCode: CurrencyCode!
        "Magnitude (positive) refunded, minor units."
        totalMinor: Int!
        lines: [PosReturnLineInput!]!
        "pos_core CompletedReturn JSON, kept verbatim (at most 1 MB)."
        document: String!
    }
    type PosReturnResult { returnId: String!, duplicate: Boolean!, conflicts: [PosStockConflict!]! }

    type PosReturnLine { saleLineNo: Int!, sku: String!, quantity: Int!, soldQuantity: Int! }
    type PosReturnRecord { returnId: String!, terminalId: String!, returnNumber: String!, occurredAt: String!, lines: [PosReturnLine!]!, document: String! }
    "Prices with and without tax; line prices are after the order's promotions (prorated)."
    type PosOnlineOrderLine {
        lineNo: Int!
        sku: String!
        name: String!
        quantity: Int!
        unitPriceWithTaxMinor: Int!
        linePriceWithTaxMinor: Int!
        unitPriceMinor: Int!
        linePriceMinor: Int!
        taxRateBps: Int!
    }
    "giftCardCode: the card's number when one of the shop's gift cards paid (pos-gift-card)."
    type PosOnlinePayment { method: String!, amountMinor: Int!, state: String!, transactionId: String, giftCardCode: String }
    type PosGiftCardRedeem { idempotencyKey: String!, code: String! }
    type PosOnlineOrder {
        code: String!
        state: String!
        orderPlacedAt: String
        currencyCode: String!
        pricesIncludeTax: Boolean!
        totalWithTaxMinor: Int!
        customerEmail: String
        customerName: String
        lines: [PosOnlineOrderLine!]!
        payments: [PosOnlinePayment!]!
    }
    type PosSaleForReturn {
        "POS or ONLINE"
        source: String!
        saleId: String
        orderCode: String!
        terminalId: String
        receiptNumber: String
        document: String
        order: PosOnlineOrder
        returns: [PosReturnRecord!]!
        "POS: the shop's gift cards that paid the sale, by the register's redeem key <saleId>-<tender position>"
        giftCardRedeems: [PosGiftCardRedeem!]!
    }

    extend type Query {
        posSaleForReturn(code: String!): PosSaleForReturn
    }
    extend type Mutation {
        posRecordReturn(input: PosReturnInput!): PosReturnResult!
    }
`;

const POS = posTerminalPermission.Permission;

@Resolver()
export class PosReturnResolver {
    constructor(
        private ledger: ReturnLedger,
        private lookup: SaleForReturnLookup,
    ) {}

    /** A POS sale (receipt number or UUID) or web order (code) with every recorded return of it. */
    @Query()
    @Allow(POS)
    posSaleForReturn(@Ctx() ctx: RequestContext, @Args() args: { code: string }) {
        return this.lookup.find(ctx, args.code);
    }

    /** A terminal's return, exactly once per returnId; never refused for quantities. */
    @Mutation()
    @Allow(POS)
    posRecordReturn(@Ctx() ctx: RequestContext, @Args() args: { input: PosReturnInput }) {
        return this.ledger.record(ctx, args.input);
    }
}
