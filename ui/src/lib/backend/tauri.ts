/**
 * The real register: every command goes through Tauri's single `api` command as
 * `{ cmd, args }`; events are Tauri events named as the keys of `Events`. A rejected invoke
 * carries the register's ApiError `{code, message, params}`; anything else is normalised.
 */
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { commandsClient, type Events } from '../bindings';
import { toApiError } from '../errors';
import type { Backend } from './backend';

export function tauriBackend(): Backend {
  const commands = commandsClient((cmd, args) =>
    invoke('api', { cmd, args }).catch((e: unknown) => {
      throw toApiError(e);
    }),
  );
  return {
    ...commands,
    on<K extends keyof Events>(event: K, handler: (payload: Events[K]) => void) {
      let stop: (() => void) | null = null;
      let cancelled = false;
      void listen<Events[K]>(event, (e) => handler(e.payload)).then((unlisten) => {
        if (cancelled) unlisten();
        else stop = unlisten;
      });
      return () => {
        cancelled = true;
        stop?.();
      };
    },
  };
}
