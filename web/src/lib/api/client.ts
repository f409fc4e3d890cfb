/** The typed API client, generated from the gateway's merged OpenAPI document
 * (`schema.d.ts`; `npm run gen:api` after `socialseed openapi --out web/openapi.json`). */
import createClient from "openapi-fetch";
import { API_BASE } from "@/config/env";
import type { paths } from "@/lib/api/schema";
import { toApiError } from "@/lib/api/errors";
import { getAccessToken, getSession, refreshSession } from "@/lib/auth/session";

/** Every call carries the in-memory access token; a 401 while signed in refreshes once (the
 * token may just have expired) and tries again. */
async function authFetch(input: Request): Promise<Response> {
  const attempt = () => {
    const request = input.clone();
    const token = getAccessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return fetch(request);
  };
  const response = await attempt();
  if (response.status === 401 && getSession().status === "signed-in") {
    if (await refreshSession()) return attempt();
  }
  return response;
}

export const api = createClient<paths>({
  baseUrl: API_BASE,
  fetch: authFetch,
  credentials: "same-origin",
});

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful call, or the server's named error thrown as an ApiError. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(response.status, error);
  return data as T;
}

export type { paths, components } from "@/lib/api/schema";
export type Schemas = import("@/lib/api/schema").components["schemas"];
