// What a goal form may hold, per goal type (contract §3).
import type { ConditionField, GoalType, Operator } from "../gql/graphql";

export const GOAL_TYPES: { type: GoalType; label: string }[] = [
  { type: "CLICK", label: "Click" },
  { type: "PAGEVIEW", label: "Pageview" },
  { type: "FORM", label: "Form submission" },
  { type: "CUSTOM_EVENT", label: "Custom event" },
];

export const FIELDS: Record<GoalType, { field: ConditionField; label: string }[]> = {
  CLICK: [
    { field: "URL", label: "Link URL" }, { field: "DOMAIN", label: "Link domain" },
    { field: "LINK_TEXT", label: "Link text" }, { field: "TITLE", label: "Title" },
    { field: "ASIN", label: "Amazon ASIN" },
  ],
  PAGEVIEW: [{ field: "PATH", label: "Path" }],
  FORM: [
    { field: "FORM_NAME", label: "Form name" }, { field: "FORM_ID", label: "Form id" },
    { field: "PLUGIN", label: "Form plugin" }, { field: "PAGE_URL", label: "Page path" },
  ],
  CUSTOM_EVENT: [
    { field: "EVENT_NAME", label: "Event name" }, { field: "PROPERTY_KEY", label: "Property key" },
    { field: "PROPERTY_VALUE", label: "Property value" },
  ],
};

export const OPERATORS: { op: Operator; label: string }[] = [
  { op: "EQUALS", label: "equals" }, { op: "NOT_EQUALS", label: "does not equal" },
  { op: "CONTAINS", label: "contains" }, { op: "NOT_CONTAINS", label: "does not contain" },
  { op: "STARTS_WITH", label: "starts with" }, { op: "ENDS_WITH", label: "ends with" },
  { op: "IS_EMPTY", label: "is empty" }, { op: "IS_NOT_EMPTY", label: "is not empty" },
];

export const VALUELESS: Operator[] = ["IS_EMPTY", "IS_NOT_EMPTY"];

export function fieldLabel(field: ConditionField): string {
  for (const list of Object.values(FIELDS)) {
    const f = list.find((x) => x.field === field);
    if (f) return f.label;
  }
  return field;
}

export function operatorLabel(op: Operator): string {
  return OPERATORS.find((o) => o.op === op)?.label ?? op;
}

export const BADGE_COLORS = ["#4F46E5", "#059669", "#D97706", "#DC2626", "#0891B2", "#7C3AED", "#DB2777"];
