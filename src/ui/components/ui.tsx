import type { ReactNode } from 'react';

/*
 * Small building blocks every page uses: page headers, notes for errors and results, badges,
 * empty states and a loading line. Colour never carries meaning alone: each has words.
 */

export function PageHeader({ title, badge, subtitle, actions, children }: { title: ReactNode; badge?: ReactNode; subtitle?: ReactNode; actions?: ReactNode; children?: ReactNode }) {
  return (
    <header className="page-header">
      <div className="page-header-main">
        <div className="page-title-row">
          <h1 tabIndex={-1} id="page-title">
            {title}
          </h1>
          {badge}
        </div>
        {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
        {children}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function Badge({ tone = 'neutral', children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** An error next to the control that caused it: announced at once (role=alert). */
export function ErrorNote({ message, className = '' }: { message: string | undefined; className?: string }) {
  if (!message) return null;
  return (
    <div className={`note note-bad ${className}`} role="alert">
      <span className="note-icon" aria-hidden="true">
        !
      </span>
      <span>{message}</span>
    </div>
  );
}

/**
 * A polite live region that is always in the page (screen readers only announce changes of a region
 * that already exists), showing a result once there is one.
 */
export function LiveNote({ tone = 'good', children, className = '' }: { tone?: Tone; children?: ReactNode; className?: string }) {
  const empty = children === undefined || children === null || children === false || children === '';
  return (
    <div className={empty ? 'live-empty' : `note note-${tone} ${className}`} role="status" aria-live="polite">
      {empty ? null : (
        <>
          <span className="note-icon" aria-hidden="true">
            {tone === 'good' ? '✓' : tone === 'warn' ? '!' : tone === 'bad' ? '!' : 'i'}
          </span>
          <div>{children}</div>
        </>
      )}
    </div>
  );
}

/** A static note (warnings and explanations that are there from the start). */
export function Note({ tone = 'info', children, className = '' }: { tone?: Tone; children: ReactNode; className?: string }) {
  return (
    <div className={`note note-${tone} ${className}`}>
      <span className="note-icon" aria-hidden="true">
        {tone === 'good' ? '✓' : tone === 'info' || tone === 'neutral' ? 'i' : '!'}
      </span>
      <div>{children}</div>
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

/** Section with an h2 (pages use h1 → h2 → h3 in order). */
export function Section({ title, id, actions, children, className = '' }: { title: ReactNode; id?: string; actions?: ReactNode; children: ReactNode; className?: string }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section className={`section ${className}`} aria-labelledby={headingId} id={id}>
      <div className="section-head">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="section-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** A button that shows it is working; disabled while busy. */
export function Button({
  children,
  busy = false,
  busyLabel,
  variant = 'secondary',
  type = 'button',
  disabled,
  onClick,
  className = '',
  ...rest
}: {
  children: ReactNode;
  busy?: boolean;
  busyLabel?: string;
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  type?: 'button' | 'submit';
  disabled?: boolean;
  onClick?: () => void;
  className?: string;
  'aria-describedby'?: string;
  'aria-expanded'?: boolean;
  'aria-controls'?: string;
  autoFocus?: boolean;
}) {
  return (
    <button type={type} className={`btn btn-${variant} ${className}`} disabled={disabled || busy} aria-busy={busy || undefined} onClick={onClick} {...rest}>
      {busy ? <span className="spinner spinner-small" aria-hidden="true" /> : null}
      {busy && busyLabel ? busyLabel : children}
    </button>
  );
}
