/**
 * Picks the TensorFlow.js backend once per process.
 *
 * Order: `tensorflow` (the native tfjs-node binding, an optional dependency that often cannot
 * install), then `wasm` (XNNPACK, SIMD, one thread in Node), then `cpu` (plain JavaScript).
 * wasm comes before cpu because it is the faster one at the size that sets the time budget
 * (100,000 rows × 80 features, dense 16 → 1, batch 512): about 3× faster an epoch than cpu on
 * the 2-core target (tests/bench/tfjs-core-bench.ts). On tiny sets (a few thousand rows, ten
 * features) cpu's lower per-op overhead wins, but those train in seconds either way.
 *
 * Every module imports '@tensorflow/tfjs' directly: tfjs keeps one engine per process, so the
 * backend chosen here is the one they all run on. Call `initBackend` (and await it) before the
 * first tensor is made.
 */
import * as tf from '@tensorflow/tfjs';

export type BackendName = 'tensorflow' | 'cpu' | 'wasm';

export interface BackendInfo {
  /** The backend tfjs runs on: 'tensorflow', 'wasm' or 'cpu'. */
  name: BackendName;
  tf: typeof tf;
}

export interface InitBackendOptions {
  /** One line is logged when a backend is chosen (and not on later calls that change nothing). */
  log?: (line: string) => void;
  /**
   * Replaces how a backend is registered, for tests (e.g. a loader that throws to prove the
   * fallback). A loader registers the backend with tfjs or throws.
   */
  loaders?: Partial<Record<BackendName, () => Promise<void>>>;
}

/** The preference order when none is given: native, then the fastest pure backend measured. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

// A variable, so that the type checker does not look for the (absent) optional package.
const TFJS_NODE = '@tensorflow/tfjs-node';

const DEFAULT_LOADERS: Record<BackendName, () => Promise<void>> = {
  tensorflow: async () => {
    await import(TFJS_NODE);
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
  },
  cpu: async () => {
    // Registered by '@tensorflow/tfjs' itself.
  },
};

let current: BackendInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).slice(0, 160);
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

async function activate(name: BackendName, loaders: InitBackendOptions['loaders']): Promise<void> {
  if (tf.getBackend() === name && current?.name === name) return;
  // The wasm backend's Emscripten runtime adds process listeners that rethrow every uncaught
  // exception and unhandled rejection (printing its whole minified source line): they would
  // override the service's own handlers and crash it. They are not needed; remove them.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    await (loaders?.[name] ?? DEFAULT_LOADERS[name])();
    if (!tf.findBackendFactory(name)) throw new Error(`backend '${name}' did not register`);
    if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise`);
    await tf.ready();
  } finally {
    for (const event of PROCESS_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

/**
 * Makes tfjs run on `preferred` if it works here, else on the next one of BACKEND_ORDER that
 * does; logs one line naming the backend (and why a preferred one was passed over).
 * Idempotent: once a backend runs, a call without a preference, or with the one already
 * running, returns it at once and logs nothing. Concurrent calls are serialised.
 */
export function initBackend(preferred?: BackendName, options: InitBackendOptions = {}): Promise<BackendInfo> {
  const run = queue.then(async (): Promise<BackendInfo> => {
    if (current && (preferred === undefined || preferred === current.name) && tf.getBackend() === current.name) {
      return current;
    }
    // The cpu backend warns on first use in Node that tfjs-node would be faster; the choice is
    // deliberate and logged below, so the warning is noise.
    tf.env().set('PROD', true);
    const order = preferred ? [preferred, ...BACKEND_ORDER.filter((b) => b !== preferred)] : [...BACKEND_ORDER];
    const passedOver: string[] = [];
    for (const name of order) {
      try {
        await activate(name, options.loaders);
        current = { name, tf };
        const why = passedOver.length > 0 ? ` (${passedOver.join('; ')})` : '';
        options.log?.(`tfjs backend: ${name}${why}`);
        return current;
      } catch (error) {
        passedOver.push(`${name} unavailable: ${reasonOf(error)}`);
      }
    }
    throw new Error(`no TensorFlow.js backend could start: ${passedOver.join('; ')}`);
  });
  queue = run.catch(() => undefined);
  return run;
}

/** The backend chosen by initBackend, if any (for metadata and logs). */
export function currentBackend(): BackendName | undefined {
  return current?.name;
}
