import { expect, test, type Page } from '@playwright/test';
import { open, tapPin } from './helpers';

// Settings → Staff (⇧F8) and clock in / clock out (⇧F1) in the Spanish store (the UI starts in
// Spanish) against the in-browser fake register, which mirrors the register's rules: users with
// PIN rules, the permission matrix with custom roles (the administrator keeps the keys), hours
// with corrections, and the audit trail with its verification.

type FakeWindow = {
  __fakeRegister: {
    auditLog: { action: string; userId: string | null; approverId: string | null }[];
    tamperAudit(seq: number, detail: Record<string, unknown>): void;
  };
};

async function as(page: Page, pin: string, query = ''): Promise<void> {
  await open(page, query);
  await tapPin(page, pin);
  await expect(page.getByTestId('search')).toBeFocused();
}

async function logout(page: Page): Promise<void> {
  await page.getByTestId('logout').click();
  await expect(page.getByTestId('pin-ok')).toBeVisible();
}

async function staffScreen(page: Page): Promise<void> {
  await page.keyboard.press('Shift+F8');
  await expect(page.getByTestId('staff')).toBeVisible();
}

test('an admin creates a user with a PIN typed twice, and the new user logs in', async ({ page }) => {
  await as(page, '0000');
  await expect(page.getByTestId('staff-open')).toContainText('⇧F8');
  await staffScreen(page);
  await expect(page.getByTestId('staff-tab-users')).toContainText('F1');
  await expect(page.getByTestId('staff-user-Ana')).toContainText('cajera/o');

  await page.getByTestId('staff-new-user').click();
  await page.getByTestId('staff-user-name').fill('Bea');
  await page.getByTestId('staff-user-role').selectOption('manager');
  await page.getByTestId('staff-user-pin').fill('4321');
  await page.getByTestId('staff-user-pin-again').fill('4312');
  await page.getByTestId('staff-user-save').click();
  await expect(page.getByTestId('staff-error')).toHaveText('Los dos PIN no coinciden. Escriba el PIN dos veces.');
  // Ana's PIN is taken: the PIN alone says who logs in.
  await page.getByTestId('staff-user-pin').fill('1234');
  await page.getByTestId('staff-user-pin-again').fill('1234');
  await page.getByTestId('staff-user-save').click();
  await expect(page.getByTestId('staff-error')).toContainText('Otro usuario activo tiene este PIN');
  await page.getByTestId('staff-user-pin').fill('4321');
  await page.getByTestId('staff-user-pin-again').fill('4321');
  await page.getByTestId('staff-user-save').press('Enter');
  await expect(page.getByTestId('staff-done')).toHaveText('Usuario creado.');
  await expect(page.getByTestId('staff-user-Bea')).toContainText('encargada/o');

  // The admin cannot deactivate themselves; deactivating Bea frees her PIN.
  await expect(page.getByTestId('staff-user-Admin').getByTestId('staff-user-deactivate')).toBeDisabled();
  await page.keyboard.press('Escape');
  await logout(page);
  await tapPin(page, '4321');
  await expect(page.getByTestId('cashier')).toHaveText('Bea');
  await expect(page.getByTestId('who')).toContainText('(encargada/o)');

  await logout(page);
  await tapPin(page, '0000');
  await staffScreen(page);
  await page.getByTestId('staff-user-Bea').getByTestId('staff-user-deactivate').click();
  await expect(page.getByTestId('staff-user-Bea')).toContainText('desactivado');
  await page.keyboard.press('Escape');
  await logout(page);
  await tapPin(page, '4321');
  await expect(page.getByTestId('message')).toContainText('PIN');
  const log = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.auditLog.map((a) => a.action));
  expect(log.filter((a) => a.startsWith('user_'))).toEqual(['user_created', 'user_deactivated']);
});

test('the permission matrix: the administrator keeps the keys, a tick lets cashiers discount', async ({ page }) => {
  await as(page, '0000');
  await staffScreen(page);
  await page.keyboard.press('F2');
  await expect(page.getByTestId('staff-roles')).toBeVisible();
  await expect(page.getByTestId('perm-admin-manage_users')).toBeChecked();
  await expect(page.getByTestId('perm-admin-manage_users')).toBeDisabled();
  await expect(page.getByTestId('perm-admin-manage_settings')).toBeDisabled();
  await expect(page.getByTestId('perm-cashier-line_discount')).not.toBeChecked();
  await page.getByTestId('perm-cashier-line_discount').check();
  await expect(page.getByTestId('staff-done')).toContainText('Permisos guardados');
  await expect(page.getByTestId('perm-cashier-line_discount')).toBeChecked();
  await page.keyboard.press('Escape');
  await logout(page);
  // Ana (cashier) now sees line_discount among her permissions: no approval asked.
  await tapPin(page, '1234');
  // The sale screen marks what needs a manager: no more lock on the line discount (F3).
  await expect(page.getByTestId('line-discount').getByTestId('needs-approval')).toHaveCount(0);
  await expect(page.getByTestId('void-sale').getByTestId('needs-approval')).toHaveCount(1);
  const perms = await page.evaluate(async () => (await (window as unknown as { __fakeRegister: { session(): Promise<{ permissions: string[] }> } }).__fakeRegister.session()).permissions);
  expect(perms).toContain('line_discount');
  expect(perms).not.toContain('void_sale');
  // A cashier has no staff screen.
  await expect(page.getByTestId('staff-open')).toHaveCount(0);
  await page.keyboard.press('Shift+F8');
  await expect(page.getByTestId('message')).toContainText('No tienes permiso');
  await expect(page.getByTestId('staff')).toHaveCount(0);
  const changed = await page.evaluate(() =>
    (window as unknown as { __fakeRegister: { auditLog: { action: string; detail: Record<string, unknown> }[] } }).__fakeRegister.auditLog.find((a) => a.action === 'role_permissions_changed'),
  );
  expect(changed?.detail).toMatchObject({ role: 'cashier', after: { permissions: expect.arrayContaining(['line_discount']) } });
});

test('a custom role with only line_discount, then renamed and deleted once nobody has it', async ({ page }) => {
  await as(page, '0000');
  await staffScreen(page);
  await page.keyboard.press('F2');
  await page.getByTestId('staff-role-name').fill('Jefe de turno');
  await page.getByTestId('staff-role-create').click();
  await expect(page.getByTestId('staff-done')).toContainText('Rol creado');
  const col = page.getByTestId('staff-role-custom_jefe_de_turno');
  await expect(col).toContainText('Jefe de turno');
  await page.getByTestId('perm-custom_jefe_de_turno-line_discount').check();
  await expect(page.getByTestId('perm-custom_jefe_de_turno-line_discount')).toBeChecked();
  await page.keyboard.press('F1');
  await page.getByTestId('staff-new-user').click();
  await page.getByTestId('staff-user-name').fill('Lena');
  await page.getByTestId('staff-user-role').selectOption('custom_jefe_de_turno');
  await page.getByTestId('staff-user-pin').fill('5151');
  await page.getByTestId('staff-user-pin-again').fill('5151');
  await page.getByTestId('staff-user-save').click();
  await expect(page.getByTestId('staff-user-Lena')).toContainText('Jefe de turno');
  // In use: it cannot be deleted.
  await page.keyboard.press('F2');
  await expect(page.getByTestId('staff-role-custom_jefe_de_turno').getByTestId('staff-role-delete')).toBeDisabled();
  await page.keyboard.press('Escape');
  await logout(page);
  await tapPin(page, '5151');
  await expect(page.getByTestId('who')).toContainText('(Jefe de turno)');
  const perms = await page.evaluate(async () => (await (window as unknown as { __fakeRegister: { session(): Promise<{ permissions: string[] }> } }).__fakeRegister.session()).permissions);
  expect(perms).toEqual(['line_discount']);

  await logout(page);
  await tapPin(page, '0000');
  await staffScreen(page);
  await page.getByTestId('staff-user-Lena').getByTestId('staff-user-edit').click();
  await page.getByTestId('staff-user-role').selectOption('cashier');
  await page.getByTestId('staff-user-save').click();
  await page.keyboard.press('F2');
  await page.getByTestId('staff-role-custom_jefe_de_turno').getByTestId('staff-role-rename').click();
  await page.getByTestId('staff-role-rename-text').fill('Responsable');
  await page.getByTestId('staff-role-rename-save').click();
  await expect(page.getByTestId('staff-role-custom_jefe_de_turno')).toContainText('Responsable');
  await page.getByTestId('staff-role-custom_jefe_de_turno').getByTestId('staff-role-delete').click();
  await expect(page.getByTestId('staff-role-custom_jefe_de_turno')).toHaveCount(0);
  await expect(page.getByTestId('staff-done')).toHaveText('Rol borrado.');
});

test('clock in on the login screen with a PIN, clock out from the sale screen', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('clock')).toContainText('⇧F1');
  // The PIN typed on the pad says who; ⇧F1 clocks in without logging in.
  for (const d of '1234') await page.getByTestId(`pin-${d}`).click();
  await page.keyboard.press('Shift+F1');
  await expect(page.getByTestId('clock-said')).toContainText('Ana ha fichado la entrada');
  await expect(page.getByTestId('pin-ok')).toBeVisible();
  // A wrong PIN is refused in Spanish.
  for (const d of '5656') await page.getByTestId(`pin-${d}`).click();
  await page.getByTestId('clock').click();
  await expect(page.getByTestId('clock-said')).toContainText('PIN incorrecto');

  await tapPin(page, '1234');
  await expect(page.getByTestId('search')).toBeFocused();
  // On the sale screen the button says what ⇧F1 will do; the answer is in the message bar.
  await expect(page.getByTestId('clock')).toContainText('Salida');
  await page.keyboard.press('Shift+F1');
  await expect(page.getByTestId('message')).toContainText('Ana ha fichado la salida');
  await expect(page.getByTestId('clock')).toContainText('Entrada');
  const log = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.auditLog.map((a) => a.action));
  expect(log).toEqual(expect.arrayContaining(['clock_in', 'clock_out']));
});

test('the hours report: open shifts flagged, printed, and a correction keeps the original', async ({ page }) => {
  // The correction below is 00:10–00:40 today: pin the page's clock to today's noon so the test
  // reads the same whenever it runs (a correction may not end in the future).
  const noon = new Date();
  noon.setHours(12, 0, 0, 0);
  await page.clock.setFixedTime(noon);
  await open(page);
  for (const d of '1234') await page.getByTestId(`pin-${d}`).click();
  await page.keyboard.press('Shift+F1');
  await expect(page.getByTestId('clock-said')).toContainText('Ana');
  await tapPin(page, '9999');
  await expect(page.getByTestId('search')).toBeFocused();
  await staffScreen(page);
  // A manager sees hours and the audit trail, not users and roles.
  await expect(page.getByTestId('staff-tab-users')).toHaveCount(0);
  await expect(page.getByTestId('staff-tab-hours')).toContainText('F3');
  await expect(page.getByTestId('staff-hours')).toBeVisible();
  await expect(page.getByTestId('hours-total-Ana')).toContainText('0:00');
  await expect(page.getByTestId('hours-total-Ana')).toContainText('1 sin fichar salida (no sumado)');
  await expect(page.getByTestId('hours-open')).toHaveText('sin fichar salida');

  // Ana forgot to clock out: Marta corrects the shift to 08:00–12:30 today, with a reason.
  await page.getByTestId('shift-Ana').getByTestId('shift-correct').click();
  const today = await page.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  });
  await page.getByTestId('shift-fix-start').fill(`${today}T00:10`);
  await page.getByTestId('shift-fix-end').fill(`${today}T00:40`);
  await expect(page.getByTestId('shift-fix-save')).toBeDisabled();
  await page.getByTestId('shift-fix-reason').fill('olvidó fichar la salida');
  await page.getByTestId('shift-fix-save').click();
  await expect(page.getByTestId('staff-done')).toContainText('Turno corregido');
  await expect(page.getByTestId('shift-Ana').getByTestId('shift-corrected')).toHaveText('corregido');
  await expect(page.getByTestId('hours-total-Ana').getByTestId('hours-total-value')).toHaveText('0:30');

  await page.keyboard.press('F9');
  await expect(page.getByTestId('hours-printed')).toContainText('INFORME DE HORAS');
  await expect(page.getByTestId('hours-printed')).toContainText('Ana');
  await expect(page.getByTestId('hours-printed')).toContainText('0:30');
  const log = await page.evaluate(() => (window as unknown as FakeWindow).__fakeRegister.auditLog.map((a) => a.action));
  expect(log).toContain('shift_corrected');
});

test('the audit viewer filters and Verify tells intact from a row edited behind its back', async ({ page }) => {
  await as(page, '0000');
  await staffScreen(page);
  await page.keyboard.press('F2');
  await page.getByTestId('staff-role-name').fill('Becario');
  await page.getByTestId('staff-role-create').click();
  await expect(page.getByTestId('staff-done')).toContainText('Rol creado');
  await page.keyboard.press('F4');
  await expect(page.getByTestId('staff-audit')).toBeVisible();
  const created = page.locator('[data-testid="audit-row"][data-action="role_created"]');
  await expect(created).toHaveCount(1);
  await expect(created).toContainText('Admin');
  await expect(created).toContainText('"name":"Becario"');
  await page.getByTestId('audit-action').selectOption('role_created');
  await page.getByTestId('audit-search').click();
  await expect(page.getByTestId('audit-row')).toHaveCount(1);

  await expect(page.getByTestId('audit-verify')).toContainText('F6');
  await page.keyboard.press('F6');
  await expect(page.getByTestId('audit-verdict')).toContainText('El registro de auditoría está intacto');
  // Someone edits the row in the file: Verify finds that row.
  const seq = Number(await created.locator('td').first().textContent());
  await page.evaluate((s) => (window as unknown as FakeWindow).__fakeRegister.tamperAudit(s, { after: { name: 'Dueño' } }), seq);
  await page.getByTestId('audit-verify').click();
  await expect(page.getByTestId('audit-verdict')).toHaveText(
    `El registro de auditoría ha sido alterado: la fila ${seq} no cuadra. Desde la fila ${seq} no es fiable.`,
  );
});

test('the staff screen and Verify in Japanese', async ({ page }) => {
  await as(page, '0000', 'store=jp');
  await staffScreen(page);
  await expect(page.getByTestId('staff')).toContainText('設定 → スタッフ');
  await page.keyboard.press('F4');
  await page.getByTestId('audit-verify').click();
  await expect(page.getByTestId('audit-verdict')).toContainText('監査ログは改ざんされていません');
  await page.keyboard.press('F2');
  await expect(page.getByTestId('staff-roles')).toContainText('ユーザー管理');
});
