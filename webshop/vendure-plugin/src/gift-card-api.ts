/**
 * GraphQL for the shared gift-card ledger (see gift-card.ts): the terminals' Admin API
 * operations (behind `PosTerminal`) and the storefront's Shop API balance query. Storefronts pay
 * with a card through `addPaymentToOrder` with the `pos-gift-card` handler (gift-card-payment.ts).
 * README.md documents each operation.
 */
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Allow, Ctx, Permission, RequestContext } from '@vendure/core';
import gql from 'graphql-tag';

import { GiftCardLedger, maskCode } from './gift-card';
import { posTerminalPermission } from './permission';
import { TerminalDirectory } from './terminals';

export const giftCardAdminSchema = gql`
    enum PosGiftCardStatus { OK UNKNOWN_CARD INACTIVE INSUFFICIENT_BALANCE CURRENCY_MISMATCH CODE_IN_USE NOT_REDEEMED }
    enum PosGiftCardEntryKind { ISSUE TOP_UP REDEEM RELEASE }
    type PosGiftCard { code: String!, currency: String!, balanceMinor: Int!, active: Boolean!, createdAt: DateTime! }
    type PosGiftCardEntry {
        id: ID!
        code: String!
        kind: PosGiftCardEntryKind!
        idempotencyKey: String!
        amountMinor: Int!
        balanceAfterMinor: Int!
        channel: String!
        releases: String
        createdAt: DateTime!
    }
    type PosGiftCardResult { status: PosGiftCardStatus!, duplicate: Boolean!, card: PosGiftCard, entry: PosGiftCardEntry }
    input PosIssueGiftCardInput { idempotencyKey: String!, code: String, currency: String!, amountMinor: Int! }
    input PosTopUpGiftCardInput { idempotencyKey: String!, code: String!, amountMinor: Int! }
    input PosRedeemGiftCardInput { idempotencyKey: String!, code: String!, amountMinor: Int!, currency: String }

    extend type Query {
        posGiftCard(code: String!): PosGiftCard
        posGiftCardEntries(code: String!): [PosGiftCardEntry!]!
    }
    extend type Mutation {
        posIssueGiftCard(input: PosIssueGiftCardInput!): PosGiftCardResult!
        posTopUpGiftCard(input: PosTopUpGiftCardInput!): PosGiftCardResult!
        posRedeemGiftCard(input: PosRedeemGiftCardInput!): PosGiftCardResult!
        posReleaseGiftCardRedeem(idempotencyKey: String!): PosGiftCardResult!
    }
`;

export const giftCardShopSchema = gql`
    type GiftCardBalance { code: String!, currencyCode: String!, balance: Money!, active: Boolean! }
    extend type Query {
        "A gift card's balance by its number (the code comes back masked)."
        giftCardBalance(code: String!): GiftCardBalance
    }
`;

const POS = posTerminalPermission.Permission;

@Resolver()
export class GiftCardAdminResolver {
    constructor(
        private ledger: GiftCardLedger,
        private terminals: TerminalDirectory,
    ) {}

    /** Who moves the money: the terminal id, or "admin" for an owner account. */
    private async channel(ctx: RequestContext): Promise<string> {
        return (await this.terminals.terminalOf(ctx))?.terminalId ?? 'admin';
    }

    @Query()
    @Allow(POS)
    posGiftCard(@Ctx() ctx: RequestContext, @Args() args: { code: string }) {
        return this.ledger.card(ctx, args.code);
    }

    @Query()
    @Allow(POS)
    posGiftCardEntries(@Ctx() ctx: RequestContext, @Args() args: { code: string }) {
        return this.ledger.entries(ctx, args.code);
    }

    @Mutation()
    @Allow(POS)
    async posIssueGiftCard(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.ledger.issue(ctx, args.input, await this.channel(ctx));
    }

    @Mutation()
    @Allow(POS)
    async posTopUpGiftCard(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.ledger.topUp(ctx, args.input, await this.channel(ctx));
    }

    @Mutation()
    @Allow(POS)
    async posRedeemGiftCard(@Ctx() ctx: RequestContext, @Args() args: { input: any }) {
        return this.ledger.redeem(ctx, args.input, await this.channel(ctx));
    }

    @Mutation()
    @Allow(POS)
    async posReleaseGiftCardRedeem(@Ctx() ctx: RequestContext, @Args() args: { idempotencyKey: string }) {
        return this.ledger.release(ctx, args.idempotencyKey, await this.channel(ctx));
    }
}

@Resolver()
export class GiftCardShopResolver {
    constructor(private ledger: GiftCardLedger) {}

    @Query()
    @Allow(Permission.Public)
    async giftCardBalance(@Ctx() ctx: RequestContext, @Args() args: { code: string }) {
        const card = await this.ledger.card(ctx, args.code);
        if (!card) return null;
        return { code: maskCode(card.code), currencyCode: card.currency, balance: card.balanceMinor, active: card.active };
    }
}
