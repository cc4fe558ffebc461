import { forwardRef, type ReactNode } from 'react';
import { DOCUMENT_ACCEPT, DOCUMENT_KINDS, THING_DRAFT_ORDER, THING_FIELD_LABEL, type ThingDraft, type ThingDraftErrors, type ThingDraftField } from '../things';
import type { AttachmentView } from '../types';

/*
 * The controls of a thing's form, shared by the Things page's "Add a thing" and a thing's own page
 * (editing): every field labelled, its error below it and tied to it (aria-describedby), and a
 * summary of what needs a look that the form moves the focus to.
 */

export function FieldError({ id, message, alert = false }: { id: string; message: string | undefined; alert?: boolean }) {
  if (!message) return null;
  return (
    <p className="field-error" id={`${id}-error`} role={alert ? 'alert' : undefined}>
      {message}
    </p>
  );
}

/** Props of a control: its id, and its error (aria-invalid, described by the error and the hint). */
export function controlProps(id: string, error: string | undefined, hint = false) {
  const described = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return { id, 'aria-invalid': error ? true : undefined, ...(described ? { 'aria-describedby': described } : {}) };
}

export function FormField({ id, label, optional = false, hint, error, alert = false, children, className = '' }: { id: string; label: string; optional?: boolean; hint?: ReactNode; error: string | undefined; alert?: boolean; children: ReactNode; className?: string }) {
  return (
    <div className={`field ${className}`}>
      <label htmlFor={id}>
        {label}
        {optional ? <span className="optional"> (optional)</span> : null}
      </label>
      {children}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <FieldError id={id} message={error} alert={alert} />
    </div>
  );
}

/** "Nothing was saved. 2 fields need a look: …", focusable, or an empty placeholder. */
export const ProblemSummary = forwardRef<HTMLDivElement, { problems: string[]; nothing: string }>(function ProblemSummary({ problems, nothing }, ref) {
  return (
    <div ref={ref} tabIndex={-1} className="form-summary">
      {problems.length > 0 ? (
        <div className="note note-bad" role="alert">
          <span className="note-icon" aria-hidden="true">
            !
          </span>
          <div>
            <p>
              {nothing} {problems.length === 1 ? 'One field needs' : `${problems.length} fields need`} a look:
            </p>
            <ul className="error-list">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        </div>
      ) : null}
    </div>
  );
});

export function draftProblems(errors: ThingDraftErrors): string[] {
  return THING_DRAFT_ORDER.map((f) => errors[f]).filter((m): m is string => Boolean(m));
}

/** The fields of a thing, as a form grid. */
export function ThingFieldsEditor({ id, draft, errors, onChange }: { id: string; draft: ThingDraft; errors: ThingDraftErrors; onChange: (field: ThingDraftField, value: string) => void }) {
  const text = (field: ThingDraftField, options: { optional?: boolean; hint?: string; maxLength?: number; placeholder?: string; autoComplete?: string; inputMode?: 'numeric' | 'decimal'; className?: string; upper?: boolean } = {}) => {
    const fieldId = `${id}-${field}`;
    return (
      <FormField id={fieldId} label={THING_FIELD_LABEL[field]} optional={options.optional ?? true} hint={options.hint} error={errors[field]}>
        <input
          {...controlProps(fieldId, errors[field], Boolean(options.hint))}
          type="text"
          value={draft[field]}
          maxLength={options.maxLength ?? 200}
          autoComplete={options.autoComplete ?? 'off'}
          {...(options.inputMode ? { inputMode: options.inputMode } : {})}
          {...(options.placeholder ? { placeholder: options.placeholder } : {})}
          {...(options.className ? { className: options.className } : {})}
          onChange={(event) => onChange(field, options.upper ? event.target.value.toUpperCase() : event.target.value)}
        />
      </FormField>
    );
  };
  return (
    <>
      {text('name', { optional: false, placeholder: 'Washing machine', hint: 'What you call it.' })}
      <div className="form-grid">
        {text('brand', { placeholder: 'Bosch' })}
        {text('model', { placeholder: 'Serie 6 WAU28' })}
        {text('serialNumber')}
      </div>
      <div className="form-grid">
        {text('gtin', { inputMode: 'numeric', maxLength: 14, hint: 'The digits under the barcode.', className: 'mono-input' })}
        {text('mpn', { maxLength: 100 })}
      </div>
      <fieldset className="form-group">
        <legend>Purchase</legend>
        <div className="form-grid">
          <FormField id={`${id}-purchaseDate`} label={THING_FIELD_LABEL.purchaseDate} optional error={errors.purchaseDate}>
            <input {...controlProps(`${id}-purchaseDate`, errors.purchaseDate)} type="date" value={draft.purchaseDate} onChange={(event) => onChange('purchaseDate', event.target.value)} />
          </FormField>
          {text('amount', { inputMode: 'decimal', maxLength: 20, placeholder: '499.00' })}
          {text('currency', { maxLength: 3, placeholder: 'EUR', className: 'code-input', upper: true })}
          {text('seller', { placeholder: 'The shop, in your words' })}
        </div>
      </fieldset>
      {text('location', { placeholder: 'Kitchen', hint: 'Where it is, e.g. the kitchen or the summer house.' })}
      <FormField id={`${id}-notes`} label={THING_FIELD_LABEL.notes} optional error={errors.notes}>
        <textarea {...controlProps(`${id}-notes`, errors.notes)} rows={3} maxLength={4000} value={draft.notes} onChange={(event) => onChange('notes', event.target.value)} />
      </FormField>
    </>
  );
}

/** The kind of a document and its file. The input is reset by changing `inputKey`. */
export function DocumentPicker({
  id,
  kind,
  onKind,
  onFile,
  inputKey,
  error,
  label = 'Photo or receipt',
  optional = true,
}: {
  id: string;
  kind: AttachmentView['kind'];
  onKind: (kind: AttachmentView['kind']) => void;
  onFile: (file: File | undefined) => void;
  inputKey: number;
  error: string | undefined;
  label?: string;
  /** False where a file is what the form is for. */
  optional?: boolean;
}) {
  return (
    <div className="form-grid document-picker">
      <FormField id={`${id}-kind`} label="Kind of document" error={undefined}>
        <select id={`${id}-kind`} value={kind} onChange={(event) => onKind(event.target.value as AttachmentView['kind'])}>
          {DOCUMENT_KINDS.map(([k, text]) => (
            <option key={k} value={k}>
              {text}
            </option>
          ))}
        </select>
      </FormField>
      {/* Its error comes from the agent after she pressed the button: announced at once. */}
      <FormField id={`${id}-file`} label={label} optional={optional} error={error} alert hint="A PDF, a JPEG, PNG, GIF or WebP image, or a text file; 10 MB at most.">
        <input key={inputKey} {...controlProps(`${id}-file`, error, true)} type="file" accept={DOCUMENT_ACCEPT} onChange={(event) => onFile(event.target.files?.[0])} />
      </FormField>
    </div>
  );
}
