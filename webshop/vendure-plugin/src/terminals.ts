/**
 * Terminal credentials: each store terminal is a Vendure Administrator whose only Role is
 * "POS terminal" (the `PosTerminal` permission), plus a `pos_terminal` row that names the
 * terminal and its store's stock location.
 *
 * Invariant: a terminal's stock location decides where its sales and adjustments move stock and
 * whose sellable stock its feed shows; without one, the channel's default stock location is used.
 */
import { Injectable } from '@nestjs/common';
import {
    AdministratorService,
    ChannelService,
    ID,
    RequestContext,
    Role,
    RoleService,
    StockLocation,
    StockLocationService,
    TransactionalConnection,
    UserInputError,
} from '@vendure/core';

import { PosTerminal } from './entities';
import { POS_TERMINAL_ROLE_CODE, posTerminalPermission } from './permission';

export interface CreateTerminalInput {
    terminalId: string;
    password: string;
    name?: string | null;
    stockLocationId?: ID | null;
}

@Injectable()
export class TerminalDirectory {
    private readonly byUser = new Map<string, { terminal: PosTerminal | null; until: number }>();

    constructor(
        private connection: TransactionalConnection,
        private administratorService: AdministratorService,
        private roleService: RoleService,
        private channelService: ChannelService,
        private stockLocationService: StockLocationService,
    ) {}

    /** The terminal behind the request's user, or null (e.g. the superadmin). Cached for 30 s. */
    async terminalOf(ctx: RequestContext): Promise<PosTerminal | null> {
        const userId = ctx.activeUserId;
        if (userId == null) return null;
        const key = String(userId);
        const cached = this.byUser.get(key);
        if (cached && cached.until > Date.now()) return cached.terminal;
        const terminal = await this.connection.getRepository(ctx, PosTerminal).findOne({ where: { userId: key } });
        this.byUser.set(key, { terminal, until: Date.now() + 30_000 });
        return terminal;
    }

    /** Stock location for an operation: explicit id, else the terminal's, else the channel default. */
    async locationFor(ctx: RequestContext, explicit?: ID | null): Promise<ID> {
        if (explicit != null && explicit !== '') {
            const found = await this.connection.getRepository(ctx, StockLocation).findOne({ where: { id: explicit } });
            if (!found) throw new UserInputError(`Unknown stock location ${explicit}`);
            return found.id;
        }
        const terminal = await this.terminalOf(ctx);
        if (terminal?.stockLocationId) return terminal.stockLocationId;
        return (await this.stockLocationService.defaultStockLocation(ctx)).id;
    }

    async create(ctx: RequestContext, input: CreateTerminalInput): Promise<PosTerminal> {
        const terminalId = input.terminalId.trim();
        if (!/^[A-Za-z0-9._@-]{1,100}$/.test(terminalId)) {
            throw new UserInputError('terminalId must be 1-100 characters of letters, digits, . _ @ -');
        }
        if (input.password.length < 12) throw new UserInputError('password must have at least 12 characters');
        const repo = this.connection.getRepository(ctx, PosTerminal);
        if (await repo.findOne({ where: { terminalId } })) {
            throw new UserInputError(`Terminal ${terminalId} exists already`);
        }
        if (input.stockLocationId != null) await this.locationFor(ctx, input.stockLocationId);
        const role = await this.ensureRole(ctx);
        const admin = await this.administratorService.create(ctx, {
            emailAddress: terminalId,
            firstName: 'POS terminal',
            lastName: input.name || terminalId,
            password: input.password,
            roleIds: [role.id],
        });
        const terminal = repo.create({
            terminalId,
            name: input.name || terminalId,
            administratorId: String(admin.id),
            userId: String(admin.user.id),
            stockLocationId: input.stockLocationId != null ? String(input.stockLocationId) : null,
        });
        return repo.save(terminal);
    }

    list(ctx: RequestContext): Promise<PosTerminal[]> {
        return this.connection.getRepository(ctx, PosTerminal).find({ order: { id: 'ASC' } });
    }

    private async ensureRole(ctx: RequestContext): Promise<Role> {
        const existing = await this.connection
            .getRepository(ctx, Role)
            .findOne({ where: { code: POS_TERMINAL_ROLE_CODE } });
        if (existing) return existing;
        const channel = await this.channelService.getDefaultChannel(ctx);
        return this.roleService.create(ctx, {
            code: POS_TERMINAL_ROLE_CODE,
            description: 'POS terminal',
            permissions: [posTerminalPermission.Permission],
            channelIds: [channel.id],
        });
    }
}
