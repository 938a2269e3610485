/**
 * The UI language: a reactive locale (persisted in localStorage), `t(key, params)` and error
 * messages. The language changes labels and number formatting only; the store's currency never
 * changes with it.
 */
import type { ApiError, MoneyDto } from '../bindings';
import { formatMoney, formatTime, type UiLocale } from '../format';
import { en, type MessageKey, type Catalog } from './en';
import { es } from './es';
import { ja } from './ja';

export type { MessageKey, UiLocale };
export const CATALOGS: Record<UiLocale, Catalog> = { en, es, ja };
export const LOCALES: UiLocale[] = ['en', 'es', 'ja'];
const STORAGE_KEY = 'pos.locale';

function isLocale(s: unknown): s is UiLocale {
  return s === 'en' || s === 'es' || s === 'ja';
}

function storedLocale(): UiLocale | null {
  try {
    const s = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLocale(s) ? s : null;
  } catch {
    return null;
  }
}

export const i18n = $state<{ locale: UiLocale; chosen: boolean }>({
  locale: storedLocale() ?? 'en',
  chosen: storedLocale() !== null,
});

/** Sets the UI language and remembers it on this terminal. */
export function setLocale(l: UiLocale): void {
  i18n.locale = l;
  i18n.chosen = true;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, l);
  } catch {
    /* private mode: the choice lasts for this session only */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = l;
}

/** Uses the store's language when the cashier never chose one. */
export function defaultLocale(storeLocale: string): void {
  if (!i18n.chosen) {
    const base = storeLocale.slice(0, 2);
    if (isLocale(base)) i18n.locale = base;
  }
  if (typeof document !== 'undefined') document.documentElement.lang = i18n.locale;
}

export function interpolate(text: string, params: Record<string, string | number> = {}): string {
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** The message for `key` in the current language. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return interpolate(CATALOGS[i18n.locale][key] ?? en[key] ?? key, params);
}

/** Formats money in the current language (the currency is the amount's, i.e. the store's). */
export function money(m: MoneyDto): string {
  return formatMoney(m, i18n.locale);
}

/**
 * What the cashier reads for an ApiError: the code's message in the current language with
 * its params formatted (times per locale; money params arrive as minor units with a currency).
 */
export function errorMessage(e: ApiError, currency?: string): string {
  const key = `error.${e.code}` as MessageKey;
  const params: Record<string, string> = { ...e.params };
  if (params.until) {
    const d = new Date(params.until);
    if (!Number.isNaN(d.getTime())) params.until = formatTime(d, i18n.locale);
  }
  // balance, available: gift card / store credit / account amounts (tenders).
  // owed, most: stored value (what a customer owes, the most a gift card takes).
  for (const k of ['remaining', 'paid', 'balance', 'available', 'owed', 'most'] as const) {
    if (params[k] && currency && /^-?\d+$/.test(params[k])) {
      params[k] = formatMoney({ minor: Number(params[k]), currency }, i18n.locale);
    }
  }
  if (key in en) return interpolate(CATALOGS[i18n.locale][key], params);
  return t('error.unknown', { code: e.code });
}
