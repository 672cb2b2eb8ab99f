import { cloneElement, type ReactElement, type ReactNode, useId } from "react";
import { isSystemTopic } from "../format.ts";
import { useDash } from "../hooks.ts";

/**
 * A form control with its label, tied by id rather than by wrapping: a wrapping label's
 * accessible name would include a select's option texts.
 */
export function Field({
  label,
  children,
  grow,
  after,
}: {
  label: string;
  children: ReactElement<{ id?: string }>;
  grow?: boolean;
  /** Shown under the control, such as a validation message. */
  after?: ReactNode;
}) {
  const id = useId();
  return (
    <div className={grow ? "field grow" : "field"}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id })}
      {after}
    </div>
  );
}

/** Suggestions for a topic input (`list={id}`): the broker's topics, without its own. */
export function TopicOptions({ id }: { id: string }) {
  const list = useDash((s) => s.topics.list);
  return (
    <datalist id={id}>
      {list
        ?.filter((t) => !isSystemTopic(t.name))
        .map((t) => (
          <option key={t.name} value={t.name} />
        ))}
    </datalist>
  );
}
