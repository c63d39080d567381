// The console's only way to the service: the public API, with the operator's token and tenant.
const SESSION_KEY = "clienteling-console-session";

export class ApiError extends Error {
  constructor(status, message, requestId, extra = {}) {
    super(message);
    this.status = status;
    this.requestId = requestId;
    this.aborted = Boolean(extra.aborted);
  }
}

export function loadSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const session = raw ? JSON.parse(raw) : null;
    return session && session.tenant && session.token ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(tenant, token) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ tenant, token }));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

// One request to the API with the session's token and tenant; rejects with ApiError when the
// service cannot be reached or refuses (its message and request id).
async function send(method, path, body, session, accept, options = {}) {
  const headers = { Accept: accept, ...(options.headers || {}) };
  if (session) {
    headers.Authorization = `Bearer ${session.token}`;
    headers.Tenant = session.tenant;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal: options.signal,
    });
  } catch (exc) {
    if (exc.name === "AbortError") throw new ApiError(0, "Cancelled.", null, { aborted: true });
    throw new ApiError(0, `The service could not be reached (${exc.message}). Check that it is running.`, null);
  }
  if (response.status === 304) return response;
  if (!response.ok) {
    const requestId = response.headers.get("X-Request-ID");
    let data = null;
    try {
      data = JSON.parse(await response.text());
    } catch {
      data = null;
    }
    const message = data && typeof data.message === "string"
      ? data.message
      : `The service answered ${response.status} ${response.statusText}.`;
    throw new ApiError(response.status, message, (data && data.request_id) || requestId);
  }
  return response;
}

// Calls the API; resolves to the parsed body, rejects with ApiError (message + request id).
// `options.signal` (an AbortController's) cancels the request.
export async function api(method, path, body, session = loadSession(), options = {}) {
  const response = await send(method, path, body, session || loadSession(), "application/json", options);
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// GETs `path` as `accept` (e.g. text/csv) and resolves to the answer as a Blob.
export async function download(path, accept, session = loadSession()) {
  const response = await send("GET", path, undefined, session, accept);
  return response.blob();
}

// Sends a file to a presigned upload (S3 or the embedded storage): the form fields in order,
// then the file as the last part named "file".
export async function uploadFile(grant, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(grant.fields || {})) form.append(name, value);
  form.append("file", file, file.name);
  let response;
  try {
    response = await fetch(grant.upload_url, {
      method: grant.method || "POST",
      headers: grant.headers || {},
      body: form,
    });
  } catch (exc) {
    throw new ApiError(0, `The upload could not be sent (${exc.message}).`, null);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = `The upload was refused (${response.status}).`;
    let requestId = response.headers.get("X-Request-ID") || response.headers.get("x-amz-request-id");
    try {
      const data = JSON.parse(text);
      if (data.message) message = `The upload was refused: ${data.message}`;
      if (data.request_id) requestId = data.request_id;
    } catch {
      const match = /<Message>([^<]*)<\/Message>/.exec(text);
      if (match) message = `The upload was refused: ${match[1]}`;
    }
    throw new ApiError(response.status, message, requestId);
  }
}

// The onboarding status, unless it is unchanged since the document tagged `etag`: resolves to
// {document, etag}, with document null when the service answered 304 Not Modified.
export async function fetchStatus(etag, session = loadSession()) {
  const headers = etag ? { "If-None-Match": etag } : {};
  const response = await send("GET", "/clienteling/onboarding-status", undefined, session, "application/json", { headers });
  const tag = response.headers.get("ETag");
  if (response.status === 304) return { document: null, etag: tag || etag };
  return { document: await response.json(), etag: tag };
}
