/**
 * The gateway's REST API as the page uses it: the session cookie authenticates, every request
 * carries `X-Requested-With: exchange-web` (required for changes made with the cookie), and an
 * error answer `{"code", "msg"}` becomes an ApiError whose message is the API's sentence.
 */

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | undefined>;

function query(params: Params): string {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== "");
  return new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString();
}

async function send<T>(method: string, path: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      ...init,
      headers: { "X-Requested-With": "exchange-web", Accept: "application/json", ...init.headers },
    });
  } catch {
    throw new ApiError(0, "The exchange cannot be reached; check your connection.", 0);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const err = body as { code?: number; msg?: string } | null;
    const msg = err?.msg ?? `The exchange answered ${response.status}.`;
    throw new ApiError(err?.code ?? -1, msg, response.status);
  }
  return body as T;
}

/** GET with query parameters. */
export function get<T>(path: string, params: Params = {}): Promise<T> {
  const q = query(params);
  return send<T>("GET", q ? `${path}?${q}` : path, {});
}

/** POST/PUT/DELETE with form-encoded parameters, as Binance's endpoints take them. */
export function form<T>(method: "POST" | "PUT" | "DELETE", path: string, params: Params = {}): Promise<T> {
  return send<T>(method, path, {
    body: query(params),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
}

/** POST/PATCH/DELETE with a JSON body (the /api/web endpoints). */
export function json<T>(method: "POST" | "PATCH" | "DELETE", path: string, body: unknown = {}): Promise<T> {
  return send<T>(method, path, { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
