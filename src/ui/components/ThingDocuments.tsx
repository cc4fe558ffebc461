import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiFailure, api, errorMessage, routes } from '../api';
import { downloadBlob } from '../download';
import { formatBytes, formatDate } from '../format';
import { dataUrl, documentError, documentKindLabel, fileBase64, isImage } from '../things';
import type { AttachmentView, ThingView } from '../types';
import { useAction } from '../useResource';
import { DocumentPicker } from './ThingFields';
import { Button, ErrorNote, LiveNote, Section } from './ui';

/**
 * Sends a file to be kept with a thing. @throws Error with the words of documentError (too large,
 * not what its type says, …), or the agent's ApiFailure for anything else.
 */
export async function attachDocument(thingId: string, kind: AttachmentView['kind'], file: File): Promise<AttachmentView> {
  const data = await fileBase64(file);
  try {
    // The type the browser gives (from the name) is a claim: the agent checks it against the first bytes.
    const { attachment } = await api(routes.attachThing, { id: thingId }, { kind, fileName: file.name, contentType: file.type || 'application/octet-stream', data });
    return attachment;
  } catch (caught) {
    if (caught instanceof ApiFailure && (caught.code.startsWith('thing.attachment') || caught.code === 'envelope.too_large')) throw new DocumentRefused(documentError(caught, file), caught.code);
    throw caught;
  }
}

/** A document the agent refused, in words. */
export class DocumentRefused extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'DocumentRefused';
    this.code = code;
  }
}

async function download(thing: ThingView, a: AttachmentView): Promise<void> {
  const bytes = await api(routes.thingDocument, { id: thing.id, attachmentId: a.id });
  downloadBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: a.contentType }), a.fileName);
}

/** A photo's thumbnail: fetched with the session key (an <img src> could not send it), shown as a data: URL. */
function Thumbnail({ thing, attachment }: { thing: ThingView; attachment: AttachmentView }) {
  const [src, setSrc] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void api(routes.thingDocument, { id: thing.id, attachmentId: attachment.id })
      .then((bytes) => dataUrl(bytes, attachment.contentType))
      .then((url) => {
        if (live) setSrc(url);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [thing.id, attachment.id, attachment.contentType]);
  return src ? <img className="thing-thumb" src={src} alt={`${documentKindLabel(attachment.kind)}: ${attachment.fileName}`} /> : <span className="thing-thumb thing-thumb-empty" aria-hidden="true" />;
}

/** A thing's documents: thumbnails of its images, download and remove, and a form to add one. */
export function ThingDocuments({ thing, onChanged }: { thing: ThingView; onChanged: () => void }) {
  const id = useId();
  const action = useAction();
  const listAction = useAction();
  const [kind, setKind] = useState<AttachmentView['kind']>('receipt');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [inputKey, setInputKey] = useState(0);
  const [note, setNote] = useState<string | undefined>(undefined);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setNote(undefined);
    if (!file) {
      action.setError('Choose a file first.');
      return;
    }
    const done = await action.run(() => attachDocument(thing.id, kind, file));
    if (!done) return;
    setFile(undefined);
    setInputKey((k) => k + 1);
    setNote(`Added “${done.fileName}”.`);
    onChanged();
  };
  const remove = async (a: AttachmentView) => {
    setNote(undefined);
    if (await listAction.run(() => api(routes.detachThing, { id: thing.id, attachmentId: a.id }))) {
      setNote(`Removed “${a.fileName}”.`);
      onChanged();
    }
  };

  return (
    <Section title="Documents" id="documents">
      {thing.attachments.length === 0 ? <p className="muted">No documents yet: add a photo, the receipt or the warranty paper.</p> : null}
      {thing.attachments.length > 0 ? (
        <ul className="record-list" aria-label="Documents">
          {thing.attachments.map((a) => (
            <li key={a.id} className="record thing-document" data-testid="thing-document">
              {isImage(a.contentType) ? <Thumbnail thing={thing} attachment={a} /> : <span className="thing-thumb thing-thumb-file" aria-hidden="true">{a.contentType === 'application/pdf' ? 'PDF' : 'TXT'}</span>}
              <div className="thing-document-main">
                <span className="record-title">{a.fileName}</span>
                <span className="muted small">
                  {documentKindLabel(a.kind)} · {formatBytes(a.size)} · added {formatDate(a.createdAt)}
                </span>
              </div>
              <div className="button-row">
                <Button className="btn-small" onClick={() => void download(thing, a).catch((caught: unknown) => listAction.setError(errorMessage(caught)))}>
                  Download<span className="visually-hidden"> {a.fileName}</span>
                </Button>
                <Button variant="ghost" className="btn-small" disabled={listAction.busy} onClick={() => void remove(a)}>
                  Remove<span className="visually-hidden"> {a.fileName}</span>
                </Button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      <ErrorNote message={listAction.error} />
      <form className="thing-subform" onSubmit={(event) => void add(event)} aria-label="Add a document" noValidate>
        <DocumentPicker
          id={id}
          kind={kind}
          onKind={setKind}
          onFile={(f) => {
            setFile(f);
            action.setError(undefined);
          }}
          inputKey={inputKey}
          error={action.error}
          label="File"
          optional={false}
        />
        <div className="button-row">
          <Button type="submit" busy={action.busy} busyLabel="Adding…">
            Add document
          </Button>
        </div>
      </form>
      <LiveNote>{note}</LiveNote>
    </Section>
  );
}
