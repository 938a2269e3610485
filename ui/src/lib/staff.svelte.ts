/**
 * Settings → Staff (⇧F8; issue 6): users, roles and the permission matrix, hours worked with
 * shift corrections, and the audit viewer with its verification — and clock in / clock out
 * (⇧F1) from the login or sale screen. The register decides everything (who may, PIN rules, the
 * admin's guarded permissions); this holds only what the screen shows and the last answer.
 */
import type { ApiError, AuditPageDto, AuditVerifyDto, ClockDto, HoursReportDto, StaffDto } from './bindings';
import { toApiError } from './errors';
import { register } from './register.svelte';
import { i18n, t, type MessageKey } from './i18n/index.svelte';
import { formatTime } from './format';
import { en } from './i18n/en';

export type StaffTab = 'users' | 'roles' | 'hours' | 'audit';

/** The permission each tab needs (Rust checks again on every command). */
export const TAB_PERMISSION: Record<StaffTab, string> = {
  users: 'manage_users',
  roles: 'manage_users',
  hours: 'manage_shifts',
  audit: 'view_audit',
};
export const TABS: StaffTab[] = ['users', 'roles', 'hours', 'audit'];

/** Today as the store-local date "YYYY-MM-DD" the register expects (the terminal's clock). */
export function today(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

class Staff {
  open = $state(false);
  tab = $state<StaffTab>('users');
  overview = $state.raw<StaffDto | null>(null);
  hours = $state.raw<HoursReportDto | null>(null);
  audit = $state.raw<AuditPageDto | null>(null);
  verify = $state.raw<AuditVerifyDto | null>(null);
  error = $state.raw<ApiError | null>(null);
  busy = $state(false);
  /** A short confirmation of the last change (a message key of the staff catalog). */
  done = $state<string | null>(null);
  /** The last clock in/out answer, shown on the login and sale screens. */
  clock = $state.raw<ClockDto | null>(null);
  clockError = $state.raw<ApiError | null>(null);
  /** Whether the logged-in user is clocked in (for the sale screen's button). */
  clockedIn = $state(false);

  private get b() {
    return register.backend!;
  }

  can(permission: string): boolean {
    return register.session?.permissions.includes(permission) ?? false;
  }

  /** The logged-in user may not do this alone: a manager's PIN will be asked (Rust decides). */
  needsApproval(permission: string): boolean {
    return register.session !== null && !this.can(permission);
  }

  /** Tabs the logged-in user may open. */
  get tabs(): StaffTab[] {
    return TABS.filter((t) => this.can(TAB_PERMISSION[t]));
  }

  /** ⇧F8 is for those who may open at least one tab. */
  get allowed(): boolean {
    return this.tabs.length > 0;
  }

  async show(tab?: StaffTab): Promise<void> {
    if (!this.allowed) {
      // Said in the sale screen's message bar, in the user's language.
      register.message = { kind: 'error', error: { code: 'auth.forbidden', message: 'staff', params: {} } };
      return;
    }
    this.open = true;
    this.error = null;
    this.done = null;
    this.verify = null;
    await this.go(tab && this.tabs.includes(tab) ? tab : this.tabs[0]);
  }

  close(): void {
    this.open = false;
  }

  async go(tab: StaffTab): Promise<void> {
    this.tab = tab;
    this.error = null;
    this.done = null;
    if (tab === 'users' || tab === 'roles') await this.run(async () => (this.overview = await this.b.staffOverview()));
    else if (tab === 'hours' && !this.hours) await this.loadHours(today(), today(), false);
    else if (tab === 'audit') await this.loadAudit({});
  }

  /** Runs a command; a refusal is shown in the user's language and changes nothing. */
  async run<T>(f: () => Promise<T>, done?: string): Promise<T | null> {
    this.busy = true;
    this.error = null;
    this.done = null;
    try {
      const out = await f();
      if (done) this.done = done;
      return out;
    } catch (e) {
      this.error = toApiError(e);
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** A staff change answers with the whole overview; the session follows the stored matrix. */
  async change(f: () => Promise<StaffDto>, done: string): Promise<boolean> {
    const out = await this.run(f, done);
    if (!out) return false;
    this.overview = out;
    // The register re-reads the user after a staff change; a deactivated session ends.
    register.session = await this.b.session();
    return true;
  }

  async loadHours(from: string, to: string, print: boolean): Promise<void> {
    const out = await this.run(() => this.b.hoursReport(from, to, print), print ? 'staff.done.printed' : undefined);
    if (out) this.hours = out;
  }

  async correctShift(shiftId: string, startedAt: string, endedAt: string, reason: string): Promise<boolean> {
    const out = await this.run(() => this.b.correctShift(shiftId, startedAt, endedAt, reason), 'staff.done.corrected');
    if (!out) return false;
    if (this.hours) await this.loadHours(this.hours.from, this.hours.to, false);
    this.done = 'staff.done.corrected';
    return true;
  }

  async loadAudit(f: { from?: string; to?: string; userId?: string; action?: string }): Promise<void> {
    const out = await this.run(() =>
      this.b.auditTrail(f.from || null, f.to || null, f.userId || null, f.action || null),
    );
    if (out) this.audit = out;
  }

  async runVerify(): Promise<void> {
    this.verify = null;
    const out = await this.run(() => this.b.verifyAudit());
    if (out) this.verify = out;
  }

  // ---- clock in / clock out ----------------------------------------------------------------

  /** ⇧F1: with a PIN on the login screen, or as the logged-in user. */
  async clockInOut(pin: string | null): Promise<void> {
    this.clock = null;
    this.clockError = null;
    const onSaleScreen = register.session !== null && !pin;
    try {
      const c = await this.b.clockInOut(pin);
      this.clock = c;
      if (onSaleScreen) {
        this.clockedIn = c.clockedIn;
        // The sale screen says it in its message bar (the header has no room for a sentence).
        const s = c.shift;
        const time = s ? formatTime(new Date(s.endedAt ?? s.startedAt), i18n.locale) : '';
        const hours = s ? `${Math.floor(s.minutes / 60)}:${String(s.minutes % 60).padStart(2, '0')}` : '';
        register.message = { kind: 'ok', key: c.clockedIn ? 'staff.clock.did_in' : 'staff.clock.did_out', params: { name: c.userName, time, hours } };
      }
    } catch (e) {
      this.clockError = toApiError(e);
      if (onSaleScreen) register.message = { kind: 'error', error: this.clockError };
    }
  }

  async refreshClock(): Promise<void> {
    if (!register.session) return;
    try {
      this.clockedIn = (await this.b.clockStatus()).clockedIn;
    } catch {
      /* the button keeps its label */
    }
  }
}

export const staff = new Staff();

/** A role's name in the user's language: built-in roles are translated, custom ones as named. */
export function roleLabel(code: string, name: string): string {
  if (code === 'cashier' || code === 'manager' || code === 'admin') return t(`role.${code}` as MessageKey);
  return name;
}

/** A permission's name in the user's language (its code when the catalog does not know it). */
export function permissionLabel(code: string): string {
  const key = `perm.${code}` as MessageKey;
  return key in en ? t(key) : code;
}

/** An audit action's name in the user's language (its code when the catalog does not know it). */
export function actionLabel(code: string): string {
  const key = `audit.action.${code}` as MessageKey;
  return key in en ? t(key) : code;
}
