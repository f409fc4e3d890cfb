import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { describeError } from "@/lib/api/errors";
import {
  createWorkspaceSchema,
  useCreateWorkspace,
  type CreateWorkspaceInput,
  type Workspace,
} from "../api/workspaces";
import { browserTimeZone, TimeZoneSelect } from "./time-zone-select";

export function CreateWorkspaceForm({ onCreated }: { onCreated: (ws: Workspace) => void }) {
  const form = useForm<CreateWorkspaceInput>({
    resolver: zodResolver(createWorkspaceSchema),
    defaultValues: { name: "", timezone: browserTimeZone() },
  });
  const mutation = useCreateWorkspace();
  const submit = form.handleSubmit((values) => mutation.mutate(values, { onSuccess: onCreated }));
  const { errors } = form.formState;
  return (
    <form onSubmit={submit} className="grid gap-4" noValidate>
      {mutation.isError && <Alert>{describeError(mutation.error)}</Alert>}
      <Field label="Workspace name" error={errors.name?.message}>
        <Input autoComplete="organization" {...form.register("name")} />
      </Field>
      <Field
        label="Time zone"
        hint="Posts are scheduled and shown in this zone."
        error={errors.timezone?.message}
      >
        <TimeZoneSelect {...form.register("timezone")} />
      </Field>
      <Button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? "Creating…" : "Create workspace"}
      </Button>
    </form>
  );
}
