/**
 * The gift-card ledger's tables: one row per card (its balance) and one append-only row per
 * movement (issue, top up, redeem, release).
 *
 * Invariants:
 * - `PosGiftCard.balance` (minor units) is never negative: it only goes down through a
 *   conditional `UPDATE … SET balance = balance - x WHERE balance >= x`.
 * - For every card, balance = the sum of its entries' signed `amount`, and each entry's
 *   `balanceAfter` is the balance right after it (entries are written in the same transaction
 *   as the balance change).
 * - One entry per idempotency key (unique index): a repeated issue, top-up, redeem or release
 *   returns the first entry and changes nothing. A release's key is `release:<redeem key>`.
 */
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

const bigint = { to: (v: number) => v, from: (v: string | number) => Number(v) };

export type GiftCardEntryKind = 'ISSUE' | 'TOP_UP' | 'REDEEM' | 'RELEASE';

@Entity('pos_gift_card')
export class PosGiftCard {
    @PrimaryGeneratedColumn()
    id: number;

    /** Normalized card number: upper case, no spaces or dashes. */
    @Index({ unique: true })
    @Column({ type: 'varchar', length: 64 })
    code: string;

    /** ISO 4217. */
    @Column({ type: 'varchar', length: 3 })
    currency: string;

    /** Minor units (cents; yen). Never negative. */
    @Column({ type: 'bigint', transformer: bigint })
    balance: number;

    @Column({ type: 'boolean', default: true })
    active: boolean;

    @CreateDateColumn()
    createdAt: Date;

    @UpdateDateColumn()
    updatedAt: Date;
}

@Entity('pos_gift_card_entry')
export class PosGiftCardEntry {
    @PrimaryGeneratedColumn()
    id: number;

    @Index()
    @Column({ type: 'int' })
    cardId: number;

    @Column({ type: 'varchar', length: 16 })
    kind: GiftCardEntryKind;

    @Index({ unique: true })
    @Column({ type: 'varchar', length: 160 })
    idempotencyKey: string;

    /** Signed minor units: + issue, top up, release; − redeem. */
    @Column({ type: 'bigint', transformer: bigint })
    amount: number;

    @Column({ type: 'bigint', transformer: bigint })
    balanceAfter: number;

    /** The terminal id that moved the money, "storefront" for web checkouts, "admin" otherwise. */
    @Column({ type: 'varchar', length: 128 })
    channel: string;

    /** For a RELEASE: the key of the redeem it gives back. */
    @Column({ type: 'varchar', length: 160, nullable: true })
    releases: string | null;

    @CreateDateColumn()
    createdAt: Date;
}
