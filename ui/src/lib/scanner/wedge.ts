/**
 * Keyboard-wedge scanner detection. A USB scanner "types" a code as a burst of keystrokes a few
 * milliseconds apart, ending with Enter (or Tab); people type far slower. The detector holds
 * back code characters while it cannot yet tell the two apart, then either reports a scan (the
 * characters never reach any field) or releases them, in order, to whatever has focus.
 *
 * Invariants:
 * - A burst (≥ `minLength` code characters and its terminator arriving at an average gap under
 *   `maxGapMs`, no single gap reaching `holdMs`) is reported with `onScan` and nothing of it
 *   is released: scans never type into the search field, a quantity field or a dialog. The
 *   average (not every gap) is what is compared, so one late key from a busy machine does not
 *   split a scan, while no person types four characters and Enter at that pace.
 * - Every held character that is not part of a scan is released exactly once, in order, and
 *   before any later key is let through (no loss, no doubling, no reordering).
 * - Held characters are released at most `holdMs` after the last one (the timer calls `flush`).
 *   When the machine is so busy that a scanner's keys reach the page more than `holdMs` apart
 *   although their timestamps are milliseconds apart, the characters released by the timer are
 *   taken back (`onRetract`) when the next key shows they were the start of a burst.
 *
 * The detector is pure: time is passed in, so it is unit-tested with synthetic timings.
 * `installWedge` binds it to a window in the capture phase.
 */

export interface WedgeOptions {
  /** Largest average gap between the keys of a scan (terminator included), ms. */
  maxGapMs: number;
  /** Fewest characters in a scan. */
  minLength: number;
  /** How long held characters wait for the burst to continue before being released, ms;
   *  also the largest single gap inside a scan. */
  holdMs: number;
}

export const DEFAULT_WEDGE: WedgeOptions = { maxGapMs: 35, minLength: 4, holdMs: 50 };

export interface WedgeSink {
  onScan(code: string): void;
  /** Held characters that turned out to be typed by a person. */
  onRelease(text: string): void;
  /** Takes back the text of the last `onRelease`: it was the start of a scan after all. */
  onRetract?(text: string): void;
}

/** What to do with the key event just fed. */
export type WedgeDecision = 'consume' | 'pass';

/** Characters a scanner sends for the codes a register reads (GTINs, SKUs, Code 128 text). */
export function isCodeChar(key: string): boolean {
  return key.length === 1 && /[0-9A-Za-z]/.test(key);
}

export function isTerminator(key: string): boolean {
  return key === 'Enter' || key === 'Tab';
}

export class WedgeDetector {
  private held: { key: string; t: number }[] = [];

  constructor(
    private readonly sink: WedgeSink,
    private readonly opts: WedgeOptions = DEFAULT_WEDGE,
  ) {}

  /** The last characters the timer released, while a burst could still take them back. */
  private timerReleased: { key: string; t: number }[] = [];

  /** When the last key was handled (clock of `flush`); differs from its timestamp when input
   *  events queued up behind a busy main thread. */
  private lastHandled = 0;

  /** Time at which `flush` should run, or null when nothing is held. */
  deadline(): number | null {
    return this.held.length ? this.lastHandled + this.opts.holdMs : null;
  }

  get holding(): boolean {
    return this.held.length > 0;
  }

  /**
   * Feeds one keydown. `t` is the key's own timestamp (gaps are measured on it); `handledAt`
   * is now on the clock `flush` gets (the hold time runs from it, so keys that queued up while
   * the page was busy still count as one burst). `plain` is false when Ctrl/Alt/Meta is held
   * or an IME is composing: such keys are never held. Returns whether the event must be
   * consumed (preventDefault).
   */
  key(key: string, t: number, plain = true, handledAt = t): WedgeDecision {
    this.lastHandled = handledAt;
    if (plain && isTerminator(key)) {
      this.timerReleased = [];
      // A key typed by hand just before the scanner started is not part of the code: drop
      // leading keys that stand apart from the rest, releasing them as typing.
      let lead = 0;
      while (this.held.length - lead > this.opts.minLength && this.held[lead + 1].t - this.held[lead].t >= this.opts.maxGapMs) {
        lead += 1;
      }
      if (lead > 0) {
        const typed = this.held.splice(0, lead).map((h) => h.key).join('');
        this.sink.onRelease(typed);
      }
      const first = this.held[0];
      const last = this.held[this.held.length - 1];
      if (
        first &&
        last &&
        this.held.length >= this.opts.minLength &&
        t - last.t < this.opts.holdMs &&
        (t - first.t) / this.held.length < this.opts.maxGapMs
      ) {
        const code = this.held.map((h) => h.key).join('');
        this.held = [];
        this.sink.onScan(code);
        return 'consume';
      }
      this.release();
      return 'pass';
    }
    // returns: a receipt's QR code is "T01-000123"; a '-' inside a burst belongs to the code,
    // a '-' on its own is the quantity key.
    const prev = this.held[this.held.length - 1] ?? this.timerReleased[this.timerReleased.length - 1];
    const inner = key === '-' && prev !== undefined && t - prev.t < this.opts.maxGapMs;
    if (plain && (isCodeChar(key) || inner)) {
      const back = this.timerReleased;
      this.timerReleased = [];
      const lastBack = back[back.length - 1];
      if (this.held.length === 0 && lastBack && t - lastBack.t < this.opts.maxGapMs) {
        // Milliseconds after the released characters by the keys' own clocks: the same burst,
        // delayed on its way. Take the characters back.
        this.held = back;
        this.sink.onRetract?.(back.map((h) => h.key).join(''));
      }
      const last = this.held[this.held.length - 1];
      if (last && t - last.t >= this.opts.holdMs) {
        // Too slow for a scanner: what is held was typed. This key is held on its own, in case
        // a burst starts with it.
        this.release();
      }
      this.held.push({ key, t });
      return 'consume';
    }
    // Any other key (arrows, F-keys, Backspace, +, -, shortcuts): release first so the field
    // sees characters and the key in the order they were pressed.
    this.timerReleased = [];
    this.release();
    return 'pass';
  }

  /** Called by the timer: releases held characters once no burst followed in time. */
  flush(t: number): void {
    const d = this.deadline();
    if (d !== null && t >= d) {
      const held = this.held;
      this.release();
      this.timerReleased = held;
    }
  }

  /** Releases whatever is held now (focus change, screen change). */
  release(): void {
    if (this.held.length === 0) return;
    const text = this.held.map((h) => h.key).join('');
    this.held = [];
    this.sink.onRelease(text);
  }
}

/** Is the element a field characters can be typed into? */
export function isTypingTarget(el: Element | null): el is HTMLInputElement | HTMLTextAreaElement {
  if (!el) return false;
  if (el instanceof HTMLTextAreaElement) return !el.readOnly && !el.disabled;
  if (el instanceof HTMLInputElement) {
    const typeable = ['text', 'search', 'tel', 'number', 'password', 'email', 'url', ''];
    return typeable.includes(el.type) && !el.readOnly && !el.disabled;
  }
  return false;
}

/** Inserts text at the caret of a field as if typed, and tells listeners (input event). */
export function typeInto(el: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? el.value.length;
  try {
    el.setRangeText(text, start, end, 'end');
  } catch {
    // type=number has no selection API
    el.value += text;
  }
  el.dispatchEvent(new InputEvent('input', { bubbles: true, data: text, inputType: 'insertText' }));
}

export interface InstallOptions {
  onScan(code: string): void;
  /** Characters typed by a person while no field had focus (e.g. PIN digits, type-to-search). */
  onUnfocusedText(text: string): void;
  /** Takes back characters given to `onUnfocusedText` (they were the start of a scan). */
  onUnfocusedRetract(text: string): void;
  opts?: WedgeOptions;
}

/** Removes `text` from a field if it is still where `typeInto` put it. */
export function untypeFrom(el: HTMLInputElement | HTMLTextAreaElement, start: number, text: string): boolean {
  if (el.value.slice(start, start + text.length) !== text) return false;
  el.value = el.value.slice(0, start) + el.value.slice(start + text.length);
  try {
    el.setSelectionRange(start, start);
  } catch {
    /* type=number */
  }
  el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'deleteContentBackward' }));
  return true;
}

/**
 * Listens to keydown on `win` in the capture phase, before any field or shortcut handler.
 * Returns a function that removes the listener.
 */
export function installWedge(win: Window, o: InstallOptions): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastTyped: { el: HTMLInputElement | HTMLTextAreaElement | null; start: number; text: string } | null = null;
  // The last keys with their times and decisions: for diagnosing a scanner in the field.
  const recent: string[] = [];
  (win as unknown as { __wedgeRecent?: string[] }).__wedgeRecent = recent;
  const detector = new WedgeDetector(
    {
      onScan: o.onScan,
      onRelease(text) {
        const el = win.document.activeElement;
        if (isTypingTarget(el)) {
          lastTyped = { el, start: el.selectionStart ?? el.value.length, text };
          typeInto(el, text);
        } else {
          lastTyped = { el: null, start: 0, text };
          o.onUnfocusedText(text);
        }
      },
      onRetract(text) {
        const t = lastTyped;
        lastTyped = null;
        if (!t || t.text !== text) return;
        if (t.el) untypeFrom(t.el, t.start, text);
        else o.onUnfocusedRetract(text);
      },
    },
    o.opts ?? DEFAULT_WEDGE,
  );
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const d = detector.deadline();
    if (d === null) return;
    let retries = 0;
    const fire = () => {
      // A timer that fires late means the machine is busy: key events of a burst may still be
      // on their way. Give them another hold period (at most three) before deciding; typed
      // characters then appear a little later, which is harmless on a busy machine.
      if (win.performance.now() - d > 8 && retries < 3) {
        retries += 1;
        timer = setTimeout(fire, o.opts?.holdMs ?? DEFAULT_WEDGE.holdMs);
        return;
      }
      timer = null;
      detector.flush(Math.max(win.performance.now(), d));
    };
    timer = setTimeout(fire, Math.max(0, d - win.performance.now()) + 1);
  };
  const onKey = (e: KeyboardEvent) => {
    // Auto-repeat (a key held down) is a person, never a scanner.
    const plain = !e.ctrlKey && !e.altKey && !e.metaKey && !e.isComposing && !e.repeat && e.key !== 'Process';
    // The event's own timestamp: a busy main thread delays handling, not the keys' real gaps.
    const now = win.performance.now();
    const t = e.timeStamp || now;
    const decision = detector.key(e.key, t, plain, now);
    recent.push(`${e.key}@${t.toFixed(0)}:${decision}`);
    if (recent.length > 64) recent.shift();
    if (decision === 'consume') {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
    schedule();
  };
  const onBlur = () => {
    detector.release();
    schedule();
  };
  win.addEventListener('keydown', onKey, { capture: true });
  win.addEventListener('blur', onBlur);
  return () => {
    win.removeEventListener('keydown', onKey, { capture: true });
    win.removeEventListener('blur', onBlur);
    if (timer) clearTimeout(timer);
  };
}
