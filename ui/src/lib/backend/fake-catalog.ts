/**
 * The fake register's demo catalog: fixed fixture products the tests rely on, plus a few
 * hundred generated deterministically (same seed, same catalog) with valid EAN-13 barcodes and
 * names in en/es/ja. Two store set-ups: Spain (EUR, IVA 21/10/4 %, half-up) and Japan (JPY,
 * 10 % / 8 % reduced, rounded down once per rate).
 */
import type { StoreDto } from '../bindings';
import { demoBarcode, ean13 } from '../gtin';

export type StoreKind = 'es' | 'jp';

export interface TaxRate {
  code: string;
  bps: number;
  reduced: boolean;
  label: string;
}

export interface StoreSetup {
  store: StoreDto;
  rates: Record<'standard' | 'food' | 'staple', TaxRate>;
  /** How the tax of each rate is rounded (once per rate per receipt). */
  taxRounding: 'half_up' | 'down';
}

export interface FakeProduct {
  variantId: string;
  sku: string;
  names: { en: string; es: string; ja: string };
  barcode: string;
  /** Per unit, or per kilogram when byWeight. */
  price: number;
  tax: TaxRate;
  byWeight: boolean;
  stock: number;
}

export const STORES: Record<StoreKind, StoreSetup> = {
  es: {
    store: {
      name: 'Ultramarinos La Plaza',
      address: ['Calle Mayor 12', '28013 Madrid'],
      taxId: 'B12345674',
      country: 'ES',
      currency: 'EUR',
      locale: 'es',
      priceMode: 'tax_inclusive',
      cashIncrement: 1,
      quickCash: [500, 1000, 2000, 5000, 10000],
    },
    rates: {
      standard: { code: 'ES-IVA-21', bps: 2100, reduced: false, label: '21%' },
      food: { code: 'ES-IVA-10', bps: 1000, reduced: true, label: '10%' },
      staple: { code: 'ES-IVA-4', bps: 400, reduced: true, label: '4%' },
    },
    taxRounding: 'half_up',
  },
  jp: {
    store: {
      name: 'まちのマーケット 銀座店',
      address: ['東京都中央区銀座1-2-3'],
      taxId: 'T1234567890123',
      country: 'JP',
      currency: 'JPY',
      locale: 'ja',
      priceMode: 'tax_inclusive',
      cashIncrement: 1,
      quickCash: [1000, 5000, 10000],
    },
    rates: {
      standard: { code: 'JP-10', bps: 1000, reduced: false, label: '10%' },
      food: { code: 'JP-8', bps: 800, reduced: true, label: '8%' },
      staple: { code: 'JP-8', bps: 800, reduced: true, label: '8%' },
    },
    taxRounding: 'down',
  },
};

type Category = 'standard' | 'food' | 'staple';

/**
 * Fixture products. `index` is the product's place in the demo catalog, whose barcode follows
 * the register's demo scheme (`demoBarcode`): in Spain milk is 8400000000017 and the T-shirt
 * 8400000000024; in Japan 4500000000018 and 4900000000023. The apples are a by-weight item
 * keyed by a scale label with the weight zeroed (prefix 25: grams).
 */
export const FIXTURES: {
  key: string;
  index: number;
  label?: string;
  names: FakeProduct['names'];
  price: Record<StoreKind, number>;
  category: Category;
  byWeight?: boolean;
  stock: number;
}[] = [
  { key: 'milk', index: 1, names: { en: 'Whole milk 1L', es: 'Leche entera 1L', ja: '牛乳 1L' }, price: { es: 99, jp: 198 }, category: 'staple', stock: 48 },
  { key: 'tshirt', index: 2, names: { en: 'Blue T-shirt M', es: 'Camiseta azul M', ja: '青いTシャツ M' }, price: { es: 1999, jp: 1980 }, category: 'standard', stock: 12 },
  { key: 'bread', index: 3, names: { en: 'Sliced bread', es: 'Pan de molde', ja: '食パン' }, price: { es: 110, jp: 138 }, category: 'staple', stock: 30 },
  { key: 'coffee', index: 4, names: { en: 'Ground coffee 250 g', es: 'Café molido 250 g', ja: 'コーヒー粉 250g' }, price: { es: 349, jp: 598 }, category: 'food', stock: 25 },
  { key: 'bag', index: 5, names: { en: 'Reusable bag', es: 'Bolsa reutilizable', ja: 'エコバッグ' }, price: { es: 15, jp: 5 }, category: 'standard', stock: 500 },
  { key: 'wine', index: 6, names: { en: 'Red wine Rioja 75 cl', es: 'Vino tinto Rioja 75 cl', ja: '赤ワイン リオハ 750ml' }, price: { es: 695, jp: 1580 }, category: 'standard', stock: 18 },
  { key: 'apples', index: 7, label: '250000100000', names: { en: 'Golden apples', es: 'Manzanas Golden', ja: 'りんご(ゴールデン)' }, price: { es: 249, jp: 398 }, category: 'staple', byWeight: true, stock: 80 },
];

const COUNTRY: Record<StoreKind, string> = { es: 'ES', jp: 'JP' };

function fixtureBarcode(kind: StoreKind, f: (typeof FIXTURES)[number]): string {
  return f.label ? ean13(f.label) : demoBarcode(COUNTRY[kind], f.index);
}

/** Barcodes of the fixtures in a store, with real check digits. */
export function fixtureBarcodes(kind: StoreKind): Record<string, string> {
  return Object.fromEntries(FIXTURES.map((f) => [f.key, fixtureBarcode(kind, f)]));
}

/** The Spanish store's fixture barcodes (the default store). */
export const FIXTURE_BARCODES: Record<string, string> = fixtureBarcodes('es');

const FOODS: [string, string, string][] = [
  ['Rice', 'Arroz', '米'],
  ['Olive oil', 'Aceite de oliva', 'オリーブオイル'],
  ['Pasta', 'Pasta', 'パスタ'],
  ['Tomato sauce', 'Salsa de tomate', 'トマトソース'],
  ['Yogurt', 'Yogur', 'ヨーグルト'],
  ['Cheese', 'Queso', 'チーズ'],
  ['Orange juice', 'Zumo de naranja', 'オレンジジュース'],
  ['Green tea', 'Té verde', '緑茶'],
  ['Chocolate', 'Chocolate', 'チョコレート'],
  ['Biscuits', 'Galletas', 'ビスケット'],
  ['Tuna', 'Atún', 'ツナ'],
  ['Chickpeas', 'Garbanzos', 'ひよこ豆'],
  ['Honey', 'Miel', 'はちみつ'],
  ['Cereal', 'Cereales', 'シリアル'],
  ['Soy sauce', 'Salsa de soja', '醤油'],
];
const GOODS: [string, string, string][] = [
  ['Notebook', 'Cuaderno', 'ノート'],
  ['Ballpoint pen', 'Bolígrafo', 'ボールペン'],
  ['Socks', 'Calcetines', '靴下'],
  ['Towel', 'Toalla', 'タオル'],
  ['Dish soap', 'Lavavajillas', '食器用洗剤'],
  ['Batteries AA', 'Pilas AA', '単3電池'],
  ['Candle', 'Vela', 'キャンドル'],
  ['Mug', 'Taza', 'マグカップ'],
  ['Umbrella', 'Paraguas', '傘'],
  ['Shampoo', 'Champú', 'シャンプー'],
];
const VARIANTS: [string, string, string][] = [
  ['small', 'pequeño', '小'],
  ['large', 'grande', '大'],
  ['organic', 'ecológico', 'オーガニック'],
  ['classic', 'clásico', 'クラシック'],
  ['family pack', 'pack familiar', 'ファミリーパック'],
  ['premium', 'premium', 'プレミアム'],
  ['light', 'ligero', 'ライト'],
  ['red', 'rojo', '赤'],
  ['blue', 'azul', '青'],
  ['green', 'verde', '緑'],
];

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The catalog of a store: fixtures first, then `count` generated products. */
export function buildCatalog(kind: StoreKind, count = 300): FakeProduct[] {
  const setup = STORES[kind];
  const out: FakeProduct[] = FIXTURES.map((f) => ({
    variantId: `v-${f.key}`,
    sku: `FX-${String(f.index).padStart(3, '0')}`,
    names: f.names,
    barcode: fixtureBarcode(kind, f),
    price: f.price[kind],
    tax: setup.rates[f.category],
    byWeight: f.byWeight ?? false,
    stock: f.stock,
  }));
  const rand = prng(kind === 'es' ? 84 : 49);
  let foods = 0;
  let goods = 0;
  for (let i = 0; i < count; i++) {
    const food = i % 3 !== 2;
    const list = food ? FOODS : GOODS;
    const j = food ? foods++ : goods++;
    const base = list[j % list.length];
    const v = VARIANTS[Math.floor(j / list.length) % VARIANTS.length];
    const n = Math.floor(j / (list.length * VARIANTS.length));
    const suffix = n > 0 ? ` ${n + 1}` : '';
    const price =
      kind === 'es'
        ? Math.max(50, Math.round((rand() * 30 + 0.5) * 10) * 10 - 1)
        : Math.max(100, Math.round(rand() * 40 + 1) * 50 - 2);
    const category: Category = food ? (i % 5 === 0 ? 'staple' : 'food') : 'standard';
    out.push({
      variantId: `v-${kind}-${i + 1}`,
      sku: `SKU-${String(i + 1).padStart(5, '0')}`,
      names: {
        en: `${base[0]} ${v[0]}${suffix}`,
        es: `${base[1]} ${v[1]}${suffix}`,
        ja: `${base[2]} ${v[2]}${suffix}`,
      },
      barcode: demoBarcode(COUNTRY[kind], FIXTURES.length + 1 + i),
      price,
      tax: setup.rates[category],
      byWeight: false,
      stock: Math.floor(rand() * 60),
    });
  }
  return out;
}
