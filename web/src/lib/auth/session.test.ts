import { afterEach, describe, expect, it, vi } from "vitest";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("the session", () => {
  it("refreshes once for concurrent callers, with the CSRF header and no body", async () => {
    const fetch = vi.fn(async () => json(200, { access_token: "a.b.c", token_type: "bearer", expires_in: 900 }));
    vi.stubGlobal("fetch", fetch);
    const session = await import("./session");
    const results = await Promise.all([session.refreshSession(), session.refreshSession()]);
    expect(results).toEqual([true, true]);
    expect(fetch).toHaveBeenCalledTimes(1);
    const request = (fetch.mock.calls[0] as unknown as [Request])[0];
    expect(request.url).toMatch(/\/api\/v1\/auth\/refresh$/);
    expect(request.headers.get("X-SocialSeed-Client")).toBe("web");
    expect(request.credentials).toBe("same-origin");
    expect(await request.text()).toBe("");
    expect(session.getSession()).toEqual({ status: "signed-in", accessToken: "a.b.c" });
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain("a.b.c");
  });

  it("is signed out, not broken, when the cookie is refused", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => json(401, { error: "RefreshTokenInvalid", detail: "x" })));
    const session = await import("./session");
    expect(await session.refreshSession()).toBe(false);
    expect(session.getSession()).toEqual({ status: "signed-out", accessToken: null });
  });
});
