import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../errors';
import { en } from './en';
import { es } from './es';
import { ja } from './ja';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('UI catalogs', () => {
  for (const [name, cat] of Object.entries({ es, ja })) {
    it(`${name} has every English key, non-empty, and no extra key`, () => {
      expect(Object.keys(cat).sort()).toEqual(Object.keys(en).sort());
      for (const [k, v] of Object.entries(cat)) expect(v.trim(), k).not.toBe('');
    });

    it(`${name} keeps the placeholders of each English message`, () => {
      for (const [k, v] of Object.entries(en)) {
        expect(placeholders((cat as Record<string, string>)[k]), k).toEqual(placeholders(v));
      }
    });
  }

  it('every register error code has a message in every language', () => {
    for (const code of ERROR_CODES) {
      for (const cat of [en, es, ja] as Record<string, string>[]) {
        expect(cat[`error.${code}`], code).toBeTruthy();
      }
    }
  });

  it('the Spanish and Japanese texts are translations, not English copies', () => {
    const same = (cat: Record<string, string>) =>
      ERROR_CODES.map((c) => `error.${c}`).filter((k) => cat[k] === (en as Record<string, string>)[k]);
    expect(same(es)).toEqual([]);
    expect(same(ja)).toEqual([]);
  });
});
