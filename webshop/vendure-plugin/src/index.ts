/** Public entry point of the Vendure POS plugin. */
export { PosPlugin } from './pos.plugin';
export { posTerminalPermission, POS_TERMINAL_ROLE_CODE } from './permission';
export { PosChange, PosOperation, PosStockConflict, PosTerminal, PosSetting, PosZReport } from './entities';
export { PosGiftCard, PosGiftCardEntry } from './gift-card-entities';
export { PosReturn, PosSaleDocument } from './returns-entities';
export { giftCardPaymentHandler, GIFT_CARD_HANDLER_CODE } from './gift-card-payment';
