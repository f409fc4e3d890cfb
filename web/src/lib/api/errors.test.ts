import { describe, expect, it } from "vitest";
import { ApiError, describeError, toApiError } from "./errors";

describe("toApiError", () => {
  it("keeps the server's name and words", () => {
    const error = toApiError(409, { error: "EmailTaken", detail: "An account with this email already exists." });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("EmailTaken");
    expect(describeError(error)).toBe("An account with this email already exists.");
  });

  it("turns a validation list into words naming the fields", () => {
    const error = toApiError(422, {
      error: "ValidationError",
      detail: [{ loc: ["body", "password"], msg: "String should have at least 8 characters" }],
    });
    expect(error.message).toBe("password: String should have at least 8 characters");
  });

  it("says something useful for answers that are not ours", () => {
    expect(toApiError(502, "<html>").message).toBe("The server answered 502.");
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/cannot be reached/);
  });
});
