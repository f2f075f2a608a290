// A form generated from a collection's JSON schema: one field per property
// of a scalar type (string, number, integer, boolean, enum); any other
// property is edited as JSON in its own box.

import { h, pretty } from "./dom.js";

function fieldFor(name, schema, value, required) {
  const id = `field-${name}`;
  const label = h("label", { for: id }, schema.title || name, required ? " *" : "");
  const help = schema.description ? h("small", { class: "muted" }, schema.description) : null;
  let input;
  let read;
  if (Array.isArray(schema.enum)) {
    input = h(
      "select",
      { id },
      h("option", { value: "" }, "—"),
      schema.enum.map((choice) =>
        h("option", { value: JSON.stringify(choice), selected: JSON.stringify(choice) === JSON.stringify(value) }, String(choice)),
      ),
    );
    read = () => (input.value === "" ? undefined : JSON.parse(input.value));
  } else if (schema.type === "boolean") {
    input = h("input", { id, type: "checkbox", checked: value === true });
    read = () => input.checked;
  } else if (schema.type === "number" || schema.type === "integer") {
    input = h("input", { id, type: "number", step: schema.type === "integer" ? "1" : "any", value: value ?? "" });
    read = () => (input.value === "" ? undefined : Number(input.value));
  } else if (schema.type === "string") {
    const long = (schema.maxLength || 0) > 200 || (typeof value === "string" && value.length > 80);
    input = long ? h("textarea", { id, rows: 4, value: value ?? "" }) : h("input", { id, value: value ?? "" });
    read = () => (input.value === "" && value === undefined ? undefined : input.value);
  } else {
    input = h("textarea", { id, rows: 4, class: "json", value: value === undefined ? "" : pretty(value) });
    read = () => {
      if (input.value.trim() === "") return undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        throw new Error(`${name}: not valid JSON`);
      }
    };
  }
  return { element: h("div", { class: "field" }, label, input, help), read };
}

/** `{element, read()}`: the form, and the object it holds now (throws if a box is not JSON). */
export function schemaForm(schema, data) {
  const properties = schema.properties || {};
  const required = new Set(schema.required || []);
  const fields = Object.entries(properties).map(([name, property]) => [
    name,
    fieldFor(name, property || {}, data[name], required.has(name)),
  ]);
  const others = Object.fromEntries(Object.entries(data).filter(([name]) => !(name in properties)));
  return {
    element: h("div", { class: "schema-form" }, fields.map(([, field]) => field.element)),
    read() {
      const result = { ...others };
      for (const [name, field] of fields) {
        const value = field.read();
        if (value === undefined) delete result[name];
        else result[name] = value;
      }
      return result;
    },
  };
}

export function usableSchema(schema) {
  return Boolean(schema && typeof schema === "object" && schema.type === "object" && schema.properties);
}
