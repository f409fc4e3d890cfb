import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Workspace } from "@/features/workspaces";
import { IntegrationsPanel } from "./integrations-panel";

const workspace = { id: "7b0c1e4e-5a57-4d0e-9c54-9f3c1f1f2d10", name: "Shop", timezone: "Europe/Paris", require_approval: false };

function renderFor(role: NonNullable<Workspace["role"]>) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <IntegrationsPanel workspace={{ ...workspace, role }} />
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("the Integrations page", () => {
  it.each(["editor", "viewer"] as const)("tells an %s why it has nothing, and asks the server nothing", (role) => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    renderFor(role);
    expect(screen.getByRole("status")).toHaveTextContent(
      `Webhooks and API keys are managed by this workspace's owners and admins; you are ${role === "editor" ? "an editor" : "a viewer"} here.`,
    );
    expect(screen.queryByRole("heading", { name: "Webhooks" })).toBeNull();
    expect(fetch).not.toHaveBeenCalled();
  });

  it("shows an admin both sections, with the key roles up to admin", () => {
    vi.stubGlobal("fetch", vi.fn(() => new Promise(() => {})));
    renderFor("admin");
    expect(screen.getByRole("heading", { name: "Webhooks" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "API keys" })).toBeInTheDocument();
    const roles = screen.getByRole("combobox", { name: "Key role" });
    expect([...roles.querySelectorAll("option")].map((o) => o.value)).toEqual(["viewer", "editor", "admin"]);
    expect(screen.getAllByRole("checkbox")).toHaveLength(13);
  });
});
