/** A secret shown once (a webhook's signing secret, an API key): a read-only field to select,
 * a Copy button, and the plain warning that it will not be shown again. */
import { useId, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

export function SecretBox({
  label,
  value,
  children,
  onDone,
}: {
  label: string;
  value: string;
  children?: ReactNode;
  onDone: () => void;
}) {
  const id = useId();
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  return (
    <div
      role="region"
      aria-label={label}
      className="grid gap-2 rounded-md border border-primary bg-muted/40 p-3"
    >
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <div className="flex flex-wrap gap-2">
        <Input
          id={id}
          readOnly
          value={value}
          aria-describedby={`${id}-note`}
          className="min-w-0 flex-1 basis-48 font-mono"
          onFocus={(e) => e.currentTarget.select()}
        />
        <Button
          type="button"
          variant="outline"
          aria-label={`Copy the ${label.toLowerCase()}`}
          onClick={() =>
            navigator.clipboard.writeText(value).then(
              () => setCopied("yes"),
              () => setCopied("no"),
            )
          }
        >
          Copy
        </Button>
      </div>
      <p id={`${id}-note`} className="text-sm">
        <strong>You won't see it again.</strong> Copy it now and keep it somewhere safe: SocialSeed
        never shows it back. {children}
      </p>
      <p role="status" className="text-sm text-muted-foreground">
        {copied === "yes" ? "Copied." : copied === "no" ? "Copying was refused: select the text and copy it." : ""}
      </p>
      <div>
        <Button type="button" size="sm" onClick={onDone}>
          I have stored it
        </Button>
      </div>
    </div>
  );
}
