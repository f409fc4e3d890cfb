import { describe, expect, it } from "vitest";
import { toApiError } from "@/lib/api/errors";
import { readRefusal, readVerdict, titleOf } from "./validation-display";

describe("the server's verdict in the composer", () => {
  it("puts each refused target's named error, in words, under its account", () => {
    const verdict = readVerdict(
      {
        valid: false,
        scheduled_at: "2026-11-01T09:00:00Z",
        targets: [
          { account_id: "a1", error: "PlatformRules", detail: "The post is 290 characters as X counts them; X allows 280." },
          { account_id: "a2", error: "AccountNotActive", detail: "The account is reauth required; reconnect it first." },
        ],
      },
      null,
    );
    expect(verdict?.valid).toBe(false);
    expect(verdict?.targets.a1).toEqual({
      error: "PlatformRules",
      title: "Breaks the platform's rules",
      detail: "The post is 290 characters as X counts them; X allows 280.",
    });
    expect(verdict?.targets.a2?.title).toBe("Account cannot publish");
    expect(verdict?.schedule).toBeNull();
  });

  it("puts a wall time the zone skips next to the schedule, in the server's words", () => {
    const error = toApiError(400, {
      error: "NonexistentLocalTime",
      detail: "2026-03-29T02:30:00 does not exist in Europe/Paris: the clocks jump from 01:59 to 03:00.",
    });
    const verdict = readVerdict(undefined, error);
    expect(verdict?.schedule).toMatch(/clocks jump from 01:59 to 03:00/);
    expect(verdict?.general).toBeNull();
    expect(readVerdict(undefined, toApiError(400, { error: "ScheduledInPast", detail: "passed" }))?.schedule).toBe("passed");
  });

  it("keeps other errors for the whole post", () => {
    const verdict = readVerdict(undefined, toApiError(403, { error: "Forbidden", detail: "Editors only." }));
    expect(verdict).toMatchObject({ general: "Editors only.", schedule: null, valid: false });
  });

  it("is nothing until the server answered", () => {
    expect(readVerdict(undefined, null)).toBeNull();
  });

  it("words an error it does not know from its name", () => {
    expect(titleOf("SomethingNew")).toBe("Something New");
  });

  it("reads a refused create or edit (InvalidTargets) as each target's named error", () => {
    const refused = toApiError(400, {
      error: "InvalidTargets",
      detail: "Some targets cannot be published as they are; see `targets`.",
      targets: [{ account_id: "a1", error: "OptionsPlatformMismatch", detail: "These options are for TikTok; this account is on X." }],
    });
    expect(readRefusal(refused)?.targets.a1).toEqual({
      error: "OptionsPlatformMismatch",
      title: "Options for another platform",
      detail: "These options are for TikTok; this account is on X.",
    });
    expect(readRefusal(toApiError(409, { error: "AlreadyPublishing", detail: "Too late." }))).toBeNull();
  });
});
