/**
 * Error codes the register sends as `ApiError.code` (the Rust side: api/src/errors.rs and
 * api/src/register.rs; `app.unreachable` is the UI's own, for a register that does not answer). Every code here must have a message in
 * every UI language (the i18n catalogs are type-checked against this list), saying what to do
 * next. Params named in the comments arrive in `ApiError.params` as strings.
 */
import type { ApiError } from './bindings';

export const ERROR_CODES = [
  'auth.wrong_pin', // {attemptsLeft}
  'auth.locked', // {until} RFC 3339
  'auth.required',
  'auth.forbidden',
  'scan.unknown_code', // {code}
  'scan.check_digit', // {expected, found}
  'scan.empty',
  'scan.not_numeric',
  'scan.length', // {length}
  'cart.quantity_out_of_range', // {max}
  'cart.weight_out_of_range', // {max}
  'cart.needs_weight', // {product}
  'cart.not_by_weight',
  'cart.no_such_line',
  'cart.too_many_lines', // {max}
  'cart.negative_price',
  'cart.discount_too_large',
  'cart.percent_out_of_range',
  'cart.wrong_currency',
  'cart.overflow',
  'sale.payment_in_progress',
  'sale.empty',
  'pay.insufficient', // {remaining} minor units
  'pay.non_positive',
  'pay.non_cash_overpaid',
  'pay.wrong_currency',
  'pay.tenders_taken',
  'pay.tender_unavailable',
  'pay.terminal_unavailable',
  'pay.card_declined', // {code, text}
  'pay.terminal_busy',
  'pay.terminal_timeout',
  'pay.card_cancelled',
  'pay.terminal_lost',
  'pay.outcome_unknown',
  'pay.terminal_error',
  'store.busy',
  'store.error',
  'store.too_new', // {found, supported}
  'store.not_configured',
  'device.unavailable',
  'device.not_simulated',
  'device.bad_command',
  'device.config', // {detail}
  'device.not_configured', // {device}
  'device.test_failed', // {device}
  'device.print_queue',
  'scan.garbled',
  'app.bad_request',
  'app.internal',
  'app.unknown_command',
  'app.unreachable',
  // --- shop: web shop settings, pickups, stock conflicts ---
  'shop.insecure_url',
  'shop.invalid_url',
  'shop.unauthorized',
  'shop.unreachable',
  'shop.credential',
  'shop.error',
  'shop.identifier_required',
  'shop.password_required',
  'shop.not_configured',
  'shop.pickup_not_found', // {code}
  'shop.already_handed_over', // {code}
  'shop.conflict_not_found',
  // --- checkout: approvals, reasons, parked sales, reprint ---
  'auth.approval_required', // {permission}
  'auth.approver_not_allowed', // {permission}
  'checkout.reason_required',
  'checkout.reason_unknown',
  'park.not_found',
  'receipt.none',
  // --- tenders: gift card, store credit, account; e-mailed receipts ---
  'gift_card.unknown', // {card} masked
  'gift_card.blocked', // {card} masked
  'gift_card.insufficient', // {balance} minor units
  'customer.unknown',
  'customer.no_account', // {name}
  'customer.credit_insufficient', // {name, balance} minor units
  'customer.over_limit', // {name, available} minor units
  'email.invalid_address', // {address}
  'email.not_configured',
  'email.unknown_sale',
  'email.render_failed',
  'gift_card.bank_card',
  'gift_card.unreadable',
  // --- cash: register sessions, cash in/out, no sale, X and Z reports ---
  'cash.not_open',
  'cash.already_open',
  'cash.bad_count', // {value} minor units, {max}
  'cash.non_positive_amount',
  'cash.overflow',
  'cash.forbidden', // {permission}
  'cash.float_required',
  'cash.sale_in_progress',
  'cash.no_such_report', // {number}
  'cash.recount', // a second blind count is needed
  // --- devices: test actions of Settings → Devices ---
  'device.no_scan',
  'device.no_swipe',
  'device.test_payment_not_reversed', // {receipt}
  'pay.card_outcome_pending',
  // --- returns: returns, refunds and exchanges ---
  'returns.bad_code', // {code}
  'returns.unknown_sale', // {receipt}
  'returns.is_a_return', // {receipt}
  'returns.bad_date', // {date}
  'returns.nothing_selected',
  'returns.no_such_line', // {line}
  'returns.more_than_returnable', // {line, remaining}
  'returns.non_positive',
  'returns.write_off_reason',
  'returns.not_returnable', // {line}
  'returns.refund_mismatch',
  'returns.needs_customer',
  'returns.gift_card_unknown',
  'returns.unfinished', // {receipt}
  'returns.no_draft',
  'returns.exchange_empty',
  'returns.scanned', // {code}: a scanner device's scan for the returns screen (not an error)
  // --- stored value: gift cards sold, customers and their accounts ---
  'cart.voucher_fixed',
  'gift_card.amount_range', // {most} minor units
  'gift_card.number_required',
  'gift_card.already_issued', // {card} masked
  'gift_card.already_in_sale', // {card} masked
  'gift_card.buys_gift_card',
  'customer.name_required',
  'customer.bad_email', // {email}
  'customer.limit_below_balance', // {owed} minor units
  'customer.pays_more_than_owed', // {owed} minor units
  // --- shop gift cards: the web shop's gift-card ledger, offline policy ---
  'gift_card.shop_offline',
  'gift_card.offline_limit', // {balance} minor units
  'gift_card.offline_limit_required',
  'gift_card.flag_not_found',
  // --- staff: users, roles, clock in/out, hours ---
  'staff.pin_format',
  'staff.pin_taken',
  'staff.pin_mismatch',
  'staff.name_required',
  'staff.no_such_user',
  'staff.no_such_role',
  'staff.role_in_use',
  'staff.role_name_taken',
  'staff.builtin_role',
  'staff.admin_lockout',
  'staff.last_user_manager',
  'staff.unknown_permission',
  'staff.self_deactivate',
  'staff.no_such_shift',
  'staff.bad_time',
  'staff.bad_range',
  'staff.reason_required',
  'clock.already_in',
  'clock.not_in',
  // --- returns of other registers' sales and web orders, fetched from the shop ---
  'returns.unknown_anywhere', // {receipt}
  'returns.shop_offline', // {receipt}
  'returns.shop_refused',
  'returns.no_document', // {receipt}
  'returns.order_not_paid', // {receipt, state}
  'returns.other_currency', // {currency}
  'returns.paid_online',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Turns whatever a call threw into an ApiError (Tauri rejects with the object itself). */
export function toApiError(e: unknown): ApiError {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as ApiError).code === 'string') {
    const a = e as Partial<ApiError>;
    return { code: a.code!, message: a.message ?? '', params: a.params ?? {} };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'app.unreachable', message, params: {} };
}

export function apiError(code: ErrorCode, message: string, params: Record<string, string | number> = {}): ApiError {
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) p[k] = String(v);
  return { code, message, params: p };
}
