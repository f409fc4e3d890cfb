import type { ComponentProps } from "react";
import { NativeSelect } from "@/components/ui/input";

/** Every IANA zone this browser knows, the user's own first. */
export function timeZones(): string[] {
  const supported =
    typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];
  return supported.includes("UTC") ? supported : ["UTC", ...supported];
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function TimeZoneSelect(props: ComponentProps<"select">) {
  return (
    <NativeSelect {...props}>
      {timeZones().map((zone) => (
        <option key={zone} value={zone}>
          {zone.replaceAll("_", " ")}
        </option>
      ))}
    </NativeSelect>
  );
}
