import { formatBytes } from '../format';
import type { Progress } from '../transfer';

/** A labelled progress bar; without a known total it shows the bytes so far (an indeterminate bar). */
export function ProgressBar({ label, progress }: { label: string; progress: Progress }) {
  const { loaded, total } = progress;
  const text = total ? `${formatBytes(loaded)} of ${formatBytes(total)}` : `${formatBytes(loaded)} so far`;
  return (
    <div className="progress-block">
      <div className="progress-label">
        <span>{label}</span>
        <span className="muted">{text}</span>
      </div>
      {total ? (
        <progress max={total} value={Math.min(loaded, total)} aria-label={label}>
          {text}
        </progress>
      ) : (
        <progress aria-label={label} aria-valuetext={text}>
          {text}
        </progress>
      )}
    </div>
  );
}
