/**
 * The account: balances, API keys (create an HMAC key, whose secret is shown once, or register
 * an Ed25519 or RSA public key; with a trading permission and trusted IPs; edit the permissions;
 * delete), and the order and trade history of every market.
 */

import type { Page } from "../app";
import { errorText, get, json } from "../api";
import { fill, h, table } from "../dom";
import type { ApiKey, KeyType, NewApiKey } from "../types";
import { orderHistory, tradeHistory } from "../trade/history";
import { UserData, balanceRows } from "../userdata";
import { field } from "./auth";
import { minuteTime, zoneName } from "../clock";

function when(ms: number): string {
  return `${minuteTime(ms)} ${zoneName()}`;
}

function readonlyField(label: string, value: string): HTMLElement {
  return field(label, h("input", { type: "text", readonly: true, value, class: "mono", spellcheck: "false" }));
}

/** The addresses typed into an IP list field: separated by commas, spaces or new lines. */
function ipList(text: string): string[] {
  return text.split(/[\s,;]+/).filter((ip) => ip !== "");
}

function ipInput(value = ""): HTMLInputElement {
  return h("input", {
    type: "text",
    name: "ipRestrict",
    class: "mono",
    spellcheck: "false",
    autocomplete: "off",
    placeholder: "any IP",
    value,
  });
}

function checkbox(label: string, checked: boolean): { box: HTMLInputElement; field: HTMLElement } {
  const box = h("input", { type: "checkbox", checked });
  return { box, field: h("label", { class: "check" }, box, label) };
}

function permissions(k: ApiKey): string {
  return k.canTrade ? "Read, Trade" : "Read only";
}

const KEY_TYPE_NAMES: Record<KeyType, string> = { HMAC: "HMAC", ED25519: "Ed25519", RSA: "RSA" };

export const accountPage: Page = (app, root) => {
  if (!app.user) {
    app.navigate("/login?next=/account");
    return () => {};
  }
  const balances = table("Balances", ["Asset", "Available", "In orders"], [false, true, true]);
  const keys = table("API keys", ["Label", "API key", "Type", "Permissions", "IP access", "Created", ""]);
  const keyError = h("p", { class: "error", role: "alert" });
  const secretBox = h("section", { class: "secret", "aria-label": "New API key", hidden: true });
  const label = h("input", { type: "text", name: "label", maxlength: 64, placeholder: "e.g. my bot" });
  const create = h("button", { type: "submit", class: "primary" }, "Create API key");
  const trading = checkbox("Enable trading", true);
  const ips = ipInput();
  const keyType = h(
    "select",
    { name: "keyType" },
    ...(Object.keys(KEY_TYPE_NAMES) as KeyType[]).map((t) => h("option", { value: t }, KEY_TYPE_NAMES[t])),
  );
  const publicKey = h("textarea", {
    name: "publicKey",
    class: "mono",
    rows: 4,
    spellcheck: "false",
    placeholder: "-----BEGIN PUBLIC KEY-----",
  });
  const publicKeyField = field("Public key (PEM)", publicKey);
  publicKeyField.classList.add("wide");
  const showPublicKey = () => {
    publicKeyField.hidden = keyType.value === "HMAC";
  };
  keyType.addEventListener("change", showPublicKey);
  showPublicKey();
  const editBox = h("section", { class: "secret edit", hidden: true });

  const user = new UserData(app);
  const histories = [orderHistory(app), tradeHistory(app)];
  const drawBalances = () => {
    fill(balances.body, ...balanceRows(app, user));
    for (const history of histories) history.load();
  };
  const stopBalances = user.onChange(drawBalances);
  drawBalances();

  const drawKeys = (list: ApiKey[]) => {
    fill(
      keys.body,
      ...list.map((k) => {
        const name = k.label || k.apiKey.slice(0, 8);
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, k.label || "—"),
          h("td", { class: "mono" }, `${k.apiKey.slice(0, 12)}…`),
          h("td", {}, KEY_TYPE_NAMES[k.keyType]),
          h("td", {}, permissions(k)),
          h("td", { class: "mono" }, k.ipRestrict.length ? k.ipRestrict.join(", ") : "Any IP"),
          h("td", {}, when(k.createdAt)),
          h(
            "td",
            { class: "actions" },
            h(
              "button",
              { type: "button", class: "small", "aria-label": `Edit API key ${name}`, onclick: () => edit(k, name) },
              "Edit",
            ),
            h(
              "button",
              {
                type: "button",
                class: "danger small",
                "aria-label": `Delete API key ${name}`,
                onclick: () => void remove(k),
              },
              "Delete",
            ),
          ),
        );
      }),
    );
    if (list.length === 0) keys.body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No API keys yet.")));
  };
  const loadKeys = async () => {
    try {
      drawKeys(await get<ApiKey[]>("/api/web/apikeys"));
    } catch (err) {
      keyError.textContent = errorText(err);
    }
  };
  const edit = (k: ApiKey, name: string) => {
    keyError.textContent = "";
    const canTrade = checkbox("Enable trading", k.canTrade);
    const editIps = ipInput(k.ipRestrict.join(", "));
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    editBox.setAttribute("aria-label", `Edit API key ${name}`);
    fill(
      editBox,
      h(
        "form",
        {
          onsubmit: async (event: Event) => {
            event.preventDefault();
            keyError.textContent = "";
            save.disabled = true;
            try {
              await json("PATCH", `/api/web/apikeys/${k.id}`, {
                canTrade: canTrade.box.checked,
                ipRestrict: ipList(editIps.value),
              });
              editBox.hidden = true;
              await loadKeys();
            } catch (err) {
              keyError.textContent = errorText(err);
            } finally {
              save.disabled = false;
            }
          },
        },
        h("h3", {}, `Edit API key ${name}`),
        canTrade.field,
        field("Trusted IPs", editIps),
        h("p", { class: "muted" }, "Other gateway processes apply a change within 5 seconds."),
        h("div", { class: "row-form" }, save, h("button", { type: "button", onclick: () => (editBox.hidden = true) }, "Cancel")),
      ),
    );
    editBox.hidden = false;
    editIps.focus();
  };
  const remove = async (k: ApiKey) => {
    keyError.textContent = "";
    try {
      await json("DELETE", `/api/web/apikeys/${k.id}`);
      secretBox.hidden = true;
      editBox.hidden = true;
    } catch (err) {
      keyError.textContent = errorText(err);
    }
    await loadKeys();
  };
  const createForm = h(
    "form",
    {
      class: "row-form",
      "aria-label": "Create API key",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        keyError.textContent = "";
        create.disabled = true;
        try {
          const made = await json<NewApiKey>("POST", "/api/web/apikeys", {
            label: label.value,
            canTrade: trading.box.checked,
            ipRestrict: ipList(ips.value),
            keyType: keyType.value,
            publicKey: keyType.value === "HMAC" ? "" : publicKey.value,
          });
          label.value = "";
          ips.value = "";
          publicKey.value = "";
          trading.box.checked = true;
          const secret =
            made.secretKey === null
              ? [h("p", { class: "muted" }, `Sign requests with the private key of the ${KEY_TYPE_NAMES[made.keyType]} public key you registered.`)]
              : [
                  h("p", { class: "warn" }, "Copy the secret now: it is shown only this once."),
                  readonlyField("API key", made.apiKey),
                  readonlyField("Secret key", made.secretKey),
                ];
          fill(
            secretBox,
            h("h3", {}, "Your new API key"),
            ...(made.secretKey === null ? [readonlyField("API key", made.apiKey)] : []),
            ...secret,
            h("button", { type: "button", onclick: () => (secretBox.hidden = true) }, "Done"),
          );
          secretBox.hidden = false;
          await loadKeys();
        } catch (err) {
          keyError.textContent = errorText(err);
        } finally {
          create.disabled = false;
        }
      },
    },
    field("Key label", label),
    field("Key type", keyType),
    field("Trusted IPs", ips),
    trading.field,
    publicKeyField,
    create,
  );

  root.append(
    h("h1", {}, "Account"),
    h("p", { class: "muted" }, `Logged in as ${app.user.email}`),
    h("div", { class: "account-grid" },
      h("section", { class: "card", "aria-labelledby": "bal-h" }, h("h2", { id: "bal-h" }, "Balances"), h("div", { class: "scroll" }, balances.table)),
      h(
        "section",
        { class: "card", "aria-labelledby": "keys-h" },
        h("h2", { id: "keys-h" }, "API keys"),
        h("p", { class: "muted" }, "Keys sign requests to the Binance-compatible API: HMAC-SHA256 with a secret made here, or Ed25519 or RSA with your own private key (only its public key is registered; session.logon needs Ed25519)."),
        createForm,
        keyError,
        secretBox,
        editBox,
        h("div", { class: "scroll" }, keys.table),
      ),
    ),
    ...histories.map((history, i) =>
      h(
        "section",
        { class: "card account-history", "aria-labelledby": `history-h-${i}` },
        h("h2", { id: `history-h-${i}` }, history.title),
        h("div", { class: "scroll" }, history.el),
      ),
    ),
  );
  void loadKeys();
  return () => {
    stopBalances();
    user.close();
  };
};
