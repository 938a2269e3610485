/**
 * Z reports (a register's numbered end of day) kept by the shop for the unified reports.
 *
 * Invariants:
 * - At most one PosZReport per (terminalCode, number) and per idempotencyKey (unique indexes),
 *   so concurrent repeats cannot make a second row: the loser of a race reads the winner's row.
 * - A stored report is never overwritten. A repeat (same key, or same terminal and number) with
 *   the same content returns the first row with `duplicate: true`; different content is refused
 *   with a USER_INPUT_ERROR naming the terminal and number, and the stored row stays as it was.
 */
import { Injectable } from '@nestjs/common';
import { RequestContext, TransactionalConnection, UserInputError } from '@vendure/core';
import { Between, FindOptionsWhere, LessThan, MoreThanOrEqual } from 'typeorm';

import { PosZReport } from './entities';
import { isUniqueViolation } from './stock';
import { TerminalDirectory } from './terminals';

export interface PosZReportInput {
    idempotencyKey: string;
    terminalCode: string;
    number: number;
    openedAt: Date | string;
    closedAt: Date | string;
    currency: string;
    totalSalesMinor: number;
    overShortMinor: number;
    report: string;
}

export interface ZReportView {
    id: string;
    idempotencyKey: string;
    terminalCode: string;
    number: number;
    openedAt: Date;
    closedAt: Date;
    currency: string;
    totalSalesMinor: number;
    overShortMinor: number;
    report: string;
    recordedBy: string | null;
    recordedAt: Date;
}

export interface ZReportFilter {
    terminalCode?: string | null;
    /** Closed at or after (inclusive). */
    from?: Date | string | null;
    /** Closed before (exclusive). */
    to?: Date | string | null;
    take?: number | null;
}

type Content = Pick<PosZReport, 'terminalCode' | 'number' | 'openedAt' | 'closedAt' | 'currency' | 'totalSalesMinor' | 'overShortMinor' | 'report'>;

const iso = (v: Date | string, field: string) => {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new UserInputError(`${field} must be an ISO date-time`);
    return d.toISOString();
};

export function zReportView(r: PosZReport): ZReportView {
    return {
        id: String(r.id),
        idempotencyKey: r.idempotencyKey,
        terminalCode: r.terminalCode,
        number: r.number,
        openedAt: new Date(r.openedAt),
        closedAt: new Date(r.closedAt),
        currency: r.currency,
        totalSalesMinor: Number(r.totalSalesMinor),
        overShortMinor: Number(r.overShortMinor),
        report: r.report,
        recordedBy: r.recordedBy,
        recordedAt: r.recordedAt,
    };
}

/** Which stored field differs from the input (null: the same report). */
function difference(stored: PosZReport, c: Content): string | null {
    const fields: Array<keyof Content> = ['terminalCode', 'number', 'openedAt', 'closedAt', 'currency', 'totalSalesMinor', 'overShortMinor', 'report'];
    for (const f of fields) {
        if (String(stored[f]) !== String(c[f])) return f;
    }
    return null;
}

@Injectable()
export class ZReportLedger {
    constructor(
        private connection: TransactionalConnection,
        private terminals: TerminalDirectory,
    ) {}

    async record(ctx: RequestContext, input: PosZReportInput): Promise<{ duplicate: boolean; zReport: ZReportView }> {
        const content = validate(input);
        const key = input.idempotencyKey;
        const first = await this.existing(ctx, key, content);
        if (first) return first;
        const terminal = await this.terminals.terminalOf(ctx);
        try {
            const saved = await this.connection
                .getRepository(ctx, PosZReport)
                .save({ ...content, idempotencyKey: key, recordedBy: terminal?.terminalId ?? null } as PosZReport);
            const row = await this.connection.getRepository(ctx, PosZReport).findOneOrFail({ where: { id: saved.id } });
            return { duplicate: false, zReport: zReportView(row) };
        } catch (e) {
            if (isUniqueViolation(e)) {
                const winner = await this.existing(ctx, key, content);
                if (winner) return winner;
            }
            throw e;
        }
    }

    /** The stored report for this key or this terminal and number; refuses different content. */
    private async existing(ctx: RequestContext, key: string, c: Content) {
        const repo = this.connection.getRepository(ctx, PosZReport);
        const stored =
            (await repo.findOne({ where: { idempotencyKey: key } })) ??
            (await repo.findOne({ where: { terminalCode: c.terminalCode, number: c.number } }));
        if (!stored) return null;
        const differs = difference(stored, c);
        if (differs) {
            throw new UserInputError(
                `Z report ${stored.terminalCode} #${stored.number} is already recorded (key ${stored.idempotencyKey}) ` +
                    `with a different ${differs}; a recorded Z report is never overwritten`,
            );
        }
        return { duplicate: true, zReport: zReportView(stored) };
    }

    async list(ctx: RequestContext, filter: ZReportFilter): Promise<ZReportView[]> {
        const where: FindOptionsWhere<PosZReport> = {};
        if (filter.terminalCode) where.terminalCode = filter.terminalCode;
        const from = filter.from != null ? iso(filter.from, 'from') : null;
        const to = filter.to != null ? iso(filter.to, 'to') : null;
        if (from && to) where.closedAt = Between(from, to);
        else if (from) where.closedAt = MoreThanOrEqual(from);
        else if (to) where.closedAt = LessThan(to);
        const take = Math.min(Math.max(filter.take ?? 500, 1), 1000);
        const rows = await this.connection.getRepository(ctx, PosZReport).find({
            where,
            order: { closedAt: 'ASC', terminalCode: 'ASC', number: 'ASC' },
            take: take + 1,
        });
        // Between is inclusive at both ends; `to` is exclusive.
        return rows.filter(r => !to || r.closedAt < to).slice(0, take).map(zReportView);
    }
}

function validate(input: PosZReportInput): Content {
    if (!input.idempotencyKey || input.idempotencyKey.length > 128) throw new UserInputError('idempotencyKey is required (at most 128 characters)');
    if (!input.terminalCode || input.terminalCode.length > 128) throw new UserInputError('terminalCode is required (at most 128 characters)');
    if (!Number.isInteger(input.number) || input.number <= 0) throw new UserInputError('number must be a positive integer');
    if (!/^[A-Z]{3}$/.test(input.currency)) throw new UserInputError('currency must be an ISO 4217 code such as EUR');
    for (const f of ['totalSalesMinor', 'overShortMinor'] as const) {
        if (!Number.isSafeInteger(input[f])) throw new UserInputError(`${f} must be an integer (minor units)`);
    }
    try {
        JSON.parse(input.report);
    } catch {
        throw new UserInputError('report must be the Z report as JSON text');
    }
    const openedAt = iso(input.openedAt, 'openedAt');
    const closedAt = iso(input.closedAt, 'closedAt');
    if (closedAt < openedAt) throw new UserInputError('closedAt is before openedAt');
    return {
        terminalCode: input.terminalCode,
        number: input.number,
        openedAt,
        closedAt,
        currency: input.currency,
        totalSalesMinor: input.totalSalesMinor,
        overShortMinor: input.overShortMinor,
        report: input.report,
    };
}
