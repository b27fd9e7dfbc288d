// Kept apart from host.ts so that clients (hot-path workers) load no host code.

/** BroadcastChannel name of the function host when none is given. */
export const DEFAULT_FUNCTION_HOST_NAME = 'backplane:functions'
