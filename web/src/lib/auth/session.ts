/**
 * The signed-in session. The access token lives in this module's memory only (never in
 * storage, never in a cookie JavaScript can read); the refresh token is an HttpOnly cookie that
 * auth sets and only the browser sends, to /api/v1/auth alone. A reload starts "unknown" and
 * refreshes silently through the cookie; a refused refresh (expired, revoked, or a spent
 * cookie replayed) ends the session cleanly in this tab and tells the others.
 */
import createClient from "openapi-fetch";
import { API_BASE, WEB_CLIENT_HEADER } from "@/config/env";
import type { paths } from "@/lib/api/schema";
import { toApiError } from "@/lib/api/errors";

export type SessionStatus = "unknown" | "signed-in" | "signed-out";
export type Session = { status: SessionStatus; accessToken: string | null };

// The auth calls go without the bearer middleware (and so without its refresh-and-retry).
const authApi = createClient<paths>({ baseUrl: API_BASE, credentials: "same-origin" });

let session: Session = { status: "unknown", accessToken: null };
const listeners = new Set<() => void>();
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<boolean> | null = null;
const channel =
  typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("socialseed-session");

function set(next: Session): void {
  session = next;
  listeners.forEach((listener) => listener());
}

export function getSession(): Session {
  return session;
}

export function getAccessToken(): string | null {
  return session.accessToken;
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function signedIn(accessToken: string, expiresIn: number): void {
  clearTimeout(refreshTimer);
  // Renew a minute before the access token expires (never sooner than in 10 s).
  refreshTimer = setTimeout(() => void refreshSession(), Math.max(10, expiresIn - 60) * 1000);
  set({ status: "signed-in", accessToken });
}

function signedOut(): void {
  clearTimeout(refreshTimer);
  set({ status: "signed-out", accessToken: null });
}

async function rotate(): Promise<boolean> {
  const { data, response } = await authApi.POST("/api/v1/auth/refresh", {
    params: { header: WEB_CLIENT_HEADER },
  });
  if (response.ok && data) {
    signedIn(data.access_token, data.expires_in);
    return true;
  }
  signedOut();
  return false;
}

/** Exchange the cookie for a fresh access token. One at a time in this tab, and across tabs
 * (Web Locks): two tabs sending the same cookie at once would look like a replay and end the
 * session. */
export function refreshSession(): Promise<boolean> {
  let pending = inFlight;
  if (!pending) {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    const run: Promise<boolean> = locks
      ? locks.request("socialseed-refresh", rotate).then((ok) => ok)
      : rotate();
    pending = inFlight = run
      .catch(() => {
        signedOut();
        return false;
      })
      .finally(() => {
        inFlight = null;
      });
  }
  return pending;
}

export async function signIn(email: string, password: string): Promise<void> {
  const { data, error, response } = await authApi.POST("/api/v1/auth/login", {
    params: { header: WEB_CLIENT_HEADER },
    body: { email, password },
  });
  if (!response.ok || !data) throw toApiError(response.status, error);
  signedIn(data.access_token, data.expires_in);
}

export async function signOut(): Promise<void> {
  try {
    await authApi.POST("/api/v1/auth/logout", { params: { header: WEB_CLIENT_HEADER } });
  } finally {
    signedOut();
    channel?.postMessage("signed-out");
  }
}

channel?.addEventListener("message", (event: MessageEvent) => {
  if (event.data === "signed-out") signedOut();
});
