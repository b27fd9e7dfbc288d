// Config sources built by hand in unit tests. The fields a test does not set take the values a config
// file that says nothing gets from config/load.ts (no admin listener, no OTLP export, ./.backplane
// state, default stage settings), so the literals stay complete GatewaySource / StageSource values.
import type { GatewaySource, StageSource } from '../../src/config/model.js'
import { DEFAULT_STAGE_SETTINGS } from '../../src/config/stage-settings.js'
import { defaultState } from '../../src/config/state.js'

/** A stage with its variables and default settings. */
export function stageSource (name: string, variables: Readonly<Record<string, string>> = {}): StageSource {
  return { name, variables, settings: DEFAULT_STAGE_SETTINGS }
}

/** A gateway on 127.0.0.1, port 0, one worker, with the given APIs and access; `fields` overrides any of it. */
export function gatewaySource (fields: Pick<GatewaySource, 'apis' | 'access'> & Partial<GatewaySource>): GatewaySource {
  return { host: '127.0.0.1', port: 0, workers: 1, admin: null, tracing: { otlp: null }, state: defaultState(), ...fields }
}
