import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { defaultOptions } from "../lib/options";
import { PostPreviews } from "./post-preview";

const long = "Launch day! ".repeat(30);

describe("the previews", () => {
  it("draws one labelled region per account, each folded where its platform folds", () => {
    render(
      <PostPreviews
        media={[{ key: "m", kind: "image", src: null, width: 1080, height: 1080, durationS: null }]}
        targets={[
          { accountId: "a", username: "ada", text: long, options: defaultOptions("instagram") },
          { accountId: "b", username: "bob", text: long, options: defaultOptions("linkedin") },
          { accountId: "c", username: "cy", text: "First", options: { platform: "x", thread: ["Second"] } },
        ]}
      />,
    );
    const instagram = screen.getByRole("region", { name: "Preview on Instagram @ada" });
    expect(within(instagram).getByText("… more")).toBeTruthy();
    const linkedin = screen.getByRole("region", { name: "Preview on LinkedIn @bob" });
    expect(within(linkedin).getByText("…see more")).toBeTruthy();
    const x = screen.getByRole("region", { name: "Preview on X @cy" });
    const thread = within(x).getByRole("list", { name: "The thread" });
    expect(within(thread).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["FirstImage 1080×1080", "Second"]);
  });
});
