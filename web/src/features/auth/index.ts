export { useMe, meQueryKey } from "./api/me";
export { useSignOut } from "./api/sign-in";
export { SignInForm } from "./components/sign-in-form";
export { SignUpForm } from "./components/sign-up-form";
