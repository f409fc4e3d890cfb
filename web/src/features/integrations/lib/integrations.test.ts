import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/errors";
import openapi from "../../../../openapi.json";
import {
  canManageIntegrations,
  deliveryOutcome,
  keyRoles,
  eventsForPeople,
  orderedEvents,
  placeError,
  WEBHOOK_EVENTS,
} from "./integrations";

describe("webhook events", () => {
  it("are exactly the OpenAPI enum, in its order", () => {
    const schema = openapi.components.schemas.EndpointIn.properties.events.items.enum;
    expect(WEBHOOK_EVENTS.map((e) => e.type)).toEqual(schema);
  });

  it("are sent in the API's order, unknown names dropped", () => {
    expect(orderedEvents(["post.failed", "nope", "post.scheduled"])).toEqual([
      "post.scheduled",
      "post.failed",
    ]);
  });
});

describe("eventsForPeople", () => {
  it("lists the server's (sorted) events in the API's order, unknown ones last", () => {
    expect(eventsForPeople(["account.connected", "post.failed", "post.published", "video.new"])).toEqual([
      "post.published",
      "post.failed",
      "account.connected",
      "video.new",
    ]);
  });
});

describe("who manages integrations", () => {
  it("is owners and admins", () => {
    expect(["owner", "admin", "editor", "viewer", null, "nobody"].map(canManageIntegrations)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it("gives a key at most the maker's role", () => {
    expect(keyRoles("owner")).toEqual(["viewer", "editor", "admin", "owner"]);
    expect(keyRoles("admin")).toEqual(["viewer", "editor", "admin"]);
    expect(keyRoles("editor")).toEqual([]);
  });
});

describe("placeError", () => {
  const fields = ["url", "events", "description"] as const;

  it("puts a named error next to its field", () => {
    const refused = new ApiError(400, "WebhookUrlRefused", "169.254.169.254 is a cloud metadata address.");
    expect(placeError(refused, fields, { WebhookUrlRefused: "url" })).toEqual({
      field: "url",
      message: "169.254.169.254 is a cloud metadata address.",
    });
  });

  it("puts a malformed field next to it by its loc", () => {
    const body = {
      error: "ValidationError",
      detail: [{ loc: ["body", "events", 0], msg: "Input should be 'post.scheduled', …" }],
    };
    const error = new ApiError(422, "ValidationError", "events.0: …", body);
    expect(placeError(error, fields)).toEqual({ field: "events", message: "Input should be 'post.scheduled', …" });
  });

  it("leaves anything else to the form", () => {
    expect(placeError(new ApiError(403, "InsufficientRole", "Admins only."), fields)).toEqual({
      field: null,
      message: "Admins only.",
    });
    expect(placeError(new TypeError("Failed to fetch"), fields).field).toBeNull();
  });
});

describe("deliveryOutcome", () => {
  const base = { status: "succeeded", response_code: 200, duration_ms: 12, error: null, attempt: 1 };

  it("says what the receiver answered and how fast", () => {
    expect(deliveryOutcome(base)).toBe("Answered 200 in 12 ms");
  });

  it("adds why an attempt failed", () => {
    expect(deliveryOutcome({ ...base, status: "pending", response_code: 500, error: "The receiver answered 500." })).toBe(
      "Answered 500 in 12 ms: The receiver answered 500.",
    );
    expect(
      deliveryOutcome({ ...base, status: "failed", response_code: null, duration_ms: null, error: "Connection refused" }),
    ).toBe("No answer: Connection refused");
  });

  it("waits for a first attempt", () => {
    expect(deliveryOutcome({ ...base, status: "pending", attempt: 0, response_code: null, duration_ms: null })).toBe(
      "Waiting for its first attempt",
    );
  });
});
