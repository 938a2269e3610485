import { expect, test, type Page } from '@playwright/test';
import { open, tapPin } from './helpers';

// Gift cards kept by the web shop (issue 6): Settings → Web shop shows the offline policy
// (administrators change it; managers read it) and the conflicts screen lists the gift-card
// redemptions taken offline that the shop refused, with "Mark reviewed", against the in-browser
// fake register, which mirrors api/src/gift_card_shop.rs.

type Fake = { flagGiftCardRedemption(number: string, amount: number, shopBalance: number, reason?: string): void };
const fake = (page: Page, f: string) =>
  page.evaluate((body) => {
    const reg = (window as unknown as { __fakeRegister: Fake }).__fakeRegister;
    return new Function('reg', body)(reg);
  }, f);

async function login(page: Page, lang: 'en' | 'es' | 'ja', pin: string) {
  await open(page);
  await page.getByTestId(`lang-${lang}`).click();
  await tapPin(page, pin);
  await expect(page.getByTestId('sync')).toBeVisible();
}

test('an administrator allows gift cards offline up to a limit per card; a limit is required', async ({ page }) => {
  await login(page, 'en', '0000');
  await page.getByTestId('sync').click();
  await page.getByTestId('open-shop-settings').click();
  const policy = page.getByTestId('gc-policy');
  await expect(policy).toContainText('Gift cards while the shop is offline');
  await expect(page.getByTestId('gc-policy-refuse')).toBeChecked();
  await page.getByTestId('gc-policy-allow').check();
  await page.getByTestId('gc-policy-save').click();
  await expect(page.getByTestId('gc-policy-error')).toHaveText('Type the most a card may pay while the shop cannot be reached.');
  await page.getByTestId('gc-policy-limit').fill('25,50');
  await page.getByTestId('gc-policy-save').click();
  await expect(page.getByTestId('gc-policy-saved')).toHaveText('Saved.');
  await expect(page.getByTestId('gc-policy-limit')).toHaveValue('25.50');
  const button = await page.getByTestId('gc-policy-save').boundingBox();
  expect(button!.height).toBeGreaterThanOrEqual(44);

  // Back to refusing: the limit field goes away.
  await page.getByTestId('gc-policy-refuse').check();
  await page.getByTestId('gc-policy-save').click();
  await expect(page.getByTestId('gc-policy-saved')).toBeVisible();
  await expect(page.getByTestId('gc-policy-limit')).toHaveCount(0);
});

test('a manager reads the policy and reviews a refused offline redemption, which is kept (es)', async ({ page }) => {
  await login(page, 'es', '9999');
  await fake(page, "reg.flagGiftCardRedemption('6006 0000 0000 1234', 900, 200);");
  await page.getByTestId('sync').click();
  await page.getByTestId('open-shop-settings').click();
  await expect(page.getByTestId('gc-policy')).toContainText('Tarjetas regalo sin conexión con la tienda');
  await expect(page.getByTestId('gc-policy-allow')).toBeDisabled();
  await expect(page.getByTestId('gc-policy-save')).toHaveCount(0);
  await page.keyboard.press('Escape');

  await expect(page.getByTestId('open-gc-flagged')).toHaveText('Tarjetas regalo rechazadas tras ventas sin conexión (1)');
  await page.getByTestId('open-gc-flagged').click();
  const row = page.getByTestId('gc-flagged-1');
  await expect(row).toContainText('****1234');
  await expect(row).toContainText('9,00 €');
  await expect(page.getByTestId('gc-flagged-why-1')).toHaveText('A la tarjeta solo le quedaban 2,00 €');
  await page.getByTestId('gc-flagged-review-1').click();
  await expect(page.getByTestId('gc-flagged-empty')).toHaveText('Ningún cobro con tarjeta regalo espera revisión.');
  await page.getByTestId('gc-flagged-show-reviewed').check();
  await expect(page.getByTestId('gc-flagged-reviewed-1')).toContainText('Revisado por Marta');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('sync-details')).toBeVisible();
  await expect(page.getByTestId('open-gc-flagged')).toHaveCount(0);
});

test('a cashier sees neither list nor a way to change the policy (ja)', async ({ page }) => {
  await login(page, 'ja', '1234');
  await page.getByTestId('sync').click();
  await expect(page.getByTestId('open-conflicts')).toHaveCount(0);
  await expect(page.getByTestId('open-shop-settings')).toHaveCount(0);
});

test('a gift card sold as the shop went away waits in the sync panel; "Try again" loads it once the shop is back', async ({ page }) => {
  await login(page, 'es', '1234');
  await page.evaluate(() => {
    const reg = (window as unknown as { __fakeRegister: { giftCardsWaiting: unknown[]; setShopReachable(r: boolean): void } }).__fakeRegister;
    reg.giftCardsWaiting.push({
      masked: '****4242', amount: { minor: 2500, currency: 'EUR' }, topUp: false, receipt: 'T02-000007', attempts: 3,
      lastError: 'the shop cannot be reached: connection refused',
    });
    reg.setShopReachable(false);
  });
  await page.getByTestId('sync').click();
  const waiting = page.getByTestId('gift-cards-waiting');
  await expect(waiting).toContainText('Tarjetas regalo pendientes de cargar');
  await expect(page.getByTestId('gift-card-waiting')).toContainText('****4242');
  await expect(page.getByTestId('gift-card-waiting')).toContainText('25,00 €');
  await expect(page.getByTestId('gift-card-waiting')).toContainText('T02-000007');
  await page.getByTestId('gift-cards-retry').click();
  await expect(page.getByTestId('gift-card-waiting')).toContainText('4 intentos');
  await fake(page, 'reg.setShopReachable(true);');
  await page.getByTestId('gift-cards-retry').click();
  await expect(waiting).toBeHidden();
});
