// Serves a folder of files to the engine's loaders through a fetch-like function (the loaders take
// any fetch), so Node tests load public/models/emoji/ exactly as the worker does over HTTP.
import { existsSync, readFileSync } from 'node:fs';

/** fetch for local paths; `override` replaces a file's bytes or JSON, null deletes it. */
export function diskFetch(override: Record<string, unknown> = {}): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const path = String(input);
    for (const [suffix, value] of Object.entries(override)) {
      if (!path.endsWith(suffix)) continue;
      if (value === null)
        return new Response('not found', { status: 404, statusText: 'Not Found' });
      const body =
        value instanceof Uint8Array ? value : new TextEncoder().encode(JSON.stringify(value));
      return new Response(body as Uint8Array<ArrayBuffer>);
    }
    if (!existsSync(path))
      return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(readFileSync(path) as Uint8Array<ArrayBuffer>);
  }) as typeof fetch;
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}
