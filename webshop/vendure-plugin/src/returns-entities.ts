/**
 * Tables of returns across terminals: the sale documents registers send with their sales, and
 * every terminal's returns.
 *
 * Invariants:
 * - `PosSaleDocument`: at most one row per POS sale (unique `saleId`, lower case), written in the
 *   same transaction as the sale's order (or later, once, by a repeat of a sale recorded before
 *   documents existed). The document is the register's JSON text, stored verbatim and never changed.
 * - `PosReturn`: at most one row per `returnId` (unique index; a concurrent repeat collides with it
 *   and reads the first row). Rows are never updated or deleted; exactly one of `saleId` /
 *   `orderCode` is set. A return is never refused for quantities: returning more than was sold
 *   adds a `RETURN_EXCEEDS_SALE` PosStockConflict, whose ids the row keeps in `conflictIds`.
 */
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

const bigintNumber = { to: (v: number) => v, from: (v: string | number) => Number(v) };

@Entity('pos_sale_document')
export class PosSaleDocument {
    @PrimaryGeneratedColumn()
    id: number;

    /** The POS sale UUID, lower case (as the order's posSaleId). */
    @Index({ unique: true })
    @Column({ type: 'varchar', length: 64 })
    saleId: string;

    @Column({ type: 'varchar', length: 128 })
    terminalId: string;

    /** As printed on the receipt, e.g. "T01-000123". */
    @Index()
    @Column({ type: 'varchar', length: 64 })
    receiptNumber: string;

    /** pos_core CompletedSale as JSON text, verbatim (at most 1 MB). */
    @Column({ type: 'text' })
    document: string;

    @CreateDateColumn()
    recordedAt: Date;
}

@Entity('pos_return')
export class PosReturn {
    @PrimaryGeneratedColumn()
    id: number;

    /** The register's return UUID, lower case: the idempotency key. */
    @Index({ unique: true })
    @Column({ type: 'varchar', length: 64 })
    returnId: string;

    /** The POS sale it corrects (lower case), or null for a return of a web order. */
    @Index()
    @Column({ type: 'varchar', length: 64, nullable: true })
    saleId: string | null;

    /** The web order's code for a return of an online order, else null. */
    @Index()
    @Column({ type: 'varchar', length: 255, nullable: true })
    orderCode: string | null;

    @Column({ type: 'varchar', length: 128 })
    terminalId: string;

    @Column({ type: 'varchar', length: 64 })
    returnNumber: string;

    /** UTC ISO-8601 as `Date.toISOString()` writes it (fixed width, sorts as text). */
    @Column({ type: 'varchar', length: 24 })
    occurredAt: string;

    @Column({ type: 'varchar', length: 3 })
    currencyCode: string;

    /** Magnitude refunded, minor units. */
    @Column({ type: 'bigint', transformer: bigintNumber })
    totalMinor: number;

    /** JSON array of the input lines: {saleLineNo, sku, quantity, soldQuantity}. */
    @Column({ type: 'text' })
    lines: string;

    /** pos_core CompletedReturn as JSON text, verbatim (at most 1 MB). */
    @Column({ type: 'text' })
    document: string;

    /** JSON array of the ids of the PosStockConflicts this return created (usually []). */
    @Column({ type: 'text' })
    conflictIds: string;

    @CreateDateColumn()
    recordedAt: Date;
}
