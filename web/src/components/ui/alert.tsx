import type { ComponentProps } from "react";
import { cn } from "@/lib/utils";

/** A message that is announced: errors as alerts, the rest as polite status. */
export function Alert({
  className,
  tone = "error",
  ...props
}: ComponentProps<"div"> & { tone?: "error" | "info" }) {
  return (
    <div
      role={tone === "error" ? "alert" : "status"}
      className={cn(
        "rounded-md border px-4 py-3 text-sm",
        tone === "error" ? "border-destructive text-destructive" : "border-border",
        className,
      )}
      {...props}
    />
  );
}
