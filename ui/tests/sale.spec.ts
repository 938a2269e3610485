import { expect, test } from '@playwright/test';
import { APPLES_350G, BREAD, lines, loggedIn, MILK, scanBurst, tones, TSHIRT } from './helpers';

test('a scanner burst adds the line and the totals with tax per rate update', async ({ page }) => {
  await loggedIn(page); // Spanish store: the UI starts in Spanish
  await scanBurst(page, MILK);
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first()).toContainText('1 × Leche entera 1L');
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await expect(lines(page)).toHaveCount(2);
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('2 ×');
  await expect(lines(page).nth(0).getByTestId('line-amount')).toHaveText('1,98 €');
  await expect(page.getByTestId('total')).toHaveText('21,97 €');
  await expect(page.getByTestId('subtotal')).toHaveText('21,97 €');
  // IVA per rate, tax-inclusive, rounded once per rate: 19,99 × 21/121 = 3,469 → 3,47; 1,98 × 4/104 = 0,076 → 0,08
  const rows = page.getByTestId('tax-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toHaveText('IVA 21% 3,47 €');
  await expect(rows.nth(1)).toHaveText('IVA 4% 0,08 €');
  // The newest line is selected.
  await expect(lines(page).nth(1)).toHaveAttribute('aria-current', 'true');
  expect((await tones(page)).filter((t) => t === 'added')).toHaveLength(3);
});

test('scans in quick succession over a slow link all count, in order', async ({ page }) => {
  await loggedIn(page, 'latency=40'); // every command answers 40 ms later
  await scanBurst(page, MILK);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('21,97 €');
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('2 ×');
  await expect(lines(page).nth(1)).toHaveAttribute('aria-current', 'true');
});

test('a scan while the search field has focus goes to the sale, never into the field', async ({ page }) => {
  await loggedIn(page);
  const search = page.getByTestId('search');
  await expect(search).toBeFocused();
  await scanBurst(page, TSHIRT);
  await expect(lines(page)).toHaveCount(1);
  await expect(search).toHaveValue('');
  // With something typed by hand already there, the scan leaves it untouched.
  await page.keyboard.type('pan', { delay: 80 });
  await expect(search).toHaveValue('pan');
  await scanBurst(page, MILK);
  await expect(lines(page)).toHaveCount(2);
  await expect(search).toHaveValue('pan');
  await expect(search).toBeFocused();
});

test('a code typed by hand + Enter in the search field is a scan; words are a search', async ({ page }) => {
  await loggedIn(page);
  const search = page.getByTestId('search');
  await search.pressSequentially(BREAD, { delay: 60 });
  await expect(search).toHaveValue(BREAD);
  await page.keyboard.press('Enter');
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first()).toContainText('Pan de molde');
  await expect(search).toHaveValue('');
  // A word searches: tiles show name, price and stock; a tap adds.
  await search.pressSequentially('camiseta', { delay: 40 });
  const tile = page.getByTestId('tile').filter({ hasText: 'Camiseta azul M' });
  await expect(tile).toContainText('19,99 €');
  await expect(tile).toContainText('Stock 12');
  await tile.click();
  await expect(lines(page)).toHaveCount(2);
  await expect(page.getByTestId('total')).toHaveText('21,09 €');
});

test('quantity: + and - keys, buttons, and the quantity entry act on the selected line', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  // Select the milk line with the arrow key, then + twice.
  await page.keyboard.press('ArrowUp');
  await expect(lines(page).nth(0)).toHaveAttribute('aria-current', 'true');
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('3 ×');
  await page.keyboard.press('-');
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('2 ×');
  await page.getByTestId('qty-plus').click();
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('3 ×');
  await expect(page.getByTestId('total')).toHaveText('22,96 €');
  // F4 opens the entry: 12 units.
  await page.keyboard.press('F4');
  await expect(page.getByTestId('qty-entry')).toBeVisible();
  await page.keyboard.type('12', { delay: 80 });
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('qty-entry')).toBeHidden();
  await expect(lines(page).nth(0).getByTestId('line-qty')).toHaveText('12 ×');
  await expect(page.getByTestId('total')).toHaveText('31,87 €');
  // * opens it too; Esc backs out without a change.
  await page.keyboard.press('*');
  await expect(page.getByTestId('qty-entry')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('qty-entry')).toBeHidden();
  await expect(page.getByTestId('total')).toHaveText('31,87 €');
});

test('a weighed item: a scale label adds grams, and the weight entry changes them', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, APPLES_350G);
  await expect(lines(page).first()).toContainText('0,350 kg');
  // 2,49 €/kg × 0,350 kg = 0,8715 → 0,87 €
  await expect(lines(page).first().getByTestId('line-amount')).toHaveText('0,87 €');
  await page.keyboard.press('F4');
  await expect(page.getByTestId('qty-entry')).toContainText('Peso en gramos');
  await page.getByTestId('qty-input').pressSequentially('500', { delay: 60 });
  await page.keyboard.press('Enter');
  // 2,49 × 0,5 = 1,245 → 1,25 € (half up)
  await expect(lines(page).first().getByTestId('line-amount')).toHaveText('1,25 €');
  await expect(lines(page).first()).toContainText('0,500 kg');
});

test('a by-weight product picked from search asks for its weight first', async ({ page }) => {
  await loggedIn(page);
  await page.getByTestId('search').pressSequentially('manzanas', { delay: 40 });
  await page.getByTestId('tile').filter({ hasText: 'Manzanas Golden' }).click();
  await expect(page.getByTestId('qty-entry')).toContainText('Peso en gramos de Manzanas Golden');
  await expect(lines(page)).toHaveCount(0);
  // The weight field takes the focus by itself: the cashier just types.
  await expect(page.getByTestId('qty-input')).toBeFocused();
  await page.keyboard.type('500', { delay: 80 });
  await page.keyboard.press('Enter');
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first()).toContainText('0,500 kg');
  await expect(page.getByTestId('total')).toHaveText('1,25 €');
});

test('Del removes the selected line and the totals follow', async ({ page }) => {
  await loggedIn(page);
  await scanBurst(page, MILK);
  await scanBurst(page, TSHIRT);
  await expect(page.getByTestId('total')).toHaveText('20,98 €');
  await page.keyboard.press('Delete');
  await expect(lines(page)).toHaveCount(1);
  await expect(lines(page).first()).toContainText('Leche entera 1L');
  await expect(page.getByTestId('total')).toHaveText('0,99 €');
  await expect(page.getByTestId('tax-row')).toHaveCount(1);
  await page.getByTestId('remove').click();
  await expect(page.getByTestId('cart-empty')).toBeVisible();
  await expect(page.getByTestId('total')).toHaveText('0,00 €');
});

test('the developer panel scans through the simulated scanner (device events)', async ({ page }) => {
  await loggedIn(page);
  await page.keyboard.press('F10');
  await expect(page.getByTestId('dev-panel')).toBeVisible();
  await page.getByTestId('dev-p2').click();
  await expect(lines(page)).toHaveCount(1);
  await expect(page.getByTestId('message')).toContainText('Camiseta azul M');
  await page.getByTestId('dev-wrong-check').click();
  await expect(page.getByTestId('message')).toContainText('dígito de control debería ser 7');
  await page.getByTestId('dev-garbled').click();
  await expect(page.getByTestId('message')).toContainText('no está en el catálogo');
  await expect(lines(page)).toHaveCount(1);
  await page.keyboard.press('F10');
  await expect(page.getByTestId('dev-panel')).toBeHidden();
});
