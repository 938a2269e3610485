/**
 * The one interface the screens use to reach the register: every generated command plus
 * event subscription. Two implementations: `tauri.ts` (the real register through Tauri IPC)
 * and `fake.ts` (an in-browser test double for the UI tests and the browser demo).
 *
 * Invariant: screens import types from here and `../bindings`, never from an implementation.
 */
import type { Commands, Events } from '../bindings';

export interface Backend extends Commands {
  /** Subscribes to a pushed event; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void): () => void;
}

export function runningInTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

/** Picks the real register inside Tauri, the fake in a plain browser. */
export async function connectBackend(): Promise<Backend> {
  if (runningInTauri()) {
    const { tauriBackend } = await import('./tauri');
    return tauriBackend();
  }
  const { FakeRegister, fakeOptionsFromUrl } = await import('./fake');
  const fake = new FakeRegister(fakeOptionsFromUrl(window.location.search));
  (window as unknown as { __fakeRegister?: typeof fake }).__fakeRegister = fake;
  return fake;
}
