/** Why an action is disabled for the signed-in token: shown beside it, not only on hover. */
export function Denied({ reason }: { reason: string | null }) {
  if (!reason) return null;
  return (
    <p className="denied" role="note" data-testid="denied">
      {reason}
    </p>
  );
}
