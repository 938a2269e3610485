/**
 * The one permission a store terminal needs. Every POS operation of the plugin requires it
 * (SuperAdmin has every permission, so the shop owner's account works too).
 */
import { PermissionDefinition } from '@vendure/core';

export const posTerminalPermission = new PermissionDefinition({
    name: 'PosTerminal',
    description: 'Allows a store terminal to record sales, adjust stock, read the POS change feed and hand over pickups',
});

/** Code of the Role that `posCreateTerminal` creates once and gives to every terminal Administrator. */
export const POS_TERMINAL_ROLE_CODE = 'pos-terminal';
