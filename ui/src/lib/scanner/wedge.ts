/**
 * Keyboard-wedge scanner detection. A USB scanner "types" a code as a burst of keystrokes a few
 * milliseconds apart, ending with Enter (or Tab); people type far slower. The detector holds
 * back code characters while it cannot yet tell the two apart, then either reports a scan (the
 * characters never reach any field) or releases them, in order, to whatever has focus.
 *
 * Invariants:
 * - A burst (≥ `minLength` code characters, every gap < `maxGapMs`, terminated within
 *   `maxGapMs`) is reported with `onScan` and nothing of it is released: scans never type
 *   into the search field, a quantity field or a dialog.
 * - Every held character that is not part of a scan is released exactly once, in order, and
 *   before any later key is let through (no loss, no doubling, no reordering).
 * - Held characters are released at most `holdMs` after the last one (the timer calls `flush`).
 *
 * The detector is pure: time is passed in, so it is unit-tested with synthetic timings.
 * `installWedge` binds it to a window in the capture phase.
 */

export interface WedgeOptions {
  /** Largest gap between two keys of a scan, ms. */
  maxGapMs: number;
  /** Fewest characters in a scan. */
  minLength: number;
  /** How long held characters wait for the burst to continue before being released, ms. */
  holdMs: number;
}

export const DEFAULT_WEDGE: WedgeOptions = { maxGapMs: 35, minLength: 4, holdMs: 45 };

export interface WedgeSink {
  onScan(code: string): void;
  /** Held characters that turned out to be typed by a person. */
  onRelease(text: string): void;
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

  /** Time at which `flush` should run, or null when nothing is held. */
  deadline(): number | null {
    const last = this.held[this.held.length - 1];
    return last ? last.t + this.opts.holdMs : null;
  }

  get holding(): boolean {
    return this.held.length > 0;
  }

  /**
   * Feeds one keydown. `plain` is false when Ctrl/Alt/Meta is held or an IME is composing:
   * such keys are never held. Returns whether the event must be consumed (preventDefault).
   */
  key(key: string, t: number, plain = true): WedgeDecision {
    if (plain && isTerminator(key)) {
      const last = this.held[this.held.length - 1];
      if (
        last &&
        this.held.length >= this.opts.minLength &&
        t - last.t < this.opts.maxGapMs
      ) {
        const code = this.held.map((h) => h.key).join('');
        this.held = [];
        this.sink.onScan(code);
        return 'consume';
      }
      this.release();
      return 'pass';
    }
    if (plain && isCodeChar(key)) {
      const last = this.held[this.held.length - 1];
      if (last && t - last.t >= this.opts.maxGapMs) {
        // Too slow for a scanner: what is held was typed, and so is this key. Keep holding it
        // only so that order is kept with a burst that might start now.
        this.release();
      }
      this.held.push({ key, t });
      return 'consume';
    }
    // Any other key (arrows, F-keys, Backspace, +, -, shortcuts): release first so the field
    // sees characters and the key in the order they were pressed.
    this.release();
    return 'pass';
  }

  /** Called by the timer: releases held characters once no burst followed in time. */
  flush(t: number): void {
    const d = this.deadline();
    if (d !== null && t >= d) this.release();
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
  opts?: WedgeOptions;
}

/**
 * Listens to keydown on `win` in the capture phase, before any field or shortcut handler.
 * Returns a function that removes the listener.
 */
export function installWedge(win: Window, o: InstallOptions): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const detector = new WedgeDetector(
    {
      onScan: o.onScan,
      onRelease(text) {
        const el = win.document.activeElement;
        if (isTypingTarget(el)) typeInto(el, text);
        else o.onUnfocusedText(text);
      },
    },
    o.opts ?? DEFAULT_WEDGE,
  );
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const d = detector.deadline();
    if (d !== null) {
      timer = setTimeout(() => detector.flush(win.performance.now()), Math.max(0, d - win.performance.now()) + 1);
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const plain = !e.ctrlKey && !e.altKey && !e.metaKey && !e.isComposing && e.key !== 'Process';
    // The event's own timestamp: a busy main thread delays handling, not the keys' real gaps.
    const decision = detector.key(e.key, e.timeStamp || win.performance.now(), plain);
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
