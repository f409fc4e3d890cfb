/** A button that asks first, in a modal dialog (the browser's own `<dialog>`: focus is kept
 * inside and Escape closes it). */
import { useId, useRef, type ReactNode } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { describeError } from "@/lib/api/errors";

export function ConfirmButton({
  label,
  accessibleName,
  title,
  confirm,
  keep,
  pending,
  error,
  onConfirm,
  children,
}: {
  label: string;
  accessibleName: string;
  title: string;
  confirm: string;
  keep: string;
  pending: boolean;
  error: unknown;
  onConfirm: (close: () => void) => void;
  children: ReactNode;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const close = () => dialog.current?.close();
  return (
    <>
      <Button variant="outline" size="sm" aria-label={accessibleName} onClick={() => dialog.current?.showModal()}>
        {label}
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={titleId}
        className="m-auto max-w-sm rounded-lg border border-border bg-card p-6 text-foreground backdrop:bg-black/50"
      >
        <h2 id={titleId} className="text-lg font-semibold break-words">
          {title}
        </h2>
        <div className="mt-2 text-sm text-muted-foreground">{children}</div>
        {error != null && <Alert className="mt-3">{describeError(error)}</Alert>}
        <div className="mt-4 flex flex-wrap justify-end gap-2">
          <Button variant="outline" onClick={close}>
            {keep}
          </Button>
          <Button variant="destructive" disabled={pending} onClick={() => onConfirm(close)}>
            {confirm}
          </Button>
        </div>
      </dialog>
    </>
  );
}
