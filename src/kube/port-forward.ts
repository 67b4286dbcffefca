import net from 'node:net';
import { Writable } from 'node:stream';
import type { Kube } from './client.ts';

export interface ForwardTarget {
  namespace: string;
  pod: string;
  port: number;
  /** Tells a replaced pod of the same name apart. */
  uid?: string;
}

export interface PortForwarder {
  /** The local port actually bound (a free one when 0 was asked for). */
  readonly localPort: number;
  readonly address: string;
  /** Resolves when closed (by close() or the signal). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export interface PortForwardOptions {
  /** 0 picks a free port. */
  localPort?: number;
  address?: string;
  /**
   * Which pod to reach, asked again for every new connection: a pod that was replaced (new
   * name, or same name and new incarnation) is picked up without restarting the forward.
   */
  resolve(): Promise<ForwardTarget>;
  signal?: AbortSignal;
  /** Something to tell the user: which pod a connection went to, or why it failed. */
  onEvent?(event: { type: 'connect'; target: ForwardTarget } | { type: 'error'; message: string }): void;
}

/**
 * `kubectl port-forward`, through @kubernetes/client-node: a local TCP server whose every
 * connection is carried over a port-forward WebSocket to the API server. Nothing outlives
 * close(): the server, every client socket and every WebSocket are closed.
 */
export async function startPortForward(kube: Kube, options: PortForwardOptions): Promise<PortForwarder> {
  const forwarder = new kube.lib.PortForward(kube.kc, true);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<{ close(): void }>();
  const address = options.address ?? '127.0.0.1';

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    void connect(socket);
  });

  async function connect(socket: net.Socket): Promise<void> {
    let target: ForwardTarget;
    try {
      target = await options.resolve();
    } catch (error) {
      options.onEvent?.({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      socket.destroy();
      return;
    }
    if (socket.destroyed) return;
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (socket.destroyed) return callback();
        socket.write(chunk, () => callback());
      },
    });
    const errors = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        options.onEvent?.({ type: 'error', message: chunk.toString('utf8').trim() });
        callback();
      },
    });
    try {
      const ws = (await forwarder.portForward(
        target.namespace,
        target.pod,
        [target.port],
        output,
        errors,
        socket,
      )) as unknown as {
        close(): void;
        on(event: string, listener: (...args: unknown[]) => void): void;
      };
      const session = { close: () => ws.close() };
      sessions.add(session);
      options.onEvent?.({ type: 'connect', target });
      ws.on('close', () => {
        sessions.delete(session);
        socket.end();
      });
      ws.on('error', () => socket.destroy());
      socket.on('close', () => ws.close());
      socket.resume();
    } catch (error) {
      options.onEvent?.({
        type: 'error',
        message:
          `port-forward to ${target.namespace}/${target.pod}:${target.port} failed: ` +
          (error instanceof Error ? error.message : String(error)),
      });
      socket.destroy();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.localPort ?? 0, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const s of sessions) s.close();
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  server.on('close', () => resolveClosed());
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  if (options.signal?.aborted) void close();
  return { localPort: bound.port, address, closed, close };
}
