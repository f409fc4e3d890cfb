/** The app is served by the gateway: the API is on the same origin (CSP connect-src 'self'). */
export const API_BASE = globalThis.location?.origin ?? "";

/** Tells auth to keep the refresh token in its HttpOnly cookie; also the CSRF header that
 * refresh and logout through the cookie require. */
export const WEB_CLIENT_HEADER = { "X-SocialSeed-Client": "web" } as const;

/** Where a platform's consent page sends the browser back (the gateway's own origin is
 * always an allowed redirect). */
export const CONNECT_RETURN_PATH = "/accounts/connected";

export const PLATFORMS = ["x", "linkedin", "facebook", "instagram", "tiktok", "youtube"] as const;
export type PlatformName = (typeof PLATFORMS)[number];

export const PLATFORM_LABELS: Record<PlatformName, string> = {
  x: "X",
  linkedin: "LinkedIn",
  facebook: "Facebook Pages",
  instagram: "Instagram",
  tiktok: "TikTok",
  youtube: "YouTube",
};
