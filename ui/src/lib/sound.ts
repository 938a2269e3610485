/**
 * Short distinct tones through WebAudio, so a cashier hears what happened without looking:
 * "added" (one short high beep), "error" (two low beeps: unknown code, refused scan) and
 * "approval" (a rising two-tone: a manager must approve). Silent where audio is unavailable.
 */
export type Tone = 'added' | 'error' | 'approval';

const TONES: Record<Tone, { freq: number; ms: number; gapMs?: number; type: OscillatorType }[]> = {
  added: [{ freq: 1320, ms: 60, type: 'sine' }],
  error: [
    { freq: 280, ms: 140, type: 'square', gapMs: 70 },
    { freq: 280, ms: 180, type: 'square' },
  ],
  approval: [
    { freq: 660, ms: 120, type: 'triangle', gapMs: 30 },
    { freq: 990, ms: 160, type: 'triangle' },
  ],
};

let ctx: AudioContext | null = null;

/** What was played, newest last (read by the UI tests; capped). */
export const toneLog: Tone[] = [];

/** Creates the audio context ahead of the first beep (browsers allow it after a user gesture). */
export function primeAudio(): void {
  try {
    const AC = globalThis.AudioContext;
    if (AC && !ctx) ctx = new AC();
  } catch {
    /* no audio */
  }
}

export function beep(tone: Tone): void {
  toneLog.push(tone);
  if (toneLog.length > 50) toneLog.shift();
  if (typeof window !== 'undefined') {
    (window as unknown as { __posTones?: Tone[] }).__posTones = toneLog;
  }
  try {
    const AC = globalThis.AudioContext;
    if (!AC) return;
    ctx ??= new AC();
    if (ctx.state === 'suspended') void ctx.resume();
    let at = ctx.currentTime + 0.005;
    for (const part of TONES[tone]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = part.type;
      osc.frequency.value = part.freq;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + part.ms / 1000);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + part.ms / 1000 + 0.02);
      at += (part.ms + (part.gapMs ?? 0)) / 1000;
    }
  } catch {
    /* no audio device: the on-screen message still says what happened */
  }
}
