/** Previous / next over a cursor connection; the caller keeps the stack of cursors it came through. */
export function Pager(props: {
  readonly hasPrevious: boolean;
  readonly hasNext: boolean;
  readonly onPrevious: () => void;
  readonly onNext: () => void;
  readonly summary: string;
}) {
  return (
    <div className="pager">
      <button type="button" disabled={!props.hasPrevious} onClick={props.onPrevious}>
        ← Previous
      </button>
      <span>{props.summary}</span>
      <button type="button" disabled={!props.hasNext} onClick={props.onNext}>
        Next →
      </button>
    </div>
  );
}

/** The cursors a list came through: `after` for the page shown, a way back to each earlier page. */
export interface CursorTrail {
  readonly after: string | null;
  readonly earlier: readonly (string | null)[];
}

export const FIRST_PAGE: CursorTrail = { after: null, earlier: [] };

export const nextPage = (trail: CursorTrail, endCursor: string): CursorTrail => ({
  after: endCursor,
  earlier: [...trail.earlier, trail.after],
});

export const previousPage = (trail: CursorTrail): CursorTrail =>
  trail.earlier.length === 0
    ? FIRST_PAGE
    : { after: trail.earlier[trail.earlier.length - 1] ?? null, earlier: trail.earlier.slice(0, -1) };
