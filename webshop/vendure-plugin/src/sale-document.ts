/**
 * The register's whole sale document (pos_core CompletedSale JSON) kept next to a POS sale's
 * order, so any terminal can fetch the sale to return it (see returns.ts).
 *
 * Invariants: the document is opaque text stored verbatim (at most 1 MB, refused above); one row
 * per sale: written in the sale's transaction, or by a later repeat of a sale that was recorded
 * without one; never overwritten (a second document for the same sale is ignored).
 */
import { RequestContext, TransactionalConnection, UserInputError } from '@vendure/core';

import { PosSaleDocument } from './returns-entities';
import { isUniqueViolation } from './stock';

/** The largest document accepted: 1 MB of UTF-8. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

export function checkDocument(document: string | null | undefined, field = 'document') {
    if (document == null) return;
    if (Buffer.byteLength(document, 'utf8') > MAX_DOCUMENT_BYTES) {
        throw new UserInputError(`${field} is larger than 1 MB (${Buffer.byteLength(document, 'utf8')} bytes)`);
    }
}

export interface SaleDocumentInput {
    saleId: string;
    terminalId: string;
    receiptNumber: string;
    document?: string | null;
}

export function checkSaleDocument(input: SaleDocumentInput) {
    if (input.document == null) return;
    checkDocument(input.document);
    if (!input.receiptNumber || input.receiptNumber.length > 64) {
        throw new UserInputError('receiptNumber is required with a document (at most 64 characters)');
    }
    if (input.terminalId.length > 128) throw new UserInputError('terminalId is at most 128 characters');
}

/** Inserts the document inside the sale's transaction (`saleId` already lower case). */
export async function insertSaleDocument(connection: TransactionalConnection, ctx: RequestContext, input: SaleDocumentInput) {
    if (input.document == null) return;
    await connection.getRepository(ctx, PosSaleDocument).insert({
        saleId: input.saleId,
        terminalId: input.terminalId,
        receiptNumber: input.receiptNumber,
        document: input.document,
    });
}

/** A repeat of an already recorded sale: stores its document if the sale has none yet. */
export async function fillInSaleDocument(connection: TransactionalConnection, ctx: RequestContext, input: SaleDocumentInput) {
    if (input.document == null) return;
    const repo = connection.getRepository(ctx, PosSaleDocument);
    if (await repo.exists({ where: { saleId: input.saleId } })) return;
    try {
        await insertSaleDocument(connection, ctx, input);
    } catch (e) {
        if (!isUniqueViolation(e)) throw e; // a concurrent repeat stored it first
    }
}
