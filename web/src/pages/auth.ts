/** Log-in and sign-up forms. */

import type { Page } from "../app";
import { errorText } from "../api";
import { h } from "../dom";

let fieldIds = 0;

export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  const id = input.id || `f${++fieldIds}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

export function authPage(mode: "login" | "signup"): Page {
  return (app, root) => {
    const signUp = mode === "signup";
    const title = signUp ? "Sign up" : "Log in";
    const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
    const password = h("input", {
      type: "password",
      name: "password",
      autocomplete: signUp ? "new-password" : "current-password",
      minlength: signUp ? 8 : undefined,
      required: true,
    });
    const error = h("p", { class: "error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary" }, title);
    const next = new URLSearchParams(location.search).get("next");
    const form = h(
      "form",
      {
        class: "card auth",
        "aria-label": title,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          error.textContent = "";
          submit.disabled = true;
          try {
            await app.logIn(email.value, password.value, signUp);
            app.navigate(next && next.startsWith("/") ? next : "/account");
          } catch (err) {
            error.textContent = errorText(err);
          } finally {
            submit.disabled = false;
          }
        },
      },
      h("h1", {}, title),
      signUp ? h("p", { class: "muted" }, "New accounts start with demo funds.") : null,
      field("Email", email),
      field("Password", password),
      error,
      submit,
      h(
        "p",
        { class: "muted" },
        signUp ? "Have an account? " : "No account yet? ",
        h("a", { href: signUp ? "/login" : "/signup" }, signUp ? "Log in" : "Sign up"),
      ),
    );
    root.append(form);
    email.focus();
    return () => {};
  };
}
