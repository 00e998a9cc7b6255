export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A tiny JSON client over fetch, authenticated unless told otherwise. */
export const httpClient = (baseUrl: string, credentials: string | null = 'admin:admin') => {
  const call = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(credentials ? { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
    get: <T = any>(path: string) => call<T>('GET', path),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
    delete: <T = any>(path: string, headers?: Record<string, string>) => call<T>('DELETE', path, undefined, headers),
  };
};
