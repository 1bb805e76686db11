// The editable queue: reorder by dragging a row's handle, or with the keyboard (focus the
// handle, Space to lift, arrow keys to move, Space to drop, Escape to cancel); duplicate
// and remove items. Every change is a request; the list shown is the server's.

import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import type { DragEndEvent } from "@dnd-kit/core";
import {
  SortableContext,
  arrayMove,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useEffect, useState } from "react";
import { errorText } from "../api";
import { useServer } from "../server";
import type { QueueItem } from "../types";
import { ItemText } from "./ItemText";
import { copyOf } from "./describe";

function Row(props: {
  item: QueueItem;
  index: number;
  onError: (text: string) => void;
  onEdit: (item: QueueItem) => void;
  /** Whether the caller may edit the queue (else: no handle, no buttons). */
  editable: boolean;
}) {
  const { api, refresh } = useServer();
  const { item, editable } = props;
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } =
    useSortable({ id: item.item_uid });
  const call = (run: () => Promise<unknown>) => () =>
    void run()
      .catch((err) => props.onError(errorText(err)))
      .finally(refresh);
  return (
    <li
      ref={setNodeRef}
      className={isDragging ? "queue-item dragging" : "queue-item"}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      data-uid={item.item_uid}
    >
      {editable ? (
        <button
          type="button"
          className="handle"
          ref={setActivatorNodeRef}
          {...attributes}
          {...listeners}
          aria-label={`Reorder item ${props.index + 1}, ${item.name}`}
          title="Drag, or press Space then the arrow keys"
        >
          ⠿
        </button>
      ) : (
        <span />
      )}
      <span className="pos">{props.index + 1}</span>
      <span className="summary">
        <ItemText item={item} />
        {item.user && <span className="who muted small">by {item.user}</span>}
      </span>
      {editable && (
      <span className="row-actions">
        {item.item_type === "plan" && (
          <button type="button" onClick={() => props.onEdit(item)}>
            Edit
          </button>
        )}
        <button type="button" onClick={call(() => api.addItem(copyOf(item), { after_uid: item.item_uid }))}>
          Duplicate
        </button>
        <button type="button" onClick={call(() => api.removeItem(item.item_uid))}>
          Remove
        </button>
      </span>
      )}
    </li>
  );
}

export function QueueList(props: { items: QueueItem[]; onEdit: (item: QueueItem) => void }) {
  const { api, refresh, can } = useServer();
  const editable = can("write:queue:edit");
  const [items, setItems] = useState(props.items);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setItems(props.items), [props.items]);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const from = items.findIndex((i) => i.item_uid === active.id);
    const to = items.findIndex((i) => i.item_uid === over.id);
    const target = String(over.id);
    setItems(arrayMove(items, from, to)); // shown at once; the server's answer follows
    setError(null);
    api
      .moveItem(String(active.id), from < to ? { after_uid: target } : { before_uid: target })
      .catch((err) => {
        setItems(props.items);
        setError(errorText(err));
      })
      .finally(refresh);
  };

  if (items.length === 0) return <p className="muted">The queue is empty.</p>;
  return (
    <>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
        <SortableContext items={items.map((i) => i.item_uid)} strategy={verticalListSortingStrategy}>
          <ol className="queue-list" aria-label="Queue">
            {items.map((item, index) => (
              <Row
                key={item.item_uid}
                item={item}
                index={index}
                onError={setError}
                onEdit={props.onEdit}
                editable={editable}
              />
            ))}
          </ol>
        </SortableContext>
      </DndContext>
    </>
  );
}
