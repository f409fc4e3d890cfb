import { describe, expect, it } from "vitest";
import { canManage, canManageMembers, grantableRoles } from "./roles";

describe("roles", () => {
  it("lets owners and admins manage members, not editors or viewers", () => {
    expect(canManageMembers("owner")).toBe(true);
    expect(canManageMembers("admin")).toBe(true);
    expect(canManageMembers("editor")).toBe(false);
    expect(canManageMembers("viewer")).toBe(false);
    expect(canManageMembers(null)).toBe(false);
  });

  it("grants the owner role only from an owner", () => {
    expect(grantableRoles("owner")).toEqual(["owner", "admin", "editor", "viewer"]);
    expect(grantableRoles("admin")).toEqual(["admin", "editor", "viewer"]);
    expect(grantableRoles("editor")).toEqual([]);
  });

  it("leaves owners to owners", () => {
    expect(canManage("admin", "owner")).toBe(false);
    expect(canManage("admin", "editor")).toBe(true);
    expect(canManage("admin", "admin")).toBe(true);
    expect(canManage("owner", "owner")).toBe(true);
    expect(canManage("editor", "viewer")).toBe(false);
  });
});
