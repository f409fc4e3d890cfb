import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { CoverFrame } from "./cover-frame";

describe("TikTok's cover frame", () => {
  it("is a labelled slider over the video's length, in milliseconds", () => {
    const onChange = vi.fn();
    render(<CoverFrame name="TikTok @ada" video={{ durationS: 4.25, src: null }} valueMs={null} onChange={onChange} />);
    const slider = screen.getByRole("slider", { name: "Cover frame on TikTok @ada" });
    expect(slider).toHaveAttribute("max", "4250");
    fireEvent.change(slider, { target: { value: "1500" } });
    expect(onChange).toHaveBeenCalledWith(1500);
    expect(screen.getByText("first frame (TikTok's default)")).toBeTruthy();
  });

  it("asks for a video first", () => {
    render(<CoverFrame name="TikTok @ada" video={null} valueMs={null} onChange={() => {}} />);
    expect(screen.getByText("Add a video to choose its cover frame on TikTok @ada.")).toBeTruthy();
    expect(screen.queryByRole("slider")).toBeNull();
  });
});
