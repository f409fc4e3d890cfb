import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { describeError } from "@/lib/api/errors";
import { signInSchema, useSignIn, type SignInInput } from "../api/sign-in";

export function SignInForm({ onSignedIn }: { onSignedIn: () => void }) {
  const form = useForm<SignInInput>({
    resolver: zodResolver(signInSchema),
    defaultValues: { email: "", password: "" },
  });
  const mutation = useSignIn();
  const submit = form.handleSubmit((values) => mutation.mutate(values, { onSuccess: onSignedIn }));
  const { errors } = form.formState;
  return (
    <form onSubmit={submit} className="grid gap-4" noValidate>
      {mutation.isError && <Alert>{describeError(mutation.error)}</Alert>}
      <Field label="Email" error={errors.email?.message}>
        <Input type="email" autoComplete="email" {...form.register("email")} />
      </Field>
      <Field label="Password" error={errors.password?.message}>
        <Input type="password" autoComplete="current-password" {...form.register("password")} />
      </Field>
      <Button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
