// Add or edit a goal: name, type (fixed once created), conditions with the fields of that type,
// operator, value (none for is empty / is not empty), ALL / ANY, counts as conversion, badge
// colour. The server's errors appear at the field they name.
import { useState } from "preact/hooks";
import type { Site } from "../App";
import { ApiError, request } from "../api/client";
import {
  CreateGoalDocument, UpdateGoalDocument, type ConditionField, type GoalFieldsFragment,
  type GoalType, type MatchLogic, type Operator,
} from "../gql/graphql";
import { BADGE_COLORS, FIELDS, GOAL_TYPES, OPERATORS, VALUELESS } from "./model";

type Cond = { field: ConditionField; operator: Operator; value: string };

export function GoalForm(props: {
  site: Site; goal: GoalFieldsFragment | null; onSaved: (g: GoalFieldsFragment) => void; onCancel: () => void;
}) {
  const g = props.goal;
  const [name, setName] = useState(g?.name ?? "");
  const [type, setType] = useState<GoalType>(g?.type ?? "CLICK");
  const [conditions, setConditions] = useState<Cond[]>(
    g ? g.conditions.map((c) => ({ field: c.field, operator: c.operator, value: c.value ?? "" }))
      : [{ field: FIELDS.CLICK[0].field, operator: "EQUALS", value: "" }]);
  const [logic, setLogic] = useState<MatchLogic>(g?.matchLogic ?? "ALL");
  const [conversion, setConversion] = useState(g?.countsAsConversion ?? true);
  const [color, setColor] = useState(g?.badge.color ?? BADGE_COLORS[Math.floor(Math.random() * BADGE_COLORS.length)]);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const changeType = (t: GoalType) => {
    setType(t);
    setConditions(conditions.map((c) => ({ ...c, field: FIELDS[t].some((f) => f.field === c.field) ? c.field : FIELDS[t][0].field })));
  };
  const edit = (i: number, change: Partial<Cond>) => setConditions(conditions.map((c, j) => (j === i ? { ...c, ...change } : c)));
  const at = (field: string) => error?.at(field);
  const general = error && !error.errors.some((e) => e.field && e.field !== "input" && document.getElementById(`goal-${e.field.replace(/^input\./, "").replace(/\./g, "-")}`))
    ? error.message : null;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const conds = conditions.map((c) => ({
      field: c.field, operator: c.operator, value: VALUELESS.includes(c.operator) ? null : c.value,
    }));
    try {
      const saved = g
        ? (await request(UpdateGoalDocument, { id: g.id, input: { name, conditions: conds, matchLogic: logic, countsAsConversion: conversion, badge: { color } } })).updateGoal
        : (await request(CreateGoalDocument, { input: { siteId: props.site.id, name, type, conditions: conds, matchLogic: logic, countsAsConversion: conversion, badge: { color } } })).createGoal;
      props.onSaved(saved);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError([{ message: String(err), code: "" }]));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (key: string, message: string | undefined) =>
    message ? <span id={`goal-${key}-error`} class="error">{message}</span> : null;

  return (
    <form class="stack" onSubmit={submit} noValidate aria-labelledby="goal-form-title">
      <h3 id="goal-form-title">{g ? `Edit ${g.name}` : "Add goal"}</h3>
      <label class="field">
        <span>Name</span>
        <input id="goal-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100}
          aria-invalid={!!at("name")} aria-describedby={at("name") ? "goal-name-error" : undefined} />
        {fieldError("name", at("name"))}
      </label>
      <div class="field">
        <label for="goal-type">Type</label>
        <select id="goal-type" value={type} disabled={!!g} onChange={(e) => changeType(e.currentTarget.value as GoalType)}>
          {GOAL_TYPES.map((t) => <option key={t.type} value={t.type}>{t.label}</option>)}
        </select>
      </div>
      <fieldset>
        <legend>Conditions</legend>
        {fieldError("conditions", at("conditions"))}
        {conditions.map((c, i) => {
          const valueError = at(`conditions.${i}.value`);
          return (
            <div class="condition" key={i} role="group" aria-label={`Condition ${i + 1}`}>
              <div class="field"><label for={`goal-conditions-${i}-field`}>Field</label>
                <select id={`goal-conditions-${i}-field`} value={c.field} onChange={(e) => edit(i, { field: e.currentTarget.value as ConditionField })}>
                  {FIELDS[type].map((f) => <option key={f.field} value={f.field}>{f.label}</option>)}
                </select>
                {fieldError(`conditions-${i}-field`, at(`conditions.${i}.field`))}
              </div>
              <div class="field"><label for={`goal-conditions-${i}-operator`}>Operator</label>
                <select id={`goal-conditions-${i}-operator`} value={c.operator} onChange={(e) => edit(i, { operator: e.currentTarget.value as Operator })}>
                  {OPERATORS.map((o) => <option key={o.op} value={o.op}>{o.label}</option>)}
                </select>
              </div>
              {VALUELESS.includes(c.operator) ? <span /> : (
                <label class="field"><span>Value</span>
                  <input id={`goal-conditions-${i}-value`} value={c.value} onInput={(e) => edit(i, { value: e.currentTarget.value })}
                    aria-invalid={!!valueError} aria-describedby={valueError ? `goal-conditions-${i}-value-error` : undefined} />
                  {fieldError(`conditions-${i}-value`, valueError)}
                </label>
              )}
              <button type="button" class="danger" disabled={conditions.length === 1}
                onClick={() => setConditions(conditions.filter((_, j) => j !== i))}>Remove condition</button>
            </div>
          );
        })}
        <button type="button" onClick={() => setConditions([...conditions, { field: FIELDS[type][0].field, operator: "EQUALS", value: "" }])}>
          Add condition
        </button>
      </fieldset>
      <fieldset>
        <legend>Match</legend>
        <label class="row"><input type="radio" name="logic" checked={logic === "ALL"} onChange={() => setLogic("ALL")} /> All conditions (ALL)</label>
        <label class="row"><input type="radio" name="logic" checked={logic === "ANY"} onChange={() => setLogic("ANY")} /> Any condition (ANY)</label>
      </fieldset>
      <label class="row">
        <input type="checkbox" checked={conversion} onChange={(e) => setConversion(e.currentTarget.checked)} />
        Counts as conversion
      </label>
      <label class="row">
        <input id="goal-badge-color" type="color" value={color} onInput={(e) => setColor(e.currentTarget.value.toUpperCase())} />
        Badge colour
        {fieldError("badge-color", at("badge.color"))}
      </label>
      {general && <p class="error" role="alert">{general}</p>}
      {error && !general && <p class="visually-hidden" role="alert">{error.message}</p>}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>{g ? "Save goal" : "Create goal"}</button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}
