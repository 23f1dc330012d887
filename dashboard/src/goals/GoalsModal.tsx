// The goal configuration dialog ("Goals"): goals in priority order; drag (pointer or keyboard,
// via dnd-kit) or "Move up"/"Move down" to reorder, each saved at once through reorderGoals;
// add, edit, delete (after a confirmation), and a "Test" pane per goal.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  DndContext, KeyboardSensor, type Announcements, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent,
} from "@dnd-kit/core";
import {
  SortableContext, arrayMove, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import type { Site } from "../App";
import { request } from "../api/client";
import {
  DeleteGoalDocument, GoalsDocument, ReorderGoalsDocument, type GoalFieldsFragment,
} from "../gql/graphql";
import { Badge, Modal } from "../ui";
import { GoalForm } from "./GoalForm";
import { TestPane } from "./TestPane";
import { GOAL_TYPES } from "./model";

type Goal = GoalFieldsFragment;
type View = { kind: "list" } | { kind: "edit"; goal: Goal | null } | { kind: "test"; goal: Goal };

export function goalsChanged() {
  dispatchEvent(new Event("goalpost:goals-changed"));
}

export function GoalsModal(props: { site: Site; onClose: () => void }) {
  const [goals, setGoals] = useState<Goal[] | null>(null);
  const [view, setView] = useState<View>({ kind: "list" });
  const [status, setStatus] = useState("");
  const [error, setError] = useState<string | null>(null);

  const reload = () => request(GoalsDocument, { siteId: props.site.id }).then((d) => setGoals(d.goals), (e: Error) => setError(e.message));
  useEffect(() => { reload(); }, [props.site.id]);

  // Moves are saved one at a time, in the order they were made: two saves in flight at once
  // could reach the server, or come back, in the other order, and an earlier move's answer
  // put the list back as it was before the later move (a move then made on that list undid it).
  const saving = useRef<Promise<void>>(Promise.resolve());
  const lastMove = useRef(0);
  const saveOrder = (next: Goal[], moved: Goal) => {
    setGoals(next);
    setError(null);
    const mine = ++lastMove.current;
    saving.current = saving.current.then(async () => {
      try {
        const saved = await request(ReorderGoalsDocument, { siteId: props.site.id, goalIds: next.map((g) => g.id) });
        if (mine !== lastMove.current) return; // a later move's save follows with the whole order
        const priority = new Map(saved.reorderGoals.map((g) => [g.id, g.priority]));
        setGoals(next.map((g) => ({ ...g, priority: priority.get(g.id) ?? g.priority })));
        setStatus(`${moved.name} moved to position ${next.indexOf(moved) + 1} of ${next.length}.`);
        goalsChanged();
      } catch (e) {
        if (mine !== lastMove.current) return;
        setError((e as Error).message);
        await reload(); // the order the server kept
      }
    });
  };
  const move = (goal: Goal, by: number) => {
    if (!goals) return;
    const at = goals.indexOf(goal);
    const to = at + by;
    if (to < 0 || to >= goals.length) return;
    saveOrder(arrayMove(goals, at, to), goal);
    // the row moved in the document: keep the keyboard where it was
    requestAnimationFrame(() => {
      const row = document.querySelector(`li[data-goal-id="${goal.id}"]`);
      const buttons = Array.from(row?.querySelectorAll<HTMLButtonElement>("button") ?? []);
      const want = by < 0 ? "Move up" : "Move down";
      (buttons.find((b) => b.textContent === want && !b.disabled)
        ?? buttons.find((b) => b.textContent?.startsWith("Move") && !b.disabled))?.focus();
    });
  };
  const remove = async (goal: Goal) => {
    setError(null);
    try {
      await request(DeleteGoalDocument, { id: goal.id });
      setStatus(`${goal.name} deleted.`);
      await reload();
      goalsChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <Modal title="Goals" onClose={props.onClose}>
      <p class="visually-hidden" role="status" aria-live="polite">{status}</p>
      {error && <p class="error" role="alert">{error}</p>}
      {view.kind === "edit" ? (
        <GoalForm site={props.site} goal={view.goal} onCancel={() => setView({ kind: "list" })}
          onSaved={(g) => { setStatus(`${g.name} saved.`); setView({ kind: "list" }); reload(); goalsChanged(); }} />
      ) : view.kind === "test" ? (
        <TestPane site={props.site} goal={view.goal} onBack={() => setView({ kind: "list" })} />
      ) : (
        <div class="stack">
          <div class="row">
            <button type="button" class="primary" onClick={() => setView({ kind: "edit", goal: null })}>Add goal</button>
            <span class="muted">Goals are tried in this order; the first that matches an event wins.</span>
          </div>
          {goals === null ? <p role="status">Loading goals…</p> : goals.length === 0 ? (
            <p class="empty">No goals yet. Add one for a click, a page, a form or a custom event.</p>
          ) : (
            <SortableGoals goals={goals} onDrop={saveOrder}>
              {(goal, index) => (
                <GoalRow key={goal.id} goal={goal} index={index} count={goals.length} onMove={(by) => move(goal, by)}
                  onEdit={() => setView({ kind: "edit", goal })} onTest={() => setView({ kind: "test", goal })}
                  onDelete={() => remove(goal)} />
              )}
            </SortableGoals>
          )}
        </div>
      )}
    </Modal>
  );
}

function SortableGoals(props: {
  goals: Goal[]; onDrop: (next: Goal[], moved: Goal) => void;
  children: (goal: Goal, index: number) => preact.ComponentChildren;
}) {
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const name = (id: unknown) => props.goals.find((g) => g.id === id)?.name ?? "goal";
  const at = (id: unknown) => `position ${props.goals.findIndex((g) => g.id === id) + 1} of ${props.goals.length}`;
  const announcements: Announcements = {
    onDragStart: ({ active }) => `Picked up ${name(active.id)} at ${at(active.id)}.`,
    onDragOver: ({ active, over }) => over ? `${name(active.id)} is at ${at(over.id)}.` : `${name(active.id)} is outside the list.`,
    onDragEnd: ({ active, over }) => over ? `${name(active.id)} dropped at ${at(over.id)}.` : `${name(active.id)} dropped.`,
    onDragCancel: ({ active }) => `Moving ${name(active.id)} was cancelled.`,
  };
  const onDragEnd = (e: DragEndEvent) => {
    if (!e.over || e.active.id === e.over.id) return;
    const from = props.goals.findIndex((g) => g.id === e.active.id);
    const to = props.goals.findIndex((g) => g.id === e.over!.id);
    props.onDrop(arrayMove(props.goals, from, to), props.goals[from]);
  };
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}
      accessibility={{ announcements }}>
      <SortableContext items={props.goals.map((g) => g.id)} strategy={verticalListSortingStrategy}>
        <ol class="goal-list" aria-label="Goals in priority order">
          {props.goals.map((g, i) => props.children(g, i))}
        </ol>
      </SortableContext>
    </DndContext>
  );
}

function GoalRow(props: {
  goal: Goal; index: number; count: number; onMove: (by: number) => void;
  onEdit: () => void; onTest: () => void; onDelete: () => void;
}) {
  const { goal } = props;
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({ id: goal.id });
  const [confirming, setConfirming] = useState(false);
  const style = { transform: CSS.Transform.toString(transform), transition };
  const type = GOAL_TYPES.find((t) => t.type === goal.type)?.label;
  return (
    <li ref={setNodeRef} style={style} class={`goal-item${isDragging ? " dragging" : ""}`} data-goal-id={goal.id}
      aria-label={goal.name}>
      <button type="button" class="drag-handle" ref={setActivatorNodeRef} {...(attributes as object)} {...listeners}
        aria-label={`Drag ${goal.name}`}>⠿</button>
      <span class="muted" aria-label={`Priority ${goal.priority}`}>{goal.priority}.</span>
      <span class="name">
        <Badge name={goal.name} color={goal.badge.color} />{" "}
        <span class="muted">{type}{goal.countsAsConversion ? " · conversion" : ""}</span>
      </span>
      {confirming ? (
        <div class="actions" role="group" aria-label={`Delete ${goal.name}?`}>
          <span>Delete “{goal.name}”? Its past events keep their numbers but lose the goal.</span>
          <button type="button" class="danger" onClick={() => { setConfirming(false); props.onDelete(); }}>Yes, delete</button>
          <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
        </div>
      ) : (
        <div class="actions">
          <button type="button" disabled={props.index === 0} onClick={() => props.onMove(-1)}>Move up</button>
          <button type="button" disabled={props.index === props.count - 1} onClick={() => props.onMove(1)}>Move down</button>
          <button type="button" onClick={props.onEdit}>Edit</button>
          <button type="button" onClick={props.onTest}>Test</button>
          <button type="button" class="danger" onClick={() => setConfirming(true)}>Delete</button>
        </div>
      )}
    </li>
  );
}
