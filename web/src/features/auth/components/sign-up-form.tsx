import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { describeError } from "@/lib/api/errors";
import { registerSchema, useRegister, type RegisterInput } from "../api/register";

export function SignUpForm({ onSignedUp }: { onSignedUp: () => void }) {
  const form = useForm<RegisterInput>({
    resolver: zodResolver(registerSchema),
    defaultValues: { name: "", email: "", password: "" },
  });
  const mutation = useRegister();
  const submit = form.handleSubmit((values) => mutation.mutate(values, { onSuccess: onSignedUp }));
  const { errors } = form.formState;
  return (
    <form onSubmit={submit} className="grid gap-4" noValidate>
      {mutation.isError && <Alert>{describeError(mutation.error)}</Alert>}
      <Field label="Name" error={errors.name?.message}>
        <Input autoComplete="name" {...form.register("name")} />
      </Field>
      <Field label="Email" error={errors.email?.message}>
        <Input type="email" autoComplete="email" {...form.register("email")} />
      </Field>
      <Field
        label="Password"
        hint="At least 8 characters; a long phrase is best."
        error={errors.password?.message}
      >
        <Input type="password" autoComplete="new-password" {...form.register("password")} />
      </Field>
      <Button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? "Creating your account…" : "Create account"}
      </Button>
    </form>
  );
}
