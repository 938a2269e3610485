/**
 * The plugin's own tables.
 *
 * Invariants:
 * - `PosChange` is append-only; its autoincrement id is the change-feed cursor. Rows are never
 *   updated; rows older than the retention window are deleted only below a recorded horizon
 *   (see ChangeLog.prune), so a cursor means "everything after this point" or asks for a reset.
 * - `PosOperation` holds one row per (kind, idempotencyKey): the first result of an idempotent
 *   stock write or hand-over. Its unique index is what makes concurrent repeats safe.
 * - `PosStockConflict` rows are never dropped: a resolved conflict keeps its data plus the resolution.
 * - `PosZReport` rows are written once and never changed (unique per terminal and Z number).
 */
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type PosChangeKind = 'VARIANT' | 'STOCK' | 'ORDER';

@Entity('pos_change')
export class PosChange {
    @PrimaryGeneratedColumn()
    id: number;

    @Column({ type: 'varchar', length: 16 })
    kind: PosChangeKind;

    @Column({ type: 'varchar', length: 64 })
    entityId: string;

    @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
    atMs: number;
}

@Entity('pos_operation')
@Index(['kind', 'idempotencyKey'], { unique: true })
export class PosOperation {
    @PrimaryGeneratedColumn()
    id: number;

    @Column({ type: 'varchar', length: 32 })
    kind: string;

    @Column({ type: 'varchar', length: 128 })
    idempotencyKey: string;

    @Column({ type: 'varchar', length: 255, nullable: true })
    sku: string | null;

    @Column({ type: 'varchar', length: 32, nullable: true })
    reason: string | null;

    @Column({ type: 'text', nullable: true })
    note: string | null;

    /** JSON of the first result, returned verbatim to every repeat. Empty while the first call runs. */
    @Column({ type: 'text', default: '' })
    result: string;

    @CreateDateColumn()
    createdAt: Date;
}

@Entity('pos_stock_conflict')
export class PosStockConflict {
    @PrimaryGeneratedColumn()
    id: number;

    /** The POS sale that caused it, or null for a stock adjustment. */
    @Index()
    @Column({ type: 'varchar', length: 64, nullable: true })
    saleId: string | null;

    @Column({ type: 'varchar', length: 64, nullable: true })
    terminalId: string | null;

    @Column({ type: 'varchar', length: 255 })
    sku: string;

    @Column({ type: 'varchar', length: 32, nullable: true })
    variantId: string | null;

    @Column({ type: 'varchar', length: 32, nullable: true })
    locationId: string | null;

    /** INSUFFICIENT_STOCK, UNKNOWN_SKU, or RETURN_EXCEEDS_SALE (returns.ts: more returned than sold). */
    @Column({ type: 'varchar', length: 32 })
    reason: string;

    @Column({ type: 'int' })
    requested: number;

    /** Sellable (stockOnHand − stockAllocated) at the location just before this sale; null for an unknown SKU. */
    @Column({ type: 'int', nullable: true })
    availableBefore: number | null;

    @Column({ type: 'varchar', length: 40 })
    at: string;

    @Column({ type: 'varchar', length: 40, nullable: true })
    resolvedAt: string | null;

    @Column({ type: 'text', nullable: true })
    resolution: string | null;
}

@Entity('pos_terminal')
export class PosTerminal {
    @PrimaryGeneratedColumn()
    id: number;

    @Index({ unique: true })
    @Column({ type: 'varchar', length: 128 })
    terminalId: string;

    @Column({ type: 'varchar', length: 255 })
    name: string;

    @Column({ type: 'varchar', length: 32 })
    administratorId: string;

    @Index()
    @Column({ type: 'varchar', length: 32 })
    userId: string;

    /** The store's stock location; null means the channel's default stock location. */
    @Column({ type: 'varchar', length: 32, nullable: true })
    stockLocationId: string | null;

    @CreateDateColumn()
    createdAt: Date;
}

@Entity('pos_setting')
export class PosSetting {
    @PrimaryGeneratedColumn()
    id: number;

    @Index({ unique: true })
    @Column({ type: 'varchar', length: 64 })
    name: string;

    @Column({ type: 'text' })
    value: string;
}

/**
 * A register's Z report (end of day), kept for the shop's unified reports.
 *
 * Invariants: one row per (terminalCode, number) and one per idempotencyKey (both unique
 * indexes); a row is never updated: a repeat with the same content returns it, different
 * content for the same terminal and number is refused (see ZReportLedger).
 */
@Entity('pos_z_report')
@Index(['terminalCode', 'number'], { unique: true })
export class PosZReport {
    @PrimaryGeneratedColumn()
    id: number;

    @Index({ unique: true })
    @Column({ type: 'varchar', length: 128 })
    idempotencyKey: string;

    @Column({ type: 'varchar', length: 128 })
    terminalCode: string;

    @Column({ type: 'int' })
    number: number;

    /** UTC ISO-8601 as `Date.toISOString()` writes it (fixed width, so it sorts as text). */
    @Column({ type: 'varchar', length: 24 })
    openedAt: string;

    @Index()
    @Column({ type: 'varchar', length: 24 })
    closedAt: string;

    @Column({ type: 'varchar', length: 3 })
    currency: string;

    @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
    totalSalesMinor: number;

    @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
    overShortMinor: number;

    /** The whole Z report as the register made it (JSON text, stored verbatim). */
    @Column({ type: 'text' })
    report: string;

    /** Shop terminal id of the credential that recorded it (null for an owner account). */
    @Column({ type: 'varchar', length: 128, nullable: true })
    recordedBy: string | null;

    @CreateDateColumn()
    recordedAt: Date;
}
