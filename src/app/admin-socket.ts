import { chmod, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../services/errors.js';
import type { ManagementCommands } from './management-commands.js';

/**
 * PGlite allows one process per data directory, so while `serve` runs, management commands reach it over a
 * Unix socket in DATA_DIR (mode 0600: only the owner of the data can manage it).
 */
export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'admin.sock');
}

interface AdminRequest {
  command: keyof ManagementCommands;
  args: unknown;
}

type AdminResponse =
  { ok: true; result: unknown } | { ok: false; error: { status: number; code: string; detail: string } };

const maxRequestBytes = 64 * 1024;

export async function startAdminSocket(deps: {
  dataDir: string;
  commands: ManagementCommands;
  log: Logger;
}): Promise<{ close(): Promise<void> }> {
  const path = adminSocketPath(deps.dataDir);
  await rm(path, { force: true });
  const server: Server = createServer((socket) => handleConnection(socket, deps));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}

function handleConnection(socket: Socket, deps: { commands: ManagementCommands; log: Logger }): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > maxRequestBytes)
      return reply(
        socket,
        failure(new AppError(413, 'request-too-large', 'Too large', 'admin request too large')),
      );
    const newline = buffered.indexOf('\n');
    if (newline === -1) return;
    const line = buffered.slice(0, newline);
    socket.removeAllListeners('data');
    void execute(line, deps).then((response) => reply(socket, response));
  });
  socket.on('error', (error) => deps.log.debug({ err: error }, 'admin socket client error'));
}

async function execute(
  line: string,
  deps: { commands: ManagementCommands; log: Logger },
): Promise<AdminResponse> {
  try {
    const request = JSON.parse(line) as AdminRequest;
    const command = Object.hasOwn(deps.commands, request.command)
      ? deps.commands[request.command]
      : undefined;
    if (typeof command !== 'function')
      throw new AppError(
        400,
        'unknown-command',
        'Unknown command',
        `unknown admin command ${String(request.command).slice(0, 40)}`,
      );
    deps.log.info({ command: request.command }, 'admin command');
    return { ok: true, result: await (command as (args: unknown) => Promise<unknown>)(request.args) };
  } catch (error) {
    if (!(error instanceof AppError)) deps.log.error({ err: error }, 'admin command failed');
    return failure(error);
  }
}

function failure(error: unknown): AdminResponse {
  const appError =
    error instanceof AppError
      ? error
      : new AppError(500, 'internal-error', 'Internal error', 'the command failed; see the server log');
  return {
    ok: false,
    error: { status: appError.status, code: appError.code, detail: appError.detail ?? appError.title },
  };
}

function reply(socket: Socket, response: AdminResponse): void {
  socket.end(`${JSON.stringify(response)}\n`);
}

/** Sends one command to a running server; resolves null when no server listens on the socket. */
export async function callAdminSocket(
  dataDir: string,
  command: keyof ManagementCommands,
  args: unknown,
): Promise<unknown> {
  const response = await new Promise<AdminResponse | null>((resolve, reject) => {
    const socket = createConnection(adminSocketPath(dataDir));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ command, args })}\n`));
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(data) as AdminResponse);
      } catch {
        reject(new Error('the running server sent an unreadable answer on the admin socket'));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(null);
      else reject(error);
    });
  });
  if (response === null) return noServer;
  if (!response.ok)
    throw new AppError(response.error.status, response.error.code, 'Command failed', response.error.detail);
  return response.result;
}

export const noServer = Symbol('no server on the admin socket');
