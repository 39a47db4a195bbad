/** Public defaults of the simulator, shared with the service config (which points at it by default). */
export const DEFAULT_SIMULATOR_API_KEY = 'sim_local_key';
export const DEFAULT_SIMULATOR_WEBHOOK_SECRET = 'whsec_simulator_local';
export const DEFAULT_SIMULATOR_PORT = 4010;
